-- name: SentEmailCreate :exec
INSERT INTO sent_emails (job_id, message_id, type, to_address, subject, text_body, html_body)
VALUES (@job_id, @message_id, @type, @to_address, @subject, @text_body, @html_body);

-- name: SentEmailListByRecipient :many
SELECT * FROM sent_emails WHERE lower(to_address) = lower(@to_address) ORDER BY created_at DESC, id DESC LIMIT 50;
