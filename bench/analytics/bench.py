#!/usr/bin/env python3
"""Benchmarks 3 and 6 (issue 11): Vigie's dashboard queries at several sizes, against DuckDB
running the same queries on the same rows exported to Parquet, in the same run.

Driven by bench/analytics/run.sh (which builds the release binary and the venv). For each
backend and size: generate (deterministic), time Vigie's queries in-process (`vigie bench
analytics`, median of N), dump the rows, load them into Parquet, time DuckDB on the same
questions, print both with the ratio. Loopback only; every step bounded by a timeout.
"""
import argparse, json, os, resource, shutil, statistics, subprocess, sys, tempfile, time

import duckdb

END = "2026-11-01 00:00:00+00"


def run(cmd, env=None, timeout=3600):
    """Runs a command; returns (stdout, seconds, peak RSS of the child in MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    secs = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    # ru_maxrss of children is the max over all children so far: we run /usr/bin/time instead.
    return p.stdout, p.stderr, secs


def timed_rss(cmd, env, timeout=3600):
    out, err, secs = run(["/usr/bin/time", "-f", "MAXRSS_KB=%M"] + cmd, env, timeout)
    rss = [int(l.split("=")[1]) for l in err.splitlines() if l.startswith("MAXRSS_KB=")]
    return out, secs, (rss[-1] / 1024 if rss else None)


def duck_queries():
    """The same questions as `vigie bench analytics`, in DuckDB SQL over the Parquet files."""
    span = f"received_at >= TIMESTAMPTZ '2021-11-01 00:00:00+00' AND received_at < TIMESTAMPTZ '{END}'"
    ind = """COUNT(*) AS records, COUNT(alerted_at) AS raised,
        median(epoch(alerted_at) - epoch(reported_at)) AS median_report_to_alert,
        median(CASE WHEN responded_at IS NOT NULL THEN epoch(responded_at) - epoch(alerted_at) END) AS median_alert_to_response,
        SUM(CASE WHEN alerted_at IS NOT NULL AND acknowledged_at IS NOT NULL AND acknowledged_at <= first_deadline THEN 1 ELSE 0 END) AS ack_within,
        SUM(CASE WHEN alerted_at IS NOT NULL AND acknowledged_at > first_deadline THEN 1 ELSE 0 END) AS ack_late,
        SUM(CASE WHEN state = 'closed' AND outcome IN ('violence_prevented', 'violence_stopped') THEN 1 ELSE 0 END) AS success,
        SUM(CASE WHEN state = 'closed' AND outcome = 'violence_not_prevented' THEN 1 ELSE 0 END) AS not_prevented"""
    period = f"reported_at >= TIMESTAMPTZ '{END}' - INTERVAL 90 DAY AND reported_at < TIMESTAMPTZ '{END}'"
    return {
        "counts_region_month_category_national": f"""SELECT CASE WHEN area_path = '' THEN '' ELSE array_to_string(string_split(area_path, '/')[1:2], '/') END AS region,
            strftime(received_at AT TIME ZONE 'UTC', '%Y-%m') AS month, category_code, COUNT(*), SUM(CASE WHEN verification = 'verified' THEN 1 ELSE 0 END)
            FROM reports WHERE {span} GROUP BY ALL""",
        "counts_cercle_month_category_mopti": f"""SELECT array_to_string(string_split(area_path, '/')[1:3], '/') AS cercle,
            strftime(received_at AT TIME ZONE 'UTC', '%Y-%m') AS month, category_code, COUNT(*), SUM(CASE WHEN verification = 'verified' THEN 1 ELSE 0 END)
            FROM reports WHERE {span} AND area_path LIKE 'ML/ML-5/%' GROUP BY ALL""",
        "open_alerts_by_severity_national": f"""SELECT severity, COUNT(*), SUM(CASE WHEN state = 'alerted' AND first_deadline <= TIMESTAMPTZ '{END}' THEN 1 ELSE 0 END)
            FROM alerts WHERE state NOT IN ('closed', 'false_alarm', 'cancelled') GROUP BY severity""",
        "latest_5_reports_national": "SELECT * FROM reports ORDER BY received_at DESC, id DESC LIMIT 5",
        "reports_last_day_national": f"SELECT COUNT(*) FROM reports WHERE received_at >= TIMESTAMPTZ '{END}' - INTERVAL 1 DAY",
        "indicators_90d_mopti": f"SELECT {ind} FROM alerts WHERE {period} AND (area_path = 'ML/ML-5' OR area_path LIKE 'ML/ML-5/%')",
        "indicators_90d_national": f"SELECT {ind} FROM alerts WHERE {period} AND (area_path = 'ML' OR area_path LIKE 'ML/%')",
        "indicator_full_recompute_regions_x_months": f"""SELECT array_to_string(string_split(area_path, '/')[1:2], '/') AS region,
            date_trunc('month', reported_at AT TIME ZONE 'UTC') AS month, {ind} FROM alerts WHERE area_path LIKE 'ML/%' GROUP BY ALL""",
    }


def duck_bench(csv_dir, repeat):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    t = time.monotonic()
    for table in ("reports", "alerts"):
        src = os.path.join(csv_dir, f"{table}.csv")
        pq = os.path.join(csv_dir, f"{table}.parquet")
        con.execute(f"COPY (SELECT * FROM read_csv('{src}', header = true, all_varchar = false, nullstr = '')) TO '{pq}' (FORMAT parquet)")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pq}')")
    load = time.monotonic() - t
    out = {"parquet_load_seconds": round(load, 2),
           "parquet_bytes": sum(os.path.getsize(os.path.join(csv_dir, f"{x}.parquet")) for x in ("reports", "alerts"))}
    for name, sql in duck_queries().items():
        times, rows = [], 0
        for _ in range(repeat):
            s = time.monotonic()
            rows = len(con.execute(sql).fetchall())
            times.append((time.monotonic() - s) * 1000)
        out[name] = {"ms": round(statistics.median(times), 2), "rows": rows}
    return out


def pg_cluster(root):
    """A private PostgreSQL on loopback (not the shared test server: 10 M rows would disturb others)."""
    env = dict(os.environ, VIGIE_TEST_PG_PORT="")
    env.pop("VIGIE_TEST_PG_PORT")
    out = subprocess.run([os.path.join(root, "scripts/pg-test-cluster.sh"), "start"], capture_output=True, text=True, env=env, timeout=120)
    if out.returncode != 0:
        sys.exit(out.stderr)
    vals = dict(l.replace("export ", "").split("=", 1) for l in out.stdout.splitlines() if l.startswith("export "))
    return vals["VIGIE_TEST_PG_URL"], vals["VIGIE_TEST_PG_DIR"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--sizes", default="100000 1000000")
    ap.add_argument("--backends", default="sqlite postgres")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", default=None)
    ap.add_argument("--reuse", action="store_true", help="query an SQLite file already generated in --work (bench-N.db) instead of generating it")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite files (e.g. to run bench/ingest on them: INGEST_DB=…)")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="vigie-bench-analytics-")
    os.makedirs(work, exist_ok=True)
    results = []
    pg = None
    try:
        for backend in a.backends.split():
            for n in [int(x) for x in a.sizes.split()]:
                reuse = backend == "sqlite" and a.reuse and os.path.exists(f"{work}/bench-{n}.db")
                if reuse:
                    url = f"sqlite:{work}/bench-{n}.db"
                elif backend == "sqlite":
                    url = f"sqlite:{work}/bench-{n}.db"
                    for suffix in ("", "-wal", "-shm"):
                        if os.path.exists(f"{work}/bench-{n}.db{suffix}"):
                            os.remove(f"{work}/bench-{n}.db{suffix}")
                else:
                    if pg is None:
                        pg = pg_cluster(a.root)
                    admin = pg[0]
                    name = f"bench_{n}"
                    subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True, capture_output=True, env=dict(os.environ, PATH=os.environ["PATH"] + ":" + os.environ.get("VIGIE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin")))
                    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True, env=dict(os.environ, PATH=os.environ["PATH"] + ":" + os.environ.get("VIGIE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin")))
                    url = admin.rsplit("/", 1)[0] + "/" + name
                env = dict(os.environ, VIGIE_DB=url, VIGIE_KEY_FILE=f"{work}/bench.key", VIGIE_LANG="en")
                if reuse:
                    alerts = subprocess.run(["sqlite3", f"{work}/bench-{n}.db", "SELECT COUNT(*) FROM alerts"], capture_output=True, text=True).stdout.strip()
                    gen, gen_rss = {"reports": n, "alerts": int(alerts), "seconds": float("nan"), "rows_per_second": float("nan")}, float("nan")
                else:
                    gen_out, gen_secs, gen_rss = timed_rss([a.bin, "bench", "generate", "--reports", str(n), "--years", "5", "--seed", "42"], env, timeout=max(3600, n // 1000))
                    gen = json.loads(gen_out.strip().splitlines()[-1])
                q_out, _, q_rss = timed_rss([a.bin, "bench", "analytics", "--repeat", str(a.repeat), "--raw"], env)
                vigie = json.loads(q_out)
                csv_dir = f"{work}/csv-{backend}-{n}"
                run([a.bin, "bench", "dump", "--out", csv_dir], env)
                duck = duck_bench(csv_dir, a.repeat)
                shutil.rmtree(csv_dir, ignore_errors=True)
                results.append({"backend": backend, "reports": n, "generate": gen, "generate_peak_rss_mb": gen_rss,
                                "queries_peak_rss_mb": q_rss, "vigie": vigie, "duckdb": duck})
                report(results[-1])
                if backend == "sqlite" and a.keep:
                    print(f"kept: {url}")
                elif backend == "sqlite":
                    for suffix in ("", "-wal", "-shm"):
                        if os.path.exists(f"{work}/bench-{n}.db{suffix}"):
                            os.remove(f"{work}/bench-{n}.db{suffix}")
                else:
                    subprocess.run(["psql", pg[0], "-qc", f"DROP DATABASE IF EXISTS bench_{n}"], capture_output=True, env=dict(os.environ, PATH=os.environ["PATH"] + ":" + os.environ.get("VIGIE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin")))
    finally:
        if pg is not None:
            subprocess.run([os.path.join(a.root, "scripts/pg-test-cluster.sh"), "stop", pg[1]], capture_output=True)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nJSON: {work}/results.json")


def report(r):
    v, d = r["vigie"], r["duckdb"]
    print(f"\n== {r['backend']} · {r['reports']:,} reports, {r['generate']['alerts']:,} alerts · generated in {r['generate']['seconds']:.1f} s "
          f"({r['generate']['rows_per_second']:,.0f} rows/s) · DB {v['database_bytes'] / 1e6:,.0f} MB (Parquet {d['parquet_bytes'] / 1e6:,.0f} MB) "
          f"· peak RSS vigie {r['queries_peak_rss_mb']:.0f} MB (queries), {r['generate_peak_rss_mb']:.0f} MB (generate)")
    print(f"{'query':48} {'vigie ms':>10} {'duckdb ms':>10} {'ratio':>7} {'target':>8}  rows v/d")
    for name, q in v.items():
        if not isinstance(q, dict):
            continue
        dq = d.get(name)
        ratio = q["ms"] / dq["ms"] if dq and dq["ms"] > 0 else None
        limit = 10000 if "recompute" in name else 200
        ok = "raw" if name.startswith("raw_") else ("ok" if q["ms"] < limit and (ratio is None or ratio <= 2 or "recompute" in name) else "MISS")
        print(f"{name:48} {q['ms']:>10.2f} {dq['ms'] if dq else float('nan'):>10.2f} {ratio if ratio else float('nan'):>7.2f} {ok:>8}  {q['rows']}/{dq['rows'] if dq else '-'}")


if __name__ == "__main__":
    main()
