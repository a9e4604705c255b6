-- Counts for /metrics, read at scrape time.

-- name: MetricsJobCounts :many
SELECT kind, state::text AS state, count(*) AS jobs FROM river_job GROUP BY kind, state;

-- name: MetricsWebhookEventCounts :many
SELECT provider, status, count(*) AS events FROM webhook_events GROUP BY provider, status;
