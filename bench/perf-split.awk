# Splits the samples of `perf script` (one backend running handle_event, call
# chains unwound with --call-graph dwarf) two ways; prints
# "step|work|both <TAB> percent <TAB> name" ("both": step / work).
#   step: which part of handle_event the sample is under (outermost view)
#   work: what kind of work it is: the innermost frame matching a rule below,
#         so malloc under the JSON parser counts as orgsync's parsing and XLogInsert
#         under heap_insert as WAL.
BEGIN { RS = ""; FS = "\n" }

# The orgsync function a SPI statement was run from: the source line of the
# call to orgsync::pg::execute (addr2line), then the function around that line
# in the source (which must be what the installed module was built from).
function caller(frame,    parts, dso, where, file, line, n, text, name, rs) {
  split(frame, parts, " ")
  dso = parts[length(parts)]
  gsub(/[()]/, "", dso)
  if ((parts[1], dso) in callers) return callers[parts[1], dso]
  name = "?"
  rs = RS
  RS = "\n"
  cmd = "addr2line -e " dso " 0x" parts[1]
  if ((cmd | getline where) > 0 && split(where, file, ":") == 2 && file[2] + 0 > 0) {
    line = file[2] + 0
    n = 0
    while ((getline text < file[1]) > 0 && ++n <= line) {
      if (text ~ /^[A-Za-z].*[A-Za-z_0-9]+\(.*\{$/) {
        name = text
        sub(/\(.*/, "", name)
        sub(/.*[ *&:]/, "", name)
      }
    }
    close(file[1])
  }
  close(cmd)
  RS = rs
  return callers[parts[1], dso] = name
}

function step(chain,    i, fn) {
  if (chain !~ /handle_event|PostgresMain/) return "call chain cut short (not attributed)"
  if (chain !~ /handle_event/) {
    if (chain ~ /fmgr_security_definer/) return "function call: SECURITY DEFINER, SET search_path"
    return "outer query (reads bench_deliveries)"
  }
  for (i = 2; i < NF; i++) {
    if ($i !~ /orgsync::pg::execute\+/) continue
    fn = caller($(i + 1))
    if (fn == "merge") return "merge statements (SPI)"
    if (fn == "record_and_apply") return "INSERT INTO events ... ON CONFLICT DO NOTHING"
    if (fn == "set_event_status") return "UPDATE events SET status = 'stale'"
    if (fn == "load_keys") return "SELECT key FROM secrets"
    return "other SPI statements (" fn ")"
  }
  if (chain ~ /verify|hmac_sha256|libcrypto/) return "verify (HMAC-SHA256)"
  if (chain ~ /plan_delivery|plan_event/) return "parse + plan (src/core: parse, serialise, digest)"
  if (chain ~ /result_jsonb/) return "result jsonb"
  return "rest of handle_event (headers, SPI_connect/finish)"
}

function work(frame) {
  if (frame ~ /libcrypto|hmac_sha256|core::verify/) return "HMAC-SHA256"
  if (frame ~ /XLog|xlog|WALInsert|pg_comp_crc32c/) return "WAL records (XLogInsert)"
  if (frame ~ /jsonb_in|pg_parse_json|json_lex|pushJsonbValue|JsonbValueToJsonb|convertJsonb|result_jsonb|escape_json/)
    return "JSON: Postgres jsonb_in (the $n::jsonb casts, result)"
  if (frame ~ /nlohmann|simdjson|plan_event|parse_payload|plan_delivery|version_of|digest_of|_upsert|plan_membership|core::/)
    return "JSON: orgsync's own parse, serialise, digest (src/core)"
  if (frame ~ /exc_page_fault/) return "page faults (the backend's first touch of shared buffers)"
  if (frame ~ /toast|pglz/) return "TOAST compression (pglz)"
  if (frame ~ /mdextend|smgrextend/) return "relation extension (new pages)"
  if (frame ~ /ExecConstraints/) return "CHECK constraints (re-read and planned per statement)"
  if (frame ~ /GetCachedPlan|AcquireExecutorLocks|set_config_option|ProcessGUCArray|AtEOXact_GUC|NewGUCNestLevel/)
    return "plan cache checks, locks, SET search_path"
  if (frame ~ /standard_ExecutorStart|ExecInit|ExecutorEnd|ExecEndNode|ExecBuildProjection|CreateExecutorState|FreeExecutorState|ExecOpenIndices|ExecCloseIndices|ExecReadyExpr/)
    return "executor start/end (per statement)"
  if (frame ~ /heap_insert|heap_update|heap_lock_tuple|heap_fetch|heap_hot_search|_bt_|btinsert|btgettuple|ExecInsertIndexTuples|ExecCheckIndexConstraints|index_getnext|index_fetch|ReadBuffer|RelationGetBufferForTuple|heap_page_prune|LockBuffer|IndexNext|BitmapHeapNext|MultiExecBitmap|tbm_|SpeculativeInsertion/)
    return "heap + index access (buffers, B-tree, tuples)"
  if (frame ~ /tuplesort|LogicalTape|BufFile/) return "outer query (reads bench_deliveries)"
  return ""
}

{
  samples++
  s = step($0)
  steps[s]++
  w = "other executor work (expressions, casts, tuple forming)"
  if (s ~ /^outer query/) w = s
  else for (i = 2; i <= NF; i++) { c = work($i); if (c != "") { w = c; break } }
  works[w]++
  both[s " / " w]++
}

END {
  for (s in steps) printf "step\t%.1f\t%s\n", 100 * steps[s] / samples, s
  for (w in works) printf "work\t%.1f\t%s\n", 100 * works[w] / samples, w
  for (b in both) printf "both\t%.1f\t%s\n", 100 * both[b] / samples, b
  printf "samples\t%d\n", samples
}
