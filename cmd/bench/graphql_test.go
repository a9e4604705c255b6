package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/stretchr/testify/require"
)

// answerOf is an answer to the GraphQL scenario's query: users users, each with posts posts of comments
// comments; a comment's author is missing when noAuthor.
func answerOf(users, posts, comments int, noAuthor bool) string {
	comment := `{"author":{"id":"a"}}`
	if noAuthor {
		comment = `{"author":null}`
	}
	post := `{"comments":[` + strings.TrimSuffix(strings.Repeat(comment+",", comments), ",") + `]}`
	node := `{"node":{"posts":[` + strings.TrimSuffix(strings.Repeat(post+",", posts), ",") + `]}}`
	return `{"data":{"users":{"edges":[` + strings.TrimSuffix(strings.Repeat(node+",", users), ",") + `]}}}`
}

// TestGraphQLShape: the GraphQL scenario measures the shape or refuses to run (the newest users being
// sign-ups without posts made it measure empty lists at 13 times the rate).
func TestGraphQLShape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		answer string
		note   string // "" when refused
	}{
		{name: "the shape", answer: answerOf(20, 6, 4, false), note: "20 users, 120 posts, 480 comments"},
		{name: "newest users without posts", answer: answerOf(20, 0, 0, false)},
		{name: "fewer users", answer: answerOf(5, 6, 4, false)},
		{name: "too few comments", answer: answerOf(20, 6, 1, false)},
		{name: "comments without their authors", answer: answerOf(20, 6, 4, true)},
		{name: "an error", answer: `{"errors":[{"message":"no"}],"data":null}`},
		{name: "not JSON", answer: `oops`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				require.Equal(t, "Bearer x", r.Header.Get("Authorization"))
				fmt.Fprint(w, tc.answer)
			}))
			defer srv.Close()
			note, err := graphqlShape(srv.URL, http.Header{"Authorization": {"Bearer x"}}, []byte(`{}`))
			if tc.note == "" {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Contains(t, note, tc.note)
			require.Contains(t, note, "KB per answer")
		})
	}
}

// TestReadsRunBeforeWrites: every scenario up to the GraphQL one only reads, so that no sign-up of this run is
// among the users it lists.
func TestReadsRunBeforeWrites(t *testing.T) {
	t.Parallel()
	d := dataset{users: make([]uuid.UUID, 10), emails: make([]string, 10)}
	for _, s := range scenarios("token", d, time.Second, nil) {
		if strings.HasPrefix(s.name, "POST /graphql") {
			require.NotNil(t, s.check, "the GraphQL scenario checks its shape")
			return
		}
		for _, r := range s.requests() {
			require.Equal(t, http.MethodGet, r.method, "%s runs before the GraphQL scenario and writes", s.name)
		}
	}
	t.Fatal("no GraphQL scenario")
}
