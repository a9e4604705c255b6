package service

import "fmt"

// Paging limits shared by every list.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	MaxPage         = 1_000_000
)

// SortOrder is ascending or descending.
type SortOrder string

// The sort orders.
const (
	Asc  SortOrder = "asc"
	Desc SortOrder = "desc"
)

// PerParentLimit bounds the posts of a user and the comments of a post that nested reads return;
// DefaultPerParent is how many they return when the caller does not say.
const (
	PerParentLimit   = 100
	DefaultPerParent = 20
)

// CheckPerParent refuses a per-parent item count (the limit of User.posts or Post.comments) outside
// 1..[PerParentLimit], naming field in the error.
func CheckPerParent(field string, n int) error {
	if n < 1 || n > PerParentLimit {
		return &Error{Code: EINVALID, Message: "The request is invalid.",
			Fields: map[string][]string{field: {fmt.Sprintf("must be between 1 and %d", PerParentLimit)}}}
	}
	return nil
}
