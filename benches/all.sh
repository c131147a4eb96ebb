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
#   TESSERA_BIN=/path/to/tessera bash benches/all.sh   (that binary for Tessera's parts
#     instead of this tree's; the folder's name ends in -bin and binary.txt names it)
# Needs what the parts need: wrk, python3, psql, openssl, node and npm.
# It stops nothing it did not start: when something already listens on a port the parts
# use, it says so and does not start.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/server.sh
pg="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tessera_bench}"
# The parts' ports: run.sh, million.sh, calibrate.sh, peer/run.sh (one PORT for all when
# it is set).
port_free ${PORT:-18080 18082 18090 3100} || {
  echo "benches/all.sh did not start: its loads would meet that server" >&2
  exit 1
}
# Other Tessera servers share the two cores with the loads; say so, but leave them be.
if others="$(pgrep -a -f 'tessera serve')"; then
  echo "note: other Tessera servers are running and will take CPU from the loads:" >&2
  echo "$others" >&2
fi
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates benches || echo '-dirty')"
[ -z "${TESSERA_BIN:-}" ] || commit="$commit-bin"
out="benches/results/$(date -u +%Y-%m-%d)-$commit"
mkdir -p "$out"
[ -z "${TESSERA_BIN:-}" ] || echo "$TESSERA_BIN" >"$out/binary.txt"
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
part calibrate-before env DATABASE_URL="$pg" bash benches/calibrate.sh
part sqlite env -u DATABASE_URL bash benches/run.sh
part postgres env DATABASE_URL="$pg" bash benches/run.sh
part peer bash benches/peer/run.sh
part million-sqlite env -u DATABASE_URL bash benches/million.sh
part million-postgres env DATABASE_URL="$pg" bash benches/million.sh
part calibrate-after env DATABASE_URL="$pg" bash benches/calibrate.sh
# The headline lines: each load's name, rate and p99, counts, memory and start-up.
grep -H -E '^==|Requests/sec|  99%|rotations:|complete flows|sign-ins:|minted|active answers|RSS|ready|transactions/s|hashes/s|EdDSA \(Ed25519\)' \
  "$out"/*.txt | sed "s|^$out/||" | tee "$out/summary.txt"
echo "raw output: $out"
