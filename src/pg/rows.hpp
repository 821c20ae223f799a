// Row access to orgsync's own tables without the SQL executor: a keyed
// lookup that locks the row, an insert that yields to a concurrent one, and
// an update. Each is what INSERT ... ON CONFLICT or UPDATE does for one row
// (Postgres' own speculative insertion, index maintenance, constraints, row
// triggers), without parsing, planning, or starting and ending an executor
// for each statement. Statement-level triggers do not fire, as under logical
// replication. Postgres side only: everything here can raise.
#pragma once

#include "core/tables.hpp"
#include "pg/postgres.hpp"
#include "pg/row_access.hpp"

namespace orgsync::pg {

using core::Column;
using core::Table;

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

// Column values of a slot from the functions above. A value of 256 bytes or
// more is stored compressed with its column's method, if it shrinks.
void set_column(RowAccess* access, Table table, TupleTableSlot* row, Column column, Datum value, bool isnull);
Datum get_column(RowAccess* access, Table table, TupleTableSlot* row, Column column, bool* isnull);

}  // namespace orgsync::pg
