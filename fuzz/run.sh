#!/usr/bin/env bash
# Runs the fuzz targets (all, or those named) on their committed corpus, coverage-guided
# with libFuzzer through cargo-fuzz. docs/reliability.md says what each target covers
# and what the long runs found.
#
#   fuzz/run.sh --seconds 10            each target for 10 s (CI's smoke run)
#   fuzz/run.sh --runs 10000000 jwt     10 million executions of one target
#   fuzz/run.sh --runs 10000000 --merge jwt   the same, then keep what it found
#
# New inputs go to a scratch corpus, not the committed one; with --merge, after a run
# without failure, those of them that reach code the committed corpus does not are
# added to it (libFuzzer's -merge=1: the smallest input for each new feature). A crash,
# timeout or memory blow-up stops the run with a non-zero status and leaves its input in
# fuzz/artifacts/<target>/ (turn it into a regression test).
set -euo pipefail
cd "$(dirname "$0")/.."

limit=()
case "${1:-}" in
  --seconds) limit=("-max_total_time=$2"); shift 2 ;;
  --runs) limit=("-runs=$2"); shift 2 ;;
  *) echo "usage: fuzz/run.sh --seconds N | --runs N [--merge] [target...]" >&2; exit 2 ;;
esac
merge=0
if [ "${1:-}" = "--merge" ]; then
  merge=1
  shift
fi

# cargo-fuzz's instrumentation flags are unstable rustc options; the stable toolchain
# takes them with RUSTC_BOOTSTRAP (the only toolchain this machine has).
export RUSTC_BOOTSTRAP=1
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
# Safe Rust needs no AddressSanitizer to find what matters here (panics, timeouts,
# memory growth), and runs about twice as fast without it.
fuzz=(cargo fuzz)
"${fuzz[@]}" build --fuzz-dir fuzz -s none

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <("${fuzz[@]}" list --fuzz-dir fuzz)
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
  printf '\n-- %s\n' "$target"
  mkdir -p "$scratch/$target"
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: the process past 2 GiB
  # is a leak or an unbounded allocation.
  log="$scratch/$target.log"
  status=0
  "${fuzz[@]}" run --fuzz-dir fuzz -s none "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
    "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 \
    || status=$?
  grep -E '^(#[0-9]+ +(INITED|DONE)|Done [0-9]+ runs|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz target $target failed (status $status): its input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  if [ "$merge" -eq 1 ]; then
    before="$(find "fuzz/corpus/$target" -type f | wc -l)"
    "${fuzz[@]}" run --fuzz-dir fuzz -s none "$target" "fuzz/corpus/$target" "$scratch/$target" -- \
      -merge=1 -timeout=10 -rss_limit_mb=2048 >"$scratch/$target.merge.log" 2>&1 \
      || { tail -n 20 "$scratch/$target.merge.log" >&2; exit 1; }
    echo "corpus: $before inputs before, $(find "fuzz/corpus/$target" -type f | wc -l) after the merge"
  fi
done
