#!/usr/bin/env bash
# Builds test/fuzz/core_fuzzer (libFuzzer + ASan + UBSan over src/core) and
# runs it for SECONDS (default 30) on test/fuzz/corpus-work/, seeded from
# test/fuzz/corpus/. Exits non-zero when the fuzzer finds a crash; crash
# inputs go to $FUZZ_ARTIFACTS (default /tmp/orgsync-fuzz-artifacts/).
#   usage: test/fuzz/run.sh [SECONDS]
set -euo pipefail

cd "$(dirname "$0")/../.."
seconds="${1:-30}"
case "$seconds" in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac

fuzz=test/fuzz
binary="$fuzz/core_fuzzer"
artifacts="${FUZZ_ARTIFACTS:-/tmp/orgsync-fuzz-artifacts}/"

# Built by the Makefile (again when src/core changes); FUZZ_CXX picks the compiler.
make -s "$binary"

mkdir -p "$fuzz/corpus-work" "$artifacts"
cp -n "$fuzz"/corpus/* "$fuzz/corpus-work/" 2>/dev/null || true

log="$(mktemp /tmp/orgsync-fuzz.XXXXXX.log)"
status=0
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  "$binary" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
  -dict="$fuzz/core.dict" -artifact_prefix="$artifacts" \
  "$fuzz/corpus-work" >"$log" 2>&1 || status=$?

grep -vE '^"|# Uses:|recommended dictionary|^INFO: ' "$log" | tail -n 25
executions="$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -n 1)"
echo "executions: ${executions:-unknown}"
echo "log: $log"
if (( status != 0 )); then
  echo "core_fuzzer FAILED (exit $status); crash inputs in $artifacts" >&2
  grep -E "^(==[0-9]+==ERROR|SUMMARY|invariant violated|plan_event threw|.*runtime error)" "$log" >&2 || true
  exit "$status"
fi
echo "core_fuzzer: no crash in ${seconds}s"
