#!/usr/bin/env bash
# `make demo`: sends a short signed Clerk history to the relay that `make run`
# started, out of order and with a duplicate, then prints the mirror tables.
# It reads the same settings as scripts/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir=$(realpath -m "${ORGSYNC_RUN_DIR:-.run}")
pg_port=${ORGSYNC_PG_PORT:-54329}
listen=${ORGSYNC_RELAY_LISTEN:-127.0.0.1:8787}
secret=${ORGSYNC_WEBHOOK_SECRET:-$(cat "$run_dir/secret" 2>/dev/null || true)}
if [ -z "$secret" ]; then
  echo "demo: start 'make run' first (no secret in $run_dir/secret)" >&2
  exit 1
fi
[ -d test/node_modules ] || scripts/install-deps.sh

ORGSYNC_WEBHOOK_SECRET=$secret \
  node scripts/demo.mjs "http://$listen/webhooks" test/fixtures/clerk

eval "$(test/cluster.sh env "$run_dir/cluster" "$pg_port")"
psql -X -q <<'SQL'
\echo
\echo orgsync.organizations
SELECT id, name, slug, source, deleted_at FROM orgsync.organizations ORDER BY id;
\echo orgsync.users
SELECT id, primary_email, first_name, last_name, source FROM orgsync.users ORDER BY id;
\echo orgsync.memberships
SELECT id, organization_id, user_id, role, deleted_at FROM orgsync.memberships ORDER BY id;
\echo orgsync.events (latest 10)
SELECT id, type, status, object_id FROM orgsync.events ORDER BY received_at DESC, id LIMIT 10;
SQL
