#!/usr/bin/env bash
# xmllint (Debian libxml2-utils) validates Vigie's IATI export against the official IATI 2.03
# schema in the tests (tests/fixtures/iati-2.03). Installs it when missing.
set -euo pipefail
if ! command -v xmllint >/dev/null 2>&1; then
  echo "xmllint absent : installation de libxml2-utils / installing libxml2-utils…" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libxml2-utils >/dev/null
fi
