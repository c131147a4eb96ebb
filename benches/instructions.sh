#!/usr/bin/env bash
# Counts the instructions Tessera executes per request under valgrind's callgrind: user
# space only, but the same count for the same binary and input whatever else the machine
# is doing, so a change to the request path can be compared on a machine whose rates
# drift (as docs/decisions/0014-typed-claims-to-bytes.md was). N requests (default
# 1,000) of one load on one keep-alive connection, after 20 that are not counted;
# prints the total and the inclusive counts of the functions named in SHOW (an extended
# regular expression).
# Every thread counts, so `refresh` (one token rotated N times, each request presenting
# the token the last one returned) includes the SQLite writer thread's commits.
#   bash benches/instructions.sh [cc|jwks|refresh] [N]
#   TESSERA_BIN=/path/to/tessera bash benches/instructions.sh cc   (another build)
#   KEEP=/tmp/cg.out bash benches/instructions.sh jwks   (keep callgrind's output, for
#   callgrind_annotate without --inclusive: where the instructions are spent, not passed)
# Needs valgrind and python3; builds the release binary unless TESSERA_BIN is given.
set -euo pipefail
cd "$(dirname "$0")/.."
LOAD="${1:-cc}"
N="${2:-1000}"
PORT="${PORT:-18097}"
SHOW="${SHOW:-PROGRAM TOTALS|Signer::sign|token::grant::|form_and_client|serialize \[|Display|into_response \[|format_event}"
repo="$PWD"
. benches/server.sh
port_free "$PORT"
bin="$(tessera_binary)"
db="sqlite://$work/tessera.db"
(cd "$work" && "$bin" import --database-url "$db" "$repo/benches/tenant.json" >/dev/null 2>&1)
# Instrumentation starts off (start-up is not counted) and is switched on around the
# measured requests with callgrind_control.
start_server valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" \
  "$bin" serve --database-url "$db" --listen "127.0.0.1:$PORT"
if [ "$LOAD" = refresh ]; then
  # One refresh token, from a sign-in and a code flow through the real pages.
  eval "$(python3 benches/setup.py "http://127.0.0.1:$PORT" 1 "$work/seeds")"
  export REFRESH_SEEDS WEB_BASIC
fi
python3 - "$PORT" "$N" "$LOAD" "$pid" <<'PY'
import base64, http.client, json, os, subprocess, sys
port, n, load, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
token = [open(os.environ["REFRESH_SEEDS"]).readline().strip()] if load == "refresh" else [None]
conn = http.client.HTTPConnection("127.0.0.1", port)
basic = base64.b64encode(b"daemon:bench-daemon-secret-0123456789abcdef").decode()
def one():
    if load == "cc":
        conn.request("POST", "/bench/oauth2/token",
                     "grant_type=client_credentials&scope=api://bench/.default",
                     {"Authorization": "Basic " + basic,
                      "Content-Type": "application/x-www-form-urlencoded"})
    elif load == "jwks":
        conn.request("GET", "/bench/discovery/keys")
    elif load == "refresh":
        conn.request("POST", "/bench/oauth2/token",
                     "grant_type=refresh_token&refresh_token=" + token[0],
                     {"Authorization": "Basic " + os.environ["WEB_BASIC"],
                      "Content-Type": "application/x-www-form-urlencoded"})
    else:
        sys.exit(f"unknown load {load}")
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"{load} answered {r.status}: {body[:200]!r}")
    if load == "refresh":
        token[0] = json.loads(body)["refresh_token"]
for _ in range(20):
    one()
subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
for _ in range(n):
    one()
subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
PY
kill -INT "$pid"
wait "$pid" 2>/dev/null || true
pid=""
echo "$LOAD, $N requests, binary $bin"
callgrind_annotate --inclusive=yes "$work/cg.out" 2>/dev/null | grep -E "$SHOW" | head -20
[ -z "${KEEP:-}" ] || cp "$work/cg.out" "$KEEP"
