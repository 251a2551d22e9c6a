#!/usr/bin/env bash
# API conformance: schemathesis (PyPI) against a live demo server on loopback. Every operation of
# /api/v1/openapi.json is called with generated data as the demo admin; it fails on any 5xx and on
# any response that its documented schema does not allow. Bounded for CI (2 cores):
# SCHEMATHESIS_MAX_EXAMPLES (default 15) examples per operation, SCHEMATHESIS_MAX_TIME (default 240 s).
# Usage: scripts/schemathesis.sh [path/to/vigie]   (default target/debug/vigie)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-${CARGO_TARGET_DIR:-target}/debug/vigie}
[ -x "$bin" ] || { echo "vigie introuvable / not found: $bin (cargo build --bin vigie)" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

venv=${SCHEMATHESIS_VENV:-$HOME/.cache/vigie/schemathesis-venv}
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "schemathesis absent : installation / installing (PyPI)…" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis>=4.3,<5'
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export VIGIE_DB="sqlite:$work/vigie.db"
cd "$work"
"$bin" --key-file "$work/vigie.key" serve --demo --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$work/server.log" >&2; exit 1; }
token=$("$bin" --key-file "$work/vigie.key" user add st_admin --role admin --area ML --token </dev/null 2>/dev/null | grep -o 'vgt_[A-Za-z0-9_-]*' | head -1)
[ -n "$token" ] || { echo "no token" >&2; exit 1; }

cd "$root"
# The coverage phase is left out: with hypothesis 6.170 on Python 3.11 it stops on an internal
# error ("AST constructor recursion depth mismatch") that is not about Vigie.
# Operations that end the caller's own access are left out: they would turn the rest of the run
# into 401s: signing out, disabling or un-granting an account (which may be the caller's own).
# The authorization matrix test covers them.
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-15}" \
  --max-time "${SCHEMATHESIS_MAX_TIME:-240}" \
  --phases examples,fuzzing \
  --workers 2 \
  --request-timeout 20 \
  --exclude-path /api/v1/auth/logout \
  --exclude-name 'PATCH /api/v1/users/{id}' \
  --exclude-name 'DELETE /api/v1/users/{id}/grants' \
  --suppress-health-check all \
  --seed "${SCHEMATHESIS_SEED:-20261123}" \
  "${@:2}"
echo "schemathesis : aucune erreur serveur ni réponse hors schéma / no server error and no off-schema response"
