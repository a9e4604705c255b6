package core

import (
	"fmt"

	"github.com/junction-dev/junction/impl/service"
)

// CheckPage fills the paging defaults and records out-of-range values in fe.
func CheckPage(fe FieldErrors, page, limit *int) {
	if *page == 0 {
		*page = 1
	}
	if *limit == 0 {
		*limit = service.DefaultPageSize
	}
	if *page < 1 || *page > service.MaxPage {
		fe.Add("page", fmt.Sprintf("must be between 1 and %d", service.MaxPage))
	}
	if *limit < 1 || *limit > service.MaxPageSize {
		fe.Add("limit", fmt.Sprintf("must be between 1 and %d", service.MaxPageSize))
	}
}

// CheckOrder defaults order to newest first and rejects anything but asc and desc.
func CheckOrder(fe FieldErrors, order *service.SortOrder) {
	if *order == "" {
		*order = service.Desc
	}
	if *order != service.Asc && *order != service.Desc {
		fe.Add("order", "must be asc or desc")
	}
}

// Offset is the row offset of page; CheckPage bounds it well inside int32.
func Offset(page, limit int) int32 { return int32((page - 1) * limit) }
