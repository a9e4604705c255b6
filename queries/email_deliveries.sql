-- name: EmailDeliveryExists :one
SELECT EXISTS (SELECT 1 FROM email_deliveries WHERE job_id = @job_id);

-- name: EmailDeliveryCreateMany :exec
-- The records of emails sent together, in one statement and one transaction (impl/service/emails). They commit
-- without waiting for their WAL flush (synchronous_commit off for this statement's transaction only; the flush
-- cost one disk sync per email). Should the database crash and lose them, the jobs' completions, written after
-- them, are lost too (WAL is written in order), so the jobs run again and may send their emails again: the
-- at-least-once River promises in any case. A job listed twice, or recorded already, is recorded once.
WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
INSERT INTO email_deliveries (job_id, message_id)
SELECT unnest(@job_ids::bigint[]), unnest(@message_ids::text[]) FROM async
ON CONFLICT (job_id) DO NOTHING;
