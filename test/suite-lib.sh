# Sourced by the node suites' run.sh: checks what a suite needs, and a
# throwaway cluster stopped and removed on exit.
test_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$test_dir")

need() { echo "$(basename "$(dirname "$0")")/run.sh: $1" >&2; exit 2; }
require_node_modules() {
  [ -d "$test_dir/node_modules/svix" ] && [ -d "$test_dir/node_modules/pg" ] ||
    need "test/node_modules is missing (cd test && npm ci)"
}
require_extension() {
  [ -f "$(pg_config --sharedir)/extension/orgsync.control" ] || need "the extension is not installed (make install)"
}
require_relay() {
  [ -x "$repo_dir/relay/orgsync-relay" ] || need "relay/orgsync-relay is not built (make -C relay)"
}

# start_cluster NAME: a cluster in /tmp/NAME.XXXXXX on a free port, with the
# PG* variables exported for the suite. fsync is off unless ORGSYNC_FSYNC=on.
start_cluster() {
  local port
  CLUSTER_DIR=$(mktemp -d "/tmp/$1.XXXXXX")
  trap '"$repo_dir/scripts/cluster.sh" remove "$CLUSTER_DIR" >/dev/null 2>&1 || true' EXIT
  port=$("$test_dir/free-port.sh")
  ORGSYNC_FSYNC=${ORGSYNC_FSYNC:-off} "$repo_dir/scripts/cluster.sh" start "$CLUSTER_DIR" "$port"
  eval "$("$repo_dir/scripts/cluster.sh" env "$CLUSTER_DIR" "$port")"
  export PGHOST PGPORT PGUSER PGDATABASE
}

# check DESCRIPTION ACTUAL EXPECTED: prints ok or FAILED with both values, and
# counts failures; a shell suite ends with `((failures == 0))`.
failures=0
check() {
  if [ "$2" == "$3" ]; then
    echo "ok: $1"
  else
    echo "FAILED: $1"
    echo "  expected: $3"
    echo "  actual:   $2"
    failures=$((failures + 1))
  fi
}
