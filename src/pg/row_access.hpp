// Brackets one SQL-callable call's access to orgsync's tables (rows.hpp).
// The tables a call opens stay open for the next call in the same
// (sub)transaction, until that commits or aborts, or a utility statement
// runs: opening tables, indexes and scans for every call of a statement that
// applies thousands of deliveries would cost as much as verifying each.
#pragma once

#include "pg/postgres.hpp"

namespace orgsync::pg {

struct RowAccess;

// `function` names the caller when a read-only transaction refuses it (25006).
RowAccess* begin_row_access(const char* function);
// Fires the AFTER ROW triggers the call queued, and keeps the tables open.
void end_row_access(RowAccess* access);

// From _PG_init: the end of kept accesses with their (sub)transaction, and
// before utility statements.
void register_row_access_callbacks();

}  // namespace orgsync::pg
