// Each kind of Clerk object read into the writes that merge it: the row of
// its own, the placeholders of the rows it refers to (an organization and a
// user for a membership), and for a deletion the tombstone and the rows it
// ends. Webhook payloads and Backend API listings describe objects with the
// same schema, and both come through here.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/event_types.hpp"
#include "core/fields.hpp"
#include "core/writes.hpp"

namespace orgsync::core {

// Where a copy of an object comes from: a delivery has an event time (the
// envelope's `timestamp`, else the signed delivery time); a Backend API
// listing has none.
struct Origin {
  std::optional<int64_t> event_time_ms;
};

// The table that holds objects of `kind`.
Table table_of(ObjectKind kind);

// An object as it now is, appended to `writes` in the order every writer
// locks rows (organization, user, then the object's own row).
void plan_object(ObjectKind kind, const Fields& object, const Origin& origin, std::vector<Write>& writes);

// The deletion of an object by its id: its tombstone, and the rows it ends.
// A membership not known yet is not remembered (its row needs its
// organization); any other object's deletion leaves a tombstone row.
void plan_deletion_by_id(ObjectKind kind, const std::string& id, int64_t deleted_at_ms, std::vector<Write>& writes);

// A deletion event's `data`, deleted at `deleted_at_ms`.
void plan_removal(ObjectKind kind, const Fields& data, int64_t deleted_at_ms, const Origin& origin,
                  std::vector<Write>& writes);

// Two copies of the same version of a row (Version::same_version_as): the
// stored one's `data` and an incoming upsert. Returns the upsert of their
// join (json::join), so that neither copy erases what only the other
// carried, with the later event time of the two and the digest of the
// joined data. Nothing when the stored copy cannot be read (a row written by
// an older, laxer orgsync): the incoming copy then replaces it.
std::optional<Upsert> rejoin(const Upsert& incoming, std::string_view stored_data, const Version& stored);

}  // namespace orgsync::core
