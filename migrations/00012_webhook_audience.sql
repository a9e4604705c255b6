-- +goose Up
-- Who hears of an event, in one place: the enabled endpoints that take its type, of its owner ($1), and of every
-- admin unless it is private ($3, a draft's). The outbox asks whether anyone does (in the write's transaction)
-- and the fan-out asks who. Each set is found by its own index (endpoints by owner; admins are few), so that
-- neither grows with everyone else's endpoints. A single SQL statement, so PostgreSQL inlines it into the query
-- that calls it and plans the whole.
-- +goose StatementBegin
CREATE FUNCTION webhook_audience(owner_id uuid, event_type text, private boolean) RETURNS TABLE (endpoint_id uuid)
LANGUAGE sql STABLE AS $$
    SELECT o.id FROM webhook_endpoints o
    WHERE o.owner_id = $1 AND o.enabled AND o.event_types @> ARRAY[$2]
    UNION
    SELECT a.id FROM users u JOIN webhook_endpoints a ON a.owner_id = u.id
    WHERE NOT $3 AND u.role = 'admin' AND a.enabled AND a.event_types @> ARRAY[$2]
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION webhook_audience(uuid, text, boolean);
