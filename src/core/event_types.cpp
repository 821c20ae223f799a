#include "core/event_types.hpp"

#include <iterator>

namespace orgsync::core {
namespace {

using K = ObjectKind;
using A = Action;

constexpr EventType kEventTypes[] = {
    {"organization.created", K::organization, A::upsert},
    {"organization.updated", K::organization, A::upsert},
    {"organization.deleted", K::organization, A::removal},
    {"user.created", K::user, A::upsert},
    {"user.updated", K::user, A::upsert},
    {"user.deleted", K::user, A::removal},
    {"organizationMembership.created", K::membership, A::upsert},
    {"organizationMembership.updated", K::membership, A::upsert},
    {"organizationMembership.deleted", K::membership, A::removal},
    {"organizationInvitation.created", K::invitation, A::upsert},
    {"organizationInvitation.accepted", K::invitation, A::upsert},
    {"organizationInvitation.revoked", K::invitation, A::upsert},
    {"organizationDomain.created", K::domain, A::upsert},
    {"organizationDomain.updated", K::domain, A::upsert},
    {"organizationDomain.deleted", K::domain, A::removal},
    {"role.created", K::role, A::upsert},
    {"role.updated", K::role, A::upsert},
    {"role.deleted", K::role, A::removal},
    {"permission.created", K::permission, A::upsert},
    {"permission.updated", K::permission, A::upsert},
    {"permission.deleted", K::permission, A::removal},
};

constexpr const char* kPluralNames[] = {"organizations", "users", "memberships", "invitations",
                                        "domains",       "roles", "permissions"};
static_assert(sizeof(kPluralNames) / sizeof(*kPluralNames) == kObjectKinds, "a name for every kind");

}  // namespace

const EventType* find_event_type(std::string_view name) {
  for (const EventType& type : kEventTypes) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

EventTypeList event_types() { return {std::begin(kEventTypes), std::end(kEventTypes)}; }

std::optional<ObjectKind> kind_named(std::string_view plural) {
  for (int k = 0; k < kObjectKinds; ++k) {
    if (plural == kPluralNames[k]) return ObjectKind(k);
  }
  return std::nullopt;
}

const char* plural_name(ObjectKind kind) { return kPluralNames[int(kind)]; }

}  // namespace orgsync::core
