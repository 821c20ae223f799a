// Row access to orgsync's own tables without the SQL executor: a keyed
// lookup that locks the row, an insert that yields to a concurrent one, and
// an update. Each is what INSERT ... ON CONFLICT or UPDATE does for one row
// (Postgres' own speculative insertion, index maintenance, constraints, row
// triggers), without parsing, planning, or starting and ending an executor
// for each statement. Statement-level triggers do not fire, as under logical
// replication. Postgres side only: everything here can raise.
#pragma once

#include "pg/postgres.hpp"

namespace orgsync::pg {

enum class Table { organizations, users, memberships, invitations, events };
constexpr int kTables = 5;

// Every column orgsync reads or writes, by name; each table has some of them.
enum class Column {
  id,
  name,
  slug,
  image_url,
  created_by,
  max_allowed_memberships,
  primary_email,
  first_name,
  last_name,
  username,
  external_id,
  organization_id,
  user_id,
  role,
  permissions,
  email_address,
  status,
  expires_at,
  public_metadata,
  private_metadata,
  created_at,
  updated_at,
  deleted_at,
  data,
  source,
  sync_version,
  endpoint,
  type,
  error,
  object_id,
  event_time,
  received_at,
  payload,
};
constexpr int kColumns = int(Column::payload) + 1;

struct RowAccess;

// Brackets one SQL-callable call's row access (`function` names it when a
// read-only transaction refuses it); end_row_access fires the
// AFTER ROW triggers it queued. The tables it opens stay open for the next
// call in the same (sub)transaction, until that commits or aborts, or a
// utility statement runs.
RowAccess* begin_row_access(const char* function);
void end_row_access(RowAccess* access);

// The row whose primary key is `id`, or NULL. With `lock`, the row is locked
// as SELECT ... FOR NO KEY UPDATE would, after waiting for whoever writes it.
// Valid until the next call on the same table.
TupleTableSlot* find_row(RowAccess* access, Table table, Datum id, bool lock);

// The ids of the rows whose `column` equals `value` and whose deleted_at is
// NULL or later than `at`, as the latest snapshot shows them: read through
// an index that leads with `column`, never a plan. Sorted bytewise, the order
// in which callers lock them. Palloc'd; sets *count.
Datum* find_live_ids(RowAccess* access, Table table, Column column, Datum value, TimestampTz at, int* count);

// A row to write: cleared for insert_row, or a copy of `found` for
// update_row. Valid until the next call on the same table.
TupleTableSlot* new_row(RowAccess* access, Table table);
TupleTableSlot* changed_row(RowAccess* access, Table table, TupleTableSlot* found);

// Inserts the row; columns never set take their defaults. Returns false, and
// inserts nothing, if a row with its key exists (or appeared meanwhile).
bool insert_row(RowAccess* access, Table table, TupleTableSlot* row);
void update_row(RowAccess* access, Table table, TupleTableSlot* found, TupleTableSlot* row);

// Column values of a slot from the functions above.
void set_column(RowAccess* access, Table table, TupleTableSlot* row, Column column, Datum value, bool isnull);
Datum get_column(RowAccess* access, Table table, TupleTableSlot* row, Column column, bool* isnull);

// A column's type input function (text -> value), as a SQL cast would call it.
Datum parse_column(RowAccess* access, Table table, Column column, char* text);
Oid column_type(RowAccess* access, Table table, Column column);

// From _PG_init: catalog invalidation, and the end of kept accesses.
void register_row_access_callbacks();

}  // namespace orgsync::pg
