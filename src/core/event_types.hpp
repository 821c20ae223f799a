// The Clerk event types orgsync applies, and the kinds of object they carry:
// the one list. Any other type (session.*, email.*, a type Clerk adds later)
// is recorded and answered `ignored`.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace orgsync::core {

enum class ObjectKind : uint8_t { organization, user, membership, invitation, domain, role, permission };
constexpr int kObjectKinds = int(ObjectKind::permission) + 1;

enum class Action : uint8_t {
  upsert,   // `data` is the object as it now is
  removal,  // `data` says the object is deleted (an organizationMembership.deleted carries the whole membership)
};

struct EventType {
  std::string_view name;
  ObjectKind kind;
  Action action;
};

// The entry for `name`, or null for a type orgsync does not apply.
const EventType* find_event_type(std::string_view name);

// All of them, in the order of the docs' event catalog.
struct EventTypeList {
  const EventType* first;
  const EventType* last;
  const EventType* begin() const { return first; }
  const EventType* end() const { return last; }
};
EventTypeList event_types();

// A kind by the plural name the backfill and its SQL entry point use
// ("organizations", "users", "memberships", "invitations", "domains",
// "roles", "permissions"), and back.
std::optional<ObjectKind> kind_named(std::string_view plural);
const char* plural_name(ObjectKind kind);

}  // namespace orgsync::core
