-- name: WebhookEventInsertMany :many
-- Stores a batch of deliveries in one statement, each once: the rows that were new come back with their event
-- ids (repeats, within the batch or of stored events, insert nothing).
INSERT INTO webhook_events (provider, event_id, type, payload, event_created_at)
SELECT unnest(@providers::text[]), unnest(@event_ids::text[]), unnest(@types::text[]), unnest(@payloads::jsonb[]),
       unnest(@created_ats::timestamptz[])
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING id, event_id;

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
