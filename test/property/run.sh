#!/usr/bin/env bash
# Property-based convergence test of orgsync (see README.md beside this file).
# Expects the extension installed (`make install`) and test/node_modules
# (`npm ci` in test/). Starts a throwaway cluster, runs the node-only
# self-check and the convergence test against it, stops the cluster.
#
#   test/property/run.sh                               quick: 20 histories x (1 + 5) orders
#   ORGSYNC_PROPERTY_HISTORIES=1000 test/property/run.sh   long
#   ORGSYNC_PROPERTY_SEED=123456 test/property/run.sh      replay one history
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_node_modules
require_extension
start_cluster orgsync-property
cd "$test_dir"
node --test --test-reporter=spec property/selfcheck.test.mjs property/convergence.test.mjs
