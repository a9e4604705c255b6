package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
)

func TestCreateAndGetUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	created, err := b.client.CreateUserWithResponse(ctx, nil, api.CreateUserJSONRequestBody{
		Name: "Ada Lovelace", Email: "Ada@Example.com", Password: ptr(testPassword),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	u := created.JSON201.Data
	self := "/api/users/" + u.Id.String()
	require.Equal(t, self, created.HTTPResponse.Header.Get("Location"))
	require.Equal(t, self, created.JSON201.Links.Self)
	require.Equal(t, "Ada Lovelace", u.Name)
	require.Equal(t, api.Email("Ada@Example.com"), u.Email, "the email is kept as given")
	require.False(t, u.CreatedAt.IsZero())
	require.Equal(t, u.CreatedAt, u.UpdatedAt)
	require.NotContains(t, string(created.Body), "password")

	token := b.login("ada@example.com", testPassword)
	got, err := b.client.GetUserWithResponse(ctx, u.Id, nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode())
	require.Equal(t, api.UserWithPosts{Id: u.Id, Name: u.Name, Email: u.Email, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}, got.JSON200.Data)
	require.Nil(t, got.JSON200.Data.Posts, "posts only with include=posts")
	require.Equal(t, api.UserLinks{Self: self, Posts: self + "/posts", Comments: self + "/comments"}, got.JSON200.Links)

	var hash string
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = $1", u.Id).Scan(&hash))
	require.True(t, strings.HasPrefix(hash, "$argon2id$"), "stored as an argon2id hash")
}

func TestCreateUserDuplicateEmailIgnoresCase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser("Ada", "ada@example.com")

	for _, email := range []string{"ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.Com"} {
		r := b.doJSON(http.MethodPost, "/api/users", fmt.Sprintf(`{"name":"Other","email":%q,"password":"long enough"}`, email))
		require.Equal(t, http.StatusConflict, r.status, email)
		e := r.envelope(t)
		require.Equal(t, map[string][]string{"email": {"is already taken"}}, *e.Errors)
	}
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&n))
	require.Equal(t, 1, n)
}

func TestGetUserErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	tests := []struct {
		name   string
		path   string
		status int
		field  string
	}{
		{"unknown id", "/api/users/" + uuid.NewString(), http.StatusNotFound, ""},
		{"invalid uuid", "/api/users/not-a-uuid", http.StatusBadRequest, "id"},
		{"sql in the id", "/api/users/1%27%20OR%20%271%27=%271", http.StatusBadRequest, "id"},
		{"uuid too long", "/api/users/" + uuid.NewString() + "0", http.StatusBadRequest, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(http.MethodGet, tt.path, "", "", withToken(token)...)
			require.Equal(t, tt.status, r.status, string(r.body))
			e := r.envelope(t)
			if tt.field != "" {
				require.Contains(t, *e.Errors, tt.field)
			}
		})
	}
}

func TestReplaceUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	u, token := b.signUp("Ada", "ada@example.com")
	b.createUser("Grace", "grace@example.com")

	resp, err := b.client.ReplaceUserWithResponse(ctx, u.Id, nil, api.ReplaceUserRequest{
		Name: "Ada King", Email: "ada.king@example.com", CurrentPassword: new(testPassword),
	}, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode(), string(resp.Body))
	require.Equal(t, "Ada King", resp.JSON200.Data.Name)
	require.Equal(t, api.Email("ada.king@example.com"), resp.JSON200.Data.Email)
	require.True(t, resp.JSON200.Data.UpdatedAt.After(u.UpdatedAt))
	require.Equal(t, u.CreatedAt, resp.JSON200.Data.CreatedAt)

	tests := []struct {
		name   string
		id     string
		body   string
		status int
	}{
		{"unknown id", uuid.NewString(), `{"name":"X","email":"x@example.com"}`, http.StatusNotFound},
		{"email taken in another case", u.Id.String(), `{"name":"X","email":"GRACE@example.com","currentPassword":"` + testPassword + `"}`, http.StatusConflict},
		{"missing email", u.Id.String(), `{"name":"X"}`, http.StatusBadRequest},
		{"password is not replaceable here", u.Id.String(), `{"name":"X","email":"x@example.com","password":"long enough"}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.doJSON(http.MethodPut, "/api/users/"+tt.id, tt.body, withToken(token)...)
			require.Equal(t, tt.status, r.status, string(r.body))
			r.envelope(t)
		})
	}
	// Changing only the case of one's own email is not a conflict.
	r := b.doJSON(http.MethodPut, "/api/users/"+u.Id.String(), `{"name":"Ada King","email":"ADA.KING@example.com"}`, withToken(token)...)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
}

func TestPatchUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u, token := b.signUp("Ada", "ada@example.com")
	b.createUser("Grace", "grace@example.com")
	path := "/api/users/" + u.Id.String()

	r := b.doJSON(http.MethodPatch, path, `{"name":"Ada King"}`, withToken(token)...)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var got api.UserData
	require.NoError(t, json.Unmarshal(r.body, &got))
	require.Equal(t, "Ada King", got.Data.Name)
	require.Equal(t, api.Email("ada@example.com"), got.Data.Email, "fields not sent are kept")

	r = b.doJSON(http.MethodPatch, path, `{"email":"ada.king@example.com","currentPassword":"`+testPassword+`"}`, withToken(token)...)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.NoError(t, json.Unmarshal(r.body, &got))
	require.Equal(t, "Ada King", got.Data.Name)
	require.Equal(t, api.Email("ada.king@example.com"), got.Data.Email)

	tests := []struct {
		name   string
		path   string
		body   string
		status int
		field  string
	}{
		{"empty object", path, `{}`, http.StatusBadRequest, "body"},
		{"null name", path, `{"name":null}`, http.StatusBadRequest, "name"},
		{"unknown field", path, `{"nickname":"x"}`, http.StatusBadRequest, "nickname"},
		{"unknown id", "/api/users/" + uuid.NewString(), `{"name":"X"}`, http.StatusNotFound, ""},
		{"email taken", path, `{"email":"Grace@Example.com","currentPassword":"` + testPassword + `"}`, http.StatusConflict, "email"},
		{"invalid uuid", "/api/users/123", `{"name":"X"}`, http.StatusBadRequest, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.doJSON(http.MethodPatch, tt.path, tt.body, withToken(token)...)
			require.Equal(t, tt.status, r.status, string(r.body))
			e := r.envelope(t)
			if tt.field != "" {
				require.Contains(t, *e.Errors, tt.field, string(r.body))
			}
		})
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	u, token := b.signUp("Ada", "ada@example.com")
	_, other := b.signUp("Grace", "grace@example.com")

	del, err := b.client.DeleteUserWithResponse(ctx, u.Id, nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, del.StatusCode())
	require.Empty(t, del.Body)

	got, err := b.client.GetUserWithResponse(ctx, u.Id, nil, bearer(other))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, got.StatusCode())
	require.Equal(t, "User not found", *got.JSON404.Message)

	again := b.do(http.MethodDelete, "/api/users/"+u.Id.String(), "", "", withToken(other)...)
	require.Equal(t, http.StatusNotFound, again.status)
	again.envelope(t)

	// The deleted user's token stops working.
	stale := b.do(http.MethodGet, "/api/users/"+u.Id.String(), "", "", withToken(token)...)
	require.Equal(t, http.StatusUnauthorized, stale.status)
	stale.envelope(t)

	// The email is free again.
	b.createUser("Ada again", "ADA@example.com")
}

// seedUsers creates n users through the API, in order, named "User 00".. with emails user00@... and returns them.
func seedUsers(b *testBundle, n int) []api.User {
	users := make([]api.User, n)
	for i := range n {
		// Names sort in the reverse order of creation, emails in the order of creation, so each sort is visible.
		users[i] = b.createUser(fmt.Sprintf("Name %02d", n-i), fmt.Sprintf("user%02d@example.com", i))
	}
	return users
}

func TestListUsersPagination(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seedUsers(b, 25)
	token := b.login("user00@example.com", testPassword)

	list := func(query string) api.UserList {
		t.Helper()
		r := b.do(http.MethodGet, "/api/users?"+query, "", "", withToken(token)...)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		var l api.UserList
		require.NoError(t, json.Unmarshal(r.body, &l))
		return l
	}
	link := func(page int) string {
		return fmt.Sprintf("/api/users?limit=10&order=asc&page=%d&sort=email", page)
	}

	first := list("limit=10&sort=email&order=asc")
	require.Len(t, first.Data, 10)
	require.Equal(t, api.Pagination{Page: 1, Limit: 10, Total: 25, Pages: 3}, first.Pagination)
	require.Equal(t, link(1), first.Links.Self)
	require.Equal(t, link(2), *first.Links.Next)
	require.Nil(t, first.Links.Prev)

	middle := list(strings.TrimPrefix(*first.Links.Next, "/api/users?"))
	require.Len(t, middle.Data, 10)
	require.Equal(t, 2, middle.Pagination.Page)
	require.Equal(t, link(3), *middle.Links.Next)
	require.Equal(t, link(1), *middle.Links.Prev)

	last := list(strings.TrimPrefix(*middle.Links.Next, "/api/users?"))
	require.Len(t, last.Data, 5)
	require.Nil(t, last.Links.Next)
	require.Equal(t, link(2), *last.Links.Prev)

	// Pages neither overlap nor skip.
	seen := map[uuid.UUID]bool{}
	for _, page := range [][]api.User{first.Data, middle.Data, last.Data} {
		for _, u := range page {
			require.False(t, seen[u.Id])
			seen[u.Id] = true
		}
	}
	require.Len(t, seen, 25)

	beyond := list("limit=10&sort=email&order=asc&page=9")
	require.Empty(t, beyond.Data)
	require.NotNil(t, beyond.Data, "an empty page is [], not null")
	require.Nil(t, beyond.Links.Next)
	require.Equal(t, link(3), *beyond.Links.Prev, "past the end, prev is the last page")

	farthest := list("page=1000000&limit=100")
	require.Empty(t, farthest.Data)
	require.Equal(t, "/api/users?limit=100&order=desc&page=1&sort=createdAt", *farthest.Links.Prev)

	defaults := list("")
	require.Equal(t, api.Pagination{Page: 1, Limit: 20, Total: 25, Pages: 2}, defaults.Pagination)
	require.Equal(t, "/api/users?limit=20&order=desc&page=1&sort=createdAt", defaults.Links.Self)
}

func TestListUsersSearch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada Lovelace", "countess@example.com")
	b.createUser("Grace Hopper", "grace@navy.example")
	b.createUser("Alan Turing", "alan@bletchley.example")
	b.createUser("100% Human", "percent@example.com")
	b.createUser("snake_case", "under@example.com")

	tests := []struct {
		search string
		want   []string
	}{
		{"lovelace", []string{"Ada Lovelace"}},
		{"LOVE", []string{"Ada Lovelace"}},
		{"NAVY", []string{"Grace Hopper"}}, // matches the email
		{"example.com", []string{"100% Human", "Ada Lovelace", "snake_case"}},
		{"a", []string{"100% Human", "Ada Lovelace", "Alan Turing", "Grace Hopper", "snake_case"}},
		{"%", []string{"100% Human"}}, // a literal percent sign, not a wildcard
		{"_", []string{"snake_case"}}, // a literal underscore
		{`\`, nil},
		{"nobody", nil},
		{"'; DROP TABLE users; --", nil},
	}
	for _, tt := range tests {
		t.Run(tt.search, func(t *testing.T) {
			resp, err := b.client.ListUsersWithResponse(context.Background(), &api.ListUsersParams{Search: &tt.search}, bearer(token))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode(), string(resp.Body))
			var names []string
			for _, u := range resp.JSON200.Data {
				names = append(names, u.Name)
			}
			sort.Strings(names)
			require.Equal(t, tt.want, names)
			require.Equal(t, int64(len(tt.want)), resp.JSON200.Pagination.Total)
			self, err := url.Parse(resp.JSON200.Links.Self)
			require.NoError(t, err)
			require.Equal(t, tt.search, self.Query().Get("search"), "links keep the search")
		})
	}
	// The table survived the injection attempt.
	all, err := b.client.ListUsersWithResponse(context.Background(), nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, int64(5), all.JSON200.Pagination.Total)
}

func TestListUsersSort(t *testing.T) {
	t.Parallel()
	b := setup(t)
	users := seedUsers(b, 6)
	token := b.login("user00@example.com", testPassword)
	ids := func(us []api.User) []uuid.UUID {
		out := make([]uuid.UUID, len(us))
		for i, u := range us {
			out[i] = u.Id
		}
		return out
	}
	created := ids(users)
	reversed := make([]uuid.UUID, len(created))
	for i, id := range created {
		reversed[len(created)-1-i] = id
	}
	// seedUsers makes creation order = email order = reverse name order.
	tests := []struct {
		sort, order string
		want        []uuid.UUID
	}{
		{"createdAt", "asc", created},
		{"createdAt", "desc", reversed},
		{"email", "asc", created},
		{"email", "desc", reversed},
		{"name", "asc", reversed},
		{"name", "desc", created},
	}
	for _, tt := range tests {
		t.Run(tt.sort+" "+tt.order, func(t *testing.T) {
			s, o := api.ListUsersParamsSort(tt.sort), api.ListUsersParamsOrder(tt.order)
			resp, err := b.client.ListUsersWithResponse(context.Background(), &api.ListUsersParams{Sort: &s, Order: &o}, bearer(token))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode())
			require.Equal(t, tt.want, ids(resp.JSON200.Data))
		})
	}
}

func TestListUsersBadParameters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	tests := []struct {
		query string
		field string
	}{
		{"limit=0", "limit"},
		{"limit=101", "limit"},
		{"limit=-1", "limit"},
		{"limit=abc", "limit"},
		{"page=0", "page"},
		{"page=1000001", "page"},
		{"page=99999999999999999999", "page"},
		{"page=1.5", "page"},
		{"sort=password", "sort"},
		{"sort=name;DROP%20TABLE%20users", "query"},
		{"sort=name%3BDROP%20TABLE%20users", "sort"},
		{"order=sideways", "order"},
		{"search=" + strings.Repeat("x", 101), "search"},
		{"search=", "search"},
		{"search=%FF%FE", "search"},
		{"search=a%00b", "search"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := b.do(http.MethodGet, "/api/users?"+tt.query, "", "", withToken(token)...)
			require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
			e := r.envelope(t)
			require.Contains(t, *e.Errors, tt.field, string(r.body))
		})
	}
}
