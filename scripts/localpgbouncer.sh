#!/usr/bin/env bash
# localpgbouncer.sh NAME PORT SERVER_URL: makes sure a project-local PgBouncer named NAME runs on 127.0.0.1:PORT in
# transaction pooling mode in front of the PostgreSQL server that SERVER_URL (postgres://user[:password]@host:port/db)
# names, and prints the URL of SERVER_URL's database through it. Any database name routes through (a `*` entry),
# so the per-test databases cloned from the template are reached by changing the URL's path only.
# Its ini, userlist, log and pid live in .data/NAME (git-ignored). Installs Debian's pgbouncer package when it is
# missing and we are root. PGBOUNCER_POOL_SIZE (default 4) is the server connections per database and user: small,
# so that clients really share them. `localpgbouncer.sh --stop` stops every project-local PgBouncer.
set -euo pipefail

name=${1:?usage: localpgbouncer.sh NAME PORT SERVER_URL | --stop}
root=$(cd "$(dirname "$0")/.." && pwd)

log_info() { echo "localpgbouncer: $*" >&2; }

# PgBouncer refuses to run as root: it runs as the postgres user then, as the local clusters do.
as_owner() { "$@"; }
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  as_owner() { runuser -u postgres -- "$@"; }
fi

stop() { # stop DIR: stops the PgBouncer whose pid file is in DIR, if it runs
  local pid
  pid=$(cat "$1/pgbouncer.pid" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null && grep -q pgbouncer "/proc/$pid/cmdline" 2>/dev/null; then
    kill -INT "$pid" && log_info "stopped $(basename "$1")"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$1/pgbouncer.pid"
}

if [ "$name" = --stop ]; then
  for d in "$root"/.data/*/; do
    [ -f "$d/pgbouncer.ini" ] && stop "${d%/}"
  done
  exit 0
fi

port=${2:?usage: localpgbouncer.sh NAME PORT SERVER_URL}
server=${3:?usage: localpgbouncer.sh NAME PORT SERVER_URL}
pool_size=${PGBOUNCER_POOL_SIZE:-4}

# postgres://user[:password]@host[:port]/db[?params]; the password, if any, goes into the userlist only.
re='^postgres(ql)?://([^:@/]+)(:([^@/]*))?@([^:/?]+)(:([0-9]+))?/([^?]*)'
[[ $server =~ $re ]] || { log_info "SERVER_URL must look like postgres://user[:password]@host[:port]/db"; exit 2; }
user=${BASH_REMATCH[2]} password=${BASH_REMATCH[4]} host=${BASH_REMATCH[5]} pgport=${BASH_REMATCH[7]:-5432}
db=${BASH_REMATCH[8]:-postgres}

if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log_info "installing Debian's pgbouncer package"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >&2
    # The package enables a system service on port 6432; nothing here uses it.
  fi
fi
bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$bin" ] || { log_info "no pgbouncer found; install it (apt-get install pgbouncer)"; exit 1; }

dir="$root/.data/$name"
mkdir -p "$dir"
chown "$owner" "$dir"
chmod 700 "$dir"

# The userlist authenticates clients (trust: any password, but the user must be listed) and logs PgBouncer into
# the server with the same user and password.
umask 077
printf '"%s" "%s"\n' "$user" "$password" >"$dir/userlist.txt.new"
cat >"$dir/pgbouncer.ini.new" <<EOF
; Written by scripts/localpgbouncer.sh; rewritten at every start.
[databases]
; Every database name goes to the same server: the tests' per-test databases included.
* = host=$host port=$pgport

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = $user
stats_users = $user
pool_mode = transaction
default_pool_size = $pool_size
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 900
; No ignore_startup_parameters: Junction sends none that PgBouncer does not know (statement_timeout would be refused).
server_lifetime = 3600
server_idle_timeout = 60
query_wait_timeout = 60
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
log_connections = 0
log_disconnections = 0
EOF
umask 022
chown "$owner" "$dir/userlist.txt.new" "$dir/pgbouncer.ini.new"

running=false
pid=$(cat "$dir/pgbouncer.pid" 2>/dev/null || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then running=true; fi
if $running && cmp -s "$dir/pgbouncer.ini.new" "$dir/pgbouncer.ini" && cmp -s "$dir/userlist.txt.new" "$dir/userlist.txt"; then
  rm -f "$dir/pgbouncer.ini.new" "$dir/userlist.txt.new"
else
  $running && stop "$dir"
  mv "$dir/pgbouncer.ini.new" "$dir/pgbouncer.ini"
  mv "$dir/userlist.txt.new" "$dir/userlist.txt"
  touch "$dir/pgbouncer.log" && chown "$owner" "$dir/pgbouncer.log"
  as_owner "$bin" -d "$dir/pgbouncer.ini" >/dev/null || { tail -20 "$dir/pgbouncer.log" >&2; exit 1; }
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { log_info "pgbouncer did not start"; tail -20 "$dir/pgbouncer.log" >&2; exit 1; }
  log_info "started $name on 127.0.0.1:$port (transaction pooling, $pool_size server connections per database) in front of $host:$pgport"
fi
echo "postgres://$user@127.0.0.1:$port/$db?sslmode=disable"
