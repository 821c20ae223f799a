#include "pg/delivery.hpp"

#include <string_view>
#include <vector>

#include "core/signature.hpp"
#include "core/time.hpp"
#include "pg/change_feed.hpp"
#include "pg/delivery_log.hpp"
#include "pg/merge.hpp"
#include "pg/pg_memory.hpp"
#include "pg/sql_args.hpp"
#include "pg/times.hpp"

namespace orgsync::pg {

int timestamp_tolerance_seconds = 300;

namespace {

// Svix ids are about 30 bytes; a longer one could not be indexed in orgsync.events.
constexpr int kMaxDeliveryIdLength = 256;

std::string_view view(Bytes bytes) { return {bytes.data, bytes.size}; }

// ---- C++ side --------------------------------------------------------------

core::Verdict verify(const DeliveryHeaders& headers, Bytes body, Keys keys, int64 now_seconds, int* matched_key) {
  std::vector<core::SigningKey> signing_keys;
  signing_keys.reserve(keys.count);
  for (int i = 0; i < keys.count; ++i) signing_keys.emplace_back(view(keys.keys[i]));
  size_t matched = 0;
  core::Verdict verdict = core::verify({view(headers.id), view(headers.timestamp), view(headers.signature)}, view(body),
                                       signing_keys, now_seconds, timestamp_tolerance_seconds, &matched);
  *matched_key = int(matched);
  return verdict;
}

std::optional<int64_t> delivery_time_ms(Bytes timestamp_header) {
  auto seconds = core::parse_unix_seconds(view(timestamp_header));
  return seconds ? std::optional<int64_t>(*seconds * 1000) : std::nullopt;
}

// ---- Postgres side ----------------------------------------------------------

bool header_is(const JsonbValue& key, const char* name) {
  size_t length = strlen(name);
  return size_t(key.val.string.len) == length && pg_strncasecmp(key.val.string.val, name, length) == 0;
}

}  // namespace

DeliveryHeaders find_delivery_headers(Jsonb* headers) {
  DeliveryHeaders svix{}, standard{};
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

namespace {

void push_field(JsonbParseState** state, const char* name, const char* value) {
  if (value == nullptr) return;
  JsonbValue key, string;
  key.type = string.type = jbvString;
  key.val.string = {int(strlen(name)), const_cast<char*>(name)};
  string.val.string = {int(strlen(value)), const_cast<char*>(value)};
  pushJsonbValue(state, WJB_KEY, &key);
  pushJsonbValue(state, WJB_VALUE, &string);
}

Outcome refused(int sqlstate, const char* reason, const char* error) {
  return {"rejected", nullptr, nullptr, sqlstate, reason, error};
}

}  // namespace

Plan* plan_delivery(Bytes body, std::optional<int64_t> delivery_time_ms) {
  core::EventPlan planned = core::plan_event(view(body), {delivery_time_ms});
  auto* plan = static_cast<Plan*>(palloc_or_throw(sizeof(Plan)));
  plan->disposition = planned.disposition;
  plan->type = planned.type ? cstring_or_throw(*planned.type) : nullptr;
  plan->object_id = planned.object_id ? cstring_or_throw(*planned.object_id) : nullptr;
  std::optional<int64_t> event_time = planned.event_time_ms ? planned.event_time_ms : delivery_time_ms;
  plan->has_event_time = event_time.has_value();
  plan->event_time_ms = event_time.value_or(0);
  plan->error = planned.disposition == core::Disposition::invalid ? cstring_or_throw(planned.error) : nullptr;
  plan->writes = bind_writes(planned.writes);
  return plan;
}

const char* merge_plan(RowAccess* access, const Plan* plan) {
  if (plan->disposition == core::Disposition::ignore) return "ignored";
  if (plan->disposition == core::Disposition::invalid) return "invalid";
  return apply_writes(access, plan->writes) > 0 ? "applied" : "stale";
}

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

bool check_delivery(Jsonb* headers_arg, text* body, Keys keys, CheckedDelivery* checked, Outcome* refusal) {
  DeliveryHeaders headers = find_delivery_headers(headers_arg);
  int matched_key;
  core::Verdict verdict =
      verify(headers, text_bytes(body), keys, unix_seconds_from_timestamp(GetCurrentTimestamp()), &matched_key);
  if (verdict != core::Verdict::verified) {
    *refusal = refused(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION, core::reason_word(verdict),
                       psprintf("orgsync: webhook delivery not verified: %s", core::describe(verdict)));
    return false;
  }
  if (headers.id.size > kMaxDeliveryIdLength) {
    *refusal = refused(ERRCODE_INVALID_PARAMETER_VALUE, "id_too_long",
                       psprintf("orgsync: delivery id is longer than %d bytes", kMaxDeliveryIdLength));
    return false;
  }
  checked->id = cstring_to_text_with_len(headers.id.data, int(headers.id.size));
  checked->delivery_time_ms = delivery_time_ms(headers.timestamp);
  checked->key_fingerprint = pstrdup(keys.fingerprints[matched_key]);
  return true;
}

// Two copies in flight at once both get past the first check; the second's
// merge then finds the first's rows (waiting for its locks) and changes
// nothing, and its record waits for the first's transaction: a duplicate if
// that commits (record_delivery).
Outcome apply_delivery(RowAccess* access, const CheckedDelivery& delivery, text* endpoint, text* body) {
  const char* delivery_id = text_to_cstring(delivery.id);
  Plan* plan = plan_delivery(text_bytes(body), delivery.delivery_time_ms);
  if (delivery_recorded(access, delivery.id)) return {"duplicate", delivery_id, plan, 0, nullptr, nullptr};
  set_change_origin(plan->type, delivery_id);
  const char* status = merge_plan(access, plan);
  Delivery record{delivery.id,
                  endpoint,
                  plan->type,
                  plan->object_id,
                  plan->has_event_time,
                  timestamp_from_unix_ms(plan->event_time_ms),
                  status,
                  plan->error,
                  body};
  if (!record_delivery(access, record)) status = "duplicate";
  return {status, delivery_id, plan, 0, nullptr, nullptr};
}

Keys require_endpoint_keys(text* endpoint) {
  Keys keys = endpoint_keys(endpoint);
  if (keys.count == 0) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("orgsync: no signing secret for endpoint \"%s\"", text_to_cstring(endpoint)),
                    errdetail_internal("unknown_endpoint"),
                    errhint("Add one with SELECT orgsync.add_secret('whsec_...', '%s').", text_to_cstring(endpoint))));
  }
  return keys;
}

}  // namespace orgsync::pg
