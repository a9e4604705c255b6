-- +goose Up
-- What a keyed write adds to its transaction is one plain INSERT (queries/idempotency.sql), and each part of it
-- is made cheaper here:
-- - id may lead with the 6-byte time of its key when the key is a UUIDv7 (as the SDKs make them; see
--   service.IdempotentRequest.ID): such answers go to the index's end instead of a random page of it, and the
--   first write to a page after a checkpoint logs the whole page. The answers stored so far keep their ids (a
--   digest alone), and a key that was not a UUIDv7 gets the same id as before. A UUIDv7 key stored before this
--   migration is not found by its retry after it (its id had no time then; the key itself is not kept to
--   compute it again): such a retry runs again. The SDKs made UUIDv4 keys until now.
-- - headers are the bytes the service wrote (JSON), kept as they are: jsonb parsed and re-encoded them on every
--   write, for a value only the service reads back, whole;
-- - expires_at is indexed by a BRIN index, not a btree: the rows come in the order they expire, so a range of
--   pages summarises them as well for the prune job, and an insert adds no index entry (the btree's every insert
--   went to its last page, one that every concurrent keyed write had to lock in turn).
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_id_length,
    ADD CONSTRAINT idempotency_keys_id_length CHECK (length(id) IN (32, 38));
ALTER TABLE idempotency_keys ALTER COLUMN headers DROP DEFAULT,
    ALTER COLUMN headers TYPE bytea USING convert_to(headers::text, 'UTF8'),
    ALTER COLUMN headers SET DEFAULT convert_to('{}', 'UTF8');
DROP INDEX idempotency_keys_expires_at;
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys USING brin (expires_at);

-- +goose Down
-- The answers filed under their key's time cannot be found by a digest alone: they go (retries then run again).
DELETE FROM idempotency_keys WHERE length(id) <> 32;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_id_length,
    ADD CONSTRAINT idempotency_keys_id_length CHECK (length(id) = 32);
DROP INDEX idempotency_keys_expires_at;
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
ALTER TABLE idempotency_keys ALTER COLUMN headers DROP DEFAULT,
    ALTER COLUMN headers TYPE jsonb USING convert_from(headers, 'UTF8')::jsonb,
    ALTER COLUMN headers SET DEFAULT '{}';
