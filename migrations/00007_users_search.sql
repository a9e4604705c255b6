-- +goose Up
-- The user search matches a term anywhere in the name or the email, ignoring case. One stored, lower-cased column
-- with one trigram index answers it with a plain LIKE: ILIKE over two columns lower-cased every row it filtered
-- (about 3x slower when a search walks the newest users) and needed two index scans and a BitmapOr to count.
-- A newline separates the two parts: neither can contain one, so no match spans both.
ALTER TABLE users ADD COLUMN search text NOT NULL GENERATED ALWAYS AS (lower(name) || E'\n' || lower(email)) STORED;
CREATE INDEX users_search_trgm_idx ON users USING gin (search gin_trgm_ops);
DROP INDEX users_name_trgm_idx;
DROP INDEX users_email_trgm_idx;
-- Statistics for the new column now: without them the planner guesses a search term rare, and sorts thousands of
-- bitmap-scanned rows where walking the newest users would stop after a few dozen.
ANALYZE users;

-- +goose Down
CREATE INDEX users_name_trgm_idx ON users USING gin (name gin_trgm_ops);
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
DROP INDEX users_search_trgm_idx;
ALTER TABLE users DROP COLUMN search;
