#!/usr/bin/env bash
# Fuzzing with cargo fuzz (libFuzzer). Installs cargo-fuzz from crates.io when missing; uses the
# machine's stable toolchain with RUSTC_BOOTSTRAP=1 for the sanitizer flags cargo fuzz passes.
#   fuzz/run.sh smoke               # every target briefly (CI): a crash or a timeout fails
#   fuzz/run.sh long [RUNS]         # every target for RUNS executions (default 10 million);
#                                   # FUZZ_MAX_SECONDS caps each target's time, FUZZ_TARGETS picks
#                                   # targets, FUZZ_FORK=N spreads one run over N worker processes
#                                   # (libFuzzer -fork: RUNS counts the executions of all of them,
#                                   # the corpus is merged as they go); one summary line per target
#                                   # (executions, time, exec/s, peak RSS, result) goes to stdout
#   fuzz/run.sh TARGET [ARGS…]      # one target, libFuzzer arguments passed through
# A crash leaves its input in fuzz/artifacts/TARGET/: add it to fuzz/corpus/TARGET/ and to a
# regression test once fixed.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

targets=${FUZZ_TARGETS:-$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^vigie-fuzz$')}
run() { # TARGET libFuzzer-args…
  local t=$1; shift
  mkdir -p "corpus/$t"
  cargo fuzz run --sanitizer none "$t" "corpus/$t" -- -timeout=10 -rss_limit_mb=1024 -max_len=65536 "$@"
}

case "${1:-smoke}" in
  smoke)
    cargo fuzz build --sanitizer none
    for t in $targets; do
      echo "== fuzz smoke: $t" >&2
      # Work on a copy of the corpus so CI runs do not grow the repository.
      tmp=$(mktemp -d); cp -r "corpus/$t/." "$tmp/" 2>/dev/null || true
      cargo fuzz run --sanitizer none "$t" "$tmp" -- -timeout=10 -rss_limit_mb=1024 -max_len=65536 -max_total_time="${FUZZ_SECONDS:-8}" -print_final_stats=1 2>&1 | grep -E "stat::number_of_executed_units|ERROR|panicked|SUMMARY" || true
      test "${PIPESTATUS[0]}" -eq 0
      rm -rf "$tmp"
    done
    ;;
  long)
    cargo fuzz build --sanitizer none
    for t in $targets; do
      echo "== fuzz long: $t" >&2
      log=$(mktemp)
      start=$(date +%s)
      rc=0
      # New inputs go to a scratch directory (the seeds in corpus/ are read, never grown).
      work="${FUZZ_WORK:-/tmp/vigie-fuzz}/$t"; mkdir -p "$work"
      cargo fuzz run --sanitizer none "$t" "$work" "corpus/$t" -- -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
        -runs="${2:-10000000}" -max_total_time="${FUZZ_MAX_SECONDS:-0}" -print_final_stats=1 \
        ${FUZZ_FORK:+-fork=$FUZZ_FORK} >"$log" 2>&1 || rc=$?
      secs=$(( $(date +%s) - start ))
      stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
      runs=$(stat number_of_executed_units) rss=$(stat peak_rss_mb)
      # Fork mode prints no final stats: its status lines (`#N: cov: …`) count every worker.
      [ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\): .*/\1/p' "$log" | tail -1)
      result=$([ "$rc" -eq 0 ] && echo "no crash, no timeout, no OOM" || echo "FAILED (exit $rc, see fuzz/artifacts/$t)")
      echo "$t: ${runs:-?} executions in ${secs} s, $(( ${runs:-0} / (secs > 0 ? secs : 1) )) exec/s, peak RSS ${rss:-?} MB${FUZZ_FORK:+ (per worker: not reported in fork mode)}, ${FUZZ_FORK:+$FUZZ_FORK workers, }corpus $(ls "$work" | wc -l) new inputs: $result"
      [ "$rc" -eq 0 ] || tail -40 "$log" >&2
      rm -f "$log"
    done
    ;;
  *)
    run "$@"
    ;;
esac
