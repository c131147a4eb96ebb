#!/usr/bin/env bash
# Tessera's load benchmarks: one command, results on stdout (benches/all.sh keeps them in
# benches/results/; BENCHMARKS.md quotes them from there).
# Needs wrk (apt-get install wrk), curl and python3.
#   bash benches/run.sh            # SQLite, a fresh file
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench bash benches/run.sh
#     (PostgreSQL: that database is dropped and created again first, with psql)
#   TESSERA_BIN=/path/to/tessera bash benches/run.sh
#     (that binary instead of building this tree's: an A/B of two commits)
# Each figure: wrk, 2 threads, CONNECTIONS (64) connections, DURATION (10) seconds, on
# the same machine as the server; wrk's own CPU time is printed beside it. The tenant is
# benches/tenant.json, imported before the server starts. The last load introspects
# DISTINCT_TOKENS (100,000) different access tokens, far more than the server's memo of
# verified signatures holds (docs/decisions/0011-verified-token-memo.md).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
PORT="${PORT:-18080}"
DISTINCT_TOKENS="${DISTINCT_TOKENS:-100000}"
export THREADS=2
repo="$PWD"
. benches/server.sh
port_free "$PORT"
bin="$(tessera_binary)"
db=(--database-url "$(database_url)")
(cd "$work" && "$bin" import "${db[@]}" "$repo/benches/tenant.json" >/dev/null 2>&1)

POLL=0.002 start_server "$bin" serve "${db[@]}" --listen "127.0.0.1:$PORT"
base="http://127.0.0.1:$PORT"
credential="$(grep -o 'admin/api/v1): .*' "$work/err.log" | sed 's/.*: //')"
rss() { awk '/VmRSS|VmHWM/ { printf "%s %s kB  ", $1, $2 } END { print "" }' "/proc/$pid/status"; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1024/1024) " GiB"}' /proc/meminfo), $(uname -sr)"
if [ -n "${TESSERA_BIN:-}" ]; then
  echo "binary: $TESSERA_BIN (TESSERA_BIN; the tree is at $(git rev-parse --short HEAD))"
else
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates || echo ' (with uncommitted changes)')"
fi
echo "store: ${DATABASE_URL:-sqlite (default, synchronous=FULL)}"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "start to ready: $ready_ms ms (process start to the ready line, migrations included)"
echo "idle RSS: $(rss)"

export CLIENT_BASIC="$(printf 'daemon:bench-daemon-secret-0123456789abcdef' | base64 -w0)"
export SCOPE="api://bench/.default"
eval "$(python3 benches/setup.py "$base" 256 "$work/refresh-seeds")"

load() { # name, wrk args...
  local name="$1"; shift
  echo
  echo "== $name"
  /usr/bin/time -f "wrk CPU: %U s user + %S s system over %e s" \
    wrk -t"$THREADS" -d"${DURATION}s" --latency "$@" 2>&1 | grep -v '^\s*$'
  echo "server memory after: $(rss)"
}

# The signature algorithms: an API's access tokens and an app's ID tokens are RS256
# unless they registered another (docs/validating-tokens.md). benches/tenant.json
# registers EdDSA for both, the fast choice; `api_alg`/`app_alg` change them (an empty
# value returns to the default, RS256).
admin_patch() { # path, JSON body
  curl -sf -X PATCH -H "Authorization: Bearer $credential" -H 'Content-Type: application/json' \
    -d "$2" "$base/admin/api/v1/tenants/bench/$1" >/dev/null
}
api_alg() { admin_patch apis/api%3A%2F%2Fbench "{\"access_token_signing_alg\":\"$1\"}"; }
app_alg() { admin_patch apps/web "{\"id_token_signed_response_alg\":\"$1\"}"; }

for alg in EdDSA ES256 RS256; do
  api_alg "$alg"
  load "client_credentials grant, $alg" -c"$CONNECTIONS" -s benches/client_credentials.lua "$base/bench/oauth2/token"
done
load "JWKS GET" -c"$CONNECTIONS" "$base/bench/discovery/keys"
load "discovery GET" -c"$CONNECTIONS" "$base/bench/.well-known/openid-configuration"
export TOKEN="$(curl -sf -H "Authorization: Basic $CLIENT_BASIC" -d "grant_type=client_credentials&scope=$SCOPE" "$base/bench/oauth2/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
load "introspection" -c"$CONNECTIONS" -s benches/introspect.lua "$base/bench/oauth2/introspect"
api_alg EdDSA
load "authorization code flows with an SSO session (authorize + token)" -c"$CONNECTIONS" -s benches/code_flow.lua "$base"
load "refresh token rotations" -c"$CONNECTIONS" -s benches/refresh.lua "$base"
load "password sign-ins (Argon2id)" -c8 -s benches/signin.lua "$base"

echo
echo "== client_credentials EdDSA p99, alone and beside 50 password sign-ins/s"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benches/client_credentials.lua \
  "$base/bench/oauth2/token" 2>&1 | grep -E 'Requests/sec| 50%| 99%' | sed 's/^/alone: /'
python3 benches/signin_rate.py "$base" 50 "$DURATION" > "$work/signin-rate.log" &
signins=$!
track "$signins"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benches/client_credentials.lua \
  "$base/bench/oauth2/token" 2>&1 | grep -E 'Requests/sec| 50%| 99%' | sed 's/^/beside sign-ins: /'
wait "$signins"
cat "$work/signin-rate.log"
echo "server memory after: $(rss)"

# Introspection of many different tokens. The introspection load earlier presents one
# token, whose signature the server checks once and then finds in its memo. Here each
# request presents the next of DISTINCT_TOKENS access tokens (EdDSA, as
# benches/tenant.json registers it for the API), each wrk thread cycling through its
# share, so a token comes back only after more than the memo holds have passed: nearly
# every request costs a full signature check.
echo
echo "== minting $DISTINCT_TOKENS distinct access tokens (client_credentials, EdDSA)"
python3 benches/mint_tokens.py "$base" "$DISTINCT_TOKENS" "$work/tokens"
export TOKENS_FILE="$work/tokens"
load "introspection, $DISTINCT_TOKENS distinct access tokens in turn" -c"$CONNECTIONS" \
  -s benches/introspect_many.lua "$base/bench/oauth2/introspect"

# The code flow and refresh loads again with the defaults: access and ID tokens RS256,
# two RSA-2048 signatures per response. Last, so the loads before are measured as they
# always were; the refresh load needs fresh seeds (the first one rotated its own).
api_alg ""
app_alg ""
eval "$(python3 benches/setup.py "$base" 256 "$work/refresh-seeds-rs256")"
load "authorization code flows with an SSO session, RS256 (the defaults)" -c"$CONNECTIONS" -s benches/code_flow.lua "$base"
load "refresh token rotations, RS256 (the defaults)" -c"$CONNECTIONS" -s benches/refresh.lua "$base"
