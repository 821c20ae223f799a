# Part 2 of the benchmarks, `bench/run.sh scale`: loading 1M users, 100k
# organizations and 2M memberships with orgsync.apply_event (times and sizes),
# then single-call latencies (handle_event, is_member) with pgbench at 10k
# memberships and at full size. Sourced by bench/run.sh after bench/lib.sh, on
# its cluster (with shared buffers that hold the mirror tables) and its $work.
#
# Settings (environment): BENCH_SCALE, the fraction of the full size
# (bench/run.sh passes 1 for `scale`, 0.1 when it runs every part).

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

part_scale() { # DEFAULT_SCALE: the size unless BENCH_SCALE says otherwise
  local scale=${BENCH_SCALE:-$1} users orgs memberships first_users first_orgs first_memberships=10000
  users=$(awk -v s="$scale" 'BEGIN {printf "%d", 1000000 * s}')
  orgs=$((users / 10))
  memberships=$((users * 2))
  first_users=$((first_memberships / 2))
  first_orgs=$((first_memberships / 20))
  log "part 2: $users users, $orgs organizations, $memberships memberships (scale $scale); df: $(df -h --output=avail / | tail -1)"
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
