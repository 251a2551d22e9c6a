#!/usr/bin/env bash
# Benchmark 2 (issue 11.2): alert latency, SMS in → responder SMS out, through a real Kannel
# (bearerbox + smsbox + fakesmsc from scripts/kannel.sh). A registered focal point's SMS of an
# auto-raised category ("ALERTE attaque Koro …") is written into fakesmsc; the time until
# fakesmsc logs the responder's SMS is one latency. Alerts are sent one at a time (each is
# cancelled afterwards, so the next SMS opens a new event) while a paced generator posts
# reports over HTTP in the background (target LOAD_RATE per second, other categories and
# regions). Baseline, same run: the same Kannel path to a trivial echo service that sends the
# responder SMS at once (Kannel's own delays + one HTTP hop each way). Vigie's latency =
# measured − baseline. Peak RSS of Vigie. Everything on loopback, bounded in count and time.
#
#   bench/alerts/run.sh [--smoke]     ALERTS=1000 LOAD_RATE=1000 BACKENDS="sqlite postgres"
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
ALERTS=${ALERTS:-1000}; LOAD_RATE=${LOAD_RATE:-1000}; BACKENDS=${BACKENDS:-sqlite postgres}
if [ "${1:-}" = --smoke ]; then ALERTS=${SMOKE_ALERTS:-10}; LOAD_RATE=${SMOKE_RATE:-20}; fi
OUT=${OUT:-$REPO/bench/alerts/results}; mkdir -p "$OUT"
BIN=$(vigie_bin)
export VIGIE_KEY_FILE=$BENCH_TMP/vigie.key
PY="python3 $REPO/bench/alerts/alerts.py"
KANNEL="bash $REPO/scripts/kannel.sh"
RESPONDER=+22365000001
# The focal points' numbers: +22376100001, +22376100002, …
reporter() { printf '+223761%05d\n' "$1"; }
N_REPORTERS=$(( (ALERTS + 14) / 15 ))
REPORTERS=$(for n in $(seq 1 "$N_REPORTERS"); do reporter "$n"; done | paste -sd,)
# Upper bound of one run's background load (it normally stops when the alerts are done).
MAX_LOAD_SECONDS=${MAX_LOAD_SECONDS:-900}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
res="$OUT/alerts-$stamp"
KDIRS=()
stop_kannels() { for d in "${KDIRS[@]}"; do $KANNEL stop "$d" >/dev/null 2>&1 || true; done; }
trap 'stop_kannels; cleanup' EXIT

kannel_start() { # VIGIE_PORT KEY — exports KANNEL_*
  eval "$(VIGIE_PORT=$1 VIGIE_SMS_KEY=$2 $KANNEL start)"
  KDIRS+=("$KANNEL_DIR")
}

wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; die "port $1 not open"; }

api() { # METHOD PATH JSON
  curl -sf -X "$1" "$VIGIE_BASE$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}
}

machine | tee "$res.txt" >&2
{
  echo "alerts: $ALERTS, background load target: $LOAD_RATE reports/s, backends: $BACKENDS"
  echo "kannel: $(bearerbox --version 2>&1 | grep -m1 -o 'version .*' || echo '?')"
} | tee -a "$res.txt" >&2

# ---- Baseline: Kannel → echo service → sendsms → Kannel → fakesmsc.
log "baseline: Kannel + echo service, $ALERTS SMS"
port=$(free_port)
kannel_start "$port" "baseline-key"
# Kannel's configured timers on this path, recorded with the figures (they are inside the baseline).
{
  echo "kannel config (timers on the measured path):"
  grep -E '^(http-queue-delay|http-request-retry|sms-resend-freq|sms-resend-retry|throughput|reconnect-delay|http-timeout)' "$KANNEL_DIR/kannel.conf" | sed 's/^/  /' || true
  echo "  fakesmsc: $(tr '\0' ' ' </proc/$(cat "$KANNEL_DIR/fakesmsc.pid")/cmdline | sed 's/.*fakesmsc//')(-i 0: no pause between messages)"
} | tee -a "$res.txt" >&2
$PY echo --port "$port" --sendsms "$KANNEL_SENDSMS_URL" --user "$KANNEL_SENDSMS_USER" --password "$KANNEL_SENDSMS_PASSWORD" --to "$RESPONDER" --max-seconds "$MAX_LOAD_SECONDS" &
echo_pid=$!; PIDS+=("$echo_pid")
wait_port "$port"
$PY drive --fifo "$KANNEL_FAKESMSC_IN" --log "$KANNEL_FAKESMSC_LOG" --from "$REPORTERS" --to "$RESPONDER" --count "$ALERTS" >"$res-baseline.json"
kill "$echo_pid" 2>/dev/null || true
$KANNEL stop "$KANNEL_DIR" >/dev/null 2>&1 || true

# ---- Vigie, per backend.
for backend in $BACKENDS; do
  if [ "$backend" = postgres ] && [ -z "$(pg_admin_url)" ]; then log "no PostgreSQL: skipping"; continue; fi
  log "$backend: Vigie + Kannel, $ALERTS alert SMS under $LOAD_RATE reports/s"
  url=$(fresh_db "$backend" "alerts")
  TOKEN=$(seed "$BIN" "$url" admin)
  port=$(free_port)
  key=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  kannel_start "$port" "$key"
  VIGIE_SMS_KEY=$key VIGIE_SMS_SENDSMS_URL=$KANNEL_SENDSMS_URL VIGIE_SMS_USER=$KANNEL_SENDSMS_USER VIGIE_SMS_PASSWORD=$KANNEL_SENDSMS_PASSWORD \
    "$BIN" --db "$url" serve --addr "127.0.0.1:$port" >"$BENCH_TMP/vigie-$backend.out" 2>&1 &
  VIGIE_PID=$!; PIDS+=("$VIGIE_PID"); VIGIE_BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 200); do curl -sf -m 1 "$VIGIE_BASE/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
  api POST /api/v1/escalation-rules "{\"category_code\":\"armed_attack\",\"min_severity\":1,\"area_code\":\"ML-5\",\"auto_raise\":true,\"levels\":[{\"name\":\"Gendarmerie de Koro\",\"phone\":\"$RESPONDER\",\"ack_minutes\":60}]}" >/dev/null
  # Registered focal points (auto-raise trusts only them), each sending at most 15 of the alerts:
  # Vigie stops answering a number past 20 SMS in 10 minutes (flood limit).
  for n in $(seq 1 "$N_REPORTERS"); do
    uid=$(api POST /api/v1/users "{\"username\":\"relais.koro.$n\",\"display_name\":\"Relais Koro $n\",\"password\":\"une phrase de passe longue\",\"grants\":[{\"role\":\"reporter\",\"area_code\":\"ML-5-KORO\"}]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    api PATCH "/api/v1/users/$uid" "{\"phone\":\"$(reporter "$n")\"}" >/dev/null
  done
  before=$(api GET "/api/v1/reports?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  stopfile=$BENCH_TMP/stop-load-$backend
  $PY load --base "$VIGIE_BASE" --token "$TOKEN" --rate "$LOAD_RATE" --duration "$MAX_LOAD_SECONDS" --stop-file "$stopfile" >"$res-$backend-load.json" &
  load_pid=$!; PIDS+=("$load_pid")
  sleep 2 # the load reaches its pace before the first alert
  $PY drive --fifo "$KANNEL_FAKESMSC_IN" --log "$KANNEL_FAKESMSC_LOG" --from "$REPORTERS" --to "$RESPONDER" --count "$ALERTS" \
    --base "$VIGIE_BASE" --token "$TOKEN" >"$res-$backend.json"
  touch "$stopfile"; wait "$load_pid" || true
  echo "{\"peak_rss_mb\": $(rss_peak_mb "$VIGIE_PID"), \"reports_stored\": $(( $(api GET "/api/v1/reports?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])') - before ))}" >"$res-$backend-vigie.json"
  stop_vigie
  $KANNEL stop "$KANNEL_DIR" >/dev/null 2>&1 || true
  [ "$backend" = postgres ] && psql -q "$(pg_admin_url)" -c "DROP DATABASE IF EXISTS ${url##*/}" >/dev/null 2>&1 || true
done

# ---- Summary.
python3 - "$res" "$BACKENDS" <<'PY' | tee -a "$res.txt"
import json, os, sys
res, backends = sys.argv[1], sys.argv[2].split()
base = json.load(open(f"{res}-baseline.json"))
f = lambda x: "—" if x is None else f"{x:.1f}"
print(f"baseline (Kannel + echo): {base['measured']}/{base['count']} measured, p50 {f(base['p50_ms'])} ms, p99 {f(base['p99_ms'])} ms, max {f(base['max_ms'])} ms")
ok = base["measured"] == base["count"]
for b in backends:
    if not os.path.exists(f"{res}-{b}.json"):
        continue
    v, load, vig = (json.load(open(f"{res}-{b}{s}.json")) for s in ("", "-load", "-vigie"))
    ok = ok and v["measured"] == v["count"] and v["distinct_alerts"] == v["count"] and load["ok"] <= vig["reports_stored"]
    d50 = v["p50_ms"] - base["p50_ms"] if v["p50_ms"] is not None else None
    d99 = v["p99_ms"] - base["p99_ms"] if v["p99_ms"] is not None else None
    r50 = v["p50_ms"] / base["p50_ms"] if v["p50_ms"] and base["p50_ms"] else None
    r99 = v["p99_ms"] / base["p99_ms"] if v["p99_ms"] and base["p99_ms"] else None
    print(f"{b}: {v['measured']}/{v['count']} alerts ({v['distinct_alerts']} distinct, {v['missed']} missed); "
          f"measured p50 {f(v['p50_ms'])} ms, p99 {f(v['p99_ms'])} ms, max {f(v['max_ms'])} ms; "
          f"Vigie = measured − baseline: p50 {f(d50)} ms, p99 {f(d99)} ms (target p99 < 100 ms: {'met' if d99 is not None and d99 < 100 else 'MISSED'}); "
          f"ratio to baseline p50 {f(r50)}×, p99 {f(r99)}×")
    print(f"  background load: target {load['target_rate']:.0f}/s, achieved {load['achieved_rate']}/s over {load['seconds']} s "
          f"({load['ok']} ok, {load['errors']} errors, HTTP p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms, {load['connections']} connections); "
          f"reports stored {vig['reports_stored']}; peak RSS of Vigie {vig['peak_rss_mb']} MB")
print("counts: ok" if ok else "counts: MISMATCH (missed alerts or unstored reports)")
sys.exit(0 if ok else 1)
PY
