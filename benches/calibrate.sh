#!/usr/bin/env bash
# How fast is this machine? The figures in BENCHMARKS.md depend on it, and the machine a
# session gets varies. Prints two numbers to set beside them:
# - the HTTP stack alone (crates/tessera-server/examples/static_json.rs: axum, a static
#   JSON body) under the same wrk settings as benches/run.sh; ../shared/spec/architecture.md
#   measured ~127k requests/s on the machine the targets were set on;
# - `openssl speed ed25519` signatures/s on one core.
#   bash benches/calibrate.sh
# Needs wrk and openssl; builds the example in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-18090}"
cargo build --release -q --example static_json
./target/release/examples/static_json "127.0.0.1:$PORT" >/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null' EXIT
until curl -sf "http://127.0.0.1:$PORT/" >/dev/null; do sleep 0.05; done
echo "machine: $(nproc) cores, Linux $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "== HTTP stack alone (axum, static JSON), wrk -t2 -c64 -d10s"
wrk -t2 -c64 -d10s "http://127.0.0.1:$PORT/" | grep -E 'Requests/sec|Latency  '
echo "== openssl speed ed25519 (one core)"
openssl speed -seconds 3 ed25519 2>/dev/null | tail -1
