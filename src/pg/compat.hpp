// Every executor call whose signature or fields change between PostgreSQL
// major versions, in one place: porting orgsync's row access to another
// major is this file. Only PostgreSQL 15 is built and tested (see README).
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "executor/executor.h"
#include "nodes/parsenodes.h"
}

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 160000
#error "orgsync is built and tested on PostgreSQL 15 only: port src/pg/compat.hpp (range tables and permission info changed in 16)"
#endif

namespace orgsync::pg::compat {

// A range table of `tables` relations opened for writing (16 adds RTEPermissionInfo).
inline void init_range_table(EState* estate, List* range_table) { ExecInitRangeTable(estate, range_table); }

// The columns an UPDATE sets, as UPDATE OF triggers see them (16 moves them
// to RTEPermissionInfo).
inline Bitmapset** updated_columns(RangeTblEntry* rte) { return &rte->updatedCols; }

// Stored generated columns recomputed by an update (16 computes them itself).
inline void mark_generated_column_updated(RangeTblEntry* rte, AttrNumber attnum) {
  rte->extraUpdatedCols = bms_add_member(rte->extraUpdatedCols, attnum - FirstLowInvalidHeapAttributeNumber);
}

// Index entries for a new row, reporting a conflict with `arbiter` rather
// than raising (16 adds onlySummarizing).
inline List* insert_index_tuples(ResultRelInfo* result, TupleTableSlot* slot, EState* estate, bool* conflict,
                                 List* arbiter) {
  return ExecInsertIndexTuples(result, slot, estate, false, true, conflict, arbiter);
}

// The EvalPlanQual state ExecSimpleRelationUpdate needs (16 adds the result relations).
inline void eval_plan_qual_init(EPQState* epq, EState* estate) { EvalPlanQualInit(epq, estate, nullptr, NIL, -1); }

}  // namespace orgsync::pg::compat
