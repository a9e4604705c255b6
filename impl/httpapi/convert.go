package httpapi

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/service"
)

const (
	usersPath = "/api/users"
	postsPath = "/api/posts"
)

func userPath(id uuid.UUID) string { return usersPath + "/" + id.String() }
func postPath(id uuid.UUID) string { return postsPath + "/" + id.String() }

func userLinks(id uuid.UUID) api.UserLinks {
	self := userPath(id)
	return api.UserLinks{Self: self, Posts: self + "/posts", Comments: self + "/comments"}
}

func postLinks(p service.Post) api.PostLinks {
	self := postPath(p.ID)
	return api.PostLinks{Self: self, Author: userPath(p.AuthorID), Comments: self + "/comments"}
}

// listQuery is what a list's links must repeat: its path and every query parameter but the page, with defaults
// filled in so that links are explicit.
type listQuery struct {
	path  string
	page  int
	limit int
	other url.Values
	// lists are array parameters, written as openapi.yaml declares them: form style without explode, one
	// parameter whose items are separated by literal commas (ids=A,B); an escaped comma would be part of an item.
	lists map[string][]string
}

// paginate builds the pagination block and the self, next and prev links, each keeping every other parameter;
// next and prev are nil past the ends, and a page beyond the last one links back to the last page.
func paginate(q listQuery, total int64) (api.Pagination, api.PageLinks) {
	pages := (total + int64(q.limit) - 1) / int64(q.limit)
	link := func(page int) string {
		v := url.Values{}
		for k, vals := range q.other {
			v[k] = vals
		}
		v.Set("page", strconv.Itoa(page))
		v.Set("limit", strconv.Itoa(q.limit))
		query := v.Encode()
		for _, k := range slices.Sorted(maps.Keys(q.lists)) {
			items := make([]string, len(q.lists[k]))
			for i, item := range q.lists[k] {
				items[i] = url.QueryEscape(item)
			}
			query += "&" + url.QueryEscape(k) + "=" + strings.Join(items, ",")
		}
		return q.path + "?" + query
	}
	links := api.PageLinks{Self: link(q.page)}
	if int64(q.page) < pages {
		links.Next = new(link(q.page + 1))
	}
	if q.page > 1 {
		links.Prev = new(link(min(q.page-1, int(max(pages, 1)))))
	}
	return api.Pagination{Page: q.page, Limit: q.limit, Total: total, Pages: pages}, links
}

// pageParams fills the spec's paging defaults.
func pageParams(page *api.Page, limit *api.Limit) (int, int) {
	p, l := 1, service.DefaultPageSize
	if page != nil {
		p = int(*page)
	}
	if limit != nil {
		l = int(*limit)
	}
	return p, l
}

// orString returns *p as a string, or def when p is nil.
func orString[T ~string](p *T, def string) string {
	if p == nil {
		return def
	}
	return string(*p)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
