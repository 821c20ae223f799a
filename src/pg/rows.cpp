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
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
}

namespace orgsync::pg {
namespace {

const char* const kTableNames[] = {"organizations", "users", "memberships", "invitations", "events"};

const char* const kColumnNames[] = {
    "id",
    "name",
    "slug",
    "image_url",
    "created_by",
    "max_allowed_memberships",
    "primary_email",
    "first_name",
    "last_name",
    "username",
    "external_id",
    "organization_id",
    "user_id",
    "role",
    "permissions",
    "email_address",
    "status",
    "expires_at",
    "public_metadata",
    "private_metadata",
    "created_at",
    "updated_at",
    "deleted_at",
    "data",
    "source",
    "sync_version",
    "endpoint",
    "type",
    "error",
    "object_id",
    "event_time",
    "received_at",
    "payload",
};
static_assert(sizeof(kTableNames) / sizeof(*kTableNames) == kTables, "a name for every Table");
static_assert(sizeof(kColumnNames) / sizeof(*kColumnNames) == kColumns, "a name for every Column");

// What the catalogs say of a table, kept per backend until the table changes.
struct TableInfo {
  Oid relid;  // InvalidOid: not looked up yet, or invalidated
  Oid primary_key;
  AttrNumber attnums[kColumns];  // 0: the table has no such column
  // Each column type's input function, for parse_column.
  Oid input_function[kColumns];
  Oid input_param[kColumns];
  // The compression method declared for the column (lz4 for data and
  // payload), if its storage allows compression; else InvalidCompressionMethod.
  char compression[kColumns];
};

TableInfo table_info[kTables];

void forget_tables(Datum, Oid relid) {
  for (TableInfo& info : table_info) {
    if (relid == InvalidOid || relid == info.relid) info.relid = InvalidOid;
  }
}

void describe(TableInfo& info, Relation rel) {
  TupleDesc desc = RelationGetDescr(rel);
  for (int c = 0; c < kColumns; ++c) {
    info.attnums[c] = 0;
    info.compression[c] = InvalidCompressionMethod;
    for (int a = 0; a < desc->natts; ++a) {
      Form_pg_attribute attribute = TupleDescAttr(desc, a);
      if (!attribute->attisdropped && strcmp(NameStr(attribute->attname), kColumnNames[c]) == 0) {
        info.attnums[c] = AttrNumber(a + 1);
        getTypeInputInfo(attribute->atttypid, &info.input_function[c], &info.input_param[c]);
        bool compressible = attribute->attlen == -1 &&
                            (attribute->attstorage == TYPSTORAGE_EXTENDED || attribute->attstorage == TYPSTORAGE_MAIN);
        if (compressible) info.compression[c] = attribute->attcompression;
      }
    }
  }
  info.primary_key = RelationGetPrimaryKeyIndex(rel);  // checked in open_table
  info.relid = RelationGetRelid(rel);
}

}  // namespace

// Ids up to this long are remembered with the row found for them (Clerk's
// and Svix's ids are about 30 bytes).
constexpr size_t kMaxRememberedId = 64;

// One table as a call uses it.
struct OpenTable {
  Relation rel;
  Relation primary_key;
  ResultRelInfo* result;
  List* arbiter;   // the primary key, for speculative insertion
  TableInfo info;  // this call's copy: invalidation may reset the cache
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
  FmgrInfo input[kColumns];  // set up on first use in the call
};

struct RowAccess {
  EState* estate;
  EPQState epq;
  RangeTblEntry* range[kTables];
  OpenTable* tables[kTables];
  ResourceOwner caller_owner;  // while a call uses the kept access
};

namespace {

OpenTable& open_table(RowAccess* access, Table which) {
  int t = int(which);
  if (access->tables[t] != nullptr) return *access->tables[t];
  EState* estate = access->estate;
  MemoryContext previous = MemoryContextSwitchTo(estate->es_query_cxt);

  TableInfo& cached = table_info[t];
  Oid relid = cached.relid;
  if (!OidIsValid(relid)) relid = get_relname_relid(kTableNames[t], get_namespace_oid("orgsync", false));
  if (!OidIsValid(relid)) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("orgsync: table orgsync.%s is missing", kTableNames[t])));
  }
  auto* table = static_cast<OpenTable*>(palloc0(sizeof(OpenTable)));
  table->rel = table_open(relid, RowExclusiveLock);
  // Opening took a lock, which processes invalidations: describe the table
  // as it is now if the cache was empty or has just been reset.
  if (cached.relid != relid) describe(cached, table->rel);
  table->info = cached;

  RangeTblEntry* rte = access->range[t];
  rte->relid = relid;
  // An update recomputes every stored generated column (they are cheap, and
  // correct whatever they depend on).
  TupleDesc desc = RelationGetDescr(table->rel);
  int natts = desc->natts;
  for (int a = 0; a < natts; ++a) {
    if (TupleDescAttr(desc, a)->attgenerated == ATTRIBUTE_GENERATED_STORED) {
      rte->extraUpdatedCols = bms_add_member(rte->extraUpdatedCols, a + 1 - FirstLowInvalidHeapAttributeNumber);
    }
  }

  table->result = makeNode(ResultRelInfo);
  InitResultRelInfo(table->result, table->rel, t + 1, nullptr, 0);
  estate->es_opened_result_relations = lappend(estate->es_opened_result_relations, table->result);
  // Speculative insertion needs no more than this: index_insert reports the
  // conflicts (UNIQUE_CHECK_PARTIAL); no ExecCheckIndexConstraints here.
  ExecOpenIndices(table->result, false);
  for (int i = 0; i < table->result->ri_NumIndices; ++i) {
    Relation index = table->result->ri_IndexRelationDescs[i];
    if (RelationGetRelid(index) == table->info.primary_key) table->primary_key = index;
  }
  // find_row's scan key: text equality on the one key column, `id`.
  Form_pg_index key = table->primary_key == nullptr ? nullptr : table->primary_key->rd_index;
  if (key == nullptr || key->indnkeyatts != 1 || key->indkey.values[0] != table->info.attnums[int(Column::id)] ||
      TupleDescAttr(desc, key->indkey.values[0] - 1)->atttypid != TEXTOID) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("orgsync: the primary key of orgsync.%s must be its text column \"id\"", kTableNames[t])));
  }
  table->arbiter = list_make1_oid(table->info.primary_key);
  InitDirtySnapshot(table->dirty);
  table->scan = index_beginscan(table->rel, table->primary_key, &table->dirty, 1, 0);
  table->found = table_slot_create(table->rel, &estate->es_tupleTable);
  table->row = ExecInitExtraTupleSlot(estate, RelationGetDescr(table->rel), &TTSOpsVirtual);
  table->given = static_cast<bool*>(palloc0(natts * sizeof(bool)));
  table->defaults = static_cast<ExprState**>(palloc0(natts * sizeof(ExprState*)));
  table->default_known = static_cast<bool*>(palloc0(natts * sizeof(bool)));
  access->tables[t] = table;
  MemoryContextSwitchTo(previous);
  return *table;
}

AttrNumber attnum_of(const OpenTable& table, Column column) {
  AttrNumber attnum = table.info.attnums[int(column)];
  if (attnum == 0) {
    ereport(ERROR,
            (errcode(ERRCODE_UNDEFINED_COLUMN), errmsg("orgsync: table orgsync.%s has no column \"%s\"",
                                                       RelationGetRelationName(table.rel), kColumnNames[int(column)])));
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

}  // namespace

namespace {

RowAccess* new_row_access() {
  EState* estate = CreateExecutorState();
  MemoryContext previous = MemoryContextSwitchTo(estate->es_query_cxt);
  auto* access = static_cast<RowAccess*>(palloc0(sizeof(RowAccess)));
  access->estate = estate;
  List* range_table = NIL;
  for (int t = 0; t < kTables; ++t) {
    RangeTblEntry* rte = makeNode(RangeTblEntry);
    rte->rtekind = RTE_RELATION;
    rte->relkind = RELKIND_RELATION;
    rte->rellockmode = RowExclusiveLock;
    access->range[t] = rte;
    range_table = lappend(range_table, rte);
  }
  ExecInitRangeTable(estate, range_table);
  EvalPlanQualInit(&access->epq, estate, nullptr, NIL, -1);
  MemoryContextSwitchTo(previous);
  return access;
}

void start_call(RowAccess* access) {
  // Row triggers that look the old row up again (GetTupleForTrigger) need a snapshot.
  access->estate->es_snapshot = GetActiveSnapshot();
  AfterTriggerBeginQuery();
}

void close_row_access(RowAccess* access) {
  EState* estate = access->estate;
  EvalPlanQualEnd(&access->epq);
  ExecCloseResultRelations(estate);
  for (OpenTable* table : access->tables) {
    if (table == nullptr) continue;
    index_endscan(table->scan);
    table_close(table->rel, NoLock);
  }
  ExecResetTupleTable(estate->es_tupleTable, false);
  FreeExecutorState(estate);  // and `access` with it
}

// The access that consecutive calls in one (sub)transaction share: opening
// the tables, their indexes and scans for every call of a statement that
// applies thousands of deliveries would cost as much as HMAC-verifying each.
// It is owned by the (sub)transaction, not by the statement (a portal's
// resource owner ends with the statement), and closed before the
// subtransaction or transaction commits, and before any utility statement,
// which may want the tables to itself (TRUNCATE, ALTER TABLE).
struct KeptAccess {
  RowAccess* access;
  SubTransactionId subtransaction;
  ResourceOwner owner;
  bool in_use;  // a call is running on it (a trigger's nested call opens its own)
};
KeptAccess kept;

void close_kept_access() {
  RowAccess* access = kept.access;
  ResourceOwner owner = kept.owner;
  kept = {};
  ResourceOwner caller_owner = CurrentResourceOwner;
  CurrentResourceOwner = owner;
  close_row_access(access);
  CurrentResourceOwner = caller_owner;
}

// On abort the resource owner has released the tables and the
// (sub)transaction's memory goes with it: only forget.
void on_subtransaction_end(SubXactEvent event, SubTransactionId subtransaction, SubTransactionId, void*) {
  if (kept.access == nullptr || kept.subtransaction != subtransaction) return;
  if (event == SUBXACT_EVENT_PRE_COMMIT_SUB) close_kept_access();
  if (event == SUBXACT_EVENT_ABORT_SUB) kept = {};
}

void on_transaction_end(XactEvent event, void*) {
  if (kept.access == nullptr) return;
  if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE) close_kept_access();
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) kept = {};
}

ProcessUtility_hook_type next_process_utility = nullptr;

void close_kept_access_before_utility(PlannedStmt* statement, const char* query, bool read_only,
                                      ProcessUtilityContext context, ParamListInfo params,
                                      QueryEnvironment* environment, DestReceiver* destination,
                                      QueryCompletion* completion) {
  if (kept.access != nullptr && !kept.in_use) close_kept_access();
  (next_process_utility != nullptr ? next_process_utility : standard_ProcessUtility)(
      statement, query, read_only, context, params, environment, destination, completion);
}

}  // namespace

RowAccess* begin_row_access(const char* function) {
  // The row-level API skips the executor's own checks for these.
  PreventCommandIfReadOnly(function);
  PreventCommandIfParallelMode(function);
  SubTransactionId subtransaction = GetCurrentSubTransactionId();
  if (kept.access == nullptr) {
    MemoryContext previous = MemoryContextSwitchTo(CurTransactionContext);
    kept = {new_row_access(), subtransaction, CurTransactionResourceOwner, false};
    MemoryContextSwitchTo(previous);
  }
  if (kept.in_use || kept.subtransaction != subtransaction) {
    // Nested in a call, or inside a subtransaction of the kept access's own.
    RowAccess* access = new_row_access();
    start_call(access);
    return access;
  }
  kept.in_use = true;
  RowAccess* access = kept.access;
  access->caller_owner = CurrentResourceOwner;
  CurrentResourceOwner = kept.owner;
  start_call(access);
  return access;
}

void end_row_access(RowAccess* access) {
  AfterTriggerEndQuery(access->estate);
  if (access != kept.access) {
    close_row_access(access);
    return;
  }
  // What this call found may change before the next one; and buffer pins
  // held between calls would keep VACUUM waiting for this transaction (a
  // scan keeps its B-tree leaf and heap page pinned until it is rescanned).
  EvalPlanQualEnd(&access->epq);
  for (OpenTable* table : access->tables) {
    if (table == nullptr) continue;
    table->found_is_current_and_locked = false;
    ExecClearTuple(table->found);
    if (table->scan_may_pin) {
      index_rescan(table->scan, table->scan->keyData, table->scan->numberOfKeys, nullptr, 0);
      table->scan_may_pin = false;
    }
  }
  CurrentResourceOwner = access->caller_owner;
  kept.in_use = false;
}

namespace {

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

}  // namespace

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
      TM_Result result =
          table_tuple_lock(table.rel, &table.found->tts_tid, GetActiveSnapshot(), table.found,
                           GetCurrentCommandId(false), LockTupleNoKeyExclusive, LockWaitBlock, 0, &failure);
      // Changed by another transaction while we waited: look again.
      if (result == TM_Updated || result == TM_Deleted) continue;
      if (result != TM_Ok)
        elog(ERROR, "orgsync: unexpected result %d locking a row of %s", int(result),
             RelationGetRelationName(table.rel));
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

namespace {

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

Datum parse_column(RowAccess* access, Table which, Column column, char* text) {
  OpenTable& table = open_table(access, which);
  int c = int(column);
  Form_pg_attribute attribute = TupleDescAttr(RelationGetDescr(table.rel), attnum_of(table, column) - 1);
  if (!OidIsValid(table.input[c].fn_oid)) {
    fmgr_info_cxt(table.info.input_function[c], &table.input[c], access->estate->es_query_cxt);
  }
  return InputFunctionCall(&table.input[c], text, table.info.input_param[c], attribute->atttypmod);
}

Oid column_type(RowAccess* access, Table which, Column column) {
  OpenTable& table = open_table(access, which);
  return TupleDescAttr(RelationGetDescr(table.rel), attnum_of(table, column) - 1)->atttypid;
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
  List* recheck = ExecInsertIndexTuples(result, row, estate, false, true, &conflict, table.arbiter);
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
  RangeTblEntry* rte = access->range[int(which)];
  MemoryContext previous = MemoryContextSwitchTo(access->estate->es_query_cxt);
  bms_free(rte->updatedCols);
  rte->updatedCols = nullptr;
  for (int a = 0; a < row->tts_tupleDescriptor->natts; ++a) {
    if (table.given[a]) rte->updatedCols = bms_add_member(rte->updatedCols, a + 1 - FirstLowInvalidHeapAttributeNumber);
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

void register_row_access_callbacks() {
  CacheRegisterRelcacheCallback(forget_tables, 0);
  RegisterXactCallback(on_transaction_end, nullptr);
  RegisterSubXactCallback(on_subtransaction_end, nullptr);
  next_process_utility = ProcessUtility_hook;
  ProcessUtility_hook = close_kept_access_before_utility;
}

}  // namespace orgsync::pg
