#!/usr/bin/env bash
# End-to-end check of the Kannel test gateway WITHOUT Vigie: a throwaway Python HTTP server on
# loopback stands in for Vigie's /sms/kannel/inbound and /sms/kannel/dlr. Checks that
#  1. an SMS injected at fakesmsc reaches "Vigie" with from/to/text/smsc/ts/id, UTF-8 text;
#  2. the HTTP answer body comes back to the phone as the reply SMS, accents intact
#     (GSM-7 accents with coding 0, anything else with X-Kannel-Coding: 2 = UCS-2);
#  3. an accented SMS sent by the phone in UCS-2 reaches "Vigie" as UTF-8 (mo-recode);
#  4. an empty answer sends nothing back;
#  5. sendsms delivers outbound messages (coding 0 and 2) to fakesmsc, and the DLRs
#     (SMSC accepted = 8, delivered = 1) reach "Vigie" with the dlr-url variables.
# Prints the timings it observed. Exit 0 = all good.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/vigie-kannel-smoke.XXXXXX)
VIGIE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export VIGIE_PORT

cat >"$work/standin.py" <<'PY'
# Stand-in for Vigie: logs every request as a JSON line, answers inbound SMS with a reply.
import http.server, json, sys, time, urllib.parse
LOG = sys.argv[2]
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True, encoding="utf-8", errors="strict").items()}
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"t": time.time(), "path": u.path, "q": q}, ensure_ascii=False) + "\n")
        if u.path == "/sms/kannel/inbound":
            text = q.get("text", "")
            if text.lower().startswith("silence"):
                reply = ""                                   # no reply SMS (omit-empty)
            elif text.lower().startswith("aide"):
                reply = "Vigie: où? à Sévaré, Ségou"          # GSM-7 accents only
            else:
                reply = "Vigie: reçu «" + text + "» — à bientôt"  # needs UCS-2 (ç « » — ô)
            body = reply.encode("utf-8")
            coding = "0" if all(c in GSM7 for c in reply) else "2"
        else:
            body, coding = b"", None
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        if coding:
            self.send_header("X-Kannel-Coding", coding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$work/standin.py" "$VIGIE_PORT" "$work/vigie.jsonl" >"$work/standin.out" 2>&1 &
standin=$!

cleanup() {
  kill "$standin" 2>/dev/null || true
  [ -n "${KANNEL_DIR:-}" ] && scripts/kannel.sh stop "$KANNEL_DIR" || true
  rm -rf "$work"
}
trap cleanup EXIT

t0=$(date +%s.%N)
eval "$(timeout 120 scripts/kannel.sh start)"
t1=$(date +%s.%N)
echo "kannel started in $(python3 -c "print(round($t1-$t0,1))") s" >&2

# Waits until CHECK (python expression over `vigie` = list of logged requests and
# `got` = list of MT messages seen by fakesmsc) is true; prints elapsed seconds.
await() {
  python3 - "$work/vigie.jsonl" "$KANNEL_DIR/fakesmsc.log" "$1" "${2:-20}" <<'PY' || { echo "FAILED: $1" >&2; exit 1; }
import json, os, subprocess, sys, time
vlog, flog, check, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
start = time.time()
while True:
    try:
        vigie = [json.loads(l) for l in open(vlog, encoding="utf-8")]
    except FileNotFoundError:
        vigie = []
    got = [json.loads(l) for l in subprocess.run(["scripts/kannel.sh", "received", os.environ["KANNEL_DIR"]], capture_output=True, text=True, check=True).stdout.splitlines()]
    if eval(check):
        print(f"{time.time() - start:.2f}")
        sys.exit(0)
    if time.time() - start > limit:
        print("vigie:", json.dumps(vigie, ensure_ascii=False, indent=1), file=sys.stderr)
        print("fakesmsc got:", json.dumps(got, ensure_ascii=False, indent=1), file=sys.stderr)
        sys.exit(1)
    time.sleep(0.1)
PY
}

# 1–2. MO in plain UTF-8 text, reply needing UCS-2.
mo1="ALERTE attaque Koro des hommes armés à moto"
scripts/kannel.sh inject "$KANNEL_DIR" +22376123456 "$mo1" 3000
s=$(await "any(r['path']=='/sms/kannel/inbound' and r['q'].get('text')=='''$mo1''' and r['q']['from']=='+22376123456' and r['q']['to']=='3000' and r['q']['smsc']=='FAKE' and r['q']['ts'].isdigit() and len(r['q']['id'])==36 for r in vigie)")
echo "inbound 1 reached the stand-in after ${s}s" >&2
s=$(await "any(g['to']=='+22376123456' and g['from']=='3000' and g['coding']=='ucs-2' and g['text']=='Vigie: reçu «$mo1» — à bientôt' for g in got)")
echo "UCS-2 reply 1 seen at fakesmsc after ${s}s more" >&2

# GSM-7 reply with é/à (coding 0).
scripts/kannel.sh inject "$KANNEL_DIR" 76123457 "aide" 3000
s=$(await "any(g['to']=='76123457' and g['coding']=='text' and g['text']=='Vigie: où? à Sévaré, Ségou' for g in got)")
echo "GSM-7 reply seen after ${s}s" >&2

# 3. MO sent by the phone in UCS-2.
mo3="Déplacement à Ségou, 40 familles"
scripts/kannel.sh inject "$KANNEL_DIR" +22365000000 "$mo3" 3000 ucs2
s=$(await "any(r['q'].get('text')=='''$mo3''' and r['q'].get('charset')=='UTF-8' for r in vigie)")
echo "UCS-2 inbound arrived as UTF-8 after ${s}s" >&2

# 4. Outbound through sendsms, with DLR.
send() { # TO TEXT CODING OUTID
  local dlr
  dlr="http://127.0.0.1:$VIGIE_PORT/sms/kannel/dlr?out=$4&status=%d&answer=%A&phone=%p&sender=%P&ts=%T&smsc=%i&smsc_msg_id=%F"
  curl -sS -m 10 -G "$KANNEL_SENDSMS_URL" \
    --data-urlencode "username=$KANNEL_SENDSMS_USER" --data-urlencode "password=$KANNEL_SENDSMS_PASSWORD" \
    --data-urlencode "from=3000" --data-urlencode "to=$1" --data-urlencode "text=$2" \
    --data-urlencode "charset=UTF-8" --data-urlencode "coding=$3" \
    --data-urlencode "dlr-mask=31" --data-urlencode "dlr-url=$dlr" -w ' (HTTP %{http_code})'
  echo
}
out1="Équipe déployée à Koro, restez à l'abri"   # GSM-7 (É é à)
out2="Intervention en cours à Kôrô — reçu"        # UCS-2 (ô ç —)
r=$(send +22376123456 "$out1" 0 out-1); echo "sendsms: $r" >&2; [[ $r == *"(HTTP 202)" ]]
r=$(send +22376123456 "$out2" 2 out-2); echo "sendsms: $r" >&2; [[ $r == *"(HTTP 202)" ]]
s=$(await "any(g['text']=='''$out1''' and g['coding']=='text' for g in got) and any(g['text']=='''$out2''' and g['coding']=='ucs-2' for g in got)")
echo "outbound messages seen at fakesmsc after ${s}s" >&2
s=$(await "sorted((r['q']['out'], r['q']['status']) for r in vigie if r['path']=='/sms/kannel/dlr') == [('out-1','1'),('out-1','8'),('out-2','1'),('out-2','8')] and all(r['q']['phone']=='+22376123456' and r['q']['sender']=='3000' and r['q']['smsc']=='FAKE' for r in vigie if r['path']=='/sms/kannel/dlr')")
echo "DLRs 8 (SMSC) and 1 (delivered) for both after ${s}s" >&2

# An empty answer sends no SMS back (Vigie may answer later through sendsms).
scripts/kannel.sh inject "$KANNEL_DIR" +22370000001 "silence svp" 3000
await "any(r['q'].get('from')=='+22370000001' for r in vigie)" >/dev/null
sleep 3
n=$(scripts/kannel.sh received "$KANNEL_DIR" | grep -c '"to": "+22370000001"' || true)
echo "empty answer → SMS sent back: $n" >&2
[ "$n" = 0 ]

# Credentials are checked.
r=$(curl -sS -m 10 -G "$KANNEL_SENDSMS_URL" --data-urlencode "username=vigie" --data-urlencode "password=wrong" \
  --data-urlencode "to=+22376123456" --data-urlencode "text=x" -w ' (HTTP %{http_code})')
echo "sendsms with a wrong password: $r" >&2
[[ $r == *"(HTTP 403)" ]]

echo "--- one inbound request as the stand-in saw it:" >&2
head -n 1 "$work/vigie.jsonl" >&2
echo "--- one DLR:" >&2
grep '/dlr' "$work/vigie.jsonl" | head -n 1 >&2
echo "kannel-smoke: OK" >&2
