-- +goose Up
-- A password reset ends every session: tokens issued before password_changed_at are refused. Tokens carry their
-- issue time in whole seconds, so one issued in the very second of the change still passes.
ALTER TABLE users ADD COLUMN password_changed_at timestamptz;
-- Every instance's authentication cache hears of the change at once, as of a deletion (migrations/00006).
CREATE TRIGGER users_password_changed_notify AFTER UPDATE OF password_changed_at ON users
    FOR EACH ROW WHEN (OLD.password_changed_at IS DISTINCT FROM NEW.password_changed_at)
    EXECUTE FUNCTION junction_notify_user_change();

-- +goose Down
DROP TRIGGER users_password_changed_notify ON users;
ALTER TABLE users DROP COLUMN password_changed_at;
