// The SQL-callable webhook functions: orgsync.handle_event,
// orgsync.handle_events (many deliveries in one call), orgsync.apply_event
// (a trusted event without signature) and orgsync.replay. Each is a
// Postgres-side body (fmgr, ereport; plain C data only) over delivery.hpp.

#include "pg/boundary.hpp"
#include "pg/change_feed.hpp"
#include "pg/delivery.hpp"
#include "pg/delivery_log.hpp"
#include "pg/sql_args.hpp"
#include "pg/times.hpp"
#include "pg/turn.hpp"

namespace orgsync::pg {
namespace {

// What one handle_events call may ask of the server: the relay sends 64 at
// the most by default, 1000 with its largest --batch.
constexpr int kMaxDeliveriesPerCall = 1000;

Datum handle_event(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("orgsync: headers must not be NULL")));
  }
  Jsonb* headers = PG_GETARG_JSONB_P(0);
  text* body = require_text_arg(fcinfo, 1, "body");
  text* endpoint = require_text_arg(fcinfo, 2, "endpoint");

  CheckedDelivery checked;
  Outcome outcome;
  if (!check_delivery(headers, body, require_endpoint_keys(endpoint), &checked, &outcome)) {
    ereport(ERROR, (errcode(outcome.sqlstate), errmsg("%s", outcome.error), errdetail_internal("%s", outcome.reason)));
  }
  note_key_use(endpoint, checked.key_fingerprint);
  Turn turn = take_turn("orgsync.handle_event()");
  RowAccess* access = begin_row_access("orgsync.handle_event()");
  outcome = apply_delivery(access, checked, endpoint, body);
  end_row_access(access);
  end_turn(turn);
  PG_RETURN_DATUM(result_jsonb(outcome));
}

// Many deliveries in one call and one transaction: what handle_event does for
// each, in order, with one result row each. A refused delivery gets a
// "rejected" row instead of failing the others.
//
// Every delivery is verified first, without the turn; only a call with
// verified deliveries takes it, to apply them. Verification touches no row,
// so a call full of forgeries keeps no other call waiting.
Datum handle_events(FunctionCallInfo fcinfo) {
  Datum *headers, *bodies;
  bool *headers_null, *bodies_null;
  int count = array_arg(fcinfo, 0, "headers", JSONBOID, &headers, &headers_null);
  if (array_arg(fcinfo, 1, "bodies", TEXTOID, &bodies, &bodies_null) != count) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("orgsync: headers and bodies must have the same number of elements")));
  }
  if (count > kMaxDeliveriesPerCall) {
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("orgsync: handle_events takes at most %d deliveries per call, not %d", kMaxDeliveriesPerCall,
                           count)));
  }
  text* endpoint = require_text_arg(fcinfo, 2, "endpoint");
  InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  // Verify all. The key list is valid until the next call that can process
  // invalidations (keys.hpp): verification makes none.
  Keys keys = require_endpoint_keys(endpoint);
  auto* checked = static_cast<CheckedDelivery*>(palloc(sizeof(CheckedDelivery) * (count + 1)));
  auto* results = static_cast<Datum*>(palloc0(sizeof(Datum) * (count + 1)));
  int verified = 0;
  for (int i = 0; i < count; ++i) {
    Outcome refusal;
    if (headers_null[i] || bodies_null[i]) {
      refusal = {"rejected",      nullptr,
                 nullptr,         ERRCODE_NULL_VALUE_NOT_ALLOWED,
                 "null_delivery", "orgsync: headers and body must not be NULL"};
    } else if (check_delivery(DatumGetJsonbP(headers[i]), DatumGetTextPP(bodies[i]), keys, &checked[i], &refusal)) {
      ++verified;
      continue;
    }
    results[i] = result_jsonb(refusal);
  }

  // The keys that verified (one, two during a rotation): note_key_use
  // records each at most once a minute, so the batch's repeats cost nothing.
  for (int i = 0; i < count; ++i) {
    if (results[i] == Datum(0)) note_key_use(endpoint, checked[i].key_fingerprint);
  }

  if (verified > 0) {
    Turn turn = take_turn("orgsync.handle_events()");
    RowAccess* access = begin_row_access("orgsync.handle_events()");
    MemoryContext per_delivery =
        AllocSetContextCreate(CurrentMemoryContext, "orgsync delivery", ALLOCSET_DEFAULT_SIZES);
    for (int i = 0; i < count; ++i) {
      if (results[i] != Datum(0)) continue;
      MemoryContext outer = MemoryContextSwitchTo(per_delivery);
      Outcome outcome = apply_delivery(access, checked[i], endpoint, DatumGetTextPP(bodies[i]));
      Datum result = result_jsonb(outcome);
      MemoryContextSwitchTo(outer);
      results[i] = PointerGetDatum(DatumGetJsonbPCopy(result));
      MemoryContextReset(per_delivery);
    }
    end_row_access(access);
    end_turn(turn);
  }
  for (int i = 0; i < count; ++i) {
    bool result_null = false;
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &results[i], &result_null);
  }
  return Datum(0);
}

Datum apply_event(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("orgsync: event must not be NULL")));
  }
  Jsonb* event = PG_GETARG_JSONB_P(0);
  char* body = JsonbToCString(nullptr, &event->root, VARSIZE(event));
  Plan* plan = plan_delivery({body, strlen(body)}, std::nullopt);
  if (plan->disposition == core::Disposition::invalid) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("orgsync: invalid event: %s", plan->error)));
  }
  Turn turn = take_turn("orgsync.apply_event()");
  RowAccess* access = begin_row_access("orgsync.apply_event()");
  set_change_origin(plan->type, nullptr);
  const char* status = merge_plan(access, plan);
  end_row_access(access);
  end_turn(turn);
  PG_RETURN_DATUM(result_jsonb({status, nullptr, plan, 0, nullptr, nullptr}));
}

// Applies a stored delivery again (after an `invalid` one was fixed, say).
Datum replay(FunctionCallInfo fcinfo) {
  text* delivery_id = require_text_arg(fcinfo, 0, "delivery_id");
  Turn turn = take_turn("orgsync.replay()");
  RowAccess* access = begin_row_access("orgsync.replay()");
  RecordedDelivery recorded;
  if (!load_delivery(access, delivery_id, &recorded)) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("orgsync: no delivery with id \"%s\"", text_to_cstring(delivery_id))));
  }
  std::optional<int64_t> event_time;
  if (recorded.has_event_time) event_time = unix_ms_from_timestamp(recorded.event_time);

  Plan* plan = plan_delivery(text_bytes(recorded.payload), event_time);
  char* id = text_to_cstring(delivery_id);
  set_change_origin(plan->type, id);
  const char* status = merge_plan(access, plan);
  // Replaying what was already applied finds it stale; keep the record of it.
  if (!(strcmp(recorded.status, "applied") == 0 && strcmp(status, "stale") == 0)) {
    set_delivery_status(access, delivery_id, status, plan->error);
  }
  end_row_access(access);
  end_turn(turn);
  PG_RETURN_DATUM(result_jsonb({status, id, plan, 0, nullptr, nullptr}));
}

}  // namespace
}  // namespace orgsync::pg

ORGSYNC_FUNCTION(orgsync_handle_event, orgsync::pg::handle_event)
ORGSYNC_FUNCTION(orgsync_handle_events, orgsync::pg::handle_events)
ORGSYNC_FUNCTION(orgsync_apply_event, orgsync::pg::apply_event)
ORGSYNC_FUNCTION(orgsync_replay, orgsync::pg::replay)
