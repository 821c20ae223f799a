# Splits the samples of `perf script` (one backend running handle_event, call
# chains unwound with --call-graph dwarf) two ways; prints
# "step|work|both <TAB> percent <TAB> name" ("both": step / work).
#   step: which part of handle_event the sample is under (outermost view)
#   work: what kind of work it is: the innermost frame matching a rule below,
#         so malloc under the JSON parser counts as orgsync's parsing and XLogInsert
#         under heap_insert as WAL.
BEGIN { RS = ""; FS = "\n" }

# The step of handle_event: the innermost frame, going outwards from the
# sample, that names one (function names as perf resolves them; the ones
# below are not inlined).
function step(chain,    i) {
  if (chain !~ /handle_event|PostgresMain/) return "call chain cut short (not attributed)"
  if (chain !~ /handle_event/) {
    if (chain ~ /fmgr_security_definer/) return "function call: SECURITY DEFINER, SET search_path"
    return "outer query (reads bench_deliveries)"
  }
  for (i = 2; i < NF; i++) {
    if ($i ~ /orgsync::pg::[(]anonymous namespace[)]::open_table|orgsync::pg::(begin|end)_row_access/)
      return "set-up per call: executor state, opening tables and indexes"
    if ($i ~ /orgsync::pg::select_endpoint_keys/) return "SELECT key FROM secrets (SQL, once per backend)"
    if ($i ~ /orgsync::pg::delivery_recorded/) return "already recorded? (a primary key lookup)"
    if ($i ~ /orgsync::pg::(merge_plan|apply_writes?)([(+ ]|$)/) return "merge: mirror rows looked up, locked, inserted, updated"
    # record_delivery may end in a tail call: its insert_row then appears called from apply_delivery.
    if ($i ~ /orgsync::pg::record_delivery/ || ($i ~ /orgsync::pg::insert_row/ && $(i + 1) ~ /apply_delivery/))
      return "record the delivery (events row)"
  }
  if (chain ~ /verify|hmac_sha256|libcrypto/) return "verify (HMAC-SHA256)"
  if (chain ~ /plan_delivery|plan_event/) return "parse + plan (src/core: parse, serialise, digest)"
  if (chain ~ /result_jsonb/) return "result jsonb"
  return "rest of handle_event (headers, delivery id)"
}

function work(frame) {
  if (frame ~ /libcrypto|hmac_sha256|core::verify/) return "HMAC-SHA256"
  if (frame ~ /XLog|xlog|WALInsert|pg_comp_crc32c/) return "WAL records (XLogInsert)"
  if (frame ~ /canonical_jsonb|jsonb_from_canonical|read_container|read_string|read_number|jsonb_in|pg_parse_json|json_lex|pushJsonbValue|JsonbValueToJsonb|convertJsonb|uniqueifyJsonbObject|result_jsonb/)
    return "JSON: jsonb values built (data columns, result)"
  if (frame ~ /plan_event|parse_payload|plan_delivery|version_of|digest_of|_upsert|plan_membership|core::/)
    return "JSON: orgsync's own parse, serialise, digest (src/core)"
  if (frame ~ /exc_page_fault/) return "page faults (the backend's first touch of shared buffers)"
  if (frame ~ /toast|pglz/) return "TOAST compression"
  if (frame ~ /mdextend|smgrextend/) return "relation extension (new pages)"
  if (frame ~ /ExecConstraints/) return "constraints (NOT NULL)"
  if (frame ~ /GetCachedPlan|AcquireExecutorLocks|set_config_option|ProcessGUCArray|AtEOXact_GUC|NewGUCNestLevel/)
    return "plan cache checks, locks, SET search_path"
  if (frame ~ /standard_ExecutorStart|ExecInit|ExecutorEnd|ExecEndNode|ExecBuildProjection|CreateExecutorState|FreeExecutorState|ExecOpenIndices|ExecCloseIndices|ExecReadyExpr/)
    return "executor state (set-up per call, statements' start/end)"
  if (frame ~ /heap_insert|heap_update|heap_lock_tuple|heap_fetch|heap_hot_search|_bt_|btinsert|btgettuple|ExecInsertIndexTuples|ExecCheckIndexConstraints|index_getnext|index_fetch|ReadBuffer|RelationGetBufferForTuple|heap_page_prune|LockBuffer|IndexNext|BitmapHeapNext|MultiExecBitmap|tbm_|SpeculativeInsertion/)
    return "heap + index access (buffers, B-tree, tuples)"
  if (frame ~ /tuplesort|LogicalTape|BufFile/) return "outer query (reads bench_deliveries)"
  return ""
}

{
  samples++
  s = step($0)
  steps[s]++
  w = "other (tuple forming, type input, memory, locks)"
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
