#!/usr/bin/env bash
# Row-level security with orgsync's helpers on 1,000,000 rows over 10,000
# organizations: what a policy costs per row, by how it is written. On a
# throwaway cluster; EXPLAIN ANALYZE of each policy, as the application's
# role with a Clerk session token's claims set as PostgREST sets them.
#
#   bench/rls/run.sh        (BENCH_REPS runs of each query, default 5)
#
# The last plan of each goes to bench/results/rls-plans.txt, the summary to stdout and
# bench/results/rls.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${BENCH_REPS:-5}
results=$PWD/bench/results
mkdir -p "$results"

work=$(mktemp -d /tmp/orgsync-bench-rls.XXXXXX)
chmod 755 "$work"
port=$(test/free-port.sh)
cleanup() {
  scripts/cluster.sh stop "$work/cluster" || true
  rm -rf "$work"
}
trap cleanup EXIT
scripts/cluster.sh start "$work/cluster" "$port"
eval "$(scripts/cluster.sh env "$work/cluster" "$port")"
export PGOPTIONS="-c client_min_messages=warning"
log() { echo "[bench rls $(date +%T)] $*" >&2; }

log "loading 10,000 organizations, 50,003 memberships, 1,000,000 bookings"
psql -X -q -f bench/rls/setup.sql

# A version 2 session token's claims for the benchmark's user, as PostgREST
# puts them in request.jwt.claims (with the role it switched to).
claims='{"azp":"https://hotels.example.com","exp":1767225600,"fea":"o:rooms,o:bookings","fva":[2,-1],"iat":1767225540,"iss":"https://clerk.hotels.example.com","jti":"5f2b3c4d5e6f7a8b9c0d","nbf":1767225530,"o":{"id":"org_00042","rol":"admin","slg":"hotel-42","per":"read,manage","fpm":"3,3"},"sid":"sess_2x7np7Hrk0SN6kj5EDMLDaKNL0S","sts":"active","sub":"user_bench","v":2,"role":"bench_app"}'

# policy name | USING clause
policies=(
  "is_member(hotel_id)|orgsync.is_member(hotel_id)"
  "is_member(hotel_id, (SELECT current_user_id()))|orgsync.is_member(hotel_id, (SELECT orgsync.current_user_id()))"
  "hotel_id IN (SELECT user_organizations())|hotel_id IN (SELECT orgsync.user_organizations())"
  "hotel_id = ANY (ARRAY(SELECT user_organizations()))|hotel_id = ANY (ARRAY(SELECT orgsync.user_organizations()))"
)
queries=(
  "every row|SELECT count(*) FROM bench.bookings"
  "one hotel|SELECT count(*) FROM bench.bookings WHERE hotel_id = 'org_00042'"
)

# explain AS QUERY: EXPLAIN ANALYZE, REPS + 1 times in one session (the first
# warms the session's caches, as a pooled connection's are), as bench_app
# with the claims (AS = app) or as the table's owner, without parallel
# workers (the figures are per row, on one core). Prints every plan;
# times() takes the median execution time of the runs after the first.
explain() {
  local setup="SET max_parallel_workers_per_gather = 0; SET request.jwt.claims = '$claims';" run
  if [ "$1" = app ]; then setup="$setup SET ROLE bench_app;"; fi
  for run in $(seq 0 "$REPS"); do
    echo "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) $2;"
  done | psql -X -q -A -t -c "$setup" -f -
}
times() {
  sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' | tail -n +2 |
    sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
per_row() { awk -v ms="$1" -v n="$2" 'BEGIN { printf "%.3f", ms * 1000 / n }'; }
last_plan() { awk '/^Aggregate|^Finalize Aggregate/ { plan = "" } { plan = plan $0 "\n" } END { printf "%s", plan }'; }

: >"$results/rls-plans.txt"
summary=$results/rls.txt
{
  echo "| policy | query | rows read | rows visible | median ms ($REPS runs) | µs per row read |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
} >"$summary"

for q in "${queries[@]}"; do
  qname=${q%%|*} qsql=${q#*|}
  log "no policy (the table's owner): $qname"
  out=$(explain owner "$qsql")
  base=$(times <<<"$out")
  plan=$(last_plan <<<"$out")
  printf '=== no policy: %s\n%s\n\n' "$qname" "$plan" >>"$results/rls-plans.txt"
  seen=$(psql -X -q -A -t -c "${qsql}")
  echo "| none (owner) | $qname | $seen | $seen | $base | $(per_row "$base" "$seen") |" >>"$summary"
  for p in "${policies[@]}"; do
    pname=${p%%|*} using=${p#*|}
    psql -X -q -c "DROP POLICY IF EXISTS bench ON bench.bookings" -c "CREATE POLICY bench ON bench.bookings FOR SELECT TO bench_app USING ($using)"
    log "$pname: $qname"
    out=$(explain app "$qsql")
    ms=$(times <<<"$out")
    plan=$(last_plan <<<"$out")
    printf '=== %s: %s\n%s\n\n' "$pname" "$qname" "$plan" >>"$results/rls-plans.txt"
    visible=$(psql -X -q -A -t -c "SET request.jwt.claims = '$claims'" -c "SET ROLE bench_app" -c "$qsql")
    echo "| \`$pname\` | $qname | $seen | $visible | $ms | $(per_row "$ms" "$seen") |" >>"$summary"
  done
done
psql -X -q -c "DROP POLICY bench ON bench.bookings"
{
  echo
  echo "$(date -u +%F), PostgreSQL $(psql -X -A -t -c 'SHOW server_version'), $(nproc) cores, shared_buffers $(psql -X -A -t -c 'SHOW shared_buffers')"
} >>"$summary"
cat "$summary"
