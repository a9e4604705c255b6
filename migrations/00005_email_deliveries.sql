-- +goose Up
-- One row per email job whose message the mail server accepted. A job that runs again after a crash (River
-- rescues it, or its completion was not yet written) finds its row and does not send a second time. The row lives
-- as long as its job: River's cleaner deletes old jobs and the rows go with them.
CREATE TABLE email_deliveries (
    job_id     bigint      PRIMARY KEY REFERENCES river_job (id) ON DELETE CASCADE,
    message_id text        NOT NULL,
    sent_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE email_deliveries;
