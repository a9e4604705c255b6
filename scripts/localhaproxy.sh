#!/usr/bin/env bash
# localhaproxy.sh DIR PORT BACKEND...: runs HAProxy in the foreground (exec: the caller owns the process and stops
# it with a signal) on 127.0.0.1:PORT, balancing HTTP and WebSockets over the BACKENDs (host:port each), with its
# configuration written to DIR/haproxy.cfg. Installs Debian's haproxy package when missing and we are root.
#
# Health checks ask each backend's /readyz every 500 ms: two failures take it out, two successes bring it back. A
# Junction instance told to stop answers 503 there for SHUTDOWN_DRAIN_DELAY while it still serves, so it leaves
# the rotation before it stops taking connections.
#
# A request whose instance died under it (no answer, or a refused connection) is sent to another instance, but
# only if sending it twice is safe, as openapi.yaml says: a GET, HEAD, PUT, DELETE or OPTIONS, a POST or PATCH
# with an Idempotency-Key (the second instance replays the first one's stored answer, or runs it if it never
# committed), and Stripe's deliveries (kept once by their event id). Any other POST that reached a dying
# instance is answered 502: it may have written.
set -euo pipefail
dir=${1:?usage: localhaproxy.sh DIR PORT BACKEND...}
port=${2:?usage: localhaproxy.sh DIR PORT BACKEND...}
shift 2
[ $# -gt 0 ] || { echo "localhaproxy: no backends" >&2; exit 2; }

if ! command -v haproxy >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "localhaproxy: installing Debian's haproxy package" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >&2
  fi
  command -v haproxy >/dev/null 2>&1 || { echo "localhaproxy: haproxy not found; install it (apt-get install haproxy)" >&2; exit 1; }
fi

mkdir -p "$dir"
cfg="$dir/haproxy.cfg"
{
  cat <<CFG
global
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  # WebSockets (GraphQL subscriptions) stay open this long without traffic.
  timeout tunnel 1h
  timeout http-keep-alive 10s
  retries 3
  retry-on conn-failure empty-response junk-response response-timeout
  # Each retry goes to another instance; the request is read whole first, so that it can be sent again.
  option redispatch 1
  option http-buffer-request
  option forwardfor

frontend junction
  bind 127.0.0.1:$port
  # A write without a key may have committed on the instance that died: never send it again.
  acl keyed req.hdr(idempotency-key) -m found
  acl stripe path /api/webhooks/stripe
  http-request disable-l7-retry if METH_POST !keyed !stripe
  http-request disable-l7-retry if { method PATCH } !keyed
  default_backend instances

backend instances
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fastinter 250ms fall 2 rise 2
CFG
  i=1
  for b in "$@"; do
    echo "  server junction$i $b check"
    i=$((i + 1))
  done
} > "$cfg"
haproxy -c -q -f "$cfg" >&2
exec haproxy -db -f "$cfg"
