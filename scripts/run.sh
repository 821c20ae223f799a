#!/usr/bin/env bash
# The main job (`make run`): a local cluster under .run/ with orgsync created
# and a signing secret added, and the relay in the foreground. Ctrl-C stops
# both. Settings, all optional:
#   ORGSYNC_WEBHOOK_SECRET   the endpoint's signing secret from Clerk (whsec_...);
#                            without it one is generated and kept in .run/secret
#   ORGSYNC_PG_PORT          the cluster's port (default 54329)
#   ORGSYNC_RELAY_LISTEN     where the relay listens (default 127.0.0.1:8787)
#   ORGSYNC_RUN_DIR          where the cluster and the secret live (default .run)
set -euo pipefail
cd "$(dirname "$0")/.."

run_dir=$(realpath -m "${ORGSYNC_RUN_DIR:-.run}")
pg_port=${ORGSYNC_PG_PORT:-54329}
listen=${ORGSYNC_RELAY_LISTEN:-127.0.0.1:8787}
mkdir -p "$run_dir"
chmod 755 "$run_dir"

test/cluster.sh start "$run_dir/cluster" "$pg_port"
stop_cluster() { test/cluster.sh stop "$run_dir/cluster"; }
trap stop_cluster EXIT
eval "$(test/cluster.sh env "$run_dir/cluster" "$pg_port")"

secret=${ORGSYNC_WEBHOOK_SECRET:-}
if [ -z "$secret" ]; then
  if [ ! -s "$run_dir/secret" ]; then
    (umask 077 && echo "whsec_$(head -c 24 /dev/urandom | base64)" >"$run_dir/secret")
  fi
  secret=$(cat "$run_dir/secret")
fi
psql -X -q -v ON_ERROR_STOP=1 -v secret="$secret" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orgsync;
ALTER EXTENSION orgsync UPDATE;
SELECT orgsync.add_secret(:'secret') \g /dev/null
SQL

cat <<EOF_MSG

  orgsync is running.
    database   psql "host=$PGHOST port=$PGPORT user=postgres dbname=postgres"
    webhooks   http://$listen/webhooks
    secret     ${ORGSYNC_WEBHOOK_SECRET:+from ORGSYNC_WEBHOOK_SECRET}${ORGSYNC_WEBHOOK_SECRET:-$secret (generated; kept in $run_dir/secret)}

  In Clerk's dashboard (Webhooks > Add endpoint), enter the public URL that
  reaches http://$listen/webhooks, then restart with the endpoint's secret:
    ORGSYNC_WEBHOOK_SECRET=whsec_... make run
  To see it work now, in another terminal:  make demo

EOF_MSG

relay/orgsync-relay --listen "$listen" &
relay_pid=$!
stop_all() {
  kill -TERM "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  stop_cluster
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
wait $relay_pid
