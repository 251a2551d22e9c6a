#!/usr/bin/env bash
# Benchmark 1, baseline (b): ODK Central's backend (built from its public source by the shared
# harness, on its PostgreSQL 15 cluster, which Vigie's PostgreSQL run then uses too) and Vigie's OpenRosa endpoint, driven by the same
# load generator (shared/bench/odk-central/bench.py: multipart xml_submission_file, fresh
# instanceID each, keep-alive, closed loop) with the same form (bench_survey.xml) in the same
# sitting. Vigie is measured on SQLite and on PostgreSQL. Prints the ratio per level.
#
#   CENTRAL_BACKEND_GIT=/path/to/central-backend.git bench/ingest/odk-central.sh [--smoke]
#   LEVELS=1,16,64 DURATION=20 SKIP_CENTRAL=1 (reuse the last Central run in $ODK_DIR/results)
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
ODK_BENCH=${ODK_BENCH:-$REPO/../shared/bench/odk-central}
export ODK_DIR=${ODK_DIR:-/tmp/odk}
LEVELS=${LEVELS:-1,16,64}
DURATION=${DURATION:-20}
SMOKE=0; [ "${1:-}" = --smoke ] && SMOKE=1
OUT=${OUT:-$REPO/bench/ingest/results}; mkdir -p "$OUT"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
PY=$ODK_DIR/venv/bin/python
if [ ! -x "$PY" ]; then python3 -m venv "$ODK_DIR/venv"; "$ODK_DIR/venv/bin/pip" install -q uvloop >/dev/null 2>&1 || true; fi

if [ $SMOKE = 1 ]; then
  # Smoke: Vigie's OpenRosa side only (Central needs its source and minutes to build).
  LEVELS=1,4; DURATION=2; SKIP_CENTRAL=1
fi
central_json=""
if [ "${SKIP_CENTRAL:-0}" != 1 ]; then
  [ -n "${CENTRAL_BACKEND_GIT:-}" ] || die "set CENTRAL_BACKEND_GIT (a git copy of getodk/central-backend), or SKIP_CENTRAL=1"
  # The steps of the harness's run-baseline.sh (fresh database, one empty form per level, VACUUM
  # ANALYZE before each level, DB count = 201 count), but without waiting for an idle machine
  # between levels (--settle-busy 0): on a shared machine that wait never ends. The load average
  # is recorded instead, and Vigie runs right after under the same conditions.
  export MODE=single PG_PORT=${PG_PORT:-54329} APP_PORT=${APP_PORT:-8383} FRESH_DB=1
  "$ODK_BENCH/setup.sh" >&2
  "$PY" "$ODK_BENCH/seed.py" --base "http://127.0.0.1:$APP_PORT" --per-level-forms "$LEVELS" >/dev/null
  PSQL="runuser -u postgres -- /usr/lib/postgresql/$(cat "$ODK_DIR/pg/data/PG_VERSION")/bin/psql -X -q -tA -h $ODK_DIR/pg/sock -p $PG_PORT -U postgres"
  cdir=$OUT/central-$stamp; mkdir -p "$cdir"
  { echo "central-backend $(git -C "$ODK_DIR/central-backend" rev-parse HEAD)"; (. "$ODK_DIR/run/env.sh"; echo "node $(node --version)")
    $PSQL -d jubilant -c "select version()"; echo "load: $(uptime | sed 's/.*load average: //')"; } | tee "$cdir/versions.txt" >&2
  before=$($PSQL -d jubilant -c "select count(*) from submissions")
  "$PY" "$ODK_BENCH/bench.py" --seed "$ODK_DIR/run/seed.json" -c "$LEVELS" -d "$DURATION" --settle-busy 0 \
    --label "central-backend single" --json "$cdir/results.json" --form-per-level \
    --pre-level-cmd "$PSQL -d jubilant -c 'vacuum analyze'" | tee "$cdir/bench.txt" >&2
  after=$($PSQL -d jubilant -c "select count(*) from submissions")
  expected=$("$PY" -c "import json;r=json.load(open('$cdir/results.json'));print(r['preflight_ok']+r['warmup_ok']+sum(l['ok'] for l in r['levels']))")
  echo "central: submissions in db +$((after - before)), HTTP 201 responses $expected" | tee -a "$cdir/bench.txt" >&2
  central_json=$cdir/results.json
  # Stop Central's node process (frees the CPU for Vigie's turn) but keep its PostgreSQL: Vigie's
  # PostgreSQL run uses the same server, through a superuser role made for the purpose.
  kill -TERM "$(cat "$ODK_DIR/run/central.pid")" 2>/dev/null || true; sleep 2
  $PSQL -c "DROP ROLE IF EXISTS vigie_bench" -c "CREATE ROLE vigie_bench LOGIN SUPERUSER PASSWORD 'vigie_bench'" >/dev/null
  export VIGIE_BENCH_PG_URL="postgres://vigie_bench:vigie_bench@127.0.0.1:$PG_PORT/postgres"
  trap 'cleanup; "$ODK_BENCH/teardown.sh" >&2 || true' EXIT
elif ls -td "$ODK_DIR"/results/single-*/ >/dev/null 2>&1; then
  central_json=$(ls -td "$ODK_DIR"/results/single-*/ | head -1)results.json
fi

BIN=$(vigie_bin)
export VIGIE_KEY_FILE=$BENCH_TMP/vigie.key
machine | tee "$OUT/openrosa-$stamp.txt" >&2
BACKENDS=${BACKENDS:-sqlite,postgres}
for backend in ${BACKENDS//,/ }; do
  if [ "$backend" = postgres ] && [ -z "$(pg_admin_url)" ]; then log "postgres: no server, skipped"; continue; fi
  url=$(fresh_db "$backend" "openrosa_$backend")
  token=$(seed "$BIN" "$url" admin)
  start_vigie "$BIN" "$url"
  curl -sf -o /dev/null -X POST -H "Authorization: Bearer $token" -H "Content-Type: text/xml" \
    --data-binary "@$ODK_BENCH/bench_survey.xml" "$VIGIE_BASE/api/v1/forms?purpose=survey&area_code=ML" \
    || { cat "$BENCH_TMP"/vigie-*.out >&2; die "form upload refused"; }
  "$PY" "$ODK_BENCH/bench.py" --base "$VIGIE_BASE" --path "/key/$token/submission" -c "$LEVELS" -d "$DURATION" \
    --warmup $([ $SMOKE = 1 ] && echo 0.5 || echo 5) --settle-busy 0 --form-id bench_survey --version 1 \
    --label "vigie $backend" --group vigie='^vigie' --json "$OUT/openrosa-vigie-$backend-$stamp.json" >&2
  echo "peak RSS vigie ($backend): $(rss_peak_mb "$VIGIE_PID") MB" | tee -a "$OUT/openrosa-$stamp.txt" >&2
  stop_vigie
done

python3 - "$central_json" "$OUT" "$stamp" <<'PY' | tee -a "$OUT/openrosa-$stamp.txt"
import json, os, sys
central_path, out, stamp = sys.argv[1:4]
central = {l["concurrency"]: l for l in json.load(open(central_path))["levels"]} if central_path and os.path.exists(central_path) else {}
print(f"Central: {central_path or 'not run'}")
for backend in ("sqlite", "postgres"):
    p = f"{out}/openrosa-vigie-{backend}-{stamp}.json"
    if not os.path.exists(p):
        continue
    for l in json.load(open(p))["levels"]:
        c = l["concurrency"]; base = central.get(c)
        ratio = f"{l['subm_per_s'] / base['subm_per_s']:.1f}x" if base and base["subm_per_s"] else "n/a"
        cs = f"{base['subm_per_s']:>7}/s p99 {base['lat_ms']['p99']} ms" if base else "        -"
        print(f"c={c:<3} vigie-{backend:8} {l['subm_per_s']:>8}/s p50 {l['lat_ms']['p50']} ms p99 {l['lat_ms']['p99']} ms errors {l['errors']} | central {cs} | ratio {ratio} (target >= 10x)")
PY
