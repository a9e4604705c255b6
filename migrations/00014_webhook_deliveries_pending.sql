-- +goose Up
-- The deliveries still waiting for an attempt, by when it is due: few at any time (a fan-out makes most
-- deliveries as they succeed), so that the metrics count them, and an operator finds the next ones due, without
-- reading the whole log.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- +goose Down
DROP INDEX webhook_deliveries_pending;
