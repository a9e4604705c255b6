-- name: WebhookEventInsert :one
-- Stores a delivery once: a repeated (provider, event_id) inserts nothing and returns no row.
INSERT INTO webhook_events (provider, event_id, type, payload, event_created_at)
VALUES (@provider, @event_id, @type, @payload, @event_created_at)
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING id;

-- name: WebhookEventGetByID :one
SELECT * FROM webhook_events WHERE id = @id;

-- name: WebhookEventGetForUpdate :one
SELECT * FROM webhook_events WHERE id = @id FOR UPDATE;

-- name: WebhookEventFinish :exec
UPDATE webhook_events
SET status = @status, attempts = attempts + 1, last_error = NULL, processed_at = now()
WHERE id = @id;

-- name: WebhookEventFail :exec
UPDATE webhook_events
SET status = 'failed', attempts = attempts + 1, last_error = @last_error
WHERE id = @id;

-- name: WebhookEventCount :one
SELECT count(*) FROM webhook_events
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(type)::text IS NULL OR type = sqlc.narg(type));

-- name: WebhookEventList :many
SELECT * FROM webhook_events
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(type)::text IS NULL OR type = sqlc.narg(type))
ORDER BY received_at DESC, id DESC
LIMIT @row_limit OFFSET @row_offset;
