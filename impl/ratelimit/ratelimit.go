// Package ratelimit is Junction's one rate-limit policy. Limits are per action, not per transport operation:
// signing in costs the same whether it comes as POST /api/auth/token, GraphQL's login (each alias counts) or the
// admin UI's Basic sign-in. Which action an entrance performs is declared in its contract (x-rate-limit in
// openapi.yaml, @rateLimit in schema.graphqls); how many each action allows comes from the configuration. Every
// action is counted per client IP ([clientip]), and the actions that name an account (sign-in, password reset)
// also per account (with five times a client's quota, so that no one client can lock an account's owner out), so
// guesses spread over many addresses still slow down on one account.
//
// Answers carry the fields of draft-ietf-httpapi-ratelimit-headers-11 ([Result.SetHeaders]).
package ratelimit

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/junction-dev/junction/impl/clientip"
	"github.com/junction-dev/junction/impl/config"
)

// Action is what a request does, as far as limits go. The contracts name one for every operation.
type Action string

// The actions. ActionNone is for what must always answer (probes) or is authenticated by other means in bursts
// (webhook deliveries, signed by their sender).
const (
	ActionLogin         Action = "login"
	ActionSignup        Action = "signup"
	ActionPasswordReset Action = "password-reset"
	ActionListUsers     Action = "list-users"
	ActionDefault       Action = "default"
	ActionNone          Action = "none"
)

// Policy is a named quota: Quota requests per Window.
type Policy struct {
	Name   string
	Quota  int
	Window time.Duration
}

// Decision is the outcome of one request against one policy.
type Decision struct {
	Policy  Policy
	Allowed bool
	// Remaining is how many more requests the quota allows now.
	Remaining int
	// Reset is how long until the whole quota is available again.
	Reset time.Duration
	// RetryAfter is, for a refused request, how long until one more is allowed.
	RetryAfter time.Duration
}

// Limits applies the policy of every action.
type Limits struct {
	store    Store
	byAction map[Action]Policy
}

// accountSuffix names the policy that counts an action per account.
const accountSuffix = "-account"

// accountFactor is how many times a client's quota an account gets: one client alone can never spend an
// account's budget (and so lock its owner out of signing in or resetting), while guesses spread over many
// addresses still slow down on it.
const accountFactor = 5

// New returns the limits that cfg sets, counted in store. A limit of 0 turns its action's limit off.
func New(cfg config.RateLimitConfig, store Store) *Limits {
	l := &Limits{store: store, byAction: map[Action]Policy{}}
	for a, n := range map[Action]int{
		ActionLogin: cfg.Login, ActionSignup: cfg.SignUp, ActionPasswordReset: cfg.PasswordReset,
		ActionListUsers: cfg.ListUsers, ActionDefault: cfg.Default,
	} {
		if n > 0 {
			l.byAction[a] = Policy{Name: string(a), Quota: n, Window: cfg.Window}
		}
	}
	return l
}

// Known reports whether a is an action, so that each transport can refuse at start-up a contract that names
// another.
func Known(a Action) bool {
	switch a {
	case ActionLogin, ActionSignup, ActionPasswordReset, ActionListUsers, ActionDefault, ActionNone:
		return true
	}
	return false
}

// Check counts one request of action a by the client in ctx ([clientip.FromContext]) and, when account is not
// empty, by that account (an email: compared case-insensitively). It never returns an error for a refusal: see
// [Result.Err].
func (l *Limits) Check(ctx context.Context, a Action, account string) (Result, error) {
	p, ok := l.byAction[a]
	if !ok {
		return Result{}, nil
	}
	d, err := l.store.Allow(ctx, p, clientip.Key(clientip.FromContext(ctx)))
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", a, err)
	}
	r := Result{Decisions: []Decision{d}}
	if !d.Allowed {
		return r, nil
	}
	if account = strings.TrimSpace(account); account != "" {
		ap := Policy{Name: p.Name + accountSuffix, Quota: p.Quota * accountFactor, Window: p.Window}
		d, err := l.store.Allow(ctx, ap, accountKey(account))
		if err != nil {
			return Result{}, fmt.Errorf("rate limit %s: %w", a, err)
		}
		r.Decisions = append(r.Decisions, d)
	}
	return r, nil
}

// accountKey is a fixed-size key for an account: whatever a client sends as an email (refused later or not), a
// key costs the limiter the same few bytes, and no address is kept in its memory.
func accountKey(account string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(account)))
	return string(sum[:16])
}

// Result is what Check decided, policy by policy; it is empty for an action without a limit.
type Result struct {
	Decisions []Decision
}

// Err is an [*ExceededError] when a policy refused the request, or nil.
func (r Result) Err() error {
	var retry time.Duration
	refused := false
	for _, d := range r.Decisions {
		if !d.Allowed {
			refused = true
			retry = max(retry, d.RetryAfter)
		}
	}
	if !refused {
		return nil
	}
	return &ExceededError{Result: r, RetryAfter: retry}
}

// SetHeaders writes the RateLimit-Policy and RateLimit fields of draft-ietf-httpapi-ratelimit-headers-11, e.g.
// `RateLimit-Policy: "login";q=10;w=60` and `RateLimit: "login";r=3;t=42`.
//
// The fields are built without fmt, and stored under their canonical keys as Header.Set would, without Set's
// canonicalization (which allocates for these mixed-case names): every request sets them, and fmt's and the
// builders' allocations were 5% of a by-id read's.
func (r Result) SetHeaders(h http.Header) {
	if len(r.Decisions) == 0 {
		return
	}
	// Both fields in one buffer, then one string and one slice for the two values: two allocations in all.
	var buf [192]byte
	b := buf[:0]
	for i, d := range r.Decisions {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendQuote(b, d.Policy.Name)
		b = append(b, ";q="...)
		b = strconv.AppendInt(b, int64(d.Policy.Quota), 10)
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, int64(seconds(d.Policy.Window)), 10)
	}
	n := len(b)
	for i, d := range r.Decisions {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendQuote(b, d.Policy.Name)
		b = append(b, ";r="...)
		b = strconv.AppendInt(b, int64(d.Remaining), 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, int64(seconds(d.Reset)), 10)
	}
	s := string(b)
	values := []string{s[:n], s[n:]}
	// Full slice expressions: an Add to either field copies its value instead of overwriting the other.
	h[policyHeader] = values[0:1:1]
	h[stateHeader] = values[1:2:2]
}

// The canonical forms (http.CanonicalHeaderKey) of RateLimit-Policy and RateLimit, as Header.Set stores them.
const (
	policyHeader = "Ratelimit-Policy"
	stateHeader  = "Ratelimit"
)

// ExceededError is a request refused by a rate limit. Each transport renders it once: REST as 429 with
// Retry-After, GraphQL as an error whose extensions carry the same numbers.
type ExceededError struct {
	Result
	RetryAfter time.Duration
}

func (e *ExceededError) Error() string {
	return "Too many requests: retry after " + strconv.Itoa(e.RetryAfterSeconds()) + " seconds."
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up and at least 1, for Retry-After.
func (e *ExceededError) RetryAfterSeconds() int { return max(1, seconds(e.RetryAfter)) }

// seconds rounds d up to whole seconds, as the header fields count.
func seconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }
