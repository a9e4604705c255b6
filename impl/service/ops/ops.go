// Package ops is what operators read: whether the database answers (readiness) and the counts that metrics report.
package ops

import (
	"context"
	"fmt"

	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
)

// Service answers probes and scrapes. It is safe for concurrent use.
type Service struct {
	core *core.Core
}

// New returns a Service over c.
func New(c *core.Core) *Service { return &Service{core: c} }

// Ready reports whether the database answers, for readiness probes: EUNAVAILABLE when it does not.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.core.Pool.Ping(ctx); err != nil {
		s.core.Logger.WarnContext(ctx, "readiness: database ping failed", "err", err)
		return &service.Error{Code: service.EUNAVAILABLE, Message: "The database is not reachable."}
	}
	return nil
}

// JobCounts counts River jobs by kind (A) and state (B).
func (s *Service) JobCounts(ctx context.Context) ([]service.Count, error) {
	rows, err := s.core.Queries.MetricsJobCounts(ctx, s.core.DB)
	if err != nil {
		return nil, fmt.Errorf("job counts: %w", err)
	}
	out := make([]service.Count, len(rows))
	for i, r := range rows {
		out[i] = service.Count{A: r.Kind, B: r.State, N: r.Jobs}
	}
	return out, nil
}

// WebhookEventCounts counts stored webhook events by provider (A) and status (B).
func (s *Service) WebhookEventCounts(ctx context.Context) ([]service.Count, error) {
	rows, err := s.core.Queries.MetricsWebhookEventCounts(ctx, s.core.DB)
	if err != nil {
		return nil, fmt.Errorf("webhook event counts: %w", err)
	}
	out := make([]service.Count, len(rows))
	for i, r := range rows {
		out[i] = service.Count{A: r.Provider, B: r.Status, N: r.Events}
	}
	return out, nil
}

// WebhookDeliveryCounts counts the outgoing webhook deliveries pending and failed (A), never the whole log.
func (s *Service) WebhookDeliveryCounts(ctx context.Context) ([]service.Count, error) {
	rows, err := s.core.Queries.MetricsWebhookDeliveryCounts(ctx, s.core.DB)
	if err != nil {
		return nil, fmt.Errorf("webhook delivery counts: %w", err)
	}
	out := make([]service.Count, len(rows))
	for i, r := range rows {
		out[i] = service.Count{A: r.Status, N: r.Deliveries}
	}
	return out, nil
}

// DisabledEndpointCounts counts the webhook endpoints Junction disabled, by reason (A).
func (s *Service) DisabledEndpointCounts(ctx context.Context) ([]service.Count, error) {
	rows, err := s.core.Queries.MetricsWebhookEndpointsDisabled(ctx, s.core.DB)
	if err != nil {
		return nil, fmt.Errorf("disabled endpoint counts: %w", err)
	}
	out := make([]service.Count, len(rows))
	for i, r := range rows {
		out[i] = service.Count{A: r.Reason, N: r.Endpoints}
	}
	return out, nil
}
