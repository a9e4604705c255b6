package service

import "fmt"

// Paging limits shared by every list.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	MaxPage         = 1_000_000
)

// checkPage fills the paging defaults and records out-of-range values in fe.
func checkPage(fe fieldErrors, page, limit *int) {
	if *page == 0 {
		*page = 1
	}
	if *limit == 0 {
		*limit = DefaultPageSize
	}
	if *page < 1 || *page > MaxPage {
		fe.add("page", fmt.Sprintf("must be between 1 and %d", MaxPage))
	}
	if *limit < 1 || *limit > MaxPageSize {
		fe.add("limit", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	}
}

// checkOrder defaults order to newest first and rejects anything but asc and desc.
func checkOrder(fe fieldErrors, order *SortOrder) {
	if *order == "" {
		*order = Desc
	}
	if *order != Asc && *order != Desc {
		fe.add("order", "must be asc or desc")
	}
}

// offset is the row offset of page; checkPage bounds it well inside int32.
func offset(page, limit int) int32 { return int32((page - 1) * limit) }
