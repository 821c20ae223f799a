// The kinds of Clerk objects a backfill reads, in the order it reads them:
// each one's name in orgsync (backfill_page's `kind`) and where Clerk lists it.
#pragma once

#include <array>

namespace relay::backfill {

enum class Kind { organizations, users, memberships, invitations, domains, roles, permissions };

struct KindInfo {
  Kind kind;
  const char* name;
  // The instance-wide listing, oldest first (`+created_at`, the `+` encoded):
  // objects created while it is read come after the place it has reached.
  const char* listing;
  bool swept;  // invitations are not: Clerk ends them by status, never deletes them
};

inline constexpr std::array<KindInfo, 7> kKinds = {{
    {Kind::organizations, "organizations", "/organizations?include_members_count=true&order_by=%2Bcreated_at", true},
    {Kind::users, "users", "/users?order_by=%2Bcreated_at", true},
    {Kind::memberships, "memberships", "/organization_memberships?order_by=%2Bcreated_at", true},
    {Kind::invitations, "invitations", "/organization_invitations?order_by=%2Bcreated_at", false},
    {Kind::domains, "domains", "/organization_domains?order_by=%2Bcreated_at", true},
    {Kind::roles, "roles", "/organization_roles?order_by=%2Bcreated_at", true},
    {Kind::permissions, "permissions", "/organization_permissions?order_by=%2Bcreated_at", true},
}};

}  // namespace relay::backfill
