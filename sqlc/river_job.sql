-- The columns of River's own job table that Junction's queries read. River creates and migrates the real table
-- (rivermigrate, in `junction migrate`); this stub exists only so that sqlc can type-check those queries.
CREATE TABLE river_job (
    id    bigint NOT NULL PRIMARY KEY,
    kind  text   NOT NULL,
    state text   NOT NULL
);
