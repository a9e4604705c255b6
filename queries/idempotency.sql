-- name: IdempotencyKeyGet :one
-- The stored answer of a key (id: the digest of its identity), unless it has expired.
SELECT fingerprint, status, headers, body FROM idempotency_keys
WHERE id = @id AND expires_at > now();

-- name: IdempotencyKeyStore :exec
-- Stores a key's answer: a plain INSERT, the cheapest write there is. The caller holds the key's lock; a key that
-- holds an answer all the same (one stored before this request took the lock, or an expired one the prune job has
-- not deleted yet) fails it (unique violation, 23505), and so the transaction, which the unit sends COMMIT in the
-- same batch after: it is then rolled back, and the stored answer replayed, or the expired one deleted
-- (IdempotencyKeyDeleteExpired) and the request run again.
INSERT INTO idempotency_keys (id, fingerprint, status, headers, body, expires_at)
VALUES (@id, @fingerprint, @status, @headers, @body, @expires_at);

-- name: IdempotencyKeyDeleteExpired :execrows
-- Deletes a key's answer if it has expired.
DELETE FROM idempotency_keys WHERE id = @id AND expires_at <= now();

-- name: IdempotencyKeysPrune :execrows
-- Deletes a batch of expired keys.
DELETE FROM idempotency_keys
WHERE id IN (SELECT id FROM idempotency_keys WHERE expires_at <= now() LIMIT @row_limit::int);
