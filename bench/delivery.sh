# Part 1 of the benchmarks, `bench/run.sh delivery`: the server's cost per
# delivery, orgsync's handle_event and handle_events against the same contract
# in plpgsql + pgcrypto (bench/baseline.sql), with a timing decomposition, a
# perf profile, WAL by record type and plans made on empty tables' statistics.
# Sourced by bench/run.sh after bench/lib.sh, on its cluster and its $work.
#
# Settings (environment): BENCH_N deliveries (20000), BENCH_BATCH deliveries
# per handle_events call (100), BENCH_REPS timed repeats (5), BENCH_PERF=0 to
# skip the perf profile.
N=${BENCH_N:-20000}
REPS=${BENCH_REPS:-5}
BATCH=${BENCH_BATCH:-100}

# Part 1 times its statements in one long-lived session, as a relay's or a
# connection pool's backend runs: a backend maps each page of shared buffers
# the first time it touches it (a page fault each, which run 0 pays), and
# never again. `timed` (bench/lib.sh) runs a statement in a new connection instead.
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
  sql -c "$(truncate_statement "$1")" -c "SELECT bench.sign_deliveries('$2', '$SECRET')" -c "VACUUM ANALYZE bench_deliveries" >/dev/null
}

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
  "$(pg_config --bindir)/pg_waldump" -p "$(val -c 'SHOW data_directory')/pg_wal" -s "$lsn0" -e "$lsn1" --stats=record \
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
