#!/usr/bin/env bash
# The peer side of Tessera's load benchmarks: panva's oidc-provider (Node.js), configured
# like Tessera's benchmark tenant (see benches/peer/README.md), under the same wrk loads
# as benches/run.sh. One command, results on stdout. Needs node (>= 20), npm, wrk, curl
# and python3.
#   bash benches/peer/run.sh
#   DURATION=5 bash benches/peer/run.sh
# One oidc-provider process (single-threaded, no cluster) per signing algorithm: the
# client_credentials load runs against each; introspection, JWKS, discovery and refresh
# rotation run against the EdDSA one. Each figure: wrk, 2 threads, 64 connections,
# DURATION seconds (default 10), on the same machine as the server; wrk's own CPU time
# is printed beside it.
set -euo pipefail
cd "$(dirname "$0")"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
export THREADS=2
PORT="${PORT:-3100}"
SEED_REFRESH="${SEED_REFRESH:-128}" # 2 per connection; see README.md on the LRU cap
base="http://127.0.0.1:$PORT"

if [ ! -d node_modules/oidc-provider ]; then npm ci --no-audit --no-fund >/dev/null; fi
work="$(mktemp -d)"
pid=""
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

daemon_secret="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
web_secret="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
export CLIENT_BASIC="$(printf 'daemon:%s' "$daemon_secret" | base64 -w0)"
web_basic="$(printf 'web:%s' "$web_secret" | base64 -w0)"
export SCOPE="Reader" # the body is grant_type=client_credentials&scope=Reader
export SEED_REFRESH_FILE="$work/refresh_tokens.txt"

rss() { awk '/VmRSS/ { print $2 " kB" }' "/proc/$pid/status"; }

start() { # alg, seed count[, 1 for the built-in interaction pages]
  if curl -s -o /dev/null "$base/jwks"; then echo "something already listens on $base" >&2; exit 1; fi
  : >"$work/out.log"
  local start_ns ready_ns
  start_ns="$(date +%s%N)"
  NODE_ENV=production PORT="$PORT" ALG="$1" DAEMON_SECRET="$daemon_secret" WEB_SECRET="$web_secret" \
    SEED_REFRESH="$2" SEED_REFRESH_FILE="$SEED_REFRESH_FILE" DEV_INTERACTIONS="${3:-0}" \
    node server.js >"$work/out.log" 2>"$work/err.log" &
  pid=$!
  until grep -q "ready on http://" "$work/out.log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/err.log" >&2; exit 1; }
    sleep 0.005
  done
  ready_ns="$(date +%s%N)"
  if [ "$2" -gt 0 ]; then
    until grep -q "^seeded " "$work/out.log"; do sleep 0.01; done
  fi
  echo
  echo "-- oidc-provider, ALG=$1"
  echo "start to ready: $(( (ready_ns - start_ns) / 1000000 )) ms (process start to the ready line, key generation included)"
  if [ "$2" -gt 0 ]; then echo "idle RSS: $(rss) (after seeding $2 refresh tokens, which follows the ready line)"
  else echo "idle RSS: $(rss)"; fi
}

stop() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

load() { # name, wrk args...
  local name="$1"; shift
  echo
  echo "== $name"
  /usr/bin/time -f "wrk CPU: %U s user + %S s system over %e s" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" 2>&1 | grep -v '^\s*$'
  echo "server RSS after: $(rss)"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1024/1024) " GiB"}' /proc/meminfo), $(uname -sr)"
echo "peer: oidc-provider $(node -p 'require("./node_modules/oidc-provider/package.json").version') on Node.js $(node -v), one process, in-memory adapter"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"

for alg in EdDSA ES256 RS256; do
  if [ "$alg" = EdDSA ]; then start "$alg" "$SEED_REFRESH" 1; else start "$alg" 0; fi
  load "client_credentials grant, $alg" -s ../client_credentials.lua "$base/token"
  if [ "$alg" = EdDSA ]; then
    load "JWKS GET" -s peer_get.lua "$base/jwks"
    load "discovery GET" -s peer_get.lua "$base/.well-known/openid-configuration"
    # oidc-provider answers active:false for JWT access tokens, so this one is opaque
    # (same client, same scope, resource api://bench-opaque).
    export TOKEN="$(curl -sf -H "Authorization: Basic $CLIENT_BASIC" \
      -d "grant_type=client_credentials&resource=api://bench-opaque&scope=$SCOPE" "$base/token" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
    load "introspection (opaque access token)" -s ../introspect.lua "$base/token/introspection"
    if [ "$SEED_REFRESH" -gt 0 ]; then
      CLIENT_BASIC="$web_basic" load "refresh token rotation" -s peer_refresh.lua "$base/token"
    fi
    # One sign-in and consent through the built-in pages, then flows on that session.
    eval "$(python3 session.py "$base" "$web_basic")"
    load "authorization code flows with a session (authorize + token)" -s ../code_flow.lua "$base"
  fi
  stop
done
