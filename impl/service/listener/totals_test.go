package listener

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/dbtest"
)

// TestTotalsNotifications: the triggers of migrations/00017 tell junction_totals which table's counts a committed
// write changed: once per table and transaction, never for a rollback, and not for a change that no count
// filters on. Each case's notifications are read up to a sentinel sent after it, so that "none" needs no waiting.
func TestTotalsNotifications(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sql    []string
		commit bool
		want   []string
	}{
		{"a sign-up", []string{`INSERT INTO users (name, email, password_hash) VALUES ('Ada', 'ada@example.com', 'x')`}, true, []string{"users"}},
		{"a sign-up rolled back", []string{`INSERT INTO users (name, email, password_hash) VALUES ('Ada', 'ada@example.com', 'x')`}, false, nil},
		{"two sign-ups in one transaction", []string{
			`INSERT INTO users (name, email, password_hash) VALUES ('Ada', 'ada@example.com', 'x')`,
			`INSERT INTO users (name, email, password_hash) VALUES ('Alan', 'alan@example.com', 'x')`,
		}, true, []string{"users"}},
		{"a new name", []string{`UPDATE users SET name = 'Grace H.'`}, true, []string{"users"}},
		{"a new email", []string{`UPDATE users SET email = 'gh@example.com'`}, true, []string{"users"}},
		{"a name set to itself", []string{`UPDATE users SET name = name`}, true, nil},
		{"a password change", []string{`UPDATE users SET password_hash = 'y', password_changed_at = now()`}, true, nil},
		{"a role change", []string{`UPDATE users SET role = 'admin'`}, true, nil},
		{"a post", []string{`INSERT INTO posts (author_id, title, content) SELECT id, 'Draft', 'x' FROM users`}, true, []string{"posts"}},
		{"a post's new title", []string{`UPDATE posts SET title = 'Renamed'`}, true, []string{"posts"}},
		{"a post's new content", []string{`UPDATE posts SET content = 'More', updated_at = now()`}, true, nil},
		{"a post published", []string{`UPDATE posts SET published = true, published_at = now()`}, true, []string{"posts"}},
		{"a post deleted", []string{`DELETE FROM posts`}, true, []string{"posts"}},
		{"a user deleted with their posts", []string{`DELETE FROM users`}, true, []string{"users", "posts"}},
		{"posts truncated", []string{`TRUNCATE posts CASCADE`}, true, []string{"posts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := dbtest.New(t)
			// A user with a draft, made before anyone listens.
			_, err := pool.Exec(ctx, `WITH u AS (INSERT INTO users (name, email, password_hash) VALUES ('Grace', 'grace@example.com', 'x') RETURNING id)
				INSERT INTO posts (author_id, title, content) SELECT id, 'Notes', 'x' FROM u`)
			require.NoError(t, err)
			conn, err := pool.Acquire(ctx)
			require.NoError(t, err)
			defer conn.Release()
			_, err = conn.Exec(ctx, "LISTEN "+totalsChannel)
			require.NoError(t, err)

			tx, err := pool.Begin(ctx)
			require.NoError(t, err)
			for _, q := range tt.sql {
				_, err := tx.Exec(ctx, q)
				require.NoError(t, err, q)
			}
			if tt.commit {
				require.NoError(t, tx.Commit(ctx))
			} else {
				require.NoError(t, tx.Rollback(ctx))
			}
			_, err = pool.Exec(ctx, "SELECT pg_notify($1, 'end')", totalsChannel)
			require.NoError(t, err)
			var got []string
			for {
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				n, err := conn.Conn().WaitForNotification(wctx)
				cancel()
				require.NoError(t, err)
				if n.Payload == "end" {
					break
				}
				got = append(got, n.Payload)
			}
			require.ElementsMatch(t, tt.want, got)
		})
	}
}
