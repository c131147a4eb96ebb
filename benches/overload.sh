#!/usr/bin/env bash
# Overload: the latency of client-credentials grants and refresh rotations (p50, p99)
# alone, then under a flood of password sign-ins at FLOOD_RATE a second (1,500 by
# default: ten times the 152.3 hashes/s ceiling of two cores in BENCHMARKS.md), then
# under a flood of hostile requests at HOSTILE_RATE a second, each from another client
# address (benches/hostile.lua). Each flood is offered by its connections pausing
# between requests (benches/pace.lua); the server's resident memory is sampled every
# second of it, and how every flood request was answered is counted (sessions, shed
# 503, 429, other; socket errors and timeouts). Last, IDLE_CONNECTIONS connections
# (5,000) that send nothing: the memory they take, and that they are closed once the
# header timeout (10 s) has passed.
#
# The measured grants are offered at RATE a second each (1,000 by default), so what
# is measured is the latency of a steady load, which a flood may lengthen; RATE=0
# measures as fast as the connections are answered instead (then the grants' own load
# already fills both cores, and the latency is mostly queueing behind each other).
# Needs wrk (apt-get install wrk), curl and python3.
#   bash benches/overload.sh
#   TESSERA_BIN=/path/to/tessera bash benches/overload.sh   (another build)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench bash benches/overload.sh
#     (on PostgreSQL: that database is dropped and created again)
#
# FLOODS names the floods to run ("sign-in hostile"; empty: the unloaded measurement
# only); IDLE_CONNECTIONS=0 skips the idle connections; FLOOD_NICE runs the flood's wrk
# at that niceness (its share of the cores against the server's); FLOOD_JITTER=1 draws
# each flood connection's pause at random around its mean (benches/pace.lua), so the
# 256 connections, which start together, do not keep sending in step (the same rate
# offered, without its bursts). Beside wrk's figures, each measurement prints what the
# server itself timed for the token endpoint ("server-side", benches/server_latency.py):
# wrk's tail beyond it was spent outside the handler. TMPDIR=/dev/shm puts the SQLite
# database in memory (mktemp), to tell the disk's share of a tail. Telling causes apart: SPIN=cpu adds a measurement under one
# busy loop per core at idle priority (what the hashing workers are to the scheduler,
# without Argon2's memory traffic); SPIN=memory the same with loops that copy 19 MiB
# over and over (the memory traffic without Argon2); with either, how long a small
# write and fdatasync take is measured with and without the loops
# (benches/fsync_latency.py). SCHED_TRACE=1 records the scheduler (perf sched, needs
# perf and root) during each measurement and prints, for the server's threads, how
# long a woken thread waited for a core (wake-up to running) and how long it then ran.
# SERVER_CPUS=1 runs the server on that CPU (a taskset list) and this script, with every
# load generator, on the others: the nearest this machine comes to load generators on
# another machine. The hashing pool then has one worker per CPU the server may use.
set -euo pipefail
SERVER_CPUS="${SERVER_CPUS:-}"
if [ -n "$SERVER_CPUS" ] && [ -z "${OVERLOAD_CLIENT_CPUS:-}" ]; then
  # Every CPU this script may use that the server's list leaves out.
  OVERLOAD_CLIENT_CPUS="$(python3 -c '
import os, sys
server = set()
for part in sys.argv[1].split(","):
    low, _, high = part.partition("-")
    server.update(range(int(low), int(high or low) + 1))
rest = sorted(os.sched_getaffinity(0) - server)
print(",".join(map(str, rest)))' "$SERVER_CPUS")"
  [ -n "$OVERLOAD_CLIENT_CPUS" ] || { echo "SERVER_CPUS=$SERVER_CPUS leaves no CPU for the load generators" >&2; exit 2; }
  export OVERLOAD_CLIENT_CPUS
  exec taskset -c "$OVERLOAD_CLIENT_CPUS" bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-4}"
RATE="${RATE:-1000}"
FLOOD_CONNECTIONS="${FLOOD_CONNECTIONS:-256}"
FLOOD_RATE="${FLOOD_RATE:-1500}"
HOSTILE_CONNECTIONS="${HOSTILE_CONNECTIONS:-64}"
HOSTILE_RATE="${HOSTILE_RATE:-1500}"
IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-5000}"
FLOODS="${FLOODS-sign-in hostile}"
FLOOD_NICE="${FLOOD_NICE:-0}"
FLOOD_JITTER="${FLOOD_JITTER:-0}"
SPIN="${SPIN:-}"
SCHED_TRACE="${SCHED_TRACE:-0}"
PORT="${PORT:-18084}"
repo="$PWD"
. benches/server.sh
port_free "$PORT"
bin="$(tessera_binary)"
db="$(database_url)"
(cd "$work" && "$bin" import --database-url "$db" "$repo/benches/tenant.json" >/dev/null 2>&1)
# The hostile flood names its client address in X-Forwarded-For, as a proxy would.
start_server ${SERVER_CPUS:+taskset -c "$SERVER_CPUS"} "$bin" serve --database-url "$db" --listen "127.0.0.1:$PORT" --trusted-proxies 127.0.0.1/32
base="http://127.0.0.1:$PORT"
echo "machine: $(nproc --all) cores, $(uname -sr)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates || echo ' (with uncommitted changes)')"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "store: ${DATABASE_URL:-sqlite, in $work}"
[ -z "$SERVER_CPUS" ] || echo "server on CPU $SERVER_CPUS, load generators on CPU $OVERLOAD_CLIENT_CPUS"
echo "measured grants offered at ${RATE}/s each (0: unpaced), $CONNECTIONS connections, ${DURATION} s"
export THREADS=1
export CLIENT_BASIC="$(printf 'daemon:bench-daemon-secret-0123456789abcdef' | base64 -w0)"
export SCOPE="api://bench/.default"
# Seeds for each refresh measurement (a rotated seed cannot be presented again), made
# before the floods, whose sign-ins would be shed.
eval "$(python3 benches/setup.py "$base" 64 "$work/refresh-seeds-unloaded")"
python3 benches/setup.py "$base" 64 "$work/refresh-seeds-signins" >/dev/null
python3 benches/setup.py "$base" 64 "$work/refresh-seeds-hostile" >/dev/null
# A forged access token for the hostile flood: the tenant's signing key named in its
# header, a signature of the right size that does not verify.
HOSTILE_BEARER="$(curl -sf "$base/bench/discovery/keys" | python3 -c '
import base64, json, os, sys
key = json.load(sys.stdin)["keys"][0]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
header = {"alg": key["alg"], "kid": key["kid"], "typ": "at+jwt"}
size = {"RS256": 256, "ES256": 64, "EdDSA": 64}.get(key["alg"], 256)
print(".".join([b64(json.dumps(header).encode()), b64(b"{\"sub\":\"x\"}"), b64(os.urandom(size))]))')"
export HOSTILE_BEARER
rss_kb() { awk '/VmRSS/ { print $2 }' "/proc/$pid/status"; }
# The pause that offers `rate` a second over `connections` connections (0: none).
pause_ms() { [ "$1" -gt 0 ] && echo $((1000 * $2 / $1)) || echo 0; }

# traced <file> <command…>: runs the command, its output to the file; with
# SCHED_TRACE=1, records the scheduler for DURATION seconds meanwhile and prints the
# waits and runs of the server's threads, the command's, the flood's wrk and the
# kernel's softirq threads (ksoftirqd: network packets the kernel defers to them).
traced() {
  local out="$1" tracer=""
  shift
  if [ "$SCHED_TRACE" = 1 ]; then
    perf sched record -q -o "$work/sched.data" -a -- sleep "$DURATION" >/dev/null 2>&1 &
    tracer=$!
    track "$tracer"
  fi
  "$@" > "$out" 2>&1 &
  local measuring=$!
  wait "$measuring"
  if [ -n "$tracer" ]; then
    wait "$tracer" || true
    # `load` is the flood's wrk when flood() called this.
    perf sched timehist -i "$work/sched.data" 2>/dev/null |
      python3 benches/sched_delays.py "$pid" "measuring=$measuring" ${load:+"flood=$load"} \
        $(pgrep ksoftirqd | sed 's/^/kernel=/')
  fi
}

# What the server timed for the token endpoint during a measurement: /metrics scraped
# before (scrape) and after (server_side), benches/server_latency.py.
scrape() { curl -sf "$base/metrics" > "$1"; }
# The machine's CPU time so far, and the part of it a virtual machine's CPUs were
# ready to run but the host ran something else ("steal", /proc/stat), as "total steal".
cpu_times() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $9 }' /proc/stat; }
# steal_share <"total steal" before>: that part over the time since, in percent. A
# measurement during which the host took a share of the CPUs is not comparable with
# one during which it did not.
steal_share() {
  local now
  now="$(cpu_times)"
  awk -v a="$1" -v b="$now" 'BEGIN { split(a, x, " "); split(b, y, " ");
    t = y[1] - x[1]; printf "steal: %.1f %% of the CPU time\n", (t > 0 ? 100 * (y[2] - x[2]) / t : 0) }'
}
server_side() {
  scrape "$work/metrics-after"
  python3 benches/server_latency.py "$work/metrics-before" "$work/metrics-after" oauth2/token
}

measure() { # label, refresh seeds
  export REFRESH_SEEDS="$2"
  export DELAY_MS
  DELAY_MS="$(pause_ms "$RATE" "$CONNECTIONS")"
  local cpu
  echo "== $1: client_credentials"
  scrape "$work/metrics-before"
  cpu="$(cpu_times)"
  traced "$work/measured.txt" \
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benches/client_credentials.lua "$base/bench/oauth2/token"
  grep -E 'Requests/sec|^ +(Latency +[0-9]|50%|99%)|non-2xx' "$work/measured.txt"
  server_side
  steal_share "$cpu"
  echo "== $1: refresh rotations"
  scrape "$work/metrics-before"
  cpu="$(cpu_times)"
  traced "$work/measured.txt" \
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benches/refresh.lua "$base"
  grep -E 'Requests/sec|^ +(Latency +[0-9]|50%|99%)|non-2xx|rotations' "$work/measured.txt"
  server_side
  steal_share "$cpu"
}

# flood <label> <script> <connections> <rate> <summary pattern> <seeds>: the
# measurements (with the refresh seeds named `seeds`) while `script` floods the
# server, then the flood's own summary and the peak memory.
flood() {
  local seconds=$((2 * DURATION + 6))
  echo
  echo "== flood: $1 offered at $4/s, $3 connections, ${seconds} s"
  JITTER="$FLOOD_JITTER" DELAY_MS="$(pause_ms "$4" "$3")" nice -n "$FLOOD_NICE" wrk -t1 -c"$3" -d"${seconds}s" --timeout 30s --latency -s "$2" "$base" \
    > "$work/flood.txt" 2>&1 &
  local load=$!
  track "$load"
  local peak=0 r
  ( while kill -0 "$load" 2>/dev/null; do r="$(rss_kb)"; [ "$r" -gt "$peak" ] && peak="$r"; echo "$peak" > "$work/peak"; sleep 1; done ) &
  local sampler=$!
  track "$sampler"
  sleep 3
  measure "under the $1 flood" "$work/refresh-seeds-$6"
  wait "$load"
  wait "$sampler" || true
  grep -E "Requests/sec|$5" "$work/flood.txt"
  echo "RSS: peak during the flood $(cat "$work/peak") kB; right after $(rss_kb) kB"
}

echo "idle: RSS $(rss_kb) kB"
measure "unloaded" "$work/refresh-seeds-unloaded"
if [ -n "$SPIN" ]; then
  case "$SPIN" in
    cpu) loop=(sh -c 'while :; do :; done') ;;
    memory) loop=(python3 -c 'a, b = bytearray(19 << 20), bytearray(19 << 20)
while True: b[:] = a') ;;
    *) echo "SPIN is cpu or memory" >&2; exit 2 ;;
  esac
  python3 benches/setup.py "$base" 64 "$work/refresh-seeds-spin" >/dev/null
  echo "commit to disk, unloaded: $(python3 benches/fsync_latency.py "$work")"
  # One loop per CPU the server runs on (with SERVER_CPUS, those; not the load's).
  spin_on=(${SERVER_CPUS:+taskset -c "$SERVER_CPUS"})
  spinners=()
  for _ in $(seq "$("${spin_on[@]}" nproc)"); do
    "${spin_on[@]}" chrt --idle 0 "${loop[@]}" &
    spinners+=("$!")
    track "$!"
  done
  echo
  measure "under ${#spinners[@]} $SPIN loops at idle priority" "$work/refresh-seeds-spin"
  echo "commit to disk, under the loops: $(python3 benches/fsync_latency.py "$work")"
  kill "${spinners[@]}"
  wait "${spinners[@]}" 2>/dev/null || true
fi
if [[ " $FLOODS " == *" sign-in "* ]]; then
  flood "sign-in" benches/signin.lua "$FLOOD_CONNECTIONS" "$FLOOD_RATE" 'sign-ins that|^shed|sign-in latency|socket errors' signins
fi
if [[ " $FLOODS " == *" hostile "* ]]; then
  flood "hostile" benches/hostile.lua "$HOSTILE_CONNECTIONS" "$HOSTILE_RATE" '^hostile|socket errors' hostile
fi
[ "$IDLE_CONNECTIONS" -gt 0 ] || exit 0

echo
echo "== $IDLE_CONNECTIONS connections that send nothing, held 15 s"
python3 benches/idle_connections.py "$PORT" "$IDLE_CONNECTIONS" 15 > "$work/idle.txt" &
idle=$!
track "$idle"
until grep -q opened "$work/idle.txt" 2>/dev/null; do
  kill -0 "$idle" 2>/dev/null || { echo "could not open the connections" >&2; exit 1; }
  sleep 0.2
done
sleep 1
echo "RSS with them open: $(rss_kb) kB"
wait "$idle"
cat "$work/idle.txt"
echo "RSS after: $(rss_kb) kB"
