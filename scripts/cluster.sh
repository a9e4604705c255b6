#!/usr/bin/env bash
# cluster.sh: Junction as it runs on several machines, on this one, with one command (`make cluster`): a
# project-local PostgreSQL, PgBouncer in front of it (transaction pooling), Redis for the shared rate limits, three
# `junction serve` instances (each also working jobs) and HAProxy in front of them on CLUSTER_PORT (default 8080),
# every part on loopback. Ctrl-C stops it all: HAProxy first, then each instance gracefully (it leaves HAProxy's
# rotation during SHUTDOWN_DRAIN_DELAY, then drains).
#
# Try: kill -9 one instance's pid (printed below) while you use the API through http://127.0.0.1:$CLUSTER_PORT;
# HAProxy takes it out within a second and sends what is safe to send again to the others.
#
# Ports: CLUSTER_PORT (HAProxy), and from CLUSTER_BASE_PORT (default 18180): the instances (3), PgBouncer, Redis
# and PostgreSQL.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lb_port=${CLUSTER_PORT:-8080}
base=${CLUSTER_BASE_PORT:-18180}
instances=${CLUSTER_INSTANCES:-3}
pg_port=$((base + instances + 2))
bouncer_port=$((base + instances))
redis_port=$((base + instances + 1))

say() { echo "cluster: $*" >&2; }

direct=$(scripts/localpg.sh pgcluster "$pg_port" junction)
pooled=$(scripts/localpgbouncer.sh pgbcluster "$bouncer_port" "$direct")
redis=$(scripts/localredis.sh rediscluster "$redis_port")
go build -o bin/junction ./cmd/junction
DATABASE_URL=$direct bin/junction migrate

pids=()
cleanup() {
  trap - INT TERM EXIT
  say "stopping"
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # This cluster's own PgBouncer and Redis only (their scripts' --stop would stop the tests' too).
  local f
  for f in .data/pgbcluster/pgbouncer.pid .data/rediscluster/redis.pid; do
    [ -s "$f" ] && kill -INT "$(cat "$f")" 2>/dev/null || true
  done
  say "stopped (PostgreSQL keeps running: make db-stop)"
}
trap cleanup INT TERM EXIT

mkdir -p .data/cluster
backends=()
for i in $(seq 1 "$instances"); do
  port=$((base + i - 1))
  # Every instance: the pooled URL for queries, the direct one for what needs a session (LISTEN, migrations'
  # lock), the one Redis, and the one JWT secret, so that a token signed by one is good on all.
  DATABASE_URL=$pooled DATABASE_SESSION_URL=$direct REDIS_URL=$redis PORT=$port \
    APP_ENV=${APP_ENV:-development} JWT_SECRET=${JWT_SECRET:-a local cluster secret, shared by all} \
    SHUTDOWN_DRAIN_DELAY=${SHUTDOWN_DRAIN_DELAY:-3s} DB_MAX_CONNS=${DB_MAX_CONNS:-10} \
    bin/junction serve >".data/cluster/junction$i.log" 2>&1 &
  pids+=($!)
  backends+=("127.0.0.1:$port")
  say "instance $i: pid $!, http://127.0.0.1:$port, log .data/cluster/junction$i.log"
done
for b in "${backends[@]}"; do
  for _ in $(seq 1 150); do curl -fsS "http://$b/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
done
scripts/localhaproxy.sh .data/cluster "$lb_port" "${backends[@]}" 2>.data/cluster/haproxy.log &
pids=($! "${pids[@]}")
say "HAProxy: http://127.0.0.1:$lb_port (log .data/cluster/haproxy.log); PgBouncer $pooled; Redis $redis"
say "Ctrl-C stops everything"
wait "${pids[0]}"
