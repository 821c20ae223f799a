// Inside the row access: the tables a call has opened, shared by the row
// operations (rows.cpp) and the access's life cycle (row_access.cpp).
#pragma once

#include "core/tables.hpp"
#include "pg/catalog.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "access/genam.h"
#include "executor/executor.h"
#include "nodes/execnodes.h"
}

namespace orgsync::pg {

// Ids up to this long are remembered with the row found for them (Clerk's
// and Svix's ids are about 30 bytes).
constexpr size_t kMaxRememberedId = 64;

// One table as a call uses it.
struct OpenTable {
  Relation rel;
  Relation primary_key;
  ResultRelInfo* result;
  List* arbiter;   // the primary key, for speculative insertion
  TableInfo info;  // the access's own copy: an invalidation may reset the cache
  // find_row's scan, kept for the call: a dirty snapshot sees the newest
  // version, committed or not, as the unique check of INSERT ... ON CONFLICT
  // does, and says in xmin whose insertion is still in progress.
  SnapshotData dirty;
  IndexScanDesc scan;
  bool scan_may_pin;      // scanned since the last rescan that released its buffer pins
  TupleTableSlot* found;  // find_row's result
  // `found` is the current version of the row with this id, locked by this
  // transaction: nobody else can change it, and this call has not since.
  bool found_is_current_and_locked;
  char found_id[kMaxRememberedId];
  size_t found_id_size;
  TupleTableSlot* row;   // the row being written (virtual)
  bool* given;           // per attribute: set by set_column
  ExprState** defaults;  // per attribute: its default, prepared on first need
  bool* default_known;
};

struct RowAccess {
  EState* estate;
  EPQState epq;
  RangeTblEntry* range[core::kTables];
  OpenTable* tables[core::kTables];
  ResourceOwner caller_owner;  // while a call uses the kept access
};

// The table, opened for this access on first use.
OpenTable& open_table(RowAccess* access, core::Table table);
// Between two calls: what was found may change, and no buffer stays pinned.
void release_between_calls(OpenTable& table);
void close_open_table(OpenTable& table);

}  // namespace orgsync::pg
