# Shared helpers of the benchmarks (sourced). Loopback only; everything under $BENCH_TMP.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BENCH_TMP=${BENCH_TMP:-$(mktemp -d /tmp/vigie-bench.XXXXXX)}
export VIGIE_LOG=${VIGIE_LOG:-error}
PIDS=()

log() { echo "[$(date +%T)] $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# The release binary (built if missing or older than the sources, unless VIGIE_BIN is given).
vigie_bin() {
  if [ -n "${VIGIE_BIN:-}" ]; then echo "$VIGIE_BIN"; return; fi
  (cd "$REPO" && cargo build -q --release -p vigie >&2)
  echo "$TARGET/release/vigie"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# PostgreSQL for benchmarks: VIGIE_BENCH_PG_URL, else the test server scripts/test.sh started
# (VIGIE_TEST_PG_URL), else none.
pg_admin_url() {
  if [ -n "${VIGIE_BENCH_PG_URL:-}" ]; then echo "$VIGIE_BENCH_PG_URL"; return; fi
  echo "${VIGIE_TEST_PG_URL:-}"
}

# A fresh, empty database URL for BACKEND (sqlite|postgres) named NAME.
fresh_db() {
  local backend=$1 name=$2
  if [ "$backend" = sqlite ]; then
    echo "sqlite:$BENCH_TMP/$name.db"
  else
    local admin; admin=$(pg_admin_url)
    [ -n "$admin" ] || die "no PostgreSQL (set VIGIE_BENCH_PG_URL)"
    local db="bench_${name//-/_}_$$"
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    echo "${admin%/*}/$db"
  fi
}

# Seeds areas and an analyst with an API token; prints the token.
# Areas and one account with an API token (printed); ROLE defaults to analyst (reports), the
# OpenRosa comparison needs admin (publishing a form takes forms.manage).
seed() {
  local bin=$1 url=$2 role=${3:-analyst}
  "$bin" --db "$url" import areas "$REPO/data/demo/areas.csv" >/dev/null
  "$bin" --db "$url" user add bench --role "$role" --area ML --token | tail -1 | tr -d '[:space:]'
}

# Starts `vigie serve` on a free port; sets VIGIE_PID and VIGIE_BASE; waits for /readyz.
start_vigie() {
  local bin=$1 url=$2; shift 2
  local port; port=$(free_port)
  "$bin" --db "$url" serve --addr "127.0.0.1:$port" "$@" >"$BENCH_TMP/vigie-$port.out" 2>&1 &
  VIGIE_PID=$!; PIDS+=("$VIGIE_PID")
  VIGIE_BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 200); do
    curl -sf -m 1 "$VIGIE_BASE/readyz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  cat "$BENCH_TMP/vigie-$port.out" >&2; die "vigie did not become ready"
}

stop_vigie() { kill "$VIGIE_PID" 2>/dev/null || true; wait "$VIGIE_PID" 2>/dev/null || true; }

# Peak and current resident memory of a process, in MiB.
rss_peak_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
rss_now_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

metric() { curl -sf "$VIGIE_BASE/metrics" | awk -v m="$1" '$1==m {print $2; f=1} END {if (!f) print 0}'; }

machine() {
  echo "date: $(date -u +%FT%TZ)"
  echo "cpu: $(nproc) x $(lscpu | sed -n 's/^Model name: *//p')"
  echo "ram: $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "load: $(uptime | sed 's/.*load average: //')"
  echo "commit: $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet || echo '+dirty')"
}
