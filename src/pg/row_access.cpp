#include "pg/row_access.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/trigger.h"
#include "tcop/utility.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
}

#include "pg/compat.hpp"
#include "pg/extension.hpp"
#include "pg/open_tables.hpp"

namespace orgsync::pg {
namespace {

RowAccess* new_row_access() {
  EState* estate = CreateExecutorState();
  MemoryContext previous = MemoryContextSwitchTo(estate->es_query_cxt);
  auto* access = static_cast<RowAccess*>(palloc0(sizeof(RowAccess)));
  access->estate = estate;
  List* range_table = NIL;
  for (int t = 0; t < core::kTables; ++t) {
    RangeTblEntry* rte = makeNode(RangeTblEntry);
    rte->rtekind = RTE_RELATION;
    rte->relkind = RELKIND_RELATION;
    rte->rellockmode = RowExclusiveLock;
    access->range[t] = rte;
    range_table = lappend(range_table, rte);
  }
  compat::init_range_table(estate, range_table);
  compat::eval_plan_qual_init(&access->epq, estate);
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
    if (table != nullptr) close_open_table(*table);
  }
  ExecResetTupleTable(estate->es_tupleTable, false);
  FreeExecutorState(estate);  // and `access` with it
}

// The access that consecutive calls in one (sub)transaction share. It is
// owned by the (sub)transaction, not by the statement (a portal's resource
// owner ends with the statement), and closed before the subtransaction or
// transaction commits, and before any utility statement, which may want the
// tables to itself (TRUNCATE, ALTER TABLE).
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
  // Every write goes through here, in the columns of the library's version.
  require_installed_version();
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
  EvalPlanQualEnd(&access->epq);
  for (OpenTable* table : access->tables) {
    if (table != nullptr) release_between_calls(*table);
  }
  CurrentResourceOwner = access->caller_owner;
  kept.in_use = false;
}

void register_row_access_callbacks() {
  RegisterXactCallback(on_transaction_end, nullptr);
  RegisterSubXactCallback(on_subtransaction_end, nullptr);
  next_process_utility = ProcessUtility_hook;
  ProcessUtility_hook = close_kept_access_before_utility;
}

}  // namespace orgsync::pg
