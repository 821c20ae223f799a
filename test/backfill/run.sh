#!/usr/bin/env bash
# End-to-end tests of `orgsync-relay backfill` against a stand-in for Clerk's
# Backend API (test/backfill/backfill.test.mjs starts its own throwaway
# cluster). Builds nothing: expects the extension installed (make install),
# the relay built (make -C relay) and test/node_modules (npm ci).
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_node_modules
require_extension
require_relay
command -v openssl >/dev/null || need "openssl is missing (the HTTPS test makes a throwaway CA)"
cd "$test_dir"
exec node --test --test-reporter=spec backfill/backfill.test.mjs
