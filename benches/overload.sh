#!/usr/bin/env bash
# Overload: the latency of client-credentials grants and refresh rotations (p50, p99)
# alone, then again under a flood of password sign-ins at FLOOD_RATE a second (1,500 by
# default: ten times the 152.3 hashes/s ceiling of two cores in BENCHMARKS.md), offered
# by FLOOD_CONNECTIONS connections that each pause between requests, with the
# server's resident memory sampled every second of the flood, and how every sign-in of
# the flood was answered (session, shed 503, 429, other; socket errors and timeouts).
# Needs wrk (apt-get install wrk), curl and python3.
#   bash benches/overload.sh
#   TESSERA_BIN=/path/to/tessera bash benches/overload.sh   (another build)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-4}"
FLOOD_CONNECTIONS="${FLOOD_CONNECTIONS:-64}"
FLOOD_RATE="${FLOOD_RATE:-1500}"
PORT="${PORT:-18084}"
repo="$PWD"
. benches/server.sh
port_free "$PORT"
bin="$(tessera_binary)"
db="sqlite://$work/data/tessera.db"
(cd "$work" && "$bin" import --database-url "$db" "$repo/benches/tenant.json" >/dev/null 2>&1)
start_server "$bin" serve --database-url "$db" --listen "127.0.0.1:$PORT"
base="http://127.0.0.1:$PORT"
echo "machine: $(nproc) cores, $(uname -sr)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates || echo ' (with uncommitted changes)')"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
export THREADS=1
export CLIENT_BASIC="$(printf 'daemon:bench-daemon-secret-0123456789abcdef' | base64 -w0)"
export SCOPE="api://bench/.default"
# Seeds for each refresh measurement (a rotated seed cannot be presented again), made
# before the flood, whose sign-ins would be shed.
eval "$(python3 benches/setup.py "$base" 64 "$work/refresh-seeds-unloaded")"
python3 benches/setup.py "$base" 64 "$work/refresh-seeds-flood" >/dev/null
rss_kb() { awk '/VmRSS/ { print $2 }' "/proc/$pid/status"; }

measure() { # label, refresh seeds
  export REFRESH_SEEDS="$2"
  echo "== $1: client_credentials, $CONNECTIONS connections, ${DURATION} s"
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benches/client_credentials.lua "$base/bench/oauth2/token" 2>&1 \
    | grep -E 'Requests/sec|^ +(50|99)%|non-2xx'
  echo "== $1: refresh rotations, $CONNECTIONS connections, ${DURATION} s"
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benches/refresh.lua "$base" 2>&1 \
    | grep -E 'Requests/sec|^ +(50|99)%|non-2xx|rotations'
}

echo "idle: RSS $(rss_kb) kB"
measure "unloaded" "$work/refresh-seeds-unloaded"

flood_seconds=$((2 * DURATION + 6))
echo
echo "== flood: password sign-ins offered at $FLOOD_RATE/s, $FLOOD_CONNECTIONS connections, ${flood_seconds} s"
SIGNIN_DELAY_MS=$((1000 * FLOOD_CONNECTIONS / FLOOD_RATE)) wrk -t1 -c"$FLOOD_CONNECTIONS" -d"${flood_seconds}s" --timeout 30s --latency -s benches/signin.lua "$base" \
  > "$work/flood.txt" 2>&1 &
flood=$!
peak=0
( while kill -0 "$flood" 2>/dev/null; do r="$(rss_kb)"; [ "$r" -gt "$peak" ] && peak="$r"; echo "$peak" > "$work/peak"; sleep 1; done ) &
sampler=$!
sleep 3
measure "under the flood" "$work/refresh-seeds-flood"
wait "$flood"
wait "$sampler" || true
grep -E 'Requests/sec|sign-ins that|^shed|sign-in latency' "$work/flood.txt"
echo "RSS: peak during the flood $(cat "$work/peak") kB; right after $(rss_kb) kB"
