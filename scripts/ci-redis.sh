#!/usr/bin/env bash
# Installs Debian's redis-server (Redis 7.0 on bookworm) for the three-server verify in
# tests/servers, on a Debian machine where we are root. The package's own service is not
# used (and never touched): the test starts a private server on a free port of 127.0.0.1,
# with a password, and stops it again.
set -euo pipefail

say() { echo "ci-redis: $*" >&2; }

if ! command -v redis-server >/dev/null 2>&1; then
  say "installing redis-server"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
redis-server --version >&2
