#!/usr/bin/env bash
# Benchmark 4 (issue 11): freshness and exports. On a database of N synthetic reports (default
# 1 M, SQLite), a running `vigie serve` on loopback:
#  - freshness (freshness.py): reports POSTed one by one while dashboard readers query in a
#    loop; time from each 2xx to the first dashboard answer that counts it (p50/p99/max);
#  - exports: GET /api/v1/reports/export.csv and .xlsx — time to first byte, total time, size,
#    and vigie's RSS high-water mark (constant memory: compare the runs at 100 k and 1 M);
#    baseline in the same run: `sqlite3 -csv` writing the same rows (the raw storage limit).
#   bench/exports/run.sh [--reports N] [--posts N] [--smoke]
#   EXPORTS_DB=/tmp/…/bench-1000000.db VIGIE_BIN=target/release/vigie bench/exports/run.sh   (no generation)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=1000000; posts=200; profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) n=3000; posts=5; profile=${VIGIE_BENCH_PROFILE:-debug} ;;
    --posts) posts=$2; shift ;;
    --reports) n=$2; shift ;;
    *) echo "usage: $0 [--reports N] [--posts N] [--smoke]" >&2; exit 2 ;;
  esac
  shift
done
target=${CARGO_TARGET_DIR:-$root/target}
if [ -n "${VIGIE_BIN:-}" ]; then bin=$VIGIE_BIN
elif [ "$profile" = release ]; then (cd "$root" && cargo build --release -q -p vigie); bin=$target/release/vigie
else (cd "$root" && cargo build -q -p vigie); bin=$target/debug/vigie; fi
work=$(mktemp -d /tmp/vigie-bench-exports.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export VIGIE_DB=sqlite:$work/b.db VIGIE_KEY_FILE=$work/k.key VIGIE_LANG=en
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB RAM; load: $(uptime | sed 's/.*load average/load average/')"
if [ -n "${EXPORTS_DB:-}" ]; then   # a database already generated (e.g. kept by bench/analytics --keep), copied
  cp "$EXPORTS_DB" "$work/b.db"; cp "$(dirname "$EXPORTS_DB")/bench.key" "$work/k.key" 2>/dev/null || true
else
  timeout 3600 "$bin" bench generate --reports "$n" --seed 7
fi
token=$("$bin" user add bench.export --role admin --area ML --token | grep -A1 "API token" | tail -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --addr 127.0.0.1:$port >"$work/serve.log" 2>&1 & pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/{r=$2} /VmHWM/{h=$2} END{printf "rss=%d MB hwm=%d MB", r/1024, h/1024}' /proc/$pid/status; }
echo "vigie after start: $(rss)"
api=http://127.0.0.1:$port/api/v1
# Freshness under dashboard load (acknowledged → counted).
python3 "$root/bench/exports/freshness.py" "$api" "$token" --posts "$posts" | grep -v '^JSON '
for fmt in csv xlsx; do
  out=$(curl -fs -o "$work/export.$fmt" -w '%{time_starttransfer} %{time_total} %{size_download}' -H "Authorization: Bearer $token" "$api/reports/export.$fmt")
  set -- $out
  echo "export.$fmt: first byte $(python3 -c "print(round($1*1000))") ms, total $2 s, $(($3/1000000)) MB; vigie $(rss)"
done
# Baseline: the same rows and columns straight out of SQLite by its own shell (no HTTP, no
# formatting in Rust): what the storage alone costs.
python3 - "$work/b.db" <<'PY'
import subprocess, sys, time
sql = ("SELECT id, reference, received_at, occurred_at, category_code, severity, area_code, place_name, channel, language, verification, grade, alert_id, text "
       "FROM reports WHERE NOT (flags LIKE '%\"protected_case\"%' OR category_code IN (SELECT code FROM categories WHERE protected)) ORDER BY received_at, id")
t = time.monotonic()
p = subprocess.Popen(["sqlite3", "-csv", "-header", sys.argv[1], sql], stdout=subprocess.PIPE)
first = p.stdout.read(1); ttfb = time.monotonic() - t
size = len(first)
while chunk := p.stdout.read(1 << 20):
    size += len(chunk)
p.wait(); total = time.monotonic() - t
print(f"baseline sqlite3 -csv: first byte {ttfb*1000:.0f} ms, total {total:.2f} s, {size // 1000000} MB")
PY
python3 - "$work/export.xlsx" <<'PY'
import sys, zipfile, re
z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None
rows, tail = 0, b""
with z.open("xl/worksheets/sheet1.xml") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        # A tag cut by the chunk boundary is counted once, with the previous chunk's last bytes.
        rows += (tail + chunk).count(b"<row>")
        tail = chunk[-4:]
print(f"export.xlsx: valid zip, {rows - 1} data rows")
PY
echo "export.csv: $(($(wc -l < "$work/export.csv") - 1)) lines after the header (texts have no newlines)"
