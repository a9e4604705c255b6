-- +goose Up
-- A delivery record no longer checks its job with a foreign key. The key's check cost each record a lookup of
-- its job and a lock on the job's row (FOR KEY SHARE, itself a write to the row and the WAL), which River's
-- completer then updates: together 15–20 µs of PostgreSQL's time per email, three times the insert itself
-- (docs/performance.md, email jobs). A record is made only by its job's worker while the job runs, so its job
-- exists; what the key did besides, deleting a job's record with it (River's cleaner deletes finished jobs), a
-- trigger does, once per statement.
ALTER TABLE email_deliveries DROP CONSTRAINT email_deliveries_job_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION river_job_deleted_email_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM email_deliveries d USING gone g WHERE d.job_id = g.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION river_job_truncated_email_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE email_deliveries;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER email_deliveries_of_deleted_jobs AFTER DELETE ON river_job
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION river_job_deleted_email_deliveries();
CREATE TRIGGER email_deliveries_of_truncated_jobs AFTER TRUNCATE ON river_job
    FOR EACH STATEMENT EXECUTE FUNCTION river_job_truncated_email_deliveries();

-- +goose Down
DROP TRIGGER email_deliveries_of_truncated_jobs ON river_job;
DROP TRIGGER email_deliveries_of_deleted_jobs ON river_job;
DROP FUNCTION river_job_truncated_email_deliveries();
DROP FUNCTION river_job_deleted_email_deliveries();
DELETE FROM email_deliveries d WHERE NOT EXISTS (SELECT 1 FROM river_job j WHERE j.id = d.job_id);
ALTER TABLE email_deliveries ADD CONSTRAINT email_deliveries_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES river_job (id) ON DELETE CASCADE;
