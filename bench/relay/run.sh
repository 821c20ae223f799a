#!/usr/bin/env bash
# Relay throughput and latency: wrk posts distinct signed Clerk deliveries to
#   orgsync          relay/orgsync-relay with its defaults (batches of the
#                    deliveries waiting, orgsync.handle_events)
#   orgsync-batch-1  the relay with --batch 1 --pool 16: a transaction per
#                    delivery, as it ran before batching
#   select-1         the relay with --select-one --pool 16 (floor: HTTP + libpq
#                    + a round trip per request)
#   write-1          the relay with its defaults on a database whose
#                    orgsync.handle_event(s) only insert (id, body) and commit
#                    (floor-write.sql): the commit floor
#   node             bench/relay/node-handler.mjs (node:http + svix + pg Pool of 16)
# at 1, 4 and 16 connections (interleaved), and orgsync with each --pool of
# BENCH_RELAY_POOLS at the most connections, BENCH_RELAY_RUNS times (2); then
# checks that the Node handler and orgsync leave the same tables for the same
# deliveries (in order over 1 connection, and over 16).
#
#   bench/relay/run.sh      Markdown on stdout, details in bench/results/relay.txt
#
# Needs wrk (make deps-bench), relay/orgsync-relay
# (built here when missing), the extension installed (make install) and
# test/node_modules (cd test && npm ci). Starts its own cluster (fsync on)
# unless bench/run.sh passes one (PG* variables and BENCH_RESULTS set).
# Settings: BENCH_RELAY_SECONDS per point (12), BENCH_RELAY_RUNS (2),
# BENCH_RELAY_CONNECTIONS ("1 4 16"), BENCH_RELAY_POOLS ("1 2 4 16"),
# BENCH_RELAY_CHECK (5000 deliveries).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
log_name=relay-bench

DURATION=${BENCH_RELAY_SECONDS:-12}
RUNS=${BENCH_RELAY_RUNS:-2}
CONNECTIONS=${BENCH_RELAY_CONNECTIONS:-1 4 16}
POOLS=${BENCH_RELAY_POOLS:-1 2 4 16}
CHECK=${BENCH_RELAY_CHECK:-5000}
FLOOR_POOL=16 # the SELECT 1 floor's connections: one request holds one
SYSTEMS="orgsync orgsync-batch-1 select-1 write-1 node"
MOST_CONNECTIONS=$(tr ' ' '\n' <<<"$CONNECTIONS" | sort -n | tail -1)

die() { log "$*"; exit 1; }
q() { local db=$1; shift; val -d "$db" "$@"; }

command -v wrk >/dev/null || die "wrk is missing (make deps-bench installs it)"
[ -x relay/orgsync-relay ] || make -C relay >/dev/null
[ -f "$(pg_config --sharedir)/extension/orgsync.control" ] || die "orgsync is not installed (make install)"
[ -d test/node_modules/svix ] && [ -d test/node_modules/pg ] || die "test/node_modules is missing (cd test && npm ci)"
mkdir -p "$results"

work=$(work_dir relay-bench)
own_cluster=1
if [ -n "${BENCH_RESULTS:-}" ] && [ -n "${PGHOST:-}" ]; then own_cluster=0; fi
declare -A pid_of url_of # the servers running, by system
wrk_pid=""
cleanup() {
  if [ -n "$wrk_pid" ]; then kill "$wrk_pid" 2>/dev/null || true; fi
  for system in "${!pid_of[@]}"; do stop "$system"; done
  if [ "$own_cluster" = 1 ]; then
    cluster_stop "$work/cluster" || true
  else
    for db in relay_orgsync relay_node relay_floor; do q postgres -c "DROP DATABASE IF EXISTS $db" || true; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ "$own_cluster" = 1 ]; then cluster_start "$work/cluster"; fi
export PGOPTIONS="-c client_min_messages=warning"

fresh_databases() {
  for db in relay_orgsync relay_node relay_floor; do
    q postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  done
  install_orgsync -d relay_orgsync
  q relay_node -c "CREATE EXTENSION orgsync" # the Node handler writes into the same tables
  q relay_floor -f bench/relay/floor-write.sql
}

database_of() { case $1 in orgsync* | select-1) echo relay_orgsync ;; node) echo relay_node ;; write-1) echo relay_floor ;; esac; }

# The relay's flags for SYSTEM beyond --listen and --database-url: none (its
# defaults, as users run it) but for the floor and the variants.
relay_flags() {
  case $1 in
    select-1) echo --select-one --pool "$FLOOR_POOL" ;;
    orgsync-batch-1) echo --batch 1 --pool 16 ;; # as the relay ran before batching
    orgsync-pool-*) echo --pool "${1#orgsync-pool-}" ;;
  esac
}

# start SYSTEM: runs its server on a free port (another, if that one was
# taken meanwhile).
start() {
  local port log=$work/$1.log try
  for try in 1 2 3 4 5; do
    port=$($FREE_PORT)
    : >"$log" # not the last start's "listening", before this one's shell truncates it
    case $1 in
      node) PORT=$port CLERK_WEBHOOK_SIGNING_SECRET=$SECRET PGDATABASE=relay_node \
              node bench/relay/node-handler.mjs >"$log" 2>&1 & ;;
      *) relay/orgsync-relay --listen "127.0.0.1:$port" --database-url "dbname=$(database_of "$1")" \
           $(relay_flags "$1") >"$log" 2>&1 & ;;
    esac
    pid_of[$1]=$!
    url_of[$1]=http://127.0.0.1:$port/webhooks
    for _ in $(seq 100); do
      grep -qs listening "$log" && return
      kill -0 "${pid_of[$1]}" 2>/dev/null || break
      sleep 0.1
    done
    log "$1 did not start (try $try): $(tail -1 "$log")"
    stop "$1"
  done
  die "$1 did not start"
}

stop() { # SYSTEM: SIGTERM, then SIGKILL after 10 s
  local pid=${pid_of[$1]}
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "pid_of[$1]"
}

rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/${pid_of[$1]}/status"; }

# send SYSTEM CONNECTIONS FILE [WRAP]: wrk with post.lua; prints its RESULT line.
send() {
  DELIVERIES=$3 THREADS=1 WRAP=${4:-0} wrk -t 1 -c "$2" -d "${DURATION}s" --timeout 10s \
    -s bench/relay/post.lua "${url_of[$1]}" | grep '^RESULT' || die "wrk failed"
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# Deliveries to sign for one point (system, connections): 3 x DURATION x the
# rate of this point in the previous run; else the rate of the system's
# previous point in this run (or of orgsync's), scaled by the ratio of
# connections as if throughput grew with them; capped. A point that runs out
# is marked (ran_out=1).
declare -A rate_of rate_connections_of last_rate_of
count_for() {
  local rate=${last_rate_of[$1/$2]:-} from=$1
  if [ -z "$rate" ]; then
    [ -n "${rate_of[$from]:-}" ] || from=orgsync
    rate=$((${rate_of[$from]:-1500} * $2 / ${rate_connections_of[$from]:-1}))
  fi
  awk -v r="$rate" -v d="$DURATION" 'BEGIN {n = int(r * 3 * d); print (n < 5000 ? 5000 : n > 120000 ? 120000 : n)}'
}

# Machine-wide CPU ticks "total idle" (idle + iowait); WAL "bytes syncs" so far.
cpu_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $5 + $6}' /proc/stat; }
wal_stats() { q postgres -c "SELECT wal_bytes || ' ' || wal_sync FROM pg_stat_wal"; }
# "pid ticks user system" (CPU ticks: user + system, user, system) of SYSTEM's
# server and of every process of the cluster (backends, walwriter,
# checkpointer, autovacuum...), plus PIDS.
proc_cpu() {
  local p
  for p in $(printf '%s\n' ${pid_of[$1]} $(q postgres -c "SELECT pid FROM pg_stat_activity") ${2:-} | sort -un); do
    awk -v p="$p" '{sub(/.*\) /, ""); print p, $12 + $13, $12, $13}' "/proc/$p/stat" 2>/dev/null || true
  done
}
# mean_batch SYSTEM FIRST_LINE: deliveries per database call, from the
# batch= of SYSTEM's log lines from FIRST_LINE on ("-" where there is none).
mean_batch() {
  tail -n "+$2" "$work/$1.log" | awk 'match($0, / batch=[0-9]+/) {n++; calls += 1 / substr($0, RSTART + 7, RLENGTH - 7)}
    END {if (n) printf "%.1f", n / calls; else print "-"}'
}

# CPU_BEFORE CPU_AFTER REQUESTS: server + Postgres CPU µs per request
cpu_per_request() {
  awk -v n="$3" -v hz="$(getconf CLK_TCK)" 'NR == FNR {t0[$1] = $2; next} {t += $2 - ($1 in t0 ? t0[$1] : 0)}
    END {printf "%.0f", t * 1e6 / hz / n}' <(echo "$1") <(echo "$2")
}

# CPU_BEFORE CPU_AFTER REQUESTS SERVER_PID: "server_user server_system
# postgres_user postgres_system", CPU µs per request, the server apart from Postgres
cpu_split() {
  awk -v n="$3" -v server="$4" -v hz="$(getconf CLK_TCK)" '
    NR == FNR {u0[$1] = $3; s0[$1] = $4; next}
    {k = ($1 == server) ? "server" : "postgres"; u[k] += $3 - u0[$1]; s[k] += $4 - s0[$1]}
    END {f = 1e6 / hz / n; printf "%.0f %.0f %.0f %.0f", u["server"] * f, s["server"] * f, u["postgres"] * f, s["postgres"] * f}' \
    <(echo "$1") <(echo "$2")
}

# point RUN SYSTEM CONNECTIONS: one measured point; a line into $work/points.
# Its deliveries' ids are its own (TAG: the run and the point's number in it):
# several systems write into relay_orgsync.
point() {
  local run=$1 system=$2 c=$3 tag n file=$work/deliveries.tsv db r rss0 rss1 recorded=- wrap=0 log0
  db=$(database_of "$system")
  point_no=$((point_no + 1))
  tag=$((run * 100 + point_no))
  n=$(count_for "$system" "$c")
  [ "$system" = select-1 ] && n=20000 wrap=1 # SELECT 1 never reads the delivery: reuse them
  node bench/relay/gen.mjs "$SECRET" "$tag" "$n" >"$file"
  q "$db" -c "CHECKPOINT"
  log "run $run: $system, $c connection(s), $n deliveries"
  local wal0 wal1 cpu0 cpu1 proc0 proc1
  log0=$(($(wc -l <"$work/$system.log") + 1))
  rss0=$(rss_mb "$system") wal0=$(wal_stats) cpu0=$(cpu_ticks) proc0=$(proc_cpu "$system")
  r=$(send "$system" "$c" "$file" "$wrap")
  rss1=$(rss_mb "$system") cpu1=$(cpu_ticks) proc1=$(proc_cpu "$system" "$(cut -d' ' -f1 <<<"$proc0")")
  if [ "$system" != select-1 ]; then # distinct deliveries recorded by the server (all should be)
    sleep 0.5
    recorded=$(q "$db" -c "SELECT count(*) FROM orgsync.events WHERE id LIKE 'msg_2b$tag%'")
  fi
  wal1=$(wal_stats)
  local requests seconds rate extra
  requests=$(field requests "$r") seconds=$(field seconds "$r")
  rate=$(awk -v n="$requests" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')
  rate_of[$system]=$rate rate_connections_of[$system]=$c last_rate_of[$system/$c]=$rate
  # CPU busy % (machine-wide), WAL bytes per request, requests per WAL sync
  extra=$(echo "$cpu0 $cpu1 $wal0 $wal1 $requests" | awk '{
    busy = 100 * (1 - ($4 - $2) / ($3 - $1)); syncs = $8 - $6
    printf "%.0f %.0f %s", busy, ($7 - $5) / $9, (syncs > 0 ? sprintf("%.1f", $9 / syncs) : "-") }')
  echo "$run $system $c $rate $(field p50_us "$r") $(field p99_us "$r") $(field non2xx "$r") $(field socket_errors "$r") $rss0 $rss1 $requests $recorded $n $(field ran_out "$r") $seconds $extra $(cpu_per_request "$proc0" "$proc1" "$requests") $(mean_batch "$system" "$log0")" \
    >>"$work/points"
  echo "$run $system $c $(cpu_split "$proc0" "$proc1" "$requests" "${pid_of[$system]}")" >>"$work/cpu-split"
}

# ---- the measured runs ------------------------------------------------------

machine() {
  echo "Machine: $(machine_hardware), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), Node $(node --version)."
  echo "A shared machine: wrk, the server (relay or Node) and Postgres share the same $(nproc) cores, and other jobs were running (load average at start: $(cut -d' ' -f1-3 /proc/loadavg))."
}

: >"$work/points"
machine_line=$(machine)
# Interleaved, so that the points compared were taken close together in time
# (other jobs come and go): orgsync's relay and the Node handler serve the
# whole run (RSS across points); each floor's relay serves its one point.
for run in $(seq "$RUNS"); do
  fresh_databases
  rate_of=() rate_connections_of=()
  point_no=0
  start orgsync
  start node
  for c in $CONNECTIONS; do
    systems=$SYSTEMS
    [ "$c" = "$MOST_CONNECTIONS" ] && systems+=$(printf ' orgsync-pool-%s' $POOLS)
    for system in $systems; do
      [ -n "${pid_of[$system]:-}" ] || start "$system"
      point "$run" "$system" "$c"
      case $system in orgsync | node) ;; *) stop "$system" ;; esac
    done
  done
  stop orgsync
  stop node
done

# ---- same deliveries, same tables? ------------------------------------------

# Every column but events.received_at and events.status (applied or stale
# depends on the order of arrival, which differs between the two sends), and
# sync_version without orgsync's content digest (the Node handler's has none).
dump() {
  q "$1" <<'SQL'
COPY (SELECT 'organizations', id, name, slug, image_url, created_by, max_allowed_memberships, public_metadata, private_metadata,
             created_at, updated_at, deleted_at, data, source, sync_version[1:3] FROM orgsync.organizations ORDER BY id) TO STDOUT;
COPY (SELECT 'users', id, primary_email, first_name, last_name, username, image_url, external_id, public_metadata,
             private_metadata, created_at, updated_at, deleted_at, data, source, sync_version[1:3] FROM orgsync.users ORDER BY id) TO STDOUT;
COPY (SELECT 'memberships', id, organization_id, user_id, role, permissions, public_metadata, private_metadata, created_at,
             updated_at, deleted_at, data, sync_version[1:3] FROM orgsync.memberships ORDER BY id) TO STDOUT;
COPY (SELECT 'events', id, endpoint, type, error, object_id, event_time, payload FROM orgsync.events ORDER BY id) TO STDOUT;
SQL
}

# check CONNECTIONS: the same CHECK deliveries to orgsync and to the Node
# handler on emptied tables; a line per table into $work/check.
check() {
  local c=$1 system db
  for system in orgsync node; do
    db=$(database_of "$system")
    q "$db" -c "$(truncate_statement orgsync)"
    node bench/relay/gen.mjs "$SECRET" 999 "$CHECK" >"$work/check.tsv"
    start "$system"
    # wrk runs until its -d even when every delivery is sent: end it (SIGINT)
    # once all are recorded.
    DELIVERIES=$work/check.tsv THREADS=1 wrk -t 1 -c "$c" -d 600s --timeout 10s -s bench/relay/post.lua "${url_of[$system]}" \
      >"$work/check-wrk.txt" &
    wrk_pid=$!
    local got last=-1 still=0
    while :; do # until every delivery is recorded, or nothing moved for 20 s
      got=$(q "$db" -c "SELECT count(*) FROM orgsync.events")
      [ "$got" -ge "$CHECK" ] && break
      if [ "$got" = "$last" ]; then still=$((still + 1)); else still=0; fi
      [ "$still" -ge 40 ] && { log "check: $system stalled at $got of $CHECK deliveries"; break; }
      last=$got
      sleep 0.5
    done
    kill -INT "$wrk_pid"
    wait "$wrk_pid" || true
    wrk_pid=""
    stop "$system"
    dump "$db" | LC_ALL=C sort >"$work/check-$system.txt"
    statuses[$system]="$(q "$db" -c "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM orgsync.events GROUP BY 1 ORDER BY 1) s")$(
      sed -n 's/.* non2xx=\([0-9]*\) socket_errors=\([0-9]*\).*/ (non-2xx \1, socket errors \2)/p' "$work/check-wrk.txt")"
  done
  for table in organizations users memberships events; do
    echo "$c $table $(grep -c "^$table	" "$work/check-orgsync.txt") $(grep -c "^$table	" "$work/check-node.txt")" \
      "$(LC_ALL=C comm -3 <(grep "^$table	" "$work/check-orgsync.txt") <(grep "^$table	" "$work/check-node.txt") |
         awk -F'\t' '{sub(/^\t/, ""); print $2}' | sort -u | wc -l)" >>"$work/check"
  done
  echo "| $c | ${statuses[orgsync]} | ${statuses[node]} |" >>"$work/statuses"
}
declare -A statuses
: >"$work/check"
: >"$work/statuses"
log "check: $CHECK deliveries in order (1 connection), then at 16 connections, to orgsync and to the Node handler"
check 1
check 16

# ---- report -----------------------------------------------------------------

report() {
  local run
  echo "### Relay: deliveries/s and latency over HTTP"
  echo
  echo "$machine_line"
  echo
  cat <<EOF
wrk (1 thread, keep-alive) posts signed Clerk deliveries built from \`test/fixtures/clerk\`
(\`gen.mjs\`: users, organizations, memberships created, updated and deleted, in Clerk's order;
compact JSON, $(awk -F'\t' '{n = length($4); if (!min || n < min) min = n; if (n > max) max = n; s += n}
  END {printf "%d-%d bytes, mean %.0f", min, max, s / NR}' "$work/check.tsv")), each request a
distinct delivery with its own svix-id, signed with the official \`svix\` library right before its
point (no change to \`orgsync.timestamp_tolerance\`). ${DURATION} s per point; fsync on, default
settings, a checkpoint before each point. Each run starts on fresh databases; tables grow over its
points. Latency as wrk measures it (client side, ms). RSS: VmRSS of the server process before
and after its point, MB (orgsync's relay and the Node process serve every point of a run in
turn; the others' are started for their point). Points are interleaved (at each number of
connections: orgsync, orgsync with \`--batch 1\`, the two floors, Node, then at $MOST_CONNECTIONS orgsync
with each \`--pool\` of $POOLS) so that compared figures are taken close in time.
CPU µs/delivery: user + system CPU of the server process and of every Postgres process over the
point, per delivery (not wrk's; little affected by other jobs). CPU busy: all cores,
machine-wide, during the point, other jobs included. WAL: \`pg_stat_wal\` over the point, bytes
per delivery and deliveries per WAL sync (group commit). Batch: deliveries per database call,
mean over the point (from the relay's \`batch=\` log field).

- **orgsync**: \`relay/orgsync-relay\` with its defaults ($(sed -n 's/.*listening on .* (\(pool [0-9]*, batch [0-9]*\))$/\1/p' "$work/orgsync.log")): the
  deliveries waiting at the same moment → one \`orgsync.handle_events\` call (verify, record,
  merge each), one transaction, a lone delivery too.
- **orgsync, --batch 1**: the relay with \`--batch 1 --pool 16\`, one \`orgsync.handle_event\`
  transaction per delivery, 16 at a time: as it ran before batching.
- **orgsync, --pool N**: the same relay with N connections (and workers) instead of its default.
- **floor, SELECT 1**: the relay with \`--select-one --pool $FLOOR_POOL\`: HTTP + libpq + a round trip per
  request, unbatched, no commit, no WAL.
- **floor, insert + commit**: the relay with its defaults on a database where
  \`orgsync.handle_event\` is a SQL stand-in that inserts (svix-id, body) into a table, and
  \`orgsync.handle_events\` does that for each delivery of its batch (\`floor-write.sql\`): HTTP +
  libpq + small inserts + a commit that waits for fsync, batched the same way.
- **Node handler**: \`node-handler.mjs\`, what teams write following Clerk's guide: \`node:http\`,
  svix \`Webhook.verify\`, a \`pg\` Pool of 16, one transaction of guarded upserts per delivery
  (BEGIN, record the id, 1-4 upserts/updates, COMMIT), one process.
EOF
  for run in $(seq "$RUNS"); do
    echo
    echo "Run $run of $RUNS:"
    echo
    echo "| server | connections | deliveries/s | p50 ms | p99 ms | batch | non-2xx | RSS before → after, MB | CPU µs/delivery | CPU busy | WAL B/delivery | deliveries/WAL sync |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -v run="$run" -v systems="$SYSTEMS$(printf ' orgsync-pool-%s' $POOLS)" '$1 == run { row[$2 "/" $3] = $0; if (!($3 in seen)) { seen[$3] = 1; cs[++n] = $3 } }
      END { # grouped by server
        split(systems, sys, " ")
        for (i = 1; i in sys; i++) for (j = 1; j <= n; j++) if ((sys[i] "/" cs[j]) in row) print row[sys[i] "/" cs[j]]
      }' "$work/points" |
      awk '{
        name = $2 == "orgsync" ? "orgsync relay" : $2 == "orgsync-batch-1" ? "orgsync relay, --batch 1 --pool 16" \
          : $2 ~ /^orgsync-pool-/ ? "orgsync relay, --pool " substr($2, 14) : $2 == "select-1" ? "floor, SELECT 1" \
          : $2 == "write-1" ? "floor, insert + commit" : "Node handler"
        if ($2 == "select-1") $17 = $18 = "-" # writes no WAL: what is there is other activity
        printf "| %s | %s | %s%s | %.2f | %.2f | %s | %d | %s → %s | %s | %s%% | %s | %s |\n", name, $3, $4, $14 == 1 ? " (ran out)" : "",
          $5 / 1000, $6 / 1000, $20, $7 + $8, $9, $10, $19, $16, $17, $18 }' 
    if awk -v run="$run" '$1 == run && $14 == 1 {found = 1} END {exit !found}' "$work/points"; then
      echo
      echo "(ran out): wrk sent every delivery signed for that point before its end and then idled: the rate is understated."
    fi
    echo
    awk -v run="$run" -v cs="$CONNECTIONS" '$1 == run {rate[$2 "/" $3] = $4}
      END {
        n = split(cs, c, " ")
        printf "Ratios:"
        for (i = 1; i <= n; i++)
          printf " at %s, orgsync / SELECT 1 floor %.2f, / insert + commit floor %.2f, / Node %.2f, / --batch 1 %.2f%s", c[i],
            rate["orgsync/" c[i]] / rate["select-1/" c[i]], rate["orgsync/" c[i]] / rate["write-1/" c[i]],
            rate["orgsync/" c[i]] / rate["node/" c[i]], rate["orgsync/" c[i]] / rate["orgsync-batch-1/" c[i]], i < n ? ";" : "."
        print " Targets at 16: orgsync ≥ 0.7 × the SELECT 1 floor, ≥ 2 × Node."
      }' "$work/points"
  done
  echo
  echo "Same deliveries, same tables: the same $CHECK deliveries (one history, \`gen.mjs\`) sent to orgsync and to"
  echo "the Node handler on emptied tables; rows compared on every column but \`events.received_at\` and"
  echo "\`events.status\`, and orgsync's content digest in \`sync_version\`."
  echo
  echo "| connections | table | rows orgsync | rows Node | ids that differ |"
  echo "|---:|---|---:|---:|---:|"
  awk '{printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5}' "$work/check"
  echo
  echo "Statuses recorded in \`orgsync.events\` (not compared: which version lands first, and so"
  echo "which delivery is \`stale\`, depends on the order of arrival):"
  echo
  echo "| connections | orgsync | Node handler |"
  echo "|---:|---|---|"
  cat "$work/statuses"
}

{
  echo "# bench/relay/run.sh, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "# run server connections deliveries/s p50_us p99_us non2xx socket_errors rss0_mb rss1_mb requests distinct_recorded signed ran_out seconds cpu_busy_pct wal_bytes_per_request requests_per_wal_sync server_and_postgres_cpu_us_per_request mean_batch"
  cat "$work/points"
  echo
  echo "# CPU µs per request, user and system, of the server process and of all Postgres processes"
  echo "# run server connections server_user server_system postgres_user postgres_system"
  cat "$work/cpu-split"
  echo
  echo "# check: connections table rows_orgsync rows_node ids_differing"
  cat "$work/check"
  echo
  report
} >"$results/relay.txt"
report
log "done; details in $results/relay.txt"
