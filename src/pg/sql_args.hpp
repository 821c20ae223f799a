// Arguments of SQL-callable functions, checked as every orgsync function
// checks them. Postgres side: raises.
#pragma once

#include "pg/keys.hpp"
#include "pg/postgres.hpp"

namespace orgsync::pg {

// Raises 22004 for a NULL argument.
text* require_text_arg(FunctionCallInfo fcinfo, int n, const char* name);

// The elements of a one-dimensional array argument; NULL elements stay NULL.
// Raises 22004 for a NULL array, 2202E for more than one dimension.
int array_arg(FunctionCallInfo fcinfo, int n, const char* name, Oid element_type, Datum** values, bool** nulls);

inline Bytes text_bytes(text* value) { return {VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)}; }

}  // namespace orgsync::pg
