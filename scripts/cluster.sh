#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, benchmarks and `make run`.
#
#   test/cluster.sh start DIR PORT   initdb into DIR/data (if new), start on a
#                                    unix socket in DIR/sock and on 127.0.0.1:PORT
#   test/cluster.sh stop DIR         stop it (fast shutdown)
#   test/cluster.sh env DIR PORT     print the PG* variables clients need
#
# The server never runs as root: when we are root it runs as `postgres`.
set -euo pipefail

cmd=${1:?usage: cluster.sh start|stop|env DIR [PORT]}
dir=$(mkdir -p "${2:?DIR}" && cd "$2" && pwd)
port=${3:-54329}
bindir=$(pg_config --bindir)

as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir/sock"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir" "$dir/sock"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_server "$bindir/initdb" -D "$dir/data" -U postgres -A trust \
        --no-sync -E UTF8 --locale=C >"$dir/initdb.log"
      cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
max_connections = 64
max_prepared_transactions = 2
shared_buffers = 256MB
fsync = ${ORGSYNC_FSYNC:-on}
log_min_messages = warning
lc_messages = 'C'
EOF
    fi
    if as_server "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      echo "cluster.sh: already running in $dir" >&2
      exit 0
    fi
    as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port" start >/dev/null
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_server "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
  env)
    echo "export PGHOST=$dir/sock PGPORT=$port PGUSER=postgres PGDATABASE=postgres"
    ;;
  *)
    echo "usage: cluster.sh start|stop|env DIR [PORT]" >&2
    exit 2
    ;;
esac
