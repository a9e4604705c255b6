#!/usr/bin/env bash
# localpg.sh NAME PORT [DB]: makes sure a project-local PostgreSQL cluster named NAME runs on 127.0.0.1:PORT and
# prints its URL: the admin database's, or DB's, created when missing. Data lives in .data/NAME (git-ignored); a second call reuses the running or stopped cluster.
# Installs Debian's postgresql package when no server binaries are found and we are root.
# Extra server settings come from PG_EXTRA_OPTS (the test cluster trades durability for speed with it).
set -euo pipefail

name=${1:?usage: localpg.sh NAME PORT [DB] | --stop}
port=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/.data/$name"
log="$root/.data/$name.log"

log_info() { echo "localpg: $*" >&2; }

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; fi
}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log_info "installing Debian's postgresql package"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bindir=$(find_bindir)
  fi
  [ -n "$bindir" ] || { log_info "no PostgreSQL server found; install it (apt-get install postgresql) or set DATABASE_URL"; exit 1; }
fi

# PostgreSQL refuses to run as root: the cluster belongs to the postgres user then.
as_owner() { "$@"; }
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  as_owner() { runuser -u postgres -- "$@"; }
fi

if [ "$name" = --stop ]; then
  for d in "$root"/.data/*/; do
    [ -s "$d/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$d" stop -m fast >/dev/null 2>&1 && log_info "stopped $(basename "$d")"
  done
  exit 0
fi

mkdir -p "$root/.data"
if [ ! -s "$data/PG_VERSION" ]; then
  log_info "creating cluster in $data"
  rm -rf "$data"
  mkdir -p "$data"
  chown "$owner" "$data"
  chmod 700 "$data"
  as_owner "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
fi
[ -n "$port" ] || { log_info "usage: localpg.sh NAME PORT [DB] | --stop"; exit 2; }
touch "$log" && chown "$owner" "$log"

if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  rm -f "$data/postmaster.pid"
  # Unix sockets go in the data folder so no system directory is needed; TCP listens on loopback only.
  as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=300 ${PG_EXTRA_OPTS:-}" >/dev/null \
    || { tail -20 "$log" >&2; exit 1; }
  log_info "started $name on 127.0.0.1:$port"
fi

db=${3:-postgres}
admin="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
if [ "$db" != postgres ] && [ -z "$("$bindir/psql" "$admin" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
  log_info "created database $db"
fi
echo "postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
