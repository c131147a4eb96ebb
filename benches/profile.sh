#!/usr/bin/env bash
# Profiles the release server under one load of benches/run.sh: perf record (cpu-clock;
# hardware counters are not available on every machine) for 8 s of a 12 s wrk run, then
# prints the hottest symbols (perf report --no-children --sort symbol).
#   bash benches/profile.sh [cc|jwks|discovery|introspection|code|refresh]   (default cc)
# Needs wrk, python3 and linux-perf; builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
LOAD="${1:-cc}"
PORT="${PORT:-18081}"
export THREADS=2
cargo build --release -q
repo="$PWD"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
(cd "$work" && "$repo/target/release/tessera" import "$repo/benches/tenant.json" >/dev/null 2>&1)
(cd "$work" && exec "$repo/target/release/tessera" serve --listen "127.0.0.1:$PORT" >"$work/out.log" 2>"$work/err.log") &
pid=$!
until grep -q "ready on http://" "$work/out.log" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { echo "tessera did not start:" >&2; cat "$work/err.log" >&2; exit 1; }
  sleep 0.002
done
base="http://127.0.0.1:$PORT"
export CLIENT_BASIC="$(printf 'daemon:bench-daemon-secret-0123456789abcdef' | base64 -w0)"
export SCOPE="api://bench/.default"
eval "$(python3 benches/setup.py "$base" 256 "$work/refresh-seeds")"
export TOKEN="$(curl -sf -H "Authorization: Basic $CLIENT_BASIC" -d "grant_type=client_credentials&scope=$SCOPE" "$base/bench/oauth2/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
case "$LOAD" in
  cc) args=(-s benches/client_credentials.lua "$base/bench/oauth2/token") ;;
  jwks) args=("$base/bench/discovery/keys") ;;
  discovery) args=("$base/bench/.well-known/openid-configuration") ;;
  introspection) args=(-s benches/introspect.lua "$base/bench/oauth2/introspect") ;;
  code) args=(-s benches/code_flow.lua "$base") ;;
  refresh) args=(-s benches/refresh.lua "$base") ;;
  *) echo "unknown load $LOAD" >&2; exit 2 ;;
esac
wrk -t2 -c64 -d12s "${args[@]}" > "$work/wrk.txt" &
loader=$!
sleep 2
perf record -e cpu-clock -F 499 -g -p "$pid" -o "$work/perf.data" -- sleep 8 2>"$work/perf.log" ||
  { cat "$work/perf.log" >&2; exit 1; }
wait "$loader"
grep -E 'Requests/sec|non-2xx|flows/s|rotations/s' "$work/wrk.txt" || cat "$work/wrk.txt"
perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2>/dev/null \
  | grep -E '^ +[0-9]' | head -"${TOP:-40}"
