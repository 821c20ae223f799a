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
here=$(cd "$(dirname "$0")" && pwd)
testdir=$(dirname "$here")

if [ ! -d "$testdir/node_modules/svix" ] || [ ! -d "$testdir/node_modules/pg" ]; then
  echo "test/node_modules missing: run 'npm ci' in test/ first" >&2
  exit 2
fi

# shellcheck source=cluster-lib.sh
. "$here/cluster-lib.sh"
start_cluster orgsync-property "${ORGSYNC_PROPERTY_PORT:-55510}"

cd "$testdir"
node --test --test-reporter=spec property/selfcheck.test.mjs property/convergence.test.mjs
