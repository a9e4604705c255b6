-- +goose Up
-- Every verified delivery, stored once per provider event id; processing is a River job.
CREATE TABLE webhook_events (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    provider         text        NOT NULL,
    event_id         text        NOT NULL,
    type             text        NOT NULL,
    payload          jsonb       NOT NULL,
    event_created_at timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    status           text        NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'ignored', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text,
    processed_at     timestamptz,
    UNIQUE (provider, event_id)
);
-- The admin list: newest first, optionally by status or type.
CREATE INDEX webhook_events_received_at_idx ON webhook_events (received_at, id);
CREATE INDEX webhook_events_status_received_at_idx ON webhook_events (status, received_at, id);
CREATE INDEX webhook_events_type_received_at_idx ON webhook_events (type, received_at, id);

-- Payment intents and subscriptions as Stripe last told us. event_created_at and last_event_id are the event that
-- set the row: an older event never overwrites a newer one.
CREATE TABLE payments (
    stripe_id        text        PRIMARY KEY,
    user_id          uuid        REFERENCES users (id) ON DELETE SET NULL,
    customer         text,
    amount           bigint      NOT NULL,
    currency         text        NOT NULL,
    status           text        NOT NULL,
    event_created_at timestamptz NOT NULL,
    last_event_id    text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_user_id_idx ON payments (user_id);

CREATE TABLE subscriptions (
    stripe_id          text        PRIMARY KEY,
    user_id            uuid        REFERENCES users (id) ON DELETE SET NULL,
    customer           text,
    status             text        NOT NULL,
    price              text,
    current_period_end timestamptz,
    event_created_at   timestamptz NOT NULL,
    last_event_id      text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_user_id_idx ON subscriptions (user_id);

-- +goose Down
DROP TABLE subscriptions;
DROP TABLE payments;
DROP TABLE webhook_events;
