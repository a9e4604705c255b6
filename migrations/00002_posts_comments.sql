-- +goose Up
CREATE TABLE posts (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Deleting a user deletes their posts (and, through posts, every comment on them).
    author_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    content      text        NOT NULL CHECK (char_length(content) BETWEEN 1 AND 50000),
    published    boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    CHECK (published = (published_at IS NOT NULL))
);

-- Every list order, with id to break ties; a btree serves both directions.
CREATE INDEX posts_created_at_id_idx ON posts (created_at, id);
CREATE INDEX posts_title_id_idx ON posts (title, id);
-- Published posts by date: what anonymous readers list.
CREATE INDEX posts_published_created_at_idx ON posts (created_at, id) WHERE published;
-- A user's posts (the authorId filter, the author's drafts, include=posts, and the foreign key's cascade).
CREATE INDEX posts_author_created_at_idx ON posts (author_id, created_at, id);
CREATE INDEX posts_title_trgm_idx ON posts USING gin (title gin_trgm_ops);

CREATE TABLE comments (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id    uuid        NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    author_id  uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content    text        NOT NULL CHECK (char_length(content) BETWEEN 1 AND 5000),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX comments_post_created_at_idx ON comments (post_id, created_at, id);
CREATE INDEX comments_author_created_at_idx ON comments (author_id, created_at, id);

-- +goose Down
DROP TABLE comments;
DROP TABLE posts;
