#!/usr/bin/env bash
# The whole benchmark job of issue 6 in one command, every part in the same run on the
# same machine: this machine's ceilings (benches/calibrate.sh) before and after, Tessera
# on SQLite and on PostgreSQL (benches/run.sh), oidc-provider under the same loads
# (benches/peer/run.sh) and a million stored refresh tokens on both stores
# (benches/million.sh). Each part's raw output goes to
# benches/results/<date>-<commit>/<part>.txt, and the headline lines of all of them are
# printed at the end (and kept as summary.txt). About 20 minutes on two cores.
#   bash benches/all.sh
#   DATABASE_URL=postgres://user@host:5432/db bash benches/all.sh   (that database is
#     dropped and created again; default postgres://postgres@127.0.0.1:5432/tessera_bench)
# Needs what the parts need: wrk, python3, psql, openssl, node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
pg="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tessera_bench}"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates benches || echo '-dirty')"
out="benches/results/$(date -u +%Y-%m-%d)-$commit"
mkdir -p "$out"
part() { # part <name> <command…>: run it, its output to $out/<name>.txt
  local name="$1"
  shift
  echo "== $name ($(date -u +%H:%M:%S))"
  if ! "$@" >"$out/$name.txt" 2>&1; then
    echo "$name failed: see $out/$name.txt" >&2
    tail -5 "$out/$name.txt" >&2
    exit 1
  fi
}
# Nothing else of ours may hold the CPU or the ports while the loads run.
pkill -f 'tessera serve' 2>/dev/null || true
part calibrate-before env DATABASE_URL="$pg" bash benches/calibrate.sh
part sqlite env -u DATABASE_URL bash benches/run.sh
part postgres env DATABASE_URL="$pg" bash benches/run.sh
part peer bash benches/peer/run.sh
part million-sqlite env -u DATABASE_URL bash benches/million.sh
part million-postgres env DATABASE_URL="$pg" bash benches/million.sh
part calibrate-after env DATABASE_URL="$pg" bash benches/calibrate.sh
# The headline lines: each load's name, rate and p99, counts, memory and start-up.
grep -H -E '^==|Requests/sec|  99%|rotations:|complete flows|sign-ins:|RSS|ready|transactions/s|hashes/s|EdDSA \(Ed25519\)' \
  "$out"/*.txt | sed "s|^$out/||" | tee "$out/summary.txt"
echo "raw output: $out"
