-- +goose Up
-- A recovery claims the failed deliveries it sends once more (recovery_id), until each attempt is recorded: two
-- recoveries of one endpoint, even at once, never send one delivery twice.
ALTER TABLE webhook_deliveries ADD COLUMN recovery_id uuid;
CREATE INDEX webhook_deliveries_recovery ON webhook_deliveries (recovery_id, event_at, id) WHERE recovery_id IS NOT NULL;

-- The outbox reads an owner's endpoints and the admins' apart, both by owner: admins are few. No query looks
-- endpoints up by event type alone any more, which would grow with everyone's endpoints.
CREATE INDEX users_admins ON users (id) WHERE role = 'admin';
DROP INDEX webhook_endpoints_types;

-- +goose Down
CREATE INDEX webhook_endpoints_types ON webhook_endpoints USING gin (event_types) WHERE enabled;
DROP INDEX users_admins;
DROP INDEX webhook_deliveries_recovery;
ALTER TABLE webhook_deliveries DROP COLUMN recovery_id;
