// A signed delivery's body, or a page of a Backend API listing, turned into
// the writes that merge it into the mirror. Pure: no I/O, no Postgres.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_types.hpp"
#include "core/writes.hpp"

namespace orgsync::core {

enum class Disposition {
  apply,    // an event type orgsync applies: carry out `writes`
  ignore,   // an event type orgsync does not apply
  invalid,  // signed but unusable; `error` says why
};

struct EventPlan {
  Disposition disposition = Disposition::invalid;
  std::optional<std::string> type;
  std::optional<std::string> object_id;
  std::optional<int64_t> event_time_ms;  // the envelope's `timestamp`, when usable
  std::string error;
  std::vector<Write> writes;
};

// The delivery's own signed time stands in for an event without a
// `timestamp`: as the deletion time, and as the event time of versions.
struct PlanOptions {
  std::optional<int64_t> delivery_time_ms;
};

// Never throws for bad input: a body that cannot be applied exactly yields
// Disposition::invalid with the reason (a field of the wrong type, a time out
// of range, a required field missing: each named by its path).
EventPlan plan_event(std::string_view body, const PlanOptions& options = {});

// A page of a Backend API listing of one kind: a JSON array of objects, or
// an object with such an array in `data` (Clerk's {data, total_count}).
struct ListedObject {
  std::string id;
  std::vector<Write> writes;
};
struct ListingPlan {
  std::vector<ListedObject> objects;  // in page order
};

// Throws InvalidPayload naming the first object that cannot be used
// ("data[3].id: missing, expected string"): a page is applied whole or not at
// all, so that a backfill never skips an object silently.
ListingPlan plan_listing(ObjectKind kind, std::string_view page);

// The deletion of an object known only by its id, as its deletion event
// would apply it (a backfill's sweep, once Clerk says the object is gone).
// Throws InvalidPayload for an id no object could have (empty, too long).
std::vector<Write> plan_deletion(ObjectKind kind, const std::string& id, int64_t deleted_at_ms);

}  // namespace orgsync::core
