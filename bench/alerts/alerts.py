#!/usr/bin/env python3
"""Benchmark 2 (issue 11.2): alert latency SMS -> SMS through Kannel. Standard library only.

  alerts.py echo  --port P --sendsms URL --user U --password W --to PHONE
      The baseline's "trivial service": Kannel's inbound GET is answered at once, after one
      sendsms request to PHONE (the same shape as Vigie's path: inbound HTTP in, sendsms out).
  alerts.py load  --base URL --token T --rate R --duration S [--connections C]
      Background load: POST /api/v1/reports at R per second (paced, bounded by S seconds and
      C connections in flight), categories without auto-raise, outside Mopti. JSON summary.
  alerts.py drive --fifo F --log L --from PHONE --to PHONE --count N [--base URL --token T]
      Writes N alert SMS, one at a time, into fakesmsc's input and times each until fakesmsc
      logs the MT message to the responder. With --base, cancels each alert afterwards (so the
      next SMS opens a new event). JSON with the latencies.
Loopback only; every mode stops by itself.
"""
import argparse, asyncio, json, os, random, re, sys, threading, time
import urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def echo(a):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            marker = (q.get("text", [""])[0].split() or ["?"])[-1]
            params = {"username": a.user, "password": a.password, "from": "Vigie", "to": a.to,
                      "text": f"ALERTE echo {marker}", "charset": "UTF-8", "coding": "0"}
            urllib.request.urlopen(a.sendsms + "?" + urllib.parse.urlencode(params), timeout=10).read()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    srv.daemon_threads = True
    deadline = time.time() + a.max_seconds
    srv.timeout = 1
    while time.time() < deadline:
        srv.handle_request()


AREAS = ["ML-4-SEGOU", "ML-4-NIONO", "ML-4-BLA", "ML-4-MACINA", "ML-4-TOMINIAN", "ML-4-SAN", "ML-7-GAO", "ML-7-ANSONGO",
         "ML-9-MENAKA", "ML-1-DIEMA", "ML-1-YELIMANE", "ML-2-NARA", "ML-3-YOROSSO", "ML-BKO-C1", "ML-BKO-C2", "ML-BKO-C3"]
CATEGORIES = ["displacement", "threat_intimidation", "natural_hazard_flood", "intercommunal_conflict", "small_arms"]
WORDS = ("marche puits champ troupeau route village pont ecole moto pirogue riviere foire bus camion famille "
         "berger cultivateur pecheur chef conseil mosquee forage grenier case").split()


async def load(a):
    host, port = urllib.parse.urlparse(a.base).hostname, urllib.parse.urlparse(a.base).port
    start = time.monotonic()
    end = start + a.duration
    state = {"next": 0, "ok": 0, "err": 0, "late_ms": [], "lat_ms": []}
    rnd = random.Random(a.seed)
    tag = f"{os.getpid()}-{int(time.time())}"

    async def conn():
        r, w = await asyncio.open_connection(host, port)
        while True:
            i = state["next"]
            due = start + i / a.rate
            if due >= end or (a.stop_file and os.path.exists(a.stop_file)):
                break
            state["next"] += 1
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
            else:
                state["late_ms"].append((now - due) * 1000)
            body = json.dumps({"category": rnd.choice(CATEGORIES), "area_code": rnd.choice(AREAS),
                               "text": " ".join(rnd.choice(WORDS) for _ in range(8)) + f" {i}",
                               "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "idempotency_key": f"load-{tag}-{i}"}).encode()
            head = (f"POST /api/v1/reports HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {a.token}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            t0 = time.monotonic()
            w.write(head + body)
            await w.drain()
            status_line = await r.readline()
            length = 0
            while True:
                h = await r.readline()
                if h in (b"\r\n", b""):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                if k.lower() == "content-length":
                    length = int(v)
            await r.readexactly(length)
            state["lat_ms"].append((time.monotonic() - t0) * 1000)
            code = int(status_line.split()[1]) if status_line else 0
            state["ok" if 200 <= code < 300 else "err"] += 1
        w.close()

    await asyncio.gather(*(conn() for _ in range(a.connections)))
    took = time.monotonic() - start
    lat = sorted(state["lat_ms"]) or [0]
    print(json.dumps({"target_rate": a.rate, "seconds": round(took, 2), "sent": state["ok"] + state["err"], "ok": state["ok"],
                      "errors": state["err"], "achieved_rate": round(state["ok"] / took, 1), "connections": a.connections,
                      "late_requests": len(state["late_ms"]),
                      "p50_ms": round(lat[len(lat) // 2], 1), "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1)}))


MT = re.compile(r"Got message \d+: <(\S+) (\S+) (\S+) ?(.*)>")


def decode(kind, rest):
    """The text of an MT line as fakesmsc logs it (as `scripts/kannel.sh received` decodes it)."""
    raw = lambda: urllib.parse.unquote_to_bytes(rest.replace("+", " "))
    if kind == "data":
        return raw().decode("utf-8", "replace")
    if kind in ("ucs-2", "ucs2"):
        return raw().decode("utf-16-be", "replace")
    return rest


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else None


def drive(a):
    got = []  # (monotonic time, to, text) of every MT fakesmsc logged since we started
    sent = [0]  # MO messages fakesmsc confirmed since we started
    cond = threading.Condition()
    stop = threading.Event()
    # fakesmsc (interactive mode) reads MT messages only when its select() on stdin returns:
    # on a line, or after its compiled-in 1 s timeout (IN_TIMEOUT). While an MT is awaited, an
    # empty line every `nudge` seconds (which fakesmsc skips) makes it read the socket at once;
    # so the 1 s timer is replaced by a `nudge` granularity, the same in the baseline.
    nudging = threading.Event()
    fifo_lock = threading.Lock()

    def tail():
        with open(a.log, "rb") as f:
            f.seek(0, 2)
            buf = b""
            while not stop.is_set():
                chunk = f.read()
                if not chunk:
                    time.sleep(0.0005)
                    continue
                t = time.monotonic()
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    if b"fakesmsc: sent message" in line:
                        with cond:
                            sent[0] += 1
                            cond.notify_all()
                        continue
                    m = MT.search(line.decode("utf-8", "replace"))
                    if m:
                        text = decode(m.group(3), m.group(4))
                        with cond:
                            got.append((t, m.group(2), text))
                            cond.notify_all()

    th = threading.Thread(target=tail, daemon=True)
    th.start()
    time.sleep(0.2)
    fifo = open(a.fifo, "w")

    def nudge():
        while not stop.is_set():
            if nudging.wait(0.1) and a.nudge > 0:
                with fifo_lock:
                    fifo.write("\n")
                    fifo.flush()
                time.sleep(a.nudge)

    threading.Thread(target=nudge, daemon=True).start()
    lat, missed, ids = [], 0, []
    places = ["Koro", "Dinangourou", "Madougou", "Dioungani", "Bondo", "Yoro"]
    senders = a.sender.split(",")
    for i in range(a.count):
        marker = f"b{i:05d}"
        # Several focal points take turns: one number may send 20 SMS in 10 min before Vigie's
        # flood limit stops answering it (crates/server/src/sms.rs, FLOOD_LIMIT).
        sender = senders[i % len(senders)]
        line = f"{sender} 3000 text ALERTE attaque Koro hommes armes vers {places[i % len(places)]} marche {marker}"
        with cond:
            seen, sent_before = len(got), sent[0]
        with fifo_lock:
            t0 = time.monotonic()
            fifo.write(line + "\n")
            fifo.flush()
        hit = None
        with cond:
            # One line at a time into fakesmsc (it reads stdin with stdio after select()).
            cond.wait_for(lambda: sent[0] > sent_before, 5)
        nudging.set()
        with cond:
            end = t0 + a.timeout
            while hit is None:
                for t, to, text in got[seen:]:
                    if to.endswith(a.to[-8:]) and text.startswith("ALERTE"):
                        hit = (t, text)
                        break
                seen = len(got) if hit is None else seen
                left = end - time.monotonic()
                if hit is None and left <= 0:
                    break
                if hit is None:
                    cond.wait(left)
        nudging.clear()
        if hit is None:
            missed += 1
            continue
        lat.append((hit[0] - t0) * 1000)
        m = re.search(r"Vigie (\d+)", hit[1])
        if a.base and m:
            ids.append(int(m.group(1)))
            req = urllib.request.Request(f"{a.base}/api/v1/alerts/{m.group(1)}/commands", method="POST",
                                         data=json.dumps({"command": "cancel", "reason": "banc d'essai"}).encode(),
                                         headers={"Authorization": f"Bearer {a.token}", "Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=30).read()
        time.sleep(a.pause)
    stop.set()
    r = {"count": a.count, "nudge_s": a.nudge, "measured": len(lat), "missed": missed, "distinct_alerts": len(set(ids)),
         "p50_ms": pct(lat, 50), "p90_ms": pct(lat, 90), "p99_ms": pct(lat, 99), "max_ms": max(lat) if lat else None,
         "min_ms": min(lat) if lat else None, "latencies_ms": [round(x, 2) for x in lat]}
    print(json.dumps(r))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    e = sub.add_parser("echo")
    e.add_argument("--port", type=int, required=True)
    e.add_argument("--sendsms", required=True)
    e.add_argument("--user", required=True)
    e.add_argument("--password", required=True)
    e.add_argument("--to", required=True)
    e.add_argument("--max-seconds", type=float, default=1800)
    l = sub.add_parser("load")
    l.add_argument("--base", required=True)
    l.add_argument("--token", required=True)
    l.add_argument("--rate", type=float, default=1000)
    l.add_argument("--duration", type=float, required=True)
    l.add_argument("--connections", type=int, default=64)
    l.add_argument("--seed", type=int, default=42)
    l.add_argument("--stop-file", help="stop as soon as this file exists")
    d = sub.add_parser("drive")
    d.add_argument("--fifo", required=True)
    d.add_argument("--log", required=True)
    d.add_argument("--from", dest="sender", required=True, help="phone number(s) of the focal points, comma-separated; they take turns")
    d.add_argument("--to", required=True)
    d.add_argument("--count", type=int, default=1000)
    d.add_argument("--timeout", type=float, default=30)
    d.add_argument("--pause", type=float, default=0.01)
    d.add_argument("--nudge", type=float, default=0.001, help="seconds between empty lines while an MT is awaited; 0: none")
    d.add_argument("--base")
    d.add_argument("--token")
    a = p.parse_args()
    if a.mode == "echo":
        echo(a)
    elif a.mode == "load":
        asyncio.run(load(a))
    else:
        drive(a)


if __name__ == "__main__":
    main()
