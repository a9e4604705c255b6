#!/usr/bin/env bash
# e2e.sh: builds Junction, starts it on a fresh database, puts Stoplight Prism in front of it, and runs through
# Prism what API consumers run: the Go examples, the TypeScript SDK's typed tests, and the contract's traffic suite
# (sdk/typescript/contract: every operation of openapi.yaml, valid and invalid). It fails on any violation Prism
# reports.
#
# Two of those are webhook receivers (examples/go/receiver, sdk/typescript/test/webhooks.test.ts): each listens on
# loopback, registers itself as an endpoint and verifies what Junction sends it there, straight from the server.
# The server runs with APP_ENV=development, whose default lets it send to loopback over plain http
# (WEBHOOK_ALLOW_PRIVATE_TARGETS), and a retry schedule of seconds, so that a failed first attempt is retried
# within the receivers' wait.
#
# Two Prism proxies (prism-cli, pinned in package-lock.json): one with --errors, for valid requests, which answers
# an invalid request itself instead of forwarding it; one without, for requests that are invalid on purpose, so
# that the server answers them and Prism checks the answers.
#
# The database: TEST_DATABASE_URL's server when it is set (an admin connection string, as for go test), else the
# project-local test cluster that make test starts (scripts/localpg.sh, port TEST_PG_PORT). Ports: E2E_PORT and
# the two after it, or free ones near 18090 when unset.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p .data bin

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p=$1
  while in_use "$p" || in_use "$((p + 1))" || in_use "$((p + 2))"; do p=$((p + 3)); done
  echo "$p"
}
port=${E2E_PORT:-$(pick_port $((18090 + RANDOM % 300 * 3)))}
strict_port=$((port + 1))
lax_port=$((port + 2))

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  admin=$TEST_DATABASE_URL
else
  admin=$(PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" scripts/localpg.sh pgtest "${TEST_PG_PORT:-54330}")
fi
psql_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/psql
[ -x "$psql_bin" ] || psql_bin=psql
db="e2e_$(date +%s)_$$"
"$psql_bin" "$admin" -qc "CREATE DATABASE $db"
# The same server and credentials, the new database.
db_url=$(printf '%s' "$admin" | sed -E "s#^([^?]*/)[^/?]*(\\?.*)?\$#\\1$db\\2#")

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$psql_bin" "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
}
trap cleanup EXIT

wait_for() { # URL LOG: until URL answers 200, or fail with LOG
  for _ in $(seq 1 150); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "e2e: $1 did not come up:" >&2
  tail -50 "$2" >&2
  exit 1
}

go build -o bin/junction ./cmd/junction
secret=whsec_e2e_$$
server_env=(DATABASE_URL="$db_url" PORT="$port" APP_ENV=development LOG_LEVEL=warn STRIPE_WEBHOOK_SECRET="$secret"
  WEBHOOK_RETRY_SCHEDULE=1s,2s
  RATE_LIMIT_DEFAULT=100000 RATE_LIMIT_LIST_USERS=100000 RATE_LIMIT_SIGNUP=100000 RATE_LIMIT_LOGIN=100000)
env "${server_env[@]}" bin/junction serve > .data/e2e-server.log 2>&1 &
pids+=($!)
server="http://127.0.0.1:$port"
wait_for "$server/readyz" .data/e2e-server.log

# An admin, for the admin operations of the traffic suite.
admin_email="admin-$db@example.com"
admin_password="correct horse battery"
curl -fsS "$server/api/users" -H 'content-type: application/json' \
  -d "{\"name\":\"E2E admin\",\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" >/dev/null
env "${server_env[@]}" bin/junction grant-admin "$admin_email" >/dev/null

prism=node_modules/.bin/prism
[ -x "$prism" ] || { echo "e2e: $prism is missing: run npm ci (make e2e does)" >&2; exit 1; }
"$prism" proxy openapi.yaml "$server" --host 127.0.0.1 --port "$strict_port" --errors > .data/e2e-prism.log 2>&1 &
pids+=($!)
"$prism" proxy openapi.yaml "$server" --host 127.0.0.1 --port "$lax_port" > .data/e2e-prism-lax.log 2>&1 &
pids+=($!)
strict="http://127.0.0.1:$strict_port"
lax="http://127.0.0.1:$lax_port"
wait_for "$strict/healthz" .data/e2e-prism.log
wait_for "$lax/healthz" .data/e2e-prism-lax.log

echo "e2e: Go SDK example, through Prism"
JUNCTION_URL="$strict" go run ./examples/go
echo "e2e: Go webhook receiver (its API calls through Prism, the deliveries straight from the server)"
JUNCTION_URL="$strict" go run ./examples/go/receiver
echo "e2e: TypeScript SDK tests and webhook receiver, through Prism"
(cd sdk/typescript && npm ci --no-audit --no-fund >/dev/null && JUNCTION_URL="$strict" JUNCTION_INVALID_URL="$lax" npm test)
echo "e2e: the contract's traffic suite, every operation of openapi.yaml, through Prism"
(cd sdk/typescript && PRISM_URL="$strict" PRISM_LAX_URL="$lax" JUNCTION_SERVER_URL="$server" STRIPE_WEBHOOK_SECRET="$secret" \
  JUNCTION_ADMIN_EMAIL="$admin_email" JUNCTION_ADMIN_PASSWORD="$admin_password" npm run -s contract)

# Prism logs every violation it finds: none at all through the strict proxy (which, with --errors, answers a
# violation itself and logs "Request terminated with error"), none of a response through the other (the requests
# sent there are invalid on purpose).
violations=$(grep -aE 'Violation|Request terminated with error' .data/e2e-prism.log || true)
violations+=$(grep -a 'Violation: response' .data/e2e-prism-lax.log || true)
if [ -n "$violations" ]; then
  echo "e2e: Prism reports violations (logs in .data/e2e-prism*.log):" >&2
  echo "$violations" >&2
  exit 1
fi
echo "e2e: $(grep -ac 'Request received' .data/e2e-prism.log) requests through Prism --errors and $(grep -ac 'Request received' .data/e2e-prism-lax.log) through the forwarding proxy, no violation of the contract"
