#!/usr/bin/env bash
# Tessera's load benchmarks: one command, results on stdout (paste them into
# BENCHMARKS.md). Needs wrk (apt-get install wrk), curl and python3.
#   bash benches/run.sh            # SQLite
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench bash benches/run.sh
# Each figure: wrk, 2 threads, 64 connections, DURATION seconds (default 10), on the same
# machine as the server; wrk's own CPU time is printed beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
cargo build --release -q
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
args=(serve --listen 127.0.0.1:0)
if [ -n "${DATABASE_URL:-}" ]; then args+=(--database-url "$DATABASE_URL"); fi
start_ns="$(date +%s%N)"
(cd "$work" && exec "$OLDPWD/target/release/tessera" "${args[@]}" >"$work/out.log" 2>"$work/err.log") &
pid=$!
until grep -q "ready on http://" "$work/out.log" 2>/dev/null; do sleep 0.005; done
ready_ns="$(date +%s%N)"
base="$(grep -o 'ready on http://[0-9.:]*' "$work/out.log" | head -1 | sed 's/ready on //')"
credential="$(grep -o 'admin/api/v1): .*' "$work/err.log" | sed 's/.*: //')"
rss() { awk '/VmRSS/ { print $2 " kB" }' "/proc/$pid/status"; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1024/1024) " GiB"}' /proc/meminfo), $(uname -sr)"
echo "store: ${DATABASE_URL:-sqlite (default)}"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "start to ready: $(( (ready_ns - start_ns) / 1000000 )) ms (process start to the ready line, migrations included)"
echo "idle RSS: $(rss)"

admin() { curl -sf -H "Authorization: Bearer $credential" -H 'Content-Type: application/json' "$@"; }
admin -d '{"slug":"bench"}' "$base/admin/api/v1/tenants" >/dev/null || true
admin -d '{"identifier":"api://bench","name":"Bench API","app_roles":["Reader"]}' "$base/admin/api/v1/tenants/bench/apis" >/dev/null || true
admin -d '{"client_id":"daemon","name":"Daemon","grant_types":["client_credentials"],"permissions":[{"api":"api://bench","app_roles":["Reader"]}]}' \
  "$base/admin/api/v1/tenants/bench/apps" >/dev/null || true
secret="$(admin -d '{}' "$base/admin/api/v1/tenants/bench/apps/daemon/secrets" | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')"
export CLIENT_BASIC="$(printf 'daemon:%s' "$secret" | base64 -w0)"
export SCOPE="api://bench/.default"

load() { # name, wrk args...
  local name="$1"; shift
  echo
  echo "== $name"
  /usr/bin/time -f "wrk CPU: %U s user + %S s system over %e s" \
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" 2>&1 | grep -v '^\s*$'
  echo "server RSS after: $(rss)"
}

for alg in EdDSA ES256 RS256; do
  admin -X PATCH -d "{\"token_signing_alg\":\"$alg\"}" "$base/admin/api/v1/tenants/bench/apps/daemon" >/dev/null
  load "client_credentials grant, $alg" -s benches/client_credentials.lua "$base/bench/oauth2/token"
done
load "JWKS GET" "$base/bench/discovery/keys"
load "discovery GET" "$base/bench/.well-known/openid-configuration"
export TOKEN="$(curl -sf -H "Authorization: Basic $CLIENT_BASIC" -d "grant_type=client_credentials&scope=$SCOPE" "$base/bench/oauth2/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
load "introspection" -s benches/introspect.lua "$base/bench/oauth2/introspect"
