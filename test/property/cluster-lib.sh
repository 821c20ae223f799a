# Sourced by test/property/run.sh and test/svix/run.sh: a throwaway cluster on
# the first free port from $2 on (within 55500-55599), stopped and removed on exit.
start_cluster() {
  local name=$1 port=$2 testdir
  testdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  CLUSTER_DIR=$(mktemp -d "/tmp/$name.XXXXXX")
  trap '"'"$testdir"'/cluster.sh" stop "$CLUSTER_DIR" >/dev/null 2>&1 || true; rm -rf "$CLUSTER_DIR"' EXIT
  until ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
    if [ "$port" -gt 55599 ]; then echo "no free port in 55500-55599" >&2; return 1; fi
  done
  ORGSYNC_FSYNC=off "$testdir/cluster.sh" start "$CLUSTER_DIR" "$port"
  eval "$("$testdir/cluster.sh" env "$CLUSTER_DIR" "$port")"
  export PGHOST PGPORT PGUSER PGDATABASE
}
