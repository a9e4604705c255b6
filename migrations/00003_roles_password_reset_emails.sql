-- +goose Up
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin'));

-- Password reset tokens are stored hashed (SHA-256 of 32 random bytes): the database never holds a usable token.
CREATE TABLE password_reset_tokens (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea       NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_tokens_user_id_idx ON password_reset_tokens (user_id);

-- Emails that the log transport "sent" (no SMTP_URL): kept so the whole flow works without a mail server.
CREATE TABLE sent_emails (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id     bigint      NOT NULL,
    message_id text        NOT NULL,
    type       text        NOT NULL,
    to_address text        NOT NULL,
    subject    text        NOT NULL,
    text_body  text        NOT NULL,
    html_body  text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sent_emails_to_address_created_at_idx ON sent_emails (lower(to_address), created_at);

-- +goose Down
DROP TABLE sent_emails;
DROP TABLE password_reset_tokens;
ALTER TABLE users DROP COLUMN role;
