// One signed delivery, as every webhook entry point handles it: checked
// (signature, timestamp, id), then planned, merged and recorded in the
// caller's transaction, and answered with a small JSON object.
#pragma once

#include <cstdint>
#include <optional>

#include "core/plan.hpp"
#include "pg/bound_writes.hpp"
#include "pg/keys.hpp"
#include "pg/postgres.hpp"
#include "pg/row_access.hpp"

namespace orgsync::pg {

// The replay window, orgsync.timestamp_tolerance (seconds).
extern int timestamp_tolerance_seconds;

// The delivery headers found in a JSON object of headers, names compared
// without case; svix-* is preferred to webhook-*. Absent ones stay empty.
struct DeliveryHeaders {
  Bytes id, timestamp, signature;
};
DeliveryHeaders find_delivery_headers(Jsonb* headers);

// core::EventPlan, copied into palloc'd memory (C++ side: throws, never raises).
struct Plan {
  core::Disposition disposition;
  const char* type;       // NULL when unknown
  const char* object_id;  // NULL when unknown
  bool has_event_time;
  int64 event_time_ms;
  const char* error;  // NULL unless invalid
  BoundWrites writes;
};
Plan* plan_delivery(Bytes body, std::optional<int64_t> delivery_time_ms);

// Carries out a plan's writes; says what came of them: "applied", "stale",
// "ignored" or "invalid" (the last two write nothing).
const char* merge_plan(RowAccess* access, const Plan* plan);

// What came of one delivery. A refused one (not verified, unusable id) has
// status "rejected", a SQLSTATE, the check that failed as one word, and a
// message; nothing of it is recorded.
struct Outcome {
  const char* status;
  const char* delivery_id;  // NULL when refused
  const Plan* plan;         // NULL when refused
  int sqlstate;             // 0 unless refused
  const char* reason;       // NULL unless refused
  const char* error;        // NULL unless refused
};

// {"status", "delivery_id", "type", "object_id", "error"}, or for a refused
// delivery {"status": "rejected", "sqlstate", "reason", "error"}.
Datum result_jsonb(const Outcome& outcome);

// A delivery that passed its checks, ready to apply.
struct CheckedDelivery {
  text* id;
  std::optional<int64_t> delivery_time_ms;  // the signed timestamp
};

// Verifies the delivery against the endpoint's keys. On failure, returns
// false and sets *refusal; CPU only (no lock, no table read).
bool check_delivery(Jsonb* headers, text* body, Keys keys, CheckedDelivery* checked, Outcome* refusal);

// Plans, merges and records a checked delivery not seen before; a
// duplicate changes nothing.
Outcome apply_delivery(RowAccess* access, const CheckedDelivery& delivery, text* endpoint, text* body);

// The endpoint's signing keys; none is a setup mistake that a retry can
// outlive (55000).
Keys require_endpoint_keys(text* endpoint);

}  // namespace orgsync::pg
