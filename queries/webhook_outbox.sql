-- name: WebhookMessageInsert :one
-- Records an event in the write's transaction, unless no endpoint would take it now: a write that nobody listens
-- to costs one statement and keeps nothing. The fan-out decides again which endpoints get it, as it runs. The
-- owner's endpoints and the admins' are looked up apart, each by its own index, so that the check does not grow
-- with everyone else's endpoints that take the type.
INSERT INTO webhook_messages (type, owner_id, private, payload)
SELECT @type::text, sqlc.narg(owner_id)::uuid, @private::boolean, @payload::bytea
WHERE EXISTS (
    SELECT 1 FROM webhook_endpoints e
    WHERE e.owner_id = sqlc.narg(owner_id)::uuid AND e.enabled AND e.event_types @> ARRAY[@type::text]
) OR (NOT @private::boolean AND EXISTS (
    SELECT 1 FROM users u JOIN webhook_endpoints e ON e.owner_id = u.id
    WHERE u.role = 'admin' AND e.enabled AND e.event_types @> ARRAY[@type::text]
))
RETURNING id;

-- name: WebhookMessageInsertFor :one
-- Records an event for one endpoint, whatever it takes (a test event).
INSERT INTO webhook_messages (type, owner_id, private, payload)
VALUES (@type::text, @owner_id::uuid, true, @payload::bytea)
RETURNING id, created_at;

-- name: WebhookFanOut :many
-- Makes one delivery of a message to every enabled endpoint that takes its type and may hear of it: its owner's,
-- and an admin's unless it is private (a draft's); each set found by its own index, as in WebhookMessageInsert.
-- Returns every delivery of the message not yet attempted: the new ones, and, when a fan-out runs again after a
-- crash, those its first run made (the second SELECT sees the table as it was before this statement). Run again,
-- it makes none twice.
WITH made AS (
    INSERT INTO webhook_deliveries (message_id, endpoint_id, event_type, event_at, next_attempt_at)
    SELECT m.id, e.id, m.type, m.created_at, now()
    FROM webhook_messages m
    JOIN LATERAL (
        SELECT o.id FROM webhook_endpoints o
        WHERE o.owner_id = m.owner_id AND o.enabled AND o.event_types @> ARRAY[m.type]
        UNION
        SELECT a.id FROM users u JOIN webhook_endpoints a ON a.owner_id = u.id
        WHERE NOT m.private AND u.role = 'admin' AND a.enabled AND a.event_types @> ARRAY[m.type]
    ) e ON true
    WHERE m.id = @message_id
    ON CONFLICT (message_id, endpoint_id) DO NOTHING
    RETURNING id
)
SELECT id FROM made
UNION
SELECT d.id FROM webhook_deliveries d
WHERE d.message_id = @message_id AND d.status = 'pending' AND d.attempts = 0 AND d.recovery_id IS NULL;

-- name: WebhookDeliveryCreate :one
INSERT INTO webhook_deliveries (message_id, endpoint_id, event_type, event_at, next_attempt_at)
VALUES (@message_id, @endpoint_id, @event_type, @event_at, now())
RETURNING *;

-- name: WebhookDeliveryTargets :many
-- What the attempts of deliveries need: each delivery, its message's body and its endpoint's address and secrets.
SELECT d.id, d.status, d.attempts, d.message_id, d.event_type, d.endpoint_id, m.payload,
       e.url, e.enabled, e.owner_id, e.secret_sealed, e.previous_secret_sealed, e.previous_secret_expires_at
FROM webhook_deliveries d
JOIN webhook_messages m ON m.id = d.message_id
JOIN webhook_endpoints e ON e.id = d.endpoint_id
WHERE d.id = ANY(@ids::uuid[]);

-- name: WebhookAttemptsSucceeded :execrows
-- Records successful attempts in one statement: each attempt, its delivery's final state, and the end of its
-- endpoint's failing streak (a write only when there was one, so that a busy endpoint's row is not a hot spot).
-- An attempt recorded already (attempts moved on) writes nothing.
WITH r AS (
    SELECT unnest(@delivery_ids::uuid[]) AS id, unnest(@attempts::int[]) AS attempt,
           unnest(@attempted_ats::timestamptz[]) AS attempted_at, unnest(@status_codes::int[]) AS status_code,
           unnest(@durations_ms::int[]) AS duration_ms, unnest(@responses::text[]) AS response
), d AS (
    UPDATE webhook_deliveries w
    SET status = 'succeeded', attempts = r.attempt, next_attempt_at = NULL, recovery_id = NULL, updated_at = now()
    FROM r
    WHERE w.id = r.id AND w.status = 'pending' AND w.attempts = r.attempt - 1
    RETURNING w.id, w.endpoint_id
), a AS (
    INSERT INTO webhook_delivery_attempts (delivery_id, attempt, attempted_at, status_code, duration_ms, response)
    SELECT r.id, r.attempt, r.attempted_at, r.status_code, r.duration_ms, r.response FROM r JOIN d ON d.id = r.id
), e AS (
    UPDATE webhook_endpoints SET failing_since = NULL
    WHERE id IN (SELECT endpoint_id FROM d) AND failing_since IS NOT NULL
)
SELECT id FROM d;

-- name: WebhookAttemptFailed :one
-- Records a failed attempt: the attempt, and the delivery pending until next_attempt_at, or failed with none.
-- No row if the attempt was recorded already.
WITH d AS (
    UPDATE webhook_deliveries
    SET status = CASE WHEN sqlc.narg(next_attempt_at)::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
        attempts = sqlc.arg(attempt)::int, next_attempt_at = sqlc.narg(next_attempt_at)::timestamptz, recovery_id = NULL,
        updated_at = now()
    WHERE webhook_deliveries.id = @delivery_id AND status = 'pending' AND attempts = sqlc.arg(attempt)::int - 1
    RETURNING webhook_deliveries.id
), a AS (
    INSERT INTO webhook_delivery_attempts (delivery_id, attempt, attempted_at, status_code, error, duration_ms,
                                           response, next_attempt_at)
    SELECT d.id, sqlc.arg(attempt)::int, @attempted_at, sqlc.narg(status_code), sqlc.narg(error), @duration_ms, @response,
           sqlc.narg(next_attempt_at)::timestamptz
    FROM d
)
SELECT id FROM d;

-- name: WebhookEndpointFailing :one
-- Starts an endpoint's failing streak at now unless one runs, and returns when it began. The row is written only
-- when a streak starts, so that the failures of a busy endpoint do not queue on its lock.
WITH started AS (
    UPDATE webhook_endpoints SET failing_since = @now::timestamptz
    WHERE id = @id AND failing_since IS NULL
    RETURNING failing_since
)
SELECT coalesce((SELECT s.failing_since FROM started s), (SELECT w.failing_since FROM webhook_endpoints w WHERE w.id = @id),
                @now::timestamptz)::timestamptz AS failing_since;

-- name: WebhookEndpointDisable :one
-- Disables an enabled endpoint for reason; no row when it was disabled already, so that its owner hears once.
UPDATE webhook_endpoints SET enabled = false, disabled_reason = @reason, failing_since = NULL, updated_at = now()
WHERE id = @id AND enabled
RETURNING *;

-- name: WebhookDeliveryList :many
SELECT * FROM webhook_deliveries
WHERE endpoint_id = @endpoint_id
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(event_type)::text IS NULL OR event_type = sqlc.narg(event_type))
ORDER BY event_at DESC, id DESC
LIMIT @row_limit OFFSET @row_offset;

-- name: WebhookDeliveryCount :one
SELECT count(*) FROM webhook_deliveries
WHERE endpoint_id = @endpoint_id
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(event_type)::text IS NULL OR event_type = sqlc.narg(event_type));

-- name: WebhookDeliveryGet :one
SELECT * FROM webhook_deliveries WHERE id = @id AND endpoint_id = @endpoint_id;

-- name: WebhookAttemptsLatest :many
-- The latest max_per attempts of each delivery, oldest first.
SELECT a.* FROM unnest(@delivery_ids::uuid[]) AS ids(id)
CROSS JOIN LATERAL (
    SELECT * FROM webhook_delivery_attempts w WHERE w.delivery_id = ids.id ORDER BY w.attempt DESC LIMIT @max_per::int
) a
ORDER BY a.delivery_id, a.attempt;

-- name: WebhookDeliveryRequeue :one
-- Makes a failed delivery pending again, for one more attempt now.
UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), updated_at = now()
WHERE id = @id AND endpoint_id = @endpoint_id AND status = 'failed'
RETURNING *;

-- name: WebhookDeliveryClaimFailedSince :one
-- Claims an endpoint's failed deliveries of events since since for recovery recovery_id: pending again, each
-- sent once more by that recovery alone. Returns how many.
WITH claimed AS (
    UPDATE webhook_deliveries
    SET status = 'pending', next_attempt_at = now(), recovery_id = @recovery_id, updated_at = now()
    WHERE endpoint_id = @endpoint_id AND status = 'failed' AND event_at >= @since
    RETURNING 1
)
SELECT count(*) FROM claimed;

-- name: WebhookDeliveryRecovering :many
-- The next deliveries a recovery claimed and has not sent yet, in event order after (event_at, id).
SELECT id, event_at FROM webhook_deliveries
WHERE recovery_id = @recovery_id AND (event_at, id) > (@after_at::timestamptz, @after_id::uuid)
ORDER BY event_at, id
LIMIT @row_limit;

-- name: WebhookMessagesPrune :execrows
-- Deletes a batch of messages older than before, with their deliveries and attempts.
DELETE FROM webhook_messages
WHERE id IN (SELECT old.id FROM webhook_messages old WHERE old.created_at < @before::timestamptz ORDER BY old.created_at LIMIT @row_limit::int);

-- name: MetricsWebhookDeliveryCounts :many
SELECT status, count(*) AS deliveries FROM webhook_deliveries GROUP BY status;

-- name: MetricsWebhookEndpointsDisabled :many
SELECT disabled_reason::text AS reason, count(*) AS endpoints FROM webhook_endpoints
WHERE NOT enabled AND disabled_reason IS NOT NULL GROUP BY disabled_reason;
