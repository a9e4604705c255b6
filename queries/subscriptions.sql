-- name: SubscriptionUpsert :one
-- As PaymentUpsert: an older event, or the same one again, changes nothing and returns no row.
INSERT INTO subscriptions (stripe_id, user_id, customer, status, price, current_period_end, event_created_at, last_event_id)
VALUES (@stripe_id, @user_id, @customer, @status, @price, @current_period_end, @event_created_at, @last_event_id)
ON CONFLICT (stripe_id) DO UPDATE
SET user_id = coalesce(EXCLUDED.user_id, subscriptions.user_id),
    customer = coalesce(EXCLUDED.customer, subscriptions.customer),
    status = EXCLUDED.status,
    price = coalesce(EXCLUDED.price, subscriptions.price),
    current_period_end = coalesce(EXCLUDED.current_period_end, subscriptions.current_period_end),
    event_created_at = EXCLUDED.event_created_at,
    last_event_id = EXCLUDED.last_event_id,
    updated_at = now()
WHERE EXCLUDED.event_created_at > subscriptions.event_created_at
   OR (EXCLUDED.event_created_at = subscriptions.event_created_at AND EXCLUDED.last_event_id <> subscriptions.last_event_id)
RETURNING *;

-- name: SubscriptionGet :one
SELECT * FROM subscriptions WHERE stripe_id = @stripe_id;
