#!/usr/bin/env bash
# The README's first command, end to end: scripts/run.sh (what `make run`
# runs after building) brings up its cluster and the relay, scripts/demo.sh
# (`make demo`) sends its out-of-order history with a duplicate, the tables
# end as Clerk's state, SIGTERM stops the relay and the cluster, and a second
# start on the same directory keeps the data and the secret.
# Needs the extension installed, the relay built and test/node_modules.
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_extension
require_relay
require_node_modules
cd "$repo_dir"

ORGSYNC_RUN_DIR=$(mktemp -d /tmp/orgsync-quickstart.XXXXXX)
ORGSYNC_PG_PORT=$(test/free-port.sh)
ORGSYNC_RELAY_LISTEN=127.0.0.1:$(test/free-port.sh)
export ORGSYNC_RUN_DIR ORGSYNC_PG_PORT ORGSYNC_RELAY_LISTEN
unset ORGSYNC_WEBHOOK_SECRET
out=$ORGSYNC_RUN_DIR/run.out
run_pid=""

cleanup() {
  if [ -n "$run_pid" ]; then kill -TERM "$run_pid" 2>/dev/null || true; wait "$run_pid" 2>/dev/null || true; fi
  test/cluster.sh stop "$ORGSYNC_RUN_DIR/cluster" >/dev/null 2>&1 || true
  rm -rf "$ORGSYNC_RUN_DIR"
}
trap cleanup EXIT

healthy() { curl -sf "http://$ORGSYNC_RELAY_LISTEN/healthz" >/dev/null 2>&1; }
q() { psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }

start() {
  scripts/run.sh >>"$out" 2>&1 &
  run_pid=$!
  for _ in $(seq 150); do
    healthy && return 0
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "scripts/run.sh did not serve /healthz; its output:"
  cat "$out"
  exit 1
}
stop() { # sets stop_code
  kill -TERM "$run_pid"
  stop_code=0
  wait "$run_pid" || stop_code=$?
  run_pid=""
}

echo "make demo before make run:"
demo_code=0
demo_error=$(scripts/demo.sh 2>&1 >/dev/null) || demo_code=$?
check "demo without a running setup exits 1" "$demo_code" 1
check "and says what to do" "$demo_error" "demo: start 'make run' first (no secret in $ORGSYNC_RUN_DIR/secret)"

echo "first start:"
start
secret=$(cat "$ORGSYNC_RUN_DIR/secret")
check "a generated secret kept in the run directory" "$(grep -cF "    secret     $secret (generated" "$out")" 1
check "the secret readable by its owner only" "$(stat -c %a "$ORGSYNC_RUN_DIR/secret")" 600

demo=$(scripts/demo.sh)
check "each delivery answered 200, with its status, in the order sent" \
  "$(grep -E '^[0-9]{3} ' <<<"$demo" | sed -E 's/^([0-9]+) +([^ ]+) .*"status": "([a-z]+)".*/\1 \2 \3/' | tr '\n' ';')" \
  "200 organizationMembership.created applied;200 organization.updated applied;200 organization.created stale;200 user.created applied;200 organizationMembership.created duplicate;"

eval "$(test/cluster.sh env "$ORGSYNC_RUN_DIR/cluster" "$ORGSYNC_PG_PORT")"
check "one delivery recorded per svix-id" \
  "$(q "SELECT string_agg(type || ':' || status, ' ' ORDER BY type) FROM orgsync.events")" \
  "organization.created:stale organization.updated:applied organizationMembership.created:applied user.created:applied"
check "the organization holds the newer event's data, not the older one that came after" \
  "$(q "SELECT o.data = (e.payload::jsonb -> 'data') FROM orgsync.organizations o JOIN orgsync.events e ON e.object_id = o.id AND e.type = 'organization.updated'")" t
check "the user from user.created, the membership's other user as a placeholder" \
  "$(q "SELECT string_agg(source::text, ' ' ORDER BY source) FROM orgsync.users")" "event membership"
check "the membership joins its organization and user" \
  "$(q "SELECT count(*) FROM orgsync.memberships m JOIN orgsync.organizations o ON o.id = m.organization_id JOIN orgsync.users u ON u.id = m.user_id WHERE m.deleted_at IS NULL")" 1
check "the demo prints the tables it left" "$(grep -c '^orgsync\.' <<<"$demo")" 4

echo "SIGTERM (Ctrl-C sends SIGINT to the whole terminal group; a background job ignores SIGINT):"
stop
check "scripts/run.sh exits with the signal's status" "$stop_code" 143
check "the relay stopped" "$(healthy && echo listening || echo stopped)" stopped
check "the cluster stopped" "$(test -e "$ORGSYNC_RUN_DIR/cluster/data/postmaster.pid" && echo running || echo stopped)" stopped

echo "second start on the same directory:"
start
check "the same secret" "$(cat "$ORGSYNC_RUN_DIR/secret")" "$secret"
check "the mirror kept" "$(q "SELECT count(*) FROM orgsync.events") $(q "SELECT count(*) FROM orgsync.memberships")" "4 1"
demo=$(scripts/demo.sh)
check "the demo's new deliveries verified with the kept secret" \
  "$(grep -cE '^200 .*"status": "(applied|stale|duplicate)"' <<<"$demo")" 5
check "the scripts/run.sh output names the relay's URL" \
  "$(grep -c "webhooks   http://$ORGSYNC_RELAY_LISTEN/webhooks" "$out")" 2
stop
check "and stops again" "$stop_code" 143

echo "quickstart: $failures failed"
((failures == 0))
