package core

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/service"
)

// TestPostAndCommentQueriesUseIndexes seeds 50,000 posts and 200,000 comments with COPY and checks that every
// list, filter, join and batch query on them is served by an index: no sequential scan on posts or comments.
func TestPostAndCommentQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	const nUsers, nPosts, nComments = 20_000, 50_000, 200_000
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-24 * time.Hour)

	users := make([]uuid.UUID, nUsers)
	userRows := make([][]any, nUsers)
	for i := range users {
		users[i] = uuid.New()
		userRows[i] = []any{users[i], fmt.Sprintf("User %d", i), fmt.Sprintf("user%d@example.com", i), "x"}
	}
	// Posts of a realistic size (half a kilobyte here) make the heap as much larger than the indexes as it is in
	// production, so that the planner weighs them as it would there.
	body := strings.Repeat("Lorem ipsum dolor sit amet. ", 18)
	posts := make([]uuid.UUID, nPosts)
	postRows := make([][]any, nPosts)
	for i := range posts {
		posts[i] = uuid.New()
		published := rng.IntN(10) < 7
		var publishedAt *time.Time
		created := start.Add(time.Duration(i) * time.Second)
		if published {
			publishedAt = &created
		}
		postRows[i] = []any{posts[i], users[rng.IntN(nUsers)], fmt.Sprintf("Post %d about %x", i, rng.Uint32()),
			body, published, created, created, publishedAt}
	}
	commentRows := make([][]any, nComments)
	for i := range commentRows {
		commentRows[i] = []any{uuid.New(), posts[rng.IntN(nPosts)], users[rng.IntN(nUsers)], "a comment",
			start.Add(time.Duration(i) * time.Second)}
	}
	for _, c := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"users", []string{"id", "name", "email", "password_hash"}, userRows},
		{"posts", []string{"id", "author_id", "title", "content", "published", "created_at", "updated_at", "published_at"}, postRows},
		{"comments", []string{"id", "post_id", "author_id", "content", "created_at"}, commentRows},
	} {
		n, err := pool.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows))
		require.NoError(t, err)
		require.EqualValues(t, len(c.rows), n)
	}
	_, err := pool.Exec(ctx, "VACUUM ANALYZE users, posts, comments")
	require.NoError(t, err)

	q := db.New()
	viewer, author, post := &users[7], users[11], posts[123]
	page := db.PostListByCreatedAtAscParams{RowLimit: 20, RowOffset: 40}
	anon := page
	anon.Published = new(true) // what ListPosts asks for anonymous callers
	signedIn := page
	signedIn.Viewer = viewer
	byAuthor := signedIn
	byAuthor.AuthorID = &author
	search := signedIn
	search.Pattern = ContainsPattern("about ab")
	count := func(p db.PostListByCreatedAtAscParams) db.PostCountParams {
		return db.PostCountParams{Viewer: p.Viewer, Published: p.Published, AuthorID: p.AuthorID, Pattern: p.Pattern}
	}
	tests := []struct {
		name string
		run  func(db.DBTX) error
	}{
		{"posts newest first, anonymous", func(x db.DBTX) error {
			_, err := q.PostListByCreatedAtDesc(ctx, x, db.PostListByCreatedAtDescParams(anon))
			return err
		}},
		{"posts oldest first, signed in", func(x db.DBTX) error { _, err := q.PostListByCreatedAtAsc(ctx, x, signedIn); return err }},
		{"posts by title", func(x db.DBTX) error {
			_, err := q.PostListByTitleAsc(ctx, x, db.PostListByTitleAscParams(signedIn))
			return err
		}},
		{"posts by title desc", func(x db.DBTX) error {
			_, err := q.PostListByTitleDesc(ctx, x, db.PostListByTitleDescParams(anon))
			return err
		}},
		{"posts by author", func(x db.DBTX) error {
			_, err := q.PostListByCreatedAtDesc(ctx, x, db.PostListByCreatedAtDescParams(byAuthor))
			return err
		}},
		{"posts search", func(x db.DBTX) error {
			_, err := q.PostListByCreatedAtDesc(ctx, x, db.PostListByCreatedAtDescParams(search))
			return err
		}},
		{"count published", func(x db.DBTX) error { _, err := q.PostCount(ctx, x, count(anon)); return err }},
		{"count by author", func(x db.DBTX) error { _, err := q.PostCount(ctx, x, count(byAuthor)); return err }},
		{"count search", func(x db.DBTX) error { _, err := q.PostCount(ctx, x, count(search)); return err }},
		{"post by id", func(x db.DBTX) error { _, err := q.PostGetByID(ctx, x, post); return err }},
		{"comments of a post", func(x db.DBTX) error {
			_, err := q.CommentListByPost(ctx, x, db.CommentListByPostParams{PostID: post, Descending: true, RowLimit: 20})
			return err
		}},
		{"count comments of a post", func(x db.DBTX) error { _, err := q.CommentCountByPost(ctx, x, post); return err }},
		{"comments of a user (join)", func(x db.DBTX) error {
			_, err := q.CommentListByAuthor(ctx, x, db.CommentListByAuthorParams{AuthorID: author, Viewer: viewer, RowLimit: 20})
			return err
		}},
		{"count comments of a user (join)", func(x db.DBTX) error {
			_, err := q.CommentCountByAuthor(ctx, x, db.CommentCountByAuthorParams{AuthorID: author, Viewer: viewer})
			return err
		}},
		{"comment with its post (join)", func(x db.DBTX) error {
			_, err := q.CommentGetWithPost(ctx, x, uuid.New())
			return ignoreNoRows(err)
		}},
		{"user with posts (join, json_agg)", func(x db.DBTX) error {
			_, err := q.UserGetWithPosts(ctx, x, db.UserGetWithPostsParams{ID: author, Viewer: viewer, MaxPosts: service.MaxIncludedPosts})
			return err
		}},
		{"users batch", func(x db.DBTX) error { _, err := q.UserListByIDs(ctx, x, users[:100]); return err }},
		{"comments of posts with their authors (GraphQL)", func(x db.DBTX) error {
			_, err := q.CommentListByPostsWithAuthors(ctx, x, db.CommentListByPostsWithAuthorsParams{PostIds: posts[:70], PerPost: 20})
			return err
		}},
	}
	// What some plans must also say.
	wants := map[string]string{
		// Each author from the index alone (migration 00021), not an index look-up and a heap page.
		"comments of posts with their authors (GraphQL)": "Index Only Scan using users_public_by_id_idx",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &explainer{t: t, conn: pool}
			require.NoError(t, tt.run(e))
			require.Len(t, e.plans, 1)
			plan := e.plans[0]
			for _, table := range []string{"users", "posts", "comments"} {
				if strings.Contains(plan, "Seq Scan on "+table) {
					t.Fatalf("sequential scan on %s:\n%s", table, plan)
				}
			}
			if !strings.Contains(plan, "Index") {
				t.Fatalf("no index used:\n%s", plan)
			}
			if want := wants[tt.name]; !strings.Contains(plan, want) {
				t.Fatalf("the plan does not say %q:\n%s", want, plan)
			}
		})
	}
}

func ignoreNoRows(err error) error {
	if err == pgx.ErrNoRows {
		return nil
	}
	return err
}
