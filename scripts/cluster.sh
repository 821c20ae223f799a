#!/usr/bin/env bash
# A PostgreSQL cluster for `make run`, the tests and the benchmarks.
#
#   scripts/cluster.sh start DIR PORT   initdb into DIR/data (if new), start on a
#                                       unix socket in DIR/sock and on 127.0.0.1:PORT
#   scripts/cluster.sh stop DIR         stop it (fast shutdown)
#   scripts/cluster.sh running DIR      exit 0 when it runs, 1 when not
#   scripts/cluster.sh env DIR PORT     print the PG* variables clients need
#   scripts/cluster.sh remove DIR       stop it and delete its files, DIR included
#
# The server never runs as root: when we are root it runs as `postgres`, from
# the root directory (the caller's may be closed to it). When `postgres`
# cannot reach DIR (a clone under /root, a private temporary directory), the
# cluster lives in /var/lib/orgsync/<hash of DIR's path>, and DIR is a link
# to it.
set -euo pipefail

usage="usage: cluster.sh start|stop|running|env|remove DIR [PORT]"
cmd=${1:?$usage}
given=${2:?$usage}
port=${3:-54329}
bindir=$(pg_config --bindir)
as_root=$([ "$(id -u)" = 0 ] && echo yes || echo no)

as_server() {
  if [ "$as_root" = yes ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Makes DIR a directory the server can use, and prints its physical path.
prepare() {
  local path parent
  path=$(realpath -m "$given")
  parent=$(dirname "$path")
  mkdir -p "$parent"
  if [ "$as_root" = yes ] && [ ! -L "$path" ] && [ ! -d "$path/data" ] &&
    ! as_server test -x "$parent"; then
    if [ -e "$path" ] && ! rmdir "$path" 2>/dev/null; then
      echo "cluster.sh: user postgres cannot reach $path, and it is not empty" >&2
      exit 1
    fi
    ln -s "/var/lib/orgsync/$(printf %s "$path" | sha256sum | cut -c1-16)" "$path"
  fi
  if [ -L "$path" ]; then mkdir -p "$(readlink -m "$path")"; fi
  mkdir -p "$path/sock"
  if [ "$as_root" = yes ]; then chown postgres: "$path/" "$path/sock"; fi
  (cd "$path" && pwd -P)
}

# The physical path of an existing cluster directory.
existing() {
  [ -d "$given" ] || return 1
  (cd "$given" && pwd -P)
}

case "$cmd" in
  start)
    dir=$(prepare)
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
    if dir=$(existing) && [ -f "$dir/data/postmaster.pid" ]; then
      as_server "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
  running)
    dir=$(existing) || exit 1
    as_server "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
    ;;
  env)
    dir=$(existing) || dir=$(realpath -m "$given")
    echo "export PGHOST=$dir/sock PGPORT=$port PGUSER=postgres PGDATABASE=postgres"
    ;;
  remove)
    if dir=$(existing); then
      "$0" stop "$given"
      rm -rf "$dir"
    fi
    rm -rf "$given"
    ;;
  *)
    echo "$usage" >&2
    exit 2
    ;;
esac
