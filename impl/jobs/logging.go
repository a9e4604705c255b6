package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// logMiddleware writes one line per job attempt: completed, failed and retried, failed for good, or cancelled,
// with the job's id, kind and attempt. It never logs args: they can hold secrets (a reset token).
type logMiddleware struct {
	river.WorkerMiddlewareDefaults
	logger *slog.Logger
}

func (m *logMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	err := doInner(ctx)
	attrs := []slog.Attr{
		slog.Int64("job_id", job.ID), slog.String("kind", job.Kind), slog.String("queue", job.Queue),
		slog.Int("attempt", job.Attempt), slog.Int("max_attempts", job.MaxAttempts),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
	}
	var cancel *rivertype.JobCancelError
	var snooze *rivertype.JobSnoozeError
	switch {
	case err == nil:
		m.logger.LogAttrs(ctx, slog.LevelInfo, "job completed", attrs...)
	case errors.As(err, &cancel):
		m.logger.LogAttrs(ctx, slog.LevelWarn, "job cancelled", append(attrs, slog.String("err", err.Error()))...)
	case errors.As(err, &snooze):
		m.logger.LogAttrs(ctx, slog.LevelInfo, "job snoozed", attrs...)
	case job.Attempt >= job.MaxAttempts:
		m.logger.LogAttrs(ctx, slog.LevelError, "job failed for good; discarded", append(attrs, slog.String("err", err.Error()))...)
	default:
		m.logger.LogAttrs(ctx, slog.LevelWarn, "job failed; will retry", append(attrs, slog.String("err", err.Error()))...)
	}
	return err
}
