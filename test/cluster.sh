#!/usr/bin/env bash
# Moved to scripts/cluster.sh. Kept only for test/relay/relay.test.mjs, which
# its own owner moves over; remove this file then.
exec "$(dirname "$0")/../scripts/cluster.sh" "$@"
