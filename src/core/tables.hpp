// orgsync's tables and columns, by name: the one list that the core's writes
// (writes.hpp) and the Postgres layer's row access (pg/rows.hpp) share.
#pragma once

#include <cstdint>

namespace orgsync::core {

// The mirror tables, in the order every writer locks their rows, then the
// deliveries log.
enum class Table : uint8_t { organizations, users, memberships, invitations, domains, roles, permissions, events };
constexpr int kTables = int(Table::events) + 1;

enum class Column : uint8_t {
  // columns of Clerk objects
  id,
  name,
  slug,
  image_url,
  created_by,
  max_allowed_memberships,
  primary_email,
  primary_phone,
  first_name,
  last_name,
  username,
  external_id,
  banned,
  locked,
  last_sign_in_at,
  organization_id,
  user_id,
  role,
  role_name,
  permissions,
  email_address,
  status,
  inviter_id,
  expires_at,
  enrollment_mode,
  verification_status,
  affiliation_email_address,
  total_pending_invitations,
  total_pending_suggestions,
  key,
  description,
  is_creator_eligible,
  type,
  created_at,
  updated_at,
  // kept by the merge
  public_metadata,
  private_metadata,
  deleted_at,
  data,
  source,
  sync_version,
  // the deliveries log
  endpoint,
  error,
  object_id,
  event_time,
  received_at,
  payload,
};
constexpr int kColumns = int(Column::payload) + 1;

const char* table_name(Table table);
const char* column_name(Column column);

// How the core hands a column's value over; the Postgres layer checks that
// the column's type is the one this implies (text, integer, boolean,
// timestamptz, jsonb, text[]).
enum class ValueType : uint8_t { text, int32, boolean, time_ms, json, text_array };
ValueType value_type(Column column);

// The columns an object's upsert sets on the row of `table`; those it does not
// give a value become NULL, since a newer version replaces the whole row.
struct ColumnList {
  const Column* first;
  const Column* last;
  const Column* begin() const { return first; }
  const Column* end() const { return last; }
};
ColumnList object_columns(Table table);

// Whether rows of `table` have a `source` (a table whose rows can be created
// from a snapshot or a deletion alone) and the metadata columns, which the
// merge copies from `data`.
bool has_source(Table table);
bool has_metadata(Table table);

}  // namespace orgsync::core
