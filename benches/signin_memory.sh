#!/usr/bin/env bash
# The memory of password hashing: a server whose only load is a flood of password
# sign-ins (Argon2id), its resident memory before, right after and every 5 seconds for
# 30 seconds after, and the sign-in rate of the flood. Each hashing worker keeps its
# Argon2 memory (19 MiB at the defaults) while busy and frees it after
# runtime::passwords::IDLE_RELEASE without work.
# Needs wrk (apt-get install wrk), curl and python3.
#   bash benches/signin_memory.sh
#   TESSERA_BIN=/path/to/tessera bash benches/signin_memory.sh   (another build)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
PORT="${PORT:-18083}"
repo="$PWD"
. benches/server.sh
port_free "$PORT"
bin="$(tessera_binary)"
db="sqlite://$work/data/tessera.db"
(cd "$work" && "$bin" import --database-url "$db" "$repo/benches/tenant.json" >/dev/null 2>&1)
start_server "$bin" serve --database-url "$db" --listen "127.0.0.1:$PORT"
base="http://127.0.0.1:$PORT"
rss() { awk '/VmRSS|VmHWM/ { printf "%s %s kB  ", $1, $2 } END { print "" }' "/proc/$pid/status"; }
echo "machine: $(nproc) cores, $(uname -sr)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates || echo ' (with uncommitted changes)')"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "idle before any sign-in: $(rss)"
# One sign-in through the real pages (setup.py), no refresh seeds.
eval "$(python3 benches/setup.py "$base" 0 "$work/seeds")"
sleep 6
echo "idle 6 s after one sign-in: $(rss)"
echo
echo "== password sign-ins (Argon2id), 8 connections, ${DURATION} s"
wrk -t2 -c8 -d"${DURATION}s" -s benches/signin.lua "$base" 2>&1 | grep -E 'Requests/sec|sign-ins that|non-2xx'
echo "right after: $(rss)"
for s in 5 10 15 20 25 30; do
  sleep 5
  echo "${s} s after: $(rss)"
done
