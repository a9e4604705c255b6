#!/usr/bin/env bash
# localredis.sh NAME PORT: makes sure a project-local redis-server named NAME runs on 127.0.0.1:PORT and prints its
# URL. It runs as a daemon with its files in .data/NAME (git-ignored) and keeps nothing on disk: it is for tests
# and local runs, whose limits may start afresh. A second call reuses the running server.
# localredis.sh --stop stops every server this script started under .data.
# Installs Debian's redis-server package when it is missing and we are root.
set -euo pipefail

name=${1:?usage: localredis.sh NAME PORT | --stop}
root=$(cd "$(dirname "$0")/.." && pwd)

log_info() { echo "localredis: $*" >&2; }

if [ "$name" = --stop ]; then
  for pidfile in "$root"/.data/*/redis.pid; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # Only a redis-server: a stale pid file may name another process by now.
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = redis-server ]; then
      kill "$pid" && log_info "stopped $(basename "$(dirname "$pidfile")")"
    fi
    rm -f "$pidfile"
  done
  exit 0
fi

port=${2:?usage: localredis.sh NAME PORT | --stop}
data="$root/.data/$name"

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log_info "installing Debian's redis-server package"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
  fi
  command -v redis-server >/dev/null 2>&1 || { log_info "no redis-server found; install it (apt-get install redis-server)"; exit 1; }
fi

ping() { [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; }

mkdir -p "$data"
if ! ping; then
  # Loopback only; no snapshots and no append-only file: nothing of it outlives the process.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$data" \
    --pidfile "$data/redis.pid" --logfile "$root/.data/$name.log" --save "" --appendonly no >/dev/null \
    || { tail -20 "$root/.data/$name.log" >&2; exit 1; }
  for _ in $(seq 1 100); do
    ping && break
    sleep 0.1
  done
  ping || { tail -20 "$root/.data/$name.log" >&2; log_info "redis-server did not answer on 127.0.0.1:$port"; exit 1; }
  log_info "started $name on 127.0.0.1:$port"
fi
echo "redis://127.0.0.1:$port/0"
