#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: installed from Debian if missing, run as the
# `postgres` user under a temp dir, listening on loopback only, removed on `stop`.
#   eval "$(scripts/pg-test-cluster.sh start)"   # exports VIGIE_TEST_PG_URL and VIGIE_TEST_PG_DIR
#   scripts/pg-test-cluster.sh stop "$VIGIE_TEST_PG_DIR"
set -euo pipefail

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

case "${1:-}" in
start)
  if ! bin=$(find_bin); then
    echo "PostgreSQL absent: installation depuis Debian / installing from Debian…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
  fi
  port=${VIGIE_TEST_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  dir=$(mktemp -d /tmp/vigie-pg.XXXXXX)
  chmod 755 "$dir"
  run_as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=128MB -c wal_level=replica -c max_wal_senders=4" \
    start >&2 || { cat "$dir/server.log" >&2; exit 1; }
  echo "export VIGIE_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "export VIGIE_TEST_PG_DIR=$dir"
  echo "export VIGIE_TEST_PG_BIN=$bin"
  ;;
stop)
  dir=${2:?usage: stop DIR}
  bin=$(find_bin)
  if [ -d "$dir/data" ]; then
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    else
      "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start | stop DIR" >&2
  exit 2
  ;;
esac
