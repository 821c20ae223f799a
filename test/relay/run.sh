#!/usr/bin/env bash
# End-to-end tests of the relay: test/relay/relay.test.mjs starts its own
# throwaway cluster and relays. Builds nothing: expects the extension installed
# (make install), the relay built (make -C relay) and test/node_modules (npm ci).
# Node 18 or later: each test's two-minute timeout is set in the file.
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_node_modules
require_extension
require_relay
cd "$test_dir"
exec node --test relay/relay.test.mjs
