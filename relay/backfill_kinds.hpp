// The kinds of Clerk objects a backfill reads, in the order it reads them:
// where Clerk lists each; its name is the extension's (backfill_page's `kind`).
#pragma once

#include <array>

#include "core/event_types.hpp"

namespace relay::backfill {

using Kind = orgsync::core::ObjectKind;

struct KindInfo {
  Kind kind;
  // The instance-wide listing, oldest first (`+created_at`, the `+` encoded):
  // objects created while it is read come after the place it has reached.
  const char* listing;
  bool swept;  // invitations are not: Clerk ends them by status, never deletes them
  const char* name() const { return orgsync::core::plural_name(kind); }
};

inline constexpr std::array<KindInfo, 7> kKinds = {{
    {Kind::organization, "/organizations?include_members_count=true&order_by=%2Bcreated_at", true},
    {Kind::user, "/users?order_by=%2Bcreated_at", true},
    {Kind::membership, "/organization_memberships?order_by=%2Bcreated_at", true},
    {Kind::invitation, "/organization_invitations?order_by=%2Bcreated_at", false},
    {Kind::domain, "/organization_domains?order_by=%2Bcreated_at", true},
    {Kind::role, "/organization_roles?order_by=%2Bcreated_at", true},
    {Kind::permission, "/organization_permissions?order_by=%2Bcreated_at", true},
}};

}  // namespace relay::backfill
