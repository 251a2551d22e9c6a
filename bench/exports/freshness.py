#!/usr/bin/env python3
"""Benchmark 4 (issue 11), freshness: while dashboard readers query in a loop, reports are
POSTed one at a time over HTTP; for each, the time from its 2xx to the first dashboard answer
(GET /api/v1/analytics/report-counts?level=country) that counts it. Prints p50/p99/max, and the
dashboard queries' own latencies during the run (they must stay within target meanwhile).
   freshness.py API TOKEN [--posts N] [--readers K]
"""
import argparse, json, statistics, threading, time, urllib.request
from datetime import datetime, timedelta, timezone


def call(api, token, method, path, body=None):
    req = urllib.request.Request(api + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.load(r)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("api"); ap.add_argument("token")
    ap.add_argument("--posts", type=int, default=200)
    ap.add_argument("--readers", type=int, default=2)
    a = ap.parse_args()
    now = datetime.now(timezone.utc)
    fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
    # The dashboard's reads: counts by region × month × category (12 months), and the national
    # early-warning indicators of the last 90 days.
    dashboard = {"report-counts region": "/analytics/report-counts?level=region",
                 "indicators 90 d national": f"/indicators/early-warning?from={fmt(now - timedelta(days=90))}&to={fmt(now + timedelta(days=1))}"}
    lat = {k: [] for k in dashboard}
    stop = threading.Event()

    def reader(i):
        names = list(dashboard)
        k = i
        while not stop.is_set():
            name = names[k % len(names)]; k += 1
            t = time.monotonic()
            call(a.api, a.token, "GET", dashboard[name])
            lat[name].append((time.monotonic() - t) * 1000)

    count = lambda: sum(r["reports"] for r in call(a.api, a.token, "GET", "/analytics/report-counts?level=country")[1])
    before = count()
    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(a.readers)]
    for t in threads:
        t.start()
    fresh, acks, missed = [], [], 0
    for i in range(a.posts):
        body = {"category": "armed_attack", "text": f"Fraîcheur {i}", "occurred_at": fmt(datetime.now(timezone.utc) - timedelta(minutes=5)),
                "area_code": "ML-5-KORO", "idempotency_key": f"fresh-{time.time()}-{i}"}
        t0 = time.monotonic()
        status, _ = call(a.api, a.token, "POST", "/reports", body)
        acked = time.monotonic()
        assert 200 <= status < 300, status
        acks.append((acked - t0) * 1000)
        while True:
            n = count()
            seen = time.monotonic()
            if n >= before + 1 or seen - acked > 5:
                break
        if n >= before + 1:
            fresh.append((seen - acked) * 1000)
        else:
            missed += 1
        before = n
    stop.set()
    for t in threads:
        t.join()
    out = {"posts": a.posts, "not_seen_within_5s": missed,
           "freshness_ms": {"p50": round(pct(fresh, 50), 1), "p99": round(pct(fresh, 99), 1), "max": round(max(fresh), 1)},
           "ack_ms": {"p50": round(pct(acks, 50), 1), "p99": round(pct(acks, 99), 1)},
           "dashboard_during_ms": {k: {"n": len(v), "p50": round(pct(v, 50), 1), "p99": round(pct(v, 99), 1), "max": round(max(v), 1) if v else None} for k, v in lat.items()}}
    print(f"freshness (2xx → counted by report-counts), {a.posts} posts with {a.readers} dashboard readers: "
          f"p50 {out['freshness_ms']['p50']} ms, p99 {out['freshness_ms']['p99']} ms, max {out['freshness_ms']['max']} ms, not seen within 5 s: {missed}; "
          f"POST p50 {out['ack_ms']['p50']} ms")
    for k, v in out["dashboard_during_ms"].items():
        print(f"  dashboard during the run: {k}: {v['n']} queries, p50 {v['p50']} ms, p99 {v['p99']} ms, max {v['max']} ms")
    print("JSON " + json.dumps(out))


if __name__ == "__main__":
    main()
