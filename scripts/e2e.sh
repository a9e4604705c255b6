#!/usr/bin/env bash
# e2e.sh: builds Junction, starts it on a fresh database of the project-local test cluster, and runs the SDK
# examples against it as API consumers would: the Go example and the TypeScript SDK's typed test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${E2E_PORT:-18090}
admin=$(PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" scripts/localpg.sh pgtest "${TEST_PG_PORT:-54330}")
db="e2e_$(date +%s)_$$"
psql_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/psql
"$psql_bin" "$admin" -qc "CREATE DATABASE $db"
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  "$psql_bin" "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
}
trap cleanup EXIT

mkdir -p bin
go build -o bin/junction ./cmd/junction
DATABASE_URL="${admin%/postgres*}/$db?sslmode=disable" PORT=$port APP_ENV=development LOG_LEVEL=warn \
  RATE_LIMIT_SIGNUP=1000 RATE_LIMIT_LOGIN=1000 bin/junction serve > .data/e2e-server.log 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat .data/e2e-server.log; exit 1; }

echo "e2e: Go SDK example"
JUNCTION_URL="http://127.0.0.1:$port" go run ./examples/go
echo "e2e: TypeScript SDK test"
(cd sdk/typescript && npm ci --no-audit --no-fund >/dev/null && JUNCTION_URL="http://127.0.0.1:$port" npm test)
