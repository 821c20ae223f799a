# What the benchmarks share: sourced by bench/run.sh (and so by the parts it
# runs, bench/delivery.sh, scale.sh, memory.sh) and by bench/relay/run.sh.
# Sourcing it moves to the repository's root, where the benchmarks run.
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit

# The throwaway cluster's script, named here only.
CLUSTER=scripts/cluster.sh
FREE_PORT=test/free-port.sh
SECRET=${BENCH_SECRET:-whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}
results=${BENCH_RESULTS:-$PWD/bench/results}
log_name=bench # in progress lines on stderr

log() { echo "[$log_name $(date +%T)] $*" >&2; }
sql() { psql -X -q -v ON_ERROR_STOP=1 -v secret="$SECRET" "$@"; }
val() { psql -X -A -t -q -v ON_ERROR_STOP=1 -v secret="$SECRET" "$@"; }

# work_dir NAME: a new directory under /tmp, readable by the server (which
# runs as `postgres` when we are root).
work_dir() {
  local dir
  dir=$(mktemp -d "/tmp/orgsync-$1.XXXXXX")
  chmod 755 "$dir"
  echo "$dir"
}

# cluster_start DIR [SHARED_BUFFERS]: a cluster in DIR on a free port, fsync
# on, its PG* variables exported; restarted with SHARED_BUFFERS when that is
# not what it has.
cluster_start() {
  local port
  port=$($FREE_PORT)
  ORGSYNC_FSYNC=on $CLUSTER start "$1" "$port"
  eval "$($CLUSTER env "$1" "$port")"
  if [ -n "${2:-}" ] && [ "$(val -c 'SHOW shared_buffers')" != "$2" ]; then
    sql -c "ALTER SYSTEM SET shared_buffers = '$2'"
    cluster_stop "$1"
    ORGSYNC_FSYNC=on $CLUSTER start "$1" "$port"
  fi
}
cluster_stop() { $CLUSTER stop "$1"; }

# install_orgsync [psql options]: the extension and the benchmarks' secret
install_orgsync() {
  sql -c "CREATE EXTENSION orgsync" -c "SELECT orgsync.add_secret('$SECRET')" "$@" >/dev/null
}
# The extension, then bench/generate.sql (the bench schema: payloads, bench.runs).
setup() { install_orgsync -f bench/generate.sql; }

# truncate_statement SCHEMA: the statement that empties the tables
# handle_event writes, orgsync's or bench/baseline.sql's.
truncate_statement() { echo "TRUNCATE $1.organizations, $1.users, $1.memberships, $1.invitations, $1.events"; }

# timed PART LABEL RUN ROWS STATEMENT [psql options]: one run, in a new
# connection, into bench.runs (bench/timed.sql)
timed() {
  sql -v part="$1" -v label="$2" -v run="$3" -v rows="$4" -v statement="$5" "${@:6}" -f bench/timed.sql
}

# "N cores (CPU), M GiB RAM, Linux R, PostgreSQL V": how each summary's
# Machine line starts.
machine_hardware() {
  local cpu mem
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
  echo "$(nproc) cores ($cpu), $mem RAM, Linux $(uname -r), $(val -d postgres -c "SELECT split_part(version(), ' (', 1)")"
}
