# Sourced by benches/profile.sh and benches/instructions.sh, from the repository root:
# the binary to measure, a scratch directory removed on exit with the server it started,
# and starting that server.

# $TESSERA_BIN (another build, for an A/B of two commits), or this tree's release
# binary, built here.
tessera_binary() {
  if [ -n "${TESSERA_BIN:-}" ]; then
    echo "$TESSERA_BIN"
    return
  fi
  cargo build --release -q || return 1
  echo "$PWD/target/release/tessera"
}

work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# start_server <command…>: runs it in $work (stdout to out.log, stderr to err.log) as
# $pid, and returns once it logs that it is ready; exits if it stops first.
start_server() {
  (cd "$work" && exec "$@" >"$work/out.log" 2>"$work/err.log") &
  pid=$!
  until grep -q "ready on http://" "$work/out.log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "tessera did not start:" >&2; cat "$work/err.log" >&2; exit 1; }
    sleep 0.01
  done
}
