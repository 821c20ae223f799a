// The SQL-callable entry points of a backfill: orgsync.apply_listing applies
// a page of a Clerk Backend API listing under the merge rules of webhooks,
// and orgsync.apply_deletion ends an object Clerk says is gone. The backfill
// bookkeeping around them (runs, progress, the sweep's candidates) is SQL,
// in the extension's script.

#include <optional>
#include <string_view>

#include "core/errors.hpp"
#include "core/event_types.hpp"
#include "core/objects.hpp"
#include "core/plan.hpp"
#include "pg/boundary.hpp"
#include "pg/bound_writes.hpp"
#include "pg/change_feed.hpp"
#include "pg/merge.hpp"
#include "pg/pg_memory.hpp"
#include "pg/rows.hpp"
#include "pg/sql_args.hpp"
#include "pg/times.hpp"
#include "pg/turn.hpp"

extern "C" {
#include "utils/fmgroids.h"
}

namespace orgsync::pg {
namespace {

// A page of a listing, bound: each object's id and the writes that merge it.
struct BoundListing {
  int count;
  const char** ids;
  BoundWrites* writes;
};

// ---- C++ side --------------------------------------------------------------

std::optional<core::ObjectKind> kind_named(text* kind) {
  return core::kind_named(std::string_view(VARDATA_ANY(kind), VARSIZE_ANY_EXHDR(kind)));
}

BoundListing* plan_page(core::ObjectKind kind, Bytes page) {
  core::ListingPlan planned;
  try {
    planned = core::plan_listing(kind, {page.data, page.size});
  } catch (const core::InvalidPayload& error) {
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, std::string("orgsync: unusable page: ") + error.what());
  }
  size_t count = planned.objects.size();
  auto* listing = static_cast<BoundListing*>(palloc_or_throw(sizeof(BoundListing)));
  listing->count = int(count);
  listing->ids = static_cast<const char**>(palloc_or_throw(sizeof(const char*) * (count + 1)));
  listing->writes = static_cast<BoundWrites*>(palloc_or_throw(sizeof(BoundWrites) * (count + 1)));
  for (size_t i = 0; i < count; ++i) {
    listing->ids[i] = cstring_or_throw(planned.objects[i].id);
    listing->writes[i] = bind_writes(planned.objects[i].writes);
  }
  return listing;
}

BoundWrites plan_deletion(core::ObjectKind kind, text* id, TimestampTz deleted_at) {
  std::string object_id(VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id));
  return bind_writes(core::plan_deletion(kind, object_id, unix_ms_from_timestamp(deleted_at)));
}

// ---- Postgres side ----------------------------------------------------------

core::ObjectKind require_kind(FunctionCallInfo fcinfo, int n) {
  text* kind = require_text_arg(fcinfo, n, "kind");
  std::optional<core::ObjectKind> found = kind_named(kind);
  if (!found) {
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("orgsync: unknown kind \"%s\"", text_to_cstring(kind)),
             errhint("The kinds are organizations, users, memberships, invitations, domains, roles and "
                     "permissions.")));
  }
  return *found;
}

// One row per object of the page, in page order: (id, "applied" or "stale").
// The page is planned whole before anything is written: an object that
// cannot be used fails the call (22023, naming it), and nothing is applied.
Datum apply_listing(FunctionCallInfo fcinfo) {
  core::ObjectKind kind = require_kind(fcinfo, 0);
  BoundListing* listing = plan_page(kind, text_bytes(require_text_arg(fcinfo, 1, "page")));
  InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  Turn turn = take_turn("orgsync.apply_listing()");
  RowAccess* access = begin_row_access("orgsync.apply_listing()");
  set_change_origin("backfill", nullptr);
  for (int i = 0; i < listing->count; ++i) {
    Datum values[2] = {CStringGetTextDatum(listing->ids[i]),
                       CStringGetTextDatum(apply_writes(access, listing->writes[i]) > 0 ? "applied" : "stale")};
    bool nulls[2] = {false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  end_row_access(access);
  end_turn(turn);
  return Datum(0);
}

// The sweep's guard: only a live row still at the version the sweep listed
// may be ended. Checked under the turn, with the row locked, so that no
// webhook writes it between the check and the deletion, and in the lock order
// of every writer (a row locked before the turn could deadlock with a batch
// that holds the turn and waits for that row). NULL: go ahead.
const char* sweep_refusal(RowAccess* access, core::ObjectKind kind, text* id, Datum seen_version) {
  Table table = core::table_of(kind);
  TupleTableSlot* row = find_row(access, table, PointerGetDatum(id), true);
  if (row == nullptr) return "gone";
  bool isnull;
  get_column(access, table, row, Column::deleted_at, &isnull);
  if (!isnull) return "gone";
  Datum version = get_column(access, table, row, Column::sync_version, &isnull);
  bool same = !isnull && DatumGetBool(OidFunctionCall2Coll(F_ARRAY_EQ, InvalidOid, version, seen_version));
  return same ? nullptr : "changed";
}

// "applied" if the deletion changed a row, "stale" if the object was already
// deleted at that time or earlier. With `if_version` (the sweep), "changed"
// or "gone" instead of a deletion when the row is no longer live at that
// version.
Datum apply_deletion(FunctionCallInfo fcinfo) {
  core::ObjectKind kind = require_kind(fcinfo, 0);
  text* id = require_text_arg(fcinfo, 1, "id");
  if (PG_ARGISNULL(2)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("orgsync: deleted_at must not be NULL")));
  }
  TimestampTz deleted_at = PG_GETARG_TIMESTAMPTZ(2);
  if (TIMESTAMP_NOT_FINITE(deleted_at)) {
    ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("orgsync: deleted_at must be finite")));
  }
  BoundWrites writes = plan_deletion(kind, id, deleted_at);
  Turn turn = take_turn("orgsync.apply_deletion()");
  RowAccess* access = begin_row_access("orgsync.apply_deletion()");
  const char* refusal = PG_ARGISNULL(3) ? nullptr : sweep_refusal(access, kind, id, PG_GETARG_DATUM(3));
  const char* outcome = refusal;
  if (refusal == nullptr) {
    set_change_origin("backfill", nullptr);
    outcome = apply_writes(access, writes) > 0 ? "applied" : "stale";
  }
  end_row_access(access);
  end_turn(turn);
  PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

}  // namespace
}  // namespace orgsync::pg

ORGSYNC_FUNCTION(orgsync_apply_listing, orgsync::pg::apply_listing)
ORGSYNC_FUNCTION(orgsync_apply_deletion, orgsync::pg::apply_deletion)
