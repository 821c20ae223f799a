#include "pg/rows.hpp"

#include <algorithm>

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/toast_compression.h"
#include "access/toast_internals.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "commands/trigger.h"
#include "executor/nodeModifyTable.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

#include "pg/compat.hpp"
#include "pg/open_tables.hpp"

namespace orgsync::pg {
namespace {

// ---- opening a table for a call ------------------------------------------------

// An update recomputes every stored generated column (they are cheap, and
// correct whatever they depend on).
void mark_generated_columns(RangeTblEntry* rte, TupleDesc desc) {
  for (int a = 0; a < desc->natts; ++a) {
    if (TupleDescAttr(desc, a)->attgenerated == ATTRIBUTE_GENERATED_STORED) {
      compat::mark_generated_column_updated(rte, AttrNumber(a + 1));
    }
  }
}

// The result relation inserts and updates go through, with its indexes.
// Speculative insertion needs no more than this: index_insert reports the
// conflicts (UNIQUE_CHECK_PARTIAL); no ExecCheckIndexConstraints here.
void open_result_relation(EState* estate, OpenTable& table, int range_index) {
  table.result = makeNode(ResultRelInfo);
  InitResultRelInfo(table.result, table.rel, range_index, nullptr, 0);
  estate->es_opened_result_relations = lappend(estate->es_opened_result_relations, table.result);
  ExecOpenIndices(table.result, false);
}

// find_row's index: the primary key, which must be the text column `id`.
void open_primary_key(OpenTable& table, core::Table which) {
  for (int i = 0; i < table.result->ri_NumIndices; ++i) {
    Relation index = table.result->ri_IndexRelationDescs[i];
    if (RelationGetRelid(index) == table.info.primary_key) table.primary_key = index;
  }
  Form_pg_index key = table.primary_key == nullptr ? nullptr : table.primary_key->rd_index;
  AttrNumber id = table.info.attnums[int(Column::id)];
  if (key == nullptr || key->indnkeyatts != 1 || key->indkey.values[0] != id || id == 0 ||
      TupleDescAttr(RelationGetDescr(table.rel), id - 1)->atttypid != TEXTOID) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("orgsync: the primary key of orgsync.%s must be its text column \"id\"",
                           core::table_name(which))));
  }
  table.arbiter = list_make1_oid(table.info.primary_key);
  InitDirtySnapshot(table.dirty);
  table.scan = index_beginscan(table.rel, table.primary_key, &table.dirty, 1, 0);
}

// The slots and per-attribute state rows are written with.
void make_row_buffers(EState* estate, OpenTable& table) {
  int natts = RelationGetDescr(table.rel)->natts;
  table.found = table_slot_create(table.rel, &estate->es_tupleTable);
  table.row = ExecInitExtraTupleSlot(estate, RelationGetDescr(table.rel), &TTSOpsVirtual);
  table.given = static_cast<bool*>(palloc0(natts * sizeof(bool)));
  table.defaults = static_cast<ExprState**>(palloc0(natts * sizeof(ExprState*)));
  table.default_known = static_cast<bool*>(palloc0(natts * sizeof(bool)));
}

AttrNumber attnum_of(const OpenTable& table, Column column) {
  AttrNumber attnum = table.info.attnums[int(column)];
  if (attnum == 0) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("orgsync: table orgsync.%s has no column \"%s\"", RelationGetRelationName(table.rel),
                           core::column_name(column)),
                    errhint("If the orgsync library was just upgraded, run ALTER EXTENSION orgsync UPDATE.")));
  }
  return attnum;
}

// Waits for the transaction (or just the speculative insertion) that wrote
// a row version the dirty snapshot saw in progress.
void wait_for_writer(const SnapshotData& dirty) {
  if (dirty.speculativeToken != 0) {
    SpeculativeInsertionWait(dirty.xmin, dirty.speculativeToken);
  } else {
    XactLockTableWait(dirty.xmin, nullptr, nullptr, XLTW_None);
  }
}

// Columns the row does not set take their defaults, as in an INSERT.
void fill_defaults(RowAccess* access, OpenTable& table, TupleTableSlot* row) {
  TupleDesc desc = RelationGetDescr(table.rel);
  for (int a = 0; a < desc->natts; ++a) {
    Form_pg_attribute attribute = TupleDescAttr(desc, a);
    if (table.given[a] || attribute->attisdropped || attribute->attgenerated) continue;
    if (!table.default_known[a]) {
      MemoryContext previous = MemoryContextSwitchTo(access->estate->es_query_cxt);
      auto* expression = reinterpret_cast<Expr*>(build_column_default(table.rel, a + 1));
      table.defaults[a] = expression == nullptr ? nullptr : ExecPrepareExpr(expression, access->estate);
      table.default_known[a] = true;
      MemoryContextSwitchTo(previous);
    }
    if (table.defaults[a] != nullptr) {
      row->tts_values[a] =
          ExecEvalExprSwitchContext(table.defaults[a], GetPerTupleExprContext(access->estate), &row->tts_isnull[a]);
    }
  }
}

// A valid btree index of the table, without a predicate, whose first key
// column is `attnum`.
Relation index_leading_with(const OpenTable& table, AttrNumber attnum) {
  for (int i = 0; i < table.result->ri_NumIndices; ++i) {
    Relation index = table.result->ri_IndexRelationDescs[i];
    Form_pg_index form = index->rd_index;
    if (index->rd_rel->relam == BTREE_AM_OID && form->indisvalid && form->indkey.values[0] == attnum &&
        heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr)) {
      return index;
    }
  }
  ereport(ERROR,
          (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
           errmsg("orgsync: table orgsync.%s needs an index on its column \"%s\"", RelationGetRelationName(table.rel),
                  NameStr(TupleDescAttr(RelationGetDescr(table.rel), attnum - 1)->attname))));
}

// Bytewise, then shorter first: a total order on ids, whatever the collation.
bool id_less(Datum a, Datum b) {
  auto* x = reinterpret_cast<text*>(DatumGetPointer(a));  // find_live_ids detoasted them
  auto* y = reinterpret_cast<text*>(DatumGetPointer(b));
  size_t nx = VARSIZE_ANY_EXHDR(x), ny = VARSIZE_ANY_EXHDR(y);
  int order = memcmp(VARDATA_ANY(x), VARDATA_ANY(y), Min(nx, ny));
  return order < 0 || (order == 0 && nx < ny);
}

bool is_found_id(const OpenTable& table, const text* id) {
  return table.found_is_current_and_locked && VARSIZE_ANY_EXHDR(id) == table.found_id_size &&
         memcmp(VARDATA_ANY(id), table.found_id, table.found_id_size) == 0;
}

void remember_found_id(OpenTable& table, const text* id) {
  size_t size = VARSIZE_ANY_EXHDR(id);
  table.found_is_current_and_locked = size <= kMaxRememberedId;
  if (!table.found_is_current_and_locked) return;
  memcpy(table.found_id, VARDATA_ANY(id), size);
  table.found_id_size = size;
}

// A write may change what was found, and a row trigger may write anywhere.
void forget_found_rows(RowAccess* access, OpenTable& written) {
  written.found_is_current_and_locked = false;
  if (written.result->ri_TrigDesc == nullptr) return;
  for (OpenTable* table : access->tables) {
    if (table != nullptr) table->found_is_current_and_locked = false;
  }
}

// Postgres compresses a value only when its whole row reaches 2 kB, and most
// Clerk objects and deliveries are 0.5-1.5 kB of JSON, which lz4 shrinks by
// a quarter to a third (fewer pages to extend, less WAL to write and sync).
// So orgsync compresses a value of this size or more itself, as it is set,
// when its column declares a compression method.
constexpr Size kCompressFromBytes = 256;

Datum compressed_if_smaller(Datum value, char method) {
  auto* plain = reinterpret_cast<varlena*>(DatumGetPointer(value));
  if (!VARATT_IS_4B_U(plain) || VARSIZE(plain) < kCompressFromBytes) return value;
  Datum compressed = toast_compress_datum(value, method);  // NULL unless smaller
  return DatumGetPointer(compressed) != nullptr ? compressed : value;
}

}  // namespace

OpenTable& open_table(RowAccess* access, Table which) {
  int t = int(which);
  if (access->tables[t] != nullptr) return *access->tables[t];
  EState* estate = access->estate;
  MemoryContext previous = MemoryContextSwitchTo(estate->es_query_cxt);
  Oid relid = table_relid(which);
  auto* table = static_cast<OpenTable*>(palloc0(sizeof(OpenTable)));
  table->rel = table_open(relid, RowExclusiveLock);
  // Opening took a lock, which processed invalidations: the table as it is now.
  table->info = describe_table(which, table->rel);
  access->range[t]->relid = relid;
  mark_generated_columns(access->range[t], RelationGetDescr(table->rel));
  open_result_relation(estate, *table, t + 1);
  open_primary_key(*table, which);
  make_row_buffers(estate, *table);
  access->tables[t] = table;
  MemoryContextSwitchTo(previous);
  return *table;
}

void release_between_calls(OpenTable& table) {
  table.found_is_current_and_locked = false;
  ExecClearTuple(table.found);
  // A scan keeps its B-tree leaf and heap page pinned until it is rescanned,
  // and pins held between calls would keep VACUUM waiting for this transaction.
  if (table.scan_may_pin) {
    index_rescan(table.scan, table.scan->keyData, table.scan->numberOfKeys, nullptr, 0);
    table.scan_may_pin = false;
  }
}

void close_open_table(OpenTable& table) {
  index_endscan(table.scan);
  table_close(table.rel, NoLock);
}

TupleTableSlot* find_row(RowAccess* access, Table which, Datum id, bool lock) {
  OpenTable& table = open_table(access, which);
  const text* key_text = DatumGetTextPP(id);
  // Looked up and locked earlier in this call (a membership's organization
  // and user, say): no other transaction can have changed it since.
  if (!lock && is_found_id(table, key_text)) return table.found;
  table.found_is_current_and_locked = false;
  // What this transaction wrote so far, triggers included, is visible from
  // here on, and may be locked and updated.
  CommandCounterIncrement();
  ScanKeyData key;
  ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_TEXTEQ, id);
  key.sk_collation = table.primary_key->rd_indcollation[0];

  for (;;) {
    // The scan lives as long as the call; what it allocates as it goes (the
    // btree's list of dead items, say) must too, not in a per-delivery context.
    MemoryContext previous = MemoryContextSwitchTo(access->estate->es_query_cxt);
    index_rescan(table.scan, &key, 1, nullptr, 0);
    table.scan_may_pin = true;
    bool found = index_getnext_slot(table.scan, ForwardScanDirection, table.found);
    MemoryContextSwitchTo(previous);
    if (!found) return nullptr;
    if (TransactionIdIsValid(table.dirty.xmin)) {
      wait_for_writer(table.dirty);
      continue;
    }
    if (lock) {
      TM_FailureData failure;
      TM_Result result = table_tuple_lock(table.rel, &table.found->tts_tid, GetActiveSnapshot(), table.found,
                                          GetCurrentCommandId(false), LockTupleNoKeyExclusive, LockWaitBlock, 0,
                                          &failure);
      // Changed by another transaction while we waited: look again.
      if (result == TM_Updated || result == TM_Deleted) continue;
      if (result != TM_Ok) {
        elog(ERROR, "orgsync: unexpected result %d locking a row of %s", int(result),
             RelationGetRelationName(table.rel));
      }
    }
    ExecMaterializeSlot(table.found);
    if (lock) remember_found_id(table, key_text);
    return table.found;
  }
}

Datum* find_live_ids(RowAccess* access, Table which, Column column, Datum value, TimestampTz at, int* count) {
  OpenTable& table = open_table(access, which);
  Relation index = index_leading_with(table, attnum_of(table, column));
  AttrNumber id_attnum = attnum_of(table, Column::id);
  AttrNumber deleted_at_attnum = attnum_of(table, Column::deleted_at);
  CommandCounterIncrement();
  ScanKeyData key;
  ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_TEXTEQ, value);
  key.sk_collation = index->rd_indcollation[0];
  Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
  TupleTableSlot* slot = table_slot_create(table.rel, nullptr);
  IndexScanDesc scan = index_beginscan(table.rel, index, snapshot, 1, 0);
  index_rescan(scan, &key, 1, nullptr, 0);
  int n = 0, capacity = 16;
  auto* ids = static_cast<Datum*>(palloc(capacity * sizeof(Datum)));
  while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
    bool id_isnull, deleted_isnull;
    Datum id = slot_getattr(slot, id_attnum, &id_isnull);
    Datum deleted_at = slot_getattr(slot, deleted_at_attnum, &deleted_isnull);
    // deleted_at only ever moves earlier: a row ended by `at` stays so.
    if (id_isnull || (!deleted_isnull && DatumGetTimestampTz(deleted_at) <= at)) continue;
    if (n == capacity) ids = static_cast<Datum*>(repalloc(ids, (capacity *= 2) * sizeof(Datum)));
    ids[n++] = datumCopy(PointerGetDatum(DatumGetTextPP(id)), false, -1);
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  UnregisterSnapshot(snapshot);
  std::sort(ids, ids + n, id_less);
  *count = n;
  return ids;
}

TupleTableSlot* new_row(RowAccess* access, Table which) {
  OpenTable& table = open_table(access, which);
  TupleTableSlot* row = table.row;
  ExecClearTuple(row);
  int natts = row->tts_tupleDescriptor->natts;
  for (int a = 0; a < natts; ++a) {
    row->tts_values[a] = Datum(0);
    row->tts_isnull[a] = true;
    table.given[a] = false;
  }
  return row;
}

TupleTableSlot* changed_row(RowAccess* access, Table which, TupleTableSlot* found) {
  TupleTableSlot* row = new_row(access, which);
  slot_getallattrs(found);
  int natts = row->tts_tupleDescriptor->natts;
  memcpy(row->tts_values, found->tts_values, natts * sizeof(Datum));
  memcpy(row->tts_isnull, found->tts_isnull, natts * sizeof(bool));
  return row;
}

void set_column(RowAccess* access, Table which, TupleTableSlot* row, Column column, Datum value, bool isnull) {
  OpenTable& table = open_table(access, which);
  int a = attnum_of(table, column) - 1;
  char compression = table.info.compression[int(column)];
  if (!isnull && CompressionMethodIsValid(compression)) value = compressed_if_smaller(value, compression);
  row->tts_values[a] = isnull ? Datum(0) : value;
  row->tts_isnull[a] = isnull;
  table.given[a] = true;
}

Datum get_column(RowAccess* access, Table which, TupleTableSlot* row, Column column, bool* isnull) {
  return slot_getattr(row, attnum_of(open_table(access, which), column), isnull);
}

bool insert_row(RowAccess* access, Table which, TupleTableSlot* row) {
  OpenTable& table = open_table(access, which);
  EState* estate = access->estate;
  ResultRelInfo* result = table.result;
  forget_found_rows(access, table);
  CommandCounterIncrement();
  fill_defaults(access, table, row);
  ExecStoreVirtualTuple(row);

  if (result->ri_TrigDesc != nullptr && result->ri_TrigDesc->trig_insert_before_row &&
      !ExecBRInsertTriggers(estate, result, row)) {
    ResetPerTupleExprContext(estate);
    return true;  // a trigger chose to skip the row, as it may in an INSERT
  }
  TupleConstr* constraints = RelationGetDescr(table.rel)->constr;
  if (constraints != nullptr && constraints->has_generated_stored) {
    ExecComputeStoredGenerated(result, estate, row, CMD_INSERT);
  }
  if (constraints != nullptr) ExecConstraints(result, row, estate);

  // INSERT ... ON CONFLICT's protocol: whoever finds the tuple in progress
  // waits only for this insertion to be confirmed or withdrawn.
  estate->es_output_cid = GetCurrentCommandId(true);
  TransactionId xid = GetCurrentTransactionId();
  uint32 token = SpeculativeInsertionLockAcquire(xid);
  table_tuple_insert_speculative(table.rel, row, estate->es_output_cid, 0, nullptr, token);
  bool conflict = false;
  List* recheck = compat::insert_index_tuples(result, row, estate, &conflict, table.arbiter);
  table_tuple_complete_speculative(table.rel, row, token, !conflict);
  SpeculativeInsertionLockRelease(xid);
  if (!conflict) ExecARInsertTriggers(estate, result, row, recheck, nullptr);
  list_free(recheck);
  ResetPerTupleExprContext(estate);
  return !conflict;
}

void update_row(RowAccess* access, Table which, TupleTableSlot* found, TupleTableSlot* row) {
  OpenTable& table = open_table(access, which);
  // The columns set are the UPDATE's SET list, as UPDATE OF triggers see it.
  Bitmapset** updated = compat::updated_columns(access->range[int(which)]);
  MemoryContext previous = MemoryContextSwitchTo(access->estate->es_query_cxt);
  bms_free(*updated);
  *updated = nullptr;
  for (int a = 0; a < row->tts_tupleDescriptor->natts; ++a) {
    if (table.given[a]) *updated = bms_add_member(*updated, a + 1 - FirstLowInvalidHeapAttributeNumber);
  }
  MemoryContextSwitchTo(previous);
  forget_found_rows(access, table);
  CommandCounterIncrement();
  // A BEFORE UPDATE trigger locks the row again with this command id, and
  // this transaction may have written the row since the access began.
  access->estate->es_output_cid = GetCurrentCommandId(true);
  ExecStoreVirtualTuple(row);
  ExecSimpleRelationUpdate(table.result, access->estate, &access->epq, found, row);
  ResetPerTupleExprContext(access->estate);
}

}  // namespace orgsync::pg
