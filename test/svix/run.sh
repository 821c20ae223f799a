#!/usr/bin/env bash
# Cross-check of orgsync's signatures with the official svix package and the
# fixed Standard Webhooks vectors. Expects the extension installed
# (`make install`) and test/node_modules (`npm ci` in test/). Starts and stops
# a throwaway cluster.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
testdir=$(dirname "$here")

if [ ! -d "$testdir/node_modules/svix" ] || [ ! -d "$testdir/node_modules/pg" ]; then
  echo "test/node_modules missing: run 'npm ci' in test/ first" >&2
  exit 2
fi

# shellcheck source=../property/cluster-lib.sh
. "$testdir/property/cluster-lib.sh"
start_cluster orgsync-svix "${ORGSYNC_SVIX_PORT:-55540}"

cd "$testdir"
node --test --test-reporter=spec svix/svix.test.mjs
