-- name: EmailDeliveryExists :one
SELECT EXISTS (SELECT 1 FROM email_deliveries WHERE job_id = @job_id);

-- name: EmailDeliveryCreate :exec
INSERT INTO email_deliveries (job_id, message_id) VALUES (@job_id, @message_id)
ON CONFLICT (job_id) DO NOTHING;
