-- name: IdempotencyKeyGet :one
-- The stored answer of a key, unless it has expired.
SELECT fingerprint, status, headers, body FROM idempotency_keys
WHERE scope = @scope AND key = @key AND method = @method AND route = @route AND expires_at > now();

-- name: IdempotencyKeyLock :one
-- Takes the key's lock for the rest of the transaction, without waiting, and reads its unexpired answer, in one
-- round trip: locked is false while another request with the key holds the lock (it is running), and then
-- nothing is read. 64 bits of the key's hash: a collision only makes an unrelated request wait its turn (409),
-- never answers it with another's answer, which the rest of the statement matches exactly.
WITH l AS (SELECT pg_try_advisory_xact_lock(hashtextextended(@lock_key::text, 0)) AS locked)
SELECT l.locked, k.fingerprint, k.status, k.headers, k.body
FROM l LEFT JOIN idempotency_keys k
    ON l.locked AND k.scope = @scope AND k.key = @key AND k.method = @method AND k.route = @route AND k.expires_at > now();

-- name: IdempotencyKeyStore :exec
-- Stores a key's answer, replacing an expired one; the caller holds the key's lock, so no other is being written.
INSERT INTO idempotency_keys (scope, key, method, route, fingerprint, status, headers, body, expires_at)
VALUES (@scope, @key, @method, @route, @fingerprint, @status, @headers, @body, @expires_at)
ON CONFLICT (scope, key, method, route) DO UPDATE
SET fingerprint = excluded.fingerprint, status = excluded.status, headers = excluded.headers, body = excluded.body,
    created_at = now(), expires_at = excluded.expires_at;

-- name: IdempotencyKeysPrune :execrows
-- Deletes a batch of expired keys.
DELETE FROM idempotency_keys
WHERE (scope, key, method, route) IN (
    SELECT scope, key, method, route FROM idempotency_keys WHERE expires_at <= now() LIMIT @row_limit::int
);
