#!/usr/bin/env bash
# README.md's "Getting started", every block, on a make run of its own
# (test/readme/readme.test.mjs). Builds nothing: expects the extension
# installed (make install), the relay built (make -C relay) and
# test/node_modules (npm ci).
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_node_modules
require_extension
require_relay
cd "$test_dir"
exec node --test --test-reporter=spec readme/readme.test.mjs
