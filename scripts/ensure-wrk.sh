#!/usr/bin/env bash
# ensure-wrk.sh: installs Debian's wrk, the load generator of `make bench`, when it is missing.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "wrk is missing: install Debian's wrk package (apt-get install wrk)" >&2
  exit 1
fi
# The lock timeout lets a concurrent apt run (another engineer's) finish instead of failing at once.
install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 wrk 2>&1; }
# Refresh the package lists only when the install needs it: apt-get update is slow and usually unnecessary.
if ! out=$(install) && ! { out=$(apt-get update -qq -o DPkg::Lock::Timeout=120 2>&1) && out=$(install); }; then
  printf '%s\n' "$out" >&2
  echo "could not install wrk with apt-get (see above); install Debian's wrk package by hand" >&2
  exit 1
fi
if ! command -v wrk >/dev/null 2>&1; then
  echo "apt-get installed wrk, but it is not on PATH ($PATH)" >&2
  exit 1
fi
