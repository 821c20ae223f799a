#!/usr/bin/env bash
# Receiving webhooks through PostgREST, with a stand-in for PostgREST that
# speaks to Postgres as PostgREST does (test/postgrest/stand-in.mjs). Expects
# the extension installed (make install) and test/node_modules (npm ci in
# test/). Starts and stops a throwaway cluster.
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_node_modules
require_extension
start_cluster orgsync-postgrest
cd "$test_dir"
node --test --test-reporter=spec postgrest/postgrest.test.mjs
