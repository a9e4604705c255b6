-- name: WebhookMessageInsert :one
-- Records an event in the write's transaction, unless nobody would hear of it now (webhook_audience): a write
-- that nobody listens to keeps nothing. The fan-out decides again who gets it, as it runs. When event is set it
-- is sent to every instance's listener too (EventNotify's), in the same statement: one round trip for both, so
-- that the outbox costs a write that notifies anyway nothing more. Always one row; id is null when nothing was
-- kept.
WITH m AS (
    INSERT INTO webhook_messages (type, owner_id, private, payload)
    SELECT @type::text, sqlc.narg(owner_id)::uuid, @private::boolean, @payload::bytea
    WHERE EXISTS (SELECT 1 FROM webhook_audience(sqlc.narg(owner_id)::uuid, @type::text, @private::boolean))
    RETURNING id
), n AS (
    SELECT pg_notify('junction_events', sqlc.narg(event)::text) WHERE sqlc.narg(event)::text IS NOT NULL
)
SELECT m.id FROM (VALUES (1)) AS one (x) LEFT JOIN n ON true LEFT JOIN m ON true;

-- name: WebhookMessageInsertFor :one
-- Records an event for one endpoint, whatever it takes (a test event).
INSERT INTO webhook_messages (type, owner_id, private, payload)
VALUES (@type::text, @owner_id::uuid, true, @payload::bytea)
RETURNING id, created_at;

-- name: WebhookFanOutTargets :many
-- What a message's fan-out sends, and where: every endpoint that hears of it now (webhook_audience) and has no
-- delivery of it yet, so that a fan-out run again after a crash sends only what its first run did not record.
-- Read only: the deliveries are made when their first attempts are recorded. The message's body comes once, on
-- the first row, rather than once per endpoint.
SELECT e.id, e.url, e.secret_sealed, e.previous_secret_sealed, e.previous_secret_expires_at,
       (CASE WHEN row_number() OVER (ORDER BY e.id) = 1 THEN m.payload END)::bytea AS payload
FROM webhook_messages m
JOIN LATERAL webhook_audience(m.owner_id, m.type, m.private) t ON true
JOIN webhook_endpoints e ON e.id = t.endpoint_id
WHERE m.id = @message_id
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.message_id = m.id AND d.endpoint_id = e.id)
ORDER BY e.id;

-- name: WebhookDeliveriesMake :many
-- Makes pending deliveries of a message, with the ids given, to the endpoints given (a pair at each index); one
-- that exists already is left as it is, and none is made to an endpoint deleted since the fan-out read it (no
-- foreign key refuses it, and it would stay pending, never attempted). A delivery made with its first attempt's
-- record is created when that attempt began (created_at), not after it. Returns the ids made.
INSERT INTO webhook_deliveries (id, message_id, endpoint_id, event_type, event_at, next_attempt_at, created_at)
SELECT t.id, m.id, t.endpoint_id, m.type, m.created_at, now(), coalesce(sqlc.narg(created_at)::timestamptz, now())
FROM webhook_messages m,
     (SELECT unnest(@ids::uuid[]) AS id, unnest(@endpoint_ids::uuid[]) AS endpoint_id) t
WHERE m.id = @message_id AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = t.endpoint_id)
ON CONFLICT (message_id, endpoint_id) DO NOTHING
RETURNING id;

-- name: WebhookFirstAttemptsSucceeded :execrows
-- Records a message's deliveries whose first attempts succeeded, in one statement: each delivery, made as it ends
-- (succeeded), its attempt, and the end of its endpoint's failing streak (a write only when there was one). A
-- delivery that exists already is left as it is (a fan-out that ran twice), and none is made to an endpoint
-- deleted since the fan-out read it. Each is created when its first attempt began, not after it ended.
WITH r AS (
    SELECT unnest(@delivery_ids::uuid[]) AS id, unnest(@endpoint_ids::uuid[]) AS endpoint_id,
           unnest(@attempted_ats::timestamptz[]) AS attempted_at, unnest(@status_codes::int[]) AS status_code,
           unnest(@durations_ms::int[]) AS duration_ms, unnest(@responses::text[]) AS response
), d AS (
    INSERT INTO webhook_deliveries (id, message_id, endpoint_id, event_type, event_at, status, attempts, created_at)
    SELECT r.id, m.id, r.endpoint_id, m.type, m.created_at, 'succeeded', 1, r.attempted_at
    FROM r JOIN webhook_messages m ON m.id = @message_id
    WHERE EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = r.endpoint_id)
    ON CONFLICT (message_id, endpoint_id) DO NOTHING
    RETURNING id, endpoint_id
), a AS (
    INSERT INTO webhook_delivery_attempts (delivery_id, attempt, attempted_at, status_code, duration_ms, response)
    SELECT r.id, 1, r.attempted_at, r.status_code, r.duration_ms, r.response FROM r JOIN d ON d.id = r.id
), e AS (
    UPDATE webhook_endpoints SET failing_since = NULL
    WHERE id IN (SELECT endpoint_id FROM d) AND failing_since IS NOT NULL
)
SELECT id FROM d;

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

-- name: WebhookDeliveryDeleteOrphan :execrows
-- Deletes delivery id if its endpoint is gone: one made while the endpoint was being deleted, after the deletion's
-- trigger ran (webhook_endpoints_deleted), which nothing else would attempt, list or delete before the prune.
DELETE FROM webhook_deliveries d
WHERE d.id = @id AND NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id);

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
-- The deliveries waiting for an attempt and those given up on, each counted through its partial index, so that a
-- scrape never reads the whole log (30 days of every delivery). Successes are junction_webhook_attempts_total's.
SELECT 'pending'::text AS status, count(*) AS deliveries FROM webhook_deliveries WHERE status = 'pending'
UNION ALL
SELECT 'failed'::text, count(*) FROM webhook_deliveries WHERE status = 'failed';

-- name: MetricsWebhookEndpointsDisabled :many
SELECT disabled_reason::text AS reason, count(*) AS endpoints FROM webhook_endpoints
WHERE NOT enabled AND disabled_reason IS NOT NULL GROUP BY disabled_reason;
