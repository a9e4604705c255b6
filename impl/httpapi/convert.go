package httpapi

import (
	"net/url"
	"strconv"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/service"
)

const usersPath = "/api/users"

func userPath(id uuid.UUID) string { return usersPath + "/" + id.String() }

func userLinks(id uuid.UUID) api.UserLinks {
	self := userPath(id)
	return api.UserLinks{Self: self, Posts: self + "/posts", Comments: self + "/comments"}
}

func toAPIUser(u service.User) api.User {
	return api.User{Id: u.ID, Name: u.Name, Email: api.Email(u.Email), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// toServiceListUsersParams fills the spec's defaults, so links can name every parameter explicitly.
func toServiceListUsersParams(p api.ListUsersParams) service.ListUsersParams {
	out := service.ListUsersParams{Page: 1, Limit: 20, Sort: service.UserSortCreatedAt, Order: service.Desc}
	if p.Page != nil {
		out.Page = int(*p.Page)
	}
	if p.Limit != nil {
		out.Limit = int(*p.Limit)
	}
	if p.Sort != nil {
		out.Sort = service.UserSort(*p.Sort)
	}
	if p.Order != nil {
		out.Order = service.SortOrder(*p.Order)
	}
	if p.Search != nil {
		out.Search = *p.Search
	}
	return out
}

func toAPIUserList(page service.UserPage, p service.ListUsersParams) api.UserList {
	data := make([]api.User, len(page.Users))
	for i, u := range page.Users {
		data[i] = toAPIUser(u)
	}
	pages := (page.Total + int64(p.Limit) - 1) / int64(p.Limit)
	return api.UserList{
		Data:       data,
		Pagination: api.Pagination{Page: p.Page, Limit: p.Limit, Total: page.Total, Pages: pages},
		Links:      pageLinks(usersPath, p, pages),
	}
}

// pageLinks builds self, next and prev with every query parameter kept; next and prev are nil past the ends.
// A page beyond the last one links back to the last page.
func pageLinks(path string, p service.ListUsersParams, pages int64) api.PageLinks {
	link := func(page int) string {
		q := url.Values{}
		q.Set("page", strconv.Itoa(page))
		q.Set("limit", strconv.Itoa(p.Limit))
		q.Set("sort", string(p.Sort))
		q.Set("order", string(p.Order))
		if p.Search != "" {
			q.Set("search", p.Search)
		}
		return path + "?" + q.Encode()
	}
	links := api.PageLinks{Self: link(p.Page)}
	if int64(p.Page) < pages {
		next := link(p.Page + 1)
		links.Next = &next
	}
	if p.Page > 1 {
		prev := link(min(p.Page-1, int(max(pages, 1))))
		links.Prev = &prev
	}
	return links
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
