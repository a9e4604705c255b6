package core

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/dbtest"
)

// explainer is a db.DBTX that records the plan of every statement before running it, so a test can check the
// plans of the generated queries exactly as the service sends them.
type explainer struct {
	t     *testing.T
	conn  db.DBTX
	plans []string
}

func (e *explainer) explain(ctx context.Context, sql string, args ...any) {
	rows, err := e.conn.Query(ctx, "EXPLAIN "+sql, args...)
	require.NoError(e.t, err)
	var lines []string
	for rows.Next() {
		var line string
		require.NoError(e.t, rows.Scan(&line))
		lines = append(lines, line)
	}
	require.NoError(e.t, rows.Err())
	e.plans = append(e.plans, strings.Join(lines, "\n"))
}

func (e *explainer) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	e.explain(ctx, sql, args...)
	return e.conn.Exec(ctx, sql, args...)
}

func (e *explainer) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	e.explain(ctx, sql, args...)
	return e.conn.Query(ctx, sql, args...)
}

func (e *explainer) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	e.explain(ctx, sql, args...)
	return e.conn.QueryRow(ctx, sql, args...)
}

// TestUserQueriesUseIndexes seeds enough users for the planner to prefer indexes where they exist, then checks
// that every list order and the search filter is served by an index rather than a scan of the whole table.
func TestUserQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	_, err := pool.Exec(ctx, `
		INSERT INTO users (name, email, password_hash, created_at)
		SELECT 'User ' || md5(i::text), 'user' || i || '@example.com', 'x', now() - i * interval '1 minute'
		FROM generate_series(1, 50000) AS i`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "VACUUM ANALYZE users")
	require.NoError(t, err)

	q := db.New()
	search := ContainsPattern("ab12")
	page := db.UserListByCreatedAtAscParams{RowLimit: 20, RowOffset: 40}
	searchPage := db.UserListByCreatedAtAscParams{Pattern: search, RowLimit: 20}
	tests := []struct {
		name  string
		run   func(db.DBTX) error
		index string // a name the plan must mention, if any
	}{
		{"createdAt asc", func(x db.DBTX) error { _, err := q.UserListByCreatedAtAsc(ctx, x, page); return err }, "users_created_at_id_idx"},
		{"createdAt desc", func(x db.DBTX) error {
			_, err := q.UserListByCreatedAtDesc(ctx, x, db.UserListByCreatedAtDescParams(page))
			return err
		}, "users_created_at_id_idx"},
		{"name asc", func(x db.DBTX) error {
			_, err := q.UserListByNameAsc(ctx, x, db.UserListByNameAscParams(page))
			return err
		}, "users_name_id_idx"},
		{"name desc", func(x db.DBTX) error {
			_, err := q.UserListByNameDesc(ctx, x, db.UserListByNameDescParams(page))
			return err
		}, "users_name_id_idx"},
		{"email asc", func(x db.DBTX) error {
			_, err := q.UserListByEmailAsc(ctx, x, db.UserListByEmailAscParams(page))
			return err
		}, "users_email_lower_key"},
		{"email desc", func(x db.DBTX) error {
			_, err := q.UserListByEmailDesc(ctx, x, db.UserListByEmailDescParams(page))
			return err
		}, "users_email_lower_key"},
		{"search", func(x db.DBTX) error {
			_, err := q.UserListByNameAsc(ctx, x, db.UserListByNameAscParams(searchPage))
			return err
		}, ""}, // the planner may walk the sort index and filter, or use the trigram index and sort: both index scans
		{"search count", func(x db.DBTX) error { _, err := q.UserCount(ctx, x, search); return err }, "trgm_idx"},
		{"by id", func(x db.DBTX) error { _, err := q.UserGetByID(ctx, x, [16]byte{1}); return err }, "users_pkey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &explainer{t: t, conn: pool}
			err := tt.run(e)
			if err != nil && err != pgx.ErrNoRows {
				require.NoError(t, err)
			}
			require.Len(t, e.plans, 1)
			plan := e.plans[0]
			if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "Index") || !strings.Contains(plan, tt.index) {
				t.Fatalf("want an index scan (%s), got:\n%s", tt.index, plan)
			}
		})
	}
}

// TestUserSearchFewKeepsAGenericPlan: the statements for a term with few matches are planned once per
// connection. After PostgreSQL's five trial runs each keeps its generic plan, whatever the terms (rare or common),
// and that plan reads the trigram index; a statement whose values the planner could see would be re-planned on
// every call, since each custom plan of a rare term is priced below the generic one.
func TestUserSearchFewKeepsAGenericPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	_, err := pool.Exec(ctx, `
		INSERT INTO users (name, email, password_hash, created_at)
		SELECT 'User ' || md5(i::text), 'user' || i || '@example.com', 'x', now() - i * interval '1 minute'
		FROM generate_series(1, 20000) AS i`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "VACUUM ANALYZE users")
	require.NoError(t, err)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()

	q := db.New()
	queries := []struct {
		sql string
		run func(db.UserSearchFewByCreatedAtAscParams) (int, error)
	}{
		{db.UserSearchFewByCreatedAtAsc, func(p db.UserSearchFewByCreatedAtAscParams) (int, error) {
			rows, err := q.UserSearchFewByCreatedAtAsc(ctx, conn, p)
			return len(rows), err
		}},
		{db.UserSearchFewByCreatedAtDesc, func(p db.UserSearchFewByCreatedAtAscParams) (int, error) {
			rows, err := q.UserSearchFewByCreatedAtDesc(ctx, conn, db.UserSearchFewByCreatedAtDescParams(p))
			return len(rows), err
		}},
		{db.UserSearchFewByNameAsc, func(p db.UserSearchFewByCreatedAtAscParams) (int, error) {
			rows, err := q.UserSearchFewByNameAsc(ctx, conn, db.UserSearchFewByNameAscParams(p))
			return len(rows), err
		}},
		{db.UserSearchFewByNameDesc, func(p db.UserSearchFewByCreatedAtAscParams) (int, error) {
			rows, err := q.UserSearchFewByNameDesc(ctx, conn, db.UserSearchFewByNameDescParams(p))
			return len(rows), err
		}},
		{db.UserSearchFewByEmailAsc, func(p db.UserSearchFewByCreatedAtAscParams) (int, error) {
			rows, err := q.UserSearchFewByEmailAsc(ctx, conn, db.UserSearchFewByEmailAscParams(p))
			return len(rows), err
		}},
		{db.UserSearchFewByEmailDesc, func(p db.UserSearchFewByCreatedAtAscParams) (int, error) {
			rows, err := q.UserSearchFewByEmailDesc(ctx, conn, db.UserSearchFewByEmailDescParams(p))
			return len(rows), err
		}},
	}
	for _, query := range queries {
		for _, term := range []string{"user4242", "user", "ab", "user1", "user777", "user4242", "zz", "user12", "user13", "user14"} {
			n, err := query.run(db.UserSearchFewByCreatedAtAscParams{Pattern: *ContainsPattern(term), RowLimit: 21})
			require.NoError(t, err)
			if term == "user4242" {
				require.Equal(t, 1, n)
			}
		}
		var name string
		var generic, custom int64
		require.NoError(t, conn.QueryRow(ctx, "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1", query.sql).
			Scan(&name, &generic, &custom))
		require.Equal(t, int64(5), custom, "only PostgreSQL's trial runs are planned for their values")
		require.Equal(t, int64(5), generic, "every later run takes the generic plan")

		e := &explainer{t: t, conn: conn}
		e.explain(ctx, "EXECUTE "+pgx.Identifier{name}.Sanitize()+"(0, 21, '%user4242%')")
		require.Contains(t, e.plans[0], "users_search_trgm_idx")
		require.NotContains(t, e.plans[0], "Seq Scan")
	}
}
