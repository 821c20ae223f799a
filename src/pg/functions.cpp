// The SQL-callable functions. Each is a Postgres-side body (SPI, fmgr,
// ereport; plain C data only) that calls into C++-side helpers in the
// anonymous namespace below (C++ objects; no call that can raise).

#include <climits>
#include <optional>
#include <string_view>
#include <vector>

#include "core/event.hpp"
#include "core/signature.hpp"
#include "pg/boundary.hpp"
#include "pg/keys.hpp"
#include "pg/pg_memory.hpp"
#include "pg/statements.hpp"

extern "C" {
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "storage/lmgr.h"
}

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace orgsync::pg {
namespace {

int timestamp_tolerance_seconds = 300;
constexpr int kMaxDeliveryIdLength = 256;

// ---- plain C data handed across the boundary ------------------------------

std::string_view view(Bytes bytes) { return {bytes.data, bytes.size}; }

Bytes text_bytes(text* value) { return {VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)}; }

struct DeliveryHeaderValues {
  Bytes id, timestamp, signature;
};

constexpr int kMaxStatements = 4;

// core::EventPlan, copied into palloc'd memory.
struct Plan {
  core::Disposition disposition;
  const char* type;       // NULL when unknown
  const char* object_id;  // NULL when unknown
  bool has_event_time;
  int64 event_time_ms;
  const char* error;  // NULL unless invalid
  int nstatements;
  BoundStatement statements[kMaxStatements];
};

// ---- C++ side --------------------------------------------------------------

core::Verdict verify_delivery(const DeliveryHeaderValues& headers, Bytes body, Keys keys, int64 now_seconds) {
  std::vector<core::SigningKey> signing_keys;
  signing_keys.reserve(keys.count);
  for (int i = 0; i < keys.count; ++i) signing_keys.emplace_back(view(keys.keys[i]));
  return core::verify({view(headers.id), view(headers.timestamp), view(headers.signature)}, view(body), signing_keys,
                      now_seconds, timestamp_tolerance_seconds);
}

bool verify_with_secret(const DeliveryHeaderValues& headers, Bytes body, Bytes secret, int64 now_seconds) {
  std::vector<core::SigningKey> keys{core::decode_secret(view(secret))};
  return core::verify({view(headers.id), view(headers.timestamp), view(headers.signature)}, view(body), keys,
                      now_seconds, timestamp_tolerance_seconds) == core::Verdict::verified;
}

// The delivery's signed timestamp stands in for an event without its own.
Plan* plan_delivery(Bytes body, std::optional<int64_t> fallback_time_ms) {
  core::EventPlan planned = core::plan_event(view(body), {fallback_time_ms});
  if (planned.statements.size() > kMaxStatements) throw std::logic_error("too many statements planned");

  auto* plan = static_cast<Plan*>(palloc_or_throw(sizeof(Plan)));
  plan->disposition = planned.disposition;
  plan->type = planned.type ? cstring_or_throw(*planned.type) : nullptr;
  plan->object_id = planned.object_id ? cstring_or_throw(*planned.object_id) : nullptr;
  std::optional<int64_t> event_time = planned.event_time_ms ? planned.event_time_ms : fallback_time_ms;
  plan->has_event_time = event_time.has_value();
  plan->event_time_ms = event_time.value_or(0);
  plan->error = planned.disposition == core::Disposition::invalid ? cstring_or_throw(planned.error) : nullptr;
  plan->nstatements = int(planned.statements.size());
  for (int i = 0; i < plan->nstatements; ++i) bind(planned.statements[i], plan->statements[i]);
  return plan;
}

bytea* decode_secret_to_bytea(Bytes secret) { return varlena_or_throw(core::decode_secret(view(secret))); }

char* sign_delivery(Bytes secret, Bytes id, int64 timestamp_seconds, Bytes body) {
  return cstring_or_throw(core::sign(core::decode_secret(view(secret)), view(id), timestamp_seconds, view(body)));
}

std::optional<int64_t> delivery_time_ms(Bytes timestamp_header) {
  int64_t seconds = 0;
  for (size_t i = 0; i < timestamp_header.size; ++i) {
    char c = timestamp_header.data[i];
    if (c < '0' || c > '9' || seconds > (INT64_MAX / 1000 - 9) / 10) return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return timestamp_header.size == 0 ? std::nullopt : std::optional<int64_t>(seconds * 1000);
}

// ---- Postgres side ----------------------------------------------------------

text* require_text_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("orgsync: %s must not be NULL", name)));
  }
  return PG_GETARG_TEXT_PP(n);
}

bool header_is(const JsonbValue& key, const char* name) {
  size_t length = strlen(name);
  return size_t(key.val.string.len) == length && pg_strncasecmp(key.val.string.val, name, length) == 0;
}

// Finds the delivery headers in a JSON object, names compared without case;
// svix-* is preferred to webhook-*. Absent or non-string values stay empty.
DeliveryHeaderValues find_delivery_headers(Jsonb* headers) {
  DeliveryHeaderValues svix{}, standard{};
  if (JB_ROOT_IS_OBJECT(headers)) {
    JsonbIterator* it = JsonbIteratorInit(&headers->root);
    JsonbValue key, value;
    JsonbIteratorToken token;
    while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE) {
      if (token != WJB_KEY) continue;
      JsonbIteratorNext(&it, &value, true);
      if (value.type != jbvString) continue;
      Bytes found{value.val.string.val, size_t(value.val.string.len)};
      if (header_is(key, "svix-id"))
        svix.id = found;
      else if (header_is(key, "svix-timestamp"))
        svix.timestamp = found;
      else if (header_is(key, "svix-signature"))
        svix.signature = found;
      else if (header_is(key, "webhook-id"))
        standard.id = found;
      else if (header_is(key, "webhook-timestamp"))
        standard.timestamp = found;
      else if (header_is(key, "webhook-signature"))
        standard.signature = found;
    }
  }
  if (svix.id.data == nullptr) svix.id = standard.id;
  if (svix.timestamp.data == nullptr) svix.timestamp = standard.timestamp;
  if (svix.signature.data == nullptr) svix.signature = standard.signature;
  return svix;
}

// Runs the merge and says what came of it; ignored and invalid plans run nothing.
const char* merge(RowAccess* access, const Plan* plan) {
  if (plan->disposition == core::Disposition::ignore) return "ignored";
  if (plan->disposition == core::Disposition::invalid) return "invalid";
  uint64 changed = 0;
  for (int i = 0; i < plan->nstatements; ++i) changed += apply_statement(access, plan->statements[i]);
  return changed > 0 ? "applied" : "stale";
}

void push_field(JsonbParseState** state, const char* name, const char* value) {
  if (value == nullptr) return;
  JsonbValue key, string;
  key.type = string.type = jbvString;
  key.val.string = {int(strlen(name)), const_cast<char*>(name)};
  string.val.string = {int(strlen(value)), const_cast<char*>(value)};
  pushJsonbValue(state, WJB_KEY, &key);
  pushJsonbValue(state, WJB_VALUE, &string);
}

// What came of one delivery. A refused one (not verified, unusable id) has
// status "rejected", a SQLSTATE and a message, and nothing of it is recorded:
// handle_event raises it, handle_events reports it and goes on.
struct Outcome {
  const char* status;
  const char* delivery_id;  // NULL when refused
  const Plan* plan;         // NULL when refused
  int sqlstate;             // 0 unless refused
  const char* reason;       // NULL unless refused: one word, the check that failed
  const char* error;        // NULL unless refused
};

Outcome refused(int sqlstate, const char* reason, const char* error) {
  return {"rejected", nullptr, nullptr, sqlstate, reason, error};
}

// {"status": ..., "delivery_id": ..., "type": ..., "object_id": ..., "error": ...},
// or for a refused delivery {"status": "rejected", "sqlstate": ..., "error": ...}
Datum result_jsonb(const Outcome& outcome) {
  JsonbParseState* state = nullptr;
  pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
  push_field(&state, "status", outcome.status);
  push_field(&state, "delivery_id", outcome.delivery_id);
  if (outcome.plan != nullptr) {
    push_field(&state, "type", outcome.plan->type);
    push_field(&state, "object_id", outcome.plan->object_id);
    push_field(&state, "error", outcome.plan->error);
  }
  if (outcome.sqlstate != 0) {
    push_field(&state, "sqlstate", unpack_sql_state(outcome.sqlstate));
    push_field(&state, "reason", outcome.reason);
    push_field(&state, "error", outcome.error);
  }
  return JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, nullptr)));
}

// Applies a delivery not seen before, then records it with its outcome, in
// the same transaction. Two copies in flight at once both get past the first
// check; the second's merge then finds the first's rows (waiting for its
// locks) and changes nothing, and its record waits for the first's
// transaction: a duplicate if that commits (record_delivery).
const char* apply_and_record(RowAccess* access, text* delivery_id, text* endpoint, text* body, const Plan* plan) {
  if (delivery_recorded(access, delivery_id)) return "duplicate";
  const char* status = merge(access, plan);
  Delivery delivery{delivery_id,
                    endpoint,
                    plan->type,
                    plan->object_id,
                    plan->has_event_time,
                    timestamp_from_unix_ms(plan->event_time_ms),
                    status,
                    plan->error,
                    body};
  return record_delivery(access, delivery) ? status : "duplicate";
}

// The endpoint's signing keys; an endpoint without any is a setup mistake
// that a retry can outlive, so it fails the whole call.
Keys require_endpoint_keys(text* endpoint) {
  Keys keys = endpoint_keys(endpoint);
  if (keys.count == 0) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("orgsync: no signing secret for endpoint \"%s\"", text_to_cstring(endpoint)),
                    errhint("Add one with SELECT orgsync.add_secret('whsec_...', '%s').", text_to_cstring(endpoint))));
  }
  return keys;
}

// Verifies, records and applies one delivery, with the endpoint's keys at hand.
Outcome process_delivery(RowAccess* access, Jsonb* headers_arg, text* body, text* endpoint, Keys keys) {
  DeliveryHeaderValues headers = find_delivery_headers(headers_arg);
  core::Verdict verdict =
      verify_delivery(headers, text_bytes(body), keys, unix_seconds_from_timestamp(GetCurrentTimestamp()));
  if (verdict != core::Verdict::verified) {
    return refused(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION, core::reason_word(verdict),
                   psprintf("orgsync: webhook delivery not verified: %s", core::describe(verdict)));
  }
  // Svix ids are ~30 bytes; a longer one could not be indexed in orgsync.events.
  if (headers.id.size > kMaxDeliveryIdLength) {
    return refused(ERRCODE_INVALID_PARAMETER_VALUE, "id_too_long",
                   psprintf("orgsync: delivery id is longer than %d bytes", kMaxDeliveryIdLength));
  }
  Plan* plan = plan_delivery(text_bytes(body), delivery_time_ms(headers.timestamp));
  text* delivery_id = cstring_to_text_with_len(headers.id.data, int(headers.id.size));
  const char* status = apply_and_record(access, delivery_id, endpoint, body, plan);
  return {status, text_to_cstring(delivery_id), plan, 0, nullptr, nullptr};
}

Datum handle_event(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("orgsync: headers must not be NULL")));
  }
  Jsonb* headers = PG_GETARG_JSONB_P(0);
  text* body = require_text_arg(fcinfo, 1, "body");
  text* endpoint = require_text_arg(fcinfo, 2, "endpoint");

  RowAccess* access = begin_row_access("orgsync.handle_event()");
  Outcome outcome = process_delivery(access, headers, body, endpoint, require_endpoint_keys(endpoint));
  if (outcome.sqlstate != 0) {
    ereport(ERROR, (errcode(outcome.sqlstate), errmsg("%s", outcome.error), errdetail_internal("%s", outcome.reason)));
  }
  end_row_access(access);
  PG_RETURN_DATUM(result_jsonb(outcome));
}

// The elements of a one-dimensional array argument; NULL elements stay NULL.
int array_arg(FunctionCallInfo fcinfo, int n, const char* name, Oid element_type, Datum** values, bool** nulls) {
  if (PG_ARGISNULL(n)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("orgsync: %s must not be NULL", name)));
  }
  ArrayType* array = PG_GETARG_ARRAYTYPE_P(n);
  if (ARR_NDIM(array) > 1) {
    ereport(ERROR,
            (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("orgsync: %s must be a one-dimensional array", name)));
  }
  int count;
  deconstruct_array(array, element_type, -1, false, TYPALIGN_INT, values, nulls, &count);
  return count;
}

// Many deliveries in one call and one transaction: what handle_event does for
// each, in order, with one result row each. A refused delivery gets a
// "rejected" row instead of failing the others.
Datum handle_events(FunctionCallInfo fcinfo) {
  Datum *headers, *bodies;
  bool *headers_null, *bodies_null;
  int count = array_arg(fcinfo, 0, "headers", JSONBOID, &headers, &headers_null);
  if (array_arg(fcinfo, 1, "bodies", TEXTOID, &bodies, &bodies_null) != count) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("orgsync: headers and bodies must have the same number of elements")));
  }
  text* endpoint = require_text_arg(fcinfo, 2, "endpoint");
  InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  // Two calls running at once could lock the same rows in opposite orders
  // and deadlock, so calls take turns. A turn ends with the call, before the
  // commit: a call that has run waits for nothing more, so the next one may
  // wait for its rows but never deadlock with it, and commits overlap. The
  // turn is a lock on the extension itself, which no other role can hold
  // (only its owner's ALTER, COMMENT ON or DROP EXTENSION take it), where an
  // advisory lock would be any role's to take and keep.
  Oid extension = get_extension_oid("orgsync", false);
  LockDatabaseObject(ExtensionRelationId, extension, 0, ExclusiveLock);

  RowAccess* access = begin_row_access("orgsync.handle_events()");
  MemoryContext per_delivery = AllocSetContextCreate(CurrentMemoryContext, "orgsync delivery", ALLOCSET_DEFAULT_SIZES);
  // Keys are looked up again for each delivery: a cached list is only valid
  // until the next call that can process invalidations (keys.hpp).
  for (int i = 0; i < count; ++i) {
    MemoryContext outer = MemoryContextSwitchTo(per_delivery);
    Outcome outcome =
        headers_null[i] || bodies_null[i]
            ? refused(ERRCODE_NULL_VALUE_NOT_ALLOWED, "null_delivery", "orgsync: headers and body must not be NULL")
            : process_delivery(access, DatumGetJsonbP(headers[i]), DatumGetTextPP(bodies[i]), endpoint,
                               require_endpoint_keys(endpoint));
    Datum result = result_jsonb(outcome);
    bool result_null = false;
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &result, &result_null);
    MemoryContextSwitchTo(outer);
    MemoryContextReset(per_delivery);
  }
  end_row_access(access);
  UnlockDatabaseObject(ExtensionRelationId, extension, 0, ExclusiveLock);
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
  RowAccess* access = begin_row_access("orgsync.apply_event()");
  const char* status = merge(access, plan);
  end_row_access(access);
  PG_RETURN_DATUM(result_jsonb({status, nullptr, plan, 0, nullptr, nullptr}));
}

// Applies a stored delivery again (after an `invalid` one was fixed, say).
Datum replay(FunctionCallInfo fcinfo) {
  text* delivery_id = require_text_arg(fcinfo, 0, "delivery_id");
  RowAccess* access = begin_row_access("orgsync.replay()");
  RecordedDelivery recorded;
  if (!load_delivery(access, delivery_id, &recorded)) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("orgsync: no delivery with id \"%s\"", text_to_cstring(delivery_id))));
  }
  std::optional<int64_t> fallback;
  if (recorded.has_event_time) fallback = unix_seconds_from_timestamp(recorded.event_time) * 1000;

  Plan* plan = plan_delivery(text_bytes(recorded.payload), fallback);
  const char* status = merge(access, plan);
  // Replaying what was already applied finds it stale; keep the record of it.
  if (!(strcmp(recorded.status, "applied") == 0 && strcmp(status, "stale") == 0)) {
    set_delivery_status(access, delivery_id, status, plan->error);
  }
  end_row_access(access);
  PG_RETURN_DATUM(result_jsonb({status, text_to_cstring(delivery_id), plan, 0, nullptr, nullptr}));
}

// A delivery's time in Unix seconds; deliveries happen after 1970, not at infinity.
int64 delivery_seconds(TimestampTz at) {
  int64 seconds = TIMESTAMP_NOT_FINITE(at) ? -1 : unix_seconds_from_timestamp(at);
  if (seconds < 0) {
    ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                    errmsg("orgsync: a delivery time must be finite and after 1970")));
  }
  return seconds;
}

Datum verify(FunctionCallInfo fcinfo) {
  DeliveryHeaderValues headers = find_delivery_headers(PG_GETARG_JSONB_P(0));
  Bytes body = text_bytes(PG_GETARG_TEXT_PP(1));
  Bytes secret = text_bytes(PG_GETARG_TEXT_PP(2));
  int64 at = delivery_seconds(PG_GETARG_TIMESTAMPTZ(3));
  PG_RETURN_BOOL(verify_with_secret(headers, body, secret, at));
}

Datum sign(FunctionCallInfo fcinfo) {
  Bytes secret = text_bytes(PG_GETARG_TEXT_PP(0));
  char* id = text_to_cstring(PG_GETARG_TEXT_PP(1));
  Bytes body = text_bytes(PG_GETARG_TEXT_PP(2));
  int64 at = delivery_seconds(PG_GETARG_TIMESTAMPTZ(3));
  char* signature = sign_delivery(secret, {id, strlen(id)}, at, body);

  StringInfoData json;
  initStringInfo(&json);
  appendStringInfoString(&json, "{\"svix-id\":");
  escape_json(&json, id);
  appendStringInfo(&json, ",\"svix-timestamp\":\"" INT64_FORMAT "\",\"svix-signature\":", at);
  escape_json(&json, signature);
  appendStringInfoChar(&json, '}');
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data)));
}

Datum secret_key(FunctionCallInfo fcinfo) {
  PG_RETURN_BYTEA_P(decode_secret_to_bytea(text_bytes(require_text_arg(fcinfo, 0, "secret"))));
}

}  // namespace
}  // namespace orgsync::pg

ORGSYNC_FUNCTION(orgsync_handle_event, orgsync::pg::handle_event)
ORGSYNC_FUNCTION(orgsync_handle_events, orgsync::pg::handle_events)
ORGSYNC_FUNCTION(orgsync_apply_event, orgsync::pg::apply_event)
ORGSYNC_FUNCTION(orgsync_replay, orgsync::pg::replay)
ORGSYNC_FUNCTION(orgsync_verify, orgsync::pg::verify)
ORGSYNC_FUNCTION(orgsync_sign, orgsync::pg::sign)
ORGSYNC_FUNCTION(orgsync_secret_key, orgsync::pg::secret_key)

void _PG_init(void) {
  DefineCustomIntVariable(
      "orgsync.timestamp_tolerance", "How far a delivery's signed timestamp may be from now, in seconds.",
      "Deliveries outside this window are rejected as replays.", &orgsync::pg::timestamp_tolerance_seconds, 300, 0,
      INT_MAX, PGC_SUSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("orgsync");
  orgsync::pg::register_key_cache_invalidation();
  orgsync::pg::register_row_access_callbacks();
}
