# Sourced by the bench scripts (run.sh, million.sh, profile.sh, instructions.sh,
# calibrate.sh, all.sh), from the repository root: the binary to measure, a scratch
# directory, and the processes the script starts. Every one of them is stopped by the
# PID the script got when it started it, never by name: other Tessera servers on the
# machine are not the script's to stop.

# $TESSERA_BIN (another build, for an A/B of two commits), or this tree's release
# binary, built here.
tessera_binary() {
  if [ -n "${TESSERA_BIN:-}" ]; then
    [ -x "$TESSERA_BIN" ] || { echo "TESSERA_BIN=$TESSERA_BIN is not an executable" >&2; return 1; }
    echo "$TESSERA_BIN"
    return
  fi
  cargo build --release -q || return 1
  echo "$PWD/target/release/tessera"
}

# port_free <port>…: fails, saying what to do, when something already listens on one of
# them on 127.0.0.1 (a server left running would otherwise answer the load, or take
# the port the script's server needs).
port_free() {
  local port
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "something already listens on 127.0.0.1:$port; stop it, or run with another PORT" >&2
      return 1
    fi
  done
}

# database_url: $DATABASE_URL, a PostgreSQL database dropped and created again here
# (its name is the URL's last part), or else a SQLite file in the scratch directory.
database_url() {
  if [ -n "${DATABASE_URL:-}" ]; then
    psql -q "${DATABASE_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS ${DATABASE_URL##*/}" \
      -c "CREATE DATABASE ${DATABASE_URL##*/}" >&2 || return 1
    echo "$DATABASE_URL"
  else
    echo "sqlite://$work/data/tessera.db"
  fi
}

work="$(mktemp -d)"
pid=""      # the server this script started
helpers=()  # other background processes it started (a load, a side load)

# stop_server: stops the server this script started (SIGTERM: it finishes what is in
# flight) and waits for it.
stop_server() {
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

# track <pid>: a background process to stop if the script ends before it does.
track() { helpers+=("$1"); }

cleanup() {
  # Only the script's own shell: a background child killed before it ran its command
  # is still a copy of this shell, with these traps.
  [ "$BASHPID" = "$$" ] || return 0
  local p
  for p in ${helpers[@]+"${helpers[@]}"}; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
# Interrupted or terminated: exit, which runs cleanup.
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server <command…>: runs it in $work (stdout to out.log, stderr to err.log) as
# $pid, and returns once it logs that it is ready, with ready_ms set to the time from
# the start to that line (polling every POLL seconds, 0.01 by default); exits if it
# stops first.
start_server() {
  local start_ns
  : >"$work/out.log"
  start_ns="$(date +%s%N)"
  (cd "$work" && exec "$@" >"$work/out.log" 2>"$work/err.log") &
  pid=$!
  until grep -q "ready on http://" "$work/out.log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "the server did not start:" >&2; cat "$work/err.log" >&2; exit 1; }
    sleep "${POLL:-0.01}"
  done
  ready_ms=$((($(date +%s%N) - start_ns) / 1000000))
}
