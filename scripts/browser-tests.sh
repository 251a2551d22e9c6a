#!/usr/bin/env bash
# Runs the browser tests (tests/browser): Debian's Chromium, headless, driven by playwright-core
# from npm, against `vigie serve --demo` started by the test on a loopback port. Installs what is
# missing (chromium via apt-get, the npm packages via npm ci), builds the vigie binary, runs
# `node --test`. Screenshots land in test-artifacts/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "chromium absent : installation / installing…" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# The map test inserts 100 000 reports with the sqlite3 shell.
if ! command -v sqlite3 >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

cargo build -p vigie --quiet
target="${CARGO_TARGET_DIR:-target}"
export VIGIE_BIN="${VIGIE_BIN:-$(cd "$target" && pwd)/debug/vigie}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
cd tests/browser
exec node --test --test-concurrency=1 --test-timeout=110000 vigie.test.mjs cases-map.test.mjs xss.test.mjs admin.test.mjs results.test.mjs
