# Part 3 of the benchmarks, `bench/run.sh memory`: a backend's memory (RSS,
# memory contexts) across many handle_event calls in one session. Sourced by
# bench/run.sh after bench/lib.sh, on its cluster and its $work.
#
# Settings (environment): BENCH_MEMORY_CALLS (100000).
MEMORY_CALLS=${BENCH_MEMORY_CALLS:-100000}

part_memory() {
  local batch=$((MEMORY_CALLS / 10)) lo
  log "part 3: generating $MEMORY_CALLS deliveries"
  sql -c "$(truncate_statement orgsync)" \
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
