#!/usr/bin/env bash
# Memory and speed with 1,000,000 stored refresh tokens: seeds a tenant through the real
# flows (benches/setup.py), stops the server, copies one real refresh-token row a million
# times with SQL (same tenant, document and expiry; fresh ids and keys), starts the
# server again (its first sweep runs at once) and measures start-up, idle RSS, the
# refresh rotation load and RSS after it.
#   bash benches/million.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench bash benches/million.sh
#   TESSERA_BIN=/path/to/tessera bash benches/million.sh   (that binary, not this tree's)
# Needs wrk, python3 (and psql for PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
COUNT="${COUNT:-1000000}"
PORT="${PORT:-18082}"
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
start() {
  POLL=0.002 start_server "$bin" serve "${db[@]}" --listen "127.0.0.1:$PORT"
  echo "start to ready: $ready_ms ms"
}
rss() { awk '/VmRSS|VmHWM/ { printf "%s %s kB  ", $1, $2 } END { print "" }' "/proc/$pid/status"; }
base="http://127.0.0.1:$PORT"
built="commit $(git rev-parse --short HEAD)"
[ -z "${TESSERA_BIN:-}" ] || built="binary $TESSERA_BIN"
echo "machine: $(nproc) cores, $(uname -sr); $built; date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "store: ${DATABASE_URL:-sqlite (default, synchronous=FULL)}"
start >/dev/null
eval "$(python3 benches/setup.py "$base" 256 "$work/refresh-seeds")"
stop_server

copy_started="$(date +%s)"
if [ -n "${DATABASE_URL:-}" ]; then
  psql -q "$DATABASE_URL" -c "INSERT INTO directory_objects
      (id, tenant_id, kind, key, doc, created_at, updated_at, version, expires_at)
    SELECT '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), t.tenant_id, t.kind,
           'bulk' || i, t.doc, t.created_at, t.updated_at, 1, t.expires_at
    FROM (SELECT * FROM directory_objects WHERE kind = 'refresh_token' LIMIT 1) t,
         generate_series(1, $COUNT) i" -c "ANALYZE directory_objects"
else
  python3 - "$work/data/tessera.db" "$COUNT" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
  INSERT INTO directory_objects (id, tenant_id, kind, key, doc, created_at, updated_at, version, expires_at)
  SELECT printf('00000000-0000-4000-8000-%012x', n.i), t.tenant_id, t.kind, 'bulk' || n.i,
         t.doc, t.created_at, t.updated_at, 1, t.expires_at
  FROM (SELECT * FROM directory_objects WHERE kind = 'refresh_token' LIMIT 1) t, n""", (int(sys.argv[2]),))
db.commit()
PY
fi
echo "copied $COUNT refresh-token rows in $(( $(date +%s) - copy_started )) s"
start
sleep 2
echo "idle RSS (2 s after ready, the start-up sweep done): $(rss)"
echo
echo "== refresh token rotations with $COUNT more refresh tokens stored"
/usr/bin/time -f "wrk CPU: %U s user + %S s system over %e s" \
  wrk -t"$THREADS" -c64 -d"${DURATION}s" --latency -s benches/refresh.lua "$base" 2>&1 | grep -v '^\s*$'
echo "server memory after: $(rss)"
