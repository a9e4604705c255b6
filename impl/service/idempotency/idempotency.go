// Package idempotency makes retries safe (the Idempotency-Key header): a keyed request's answer is stored in the
// same transaction as its write, and its retries get that answer instead of running again. Every entrance that
// takes a key (REST, GraphQL's mutations) goes through Begin and Finish.
package idempotency

import (
	"context"
	"fmt"
	"time"

	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
)

// Service stores and replays the answers of keyed requests. It is safe for concurrent use.
type Service struct {
	core *core.Core
	ttl  time.Duration
}

// New returns a Service over c whose answers are kept for ttl (IDEMPOTENCY_KEY_TTL).
func New(c *core.Core, ttl time.Duration) *Service { return &Service{core: c, ttl: ttl} }

// Begin starts keyed request r: it returns ctx for the request to run in, whose transactions become one, which
// [Service.Finish] commits with the request's answer. Nothing is read: the request's first write takes the key's
// lock in its BEGIN, and a key that holds an answer already shows when Finish stores this one.
func (s *Service) Begin(ctx context.Context, r service.IdempotentRequest) context.Context {
	return core.WithUnit(ctx, core.NewUnit(r))
}

// Found returns [service.ErrIdempotencyInFlight] when the request of ctx found its key held by another request,
// still running, at its first write; nil otherwise. Its first result is always nil.
func (s *Service) Found(ctx context.Context) (*service.StoredAnswer, error) {
	if u := core.UnitFrom(ctx); u != nil {
		return nil, u.Refusal()
	}
	return nil, nil
}

// Finish ends the request of ctx. When it wrote: with answer (a 2xx) it stores it with the request's writes and
// commits them together, with nil it rolls the writes back; an error means that nothing was committed. Either
// way, when the key holds an earlier request's answer, that is what a retry must get rather than this run's
// outcome (a retried post would be a second post, a retried password change would fail its current-password
// check): Finish returns that answer to replay, or [service.ErrIdempotencyKeyReused] when it answered another
// request.
func (s *Service) Finish(ctx context.Context, answer *service.StoredAnswer) (*service.StoredAnswer, error) {
	u := core.UnitFrom(ctx)
	if u == nil {
		return nil, nil
	}
	if u.Wrote() && answer != nil {
		return s.core.Finish(ctx, u, answer, s.ttl)
	}
	if _, err := s.core.Finish(ctx, u, nil, s.ttl); err != nil {
		return nil, err
	}
	stored, err := s.core.Answer(ctx, s.core.Pool, u.Request())
	switch {
	case err != nil:
		return nil, fmt.Errorf("idempotent request: %w", err)
	case stored == nil:
		return nil, nil
	case stored.Refusal != nil:
		return nil, stored.Refusal
	}
	return &stored.StoredAnswer, nil
}

// Prune deletes the expired keys, a batch at a time, and returns how many. For the periodic prune job.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	n, err := core.Prune(ctx, 5000, func(ctx context.Context, limit int32) (int64, error) {
		return s.core.Queries.IdempotencyKeysPrune(ctx, s.core.DB, limit)
	})
	if err != nil {
		return n, fmt.Errorf("prune idempotency keys: %w", err)
	}
	return n, nil
}
