-- Queries on users. Reads return whole rows; the service layer drops password_hash before anything leaves it.

-- name: UserCreate :one
INSERT INTO users (name, email, password_hash)
VALUES (@name, @email, @password_hash)
RETURNING *;

-- name: UserGetByID :one
SELECT * FROM users WHERE id = @id;

-- name: UserUpdate :one
-- Changes name, email and password; a NULL argument keeps the stored value, so PUT and PATCH share it. A new
-- password ends every session (password_changed_at). The row changes only while it still holds the email and hash
-- that the service read and checked the current password against (no row otherwise), so that a concurrent change
-- cannot slip between that check and this write. if_match, unless NULL, holds the versions the caller accepts
-- (If-Match), and if_none_match, unless NULL, those it refuses (If-None-Match): the row changes only while it has
-- one of the first and none of the second.
UPDATE users
SET name = coalesce(sqlc.narg(name), name),
    email = coalesce(sqlc.narg(email), email),
    password_hash = coalesce(sqlc.narg(password_hash), password_hash),
    password_changed_at = CASE WHEN sqlc.narg(password_hash)::text IS NULL THEN password_changed_at ELSE now() END,
    updated_at = now()
WHERE id = @id AND email = @seen_email AND password_hash = @seen_password_hash
  AND (sqlc.narg(if_match)::bigint[] IS NULL OR version = ANY(sqlc.narg(if_match)::bigint[]))
  AND (sqlc.narg(if_none_match)::bigint[] IS NULL OR version <> ALL(sqlc.narg(if_none_match)::bigint[]))
RETURNING *;

-- name: UserDelete :one
-- if_match and if_none_match as in UserUpdate: no row is deleted unless the user's version meets them.
DELETE FROM users
WHERE id = @id AND (sqlc.narg(if_match)::bigint[] IS NULL OR version = ANY(sqlc.narg(if_match)::bigint[]))
  AND (sqlc.narg(if_none_match)::bigint[] IS NULL OR version <> ALL(sqlc.narg(if_none_match)::bigint[]))
RETURNING *;

-- name: UserCount :one
-- pattern is a LIKE pattern with wildcards escaped, or NULL for every user; search holds the lower-cased name and
-- email (migrations/00007), so lower(pattern) matches either regardless of case.
SELECT count(*) FROM users
WHERE sqlc.narg(pattern)::text IS NULL OR search LIKE lower(sqlc.narg(pattern));

-- The list is one static query per (sort, order) pair, chosen from a whitelist in the service, so that each one
-- walks its own index (a CASE in ORDER BY would sort the whole table) and nothing is built from strings.

-- name: UserListByCreatedAtAsc :many
SELECT * FROM users
WHERE sqlc.narg(pattern)::text IS NULL OR search LIKE lower(sqlc.narg(pattern))
ORDER BY created_at ASC, id ASC LIMIT @row_limit OFFSET @row_offset;

-- name: UserListByCreatedAtDesc :many
SELECT * FROM users
WHERE sqlc.narg(pattern)::text IS NULL OR search LIKE lower(sqlc.narg(pattern))
ORDER BY created_at DESC, id DESC LIMIT @row_limit OFFSET @row_offset;

-- name: UserListByNameAsc :many
SELECT * FROM users
WHERE sqlc.narg(pattern)::text IS NULL OR search LIKE lower(sqlc.narg(pattern))
ORDER BY name ASC, id ASC LIMIT @row_limit OFFSET @row_offset;

-- name: UserListByNameDesc :many
SELECT * FROM users
WHERE sqlc.narg(pattern)::text IS NULL OR search LIKE lower(sqlc.narg(pattern))
ORDER BY name DESC, id DESC LIMIT @row_limit OFFSET @row_offset;

-- name: UserListByEmailAsc :many
SELECT * FROM users
WHERE sqlc.narg(pattern)::text IS NULL OR search LIKE lower(sqlc.narg(pattern))
ORDER BY lower(email) ASC LIMIT @row_limit OFFSET @row_offset;

-- name: UserListByEmailDesc :many
SELECT * FROM users
WHERE sqlc.narg(pattern)::text IS NULL OR search LIKE lower(sqlc.narg(pattern))
ORDER BY lower(email) DESC LIMIT @row_limit OFFSET @row_offset;

-- Pages of the users matching pattern (never NULL) when they are few (the service knows from the term's cached
-- total), one static query per (sort, order) pair as above: all the matches are read through the trigram index and
-- sorted, which costs what they number, whereas walking a sort index costs what the table holds for a rare term.
-- Each runs as a named statement whose generic plan PostgreSQL caches, so it is never planned again, which for a
-- rare term cost more than the work itself. For that the planner must price every run alike: the pattern and the
-- bounds reach it only as sub-selects it cannot look into, so each custom plan costs what the generic one does, and
-- PostgreSQL keeps the generic plan after its five trial runs. MATERIALIZED keeps the matches apart from the ORDER
-- BY, so that no plan can walk a sort index instead. Only the columns a listed user shows are read: a page of 20
-- decodes 80 fields fewer, the hashes among them.

-- name: UserSearchFewByCreatedAtAsc :many
WITH matches AS MATERIALIZED (
    SELECT id, name, email, created_at, updated_at, version FROM users WHERE search LIKE (SELECT lower(@pattern::text))
)
SELECT * FROM matches ORDER BY created_at ASC, id ASC LIMIT (SELECT @row_limit::int) OFFSET (SELECT @row_offset::int);

-- name: UserSearchFewByCreatedAtDesc :many
WITH matches AS MATERIALIZED (
    SELECT id, name, email, created_at, updated_at, version FROM users WHERE search LIKE (SELECT lower(@pattern::text))
)
SELECT * FROM matches ORDER BY created_at DESC, id DESC LIMIT (SELECT @row_limit::int) OFFSET (SELECT @row_offset::int);

-- name: UserSearchFewByNameAsc :many
WITH matches AS MATERIALIZED (
    SELECT id, name, email, created_at, updated_at, version FROM users WHERE search LIKE (SELECT lower(@pattern::text))
)
SELECT * FROM matches ORDER BY name ASC, id ASC LIMIT (SELECT @row_limit::int) OFFSET (SELECT @row_offset::int);

-- name: UserSearchFewByNameDesc :many
WITH matches AS MATERIALIZED (
    SELECT id, name, email, created_at, updated_at, version FROM users WHERE search LIKE (SELECT lower(@pattern::text))
)
SELECT * FROM matches ORDER BY name DESC, id DESC LIMIT (SELECT @row_limit::int) OFFSET (SELECT @row_offset::int);

-- name: UserSearchFewByEmailAsc :many
WITH matches AS MATERIALIZED (
    SELECT id, name, email, created_at, updated_at, version FROM users WHERE search LIKE (SELECT lower(@pattern::text))
)
SELECT * FROM matches ORDER BY lower(email) ASC LIMIT (SELECT @row_limit::int) OFFSET (SELECT @row_offset::int);

-- name: UserSearchFewByEmailDesc :many
WITH matches AS MATERIALIZED (
    SELECT id, name, email, created_at, updated_at, version FROM users WHERE search LIKE (SELECT lower(@pattern::text))
)
SELECT * FROM matches ORDER BY lower(email) DESC LIMIT (SELECT @row_limit::int) OFFSET (SELECT @row_offset::int);

-- name: UserGetByEmail :one
SELECT * FROM users WHERE lower(email) = lower(@email);

-- name: UserExists :one
SELECT EXISTS (SELECT 1 FROM users WHERE id = @id);

-- name: UserListByIDs :many
-- A batch lookup in one statement; unknown ids are simply absent.
SELECT * FROM users WHERE id = ANY(@ids::uuid[]) ORDER BY created_at DESC, id DESC;

-- name: UserGetWithPosts :one
-- The user and its newest posts visible to viewer (NULL for anonymous) in one statement: a LEFT JOIN on a bounded
-- lateral subquery, aggregated with json_agg. posts is a JSON array of posts rows.
SELECT u.id, u.name, u.email, u.created_at, u.updated_at, u.version,
       coalesce(json_agg(p ORDER BY p.created_at DESC, p.id DESC) FILTER (WHERE p.id IS NOT NULL), '[]')::json AS posts
FROM users u
LEFT JOIN LATERAL (
    SELECT * FROM posts
    WHERE posts.author_id = u.id AND (posts.published OR posts.author_id = sqlc.narg(viewer)::uuid)
    ORDER BY posts.created_at DESC, posts.id DESC
    LIMIT @max_posts
) p ON true
WHERE u.id = @id
GROUP BY u.id;

-- name: UserSetPassword :exec
-- Also ends every session: tokens issued before password_changed_at are refused.
UPDATE users SET password_hash = @password_hash, password_changed_at = now(), updated_at = now() WHERE id = @id;

-- name: UserSetRoleByEmail :execrows
UPDATE users SET role = @role, updated_at = now() WHERE lower(email) = lower(@email);

-- name: UserGetAuth :one
-- What authenticating a token needs to know of its user: that they exist, their role, and since when their
-- earlier tokens are void.
SELECT role, password_changed_at FROM users WHERE id = @id;

-- Keyset pages for Relay cursors, newest first: forward walks to older users after a cursor, backward to newer
-- ones before it (ascending; the caller reverses). A NULL cursor starts at the newest (or oldest) end.

-- name: UserKeysetForward :many
SELECT * FROM users
WHERE (sqlc.narg(pattern)::text IS NULL OR search LIKE lower(sqlc.narg(pattern)))
  AND (sqlc.narg(cursor_time)::timestamptz IS NULL OR (created_at, id) < (sqlc.narg(cursor_time), sqlc.narg(cursor_id)::uuid))
ORDER BY created_at DESC, id DESC LIMIT @row_limit;

-- name: UserKeysetBackward :many
SELECT * FROM users
WHERE (sqlc.narg(pattern)::text IS NULL OR search LIKE lower(sqlc.narg(pattern)))
  AND (sqlc.narg(cursor_time)::timestamptz IS NULL OR (created_at, id) > (sqlc.narg(cursor_time), sqlc.narg(cursor_id)::uuid))
ORDER BY created_at ASC, id ASC LIMIT @row_limit;
