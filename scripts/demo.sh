#!/usr/bin/env bash
# `make demo`: what orgsync makes of Clerk's deliveries, shown on the cluster
# of a running `make run` but away from its mirror. The demo makes a database
# of its own afresh, orgsync_demo, with a signing secret of its own, starts a
# relay of its own on a free port (connected as orgsync_relay, as make run's),
# sends it a short Clerk history signed by the official svix package (out of
# order, with a duplicate and an event orgsync does not model), stops it and
# prints what the demo database holds. The sample organizations never reach
# the database that real Clerk deliveries go to. It reads the same settings
# as scripts/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir=$(realpath -m "${ORGSYNC_RUN_DIR:-.run}")
pg_port=${ORGSYNC_PG_PORT:-54329}
cluster=$run_dir/cluster
database=orgsync_demo

if ! scripts/cluster.sh running "$cluster"; then
  echo "orgsync is not running (start it with make run)" >&2
  exit 1
fi
eval "$(scripts/cluster.sh env "$cluster" "$pg_port")"
secret="whsec_$(head -c 24 /dev/urandom | base64)"
# The secret goes to psql (and to demo.mjs below) in the environment, which
# only this user can read, never in arguments, which ps shows to every user.
ORGSYNC_PSQL_SECRET=$secret psql -X -q -v ON_ERROR_STOP=1 -v database="$database" <<'SQL'
\getenv secret ORGSYNC_PSQL_SECRET
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"database" WITH (FORCE);
CREATE DATABASE :"database";
\c :"database"
CREATE EXTENSION orgsync;
SELECT orgsync.add_secret(:'secret') \g /dev/null
SQL

listen=127.0.0.1:$(test/free-port.sh)
relay_log=$(mktemp /tmp/orgsync-demo-relay.XXXXXX)
relay/orgsync-relay --listen "$listen" \
  --database-url "host=$PGHOST port=$PGPORT user=orgsync_relay dbname=$database" >"$relay_log" 2>&1 &
relay_pid=$!
stop_relay() {
  kill -TERM "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  rm -f "$relay_log"
}
trap stop_relay EXIT
for attempt in $(seq 100); do
  curl -sf "http://$listen/healthz" >/dev/null && break
  if ((attempt == 100)) || ! kill -0 "$relay_pid" 2>/dev/null; then
    echo "demo: the relay did not start:" >&2
    cat "$relay_log" >&2
    exit 1
  fi
  sleep 0.1
done

echo "Deliveries to the demo's relay (http://$listen/webhooks), as Svix sends them:"
ORGSYNC_WEBHOOK_SECRET=$secret node --no-warnings scripts/demo.mjs "http://$listen/webhooks" test/fixtures/clerk
cat <<'EOF'

  applied    the delivery changed the tables
  stale      older than (or as old as) what the tables hold: nothing to change
  duplicate  a delivery id seen before (Svix retrying): answered 200, nothing done
  ignored    an event type orgsync does not model (session.*, email.*, ...)
  invalid    signed but unusable as sent (not JSON, a field missing or of the wrong
             type, a time out of range): kept with its error
  Each is recorded once in orgsync.events, and answered 200: Svix stops retrying.
EOF

psql -X -q -d "$database" <<'SQL'
\echo
\echo orgsync.organizations
SELECT id, name, slug, source, deleted_at FROM orgsync.organizations ORDER BY id;
\echo orgsync.users
SELECT id, primary_email, first_name, last_name, source FROM orgsync.users ORDER BY id;
\echo orgsync.memberships
SELECT id, organization_id, user_id, role, deleted_at FROM orgsync.memberships ORDER BY id;
\echo orgsync.events
SELECT id, type, status, object_id FROM orgsync.events ORDER BY received_at, id;
SQL
echo "(database $database, remade at each make demo: psql \"host=$PGHOST port=$PGPORT dbname=$database user=postgres\")"
