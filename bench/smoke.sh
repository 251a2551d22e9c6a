#!/usr/bin/env bash
# Every benchmark in its smoke mode (a few seconds each), so they cannot rot. Not a
# performance gate: it fails only if a benchmark cannot run or its counts do not add up.
#   bench/smoke.sh            (uses the release binary; VIGIE_BIN=… to use another build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OUT=${OUT:-$(mktemp -d /tmp/vigie-bench-smoke.XXXXXX)}
"$here/ingest/run.sh" --smoke
SKIP_CENTRAL=1 "$here/ingest/odk-central.sh" --smoke
"$here/startup/run.sh" --smoke
"$here/analytics/run.sh" --smoke
"$here/alerts/run.sh" --smoke
for s in "$here"/*/smoke.sh; do [ -x "$s" ] && "$s"; done   # other benchmarks' own smoke entries
echo "bench smoke: ok ($OUT)"
