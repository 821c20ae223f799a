#!/usr/bin/env bash
# Backfill throughput: `orgsync-relay backfill` reads a generated Clerk
# instance (BENCH_BACKFILL_USERS users, 100000; _ORGS organizations, 10000;
# _MEMBERSHIPS memberships, 200000; plus 2000 invitations, 1000 domains, 10
# roles, 20 permissions) from test/backfill's stand-in for Clerk's Backend API
# into an empty database, pages of 500, --rate 0. The stand-in has no rate
# limit (it never answers 429): the figure is what the backfill and Postgres
# can apply, not what Clerk would serve.
#
# Then, to show where the time goes:
#   - the same pages fetched with curl alone (the stand-in and HTTP: the
#     feed's ceiling on this machine) and applied with psql alone (one
#     orgsync.backfill_page call per page, each its own transaction);
#   - during the backfill: CPU seconds of the stand-in (node), the backfill
#     and its Postgres backend; the backfill's own split (time in requests,
#     time waiting for Postgres); pg_stat_statements; a perf profile of the
#     backend by shared object and symbol (BENCH_PERF=0 skips it);
#   - a second backfill, with --sweep, over the full database: every object
#     already there (a periodic heal).
#
#   bench/backfill/run.sh     Markdown on stdout, details in bench/results/backfill.txt
#
# Needs relay/orgsync-relay (built here when missing), the extension installed
# (make install), test/node_modules (cd test && npm ci), curl. Starts its own
# cluster (fsync on, shared_buffers 1GB, pg_stat_statements) and removes it.
set -euo pipefail
cd "$(dirname "$0")/../.."

USERS=${BENCH_BACKFILL_USERS:-100000}
ORGS=${BENCH_BACKFILL_ORGS:-10000}
MEMBERSHIPS=${BENCH_BACKFILL_MEMBERSHIPS:-200000}
PERF=${BENCH_PERF:-1}
KEY=sk_test_backfill_bench
results=${BENCH_RESULTS:-$PWD/bench/results}
details=$results/backfill.txt

log() { echo "[backfill-bench $(date +%T)] $*" >&2; }
die() { log "$*"; exit 1; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

[ -x relay/orgsync-relay ] || make -C relay >/dev/null
[ -f "$(pg_config --sharedir)/extension/orgsync.control" ] || die "orgsync is not installed (make install)"
[ -d test/node_modules/pg ] || die "test/node_modules is missing (cd test && npm ci)"
command -v curl >/dev/null || die "curl is missing"
mkdir -p "$results"

work=$(mktemp -d /tmp/orgsync-backfill-bench.XXXXXX)
chmod 755 "$work"
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  scripts/cluster.sh stop "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(test/free-port.sh)
scripts/cluster.sh start "$work/cluster" "$port"
eval "$(scripts/cluster.sh env "$work/cluster" "$port")"
export PGOPTIONS="-c client_min_messages=warning"
q -c "ALTER SYSTEM SET shared_buffers = '1GB'" -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
scripts/cluster.sh stop "$work/cluster"
scripts/cluster.sh start "$work/cluster" "$port"
fresh_database() {
  q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
  q -d "$1" -c "CREATE EXTENSION orgsync" -c "CREATE EXTENSION pg_stat_statements"
}
fresh_database bench_empty # orgsync_backfill comes with the extension
q -c "CREATE ROLE bench_backfill LOGIN IN ROLE orgsync_backfill"
conninfo() { echo "host=$PGHOST port=$PGPORT user=bench_backfill dbname=$1"; }

# ---- the instance ----------------------------------------------------------------
log "generating $USERS users, $ORGS organizations, $MEMBERSHIPS memberships (about a minute)"
node --max-old-space-size=8192 bench/backfill/serve.mjs "$KEY" organizations="$ORGS" users="$USERS" \
  memberships="$MEMBERSHIPS" invitations=2000 domains=1000 roles=10 permissions=20 >"$work/url" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 600); do
  [ -s "$work/url" ] && break
  kill -0 "$serve_pid" 2>/dev/null || die "the stand-in did not start: $(cat "$work/serve.log")"
  sleep 0.5
done
api=$(cat "$work/url")

cpu_seconds() { # utime + stime of a process, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# Runs the backfill into database $2 with flags $3..; sets wall, relay_cpu,
# backend_cpu, node_cpu; keeps its stdout in $work/$1.out, its log in
# $work/$1.log, the backend's profile in $work/$1.perf.
backfill() {
  local run=$1 db=$2 started node0 backend="" perf_pid=""
  shift 2
  node0=$(cpu_seconds "$serve_pid")
  started=$(date +%s.%N)
  CLERK_SECRET_KEY=$KEY /usr/bin/time -f "%U %S" -o "$work/$run.time" relay/orgsync-relay backfill \
    --database-url "$(conninfo "$db")" --api-url "$api" --rate 0 --page-size 500 "$@" \
    >"$work/$run.out" 2>"$work/$run.log" &
  local pid=$!
  for _ in $(seq 100); do
    backend=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'orgsync-backfill' AND datname = '$db'")
    [ -n "$backend" ] && break
    sleep 0.05
  done
  if [ "$PERF" = 1 ] && [ -n "$backend" ] && command -v perf >/dev/null; then
    perf record -F 499 -p "$backend" -o "$work/$run.perf" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  backend_cpu=0
  while kill -0 "$pid" 2>/dev/null; do
    [ -n "$backend" ] && backend_cpu=$(cpu_seconds "$backend")
    sleep 0.2
  done
  wait "$pid" || die "backfill failed: $(tail -3 "$work/$run.log")"
  wall=$(calc "$(date +%s.%N) - $started")
  [ -n "$perf_pid" ] && { kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true; }
  relay_cpu=$(awk '{print $1 + $2}' "$work/$run.time")
  node_cpu=$(calc "$(cpu_seconds "$serve_pid") - $node0")
}

# The sum of a column of the backfill's summary: 2 read, 3 applied, 4 stale.
column_total() {
  awk -v c="$1" '/^(organizations|users|memberships|invitations|domains|roles|permissions) / {gsub(",", "", $c); s += $c} END {print s}' "$2"
}
calc() { awk "BEGIN {print $1}"; }        # floating-point arithmetic
rate() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%d", a / b}'; }
round1() { printf '%.1f' "$1"; }

# ---- 1. into an empty database ----------------------------------------------------
log "backfill into an empty database"
backfill empty bench_empty
empty_wall=$wall empty_relay=$relay_cpu empty_backend=$backend_cpu empty_node=$node_cpu
empty_applied=$(column_total 3 "$work/empty.out")
pg_stats=$(q -d bench_empty -F ' | ' -c "SELECT calls, round(total_exec_time::numeric / 1000, 1), round((total_exec_time / calls)::numeric, 1),
    round(max_exec_time::numeric, 1)
  FROM pg_stat_statements WHERE query LIKE '%orgsync.backfill_page(%' ORDER BY total_exec_time DESC LIMIT 1")
sizes=$(for t in users memberships organizations invitations domains; do
  q -d bench_empty -F ' | ' -c "SELECT '$t', to_char(count(*), 'FM9,999,999'), pg_size_pretty(pg_total_relation_size('orgsync.$t')) FROM orgsync.$t"
done)

# ---- 1b. the same into another empty database, on a server in service ---------------
# The first run made the server's WAL segments (16 MB of zeros written for
# each, in the backend) and its backend touched shared memory for the first
# time. After a checkpoint the segments are recycled, as on a server that
# has been running; the second run pays neither.
log "again, into another empty database"
q -c "CHECKPOINT"
fresh_database bench_warm
PERF=0 backfill warm bench_warm
warm_wall=$wall warm_relay=$relay_cpu warm_backend=$backend_cpu warm_node=$node_cpu
warm_applied=$(column_total 3 "$work/warm.out")
q -d postgres -c "DROP DATABASE bench_warm"

# ---- 2. the feed alone: every page fetched with curl --------------------------------
log "the same pages with curl alone"
mkdir -p "$work/pages"
chmod 755 "$work/pages"
list_urls() { # kind path total: one URL per page of 500, offsets as the backfill's (499 apart)
  local kind=$1 path=$2 total=$3 offset=0 i=0
  while :; do
    printf 'url = "%s%s&limit=500&offset=%s"\noutput = "%s/pages/%s-%05d.json"\n' "$api" "$path" "$offset" "$work" "$kind" "$i"
    i=$((i + 1))
    [ $((offset + 500)) -ge "$total" ] && break
    offset=$((offset + 499))
  done
}
{
  list_urls organizations "/organizations?include_members_count=true&order_by=%2Bcreated_at" "$ORGS"
  list_urls users "/users?order_by=%2Bcreated_at" "$USERS"
  list_urls memberships "/organization_memberships?order_by=%2Bcreated_at" "$MEMBERSHIPS"
} >"$work/curl.conf"
pages=$(grep -c '^url' "$work/curl.conf")
started=$(date +%s.%N)
curl -sS --fail -H "Authorization: Bearer $KEY" -K "$work/curl.conf"
curl_wall=$(calc "$(date +%s.%N) - $started")
curl_bytes=$(cat "$work"/pages/*.json | wc -c)

# ---- 3. Postgres alone: the same pages applied with psql, kind by kind -----------
fresh_database bench_sql
log "the same pages applied with psql alone"
chmod 644 "$work"/pages/*.json
run_id=$(q -d bench_sql -c "SELECT orgsync.backfill_start(false)")
ticks="(split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint)"
sql_rows=""
sql_objects=0
sql_wall=0
for kind in organizations users memberships; do
  {
    echo "SELECT $ticks AS t0, pg_current_wal_lsn() AS lsn0 \\gset"
    for f in "$work"/pages/"$kind"-*.json; do
      echo "SELECT orgsync.backfill_page($run_id, '$kind', pg_read_file('$f'), NULL, NULL, false) \\g /dev/null"
    done
    echo "SELECT ($ticks - :t0) / $(getconf CLK_TCK).0, pg_wal_lsn_diff(pg_current_wal_lsn(), :'lsn0')"
  } >"$work/apply-$kind.sql"
  started=$(date +%s.%N)
  read -r cpu wal < <(q -d bench_sql -F ' ' -f "$work/apply-$kind.sql")
  wall=$(calc "$(date +%s.%N) - $started")
  objects=$(q -d bench_sql -c "SELECT read FROM orgsync.backfill_progress WHERE kind = '$kind'")
  sql_objects=$((sql_objects + objects))
  sql_wall=$(calc "$sql_wall + $wall")
  sql_rows+="| $kind | $objects | $(round1 "$wall") | $(rate "$objects" "$wall") | $(rate "$(calc "$cpu * 1000000")" "$objects") | $(rate "$wal" "$objects") |"$'\n'
done

# The memberships again, into another database, while curl fetches the
# stand-in's pages over and over beside them: what sharing the machine's two
# cores with the feed does to the backend's CPU per object.
fresh_database bench_busy
run_id=$(q -d bench_busy -c "SELECT orgsync.backfill_start(false)")
for kind in organizations users; do sed "s/backfill_page([0-9]*,/backfill_page($run_id,/" "$work/apply-$kind.sql" |
  q -d bench_busy -f - >/dev/null; done
(while :; do curl -sS -H "Authorization: Bearer $KEY" -K <(grep '^url' "$work/curl.conf") >/dev/null; done) &
feed_pid=$!
started=$(date +%s.%N)
read -r cpu _ < <(sed "s/backfill_page([0-9]*,/backfill_page($run_id,/" "$work/apply-memberships.sql" | q -d bench_busy -F ' ' -f -)
wall=$(calc "$(date +%s.%N) - $started")
kill "$feed_pid" 2>/dev/null; wait "$feed_pid" 2>/dev/null || true
objects=$(q -d bench_busy -c "SELECT read FROM orgsync.backfill_progress WHERE kind = 'memberships'")
sql_rows+="| memberships, with curl fetching the stand-in's pages beside | $objects | $(round1 "$wall") | $(rate "$objects" "$wall") | $(rate "$(calc "$cpu * 1000000")" "$objects") | |"$'\n'
q -d postgres -c "DROP DATABASE bench_busy"

# ---- 3b. where a page's time goes in the backend: a call-graph profile ---------------
# The first 20 pages of users and of memberships applied again into an empty
# database, under perf record --call-graph dwarf; inclusive shares of the
# steps of orgsync.apply_listing go to the details.
profile_split=""
if [ "$PERF" = 1 ] && command -v perf >/dev/null; then
  fresh_database bench_profile
  log "a call-graph profile of the backend applying users and memberships pages"
  {
    echo "SELECT pg_backend_pid() AS pid \\gset"
    echo "\\o $work/profile.pid"
    echo "\\qecho :pid"
    echo "\\o"
    echo "SELECT pg_sleep(1);"
    for kind in users memberships; do
      for f in $(ls "$work"/pages/"$kind"-*.json | head -20); do
        echo "SELECT count(*) FROM orgsync.apply_listing('$kind', pg_read_file('$f')) \\g /dev/null"
      done
    done
  } >"$work/profile.sql"
  q -d bench_profile -f "$work/profile.sql" >/dev/null &
  psql_pid=$!
  for _ in $(seq 50); do [ -s "$work/profile.pid" ] && break; sleep 0.1; done
  perf record --call-graph dwarf,16384 -F 299 -p "$(cat "$work/profile.pid")" -o "$work/profile.perf" >/dev/null 2>&1 &
  perf_pid=$!
  wait "$psql_pid"
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
  { perf report -i "$work/profile.perf" --children --stdio -g none --percent-limit 1 2>/dev/null || true; } \
    | grep -v '^#' | grep -v '^$' | cut -c1-160 >"$work/profile.txt"
  # Inclusive shares of apply_listing's steps, by the functions that are them.
  share() { awk -v pat="$1" 'index($0, pat) {gsub("%", "", $1); print $1; exit}' "$work/profile.txt"; }
  profile_split="| all of orgsync.apply_listing | $(share 'apply_listing>') |
| parse and plan the page (src/core: parse, canonical JSON, digests) | $(share 'plan_listing') |
| the merge: rows looked up, locked, written (apply_writes) | $(share 'apply_writes') |
| of which: look up existing rows (find_row: index scans) | $(share 'find_row') |
| of which: build each row's jsonb \`data\` from canonical JSON | $(share 'jsonb_from_canonical') |
| of which: insert rows (insert_row: heap and indexes) | $(share 'insert_row') |
| of which: heap_insert (RelationGetBufferForTuple: extending the table) | $(share ' heap_insert') ($(share 'RelationGetBufferForTuple')) |
| of which: index inserts (ExecInsertIndexTuples) | $(share 'ExecInsertIndexTuples') |
| WAL records (XLogInsert) | $(share ' XLogInsert') |
| lz4 compression of large values | $(share 'LZ4_compress_fast') |
| page faults (kernel) | $(share 'exc_page_fault') |"
fi

# ---- 4. again with --sweep, over the full database --------------------------------
log "backfill --sweep over the full database"
q -d bench_empty -c "SELECT pg_stat_statements_reset()" >/dev/null
backfill sweep bench_empty --sweep
sweep_wall=$wall sweep_relay=$relay_cpu sweep_backend=$backend_cpu sweep_node=$node_cpu
sweep_read=$(column_total 2 "$work/sweep.out")
sweep_stale=$(column_total 4 "$work/sweep.out")

# ---- report ------------------------------------------------------------------------
{
  echo "== backfill into an empty database"
  cat "$work/empty.out"
  grep -v ' event=backfill_page ' "$work/empty.log" | head -20 || true  # the log's other lines: the run, retries
  echo "== pg_stat_statements (calls | total s | mean ms | max ms), first run"
  echo "$pg_stats"
  echo "== second run, --sweep"
  cat "$work/sweep.out"
  if [ -f "$work/profile.txt" ]; then
    echo "== perf --call-graph dwarf, the backend applying 20 pages of users and 20 of memberships: inclusive"
    head -80 "$work/profile.txt"
  fi
  for run in empty sweep; do
    [ -f "$work/$run.perf" ] || continue
    echo "== perf, the backend during the $run run: self time by shared object"
    { perf report -i "$work/$run.perf" --no-children --sort dso --stdio 2>/dev/null || true; } | grep -v '^#' | grep -v '^$' | head -12 || true
    echo "== perf, the backend during the $run run: self time by symbol"
    { perf report -i "$work/$run.perf" --no-children --sort dso,symbol --stdio 2>/dev/null || true; } | grep -v '^#' | grep -v '^$' | cut -c1-110 | head -40 || true
  done
} >"$details"
summary_empty=$(grep -v '^run ' "$work/empty.out" || true)
profile_section=""
if [ -n "$profile_split" ]; then
  profile_section="Where the backend's time goes while it applies pages (perf record --call-graph dwarf of the
backend applying the first 20 pages of users and 20 of memberships into an empty database with
\`orgsync.apply_listing\`; inclusive share of its samples; the flat profiles are in the details):

| step | % of samples |
|---|---:|
$profile_split
"
fi
objects_s=$(rate "$empty_applied" "$empty_wall")

cat <<EOF

### Backfill: $USERS users, $ORGS organizations, $MEMBERSHIPS memberships

\`orgsync-relay backfill --rate 0 --page-size 500\` reading test/backfill's stand-in for Clerk's
Backend API (Node, on this machine, no rate limit) into an empty database: $pages pages of the
three large kinds, plus 2,000 invitations (in four statuses), 1,000 domains, 10 roles and 20
permissions. fsync on, shared_buffers 1GB. Machine: $(nproc) cores, load average at the end
$(cut -d' ' -f1-3 /proc/loadavg) (other jobs share it: single runs can be off by 20% and more).

| | seconds | objects | objects/s |
|---|---:|---:|---:|
| backfill into an empty database, the server's first run (applied) | $(round1 "$empty_wall") | $empty_applied | **$objects_s** |
| again into another empty database, after a checkpoint (WAL segments recycled) | $(round1 "$warm_wall") | $warm_applied | **$(rate "$warm_applied" "$warm_wall")** |
| the stand-in's pages of organizations, users and memberships with curl alone (no Postgres) | $(round1 "$curl_wall") | $sql_objects | $(rate "$sql_objects" "$curl_wall") |
| the same pages applied with psql alone (no HTTP), organizations, users and memberships | $(round1 "$sql_wall") | $sql_objects | $(rate "$sql_objects" "$sql_wall") |
| backfill --sweep over the full database (all stale) | $(round1 "$sweep_wall") | $sweep_read read, $sweep_stale stale | $(rate "$sweep_read" "$sweep_wall") |

The pages applied with psql alone, kind by kind (one \`orgsync.backfill_page\` call per page, each its own
transaction, in one session; the backend's CPU time from \`/proc/<pid>/stat\`; WAL from \`pg_current_wal_lsn()\`):

| kind | objects | seconds | objects/s | backend CPU µs per object | WAL bytes per object |
|---|---:|---:|---:|---:|---:|
$sql_rows
Clerk serves at most 1,000 requests per 10 s in production (100 in development) of up to 500
objects: 50,000 objects/s (5,000 in development; the backfill's default \`--rate 9\` stays under
the development limit: 4,500 objects/s).

$profile_section
CPU seconds during each backfill (wall time: $(round1 "$empty_wall") s and $(round1 "$sweep_wall") s; 2 cores):

| | stand-in (node) | backfill (orgsync-relay) | Postgres backend |
|---|---:|---:|---:|
| into an empty database | $(round1 "$empty_node") | $(round1 "$empty_relay") | $(round1 "$empty_backend") |
| again, after a checkpoint | $(round1 "$warm_node") | $(round1 "$warm_relay") | $(round1 "$warm_backend") |
| --sweep over the full database | $(round1 "$sweep_node") | $(round1 "$sweep_relay") | $(round1 "$sweep_backend") |

The first run's summary (per kind; time is the kind's listing):

\`\`\`
$summary_empty
\`\`\`

\`orgsync.backfill_page\` in pg_stat_statements, first run: $(echo "$pg_stats" | awk -F' [|] ' '{printf "%s calls, %s s in all, %s ms per call on average, %s ms at the most", $1, $2, $3, $4}')
(each call is one transaction, holding its rows' locks until it commits).
Sizes after the first run: $(echo "$sizes" | awk -F' [|] ' '{printf "%s%s %s rows %s", sep, $1, $2, $3; sep = "; "}').
Curl fetched $((curl_bytes / 1048576)) MiB of JSON. Details: bench/results/backfill.txt.
EOF
log "done"
