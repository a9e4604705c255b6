package service

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// inTx runs fn in a transaction, committing when it returns nil and rolling back otherwise. Every write goes
// through it so that later steps (job inserts, notifications) join the same commit.
func (s *Service) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := pgx.BeginFunc(ctx, s.pool, fn); err != nil {
		return fmt.Errorf("tx: %w", err)
	}
	return nil
}

// enqueue inserts a job in tx, so that it exists exactly when tx commits.
func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, args river.JobArgs) error {
	if _, err := s.jobs.InsertTx(ctx, tx, args, nil); err != nil {
		return fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return nil
}
