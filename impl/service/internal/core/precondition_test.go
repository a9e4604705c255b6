package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/etag"
	"github.com/junction-dev/junction/impl/service"
)

// TestMatchReachesTheStatementAsNullOrAnArray: a Match that holds for every version reaches the if_match
// argument as SQL NULL (no condition), and one that holds for none (If-Match listing only weak or foreign tags) as
// an empty array, which no row meets: pgx sends a nil []int64 as NULL and an empty one as '{}', and the statements
// tell them apart. Were the second sent as NULL, such an If-Match would let every write through.
func TestMatchReachesTheStatementAsNullOrAnArray(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)

	none, ok := etag.IfMatch(`W/"1", "1-0123456789abcdef0123456789abcdef"`)
	require.True(t, ok)
	for name, c := range map[string]struct {
		m           service.Match
		null        bool
		cardinality int
	}{
		"any":        {m: service.MatchAny(), null: true},
		"zero value": {m: service.Match{}, null: true},
		"none":       {m: none},
		"versions":   {m: service.MatchVersions(1, 2), cardinality: 2},
	} {
		var isNull bool
		var n *int
		require.NoError(t, pool.QueryRow(ctx, "SELECT $1::bigint[] IS NULL, cardinality($1::bigint[])", c.m.Arg()).Scan(&isNull, &n), name)
		require.Equal(t, c.null, isNull, name)
		if !c.null {
			require.NotNil(t, n, name)
			require.Equal(t, c.cardinality, *n, name)
		}
	}

	q := db.New()
	u, err := q.UserCreate(ctx, pool, db.UserCreateParams{Name: "Ada", Email: "ada@example.com", PasswordHash: "x"})
	require.NoError(t, err)
	p, err := q.PostCreate(ctx, pool, db.PostCreateParams{AuthorID: u.ID, Title: "Notes", Content: "x", Published: true})
	require.NoError(t, err)
	require.EqualValues(t, 1, p.Version)
	title := "Edited"
	_, err = q.PostUpdate(ctx, pool, db.PostUpdateParams{ID: p.ID, Title: &title, IfMatch: none.Arg()})
	require.True(t, errors.Is(err, pgx.ErrNoRows), "an empty array matches no version: %v", err)
	updated, err := q.PostUpdate(ctx, pool, db.PostUpdateParams{ID: p.ID, Title: &title, IfMatch: service.MatchAny().Arg()})
	require.NoError(t, err, "NULL matches every version")
	require.EqualValues(t, 2, updated.Version)
	n, err := q.PostDelete(ctx, pool, db.PostDeleteParams{ID: p.ID, IfMatch: service.MatchVersions(1).Arg()})
	require.NoError(t, err)
	require.Zero(t, n, "a stale version deletes nothing")
	n, err = q.PostDelete(ctx, pool, db.PostDeleteParams{ID: p.ID, IfMatch: service.MatchVersions(1, 2).Arg()})
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}

// TestOnlyTheTriggerMovesAVersion: whatever an UPDATE sets, the version goes up by exactly one per change of a
// row, so a statement written later cannot reuse a tag by setting it (or forgetting it).
func TestOnlyTheTriggerMovesAVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	q := db.New()
	u, err := q.UserCreate(ctx, pool, db.UserCreateParams{Name: "Ada", Email: "ada@example.com", PasswordHash: "x"})
	require.NoError(t, err)
	p, err := q.PostCreate(ctx, pool, db.PostCreateParams{AuthorID: u.ID, Title: "Notes", Content: "x", Published: true})
	require.NoError(t, err)
	c, err := q.CommentCreate(ctx, pool, db.CommentCreateParams{PostID: p.ID, AuthorID: u.ID, Content: "x"})
	require.NoError(t, err)
	for table, id := range map[string]any{"users": u.ID, "posts": p.ID, "comments": c.ID} {
		var v int64
		require.NoError(t, pool.QueryRow(ctx, "UPDATE "+table+" SET version = 1 WHERE id = $1 RETURNING version", id).Scan(&v), table)
		require.EqualValues(t, 2, v, "%s: set back to 1", table)
		require.NoError(t, pool.QueryRow(ctx, "UPDATE "+table+" SET version = version + 10 WHERE id = $1 RETURNING version", id).Scan(&v), table)
		require.EqualValues(t, 3, v, "%s: pushed ahead", table)
		require.NoError(t, pool.QueryRow(ctx, "UPDATE "+table+" SET id = id WHERE id = $1 RETURNING version", id).Scan(&v), table)
		require.EqualValues(t, 4, v, "%s: an UPDATE that changes nothing still counts", table)
	}
}
