#!/usr/bin/env bash
# A throwaway Kannel SMS gateway for tests: bearerbox + smsbox + fakesmsc (Kannel's fake
# operator), on loopback only, in a temp dir, forwarding each inbound SMS to Vigie at
# http://127.0.0.1:$VIGIE_PORT/sms/kannel/inbound (VIGIE_PORT defaults to 8080).
#
#   eval "$(scripts/kannel.sh start)"                 # exports KANNEL_* (see the end of start)
#   scripts/kannel.sh inject "$KANNEL_DIR" +22376123456 "ALERTE attaque Koro …" [to] [text|ucs2|data]
#   scripts/kannel.sh received "$KANNEL_DIR"          # what the fake operator got, JSON lines
#   scripts/kannel.sh stop "$KANNEL_DIR"
#
# Installs Debian's kannel and kannel-extras (fakesmsc) with apt-get when missing.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
template="$here/deploy/kannel/kannel.conf.template"
fakesmsc=/usr/lib/kannel/test/fakesmsc

die() { echo "kannel.sh: $*" >&2; exit 1; }

free_ports() { # N free loopback TCP ports
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

wait_for() { # SECONDS DESCRIPTION COMMAND… — polls every 0.2 s
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_dir() {
  [ -n "${1:-}" ] && [ -f "$1/.vigie-kannel" ] || die "not a kannel.sh directory: ${1:-<none>}"
}

start() {
  if ! command -v bearerbox >/dev/null || ! command -v smsbox >/dev/null || [ ! -x "$fakesmsc" ]; then
    # Tests start Kannel in parallel (one per backend): one installs, the others wait for it.
    exec 8>/tmp/vigie-kannel-install.lock
    timeout 900 flock 8 || die "install: lock busy"
    if ! command -v bearerbox >/dev/null || ! command -v smsbox >/dev/null || [ ! -x "$fakesmsc" ]; then
      echo "Kannel absent : installation depuis Debian / installing from Debian…" >&2
      export DEBIAN_FRONTEND=noninteractive
      timeout 300 apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
      timeout 600 apt-get -o DPkg::Lock::Timeout=300 install -y -qq kannel kannel-extras >&2
    fi
    exec 8>&-
  fi
  command -v envsubst >/dev/null || die "envsubst missing (Debian package gettext-base)"
  [ -f "$template" ] || die "missing $template"

  local dir ports
  dir=$(mktemp -d /tmp/vigie-kannel.XXXXXX)
  touch "$dir/.vigie-kannel"
  read -r KANNEL_ADMIN_PORT KANNEL_SMSBOX_PORT KANNEL_FAKE_PORT KANNEL_SENDSMS_PORT <<<"$(free_ports 4)"
  export KANNEL_DIR=$dir KANNEL_ADMIN_PORT KANNEL_SMSBOX_PORT KANNEL_FAKE_PORT KANNEL_SENDSMS_PORT
  export VIGIE_PORT=${VIGIE_PORT:-8080}
  # Shared secret Kannel puts in Vigie's inbound URL (Vigie refuses inbound SMS without it).
  export VIGIE_SMS_KEY=${VIGIE_SMS_KEY:-$(python3 -c 'import secrets; print(secrets.token_hex(16))')}
  export KANNEL_ADMIN_PASSWORD KANNEL_SEND_USER=vigie KANNEL_SEND_PASSWORD
  KANNEL_ADMIN_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
  KANNEL_SEND_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
  envsubst '${KANNEL_DIR} ${KANNEL_ADMIN_PORT} ${KANNEL_ADMIN_PASSWORD} ${KANNEL_SMSBOX_PORT} ${KANNEL_FAKE_PORT} ${KANNEL_SENDSMS_PORT} ${VIGIE_PORT} ${VIGIE_SMS_KEY} ${KANNEL_SEND_USER} ${KANNEL_SEND_PASSWORD}' \
    <"$template" >"$dir/kannel.conf"
  chmod 600 "$dir/kannel.conf"

  # -v 1: info on the console (the log files get debug from the config).
  nohup bearerbox -v 1 "$dir/kannel.conf" >"$dir/bearerbox.out" 2>&1 </dev/null &
  echo $! >"$dir/bearerbox.pid"
  # Ready when the admin interface answers (probing the smsbox port would look like a box).
  if ! wait_for 20 bearerbox curl -sf -m 2 "http://127.0.0.1:$KANNEL_ADMIN_PORT/status.txt?password=$KANNEL_ADMIN_PASSWORD"; then
    cat "$dir/bearerbox.out" >&2; stop_dir "$dir"; die "bearerbox did not start"
  fi
  nohup smsbox -v 1 "$dir/kannel.conf" >"$dir/smsbox.out" 2>&1 </dev/null &
  echo $! >"$dir/smsbox.pid"
  if ! wait_for 20 smsbox port_open "$KANNEL_SENDSMS_PORT"; then
    cat "$dir/smsbox.out" >&2; stop_dir "$dir"; die "smsbox did not start"
  fi
  # fakesmsc with no message argument reads one MO line per line of stdin ("interactive
  # mode"). Its stdin is a FIFO opened read-write, so it never sees end-of-file (which would
  # crash it). -v 0 makes it log "Got message N: <…>" for every MT it receives.
  mkfifo "$dir/fakesmsc.in"
  nohup "$fakesmsc" -H 127.0.0.1 -r "$KANNEL_FAKE_PORT" -i 0 -v 0 \
    <>"$dir/fakesmsc.in" >"$dir/fakesmsc.log" 2>&1 &
  echo $! >"$dir/fakesmsc.pid"
  if ! wait_for 20 fakesmsc grep -q "Fakesmsc client connected" "$dir/bearerbox.log"; then
    cat "$dir/fakesmsc.log" >&2; stop_dir "$dir"; die "fakesmsc did not connect"
  fi
  if ! wait_for 20 smsbox-connected grep -q "Client connected from <127.0.0.1>" "$dir/bearerbox.log"; then
    cat "$dir/smsbox.out" >&2; stop_dir "$dir"; die "smsbox did not connect to bearerbox"
  fi

  local q=printf
  $q 'export KANNEL_DIR=%q\n' "$dir"
  $q 'export KANNEL_SENDSMS_URL=%q\n' "http://127.0.0.1:$KANNEL_SENDSMS_PORT/cgi-bin/sendsms"
  $q 'export KANNEL_SENDSMS_USER=%q\n' "$KANNEL_SEND_USER"
  $q 'export KANNEL_SENDSMS_PASSWORD=%q\n' "$KANNEL_SEND_PASSWORD"
  $q 'export KANNEL_ADMIN_URL=%q\n' "http://127.0.0.1:$KANNEL_ADMIN_PORT"
  $q 'export KANNEL_ADMIN_PASSWORD=%q\n' "$KANNEL_ADMIN_PASSWORD"
  $q 'export KANNEL_ADMIN_PORT=%q KANNEL_SMSBOX_PORT=%q KANNEL_FAKE_PORT=%q KANNEL_SENDSMS_PORT=%q\n' \
    "$KANNEL_ADMIN_PORT" "$KANNEL_SMSBOX_PORT" "$KANNEL_FAKE_PORT" "$KANNEL_SENDSMS_PORT"
  $q 'export KANNEL_INBOUND_URL=%q\n' "http://127.0.0.1:$VIGIE_PORT/sms/kannel/inbound"
  $q 'export VIGIE_SMS_KEY=%q\n' "$VIGIE_SMS_KEY"
  $q 'export KANNEL_FAKESMSC_IN=%q\n' "$dir/fakesmsc.in"
  $q 'export KANNEL_FAKESMSC_LOG=%q\n' "$dir/fakesmsc.log"
  echo "Kannel prêt / ready: $dir (sendsms :$KANNEL_SENDSMS_PORT, Vigie attendu / expected on :$VIGIE_PORT)" >&2
}

# One MO message into fakesmsc. Serialised with a lock and confirmed by fakesmsc's own
# "sent message N" log line: fakesmsc reads stdin with stdio after select(), so two lines
# written at once would leave the second one stuck in its buffer.
inject() {
  local dir=$1 from=$2 text=$3 to=${4:-3000} coding=${5:-}
  check_dir "$dir"
  local line
  line=$(python3 - "$from" "$to" "$text" "$coding" <<'PY'
import sys, urllib.parse
frm, to, text, coding = sys.argv[1:5]
if any(c.isspace() for c in frm + to) or not frm or not to:
    sys.exit("inject: from/to must be non-empty without spaces")
if not coding:
    coding = "text" if all(31 < ord(c) and c != "\x7f" for c in text) else "data"
if coding == "text":
    body = text
elif coding == "data":   # URL-encoded UTF-8 bytes (keeps newlines)
    body = urllib.parse.quote_plus(text.encode("utf-8"))
elif coding == "ucs2":   # URL-encoded UTF-16BE, as a phone sends accents outside GSM-7
    body = urllib.parse.quote_plus(text.encode("utf-16-be"))
else:
    sys.exit("inject: coding is text, data or ucs2")
line = f"{frm} {to} {coding} {body}"
# fakesmsc reads stdin with fgets(buf, 256): a longer line would become two messages.
if len(line.encode("utf-8")) > 254:
    sys.exit(f"inject: line is {len(line.encode())} bytes, fakesmsc takes 254 at most; shorten the text or use coding text")
print(line)
PY
) || exit 1
  exec 9>"$dir/inject.lock"
  timeout 15 flock 9 || die "inject: lock busy"
  local before after
  before=$(grep -c "fakesmsc: sent message" "$dir/fakesmsc.log" || true)
  printf '%s\n' "$line" | timeout 5 tee -a "$dir/fakesmsc.in" >/dev/null || die "inject: fakesmsc not reading"
  if ! wait_for 5 sent sh -c "[ \$(grep -c 'fakesmsc: sent message' '$dir/fakesmsc.log') -gt $before ]"; then
    die "inject: fakesmsc did not send the message (see $dir/fakesmsc.log)"
  fi
  exec 9>&-
}

# Messages fakesmsc received from Kannel (MT: replies and sendsms), decoded, as JSON lines:
# {"n":1,"from":"3000","to":"+22376123456","coding":"ucs-2","text":"…"}
received() {
  check_dir "$1"
  python3 - "$1/fakesmsc.log" <<'PY'
import json, re, sys, urllib.parse
pat = re.compile(r"Got message (\d+): <(\S+) (\S+) (\S+) ?(.*)>$")
for raw in open(sys.argv[1], "rb"):
    line = raw.decode("utf-8", "replace").rstrip("\n")
    m = pat.search(line)
    if not m:
        continue
    n, frm, to, kind, rest = m.groups()
    if kind == "text":
        text = rest
    elif kind == "data":
        text = urllib.parse.unquote_to_bytes(rest.replace("+", " ")).decode("utf-8", "replace")
    elif kind in ("ucs-2", "ucs2"):
        text = urllib.parse.unquote_to_bytes(rest.replace("+", " ")).decode("utf-16-be", "replace")
    elif kind == "udh":
        udh, _, data = rest.partition(" ")
        text = urllib.parse.unquote_to_bytes(data.replace("+", " ")).decode("latin-1")
    else:
        text = rest
    print(json.dumps({"n": int(n), "from": frm, "to": to, "coding": kind, "text": text}, ensure_ascii=False))
PY
}

stop_dir() {
  local dir=$1 name pid
  for name in fakesmsc smsbox bearerbox; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait_for 15 "$name-exit" sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) check_dir "${2:-}"; stop_dir "$2" ;;
inject) [ $# -ge 4 ] || die "usage: inject DIR FROM TEXT [TO] [text|data|ucs2]"; inject "${@:2}" ;;
received) received "${2:-}" ;;
*) echo "usage: $0 start | stop DIR | inject DIR FROM TEXT [TO] [text|data|ucs2] | received DIR" >&2; exit 2 ;;
esac
