#!/usr/bin/env bash
# Every test suite, against a throwaway cluster started here and stopped at
# the end. Expects the extension installed and everything built (`make test`
# does both). Ends with one line: "suites: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

. test/suite-lib.sh
ORGSYNC_FSYNC=on start_cluster orgsync-test

passed=0
failed=0
failed_suites=()
suite() {
  local name=$1
  shift
  echo
  echo "=== $name"
  local started=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: ok ($((SECONDS - started)) s)"
  else
    failed=$((failed + 1))
    failed_suites+=("$name")
    echo "=== $name: FAILED ($((SECONDS - started)) s)"
  fi
}

regress() {
  make -s installcheck || { cat regression.diffs output_iso/regression.diffs 2>/dev/null | head -200; return 1; }
}

suite "C++ unit tests (core, no Postgres)" test/unit/core_tests
suite "build: header dependencies, the generated install script, provisioning, formatting" test/build/run.sh
suite "pg_regress and isolation specs" regress
suite "signatures against the official svix package" test/svix/run.sh
suite "relay end to end" test/relay/run.sh
suite "quick start: make run and make demo, refusals, secrets, restarts" test/quickstart/run.sh
suite "README: every block of Getting started" test/readme/run.sh
suite "pg_dump and pg_restore of a database using orgsync" test/dump/run.sh
suite "convergence property (quick set)" test/property/run.sh
suite "16 concurrent sessions" test/stress/run.sh
suite "faults: killed backends, restarts, crashes, killed relay" test/faults/run.sh
suite "backfill from a stand-in for Clerk's Backend API" test/backfill/run.sh
suite "PostgREST entry point, through a stand-in for PostgREST" test/postgrest/run.sh
suite "examples/hotel: the hotel app through the relay and PostgREST" examples/hotel/run.sh
suite "change feed (NOTIFY orgsync_changes)" test/change_feed/run.sh
suite "production files: systemd unit, nginx with TLS before the relay" test/production/run.sh
suite "fuzzing the core (30 s)" test/fuzz/run.sh 30

echo
if ((failed)); then printf 'failed: %s\n' "${failed_suites[@]}"; fi
echo "suites: $passed passed, $failed failed"
((failed == 0))
