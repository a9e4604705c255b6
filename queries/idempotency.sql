-- name: IdempotencyKeyGet :one
-- The stored answer of a key (id: the digest of its identity), unless it has expired.
SELECT fingerprint, status, headers, body FROM idempotency_keys
WHERE id = @id AND expires_at > now();

-- name: IdempotencyKeyStore :exec
-- Stores a key's answer, replacing an expired one. The caller holds the key's lock; a key that holds a live
-- answer all the same (a request that stored it before this one took the lock) fails the statement (division by
-- zero, 22012), and so the transaction, which the unit sends COMMIT in the same batch after: it is then rolled
-- back, and the stored answer replayed.
WITH s AS (
    INSERT INTO idempotency_keys (id, fingerprint, status, headers, body, expires_at)
    VALUES (@id, @fingerprint, @status, @headers, @body, @expires_at)
    ON CONFLICT (id) DO UPDATE
    SET fingerprint = excluded.fingerprint, status = excluded.status, headers = excluded.headers,
        body = excluded.body, created_at = now(), expires_at = excluded.expires_at
    WHERE idempotency_keys.expires_at <= now()
    RETURNING 1
)
-- (A count, not a constant 1 / 0, which PostgreSQL may fold while planning, in either case.)
SELECT 1 / (SELECT count(*) FROM s)::int;

-- name: IdempotencyKeysPrune :execrows
-- Deletes a batch of expired keys.
DELETE FROM idempotency_keys
WHERE id IN (SELECT id FROM idempotency_keys WHERE expires_at <= now() LIMIT @row_limit::int);
