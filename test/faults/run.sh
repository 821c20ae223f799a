#!/usr/bin/env bash
# Crash safety of orgsync and the relay (see faults.test.mjs): a Svix-like
# retrying sender streams a Clerk history while backends are terminated, the
# cluster is restarted or crashed, and the relay is killed.
# Expects `make install`, `make -C relay` and `npm ci` in test/. Starts and
# stops its own cluster and relay on ports from test/free-port.sh.
#
#   test/faults/run.sh
#   ORGSYNC_FAULTS_BASE_SEED=123456 test/faults/run.sh   rerun a printed set
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_node_modules
require_extension
require_relay
cd "$test_dir"
exec node --test --test-concurrency=1 --test-reporter=spec faults/faults.test.mjs
