-- +goose Up
-- The outbox of outgoing webhooks (issue 16). A write that causes an event inserts its message (the exact body
-- every attempt sends) and a fan-out job in its own transaction; the fan-out makes one delivery per endpoint that
-- takes it, and each delivery's attempts are kept for its owner to read.
CREATE TABLE webhook_messages (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type       text NOT NULL,
    -- whose the resource is: the post's author (for a comment, the post's), the user, the payer; NULL for nobody's.
    owner_id   uuid,
    -- a draft's event goes to its author's endpoints only, never to an admin's.
    private    boolean NOT NULL DEFAULT false,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_messages_created_at ON webhook_messages (created_at);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id      uuid NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type      text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    -- when the message was made, copied so that an endpoint's log and its recovery read in event order from here.
    event_at        timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, event_at DESC, id DESC);
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (endpoint_id, event_at, id) WHERE status = 'failed';

CREATE TABLE webhook_delivery_attempts (
    delivery_id     uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt         integer NOT NULL CHECK (attempt >= 1),
    attempted_at    timestamptz NOT NULL,
    status_code     integer,
    error           text,
    duration_ms     integer NOT NULL CHECK (duration_ms >= 0),
    response        text NOT NULL DEFAULT '' CHECK (octet_length(response) <= 4096),
    next_attempt_at timestamptz,
    PRIMARY KEY (delivery_id, attempt)
);

-- failing_since is when an endpoint's deliveries began to fail without a success since: five days of that
-- disable it.
ALTER TABLE webhook_endpoints ADD COLUMN failing_since timestamptz;

-- +goose Down
ALTER TABLE webhook_endpoints DROP COLUMN failing_since;
DROP TABLE webhook_delivery_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_messages;
