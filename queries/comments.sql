-- Queries on comments. Each list is scoped by an indexed key (the post, or the author), so the few rows it selects
-- are ordered with a whitelisted CASE rather than one query per direction.

-- name: CommentCreate :one
INSERT INTO comments (post_id, author_id, content)
VALUES (@post_id, @author_id, @content)
RETURNING *;

-- name: CommentGetWithPost :one
-- The comment with what deciding a delete needs: the post's author and whether it is published.
SELECT c.*, p.author_id AS post_author_id, p.published AS post_published
FROM comments c JOIN posts p ON p.id = c.post_id
WHERE c.id = @id;

-- name: CommentDelete :one
-- if_match, unless NULL, holds the versions the caller accepts (If-Match), and if_none_match, unless NULL, those
-- it refuses (If-None-Match): no row is deleted unless the comment has one of the first and none of the second.
DELETE FROM comments
WHERE id = @id AND (sqlc.narg(if_match)::bigint[] IS NULL OR version = ANY(sqlc.narg(if_match)::bigint[]))
  AND (sqlc.narg(if_none_match)::bigint[] IS NULL OR version <> ALL(sqlc.narg(if_none_match)::bigint[]))
RETURNING *;

-- name: CommentCountByPost :one
SELECT count(*) FROM comments WHERE post_id = @post_id;

-- name: CommentListByPost :many
SELECT * FROM comments
WHERE post_id = @post_id
ORDER BY CASE WHEN @descending::boolean THEN created_at END DESC,
         CASE WHEN @descending::boolean THEN id END DESC,
         created_at ASC, id ASC
LIMIT @row_limit OFFSET @row_offset;

-- name: CommentCountByAuthor :one
-- Comments by an author on posts visible to viewer.
SELECT count(*) FROM comments c JOIN posts p ON p.id = c.post_id
WHERE c.author_id = @author_id AND (p.published OR p.author_id = sqlc.narg(viewer)::uuid);

-- name: CommentListByAuthor :many
SELECT c.* FROM comments c JOIN posts p ON p.id = c.post_id
WHERE c.author_id = @author_id AND (p.published OR p.author_id = sqlc.narg(viewer)::uuid)
ORDER BY CASE WHEN @descending::boolean THEN c.created_at END DESC,
         CASE WHEN @descending::boolean THEN c.id END DESC,
         c.created_at ASC, c.id ASC
LIMIT @row_limit OFFSET @row_offset;

-- name: CommentListByPosts :many
-- Each post's first comments, at most per_post each, in one statement, for dataloaders.
SELECT c.* FROM unnest(@post_ids::uuid[]) AS x(id)
CROSS JOIN LATERAL (
    SELECT * FROM comments WHERE comments.post_id = x.id ORDER BY comments.created_at, comments.id LIMIT @per_post
) c;

-- name: CommentGetByID :one
SELECT * FROM comments WHERE id = @id;

-- name: CommentListByPostsWithAuthors :many
-- As CommentListByPosts, each comment with its author's public fields (never the password hash), for a GraphQL
-- selection that asks for the authors: one statement instead of two.
SELECT c.id, c.post_id, c.author_id, c.content, c.created_at, c.version,
       c.author_name, c.author_email, c.author_created_at, c.author_updated_at, c.author_version
FROM unnest(@post_ids::uuid[]) AS x(id)
CROSS JOIN LATERAL (
    SELECT comments.*, u.name AS author_name, u.email AS author_email, u.created_at AS author_created_at,
           u.updated_at AS author_updated_at, u.version AS author_version
    FROM comments JOIN users u ON u.id = comments.author_id
    WHERE comments.post_id = x.id ORDER BY comments.created_at, comments.id LIMIT @per_post
) c;
