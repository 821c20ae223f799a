#!/usr/bin/env bash
# End-to-end tests of the relay: test/relay/relay.test.mjs starts its own
# throwaway cluster and relays. Builds nothing: expects the extension installed
# (make install), the relay built (make -C relay) and test/node_modules (npm ci).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

missing() { echo "test/relay/run.sh: $1" >&2; exit 1; }
[ -x "$root/relay/orgsync-relay" ] || missing "relay/orgsync-relay is not built (make -C relay)"
[ -f "$(pg_config --sharedir)/extension/orgsync.control" ] || missing "the orgsync extension is not installed (make install)"
[ -d "$root/test/node_modules/svix" ] || missing "test/node_modules is missing (cd test && npm ci)"

cd "$root/test"
exec node --test --test-timeout=120000 relay/relay.test.mjs
