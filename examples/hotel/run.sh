#!/usr/bin/env bash
# The hotel example end to end, on a throwaway cluster: creates the database,
# installs orgsync, docs/postgrest/webhook.sql and examples/hotel/schema.sql,
# starts the relay as a role granted orgsync_webhook, then runs hotel.mjs
# (deliveries through the relay and through a PostgREST stand-in, then what
# each user sees). Expects the extension installed (make install), the relay
# built (make -C relay) and test/node_modules (npm ci in test/).
set -euo pipefail
. "$(dirname "$0")/../../test/suite-lib.sh"
require_node_modules
require_extension
require_relay
start_cluster orgsync-hotel
cd "$repo_dir"

export HOTEL_DATABASE=hotel
export HOTEL_SECRET="whsec_$(head -c 24 /dev/urandom | base64)"
createdb "$HOTEL_DATABASE"
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$HOTEL_DATABASE" "$@"; }
sql -c 'CREATE EXTENSION orgsync'
sql -v authenticator_password=change-me -v webhook_secret="$HOTEL_SECRET" -f docs/postgrest/webhook.sql
sql -f examples/hotel/schema.sql
sql -c 'CREATE ROLE hotel_relay LOGIN IN ROLE orgsync_webhook'

relay_port=$("$test_dir/free-port.sh")
relay_log=$CLUSTER_DIR/relay.log
relay/orgsync-relay --listen "127.0.0.1:$relay_port" \
  --database-url "host=$PGHOST port=$PGPORT user=hotel_relay dbname=$HOTEL_DATABASE" >"$relay_log" 2>&1 &
relay_pid=$!
trap 'kill "$relay_pid" 2>/dev/null; wait "$relay_pid" 2>/dev/null; "$repo_dir/scripts/cluster.sh" remove "$CLUSTER_DIR" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 100); do
  grep -q 'listening on' "$relay_log" && break
  kill -0 "$relay_pid" 2>/dev/null || { cat "$relay_log"; exit 1; }
  sleep 0.1
done
grep -q 'listening on' "$relay_log" || { echo "the relay did not start listening in 10 s:"; cat "$relay_log"; exit 1; }
export RELAY_URL="http://127.0.0.1:$relay_port"
node examples/hotel/hotel.mjs
