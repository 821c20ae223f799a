#!/usr/bin/env bash
# orgsync benchmarks, on a throwaway cluster started here and removed at the
# end (fsync on; default settings apart from shared_buffers, see below).
#
#   bench/run.sh            every part; the scale part at 1/10 size (~10 min,
#                           plus the relay part's own time)
#   bench/run.sh scale      the scale part only, full size (1M users, 100k
#                           organizations, 2M memberships: ~10 min, ~8 GB of disk)
#   bench/run.sh delivery|memory|relay    one part
#
# Settings (environment): BENCH_N deliveries in part 1 (20000), BENCH_BATCH
# deliveries per handle_events call in part 1 (100), BENCH_REPS
# timed repeats (5), BENCH_SCALE (1 for `scale`, else 0.1), BENCH_MEMORY_CALLS
# (100000), BENCH_PERF=0 to skip the perf profile, BENCH_SHARED_BUFFERS (8GB for
# `scale`, so that the mirror tables stay in Postgres's cache as a production
# server's working set would; else scripts/cluster.sh's 256MB).
# Details go to bench/results/*.txt; the Markdown summary goes to stdout and to
# bench/results/summary-<mode>.txt. Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
case $mode in
  all | delivery | scale | memory | relay) ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
N=${BENCH_N:-20000}
REPS=${BENCH_REPS:-5}
SCALE=${BENCH_SCALE:-$([ "$mode" = scale ] && echo 1 || echo 0.1)}
MEMORY_CALLS=${BENCH_MEMORY_CALLS:-100000}
BATCH=${BENCH_BATCH:-100}
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
results=$PWD/bench/results
mkdir -p "$results"

work=$(mktemp -d /tmp/orgsync-bench.XXXXXX)
chmod 755 "$work"
port=$(test/free-port.sh)
cleanup() {
  scripts/cluster.sh stop "$work/cluster" || true
  rm -rf "$work"
}
trap cleanup EXIT
scripts/cluster.sh start "$work/cluster" "$port"
eval "$(scripts/cluster.sh env "$work/cluster" "$port")"
SHARED_BUFFERS=${BENCH_SHARED_BUFFERS:-$([ "$mode" = scale ] && echo 8GB || echo 256MB)}
if [ "$SHARED_BUFFERS" != 256MB ]; then
  psql -X -q -c "ALTER SYSTEM SET shared_buffers = '$SHARED_BUFFERS'"
  scripts/cluster.sh stop "$work/cluster"
  scripts/cluster.sh start "$work/cluster" "$port"
fi
export PGOPTIONS="-c client_min_messages=warning"

log() { echo "[bench $(date +%T)] $*" >&2; }
sql() { psql -X -q -v ON_ERROR_STOP=1 -v secret="$SECRET" "$@"; }
val() { psql -X -A -t -q -v ON_ERROR_STOP=1 -v secret="$SECRET" "$@"; }
# timed PART LABEL RUN ROWS STATEMENT [psql options]: one run, into bench.runs
timed() {
  sql -v part="$1" -v label="$2" -v run="$3" -v rows="$4" -v statement="$5" "${@:6}" -f bench/timed.sql
}
# Part 1 times its statements in one long-lived session, as a relay's or a
# connection pool's backend runs: a backend maps each page of shared buffers
# the first time it touches it (a page fault each, which run 0 pays), and
# never again. `timed` above runs a statement in a new connection instead.
session_start() {
  # line-buffered, so that each marker arrives as soon as psql writes it
  coproc SESSION { stdbuf -oL psql -X -q -v ON_ERROR_STOP=1 -f - 2>&1; }
}
session_end() {
  eval "exec ${SESSION[1]}>&-"
  wait "$SESSION_PID"
}
session_run() { # SQL (psql input, one or more lines); returns once it has run
  local marker="-- done $RANDOM$RANDOM" line
  printf '%s\n\\echo %s\n' "$1" "$marker" >&"${SESSION[1]}"
  while IFS= read -r line <&"${SESSION[0]}"; do
    if [ "$line" = "$marker" ]; then return 0; fi
    echo "$line" >&2
  done
  log "part 1: the timing session ended"
  exit 1
}
psql_literal() { # a psql variable value, on one line
  local value=${1//\\/\\\\}
  value=${value//\'/\'\'}
  printf "'%s'" "${value//$'\n'/ }"
}
timed_in_session() { # PART LABEL RUN ROWS STATEMENT
  session_run "\\set part $(psql_literal "$1")
\\set label $(psql_literal "$2")
\\set run $3
\\set rows $4
\\set statement $(psql_literal "$5")
\\i bench/timed.sql"
}
session_pid() {
  session_run "SELECT pg_backend_pid() AS pid \\gset
\\o $work/session.pid
\\qecho :pid
\\o"
  cat "$work/session.pid"
}

# The orgsync (or baseline) tables emptied, and bench_deliveries signed afresh
# from `source`, so that timestamps are within the 5-minute tolerance.
reset() {
  sql -c "TRUNCATE $1.organizations, $1.users, $1.memberships, $1.invitations, $1.events" \
    -c "SELECT bench.sign_deliveries('$2', '$SECRET')" -c "VACUUM ANALYZE bench_deliveries" >/dev/null
}

setup() {
  sql -c "CREATE EXTENSION orgsync" -c "SELECT orgsync.add_secret('$SECRET')" -f bench/generate.sql >/dev/null
}

machine() {
  local cpu mem module
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
  module=$(pg_config --pkglibdir)/orgsync.so
  cat <<EOF
Machine: $(nproc) cores ($cpu), $mem RAM, Linux $(uname -r), $(val -c "SELECT split_part(version(), ' (', 1)");
orgsync at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), installed module built $(date -u -r "$module" '+%Y-%m-%d %H:%M UTC')
(sha256 $(sha256sum "$module" | cut -c1-12)).
fsync on, shared_buffers $(val -c 'SHOW shared_buffers'), other settings default. Taken $(date -u '+%Y-%m-%d %H:%M UTC') on a
shared machine: other jobs were running (load average at start: $(cut -d' ' -f1-3 /proc/loadavg)),
so single runs can be off by more than 10-20%; repeated runs are shown as median (min-max).
EOF
}

# ---- Part 1: per-delivery server cost, orgsync vs a plpgsql baseline -------

part_delivery() {
  log "part 1: generating $N deliveries"
  sql -c "SELECT setseed(0.42)" -c "CREATE TABLE bench.source AS SELECT * FROM bench.deliveries($N, 0.10)" >/dev/null
  sql -f bench/baseline.sql -c "SELECT baseline.add_secret('$SECRET')" >/dev/null
  # Every run starts from TRUNCATE, which leaves the planner no statistics (it
  # then assumes 10 pages and plans index scans). Autovacuum analysing a table
  # while it is empty would make the next run plan sequential scans (measured
  # apart below), so it is kept off these tables during part 1.
  autovacuum off

  # Run 0 warms up (the kernel's pages behind shared buffers, the file system,
  # the session's backend); it is kept in bench.runs as part 'warm-up' and
  # left out of the figures. Each run is also repeated in a new connection.
  session_start
  for run in $(seq 0 "$REPS"); do
    for impl in orgsync baseline; do
      log "part 1: $impl.handle_event, run $run of $REPS"
      reset "$impl" bench.source
      timed_in_session "$([ "$run" = 0 ] && echo warm-up || echo delivery)" "$impl" "$run" "$N" \
        "SELECT count(*) FROM (SELECT $impl.handle_event(headers, body) FROM bench_deliveries ORDER BY n) s"
      if [ "$run" = 1 ]; then waldump "$impl"; fi
    done
    log "part 1: orgsync.handle_events in batches of $BATCH, run $run of $REPS"
    reset orgsync bench.source
    sql -c "CREATE TABLE bench_batches AS SELECT (n - 1) / $BATCH AS batch, array_agg(headers ORDER BY n) AS headers,
                                                 array_agg(body ORDER BY n) AS bodies
            FROM bench_deliveries GROUP BY 1" -c "VACUUM ANALYZE bench_batches" >/dev/null
    timed_in_session "$([ "$run" = 0 ] && echo warm-up || echo delivery)" "orgsync-batches" "$run" "$N" \
      "SELECT count(*) FROM (SELECT * FROM bench_batches ORDER BY batch) b, orgsync.handle_events(b.headers, b.bodies)"
    sql -c "DROP TABLE bench_batches" >/dev/null
    if [ "$run" = 0 ]; then continue; fi
    for impl in orgsync baseline; do
      log "part 1: $impl.handle_event in a new connection, run $run of $REPS"
      reset "$impl" bench.source
      timed delivery-new-connection "$impl" "$run" "$N" \
        "SELECT count(*) FROM (SELECT $impl.handle_event(headers, body) FROM bench_deliveries ORDER BY n) s"
    done
  done
  sql -f bench/compare.sql >"$results/compare.txt"
  local statuses
  statuses="$(val -c "SELECT string_agg(status || ' ' || c, ', ' ORDER BY status) FROM (SELECT status, count(*) c FROM orgsync.events GROUP BY 1) s"), duplicate $(val -c "SELECT $N - count(*) FROM orgsync.events")"

  log "part 1: timing decomposition"
  local from="FROM bench_deliveries ORDER BY n) s"
  for run in $(seq "$REPS"); do
    reset orgsync bench.source
    timed_in_session split "read bench_deliveries in order (the harness alone)" "$run" "$N" "SELECT count(x) FROM (SELECT length(body) AS x $from"
    timed_in_session split "orgsync.verify: headers, secret decoding, HMAC-SHA256" "$run" "$N" \
      "SELECT count(*) FILTER (WHERE x) FROM (SELECT orgsync.verify(headers, body, '$SECRET') AS x $from"
    timed_in_session split "body::jsonb: Postgres parses the whole body" "$run" "$N" "SELECT count(x) FROM (SELECT body::jsonb AS x $from"
    timed_in_session split "INSERT of the events rows alone, all in one statement" "$run" "$N" \
      "INSERT INTO orgsync.events (id, endpoint, status, payload)
       SELECT headers ->> 'svix-id', 'default', 'applied', body FROM bench_deliveries ORDER BY n ON CONFLICT DO NOTHING"
    reset orgsync bench.source
    timed_in_session split "orgsync.apply_event(body::jsonb): no verify, no events row; merge as above" "$run" "$N" \
      "SELECT count(x) FROM (SELECT orgsync.apply_event(body::jsonb) AS x $from"
    # A floor for any implementation that keeps these tables: only the rows
    # that remain (one events row per delivery id, the final mirror rows)
    # written by plain INSERTs into empty copies, in one statement.
    sql -c "DROP TABLE IF EXISTS bench.floor_organizations, bench.floor_users, bench.floor_memberships, bench.floor_events" \
      -c "CREATE TABLE bench.floor_organizations (LIKE orgsync.organizations INCLUDING ALL)" \
      -c "CREATE TABLE bench.floor_users (LIKE orgsync.users INCLUDING ALL)" \
      -c "CREATE TABLE bench.floor_memberships (LIKE orgsync.memberships INCLUDING ALL)" \
      -c "CREATE TABLE bench.floor_events (LIKE orgsync.events INCLUDING ALL)" >/dev/null
    timed_in_session split "floor: only the rows that remain, written by plain INSERTs in one statement" "$run" "$N" \
      "WITH o AS (INSERT INTO bench.floor_organizations SELECT * FROM orgsync.organizations),
            u AS (INSERT INTO bench.floor_users SELECT * FROM orgsync.users),
            m AS (INSERT INTO bench.floor_memberships SELECT * FROM orgsync.memberships)
       INSERT INTO bench.floor_events (id, endpoint, status, payload)
       SELECT headers ->> 'svix-id', 'default', 'applied', body FROM bench_deliveries ORDER BY n ON CONFLICT DO NOTHING"
  done
  [ "$(val -c "SELECT count(*) FROM bench_deliveries WHERE NOT orgsync.verify(headers, body, '$SECRET')")" = 0 ]

  log "part 1: plans made on statistics of empty tables"
  local impl
  for impl in orgsync baseline; do
    reset "$impl" bench.source
    sql -c "ANALYZE $impl.organizations, $impl.users, $impl.memberships, $impl.events" -c "SELECT pg_stat_reset()" >/dev/null
    timed empty-stats "$impl" 1 "$N" \
      "SELECT count(*) FROM (SELECT $impl.handle_event(headers, body) FROM bench_deliveries ORDER BY n) s"
    sleep 1 # table statistics reach pg_stat_user_tables
    val -c "SELECT sum(seq_scan), sum(seq_tup_read) FROM pg_stat_user_tables WHERE schemaname = '$impl'" -F ' ' >"$work/seqscans-$impl"
  done
  autovacuum on

  profile
  session_end

  log "part 1: report"
  {
    sql -c "SELECT part, label, run, rows, round(seconds::numeric, 3) AS seconds, round(cpu_seconds::numeric, 3) AS cpu,
                   round(wait_seconds::numeric, 3) AS waited, round(pg_wal_lsn_diff(lsn1, lsn0) / rows) AS wal_bytes_per_delivery
            FROM bench.runs WHERE part IN ('delivery', 'delivery-new-connection', 'split') ORDER BY part, label, run"
    echo "statuses of the last run: $statuses"
    sql -c "SELECT (body::jsonb) ->> 'type' AS type, count(*), min(length(body)), round(avg(length(body))) AS avg,
                   max(length(body)) FROM bench.source GROUP BY 1 ORDER BY 1"
    cat "$results/compare.txt"
  } >"$results/delivery.txt"

  local cpu_us
  cpu_us=$(val -c "SELECT cpu_us_median FROM bench.summary WHERE part = 'delivery' AND label = 'orgsync'")
  cat <<EOF

### Per delivery: orgsync vs a plpgsql + pgcrypto baseline

$N signed deliveries of Clerk events built from \`test/fixtures/clerk\` (users, organizations,
memberships, with updates and deletions; bodies
$(val -c "SELECT format('%s-%s bytes, mean %s', min(length(body)), max(length(body)), round(avg(length(body)))) FROM bench.source")),
shuffled, 10% of them repeated. One statement calls \`handle_event\` on each in order, after
emptying the tables (\`SELECT count(*) FROM (SELECT orgsync.handle_event(headers, body) FROM
bench_deliveries ORDER BY n) s\`): server cost, without round trips or a commit per delivery.
$REPS runs each after a warm-up run, alternating, all in one long-lived session (as the relay's or a
connection pool's backend runs); µs per delivery, median (min-max), as wall time and as the
backend's CPU time (\`/proc/<pid>/schedstat\`; on a shared machine it moves less than wall time).
Ratios are taken run by run, each orgsync run against the baseline run next to it, so that a slow
spell of the shared machine weighs on both sides; median (min-max) of those.
Each run is repeated in a new connection: a new backend maps each page of shared buffers the first
time it touches it, a page fault each, which a long-lived one has behind it.
The baseline is \`bench/baseline.sql\`: the same contract, tables and merge statements in
plpgsql, with pgcrypto's \`hmac()\` and \`::jsonb\`.

| | wall µs | backend CPU µs | waiting for a CPU | WAL bytes |
|---|---:|---:|---:|---:|
EOF
  val -c "SELECT format('| %s | %s | %s | %s%% | %s |',
                        CASE label WHEN 'orgsync-batches' THEN '\`orgsync.handle_events\`, $BATCH deliveries per call'
                                   ELSE '\`' || label || '.handle_event\`' END, wall_us, cpu_us, waited_pct, wal_bytes)
          FROM bench.summary WHERE part = 'delivery' ORDER BY label = 'baseline', label"
  ratio_rows delivery "" "(target ≤ 0.25)"
  val -c "SELECT format('| in a new connection: \`%s.handle_event\` | %s | %s | %s%% | %s |', label, wall_us, cpu_us, waited_pct, wal_bytes)
          FROM bench.summary WHERE part = 'delivery-new-connection' ORDER BY label = 'baseline', label"
  ratio_rows delivery-new-connection "in a new connection: " ""
  cat <<EOF

Same final tables (orgsync's last run, \`handle_event\` in a new connection, against the baseline's): $(awk -F'|' 'NR > 2 {m += $4} END {print m + 0}' "$results/compare.txt") mismatching rows between the two schemas' tables (every
column but \`events.received_at\` and the digest in \`sync_version\`; \`bench/compare.sql\`).
Statuses: $statuses.

#### Where orgsync's time goes

Timing decomposition (same rows, same one-statement method, µs per delivery, median (min-max);
the last column subtracts the first row, which includes reading and decompressing the bodies):

| | wall µs | backend CPU µs | CPU µs over the first row |
|---|---:|---:|---:|
EOF
  val -c "SELECT format('| %s | %s | %s | %s |', CASE WHEN s.part = 'delivery' THEN '\`orgsync.handle_event\`, from above' ELSE s.label END,
                        s.wall_us, s.cpu_us, s.cpu_us_median - f.cpu_us_median)
          FROM bench.summary s, bench.summary f
          WHERE s.part = 'split' AND f.part = 'split' AND f.label LIKE 'read bench_deliveries%'
             OR s.part = 'delivery' AND s.label = 'orgsync' AND f.part = 'split' AND f.label LIKE 'read bench_deliveries%'
          ORDER BY s.part DESC, s.first_lsn"
  if [ -s "$results/profile-split.txt" ]; then
    cat <<EOF

\`perf\` profile of one more \`orgsync.handle_event\` run: cpu-clock samples of the backend, call
chains unwound with DWARF ($(awk -F'\t' '$1 == "samples" {print $2}' "$results/profile-split.txt") samples), split by \`bench/perf-split.awk\`; µs are the
shares of the median CPU time above. By step of \`handle_event\`:

| step | % of CPU time | ≈ µs |
|---|---:|---:|
EOF
    profile_table step "$cpu_us"
    cat <<EOF

By kind of work (a sample counts for the innermost frame that names one):

| work | % of CPU time | ≈ µs |
|---|---:|---:|
EOF
    profile_table work "$cpu_us"
  fi
  cat <<EOF

Plans made on the statistics of empty tables: the same run after \`ANALYZE\` of the emptied
tables (as autovacuum may do on a new install, or after a TRUNCATE), µs per delivery (wall), and
the sequential scans it made of its tables:

| | µs per delivery | sequential scans | rows read by them |
|---|---:|---:|---:|
EOF
  for impl in orgsync baseline; do
    echo "| \`$impl.handle_event\` | $(val -c "SELECT round(seconds * 1e6 / rows) FROM bench.runs WHERE part = 'empty-stats' AND label = '$impl'") |" \
      "$(awk '{printf "%s | %s", $1, $2}' "$work/seqscans-$impl") |"
  done
  cat <<EOF

WAL of run 1 by record type (\`pg_waldump --stats=record\`), per delivery:

| record type | orgsync records | orgsync bytes | baseline records | baseline bytes |
|---|---:|---:|---:|---:|
EOF
  LC_ALL=C join -t'|' -a1 -a2 -e 0 -o 0,1.2,1.3,2.2,2.3 \
    <(wal_types "$results/wal-orgsync.txt") <(wal_types "$results/wal-baseline.txt") | sort -t'|' -k3,3rn |
    awk -F'|' -v n="$N" '$3 + $5 >= 20 * n {printf "| %s | %.2f | %.0f | %.2f | %.0f |\n", $1, $2 / n, $3 / n, $4 / n, $5 / n}'
  echo
  echo "Of which full-page images, bytes per delivery: orgsync $(fpi "$results/wal-orgsync.txt"), baseline $(fpi "$results/wal-baseline.txt")."
}

autovacuum() { # on|off for the orgsync and baseline tables
  local t setting
  setting=$([ "$1" = off ] && echo "SET (autovacuum_enabled = off)" || echo "RESET (autovacuum_enabled)")
  for t in organizations users memberships invitations events; do
    sql -c "ALTER TABLE orgsync.$t $setting" -c "ALTER TABLE baseline.$t $setting"
  done
}

profile_table() { # KIND CPU_US: rows of the perf split, largest first
  awk -F'\t' -v kind="$1" -v us="$2" '$1 == kind && $2 >= 0.1 {printf "| %s | %s | %.0f |\n", $3, $2, $2 * us / 100}' \
    "$results/profile-split.txt" | sort -t'|' -k3,3rn
}

# Table rows: orgsync / baseline per run (each orgsync run against the
# baseline run taken right after it, so that a slow spell of the shared
# machine weighs on both), median (min-max) over the runs of PART.
ratio_rows() { # PART PREFIX SUFFIX
  val -c "SELECT format('| %sratio %s / baseline %s | %s | %s | | |', '$2',
                        CASE o.label WHEN 'orgsync' THEN 'handle_event' ELSE 'handle_events' END, '$3',
                        format('%s (%s-%s)', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY o.seconds / b.seconds)::numeric, 2),
                               round(min(o.seconds / b.seconds)::numeric, 2), round(max(o.seconds / b.seconds)::numeric, 2)),
                        format('%s (%s-%s)', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY o.cpu_seconds / b.cpu_seconds)::numeric, 2),
                               round(min(o.cpu_seconds / b.cpu_seconds)::numeric, 2), round(max(o.cpu_seconds / b.cpu_seconds)::numeric, 2)))
          FROM bench.runs o JOIN bench.runs b ON b.part = o.part AND b.run = o.run AND b.label = 'baseline'
          WHERE o.part = '$1' AND o.label IN ('orgsync', 'orgsync-batches')
          GROUP BY o.label ORDER BY o.label"
}

waldump() { # WAL record types of run 1 of IMPL
  local lsn0 lsn1
  read -r lsn0 lsn1 < <(val -F ' ' -c "SELECT lsn0, lsn1 FROM bench.runs WHERE part = 'delivery' AND label = '$1' AND run = 1")
  "$(pg_config --bindir)/pg_waldump" -p "$work/cluster/data/pg_wal" -s "$lsn0" -e "$lsn1" --stats=record \
    >"$results/wal-$1.txt" 2>&1 || true
}

# "type|records|bytes (with full-page images)" from pg_waldump --stats=record
wal_types() {
  awk '{ gsub(/\( +/, "("); n = split($0, f, " ") }
       f[1] ~ /\// && f[2] ~ /^[0-9]+$/ {print f[1] "|" f[2] "|" f[n - 1]}' "$1" | LC_ALL=C sort -t'|' -k1,1
}

fpi() { awk -v n="$N" '$1 == "Total" {printf "%.0f", $5 / n}' "$1"; }

# A perf profile of one orgsync run, split by bench/perf-split.awk.
profile() {
  rm -f "$results/profile-split.txt"
  if [ "${BENCH_PERF:-1}" = 0 ] || ! perf record -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
    log "part 1: no perf profile (perf unavailable or BENCH_PERF=0)"
    return
  fi
  log "part 1: perf profile of orgsync.handle_event"
  reset orgsync bench.source
  local backend
  backend=$(session_pid)
  perf record -F 999 --call-graph dwarf,32768 -p "$backend" -o "$work/perf.data" >/dev/null 2>&1 &
  local recorder=$!
  session_run "SELECT pg_sleep(1);
SELECT count(*) FROM (SELECT orgsync.handle_event(headers, body) FROM bench_deliveries ORDER BY n) s;" 2>/dev/null
  kill -INT "$recorder"
  wait "$recorder" || true
  perf script -i "$work/perf.data" 2>/dev/null | awk -f bench/perf-split.awk >"$results/profile-split.txt"
  rm -f "$work/perf.data"
}

# ---- Part 2: scale ----------------------------------------------------------

# Organization of membership i, and its user, in the scale data set: user u is
# in memberships 2u-1 and 2u; organizations have 20 members.
org_of() { echo "1 + (($1 - 1) / 40) * 2 + ($1 - 1) % 2"; }
user_of() { echo "($1 + 1) / 2"; }

# load KIND FROM TO: apply the creation events of objects FROM..TO in batches
# of 100k, each batch a statement and a transaction; times into bench.runs.
load() {
  local kind=$1 from=$2 to=$3 lo hi event
  for ((lo = from; lo <= to; lo += 100000)); do
    hi=$((lo + 99999 < to ? lo + 99999 : to))
    case $kind in
      users) event="bench.payload('user.created', g, 0, 1700000000000 + 10 * g, 1699999999993 + 10 * g, 1699999999997 + 10 * g)" ;;
      organizations) event="bench.payload('organization.created', g, 0, 1700000000001 + 10 * g, 1699999999994 + 10 * g, 1699999999998 + 10 * g, NULL, g)" ;;
      memberships) event="bench.payload('organizationMembership.created', g, 0, 1720000000000 + 10 * g, 1719999999993 + 10 * g, 1719999999997 + 10 * g, $(org_of g), $(user_of g))" ;;
    esac
    log "part 2: $kind $lo..$hi"
    timed scale "$kind" "$lo" "$((hi - lo + 1))" \
      "SELECT count(orgsync.apply_event($event)) FROM generate_series($lo, $hi) g" -v nocheckpoint=1
  done
}

# Vacuumed (index-only scans need the visibility map), analysed, and read into
# shared buffers, as a server's working set is after it has run for a while.
warm() {
  sql -c "VACUUM ANALYZE" -c "CHECKPOINT" -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
    -c "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c
        WHERE c.oid IN (SELECT oid FROM pg_class WHERE relnamespace = 'orgsync'::regnamespace AND relkind IN ('r', 'i')
                        UNION ALL SELECT reltoastrelid FROM pg_class WHERE relnamespace = 'orgsync'::regnamespace AND reltoastrelid <> 0)" >/dev/null
}

# measure STAGE USERS ORGS MEMBERSHIPS: single deliveries and is_member at this size
measure() {
  local stage=$1 users=$2 orgs=$3 memberships=$4 name
  log "part 2: single deliveries and is_member at $memberships memberships"
  # 2,000 deliveries against the data loaded: 30% user.updated, 40% new memberships,
  # 10% membership updates, 10% organization updates, 10% membership deletions.
  sql <<SQL
DROP TABLE IF EXISTS bench.single_source;
CREATE TABLE bench.single_source AS
SELECT n, 'msg_2o' || $stage || lpad(n::text, 24, '0') AS id,
       bench.payload(type, obj, CASE WHEN type LIKE '%.updated' THEN 1 ELSE 0 END, t, t - 100000, t - 3,
                     $(org_of member), $(user_of member))::text AS body
FROM (SELECT n, 1800000000000 + $stage * 100000000 + 10 * n AS t, kind,
             CASE WHEN kind < 3 THEN 'user.updated' WHEN kind < 7 THEN 'organizationMembership.created'
                  WHEN kind = 7 THEN 'organizationMembership.updated' WHEN kind = 8 THEN 'organization.updated'
                  ELSE 'organizationMembership.deleted' END AS type,
             CASE WHEN kind < 3 THEN 1 + (n * 7919) % $users WHEN kind < 7 THEN 10000000 * $stage + n
                  WHEN kind = 8 THEN 1 + (n * 31) % $orgs ELSE 1 + (n::bigint * 104729) % $memberships END AS obj,
             CASE WHEN kind BETWEEN 3 AND 6 THEN 1 + (n * 13) % $memberships ELSE 1 + (n::bigint * 104729) % $memberships END AS member
      FROM (SELECT n, n % 10 AS kind FROM generate_series(1, 2000) n) k) e;
DROP SEQUENCE IF EXISTS bench_single_n;
CREATE SEQUENCE bench_single_n;
DROP TABLE IF EXISTS bench_single;
CREATE TABLE bench_single AS SELECT n, orgsync.sign(:'secret', id, body) AS headers, body FROM bench.single_source;
ALTER TABLE bench_single ADD PRIMARY KEY (n);
VACUUM ANALYZE bench_single;
SQL
  echo "SELECT orgsync.handle_event(d.headers, d.body) FROM bench_single d WHERE d.n = (SELECT nextval('bench_single_n'));" >"$work/single.sql"
  echo "SELECT length(d.body) FROM bench_single d WHERE d.n = 1 + (SELECT nextval('bench_single_n')) % 1000;" >"$work/floor.sql"
  printf '%s\n' '\set i random(1, :memberships)' '\set u (:i + 1) / 2' '\set o 1 + ((:i - 1) / 40) * 2 + (:i - 1) % 2' \
    "SELECT orgsync.is_member('org_2o' || lpad(:o::text, 25, '0'), 'user_2o' || lpad(:u::text, 25, '0'));" >"$work/is_member.sql"
  echo "SELECT 1;" >"$work/select1.sql"
  for name in single floor; do rm -f "$work/$name".log*; done
  pgbench -n -c 1 -t 1000 -f "$work/single.sql" -l --log-prefix="$work/single.log" >/dev/null 2>&1
  PGOPTIONS="$PGOPTIONS -c synchronous_commit=off" pgbench -n -c 1 -t 1000 -f "$work/single.sql" -l --log-prefix="$work/async.log" >/dev/null 2>&1
  pgbench -n -c 1 -t 1000 -f "$work/floor.sql" -l --log-prefix="$work/floor.log" >/dev/null 2>&1
  [ "$(val -c "SELECT count(*) FROM orgsync.events WHERE id LIKE 'msg_2o$stage%' AND status = 'applied'")" -ge 1900 ]
  # is_member: 5 s of warm-up, then 10 s measured; and 100k calls inside one query (as in an RLS policy)
  pgbench -n -c 1 -T 5 -D memberships="$memberships" -f "$work/is_member.sql" >/dev/null 2>&1
  timed is-member "$memberships" 1 100000 \
    "SELECT count(*) FILTER (WHERE orgsync.is_member('org_2o' || lpad(($(org_of i))::text, 25, '0'),
                                                     'user_2o' || lpad(($(user_of i))::text, 25, '0')))
     FROM (SELECT 1 + (random() * ($memberships - 1))::int AS i FROM generate_series(1, 100000)) g" -v nocheckpoint=1
  {
    echo "| $memberships | $(median "$work"/single.log.*) | $(median "$work"/async.log.*) | $(median "$work"/floor.log.*) |" \
      "$(pgbench -n -c 1 -T 10 -D memberships="$memberships" -f "$work/is_member.sql" 2>&1 | awk '/latency average/ {print $4 * 1000}') |" \
      "$(val -c "SELECT round((cpu_seconds * 1e6 / rows)::numeric, 1) FROM bench.runs WHERE part = 'is-member' AND label = '$memberships'") |" \
      "$(pgbench -n -c 1 -T 5 -f "$work/select1.sql" 2>&1 | awk '/latency average/ {print $4 * 1000}') |"
  } >>"$work/latency.md"
  rm -f "$work"/*.log.*
}

median() { # median of the latencies (µs, 3rd column) in pgbench logs
  cat "$@" | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

part_scale() {
  local users orgs memberships first_users first_orgs first_memberships=10000
  users=$(awk -v s="$SCALE" 'BEGIN {printf "%d", 1000000 * s}')
  orgs=$((users / 10))
  memberships=$((users * 2))
  first_users=$((first_memberships / 2))
  first_orgs=$((first_memberships / 20))
  log "part 2: $users users, $orgs organizations, $memberships memberships (scale $SCALE); df: $(df -h --output=avail / | tail -1)"
  sql -c "CREATE DATABASE bench_scale"
  (
    export PGDATABASE=bench_scale
    setup
    rm -f "$work/latency.md"
    # Generating the events in SQL is part of each batch; its cost, measured alone:
    timed scale-gen users 1 20000 "SELECT count(bench.payload('user.created', g, 0, 1, 1, 1)) FROM generate_series(1, 20000) g"
    timed scale-gen organizations 1 20000 "SELECT count(bench.payload('organization.created', g, 0, 1, 1, 1, NULL, g)) FROM generate_series(1, 20000) g"
    timed scale-gen memberships 1 20000 "SELECT count(bench.payload('organizationMembership.created', g, 0, 1, 1, 1, 1, 1)) FROM generate_series(1, 20000) g"
    load users 1 "$first_users"
    load organizations 1 "$first_orgs"
    load memberships 1 "$first_memberships"
    warm
    measure 1 "$first_users" "$first_orgs" "$first_memberships"
    load users $((first_users + 1)) "$users"
    load organizations $((first_orgs + 1)) "$orgs"
    load memberships $((first_memberships + 1)) "$memberships"
    warm
    measure 2 "$users" "$orgs" "$memberships"
    log "part 2: report; df: $(df -h --output=avail / | tail -1)"
    {
      sql -c "SELECT label, count(*) AS batches, sum(rows) AS events, round(sum(seconds)::numeric, 1) AS seconds,
                     round(sum(rows) / sum(seconds)) AS events_per_s, round(pg_wal_lsn_diff(max(lsn1), min(lsn0)) / 1048576) AS wal_mb
              FROM bench.runs WHERE part = 'scale' GROUP BY label ORDER BY min(lsn0)"
      sql -c "SELECT label, run AS first, rows, round(seconds::numeric, 2) AS seconds FROM bench.runs WHERE part = 'scale' ORDER BY lsn0"
      sql -c "SELECT c.relname, c.reltuples::bigint AS rows, pg_size_pretty(pg_table_size(c.oid)) AS table,
                     pg_size_pretty(pg_indexes_size(c.oid)) AS indexes, pg_size_pretty(pg_total_relation_size(c.oid)) AS total
              FROM pg_class c WHERE c.relnamespace = 'orgsync'::regnamespace AND c.relkind = 'r' ORDER BY 1"
      cat "$work/latency.md"
    } >"$results/scale.txt"
    cat <<EOF

### Scale: $users users, $orgs organizations, $memberships memberships

Creation events generated in SQL (\`bench.payload\`, same shapes as above) and applied with
\`orgsync.apply_event\` in batches of up to 100,000 (one statement and one transaction each).
The times include generating the events in SQL; the last column is that cost alone (backend
CPU, measured on 20,000 events of each kind).

| events | count | seconds | events/s | backend CPU µs per event | generating an event alone, CPU µs |
|---|---:|---:|---:|---:|---:|
EOF
    val -c "SELECT format('| %s | %s | %s | %s | %s | %s |', r.label, sum(r.rows), round(sum(r.seconds)::numeric, 1),
                   round(sum(r.rows) / sum(r.seconds)), round((sum(r.cpu_seconds) * 1e6 / sum(r.rows))::numeric),
                   round((g.cpu_seconds * 1e6 / g.rows)::numeric))
            FROM bench.runs r JOIN bench.runs g ON g.part = 'scale-gen' AND g.label = r.label
            WHERE r.part = 'scale' GROUP BY r.label, g.cpu_seconds, g.rows ORDER BY min(r.lsn0)"
    val -c "SELECT format('| all | %s | %s | %s | %s | |', sum(rows), round(sum(seconds)::numeric, 1), round(sum(rows) / sum(seconds)),
                          round((sum(cpu_seconds) * 1e6 / sum(rows))::numeric))
            FROM bench.runs WHERE part = 'scale'"
    cat <<EOF

Sizes after loading (and the single deliveries below):

| table | rows | table (with TOAST) | indexes | total |
|---|---:|---:|---:|---:|
EOF
    val -c "SELECT format('| %s | %s | %s | %s | %s |', c.relname,
                   to_char((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass),
                                                                false, true, '')))[1]::text::bigint, 'FM9,999,999,999'),
                   pg_size_pretty(pg_table_size(c.oid)), pg_size_pretty(pg_indexes_size(c.oid)),
                   pg_size_pretty(pg_total_relation_size(c.oid)))
            FROM pg_class c WHERE c.relnamespace = 'orgsync'::regnamespace AND c.relkind = 'r' AND c.relname <> 'secrets'
            ORDER BY pg_total_relation_size(c.oid) DESC"
    cat <<EOF

Latency of single calls with pgbench (1 client, one transaction per call, unix socket), µs:
\`handle_event\`: median of 1,000 deliveries (30% user updates, 40% new memberships, 10% each
membership updates, organization updates, membership deletions), with the default
\`synchronous_commit = on\` (each commit waits for fsync) and with \`off\`; the floor is the same
query returning \`length(body)\` instead. \`is_member\`: mean over 10 s (after 5 s of warm-up) of
random existing (organization, user) pairs, one call per query; then the backend's CPU time per
call when 100,000 calls run inside one query, as in a row-level security policy (CPU rather than
wall time: it moves less when other jobs share the machine); \`SELECT 1\` for scale.

| memberships | handle_event | handle_event, synchronous_commit off | floor: fetch the row | is_member | is_member, CPU per call inside one query | SELECT 1 |
|---:|---:|---:|---:|---:|---:|---:|
EOF
    cat "$work/latency.md"
  )
  sql -c "DROP DATABASE bench_scale"
}

# ---- Part 3: backend memory across many calls -------------------------------

part_memory() {
  local batch=$((MEMORY_CALLS / 10)) lo
  log "part 3: generating $MEMORY_CALLS deliveries"
  sql -c "TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events" \
    -c "SELECT setseed(0.7)" -c "CREATE TABLE bench.memory_source AS SELECT * FROM bench.deliveries($MEMORY_CALLS, 0.10)" \
    -c "CREATE TABLE bench.memory (calls int, at timestamptz, vm_rss_kb bigint, rss_anon_kb bigint, contexts_bytes bigint)" >/dev/null
  {
    for ((i = 0; i <= 10; i++)); do
      echo "INSERT INTO bench.memory SELECT $((i * batch)), clock_timestamp(),
              substring(s from 'VmRSS:\s*(\d+)')::bigint, substring(s from 'RssAnon:\s*(\d+)')::bigint,
              (SELECT sum(total_bytes) FROM pg_backend_memory_contexts)
            FROM pg_read_file('/proc/' || pg_backend_pid() || '/status') s;"
      [ "$i" = 10 ] && break
      lo=$((i * batch))
      echo "SELECT count(orgsync.handle_event(orgsync.sign(:'secret', id, body), body))
            FROM (SELECT id, body FROM bench.memory_source WHERE n > $lo AND n <= $((lo + batch)) ORDER BY n) s \\g /dev/null"
    done
  } >"$work/memory.sql"
  log "part 3: $MEMORY_CALLS handle_event calls in one session"
  sql -f "$work/memory.sql"
  sql -c "SELECT calls, vm_rss_kb, rss_anon_kb, contexts_bytes,
                 round(extract(epoch FROM at - lag(at) OVER (ORDER BY calls)) * 1e6 / $batch) AS us_per_call_in_batch
          FROM bench.memory ORDER BY calls" >"$results/memory.txt"
  cat <<EOF

### Memory: one backend across $MEMORY_CALLS \`handle_event\` calls

One session, batches of $batch calls (one statement each; signing included), reading the
backend's \`/proc/<pid>/status\` and \`pg_backend_memory_contexts\` between batches. VmRSS
includes the shared buffers this backend has touched; RssAnon is its private memory.

| calls | VmRSS (kB) | RssAnon (kB) | memory contexts (kB) | µs per call in the batch before |
|---:|---:|---:|---:|---:|
EOF
  val -c "SELECT format('| %s | %s | %s | %s | %s |', calls, vm_rss_kb, rss_anon_kb, contexts_bytes / 1024,
                 coalesce(round(extract(epoch FROM at - lag(at) OVER (ORDER BY calls)) * 1e6 / $batch)::text, ''))
          FROM bench.memory ORDER BY calls"
}

# ---- Relay benchmarks (bench/relay/run.sh, when there) ----------------------

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

# ---- main -------------------------------------------------------------------

summary=$results/summary-$mode.txt
setup
{
  echo "## Benchmarks"
  echo
  machine | tee "$results/machine.txt"
  case $mode in
    all)
      part_delivery
      part_scale
      part_memory
      part_relay
      ;;
    delivery) part_delivery ;;
    scale) part_scale ;;
    memory) part_memory ;;
    relay) part_relay ;;
  esac
} >"$summary"
cat "$summary"
log "done; details in bench/results/"
