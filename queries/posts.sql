-- Queries on posts. A post is visible to everyone once published, and to its author always; viewer is the caller's
-- user id, NULL for anonymous callers.

-- name: PostCreate :one
INSERT INTO posts (author_id, title, content, published, published_at)
VALUES (@author_id, @title, @content, @published, CASE WHEN @published::boolean THEN now() END)
RETURNING *;

-- name: PostGetByID :one
SELECT * FROM posts WHERE id = @id;

-- name: PostGetForUpdate :one
SELECT * FROM posts WHERE id = @id FOR UPDATE;

-- name: PostGetForKeyShare :one
-- Holds off a concurrent delete (as a foreign key check would) without blocking other readers and commenters.
SELECT * FROM posts WHERE id = @id FOR KEY SHARE;

-- name: PostUpdate :one
-- A NULL argument keeps the stored value. if_match, unless NULL, holds the versions the caller accepts (If-Match),
-- and if_none_match, unless NULL, those it refuses (If-None-Match): the row changes only while it has one of the
-- first and none of the second, and otherwise there is no row.
UPDATE posts
SET title = coalesce(sqlc.narg(title), title),
    content = coalesce(sqlc.narg(content), content),
    updated_at = now()
WHERE id = @id AND (sqlc.narg(if_match)::bigint[] IS NULL OR version = ANY(sqlc.narg(if_match)::bigint[]))
  AND (sqlc.narg(if_none_match)::bigint[] IS NULL OR version <> ALL(sqlc.narg(if_none_match)::bigint[]))
RETURNING *;

-- name: PostPublish :one
-- Idempotent: published_at is set the first time only.
UPDATE posts
SET published = true,
    published_at = coalesce(published_at, now()),
    updated_at = CASE WHEN published THEN updated_at ELSE now() END
WHERE id = @id
RETURNING *;

-- name: PostDelete :execrows
-- if_match and if_none_match as in PostUpdate: no row is deleted unless the post's version meets them.
DELETE FROM posts
WHERE id = @id AND (sqlc.narg(if_match)::bigint[] IS NULL OR version = ANY(sqlc.narg(if_match)::bigint[]))
  AND (sqlc.narg(if_none_match)::bigint[] IS NULL OR version <> ALL(sqlc.narg(if_none_match)::bigint[]));

-- name: PostCount :one
SELECT count(*) FROM posts
WHERE (published OR author_id = sqlc.narg(viewer)::uuid)
  AND (sqlc.narg(published)::boolean IS NULL OR published = sqlc.narg(published))
  AND (sqlc.narg(author_id)::uuid IS NULL OR author_id = sqlc.narg(author_id))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern));

-- One static query per (sort, order) pair, chosen from a whitelist in the service, so that each walks its own
-- index; the filters are those of PostCount.

-- name: PostListByCreatedAtAsc :many
SELECT * FROM posts
WHERE (published OR author_id = sqlc.narg(viewer)::uuid)
  AND (sqlc.narg(published)::boolean IS NULL OR published = sqlc.narg(published))
  AND (sqlc.narg(author_id)::uuid IS NULL OR author_id = sqlc.narg(author_id))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern))
ORDER BY created_at ASC, id ASC LIMIT @row_limit OFFSET @row_offset;

-- name: PostListByCreatedAtDesc :many
SELECT * FROM posts
WHERE (published OR author_id = sqlc.narg(viewer)::uuid)
  AND (sqlc.narg(published)::boolean IS NULL OR published = sqlc.narg(published))
  AND (sqlc.narg(author_id)::uuid IS NULL OR author_id = sqlc.narg(author_id))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern))
ORDER BY created_at DESC, id DESC LIMIT @row_limit OFFSET @row_offset;

-- name: PostListByTitleAsc :many
SELECT * FROM posts
WHERE (published OR author_id = sqlc.narg(viewer)::uuid)
  AND (sqlc.narg(published)::boolean IS NULL OR published = sqlc.narg(published))
  AND (sqlc.narg(author_id)::uuid IS NULL OR author_id = sqlc.narg(author_id))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern))
ORDER BY title ASC, id ASC LIMIT @row_limit OFFSET @row_offset;

-- name: PostListByTitleDesc :many
SELECT * FROM posts
WHERE (published OR author_id = sqlc.narg(viewer)::uuid)
  AND (sqlc.narg(published)::boolean IS NULL OR published = sqlc.narg(published))
  AND (sqlc.narg(author_id)::uuid IS NULL OR author_id = sqlc.narg(author_id))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern))
ORDER BY title DESC, id DESC LIMIT @row_limit OFFSET @row_offset;

-- name: PostKeysetForward :many
-- Keyset pages for Relay cursors, as UserKeysetForward, with the visibility rule and the published filter.
SELECT * FROM posts
WHERE (published OR author_id = sqlc.narg(viewer)::uuid)
  AND (sqlc.narg(published)::boolean IS NULL OR published = sqlc.narg(published))
  AND (sqlc.narg(cursor_time)::timestamptz IS NULL OR (created_at, id) < (sqlc.narg(cursor_time), sqlc.narg(cursor_id)::uuid))
ORDER BY created_at DESC, id DESC LIMIT @row_limit;

-- name: PostKeysetBackward :many
SELECT * FROM posts
WHERE (published OR author_id = sqlc.narg(viewer)::uuid)
  AND (sqlc.narg(published)::boolean IS NULL OR published = sqlc.narg(published))
  AND (sqlc.narg(cursor_time)::timestamptz IS NULL OR (created_at, id) > (sqlc.narg(cursor_time), sqlc.narg(cursor_id)::uuid))
ORDER BY created_at ASC, id ASC LIMIT @row_limit;

-- name: PostListByIDs :many
-- A batch of posts visible to viewer, for dataloaders.
SELECT * FROM posts WHERE id = ANY(@ids::uuid[]) AND (published OR author_id = sqlc.narg(viewer)::uuid);

-- name: PostListByAuthors :many
-- Each author's newest posts visible to viewer, at most per_author each, in one statement, for dataloaders.
SELECT p.* FROM unnest(@author_ids::uuid[]) AS a(id)
CROSS JOIN LATERAL (
    SELECT * FROM posts
    WHERE posts.author_id = a.id AND (posts.published OR posts.author_id = sqlc.narg(viewer)::uuid)
    ORDER BY posts.created_at DESC, posts.id DESC
    LIMIT @per_author
) p;

-- name: EventNotify :exec
-- Sends an event to every instance's listener when the transaction commits, and never if it rolls back.
SELECT pg_notify('junction_events', @payload::text);
