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
here=$(cd "$(dirname "$0")" && pwd)
testdir=$(dirname "$here")
if [ ! -d "$testdir/node_modules/svix" ] || [ ! -d "$testdir/node_modules/pg" ]; then
  echo "test/node_modules missing: run 'npm ci' in test/ first" >&2
  exit 2
fi
if [ ! -x "$testdir/../relay/orgsync-relay" ]; then
  echo "relay/orgsync-relay missing: run 'make -C relay' first" >&2
  exit 2
fi
cd "$testdir"
exec node --test --test-concurrency=1 --test-reporter=spec faults/faults.test.mjs
