-- name: EmailDeliveryExists :one
SELECT EXISTS (SELECT 1 FROM email_deliveries WHERE job_id = @job_id);

-- name: EmailDeliveryCreate :exec
-- The record commits without waiting for its WAL flush (synchronous_commit off for this statement's transaction
-- only; the flush cost one disk sync per email). Should the database crash and lose it, the job's completion,
-- written after it, is lost too (WAL is written in order), so the job runs again and may send its email again:
-- the at-least-once River promises in any case.
WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
INSERT INTO email_deliveries (job_id, message_id)
SELECT @job_id::bigint, @message_id::text FROM async
ON CONFLICT (job_id) DO NOTHING;
