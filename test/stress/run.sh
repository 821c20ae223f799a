#!/usr/bin/env bash
# Concurrency stress of orgsync (see stress.test.mjs): 16 sessions deliver a
# shuffled, duplicated Clerk history, directly and through the relay.
# Expects `make install`, `make -C relay` and `npm ci` in test/. Starts and
# stops its own cluster and relay on ports from test/free-port.sh.
#
#   test/stress/run.sh                                 quick: 3 histories per mode
#   ORGSYNC_STRESS_HISTORIES=20 test/stress/run.sh     more
#   ORGSYNC_STRESS_SEED=123456 test/stress/run.sh      replay one history
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_node_modules
require_extension
require_relay
cd "$test_dir"
exec node --test --test-concurrency=1 --test-reporter=spec stress/stress.test.mjs
