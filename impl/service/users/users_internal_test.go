package users

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/stretchr/testify/require"

	junction "github.com/junction-dev/junction"
	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/apimodel"
	"github.com/junction-dev/junction/impl/dbtest"
	"github.com/junction-dev/junction/impl/ecma262"
	"github.com/junction-dev/junction/impl/password"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/authcache"
	"github.com/junction-dev/junction/impl/service/internal/core"
	"github.com/junction-dev/junction/impl/service/internal/totals"
)

func TestListUsersParamsWhitelist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    service.ListUsersParams
		field string
	}{
		{"unknown sort", service.ListUsersParams{Sort: "password_hash"}, "sort"},
		{"unknown order", service.ListUsersParams{Order: "random()"}, "order"},
		{"limit too big", service.ListUsersParams{Limit: 101}, "limit"},
		{"negative page", service.ListUsersParams{Page: -1}, "page"},
		{"NUL in search", service.ListUsersParams{Search: "a\x00"}, "search"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := normalize(tt.in)
			var se *service.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, service.EINVALID, se.Code)
			require.Contains(t, se.Fields, tt.field)
		})
	}
	p, err := normalize(service.ListUsersParams{})
	require.NoError(t, err)
	require.Equal(t, service.ListUsersParams{Page: 1, Limit: 20, Sort: service.UserSortCreatedAt, Order: service.Desc}, p)
}

// TestEmailIsTheSpecsEmail: the service accepts exactly the addresses openapi.yaml's Email schema does (its
// pattern, read as ECMA-262, and its maxLength), so GraphQL and REST agree.
func TestEmailIsTheSpecsEmail(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(junction.OpenAPIYAML)
	require.NoError(t, err)
	schema := doc.Components.Schemas["Email"].Value
	re, err := ecma262.Compile(schema.Pattern)
	require.NoError(t, err)
	for _, email := range []string{
		"ada@example.com", "a.b+c@mail.example.co.uk", "x@a-b.io", "!#$%&'*+/=?^_`{|}~-@example.com",
		"zoë@example.com", "ada@exämple.com", "ada@localhost", `"ada lovelace"@example.com`, "ada@[127.0.0.1]",
		"a..b@example.com", ".a@example.com", "a.@example.com", "ada@-example.com", "ada@example-.com", "ada@example.com.",
		"Ada <ada@example.com>", "ada@example", "@example.com", "ada@", "", "ada@@example.com", "ada @example.com",
		strings.Repeat("a", 242) + "@example.com", strings.Repeat("a", 243) + "@example.com",
	} {
		fe := core.FieldErrors{}
		checkEmail(fe, email)
		want := re.MatchString(email) && len(email) <= int(*schema.MaxLength)
		require.Equal(t, want, len(fe) == 0, "%q: %v", email, fe)
	}
}

func TestSameEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		same bool
	}{
		{"ada@example.com", "ada@example.com", true},
		{"ada@example.com", "ADA@Example.COM", true},
		{"ada@example.com", "ada@example.org", false},
		{"ada@example.com", "ada@example.co", false},
		{"ädä@example.com", "ÄDÄ@example.com", false},
		{"kelvin@example.com", "\u212aelvin@example.com", false}, // the Kelvin sign folds to k in Unicode, not in ASCII
	}
	for _, tt := range tests {
		require.Equal(t, tt.same, sameEmail(tt.a, tt.b), "%s vs %s", tt.a, tt.b)
	}
}

// TestListTotalsLagOnlyOtherInstances: with the totals cache on and no listener (as while it is down), this
// instance's own writes show in the next total at once; another instance's show once the TTL has passed. With
// the listener they show as soon as it hears of them (wire's TestListTotalsForgottenOnEveryInstance).
func TestListTotalsLagOnlyOtherInstances(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	c := core.New(pool, inserter, apimodel.EncodeWebhook, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hasher := password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	var later atomic.Bool // the clock of s's totals, moved past their TTL
	clock := func() time.Time {
		if later.Load() {
			return time.Now().Add(3 * time.Hour)
		}
		return time.Now()
	}
	s := New(c, hasher, authcache.New(0, 1), totals.New(time.Hour, 100, clock))
	other := New(c, hasher, authcache.New(0, 1), totals.New(0, 100, time.Now))
	ctx := context.Background()
	create := func(svc *Service, name string) service.User {
		u, err := svc.Create(ctx, service.CreateUserInput{Name: name, Email: name + "@example.com", Password: "long enough"})
		require.NoError(t, err)
		return u
	}
	ada := create(s, "ada")
	actx := service.NewContextWithActor(ctx, service.Actor{UserID: ada.ID, Role: service.RoleUser})
	total := func() int64 {
		page, err := s.List(actx, service.ListUsersParams{})
		require.NoError(t, err)
		return page.Total
	}
	require.Equal(t, int64(1), total())
	create(s, "grace")
	require.Equal(t, int64(2), total(), "this instance's write shows at once")
	create(other, "alan")
	require.Equal(t, int64(2), total(), "another instance's write waits for the TTL")
	later.Store(true)
	require.Equal(t, int64(3), total(), "and shows after it")
}

// TestSearchFewReadsTheWalksPages: a term with few matches is read through the UserSearchFewBy… queries, whose pages are the
// ones the sort-index walk gives, in every order and at every offset (ties in name and time broken by id alike).
// A sign-up that matches shows on the next page at once, even on an instance whose total of the term lags it.
func TestSearchFewReadsTheWalksPages(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	// 40 users match "zq": pairs share a name and a creation time, so that only the id orders them.
	_, err := pool.Exec(ctx, `
		INSERT INTO users (name, email, password_hash, created_at)
		SELECT CASE WHEN i % 2 = 0 THEN 'Zq ' || (i / 2) ELSE 'Other ' || i END, 'u' || i || '@example.com', 'x',
		       timestamptz '2026-01-01' + (i / 2) * interval '1 minute'
		FROM generate_series(1, 80) AS i;
		INSERT INTO users (name, email, password_hash, created_at)
		VALUES ('Ada', 'ada.zq@example.com', 'x', now() - interval '2 seconds'), ('Bob', 'Bob.ZQ@example.com', 'x', now() - interval '1 second')`)
	require.NoError(t, err)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	c := core.New(pool, inserter, apimodel.EncodeWebhook, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hasher := password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	s := New(c, hasher, authcache.New(0, 1), totals.New(time.Hour, 100, time.Now))
	pattern := core.ContainsPattern("zq")
	ids := func(users []service.User) []uuid.UUID {
		out := make([]uuid.UUID, len(users))
		for i, u := range users {
			out[i] = u.ID
		}
		return out
	}
	for _, sort := range []service.UserSort{service.UserSortCreatedAt, service.UserSortName, service.UserSortEmail} {
		for _, order := range []service.SortOrder{service.Asc, service.Desc} {
			for _, offset := range []int32{0, 7, 35, 50} {
				walked, err := s.walk(ctx, db.UserListByCreatedAtAscParams{Pattern: pattern, RowLimit: 11, RowOffset: offset}, sort, order)
				require.NoError(t, err)
				few, err := s.searchFew(ctx, *pattern, sort, order, 11, offset)
				require.NoError(t, err)
				require.Equal(t, ids(core.ToUsers(walked)), ids(few), "%s %s from %d", sort, order, offset)
				require.Equal(t, core.ToUsers(walked), few)
			}
		}
	}

	// The same through List, whose total (42) sends it to UserSearchFewBy…; then another instance signs up a match.
	other := New(c, hasher, authcache.New(0, 1), totals.New(0, 100, time.Now))
	actx := service.NewContextWithActor(ctx, service.Actor{UserID: uuid.New(), Role: service.RoleUser})
	page, err := s.List(actx, service.ListUsersParams{Search: "ZQ", Limit: 5})
	require.NoError(t, err)
	require.Equal(t, int64(42), page.Total)
	require.LessOrEqual(t, page.Total, int64(fewMatches))
	require.True(t, page.HasMore)
	require.Equal(t, []string{"Bob", "Ada", "Zq 40", "Zq 39", "Zq 38"}, names(page.Users))
	newest, err := other.Create(ctx, service.CreateUserInput{Name: "Zq Newest", Email: "newest@example.com", Password: "long enough"})
	require.NoError(t, err)
	page, err = s.List(actx, service.ListUsersParams{Search: "ZQ", Limit: 5})
	require.NoError(t, err)
	require.Equal(t, int64(42), page.Total, "this instance's total lags, as it may without its listener")
	require.Equal(t, newest.ID, page.Users[0].ID, "but the page shows the new user at once")
	page, err = s.List(actx, service.ListUsersParams{Search: "zq", Limit: 5, SkipTotal: true})
	require.NoError(t, err)
	require.Equal(t, newest.ID, page.Users[0].ID)
}

func names(users []service.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Name
	}
	return out
}
