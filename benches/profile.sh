#!/usr/bin/env bash
# Profiles the release server under the client_credentials (EdDSA) load of benches/run.sh:
# perf record (cpu-clock; hardware counters are not available on every machine) for 8 s
# of a 12 s wrk run, then: perf report -i /tmp/perf.data --no-children --sort symbol --stdio
# Needs a release build (cargo build --release), wrk and linux-perf.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
(cd "$work" && exec "$OLDPWD/target/release/tessera" serve --listen 127.0.0.1:0 >"$work/out.log" 2>"$work/err.log") &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until grep -q "ready on http://" "$work/out.log" 2>/dev/null; do sleep 0.01; done
base="$(grep -o 'ready on http://[0-9.:]*' "$work/out.log" | head -1 | sed 's/ready on //')"
credential="$(grep -o 'admin/api/v1): .*' "$work/err.log" | sed 's/.*: //')"
admin() { curl -sf -H "Authorization: Bearer $credential" -H 'Content-Type: application/json' "$@"; }
admin -d '{"slug":"bench"}' "$base/admin/api/v1/tenants" >/dev/null
admin -d '{"identifier":"api://bench","name":"Bench API","app_roles":["Reader"]}' "$base/admin/api/v1/tenants/bench/apis" >/dev/null
admin -d '{"client_id":"daemon","name":"Daemon","grant_types":["client_credentials"],"permissions":[{"api":"api://bench","app_roles":["Reader"]}]}' "$base/admin/api/v1/tenants/bench/apps" >/dev/null
secret="$(admin -d '{}' "$base/admin/api/v1/tenants/bench/apps/daemon/secrets" | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')"
export CLIENT_BASIC="$(printf 'daemon:%s' "$secret" | base64 -w0)"
export SCOPE="api://bench/.default"
wrk -t2 -c64 -d12s -s benches/client_credentials.lua "$base/bench/oauth2/token" > /tmp/prof-wrk.txt &
sleep 2
perf record -e cpu-clock -F 499 -g -p "$pid" -o /tmp/perf.data -- sleep 8 2>/dev/null
wait
