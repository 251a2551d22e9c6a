#!/usr/bin/env bash
# Benchmark 1: report ingest over HTTP (POST /api/v1/reports, durable: 2xx = on disk).
# For each backend and each concurrency: wrk drives the JSON API for DURATION seconds, then
# baseline (a) inserts the same rows in-process with the same durability and the same number
# of reports per commit the server's group commit reached (examples/raw_insert.rs).
# Checks that the database holds exactly as many reports as 2xx answers.
#
#   bench/ingest/run.sh [--smoke]        BACKENDS=sqlite,postgres LEVELS=1,16,256 DURATION=10
#   PREFILL=1000000 bench/ingest/run.sh  the same on a database already holding N synthetic
#                                        reports (`vigie bench generate`; benchmark 6's curve)
#   INGEST_DB=sqlite:/path/bench-10000000.db INGEST_KEY=/path/bench.key BACKENDS=sqlite bench/ingest/run.sh
#                                        the same on a database already filled (kept by
#                                        bench/analytics/run.sh --keep); its reports stay
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
SMOKE=0; [ "${1:-}" = --smoke ] && SMOKE=1
BACKENDS=${BACKENDS:-sqlite,postgres}
LEVELS=${LEVELS:-1,16,256}
DURATION=${DURATION:-10}
PREFILL=${PREFILL:-0}
if [ $SMOKE = 1 ]; then LEVELS=${SMOKE_LEVELS:-1,16}; DURATION=2; fi
OUT=${OUT:-$REPO/bench/ingest/results}
mkdir -p "$OUT"
command -v wrk >/dev/null || { log "installing wrk (Debian)"; apt-get install -y -q wrk >/dev/null; }

BIN=$(vigie_bin)
# Baseline (a) is built with the same profile as the server it is compared with (release, or
# debug for the test suite's smoke run, which then needs no second, release build of the deps).
raw_profile=${VIGIE_BENCH_PROFILE:-release}   # cargo's "dev" profile builds into target/debug
(cd "$REPO" && cargo build -q --profile "$([ "$raw_profile" = debug ] && echo dev || echo release)" -p vigie-storage --example raw_insert >&2)
RAW=$TARGET/$raw_profile/examples/raw_insert
stamp=$(date -u +%Y%m%dT%H%M%SZ)
json=$OUT/ingest-$stamp.json
echo "[" >"$json"; first=1
machine | tee "$OUT/ingest-$stamp.txt" >&2

for backend in ${BACKENDS//,/ }; do
  if [ "$backend" = postgres ] && [ -z "$(pg_admin_url)" ]; then log "postgres: no server, skipped"; continue; fi
  url=${INGEST_DB:-$(fresh_db "$backend" "ingest_$backend")}
  # A database filled beforehand comes with its key (INGEST_KEY), else a fresh one.
  export VIGIE_KEY_FILE=${INGEST_KEY:-$BENCH_TMP/vigie.key}
  if [ "$PREFILL" -gt 0 ]; then
    log "$backend: prefilling $PREFILL reports"
    "$BIN" --db "$url" bench generate --reports "$PREFILL" --seed 3 >&2
  fi
  token=$(seed "$BIN" "$url")
  start_vigie "$BIN" "$url"
  for c in ${LEVELS//,/ }; do
    t=$(( c < 2 ? 1 : 2 ))
    c0=$(metric vigie_intake_commits_total); r0=$(metric vigie_intake_reports_total)
    before=$(curl -sf -H "Authorization: Bearer $token" "$VIGIE_BASE/api/v1/reports?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    BENCH_TOKEN=$token BENCH_RUN="$backend-p$PREFILL-c$c-$stamp" wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s --latency \
      -s "$REPO/bench/ingest/post.lua" "$VIGIE_BASE" >"$BENCH_TMP/wrk.txt"
    c1=$(metric vigie_intake_commits_total); r1=$(metric vigie_intake_reports_total)
    after=$(curl -sf -H "Authorization: Bearer $token" "$VIGIE_BASE/api/v1/reports?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    rss=$(rss_peak_mb "$VIGIE_PID")
    # Baseline (a): same rows, same durability, same reports per commit, fresh database.
    batch=$(python3 -c "print(max(1.0, ($r1-$r0)/max(1,$c1-$c0)))")
    rawurl=$(fresh_db "$backend" "raw_${backend}_c$c")
    rows=$(( SMOKE == 1 ? 2000 : 50000 ))
    raw=$("$RAW" --db "$rawurl" --rows "$rows" --batch "$batch")
    line=$(python3 "$REPO/bench/ingest/report.py" "$BENCH_TMP/wrk.txt" "$backend" "$c" "$DURATION" "$((after - before))" "$batch" "$rss" "$raw")
    echo "$line" | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print("{backend:8} c={clients:<4} {reports_per_s:>9.0f} reports/s  p50 {p50_ms:>7.2f} ms  p99 {p99_ms:>7.2f} ms  errors {errors}  stored {stored}/{ok}  {reports_per_commit:.1f}/commit  raw(a) {raw_rows_per_s:>9.0f}/s  ratio {ratio_vs_raw:.2f}  peak RSS {peak_rss_mb} MB".format(**r))' | tee -a "$OUT/ingest-$stamp.txt"
    [ $first = 1 ] || echo "," >>"$json"; first=0; echo "$line" >>"$json"
  done
  stop_vigie
done
echo "]" >>"$json"
log "results: $json"
