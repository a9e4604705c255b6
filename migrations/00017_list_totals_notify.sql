-- +goose Up
-- Every instance remembers list totals for a few seconds (LIST_TOTAL_CACHE_TTL, impl/service/internal/totals).
-- Whatever changes what a list counts, the API or an operator's SQL, tells every instance's listener on commit,
-- as user changes do (migrations/00006), so that each forgets that list's totals as soon as it hears: channel
-- junction_totals, the table's name as the payload. The triggers run inside the writing statement, so a write
-- costs no round trip more, and PostgreSQL sends nothing for a transaction that rolls back and one notification
-- for all the identical ones of a transaction that commits. Inserts, deletes (a user's posts deleted with them
-- included) and TRUNCATE notify once per statement; an update notifies only when it changes what a count filters
-- on: a user's name or email (the search), a post's title (the search), published or author. A password change
-- or a post's new content sends nothing.
-- +goose StatementBegin
CREATE FUNCTION junction_notify_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('junction_totals', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER users_totals_notify AFTER INSERT OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION junction_notify_totals();
CREATE TRIGGER users_totals_changed_notify AFTER UPDATE OF name, email ON users
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION junction_notify_totals();
CREATE TRIGGER posts_totals_notify AFTER INSERT OR DELETE OR TRUNCATE ON posts
    FOR EACH STATEMENT EXECUTE FUNCTION junction_notify_totals();
CREATE TRIGGER posts_totals_changed_notify AFTER UPDATE OF title, published, author_id ON posts
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.published IS DISTINCT FROM NEW.published
                       OR OLD.author_id IS DISTINCT FROM NEW.author_id)
    EXECUTE FUNCTION junction_notify_totals();

-- +goose Down
DROP TRIGGER posts_totals_changed_notify ON posts;
DROP TRIGGER posts_totals_notify ON posts;
DROP TRIGGER users_totals_changed_notify ON users;
DROP TRIGGER users_totals_notify ON users;
DROP FUNCTION junction_notify_totals();
