-- +goose Up
-- A stored answer is found by one 32-byte digest of its key's identity (scope, method, route and key: see
-- service.IdempotentRequest.Identity) instead of the four text columns: every keyed write inserts into this
-- index, and a digest is a fraction of the entry to write, log and compare, whatever the database's collation.
-- The answers stored so far keep working: their digest is computed here as the service computes it.
ALTER TABLE idempotency_keys ADD COLUMN id bytea;
UPDATE idempotency_keys SET id = sha256(convert_to(scope || ' ' || method || ' ' || route || ' ' || key, 'UTF8'));
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys
    ALTER COLUMN id SET NOT NULL,
    ADD CONSTRAINT idempotency_keys_id_length CHECK (length(id) = 32),
    ADD PRIMARY KEY (id),
    DROP COLUMN scope,
    DROP COLUMN key,
    DROP COLUMN method,
    DROP COLUMN route;

-- +goose Down
-- The text columns cannot be recovered from a digest: the stored answers go (retries then run again).
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_id_length,
    DROP COLUMN id,
    ADD COLUMN scope text NOT NULL CHECK (length(scope) <= 100),
    ADD COLUMN key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    ADD COLUMN method text NOT NULL,
    ADD COLUMN route text NOT NULL,
    ADD PRIMARY KEY (scope, key, method, route);
