#!/usr/bin/env bash
# Profiles the release server under one load of benches/run.sh: perf record (cpu-clock;
# hardware counters are not available on every machine) for 8 s of a 12 s wrk run, then
# prints the hottest symbols (perf report --no-children --sort symbol).
#   bash benches/profile.sh [cc|jwks|discovery|introspection|introspection-many|code|refresh]
#     (default cc; introspection-many: DISTINCT_TOKENS (100,000) different access tokens
#     in turn, as the last load of benches/run.sh, minted before the profile starts)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench bash benches/profile.sh code
#     (PostgreSQL, as benches/run.sh: that database is dropped and created again first;
#     the database server's own CPU is printed beside the profile, which is Tessera's
#     unless PROFILE=postgres asks for the database server's processes instead, and so
#     are its transactions per request, from pg_stat_database)
#   PROFILE=none: the same run without perf (perf's sampling costs a few percent)
#   CALLGRAPH=dwarf: unwind with DWARF (the release build keeps no frame pointers, so
#     the default fp call graph stops at the first frame); FREQ: samples/s (499)
#   signin-flood: benches/overload.sh's flood of password sign-ins (PERF_SORT=comm,symbol
#     tells the request threads' share from the idle-priority hashing workers')
#   KEEP=/path/perf.data: keep the recording (for perf report --children, say)
#   TESSERA_BIN=/path/to/tessera: that binary instead of building this tree's (an A/B of
#     two commits: build each, copy the binaries aside, alternate runs)
# Needs wrk, python3 and linux-perf; builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
LOAD="${1:-cc}"
PORT="${PORT:-18081}"
export THREADS=2
repo="$PWD"
. benches/server.sh
port_free "$PORT"
bin="$(tessera_binary)"
db=(--database-url "${DATABASE_URL:-sqlite://$work/data/tessera.db}")
if [ -n "${DATABASE_URL:-}" ]; then
  psql -q "${DATABASE_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS ${DATABASE_URL##*/}" \
    -c "CREATE DATABASE ${DATABASE_URL##*/}"
fi
(cd "$work" && "$bin" import "${db[@]}" "$repo/benches/tenant.json" >/dev/null 2>&1)
start_server "$bin" serve "${db[@]}" --listen "127.0.0.1:$PORT"
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
  introspection-many)
    python3 benches/mint_tokens.py "$base" "${DISTINCT_TOKENS:-100000}" "$work/tokens"
    export TOKENS_FILE="$work/tokens"
    args=(-s benches/introspect_many.lua "$base/bench/oauth2/introspect") ;;
  code) args=(-s benches/code_flow.lua "$base") ;;
  refresh) args=(-s benches/refresh.lua "$base") ;;
  signin-flood)
    # benches/overload.sh's sign-in flood: 1,500 a second offered over 256 connections,
    # most of it shed (503) once the hashing queue is full.
    export DELAY_MS=$((1000 * 256 / 1500))
    conns=256
    args=(-s benches/signin.lua "$base") ;;
  *) echo "unknown load $LOAD" >&2; exit 2 ;;
esac
# On PostgreSQL, its transactions over the whole load, per request: how many statements
# of their own (each is its own transaction, or one with its batch) a request costs.
xacts() {
  [ -n "${DATABASE_URL:-}" ] || return 0
  psql -Atq "$DATABASE_URL" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
}
xacts_before="$(xacts)"
wrk -t2 -c"${conns:-64}" -d12s "${args[@]}" > "$work/wrk.txt" &
loader=$!
track "$loader"
sleep 2
cpu_ticks() { # user+system clock ticks of the processes given by pid
  awk '{ t += $14 + $15 } END { print t + 0 }' $(printf '/proc/%s/stat ' "$@") 2>/dev/null || echo 0
}
disk_bytes() { # bytes the process has caused to be written to storage (/proc/<pid>/io)
  awk '$1 == "write_bytes:" { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0
}
pg_before="$(cpu_ticks $(pgrep -x postgres))"
ts_before="$(cpu_ticks "$pid")"
wrk_before="$(cpu_ticks "$loader")"
disk_before="$(disk_bytes "$pid")"
target="$pid"
[ "${PROFILE:-tessera}" = postgres ] && target="$(pgrep -d, -x postgres)"
if [ "${PROFILE:-tessera}" = none ]; then
  sleep 8
else
  perf record -e cpu-clock -F "${FREQ:-499}" --call-graph "${CALLGRAPH:-fp}" -p "$target" -o "$work/perf.data" -- sleep 8 2>"$work/perf.log" ||
    { cat "$work/perf.log" >&2; exit 1; }
fi
pg_after="$(cpu_ticks $(pgrep -x postgres))"
ts_after="$(cpu_ticks "$pid")"
wrk_after="$(cpu_ticks "$loader")"
disk_after="$(disk_bytes "$pid")"
wait "$loader"
hz="$(getconf CLK_TCK)"
awk -v t=$((ts_after - ts_before)) -v p=$((pg_after - pg_before)) -v w=$((wrk_after - wrk_before)) -v hz="$hz" \
  'BEGIN { printf "CPU over the 8 s profile: tessera %.2f s, postgres processes %.2f s, wrk %.2f s\n", t / hz, p / hz, w / hz }'
# SQLite's WAL and checkpoints, and the log file when stdout is one (a request line is
# about 225 bytes: benches/results/2026-11-27-b16b760/log-line-bytes.txt); on PostgreSQL the database server writes, not Tessera.
awk -v b=$((disk_after - disk_before)) 'BEGIN { printf "written to storage by tessera over the 8 s: %.1f MB\n", b / 1e6 }'
grep -E 'Requests/sec|non-2xx|flows/s|rotations/s|active answers' "$work/wrk.txt" || cat "$work/wrk.txt"
if [ -n "${DATABASE_URL:-}" ]; then
  sleep 1.5 # backends report their counts to the statistics at most once a second
  requests="$(awk '/requests in/ { print $1 }' "$work/wrk.txt")"
  awk -v x=$(($(xacts) - xacts_before)) -v r="$requests" \
    'BEGIN { printf "PostgreSQL transactions over the whole load: %d, %.2f per request (%d requests)\n", x, x / r, r }'
fi
[ "${PROFILE:-tessera}" = none ] && exit 0
[ -n "${KEEP:-}" ] && cp "$work/perf.data" "$KEEP"
perf report -i "$work/perf.data" --no-children --sort "${PERF_SORT:-symbol}" --stdio 2>/dev/null \
  | grep -E '^ +[0-9]' | head -"${TOP:-40}"
