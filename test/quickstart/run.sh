#!/usr/bin/env bash
# `make run`, end to end. scripts/run.sh (what `make run`
# runs after building) brings up its cluster and the relay, in a run
# directory the server's user cannot enter (as in a clone under /root); the
# relay delivers as a role that is not a superuser; make run refuses to start
# twice on one directory or on ports in use, and leaves the first running;
# scripts/demo.sh (`make demo`) sends its history through a relay of its own
# into a database of its own, and says when make run is not running. Then a
# restart with Clerk's secret trusts only that one, the banner shows
# fingerprints and never a secret, and a further restart undoes what was
# changed by hand. No secret is ever in the arguments of a program the two
# scripts start (ps shows those to every local user): psql, node and curl run
# through stand-ins that note their arguments and run the real program.
# Needs the extension installed, the relay built and test/node_modules.
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_extension
require_relay
require_node_modules
cd "$repo_dir"

# A private directory, as /root is: the run directory is inside it.
work=$(mktemp -d /tmp/orgsync-quickstart.XXXXXX)
ORGSYNC_RUN_DIR=$work/project/.run
ORGSYNC_PG_PORT=$(test/free-port.sh)
ORGSYNC_RELAY_LISTEN=127.0.0.1:$(test/free-port.sh)
export ORGSYNC_RUN_DIR ORGSYNC_PG_PORT ORGSYNC_RELAY_LISTEN
unset ORGSYNC_WEBHOOK_SECRET
out=$work/run.out
run_pid=""

# The stand-ins come first in PATH for the scripts; this test's own psql
# calls, which pass secrets as arguments, run the real psql.
psql_bin=$(command -v psql)
argv_log=$work/argv
mkdir "$work/stand-ins"
for tool in psql node curl; do
  printf '#!/bin/bash\nprintf "%%s\\n" "%s $*" >>"%s"\nexec "%s" "$@"\n' \
    "$tool" "$argv_log" "$(command -v "$tool")" >"$work/stand-ins/$tool"
  chmod +x "$work/stand-ins/$tool"
done
export PATH=$work/stand-ins:$PATH

cleanup() {
  if [ -n "$run_pid" ]; then kill -TERM "$run_pid" 2>/dev/null || true; wait "$run_pid" 2>/dev/null || true; fi
  scripts/cluster.sh remove "$ORGSYNC_RUN_DIR/cluster" >/dev/null 2>&1 || true
  scripts/cluster.sh remove "$work/cwd-check" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

healthy() { curl -sf "http://$ORGSYNC_RELAY_LISTEN/healthz" >/dev/null 2>&1; }
q() { "$psql_bin" -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }
# Fingerprints as orgsync.signing_keys shows them, which the banner shows too.
fingerprint() { q -v secret="$1" <<<"SELECT orgsync.secret_fingerprint(:'secret')"; }
default_keys() { q -c "SELECT string_agg(fingerprint, ' ' ORDER BY fingerprint) FROM orgsync.signing_keys WHERE endpoint = 'default'"; }

# post SECRET DELIVERY_ID FIXTURE: signs the fixture in SQL and posts it to
# make run's relay; prints the HTTP status and the delivery's status.
post() {
  local body header args=()
  body=$(cat "test/fixtures/clerk/$3.json")
  while read -r header; do args+=(-H "$header"); done < <(q -v secret="$1" -v id="$2" -v body="$body" \
    <<<"SELECT key || ': ' || value FROM jsonb_each_text(orgsync.sign(:'secret', :'id', :'body'))")
  curl -s -o "$work/answer" -w '%{http_code}' -H 'content-type: application/json' "${args[@]}" \
    --data-binary "$body" "http://$ORGSYNC_RELAY_LISTEN/webhooks"
  echo " $(sed -nE 's/.*"status": "([a-z]+)".*/\1/p' "$work/answer")"
}

start() {
  scripts/run.sh >"$work/this-run.out" 2>&1 &
  run_pid=$!
  for _ in $(seq 150); do
    healthy && return 0
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "scripts/run.sh did not serve /healthz; its output:"
  cat "$work/this-run.out"
  exit 1
}
stop() { # sets stop_code
  kill -TERM "$run_pid"
  stop_code=0
  wait "$run_pid" || stop_code=$?
  run_pid=""
  cat "$work/this-run.out" >>"$out"
}
banner() { sed -nE "s/^    $1 +//p" "$work/this-run.out"; }

echo "make demo before make run:"
demo_code=0
demo_error=$(scripts/demo.sh 2>&1 >/dev/null) || demo_code=$?
check "demo without a running make run exits 1" "$demo_code" 1
check "and says what to do" "$demo_error" "orgsync is not running (start it with make run)"

echo "first start, with a generated secret:"
start
secret=$(cat "$ORGSYNC_RUN_DIR/secret")
check "the secret readable by its owner only" "$(stat -c %a "$ORGSYNC_RUN_DIR/secret")" 600
eval "$(scripts/cluster.sh env "$ORGSYNC_RUN_DIR/cluster" "$ORGSYNC_PG_PORT")"
generated=$(fingerprint "$secret")
check "the banner shows the secret's fingerprint and where it is kept" \
  "$(banner secret)" "$generated (generated, kept in $ORGSYNC_RUN_DIR/secret)"
check "and the secrets trusted, by endpoint and fingerprint" "$(banner trusted | sed 's/  (.*//')" "default $generated"
check "the banner names the relay's URL" "$(banner webhooks | cut -d' ' -f1)" "http://$ORGSYNC_RELAY_LISTEN/webhooks"
if [ "$(id -u)" = 0 ]; then
  check "the cluster's files are postgres's, where postgres can reach them" \
    "$(stat -c %U "$ORGSYNC_RUN_DIR/cluster/data") $(runuser -u postgres -- test -r "$ORGSYNC_RUN_DIR/cluster/data/PG_VERSION" 2>/dev/null && echo reachable || echo unreachable)" \
    "postgres unreachable"
  check "through a link in the run directory" "$(test -L "$ORGSYNC_RUN_DIR/cluster" && runuser -u postgres -- test -r "$(readlink "$ORGSYNC_RUN_DIR/cluster")/data/PG_VERSION" && echo yes)" yes
  cwd_port=$(test/free-port.sh)
  check "the server started from a directory postgres cannot enter does not complain" \
    "$( (cd "$work" && "$repo_dir/scripts/cluster.sh" start "$work/cwd-check" "$cwd_port" &&
      "$repo_dir/scripts/cluster.sh" stop "$work/cwd-check"; cat "$work/cwd-check/"*.log) 2>&1 |
      grep -c 'could not change directory')" 0
fi

check "the relay's connection is orgsync_relay's, not a superuser's" \
  "$(q -c "SELECT a.usename || ' ' || r.rolsuper FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename WHERE a.application_name = 'orgsync-relay'")" \
  "orgsync_relay false"
check "orgsync_relay may deliver and nothing more" \
  "$(q -c "SELECT has_function_privilege('orgsync_relay', 'orgsync.handle_event(jsonb, text, text)', 'EXECUTE'),
                 has_table_privilege('orgsync_relay', 'orgsync.secrets', 'SELECT'),
                 has_table_privilege('orgsync_relay', 'orgsync.organizations', 'SELECT'),
                 has_function_privilege('orgsync_relay', 'orgsync.apply_event(jsonb)', 'EXECUTE')")" \
  "t|f|f|f"
check "a delivery signed with the generated secret applies through make run's relay" \
  "$(post "$secret" msg_quickstart_1 organization.created)" "200 applied"

echo "make demo:"
demo=$(scripts/demo.sh | tee -a "$out")
check "each delivery answered 200, with its status, in the order sent" \
  "$(grep -E '^[0-9]{3} ' <<<"$demo" | sed -E 's/^([0-9]+) +([^ ]+) .*"status": "([a-z]+)".*/\1 \2 \3/' | tr '\n' ';')" \
  "200 organizationMembership.created applied;200 organization.updated applied;200 organization.created stale;200 user.created applied;200 organizationMembership.created duplicate;200 session.created ignored;"
check "a legend for the five statuses" "$(grep -cE '^  (applied|stale|duplicate|ignored|invalid) ' <<<"$demo")" 5
check "the demo prints the tables it left" "$(grep -c '^orgsync\.' <<<"$demo")" 4
check "make run's mirror got none of the demo's deliveries" \
  "$(q -c "SELECT string_agg(id, ' ') FROM orgsync.events") $(q -c "SELECT count(*) FROM orgsync.memberships")" "msg_quickstart_1 0"
check "nor its secret" "$(default_keys)" "$generated"
demo_db() { q -d orgsync_demo -c "$1"; }
check "the demo database: one delivery recorded per svix-id" \
  "$(demo_db "SELECT string_agg(type || ':' || status, ' ' ORDER BY type) FROM orgsync.events")" \
  "organization.created:stale organization.updated:applied organizationMembership.created:applied session.created:ignored user.created:applied"
check "the organization holds the newer event's data, not the older one that came after" \
  "$(demo_db "SELECT o.data = (e.payload::jsonb -> 'data') FROM orgsync.organizations o JOIN orgsync.events e ON e.object_id = o.id AND e.type = 'organization.updated'")" t
check "the user from user.created, the membership's other user as a placeholder" \
  "$(demo_db "SELECT string_agg(source::text, ' ' ORDER BY source) FROM orgsync.users")" "event snapshot"
check "the membership joins its organization and user" \
  "$(demo_db "SELECT count(*) FROM orgsync.memberships m JOIN orgsync.organizations o ON o.id = m.organization_id JOIN orgsync.users u ON u.id = m.user_id WHERE m.deleted_at IS NULL")" 1
check "a second demo starts afresh" "$(scripts/demo.sh 2>&1 | tee -a "$out" | grep -cE '^200 .*"status": "(applied|stale|duplicate|ignored)"')" 6

echo "make run again while it runs:"
second_code=0
second=$(scripts/run.sh 2>&1) || second_code=$?
check "a second make run on the same directory exits 1" "$second_code" 1
check "and says why" "$second" "make run: another make run (pid $(cat "$ORGSYNC_RUN_DIR/run.lock")) is using $ORGSYNC_RUN_DIR; stop it first (Ctrl-C in its terminal)"
second_code=0
second=$(ORGSYNC_RUN_DIR=$work/other/.run scripts/run.sh 2>&1) || second_code=$?
check "another directory on the same database port: exits 1, and says why" "$second_code $second" \
  "1 make run: port $ORGSYNC_PG_PORT is in use by another program; choose another with ORGSYNC_PG_PORT=... make run"
second_code=0
second=$(ORGSYNC_RUN_DIR=$work/other/.run ORGSYNC_PG_PORT=$(test/free-port.sh) scripts/run.sh 2>&1) || second_code=$?
check "another directory on the same relay address: exits 1, and says why" "$second_code $second" \
  "1 make run: $ORGSYNC_RELAY_LISTEN is in use by another program; choose another with ORGSYNC_RELAY_LISTEN=host:port make run"
check "the first still serves, its cluster too" "$(healthy && echo serving) $(q -c 'SELECT count(*) FROM orgsync.events')" "serving 1"

echo "SIGTERM (Ctrl-C sends SIGINT to the whole terminal group; a background job ignores SIGINT):"
stop
check "scripts/run.sh exits with the signal's status" "$stop_code" 143
check "the relay stopped" "$(healthy && echo listening || echo stopped)" stopped
check "the cluster stopped" "$(scripts/cluster.sh running "$ORGSYNC_RUN_DIR/cluster" && echo running || echo stopped)" stopped
demo_code=0
demo_error=$(scripts/demo.sh 2>&1 >/dev/null) || demo_code=$?
check "make demo now exits 1 and says what to do" "$demo_code $demo_error" "1 orgsync is not running (start it with make run)"

echo "restart with Clerk's secret:"
clerk_secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
ORGSYNC_WEBHOOK_SECRET=$clerk_secret start
clerk=$(fingerprint "$clerk_secret")
check "the banner: the secret in use, from the environment" "$(banner secret)" "$clerk (from ORGSYNC_WEBHOOK_SECRET)"
check "the generated one is no longer trusted" "$(default_keys)" "$clerk"
check "and the banner says it removed it" "$(banner removed | cut -d: -f1)" "$generated"
check "a delivery signed with the generated secret is refused" "$(post "$secret" msg_quickstart_2 organization.updated)" "401 "
check "one signed with Clerk's applies" "$(post "$clerk_secret" msg_quickstart_3 organization.updated)" "200 applied"
check "the mirror kept" "$(q -c "SELECT string_agg(id || ':' || status, ' ' ORDER BY id) FROM orgsync.events")" \
  "msg_quickstart_1:applied msg_quickstart_3:applied"
hand_secret=whsec_$(head -c 24 /dev/urandom | base64)
q -v clerk="$clerk_secret" -v hand="$hand_secret" >/dev/null <<'SQL'
SELECT orgsync.remove_secret(:'clerk');
SELECT orgsync.add_secret(:'hand');
SELECT orgsync.add_secret(:'hand', 'staging');
SQL
hand=$(fingerprint "$hand_secret")
stop

echo "restart after remove_secret and add_secret by hand:"
ORGSYNC_WEBHOOK_SECRET=$clerk_secret start
check "the endpoint trusts Clerk's secret again, and only it" "$(default_keys)" "$clerk"
check "the banner names the one removed" "$(banner removed | cut -d: -f1)" "$hand"
check "and lists what is trusted, other endpoints included" "$(banner trusted | sed 's/  (.*//')" "default $clerk, staging $hand"
stop
check "and stops again" "$stop_code" 143

check "no output of make run or make demo holds a secret" \
  "$(grep -cF -e "${secret#whsec_}" -e "${clerk_secret#whsec_}" -e "${hand_secret#whsec_}" "$out")" 0
check "the stand-ins saw make run's and make demo's psql" "$(grep -q '^psql .*ON_ERROR_STOP' "$argv_log" && echo yes)" yes
# Only the programs are printed, not the arguments that held a secret.
check "and no program they started had a secret, theirs or the demo's, in its arguments" \
  "$(grep -F -e whsec_ -e "${secret#whsec_}" -e "${clerk_secret#whsec_}" "$argv_log" | cut -d' ' -f1 | paste -sd ' ')" ""

echo "quickstart: $failures failed"
((failures == 0))
