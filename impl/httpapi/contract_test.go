package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/apitest"
)

// TestBodiesMeanWhatTheSpecSays sends what JSON Schema (ECMA-262 patterns, formats as JSON Schema defines them)
// and RFC 8259 say about each body, and expects the server to agree: Prism found every "refuse" row accepted and
// every "accept" row refused before.
func TestBodiesMeanWhatTheSpecSays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	post := b.createPost(token, "A post", true)
	str := func(s string) string { j, _ := json.Marshal(s); return string(j) }
	user := func(name, email string) string {
		return fmt.Sprintf(`{"name":%s,"email":%s,"password":"long enough"}`, name, email)
	}
	postBody := func(title, content string) string { return fmt.Sprintf(`{"title":%s,"content":%s}`, title, content) }
	comment := func(content string) string { return fmt.Sprintf(`{"content":%s}`, content) }
	// escaped writes every character as \uXXXX, as some encoders do (Go's escapes <, > and &).
	escaped := func(s string) string {
		var sb strings.Builder
		sb.WriteByte('"')
		for _, r := range s {
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				fmt.Fprintf(&sb, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&sb, `\u%04x`, r)
			}
		}
		sb.WriteByte('"')
		return sb.String()
	}
	const (
		signUp   = "/api/users"
		posts    = "/api/posts"
		accepted = 0 // the operation's success status
	)
	comments := "/api/posts/" + post.Id.String() + "/comments"
	n := 0
	email := func() string { n++; return str(fmt.Sprintf("user%d@example.com", n)) }
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		field  string
	}{
		// ECMA-262's \s has U+FEFF: a BOM alone is blank.
		{"BOM-only name", signUp, user(str("\uFEFF"), email()), 400, "name"},
		{"BOM and spaces as name", signUp, user(str(" \uFEFF\u3000"), email()), 400, "name"},
		{"BOM-only title", posts, postBody(str("\uFEFF"), str("x")), 400, "title"},
		{"BOM-only content", posts, postBody(str("x"), str("\uFEFF")), 400, "content"},
		{"BOM-only comment", comments, comment(str("\uFEFF")), 400, "content"},
		{"BOM inside a name", signUp, user(str("\uFEFFAda"), email()), accepted, ""},
		// ... and not U+0085, which content may be made of (names and titles refuse it as a C1 control character).
		{"NEL as content", posts, postBody(str("x"), str("\u0085")), accepted, ""},
		{"NEL as comment", comments, comment(str("\u0085")), accepted, ""},
		{"NEL as name", signUp, user(str("\u0085"), email()), 400, "name"},
		{"C1 control in a title", posts, postBody(str("a\u0090b"), str("x")), 400, "title"},
		// format: email is ASCII (non-ASCII addresses are idn-email's), narrowed by Email's pattern.
		{"non-ASCII local part", signUp, user(str("Zoë"), str("zoë@example.com")), 400, "email"},
		{"non-ASCII domain", signUp, user(str("Zoë"), str("zoe@exämple.com")), 400, "email"},
		{"single-label domain", signUp, user(str("Ada"), str("ada@localhost")), 400, "email"},
		{"quoted local part", signUp, user(str("Ada"), str(`"ada lovelace"@example.com`)), 400, "email"},
		{"atext local part", signUp, user(str("Ada"), str("a.b+c!#$%&'*/=?^_`{|}~-@mail.example.com")), accepted, ""},
		// maxLength counts characters: the most content allowed fits the body limit however it is encoded.
		{"50,000 é as UTF-8", posts, postBody(str("x"), str(strings.Repeat("é", 50_000))), accepted, ""},
		{"50,000 é escaped", posts, postBody(str("x"), escaped(strings.Repeat("é", 50_000))), accepted, ""},
		{"50,000 😀 escaped", posts, postBody(escaped(strings.Repeat("😀", 200)), escaped(strings.Repeat("😀", 50_000))), accepted, ""},
		{"50,001 é", posts, postBody(str("x"), str(strings.Repeat("é", 50_001))), 400, "content"},
		{"5,000 😀 escaped comment", comments, comment(escaped(strings.Repeat("😀", 5_000))), accepted, ""},
		// Text is Unicode: no replacement characters in place of what was sent.
		{"lone high surrogate", posts, postBody(`"\ud800"`, str("x")), 400, "body"},
		{"lone low surrogate", posts, postBody(str("x"), `"a\udc00b"`), 400, "body"},
		{"high surrogate then no low one", posts, postBody(str("x"), `"\ud83d\u0041"`), 400, "body"},
		{"surrogate at the end", signUp, user(`"Ada\ud83d"`, email()), 400, "body"},
		{"surrogate pair", posts, postBody(`"\ud83d\ude00"`, str("x")), accepted, ""},
		{"escaped backslash, then u", posts, postBody(`"\\ud800"`, str("x")), accepted, ""},
		{"invalid UTF-8", posts, postBody("\"\xff\xfe\"", str("x")), 400, "body"},
		{"overlong UTF-8", signUp, user("\"\xc0\xaf\"", email()), 400, "body"},
		{"CESU-8 surrogate", posts, postBody("\"\xed\xa0\x80\"", str("x")), 400, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := b.doJSON(http.MethodPost, tt.path, tt.body, withToken(token)...)
			if tt.status == accepted {
				require.Equal(t, http.StatusCreated, r.status, "%.300s", r.body)
				return
			}
			require.Equal(t, tt.status, r.status, "%.300s", r.body)
			e := r.envelope(t)
			require.NotNil(t, e.Errors)
			require.Contains(t, *e.Errors, tt.field, "%.300s", r.body)
		})
	}
}

// TestStoredTextIsTheTextSent: what was accepted comes back character for character.
func TestStoredTextIsTheTextSent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	for _, content := range []string{"\u0085", "\\ud800", "😀", strings.Repeat("é", 50_000)} {
		resp, err := b.client.CreatePostWithResponse(context.Background(), nil, api.CreatePostRequest{Title: "t", Content: content}, bearer(token))
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, resp.StatusCode(), string(resp.Body))
		p := resp.JSON201.Data
		r := b.do(http.MethodGet, "/api/posts/"+p.Id.String(), "", "", withToken(token)...)
		require.Equal(t, http.StatusOK, r.status)
		var got api.PostDetail
		require.NoError(t, json.Unmarshal(r.body, &got))
		require.Equal(t, content, got.Data.Content)
	}
}

// TestBooleansAreTrueOrFalse: a JSON Schema boolean in a query string is true or false, not whatever
// strconv.ParseBool takes.
func TestBooleansAreTrueOrFalse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u, _ := b.signUp("Ada", "ada@example.com")
	for _, path := range []string{"/api/posts", "/api/users/" + u.Id.String() + "/posts"} {
		for _, v := range []string{"TRUE", "True", "1", "t", "T", "FALSE", "0", "f", "yes", ""} {
			t.Run(path+" "+v, func(t *testing.T) {
				t.Parallel()
				r := b.do(http.MethodGet, path+"?published="+url.QueryEscape(v), "", "")
				require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
				require.Contains(t, *r.envelope(t).Errors, "published")
			})
		}
		for _, v := range []string{"true", "false"} {
			r := b.do(http.MethodGet, path+"?published="+v, "", "")
			require.Equal(t, http.StatusOK, r.status, string(r.body))
		}
	}
}

// TestAnyUUIDIsAnID: format uuid has no version or variant rule, so an id of version 0 or of variant c is well
// formed and names nothing (404); only what is not a UUID is a 400.
func TestAnyUUIDIsAnID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	ids := []string{
		"0b0e6f55-8d5f-0a7c-9a4e-6a0c9e8e2a11", // version 0
		"0b0e6f55-8d5f-4a7c-ca4e-6a0c9e8e2a11", // variant c
		"0b0e6f55-8d5f-fa7c-7a4e-6a0c9e8e2a11", // version f, variant 7
		"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFE",
	}
	for _, id := range ids {
		for _, req := range []struct{ method, path string }{
			{http.MethodGet, "/api/users/" + id},
			{http.MethodGet, "/api/posts/" + id},
			{http.MethodGet, "/api/posts?authorId=" + id},
			{http.MethodDelete, "/api/comments/" + id},
			{http.MethodGet, "/api/users?ids=" + id},
		} {
			t.Run(req.method+" "+req.path, func(t *testing.T) {
				t.Parallel()
				r := b.do(req.method, req.path, "", "", withToken(token)...)
				if strings.Contains(req.path, "?") {
					require.Equal(t, http.StatusOK, r.status, string(r.body))
					return
				}
				require.Equal(t, http.StatusNotFound, r.status, string(r.body))
			})
		}
	}
	for _, bad := range []string{"0b0e6f558d5f4a7c9a4e6a0c9e8e2a11", "{0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a11}", "urn:uuid:0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a11", "0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a1g"} {
		r := b.do(http.MethodGet, "/api/posts/"+url.PathEscape(bad), "", "")
		require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", bad, r.body)
	}
}

// TestBatchLookupWithTheGoClient: the generated client writes ids as the spec says (ids=A,B), and links.self of
// the answer, followed as it is, answers the same lookup.
func TestBatchLookupWithTheGoClient(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada, token := b.signUp("Ada", "ada@example.com")
	grace := b.createUser("Grace", "grace@example.com")
	missing := uuid.New()
	var sent string
	resp, err := b.client.ListUsersWithResponse(context.Background(), &api.ListUsersParams{Ids: &[]uuid.UUID{ada.Id, grace.Id, missing}},
		bearer(token), func(_ context.Context, req *http.Request) error { sent = req.URL.RawQuery; return nil })
	require.NoError(t, err)
	require.Equal(t, "ids="+ada.Id.String()+","+grace.Id.String()+","+missing.String(), sent)
	require.Equal(t, http.StatusOK, resp.StatusCode(), string(resp.Body))
	got := func(users []api.User) []uuid.UUID {
		out := []uuid.UUID{}
		for _, u := range users {
			out = append(out, u.Id)
		}
		return out
	}
	require.ElementsMatch(t, []uuid.UUID{ada.Id, grace.Id}, got(resp.JSON200.Data))

	self := resp.JSON200.Links.Self
	require.Contains(t, self, "ids="+ada.Id.String()+","+grace.Id.String()+","+missing.String())
	r := b.do(http.MethodGet, self, "", "", withToken(token)...)
	require.Equal(t, http.StatusOK, r.status, "%s: %s", self, r.body)
	var again api.UserList
	require.NoError(t, json.Unmarshal(r.body, &again))
	require.ElementsMatch(t, []uuid.UUID{ada.Id, grace.Id}, got(again.Data))
	require.Equal(t, self, again.Links.Self)
}

// TestHeadAnswersLikeGet: every GET operation of the spec (and the spec and docs themselves) answers HEAD with
// GET's status and headers and no body.
func TestHeadAnswersLikeGet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u, token := b.signUp("Ada", "ada@example.com")
	post := b.createPost(token, "A post", true)
	doc, err := apitest.Contract()
	require.NoError(t, err)
	// Besides the spec's: pages that are not operations, a 404 and a 400.
	paths := []string{"/openapi.yaml", "/openapi.json", "/docs/", "/api/posts/" + uuid.NewString(), "/api/posts/not-a-uuid"}
	for path, item := range doc.Paths.Map() {
		if item.Get == nil {
			continue
		}
		id := u.Id.String()
		if strings.HasPrefix(path, "/api/posts/") {
			id = post.Id.String()
		}
		paths = append(paths, strings.ReplaceAll(path, "{id}", id))
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			get := b.do(http.MethodGet, path, "", "", withToken(token)...)
			head := b.do(http.MethodHead, path, "", "", withToken(token)...)
			require.Equal(t, get.status, head.status)
			require.Empty(t, head.body)
			require.NotEmpty(t, head.header.Get("X-Request-Id"))
			headers := []string{"Content-Type", "WWW-Authenticate", "Cache-Control", "Content-Security-Policy", "Location"}
			if get.status < 300 {
				// An error envelope names its method, so HEAD's would be one byte longer.
				headers = append(headers, "Content-Length")
			}
			for _, h := range headers {
				require.Equal(t, get.header.Get(h), head.header.Get(h), h)
			}
		})
	}
}

// TestOtherMethodsAre405WithAllow: on every path of the spec, each method it does not list is a 405 in the
// envelope whose Allow lists the methods it does (HEAD with GET); an unknown path stays a 404.
func TestOtherMethodsAre405WithAllow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	doc, err := apitest.Contract()
	require.NoError(t, err)
	order := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	for path, item := range doc.Paths.Map() {
		var allow []string
		for _, m := range order {
			if item.GetOperation(m) != nil || (m == http.MethodHead && item.Get != nil) {
				allow = append(allow, m)
			}
		}
		concrete := strings.ReplaceAll(path, "{id}", uuid.NewString())
		for _, m := range append(slices.Clone(order), http.MethodOptions, http.MethodTrace, "PROPFIND") {
			if slices.Contains(allow, m) {
				continue
			}
			t.Run(m+" "+path, func(t *testing.T) {
				t.Parallel()
				r := b.do(m, concrete, "", "")
				require.Equal(t, http.StatusMethodNotAllowed, r.status, string(r.body))
				require.Equal(t, strings.Join(allow, ", "), r.header.Get("Allow"))
				if m != http.MethodHead {
					e := r.envelope(t)
					require.Equal(t, m, e.Method)
				}
			})
		}
	}
	r := b.do(http.MethodDelete, "/api/nothing-here", "", "")
	require.Equal(t, http.StatusNotFound, r.status)
	require.Empty(t, r.header.Get("Allow"))
}

// TestBodyLimitsAdmitEveryBodyTheSchemaAllows walks every operation with a body: the largest body its schema
// allows, without whitespace but with every character escaped (12 bytes for one beyond the BMP), must fit its
// limit, as info.description promises. An operation whose schema is open (a webhook's event) must declare its own
// limit.
func TestBodyLimitsAdmitEveryBodyTheSchemaAllows(t *testing.T) {
	t.Parallel()
	doc, err := apitest.Contract()
	require.NoError(t, err)
	limitOf := func(ext map[string]any) (int64, bool) {
		v, ok := ext["x-max-body-bytes"]
		if !ok {
			v, ok = doc.Info.Extensions["x-request-body-max-bytes"]
		}
		n, _ := v.(float64)
		return int64(n), ok
	}
	checked := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			where := method + " " + path
			limit, ok := limitOf(op.Extensions)
			require.True(t, ok, where)
			size, bounded := maxJSONBytes(op.RequestBody.Value.Content.Get("application/json").Schema.Value)
			if !bounded {
				require.Contains(t, op.Extensions, "x-max-body-bytes", "%s: an open schema needs its own limit", where)
				continue
			}
			require.LessOrEqual(t, size, limit, "%s: the largest valid body is %d bytes", where, size)
			checked++
		}
	}
	require.Greater(t, checked, 5)
}

// maxJSONBytes is the size of the largest compact JSON text that schema allows, every character escaped; false
// when the schema does not bound it.
func maxJSONBytes(s *openapi3.Schema) (int64, bool) {
	switch {
	case s.Type.Is(openapi3.TypeString):
		if len(s.Enum) > 0 {
			var n int64
			for _, e := range s.Enum {
				n = max(n, int64(len(fmt.Sprint(e)))*12+2)
			}
			return n, true
		}
		if s.MaxLength == nil {
			return 0, false
		}
		return int64(*s.MaxLength)*12 + 2, true
	case s.Type.Is(openapi3.TypeBoolean):
		return int64(len("false")), true
	case s.Type.Is(openapi3.TypeInteger):
		return int64(len("-9223372036854775808")), true
	case s.Type.Is(openapi3.TypeArray):
		if s.MaxItems == nil {
			return 0, false
		}
		item, ok := maxJSONBytes(s.Items.Value)
		return 2 + int64(*s.MaxItems)*(item+1), ok
	case s.Type.Is(openapi3.TypeObject):
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			return 0, false
		}
		n := int64(2)
		for name, p := range s.Properties {
			v, ok := maxJSONBytes(p.Value)
			if !ok {
				return 0, false
			}
			n += int64(len(name))*6 + 2 + 1 + v + 1 // "name":value,
		}
		return n, true
	}
	return 0, false
}

// TestFieldErrorsAreCapped: a body of 100,000 unknown keys (N4 of the second review: a 3.2 MB answer) names at
// most 50 of them, in the envelope and in problem details alike.
func TestFieldErrorsAreCapped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, token := b.signUp("Ada", "ada@example.com")
	var body strings.Builder
	body.WriteString(`{"title":"T","content":"C"`)
	for i := range 20_000 {
		fmt.Fprintf(&body, `,"k%d":1`, i)
	}
	body.WriteString("}")
	r := b.do(http.MethodPost, "/api/posts", "application/json", body.String(), "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Less(t, len(r.body), 8<<10, "%.300s", r.body)
	require.Len(t, *r.envelope(t).Errors, 51)
	r = b.do(http.MethodPost, "/api/posts", "application/json", body.String(), "Authorization", "Bearer "+token, "Accept", problemJSON)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Less(t, len(r.body), 8<<10, "%.300s", r.body)
	require.Len(t, *r.problem(t).Errors, 51)
}
