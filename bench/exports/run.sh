#!/usr/bin/env bash
# Benchmark 4 (issue 11): freshness and exports. On a database of N synthetic reports (default
# 1 M, SQLite), a running `vigie serve` on loopback:
#  - freshness: a report POSTed, then the dashboard counts read until they include it (ms);
#  - exports: GET /api/v1/reports/export.csv and .xlsx — time to first byte, total time, size,
#    and vigie's RSS before/after (constant memory: the peak must not grow with N).
#   bench/exports/run.sh [--reports N] [--smoke]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=1000000; profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) n=3000; profile=${VIGIE_BENCH_PROFILE:-debug} ;;
    --reports) n=$2; shift ;;
    *) echo "usage: $0 [--reports N] [--smoke]" >&2; exit 2 ;;
  esac
  shift
done
target=${CARGO_TARGET_DIR:-$root/target}
if [ "$profile" = release ]; then (cd "$root" && cargo build --release -q -p vigie); bin=$target/release/vigie
else (cd "$root" && cargo build -q -p vigie); bin=$target/debug/vigie; fi
work=$(mktemp -d /tmp/vigie-bench-exports.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export VIGIE_DB=sqlite:$work/b.db VIGIE_KEY_FILE=$work/k.key VIGIE_LANG=en
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB RAM; load: $(uptime | sed 's/.*load average/load average/')"
timeout 3600 "$bin" bench generate --reports "$n" --seed 7
token=$("$bin" user add bench.export --role admin --area ML --token | grep -A1 "API token" | tail -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --addr 127.0.0.1:$port >"$work/serve.log" 2>&1 & pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/{r=$2} /VmHWM/{h=$2} END{printf "rss=%d MB hwm=%d MB", r/1024, h/1024}' /proc/$pid/status; }
echo "vigie after start: $(rss)"
api=http://127.0.0.1:$port/api/v1
# Freshness: acknowledged (201) → visible in the counts.
before=$(curl -fs -H "Authorization: Bearer $token" "$api/analytics/report-counts?level=country" | python3 -c 'import json,sys; print(sum(r["reports"] for r in json.load(sys.stdin)))')
python3 - "$api" "$token" "$before" <<'PY'
import json, sys, time, urllib.request
api, token, before = sys.argv[1], sys.argv[2], int(sys.argv[3])
def call(method, path, body=None):
    req = urllib.request.Request(api + path, method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)
t0 = time.monotonic()
call("POST", "/reports", {"category": "armed_attack", "text": "Fraîcheur", "occurred_at": "2026-11-20T10:00:00Z", "area_code": "ML-5-KORO", "idempotency_key": f"fresh-{time.time()}"})
acked = time.monotonic()
while True:
    q0 = time.monotonic()
    now = sum(r["reports"] for r in call("GET", "/analytics/report-counts?level=country"))
    q1 = time.monotonic()
    if now == before + 1 or q1 - acked > 5:
        break
print(f"freshness: ack {1000*(acked-t0):.1f} ms, counted {1000*(q1-acked):.1f} ms after ack (counts query {1000*(q1-q0):.1f} ms){'' if now == before + 1 else ' NOT SEEN'}")
PY
for fmt in csv xlsx; do
  out=$(curl -fs -o "$work/export.$fmt" -w '%{time_starttransfer} %{time_total} %{size_download}' -H "Authorization: Bearer $token" "$api/reports/export.$fmt")
  set -- $out
  echo "export.$fmt: first byte $(python3 -c "print(round($1*1000))") ms, total $2 s, $(($3/1000000)) MB; vigie $(rss)"
done
python3 - "$work/export.xlsx" <<'PY'
import sys, zipfile, re
z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None
rows = 0
with z.open("xl/worksheets/sheet1.xml") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        rows += chunk.count(b"<row>")
print(f"export.xlsx: valid zip, {rows - 1} data rows")
PY
echo "export.csv: $(($(wc -l < "$work/export.csv") - 1)) lines after the header (texts have no newlines)"
