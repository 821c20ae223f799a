// What the catalogs say of orgsync's tables, cached per backend until a table
// changes: which relation each is, where each column is and whether it has
// the type orgsync writes, how its large values are compressed, and the
// values of orgsync's enum labels. Postgres side only: everything here can raise.
#pragma once

#include "core/tables.hpp"
#include "core/writes.hpp"
#include "pg/postgres.hpp"

namespace orgsync::pg {

struct TableInfo {
  Oid relid;  // InvalidOid: not described yet, or invalidated
  Oid primary_key;
  AttrNumber attnums[core::kColumns];  // 0: the table has no such column
  // The compression method declared for the column (lz4 for data and
  // payload), if its storage allows compression; else InvalidCompressionMethod.
  char compression[core::kColumns];
};

// The table's relation id (42P01 if it is missing).
Oid table_relid(core::Table table);

// The table as `rel` (just opened, so invalidations are processed) is now.
// Raises 42804 if a column orgsync writes has another type than it writes.
const TableInfo& describe_table(core::Table table, Relation rel);

// The Datum of a label of orgsync's enums.
Datum row_source_datum(core::RowSource source);
Datum delivery_status_datum(const char* status);

// From _PG_init: forget what a changed table was.
void register_catalog_invalidation();

}  // namespace orgsync::pg
