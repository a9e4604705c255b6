-- +goose Up
-- A delivery no longer checks its endpoint with a foreign key. Making one locked the endpoint's row (FOR KEY
-- SHARE), and the fan-outs of different events to one busy endpoint, at once, all lock the same row, which
-- PostgreSQL records as a new multixact each time: a fifth of the cost of recording a fan-out's deliveries, with
-- eight at once. What the key did besides, deleting an endpoint's deliveries with it (and so a user's, with their
-- endpoints), a trigger does, once per statement. A delivery made while its endpoint is being deleted can outlive
-- it: nobody can list it (its endpoint is gone), an attempt finds no target and ends, and the prune deletes it
-- with its event.
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_endpoint_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION webhook_endpoints_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM webhook_deliveries d USING gone g WHERE d.endpoint_id = g.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER webhook_endpoints_deleted AFTER DELETE ON webhook_endpoints
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION webhook_endpoints_deleted();

-- +goose Down
DROP TRIGGER webhook_endpoints_deleted ON webhook_endpoints;
DROP FUNCTION webhook_endpoints_deleted();
DELETE FROM webhook_deliveries d WHERE NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey
    FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE;
