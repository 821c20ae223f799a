#!/usr/bin/env bash
# Cross-check of orgsync's signatures with the official svix package and the
# fixed Standard Webhooks vectors. Expects the extension installed
# (`make install`) and test/node_modules (`npm ci` in test/). Starts and stops
# a throwaway cluster.
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_node_modules
require_extension
start_cluster orgsync-svix
cd "$test_dir"
node --test --test-reporter=spec svix/svix.test.mjs
