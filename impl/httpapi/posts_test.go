package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
)

// createPost writes a post as token's user.
func (b *testBundle) createPost(token, title string, published bool) api.Post {
	b.t.Helper()
	resp, err := b.client.CreatePostWithResponse(context.Background(), nil, api.CreatePostRequest{
		Title: title, Content: "Content of " + title, Published: &published,
	}, bearer(token))
	require.NoError(b.t, err)
	require.Equal(b.t, http.StatusCreated, resp.StatusCode(), string(resp.Body))
	return resp.JSON201.Data
}

func (b *testBundle) createComment(token string, post uuid.UUID, content string) api.Comment {
	b.t.Helper()
	resp, err := b.client.CreateCommentWithResponse(context.Background(), post, nil, api.CreateCommentRequest{Content: content}, bearer(token))
	require.NoError(b.t, err)
	require.Equal(b.t, http.StatusCreated, resp.StatusCode(), string(resp.Body))
	return resp.JSON201.Data
}

func TestCreateAndGetPost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ada, token := b.signUp("Ada", "ada@example.com")

	resp, err := b.client.CreatePostWithResponse(ctx, nil, api.CreatePostRequest{Title: "Notes", Content: "On the engine."}, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode(), string(resp.Body))
	p := resp.JSON201.Data
	require.Equal(t, "/api/posts/"+p.Id.String(), resp.HTTPResponse.Header.Get("Location"))
	require.Equal(t, ada.Id, p.AuthorId, "the author is the caller")
	require.False(t, p.Published, "a draft by default")
	require.Nil(t, p.PublishedAt)
	require.Equal(t, api.PostLinks{
		Self: "/api/posts/" + p.Id.String(), Author: "/api/users/" + ada.Id.String(), Comments: "/api/posts/" + p.Id.String() + "/comments",
	}, resp.JSON201.Links)

	got, err := b.client.GetPostWithResponse(ctx, p.Id, nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode())
	require.Equal(t, p, got.JSON200.Data)

	published := b.createPost(token, "Out now", true)
	require.True(t, published.Published)
	require.NotNil(t, published.PublishedAt)

	// A caller cannot choose the author.
	r := b.doJSON(http.MethodPost, "/api/posts", `{"title":"x","content":"y","authorId":"`+uuid.NewString()+`"}`, withToken(token)...)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, *r.envelope(t).Errors, "authorId")
}

func TestPostValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	tests := []struct {
		name, body, field string
	}{
		{"missing title", `{"content":"c"}`, "title"},
		{"empty title", `{"title":"","content":"c"}`, "title"},
		{"blank title", `{"title":"  ","content":"c"}`, "title"},
		{"title of 201 characters", fmt.Sprintf(`{"title":%q,"content":"c"}`, strings.Repeat("t", 201)), "title"},
		{"content over 50,000 characters", fmt.Sprintf(`{"title":"t","content":%q}`, strings.Repeat("c", 50001)), "content"},
		{"content with NUL", `{"title":"t","content":"a\u0000b"}`, "content"},
		{"published not a boolean", `{"title":"t","content":"c","published":"yes"}`, "published"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.doJSON(http.MethodPost, "/api/posts", tt.body, withToken(token)...)
			require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
			require.Contains(t, *r.envelope(t).Errors, tt.field, string(r.body))
		})
	}
	r := b.doJSON(http.MethodPost, "/api/posts", fmt.Sprintf(`{"title":%q,"content":%q}`, strings.Repeat("t", 200), strings.Repeat("c", 50000)), withToken(token)...)
	require.Equal(t, http.StatusCreated, r.status, "the limits are inclusive")
}

func TestDraftsAreVisibleToTheirAuthorOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ada, adaToken := b.signUp("Ada", "ada@example.com")
	_, graceToken := b.signUp("Grace", "grace@example.com")
	draft := b.createPost(adaToken, "Draft", false)
	public := b.createPost(adaToken, "Public", true)
	b.createComment(adaToken, draft.Id, "a note to self")

	titles := func(token string, params *api.ListPostsParams) []string {
		t.Helper()
		var editors []api.RequestEditorFn
		if token != "" {
			editors = append(editors, bearer(token))
		}
		resp, err := b.client.ListPostsWithResponse(ctx, params, editors...)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode(), string(resp.Body))
		var out []string
		for _, p := range resp.JSON200.Data {
			out = append(out, p.Title)
		}
		require.EqualValues(t, len(out), resp.JSON200.Pagination.Total)
		return out
	}
	require.ElementsMatch(t, []string{"Draft", "Public"}, titles(adaToken, nil))
	require.Equal(t, []string{"Public"}, titles(graceToken, nil))
	require.Equal(t, []string{"Public"}, titles("", nil))
	require.Equal(t, []string{"Draft"}, titles(adaToken, &api.ListPostsParams{Published: new(false)}))
	require.Empty(t, titles(graceToken, &api.ListPostsParams{Published: new(false)}))
	require.Empty(t, titles("", &api.ListPostsParams{Published: new(false)}))
	require.Equal(t, []string{"Public"}, titles("", &api.ListPostsParams{AuthorId: &ada.Id}))

	for _, tc := range []struct {
		name   string
		token  string
		status int
	}{{"author", adaToken, 200}, {"other user", graceToken, 404}, {"anonymous", "", 404}} {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.token != "" {
				h = withToken(tc.token)
			}
			for _, path := range []string{"/api/posts/" + draft.Id.String(), "/api/posts/" + draft.Id.String() + "/comments"} {
				r := b.do(http.MethodGet, path, "", "", h...)
				require.Equal(t, tc.status, r.status, path)
			}
			r := b.do(http.MethodGet, "/api/users/"+ada.Id.String()+"/comments", "", "", h...)
			require.Equal(t, http.StatusOK, r.status)
			var list api.CommentList
			require.NoError(t, json.Unmarshal(r.body, &list))
			require.Equal(t, tc.status == 200, len(list.Data) == 1, "a comment on a draft shows only to the draft's author")

			r = b.do(http.MethodGet, "/api/posts/"+public.Id.String(), "", "", h...)
			require.Equal(t, http.StatusOK, r.status)
		})
	}
	// Nobody else can comment on a draft they cannot see.
	r := b.doJSON(http.MethodPost, "/api/posts/"+draft.Id.String()+"/comments", `{"content":"hi"}`, withToken(graceToken)...)
	require.Equal(t, http.StatusNotFound, r.status)
}

func TestPublishPostIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, token := b.signUp("Ada", "ada@example.com")
	draft := b.createPost(token, "Draft", false)

	first, err := b.client.PublishPostWithResponse(ctx, draft.Id, nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, first.StatusCode(), string(first.Body))
	require.True(t, first.JSON200.Data.Published)
	require.NotNil(t, first.JSON200.Data.PublishedAt)

	second, err := b.client.PublishPostWithResponse(ctx, draft.Id, nil, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, second.StatusCode())
	require.Equal(t, first.JSON200.Data, second.JSON200.Data, "publishing again changes nothing, publishedAt included")

	// Editing keeps the publication time.
	patched, err := b.client.PatchPostWithResponse(ctx, draft.Id, nil, api.PatchPostRequest{Title: new("Renamed")}, bearer(token))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, patched.StatusCode(), string(patched.Body))
	require.Equal(t, "Renamed", patched.JSON200.Data.Title)
	require.Equal(t, draft.Content, patched.JSON200.Data.Content)
	require.Equal(t, first.JSON200.Data.PublishedAt, patched.JSON200.Data.PublishedAt)

	r := b.doJSON(http.MethodPatch, "/api/posts/"+draft.Id.String(), `{}`, withToken(token)...)
	require.Equal(t, http.StatusBadRequest, r.status)
	r = b.doJSON(http.MethodPatch, "/api/posts/"+draft.Id.String(), `{"published":false}`, withToken(token)...)
	require.Equal(t, http.StatusBadRequest, r.status, "publishing is one-way, through /publish")
}

func TestListPostsFiltersSortsAndLinks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ada, adaToken := b.signUp("Ada", "ada@example.com")
	_, graceToken := b.signUp("Grace", "grace@example.com")
	for _, title := range []string{"Banana bread", "apple pie", "Cherry tart", "100% rye"} {
		b.createPost(adaToken, title, true)
	}
	b.createPost(graceToken, "Grace's compiler", true)

	list := func(query string) api.PostList {
		t.Helper()
		r := b.do(http.MethodGet, "/api/posts?"+query, "", "")
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		var l api.PostList
		require.NoError(t, json.Unmarshal(r.body, &l))
		return l
	}
	titles := func(l api.PostList) []string {
		var out []string
		for _, p := range l.Data {
			out = append(out, p.Title)
		}
		return out
	}
	require.Equal(t, []string{"100% rye", "Cherry tart", "apple pie", "Banana bread"},
		titles(list("authorId="+ada.Id.String())), "newest first by default")
	require.Equal(t, []string{"Banana bread", "apple pie", "Cherry tart", "100% rye"},
		titles(list("authorId="+ada.Id.String()+"&order=asc")))
	byTitle := titles(list("sort=title&order=asc&authorId=" + ada.Id.String()))
	require.Len(t, byTitle, 4)
	require.Equal(t, []string{"Grace's compiler"}, titles(list("search=COMPILER")))
	require.Equal(t, []string{"100% rye"}, titles(list("search=%25")))
	require.Empty(t, titles(list("search=content")), "search is on the title only")

	page := list("limit=2&authorId=" + ada.Id.String() + "&published=true&search=e")
	require.EqualValues(t, 4, page.Pagination.Total)
	require.EqualValues(t, 2, page.Pagination.Pages)
	next, err := url.Parse(*page.Links.Next)
	require.NoError(t, err)
	require.Equal(t, url.Values{
		"page": {"2"}, "limit": {"2"}, "sort": {"createdAt"}, "order": {"desc"},
		"authorId": {ada.Id.String()}, "published": {"true"}, "search": {"e"},
	}, next.Query())

	userPosts, err := b.client.ListUserPostsWithResponse(ctx, ada.Id, &api.ListUserPostsParams{Limit: new(int32(3))})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, userPosts.StatusCode())
	require.Len(t, userPosts.JSON200.Data, 3)
	require.EqualValues(t, 4, userPosts.JSON200.Pagination.Total)
	require.True(t, strings.HasPrefix(*userPosts.JSON200.Links.Next, "/api/users/"+ada.Id.String()+"/posts?"))

	missing, err := b.client.ListUserPostsWithResponse(ctx, uuid.New(), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, missing.StatusCode())

	for _, bad := range []string{"sort=name", "published=maybe", "authorId=nope", "search=" + strings.Repeat("s", 201), "limit=101"} {
		r := b.do(http.MethodGet, "/api/posts?"+bad, "", "")
		require.Equal(t, http.StatusBadRequest, r.status, bad)
	}
}

func TestComments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, adaToken := b.signUp("Ada", "ada@example.com")
	grace, graceToken := b.signUp("Grace", "grace@example.com")
	post := b.createPost(adaToken, "Post", true)
	var ids []uuid.UUID
	for i := range 3 {
		c := b.createComment(graceToken, post.Id, fmt.Sprintf("comment %d", i))
		require.Equal(t, grace.Id, c.AuthorId)
		require.Equal(t, post.Id, c.PostId)
		ids = append(ids, c.Id)
	}

	resp, err := b.client.ListPostCommentsWithResponse(ctx, post.Id, &api.ListPostCommentsParams{Limit: new(int32(2))})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode())
	require.Equal(t, []uuid.UUID{ids[2], ids[1]}, []uuid.UUID{resp.JSON200.Data[0].Id, resp.JSON200.Data[1].Id}, "newest first")
	require.EqualValues(t, 3, resp.JSON200.Pagination.Total)
	require.NotNil(t, resp.JSON200.Links.Next)

	asc := api.ListPostCommentsParamsOrder("asc")
	resp, err = b.client.ListPostCommentsWithResponse(ctx, post.Id, &api.ListPostCommentsParams{Order: &asc})
	require.NoError(t, err)
	require.Equal(t, ids[0], resp.JSON200.Data[0].Id)

	mine, err := b.client.ListUserCommentsWithResponse(ctx, grace.Id, nil)
	require.NoError(t, err)
	require.Len(t, mine.JSON200.Data, 3)

	for _, bad := range []string{`{}`, `{"content":""}`, `{"content":"  "}`, fmt.Sprintf(`{"content":%q}`, strings.Repeat("c", 5001))} {
		r := b.doJSON(http.MethodPost, "/api/posts/"+post.Id.String()+"/comments", bad, withToken(graceToken)...)
		require.Equal(t, http.StatusBadRequest, r.status, bad)
	}
	r := b.doJSON(http.MethodPost, "/api/posts/"+uuid.NewString()+"/comments", `{"content":"x"}`, withToken(graceToken)...)
	require.Equal(t, http.StatusNotFound, r.status)
}

func TestIncludePostsAndBatchLookup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ada, adaToken := b.signUp("Ada", "ada@example.com")
	grace, graceToken := b.signUp("Grace", "grace@example.com")
	lonely, _ := b.signUp("Lonely", "lonely@example.com")
	old := b.createPost(adaToken, "Old", true)
	draft := b.createPost(adaToken, "Draft", false)
	newer := b.createPost(adaToken, "Newer", true)
	b.createPost(graceToken, "Grace's", true)

	include := func(token string, id uuid.UUID) []uuid.UUID {
		t.Helper()
		resp, err := b.client.GetUserWithResponse(ctx, id, &api.GetUserParams{Include: new(api.Posts)}, bearer(token))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode(), string(resp.Body))
		require.Equal(t, id, resp.JSON200.Data.Id)
		require.NotNil(t, resp.JSON200.Data.Posts)
		var out []uuid.UUID
		for _, p := range *resp.JSON200.Data.Posts {
			require.Equal(t, id, p.AuthorId)
			out = append(out, p.Id)
		}
		return out
	}
	require.Equal(t, []uuid.UUID{newer.Id, draft.Id, old.Id}, include(adaToken, ada.Id), "the author sees the draft")
	require.Equal(t, []uuid.UUID{newer.Id, old.Id}, include(graceToken, ada.Id), "others do not")
	require.Empty(t, include(adaToken, lonely.Id))

	batch := func(ids ...string) (int, []uuid.UUID) {
		t.Helper()
		r := b.do(http.MethodGet, "/api/users?ids="+strings.Join(ids, ","), "", "", withToken(adaToken)...)
		if r.status != http.StatusOK {
			return r.status, nil
		}
		var l api.UserList
		require.NoError(t, json.Unmarshal(r.body, &l))
		var out []uuid.UUID
		for _, u := range l.Data {
			out = append(out, u.Id)
		}
		require.EqualValues(t, len(out), l.Pagination.Total)
		return r.status, out
	}
	status, got := batch(ada.Id.String(), uuid.NewString(), lonely.Id.String(), ada.Id.String())
	require.Equal(t, http.StatusOK, status)
	require.ElementsMatch(t, []uuid.UUID{ada.Id, lonely.Id}, got, "unknown ids are absent, duplicates collapse")
	_, got = batch(grace.Id.String())
	require.Equal(t, []uuid.UUID{grace.Id}, got)

	var many []string
	for range 101 {
		many = append(many, uuid.NewString())
	}
	status, _ = batch(many...)
	require.Equal(t, http.StatusBadRequest, status, "at most 100 ids")
	status, _ = batch("not-a-uuid")
	require.Equal(t, http.StatusBadRequest, status)
}

func TestDeletingAUserCascades(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ada, adaToken := b.signUp("Ada", "ada@example.com")
	_, graceToken := b.signUp("Grace", "grace@example.com")
	adaPost := b.createPost(adaToken, "Ada's", true)
	gracePost := b.createPost(graceToken, "Grace's", true)
	b.createComment(graceToken, adaPost.Id, "Grace on Ada's post")
	b.createComment(adaToken, gracePost.Id, "Ada on Grace's post")
	b.createComment(graceToken, gracePost.Id, "Grace on her own post")

	del, err := b.client.DeleteUserWithResponse(ctx, ada.Id, nil, bearer(adaToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, del.StatusCode())

	var posts, comments int
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT count(*) FROM posts").Scan(&posts))
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT count(*) FROM comments").Scan(&comments))
	require.Equal(t, 1, posts, "Ada's post is gone, Grace's stays")
	require.Equal(t, 1, comments, "only Grace's comment on her own post stays")
}
