#include "core/tables.hpp"

#include <cstddef>

namespace orgsync::core {
namespace {

constexpr const char* kTableNames[] = {"organizations", "users", "memberships", "invitations",
                                       "domains",       "roles", "permissions", "events"};
static_assert(sizeof(kTableNames) / sizeof(*kTableNames) == kTables, "a name for every Table");

constexpr const char* kColumnNames[] = {
    "id",
    "name",
    "slug",
    "image_url",
    "created_by",
    "max_allowed_memberships",
    "primary_email",
    "primary_phone",
    "first_name",
    "last_name",
    "username",
    "external_id",
    "banned",
    "locked",
    "last_sign_in_at",
    "organization_id",
    "user_id",
    "role",
    "role_name",
    "permissions",
    "email_address",
    "status",
    "inviter_id",
    "expires_at",
    "enrollment_mode",
    "verification_status",
    "affiliation_email_address",
    "total_pending_invitations",
    "total_pending_suggestions",
    "key",
    "description",
    "is_creator_eligible",
    "type",
    "created_at",
    "updated_at",
    "public_metadata",
    "private_metadata",
    "deleted_at",
    "data",
    "source",
    "sync_version",
    "endpoint",
    "error",
    "object_id",
    "event_time",
    "received_at",
    "payload",
};
static_assert(sizeof(kColumnNames) / sizeof(*kColumnNames) == kColumns, "a name for every Column");

}  // namespace

const char* table_name(Table table) { return kTableNames[int(table)]; }
const char* column_name(Column column) { return kColumnNames[int(column)]; }

ValueType value_type(Column column) {
  using C = Column;
  switch (column) {
    case C::max_allowed_memberships:
    case C::total_pending_invitations:
    case C::total_pending_suggestions: return ValueType::int32;
    case C::banned:
    case C::locked:
    case C::is_creator_eligible: return ValueType::boolean;
    case C::last_sign_in_at:
    case C::expires_at:
    case C::created_at:
    case C::updated_at:
    case C::deleted_at:
    case C::event_time:
    case C::received_at: return ValueType::time_ms;
    case C::permissions: return ValueType::text_array;
    case C::public_metadata:
    case C::private_metadata:
    case C::data: return ValueType::json;
    default: return ValueType::text;
  }
}

namespace {

using C = Column;
constexpr Column kOrganizationColumns[] = {
    C::name, C::slug, C::image_url, C::created_by, C::max_allowed_memberships, C::created_at, C::updated_at};
constexpr Column kUserColumns[] = {C::primary_email, C::primary_phone,   C::first_name,  C::last_name,
                                   C::username,      C::image_url,       C::external_id, C::banned,
                                   C::locked,        C::last_sign_in_at, C::created_at,  C::updated_at};
constexpr Column kMembershipColumns[] = {C::organization_id, C::user_id,    C::role,      C::role_name,
                                         C::permissions,     C::created_at, C::updated_at};
constexpr Column kInvitationColumns[] = {C::organization_id, C::email_address, C::role,    C::role_name,
                                         C::status,          C::inviter_id,    C::user_id, C::created_at,
                                         C::updated_at,      C::expires_at};
constexpr Column kDomainColumns[] = {C::organization_id,
                                     C::name,
                                     C::enrollment_mode,
                                     C::verification_status,
                                     C::affiliation_email_address,
                                     C::total_pending_invitations,
                                     C::total_pending_suggestions,
                                     C::created_at,
                                     C::updated_at};
constexpr Column kRoleColumns[] = {C::key,         C::name,       C::description, C::is_creator_eligible,
                                   C::permissions, C::created_at, C::updated_at};
constexpr Column kPermissionColumns[] = {C::key, C::name, C::description, C::type, C::created_at, C::updated_at};

template <size_t N>
ColumnList list(const Column (&columns)[N]) {
  return {columns, columns + N};
}

}  // namespace

ColumnList object_columns(Table table) {
  switch (table) {
    case Table::organizations: return list(kOrganizationColumns);
    case Table::users: return list(kUserColumns);
    case Table::memberships: return list(kMembershipColumns);
    case Table::invitations: return list(kInvitationColumns);
    case Table::domains: return list(kDomainColumns);
    case Table::roles: return list(kRoleColumns);
    case Table::permissions: return list(kPermissionColumns);
    case Table::events: break;
  }
  return {nullptr, nullptr};
}

bool has_source(Table table) {
  return table == Table::organizations || table == Table::users || table == Table::domains || table == Table::roles ||
         table == Table::permissions;
}

bool has_metadata(Table table) {
  return table == Table::organizations || table == Table::users || table == Table::memberships ||
         table == Table::invitations;
}

}  // namespace orgsync::core
