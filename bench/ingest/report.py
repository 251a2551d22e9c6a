"""Turns one wrk --latency output plus the run's facts into one JSON line (bench/ingest/run.sh)."""
import json, re, sys

wrk_file, backend, clients, duration, stored, batch, rss, raw = sys.argv[1:9]
text = open(wrk_file).read()

def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
total = int(re.search(r"(\d+) requests in", text).group(1))
non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", text) or [0, 0])[1])
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
sock_err = sum(int(x) for x in sock.groups()) if sock else 0
secs = float(duration)
ok = total - non2xx
raw = json.loads(raw)
rps = ok / secs
print(json.dumps({
    "backend": backend, "clients": int(clients), "duration_s": secs,
    "requests": total, "ok": ok, "errors": non2xx + sock_err, "stored": int(stored),
    "reports_per_s": round(rps, 1),
    "p50_ms": round(ms(lat["50"]), 3), "p99_ms": round(ms(lat["99"]), 3),
    "reports_per_commit": round(float(batch), 2), "peak_rss_mb": float(rss),
    "raw_rows_per_s": round(raw["rows_per_s"], 1), "raw_batch": raw["batch"],
    "ratio_vs_raw": round(rps / raw["rows_per_s"], 3),
}))
# A 2xx that is not in the database would be a lie about durability: fail loudly.
if int(stored) < ok:
    sys.exit(f"only {stored} reports stored for {ok} acknowledged")
