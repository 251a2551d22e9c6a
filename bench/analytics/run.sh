#!/usr/bin/env bash
# Benchmarks 3 and 6 (issue 11): dashboard queries at 100 k / 1 M (/ 10 M) reports on SQLite and
# PostgreSQL, against DuckDB on the same rows as Parquet, in the same run. Loopback only.
#   bench/analytics/run.sh                      # 100 k and 1 M, both backends (~10 min on 2 cores)
#   bench/analytics/run.sh --sizes "100000 1000000 10000000"
#   bench/analytics/run.sh --sizes 10000000 --backends sqlite --keep --work DIR   # keeps DIR/bench-N.db
#   bench/analytics/run.sh --smoke              # a few seconds (CI: keeps the benchmark from rotting)
# Prints each query's median time, DuckDB's, the ratio, the DB size and vigie's peak RSS.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
sizes="100000 1000000"; backends="sqlite postgres"; repeat=5; profile=release; extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) sizes=2000; repeat=2; profile=${VIGIE_BENCH_PROFILE:-debug} ;;
    --sizes) sizes=$2; shift ;;
    --backends) backends=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --keep|--work) extra+=("$1"); [ "$1" = --work ] && { extra+=("$2"); shift; } ;;
    *) echo "usage: $0 [--smoke] [--sizes \"N …\"] [--backends \"sqlite postgres\"] [--repeat N]" >&2; exit 2 ;;
  esac
  shift
done
target=${CARGO_TARGET_DIR:-$root/target}
if [ "$profile" = release ]; then
  (cd "$root" && cargo build --release -q -p vigie); bin=$target/release/vigie
else
  (cd "$root" && cargo build -q -p vigie); bin=$target/debug/vigie
fi
venv=$root/bench/.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import duckdb, pytz' 2>/dev/null || "$venv/bin/pip" install -q duckdb pytz
for d in /usr/lib/postgresql/*/bin; do PATH=$PATH:$d; done
export PATH
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB RAM, $(lscpu | sed -n 's/^Model name: *//p'); load: $(uptime | sed 's/.*load average/load average/')"
exec timeout 21600 "$venv/bin/python" "$root/bench/analytics/bench.py" --bin "$bin" --root "$root" --sizes "$sizes" --backends "$backends" --repeat "$repeat" "${extra[@]}"
