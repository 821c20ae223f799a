#!/usr/bin/env bash
# A database using orgsync, dumped with pg_dump and restored with pg_restore
# into a new one: every mirrored row, recorded delivery and signing key comes
# back, an application table's foreign key into orgsync restores, and the
# restored database goes on verifying and deduplicating deliveries.
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_extension
cd "$repo_dir"
start_cluster orgsync-dump
export PGOPTIONS="-c client_min_messages=warning"
q() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$@"; }

secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
deliver() { # deliver DB DELIVERY_ID FIXTURE: the delivery's status
  q "$1" -v secret="$secret" -v id="$2" -v body="$(cat "test/fixtures/clerk/$3.json")" \
    <<<"SELECT orgsync.handle_event(orgsync.sign(:'secret', :'id', :'body'), :'body') ->> 'status'"
}
snapshot() { # every row of orgsync's tables, as text, in a stable order
  q "$1" -c "SELECT string_agg(t || ' ' || r, E'\n' ORDER BY t, r) FROM (
    SELECT 'organizations' t, to_jsonb(x)::text r FROM orgsync.organizations x UNION ALL
    SELECT 'users', to_jsonb(x)::text FROM orgsync.users x UNION ALL
    SELECT 'memberships', to_jsonb(x)::text FROM orgsync.memberships x UNION ALL
    SELECT 'invitations', to_jsonb(x)::text FROM orgsync.invitations x UNION ALL
    SELECT 'events', to_jsonb(x)::text FROM orgsync.events x UNION ALL
    SELECT 'secrets', endpoint || ' ' || encode(key, 'hex') FROM orgsync.secrets) rows"
}

q postgres -c "CREATE DATABASE dump_source" -c "CREATE DATABASE dump_target"
q dump_source -c "CREATE EXTENSION orgsync" -c "SELECT orgsync.add_secret('$secret')" >/dev/null
for fixture in organizationMembership.created organization.created user.created organizationInvitation.created; do
  deliver dump_source "msg_$fixture" "$fixture" >/dev/null
done
q dump_source -c "CREATE TABLE hotels (id text PRIMARY KEY REFERENCES orgsync.organizations (id), stars int)" \
  -c "INSERT INTO hotels SELECT id, 4 FROM orgsync.organizations"
q dump_source -c "SELECT orgsync.backfill_finish(orgsync.backfill_start(), 'stopped: before the dump')" >/dev/null

pg_dump -Fc -d dump_source -f "$CLUSTER_DIR/source.dump"
pg_restore --exit-on-error -d dump_target "$CLUSTER_DIR/source.dump"

source_rows=$(snapshot dump_source)
check "the source has rows in every table" \
  "$(q dump_source -c "SELECT (SELECT count(*) FROM orgsync.organizations) || ' ' || (SELECT count(*) FROM orgsync.users) || ' ' || (SELECT count(*) FROM orgsync.memberships) || ' ' || (SELECT count(*) FROM orgsync.invitations) || ' ' || (SELECT count(*) FROM orgsync.events) || ' ' || (SELECT count(*) FROM orgsync.secrets)")" \
  "1 2 1 1 4 1"
check "every row restored as it was" "$(snapshot dump_target)" "$source_rows"
check "the application's table and its foreign key restored" \
  "$(q dump_target -c "SELECT count(*) || ' ' || (SELECT count(*) FROM pg_constraint WHERE conrelid = 'hotels'::regclass AND contype = 'f') FROM hotels")" "1 1"
check "a delivery recorded before the dump is a duplicate after the restore" \
  "$(deliver dump_target msg_organization.created organization.created)" duplicate
check "a new delivery verifies with the restored secret" \
  "$(deliver dump_target msg_after_restore organization.updated)" applied

check "a backfill run after the restore takes the next run id" \
  "$(q dump_target -c "SELECT orgsync.backfill_start()")" 2

echo "dump: $failures failed"
((failures == 0))
