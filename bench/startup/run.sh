#!/usr/bin/env bash
# Benchmark 5: start-up and footprint on SQLite. Cold start = a new database file (migrations
# included) to the first 200 from /readyz; warm start = the same on the existing file. Idle
# RSS 3 s after ready. Release binary size. Targets: cold start < 1 s, idle RSS < 60 MB.
#
#   bench/startup/run.sh [--smoke]       RUNS=5
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
RUNS=${RUNS:-5}; [ "${1:-}" = --smoke ] && RUNS=1
OUT=${OUT:-$REPO/bench/startup/results}; mkdir -p "$OUT"
BIN=$(vigie_bin)
export VIGIE_KEY_FILE=$BENCH_TMP/vigie.key
stamp=$(date -u +%Y%m%dT%H%M%SZ)
machine | tee "$OUT/startup-$stamp.txt" >&2
python3 - "$BIN" "$BENCH_TMP" "$RUNS" <<'PY' | tee -a "$OUT/startup-$stamp.txt" >"$OUT/startup-$stamp.json"
import json, os, socket, subprocess, sys, time, urllib.request
binary, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])

def port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def rss(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0

def start(db):
    p = port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary, "--db", db, "serve", "--addr", f"127.0.0.1:{p}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{p}/readyz"
    while True:
        try:
            if urllib.request.urlopen(url, timeout=1).status == 200:
                return proc, time.perf_counter() - t0
        except Exception:
            if proc.poll() is not None:
                sys.exit("vigie exited during start-up")
            if time.perf_counter() - t0 > 30:
                proc.kill(); sys.exit("no /readyz within 30 s")
            time.sleep(0.002)

cold, warm, idle = [], [], []
for i in range(runs):
    db = f"sqlite:{tmp}/startup-{i}.db"
    proc, s = start(db); cold.append(s); proc.terminate(); proc.wait()
    proc, s = start(db); warm.append(s)
    time.sleep(3)
    idle.append(rss(proc.pid, "VmRSS")); proc.terminate(); proc.wait()
med = lambda v: sorted(v)[len(v) // 2]
r = {"runs": runs, "cold_start_ms_median": round(med(cold) * 1000, 1), "cold_start_ms_max": round(max(cold) * 1000, 1),
     "warm_start_ms_median": round(med(warm) * 1000, 1), "idle_rss_mb_median": round(med(idle), 1),
     "binary_bytes": os.path.getsize(binary), "binary_mb": round(os.path.getsize(binary) / 2**20, 1),
     "targets": {"cold_start_ms": 1000, "idle_rss_mb": 60}}
r["cold_start_ok"] = r["cold_start_ms_max"] < 1000
r["idle_rss_ok"] = r["idle_rss_mb_median"] < 60
print(json.dumps(r))
print(f"cold start {r['cold_start_ms_median']} ms (max {r['cold_start_ms_max']}, target < 1000), warm {r['warm_start_ms_median']} ms, "
      f"idle RSS {r['idle_rss_mb_median']} MB (target < 60), binary {r['binary_mb']} MiB", file=sys.stderr)
PY
