#!/usr/bin/env bash
# orgsync benchmarks, on a throwaway cluster started here and removed at the
# end (fsync on; default settings apart from shared_buffers, see below).
#
#   bench/run.sh            every part; the scale part at 1/10 size (~10 min,
#                           plus the relay part's own time)
#   bench/run.sh scale      the scale part only, full size (1M users, 100k
#                           organizations, 2M memberships: ~10 min, ~8 GB of disk)
#   bench/run.sh delivery|memory|relay|rls|backfill    one part
#
# The parts: bench/delivery.sh, scale.sh, memory.sh, bench/relay/run.sh and
# bench/rls/run.sh (row-level security with the helpers, its own cluster),
# bench/backfill/run.sh (a backfill of 310,000 objects, its own cluster);
# each says its settings (environment). Here: BENCH_SHARED_BUFFERS (8GB for
# `scale`, so that the mirror tables stay in Postgres's cache as a production
# server's working set would; else the cluster's 256MB).
# Details go to bench/results/*.txt; the Markdown summary goes to stdout and to
# bench/results/summary-<mode>.txt. Progress goes to stderr.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. bench/delivery.sh
. bench/scale.sh
. bench/memory.sh

mode=${1:-all}
case $mode in
  all | delivery | scale | memory | relay | rls | backfill) ;;
  *) sed -n '2,/^set /{/^#/p}' bench/run.sh >&2; exit 2 ;;
esac
mkdir -p "$results"

work=$(work_dir bench)
cleanup() {
  cluster_stop "$work/cluster" || true
  rm -rf "$work"
}
trap cleanup EXIT
cluster_start "$work/cluster" "${BENCH_SHARED_BUFFERS:-$([ "$mode" = scale ] && echo 8GB || echo 256MB)}"
export PGOPTIONS="-c client_min_messages=warning"

machine() {
  local module
  module=$(pg_config --pkglibdir)/orgsync.so
  cat <<EOT
Machine: $(machine_hardware);
orgsync at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), installed module built $(date -u -r "$module" '+%Y-%m-%d %H:%M UTC')
(sha256 $(sha256sum "$module" | cut -c1-12)).
fsync on, shared_buffers $(val -c 'SHOW shared_buffers'), other settings default. Taken $(date -u '+%Y-%m-%d %H:%M UTC') on a
shared machine: other jobs were running (load average at start: $(cut -d' ' -f1-3 /proc/loadavg)),
so single runs can be off by more than 10-20%; repeated runs are shown as median (min-max).
EOT
}

part_relay() {
  if [ -x bench/relay/run.sh ]; then
    log "relay benchmarks: bench/relay/run.sh"
    # It gets the cluster (PG* variables, orgsync created, secret added) and
    # BENCH_RESULTS, BENCH_SECRET; its stdout (Markdown) joins the summary.
    BENCH_RESULTS=$results BENCH_SECRET=$SECRET bench/relay/run.sh || log "bench/relay/run.sh failed (status $?)"
  else
    log "no bench/relay/run.sh: relay benchmarks skipped"
  fi
}

part_backfill() {
  log "backfill: bench/backfill/run.sh"
  bench/backfill/run.sh || log "bench/backfill/run.sh failed (status $?)"
}

part_rls() {
  log "row-level security: bench/rls/run.sh"
  bench/rls/run.sh || log "bench/rls/run.sh failed (status $?)"
}

summary=$results/summary-$mode.txt
setup
{
  echo "## Benchmarks"
  echo
  machine | tee "$results/machine.txt"
  case $mode in
    all)
      part_delivery
      part_scale 0.1
      part_memory
      part_relay
      part_rls
      part_backfill
      ;;
    delivery) part_delivery ;;
    scale) part_scale 1 ;;
    memory) part_memory ;;
    relay) part_relay ;;
    rls) part_rls ;;
    backfill) part_backfill ;;
  esac
} >"$summary"
cat "$summary"
log "done; details in bench/results/"
