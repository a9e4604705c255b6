-- +goose Up
-- Every user, post and comment carries a version that the database raises on each change of its row: the REST
-- API's strong ETag (impl/etag), and what a conditional write (If-Match) compares in its own UPDATE or DELETE
-- statement, so that two writers holding the same version cannot both win. A trigger keeps it, rather than each
-- statement, so that no UPDATE written later can forget it. Existing rows start at 1 (a constant default, which
-- PostgreSQL adds without rewriting the table).
ALTER TABLE users ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE posts ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE comments ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- +goose StatementBegin
CREATE FUNCTION bump_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Whatever the statement set, the stored version only moves forward, by one per change.
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER users_bump_version BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION bump_row_version();
CREATE TRIGGER posts_bump_version BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION bump_row_version();
CREATE TRIGGER comments_bump_version BEFORE UPDATE ON comments FOR EACH ROW EXECUTE FUNCTION bump_row_version();

-- +goose Down
DROP TRIGGER comments_bump_version ON comments;
DROP TRIGGER posts_bump_version ON posts;
DROP TRIGGER users_bump_version ON users;
DROP FUNCTION bump_row_version();
ALTER TABLE comments DROP COLUMN version;
ALTER TABLE posts DROP COLUMN version;
ALTER TABLE users DROP COLUMN version;
