-- +goose Up
-- Where Junction sends its outgoing webhooks (issue 16): each endpoint belongs to a user and names the event types
-- it takes. Its signing secret (Standard Webhooks' whsec_…) is kept sealed with the server's key, so that reading
-- the table is not enough to forge deliveries; after a rotation the previous one stays valid until it expires.
CREATE TABLE webhook_endpoints (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id                  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url                       text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description               text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    event_types               text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 20),
    enabled                   boolean NOT NULL DEFAULT true,
    -- why an endpoint was disabled by Junction (gone: a 410; failing: 5 days of failures); NULL when its owner did.
    disabled_reason           text CHECK (disabled_reason IN ('gone', 'failing')),
    secret_sealed             text NOT NULL,
    previous_secret_sealed    text,
    previous_secret_expires_at timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CHECK ((previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner_id, created_at DESC, id DESC);
-- The fan-out reads the enabled endpoints that take an event's type.
CREATE INDEX webhook_endpoints_types ON webhook_endpoints USING gin (event_types) WHERE enabled;

-- +goose Down
DROP TABLE webhook_endpoints;
