#!/usr/bin/env bash
# The change feed (NOTIFY orgsync_changes): what a listener receives for a
# shuffled, duplicated, partly rolled-back history, and nothing with the
# setting off. Expects the extension installed (`make install`) and
# test/node_modules (`npm ci` in test/). Starts and stops a throwaway cluster.
#
#   test/change_feed/run.sh
#   ORGSYNC_FEED_SEED=123 test/change_feed/run.sh     replay one run
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_node_modules
require_extension
start_cluster orgsync-change-feed
cd "$test_dir"
node --test --test-reporter=spec change_feed/change_feed.test.mjs
