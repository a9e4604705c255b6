-- +goose Up
-- Every instance caches who a bearer token's user is (their role, that they exist) for a few seconds. Whatever
-- deletes a user or changes a role, the API, `junction grant-admin` or an operator's SQL, tells every instance's
-- listener on commit, so that a cached entry goes at once.
-- +goose StatementBegin
CREATE FUNCTION junction_notify_user_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('junction_users', OLD.id::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER users_deleted_notify AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION junction_notify_user_change();
CREATE TRIGGER users_role_changed_notify AFTER UPDATE OF role ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role) EXECUTE FUNCTION junction_notify_user_change();

-- +goose Down
DROP TRIGGER users_role_changed_notify ON users;
DROP TRIGGER users_deleted_notify ON users;
DROP FUNCTION junction_notify_user_change();
