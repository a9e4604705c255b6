-- name: WebhookEndpointLockOwner :one
-- Serialises the creates of one owner's endpoints (in the create's transaction), so that the count the create
-- then takes, in a statement of its own and so a snapshot taken after the lock, sees every endpoint committed
-- before it: concurrent creates cannot both slip under the limit.
SELECT id FROM users WHERE id = @owner_id FOR UPDATE;

-- name: WebhookEndpointCreate :one
-- Creates an endpoint unless its owner already has max_per_owner: no row then.
INSERT INTO webhook_endpoints (owner_id, url, description, event_types, enabled, secret_sealed)
SELECT @owner_id, @url, @description, @event_types::text[], @enabled, @secret_sealed
WHERE (SELECT count(*) FROM webhook_endpoints e WHERE e.owner_id = @owner_id) < @max_per_owner::int
RETURNING *;

-- name: WebhookEndpointGetByID :one
SELECT * FROM webhook_endpoints WHERE id = @id;

-- name: WebhookEndpointListByOwner :many
SELECT * FROM webhook_endpoints
WHERE owner_id = @owner_id
ORDER BY created_at DESC, id DESC
LIMIT @row_limit OFFSET @row_offset;

-- name: WebhookEndpointCountByOwner :one
SELECT count(*) FROM webhook_endpoints WHERE owner_id = @owner_id;

-- name: WebhookEndpointUpdate :one
-- Changes the fields given; enabling an endpoint clears the reason Junction disabled it for, and its failing streak.
UPDATE webhook_endpoints
SET url             = coalesce(sqlc.narg(url), url),
    description     = coalesce(sqlc.narg(description), description),
    event_types     = coalesce(sqlc.narg(event_types)::text[], event_types),
    enabled         = coalesce(sqlc.narg(enabled), enabled),
    disabled_reason = CASE WHEN sqlc.narg(enabled)::boolean THEN NULL ELSE disabled_reason END,
    -- re-enabled, or pointed elsewhere, an endpoint's failures start counting afresh.
    failing_since   = CASE WHEN sqlc.narg(enabled)::boolean OR sqlc.narg(url)::text IS NOT NULL THEN NULL ELSE failing_since END,
    updated_at      = now()
WHERE id = @id
RETURNING *;

-- name: WebhookEndpointRotateSecret :one
-- Makes secret the signing secret; the one it replaces stays valid until previous_expires_at.
UPDATE webhook_endpoints
SET previous_secret_sealed = secret_sealed, previous_secret_expires_at = @previous_expires_at,
    secret_sealed = @secret_sealed, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: WebhookEndpointDelete :execrows
DELETE FROM webhook_endpoints WHERE id = @id;
