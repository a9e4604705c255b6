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

// Begin starts keyed request r. When its key holds an answer already, it returns that answer to replay, or
// [service.ErrIdempotencyKeyReused] when the answer was to another request; the request must not run. Otherwise
// it returns ctx for the request to run in: its transactions become one, which [Service.Finish] commits.
func (s *Service) Begin(ctx context.Context, r service.IdempotentRequest) (context.Context, *service.StoredAnswer, error) {
	answer, err := s.core.Answer(ctx, s.core.Pool, r)
	switch {
	case err != nil:
		return ctx, nil, fmt.Errorf("idempotent request: %w", err)
	case answer == nil:
		return core.WithUnit(ctx, core.NewUnit(r)), nil, nil
	case answer.Refusal != nil:
		return ctx, nil, answer.Refusal
	}
	return ctx, &answer.StoredAnswer, nil
}

// Found returns what the request of ctx met when its first write took its key: the answer another request with
// the key stored meanwhile (replay it), or a refusal ([service.ErrIdempotencyInFlight] while that request runs,
// [service.ErrIdempotencyKeyReused]). Neither when it ran, or ctx has no keyed request.
func (s *Service) Found(ctx context.Context) (*service.StoredAnswer, error) {
	u := core.UnitFrom(ctx)
	if u == nil {
		return nil, nil
	}
	return u.Found()
}

// Finish ends the request of ctx: with answer (a 2xx), it stores it with the request's writes and commits them
// together; with nil, it rolls the writes back. An error means that nothing was committed.
func (s *Service) Finish(ctx context.Context, answer *service.StoredAnswer) error {
	u := core.UnitFrom(ctx)
	if u == nil {
		return nil
	}
	return s.core.Finish(ctx, u, answer, s.ttl)
}

// Prune deletes the expired keys, a batch at a time, and returns how many. For the periodic prune job.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	const batch = 5000
	var total int64
	for {
		n, err := s.core.Queries.IdempotencyKeysPrune(ctx, s.core.Pool, int32(batch))
		total += n
		if err != nil {
			return total, fmt.Errorf("prune idempotency keys: %w", err)
		}
		if n < batch {
			return total, nil
		}
	}
}

