// The sweep's question to Clerk: is a candidate (a live row the run's
// listing did not contain) really gone? Asked directly of each object, never
// inferred from a listing that may have skipped it.
#pragma once

#include <cstddef>

#include "backfill_kinds.hpp"
#include "backfill_store.hpp"
#include "clerk_api.hpp"

namespace relay::backfill {

enum class Presence {
  alive,    // Clerk has it: never tombstoned
  gone,     // Clerk says so: 404, or absent from its organization's memberships or domains
  unknown,  // the row lacks what the question needs (a membership without its user)
};

// Throws clerk::Unavailable for an answer that says neither.
Presence ask_clerk(clerk::Api& api, const KindInfo& kind, const Candidate& candidate, size_t page_size);

const char* presence_name(Presence presence);

}  // namespace relay::backfill
