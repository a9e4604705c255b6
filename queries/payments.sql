-- name: PaymentUpsert :one
-- Applies an event to a payment unless the row was set by a newer event (by the event's created time) or by this
-- very event (a replay). No row comes back when nothing changed.
INSERT INTO payments (stripe_id, user_id, customer, amount, currency, status, event_created_at, last_event_id)
VALUES (@stripe_id, @user_id, @customer, @amount, @currency, @status, @event_created_at, @last_event_id)
ON CONFLICT (stripe_id) DO UPDATE
SET user_id = coalesce(EXCLUDED.user_id, payments.user_id),
    customer = coalesce(EXCLUDED.customer, payments.customer),
    amount = EXCLUDED.amount,
    currency = EXCLUDED.currency,
    status = EXCLUDED.status,
    event_created_at = EXCLUDED.event_created_at,
    last_event_id = EXCLUDED.last_event_id,
    updated_at = now()
WHERE EXCLUDED.event_created_at > payments.event_created_at
   OR (EXCLUDED.event_created_at = payments.event_created_at AND EXCLUDED.last_event_id <> payments.last_event_id)
RETURNING *;

-- name: PaymentGet :one
SELECT * FROM payments WHERE stripe_id = @stripe_id;
