#!/usr/bin/env bash
# The main job (`make run`): a local cluster with orgsync created, the
# endpoint's signing secret in place, and the relay in the foreground,
# connected as orgsync_relay (a login role that may only deliver webhooks).
# Ctrl-C stops both. Settings, all optional:
#   ORGSYNC_WEBHOOK_SECRET   the endpoint's signing secret from Clerk (whsec_...);
#                            without it one is generated and kept in .run/secret
#   ORGSYNC_PG_PORT          the cluster's port (default 54329)
#   ORGSYNC_RELAY_LISTEN     where the relay listens (default 127.0.0.1:8787)
#   ORGSYNC_RUN_DIR          where the cluster and the secret live (default .run)
# Only the secret in use verifies deliveries to /webhooks: each start removes
# the endpoint's other signing keys, those added with orgsync.add_secret
# included, and adds the one in use again if it was removed.
set -euo pipefail
cd "$(dirname "$0")/.."

run_dir=$(realpath -m "${ORGSYNC_RUN_DIR:-.run}")
pg_port=${ORGSYNC_PG_PORT:-54329}
listen=${ORGSYNC_RELAY_LISTEN:-127.0.0.1:8787}
cluster=$run_dir/cluster
relay_role=orgsync_relay

refuse() {
  echo "make run: $*" >&2
  exit 1
}
# Whether something accepts connections on HOST PORT.
in_use() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# One make run per run directory, for as long as this script lives (fd 9;
# the cluster and the relay do not inherit it).
mkdir -p "$run_dir"
exec 9>>"$run_dir/run.lock"
flock -n 9 || refuse "another make run (pid $(cat "$run_dir/run.lock")) is using $run_dir; stop it first (Ctrl-C in its terminal)"
echo $$ >"$run_dir/run.lock"
if scripts/cluster.sh running "$cluster" 9>&-; then
  refuse "the cluster in $cluster is running, but no make run holds it (one that was killed?); stop it with: scripts/cluster.sh stop $cluster"
fi
if in_use 127.0.0.1 "$pg_port"; then
  refuse "port $pg_port is in use by another program; choose another with ORGSYNC_PG_PORT=... make run"
fi
listen_host=${listen%:*}
listen_host=${listen_host#[}
if in_use "${listen_host%]}" "${listen##*:}"; then
  refuse "$listen is in use by another program; choose another with ORGSYNC_RELAY_LISTEN=host:port make run"
fi

scripts/cluster.sh start "$cluster" "$pg_port" 9>&-
stop_cluster() { scripts/cluster.sh stop "$cluster" 9>&-; }
trap stop_cluster EXIT
eval "$(scripts/cluster.sh env "$cluster" "$pg_port")"

if [ -n "${ORGSYNC_WEBHOOK_SECRET:-}" ]; then
  secret=$ORGSYNC_WEBHOOK_SECRET
  origin="from ORGSYNC_WEBHOOK_SECRET"
else
  if [ ! -s "$run_dir/secret" ]; then
    (umask 077 && echo "whsec_$(head -c 24 /dev/urandom | base64)" >"$run_dir/secret")
  fi
  secret=$(cat "$run_dir/secret")
  origin="generated, kept in $run_dir/secret"
fi

# A key's fingerprint, as orgsync.signing_keys and orgsync.secret_fingerprint
# show it: the first 16 hex digits of the SHA-256 of the decoded key.
# The secret reaches psql in its environment, which only this user can read,
# never in its arguments, which ps shows to every local user.
keys=$(ORGSYNC_PSQL_SECRET=$secret psql -X -q -A -t -v ON_ERROR_STOP=1 -v relay_role="$relay_role" <<'SQL'
\getenv secret ORGSYNC_PSQL_SECRET
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orgsync;
ALTER EXTENSION orgsync UPDATE;
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'relay_role') AS create_role \gset
\if :create_role
CREATE ROLE :"relay_role" LOGIN;
\endif
GRANT orgsync_webhook TO :"relay_role";
SELECT orgsync.add_secret(:'secret') \g /dev/null
WITH removed AS (
  DELETE FROM orgsync.secrets WHERE endpoint = 'default' AND key <> orgsync.secret_key(:'secret') RETURNING fingerprint)
SELECT 'removed ' || fingerprint FROM removed ORDER BY 1;
SELECT 'trusted ' || string_agg(endpoint || ' ' || fingerprint, ', ' ORDER BY endpoint, key)
FROM orgsync.secrets;
SELECT 'in_use ' || orgsync.secret_fingerprint(:'secret');
SQL
)
field() { sed -n "s/^$1 //p" <<<"$keys" | paste -sd ' '; }
removed=$(field removed)
clerk_step="reaches http://$listen/webhooks, then restart with the endpoint's secret:
    ORGSYNC_WEBHOOK_SECRET=whsec_... make run"
if [ -n "${ORGSYNC_WEBHOOK_SECRET:-}" ]; then clerk_step="reaches http://$listen/webhooks."; fi

cat <<EOF_MSG

  orgsync is running.
    database   psql "host=$PGHOST port=$PGPORT user=postgres dbname=postgres"
    webhooks   http://$listen/webhooks  (the relay connects as $relay_role: it may only deliver)
    secret     $(field in_use) ($origin)
    trusted    $(field trusted)  (endpoint and fingerprint: the first 16 hex
               digits of the SHA-256 of the decoded key, as in orgsync.signing_keys)
${removed:+    removed    $removed: make run trusts only the secret in use on endpoint default,
               and removes the others at each start, those added with add_secret too
}
  In Clerk's dashboard (Webhooks > Add endpoint), enter the public URL that
  $clerk_step
  To see orgsync at work now, in another terminal:  make demo
  (it uses a database of its own, orgsync_demo: this mirror gets no samples)

EOF_MSG

relay/orgsync-relay --listen "$listen" \
  --database-url "host=$PGHOST port=$PGPORT user=$relay_role dbname=postgres" 9>&- &
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
