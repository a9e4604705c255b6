-- +goose NO TRANSACTION
-- +goose Up
-- The public fields of a user by id, in the index itself, so that the comments-with-authors statement
-- (CommentListByPostsWithAuthors, the nested GraphQL query's costliest) finds each comment's author by an
-- index-only scan instead of an index look-up and a heap page each: 286 of its ~1,640 buffer accesses for the
-- bench's query, about 12% of PostgreSQL's CPU a request (docs/performance.md, "The nested GraphQL query"). The
-- password hash stays out. Built CONCURRENTLY, so that sign-ups and profile writes go on while it is built; a
-- build that failed left an invalid index, which the DROP removes when the migration runs again.
DROP INDEX CONCURRENTLY IF EXISTS users_public_by_id_idx;
CREATE INDEX CONCURRENTLY users_public_by_id_idx ON users (id) INCLUDE (name, email, created_at, updated_at, version);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS users_public_by_id_idx;
