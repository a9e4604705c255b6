-- +goose Up
-- The stored answers of requests made with an Idempotency-Key (impl/service/idempotency): each is written in the
-- same transaction as the request's write, so that a committed write always has its answer and a rolled-back
-- one leaves none. A key belongs to its caller (scope: a user, or an address for anonymous calls), its method
-- and its route; fingerprint is the request's (method, path, query and body), so that the key reused for
-- another request is refused. Expired rows are answered as absent, and a periodic job deletes them.
CREATE TABLE idempotency_keys (
    scope       text NOT NULL CHECK (length(scope) <= 100),
    key         text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    method      text NOT NULL,
    route       text NOT NULL,
    fingerprint bytea NOT NULL,
    status      integer NOT NULL CHECK (status BETWEEN 200 AND 299),
    headers     jsonb NOT NULL DEFAULT '{}',
    body        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (scope, key, method, route)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
