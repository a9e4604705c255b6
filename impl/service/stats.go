package service

import (
	"context"
	"fmt"
)

// Count is a number of things with two labels, for metrics.
type Count struct {
	A, B string
	N    int64
}

// JobCounts counts River jobs by kind (A) and state (B).
func (s *Service) JobCounts(ctx context.Context) ([]Count, error) {
	rows, err := s.queries.MetricsJobCounts(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("job counts: %w", err)
	}
	out := make([]Count, len(rows))
	for i, r := range rows {
		out[i] = Count{A: r.Kind, B: r.State, N: r.Jobs}
	}
	return out, nil
}

// WebhookEventCounts counts stored webhook events by provider (A) and status (B).
func (s *Service) WebhookEventCounts(ctx context.Context) ([]Count, error) {
	rows, err := s.queries.MetricsWebhookEventCounts(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("webhook event counts: %w", err)
	}
	out := make([]Count, len(rows))
	for i, r := range rows {
		out[i] = Count{A: r.Provider, B: r.Status, N: r.Events}
	}
	return out, nil
}
