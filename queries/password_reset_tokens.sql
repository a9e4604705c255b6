-- name: PasswordResetTokenCreate :exec
INSERT INTO password_reset_tokens (user_id, token_hash, expires_at)
VALUES (@user_id, @token_hash, @expires_at);

-- name: PasswordResetTokenGetUsable :one
-- A token that exists, is unused and has not expired, locked so that it is used once.
SELECT * FROM password_reset_tokens
WHERE token_hash = @token_hash AND used_at IS NULL AND expires_at > now()
FOR UPDATE;

-- name: PasswordResetTokenUseAll :exec
-- Burns every open token of the user: the one used, and any older ones.
UPDATE password_reset_tokens SET used_at = now() WHERE user_id = @user_id AND used_at IS NULL;
