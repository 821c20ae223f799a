#include "pg/statements.hpp"

#include <stdexcept>
#include <utility>

#include "pg/canonical_jsonb.hpp"
#include "pg/pg_memory.hpp"

extern "C" {
#include "utils/snapmgr.h"
}

namespace orgsync::pg {
namespace {

using core::StatementKind;

// How a core parameter reaches its column.
enum class Source {
  text,    // a text column, as is
  parsed,  // text read by the column type's input function (enums, arrays)
  json,    // a JSON object's canonical text, made jsonb (canonical_jsonb.hpp)
  int32,   // an integer column
  time,    // a timestamptz column
};

struct Field {
  Column column;
  Source source;
};

// Each statement kind: the table it writes and the column of each core
// parameter, in the core's order (core/event.cpp); the first is the row's id.
struct Definition {
  Table table;
  int nparams;
  Field fields[kMaxParams];
};

constexpr Source T = Source::text, P = Source::parsed, J = Source::json, I = Source::int32, TS = Source::time;
using C = Column;

const Definition kDefinitions[] = {
    {Table::organizations,
     11,
     {{C::id, T},
      {C::name, T},
      {C::slug, T},
      {C::image_url, T},
      {C::created_by, T},
      {C::max_allowed_memberships, I},
      {C::created_at, TS},
      {C::updated_at, TS},
      {C::data, J},
      {C::source, P},
      {C::sync_version, P}}},
    {Table::users,
     12,
     {{C::id, T},
      {C::primary_email, T},
      {C::first_name, T},
      {C::last_name, T},
      {C::username, T},
      {C::image_url, T},
      {C::external_id, T},
      {C::created_at, TS},
      {C::updated_at, TS},
      {C::data, J},
      {C::source, P},
      {C::sync_version, P}}},
    {Table::memberships,
     10,
     {{C::id, T},
      {C::organization_id, T},
      {C::user_id, T},
      {C::role, T},
      {C::permissions, P},
      {C::created_at, TS},
      {C::updated_at, TS},
      {C::deleted_at, TS},
      {C::data, J},
      {C::sync_version, P}}},
    {Table::invitations,
     10,
     {{C::id, T},
      {C::organization_id, T},
      {C::email_address, T},
      {C::role, T},
      {C::status, T},
      {C::created_at, TS},
      {C::updated_at, TS},
      {C::expires_at, TS},
      {C::data, J},
      {C::sync_version, P}}},
    {Table::organizations, 2, {{C::id, T}, {C::deleted_at, TS}}},             // delete_organization
    {Table::users, 2, {{C::id, T}, {C::deleted_at, TS}}},                     // delete_user
    {Table::memberships, 2, {{C::id, T}, {C::deleted_at, TS}}},               // delete_membership
    {Table::memberships, 2, {{C::organization_id, T}, {C::deleted_at, TS}}},  // end_organization_memberships
    {Table::memberships, 2, {{C::user_id, T}, {C::deleted_at, TS}}},          // end_user_memberships
};
static_assert(sizeof(kDefinitions) / sizeof(kDefinitions[0]) == core::kStatementKinds, "one per kind");

// ---- row by row ---------------------------------------------------------------

bool accepts(Source source, core::Param::Type type) {
  switch (source) {
    case Source::text:
    case Source::parsed: return type == core::Param::Type::text;
    case Source::json: return type == core::Param::Type::json;
    case Source::int32: return type == core::Param::Type::int64;
    case Source::time: return type == core::Param::Type::timestamp_ms;
  }
  return false;
}

// A parameter as its column's value.
Datum column_value(RowAccess* access, Table table, const Field& field, const BoundStatement& s, int i) {
  if (field.source == Source::json && column_type(access, table, field.column) == JSONBOID) {
    const char* text = DatumGetCString(s.values[i]);
    return jsonb_from_canonical(text, strlen(text));
  }
  bool parse = field.source == Source::parsed || field.source == Source::json;
  return parse ? parse_column(access, table, field.column, DatumGetCString(s.values[i])) : s.values[i];
}

int param_index(const Definition& definition, Column column) {
  for (int i = 0; i < definition.nparams; ++i) {
    if (definition.fields[i].column == column) return i;
  }
  elog(ERROR, "orgsync: statement has no parameter for column %d", int(column));
}

// a < b, as Postgres orders bigint[] values: element by element, then length.
bool version_less(Datum a, Datum b) {
  ArrayType* x = DatumGetArrayTypeP(a);
  ArrayType* y = DatumGetArrayTypeP(b);
  if (ARR_HASNULL(x) || ARR_HASNULL(y) || ARR_ELEMTYPE(x) != INT8OID || ARR_ELEMTYPE(y) != INT8OID) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("orgsync: sync_version must be a bigint[] without NULLs")));
  }
  int nx = ArrayGetNItems(ARR_NDIM(x), ARR_DIMS(x));
  int ny = ArrayGetNItems(ARR_NDIM(y), ARR_DIMS(y));
  const auto* ex = reinterpret_cast<const int64*>(ARR_DATA_PTR(x));
  const auto* ey = reinterpret_cast<const int64*>(ARR_DATA_PTR(y));
  for (int i = 0; i < nx && i < ny; ++i) {
    if (ex[i] != ey[i]) return ex[i] < ey[i];
  }
  return nx < ny;
}

// data -> key, with JSON null as SQL NULL.
Datum member_or_null(Datum object, const char* key, bool* isnull) {
  Jsonb* jsonb = DatumGetJsonbP(object);
  JsonbValue value;
  *isnull = !JB_ROOT_IS_OBJECT(jsonb) ||
            getKeyJsonValueFromContainer(&jsonb->root, key, int(strlen(key)), &value) == nullptr ||
            value.type == jbvNull;
  return *isnull ? Datum(0) : JsonbPGetDatum(JsonbValueToJsonb(&value));
}

// The earliest of deletion times; NULL: not deleted.
struct DeletionTime {
  bool isnull = true;
  TimestampTz at = 0;
  void take_earlier(Datum other, bool other_isnull) {
    if (other_isnull) return;
    TimestampTz candidate = DatumGetTimestampTz(other);
    if (isnull || candidate < at) at = candidate;
    isnull = false;
  }
  void take_earlier_of_row(RowAccess* access, Table table, TupleTableSlot* row) {
    bool row_isnull;
    Datum row_at = get_column(access, table, row, Column::deleted_at, &row_isnull);
    take_earlier(row_at, row_isnull);
  }
};

// A membership that arrives after its organization or user was deleted is
// born ended; an ended one stays ended, at the earliest time.
DeletionTime membership_deletion(RowAccess* access, const Definition& definition, const BoundStatement& s,
                                 TupleTableSlot* found) {
  int own = param_index(definition, Column::deleted_at);
  DeletionTime deletion;
  deletion.take_earlier(s.values[own], s.nulls[own] == 'n');
  if (found != nullptr) deletion.take_earlier_of_row(access, Table::memberships, found);
  const std::pair<Table, Column> parents[] = {{Table::organizations, Column::organization_id},
                                              {Table::users, Column::user_id}};
  for (auto [table, column] : parents) {
    // Locked earlier in this delivery (org, then user, then membership).
    TupleTableSlot* parent = find_row(access, table, s.values[param_index(definition, column)], false);
    if (parent != nullptr) deletion.take_earlier_of_row(access, table, parent);
  }
  return deletion;
}

// A full version replaces the row only if its sync_version is higher; the
// row is locked either way, which keeps the lock order of every writer.
uint64 upsert(RowAccess* access, const Definition& definition, const BoundStatement& s) {
  Table table = definition.table;
  int version_index = param_index(definition, Column::sync_version);
  Datum version = column_value(access, table, definition.fields[version_index], s, version_index);
  for (;;) {
    TupleTableSlot* found = find_row(access, table, s.values[0], true);
    if (found != nullptr) {
      bool isnull;
      Datum existing = get_column(access, table, found, Column::sync_version, &isnull);
      if (!isnull && !version_less(existing, version)) return 0;
    }
    TupleTableSlot* row = found != nullptr ? changed_row(access, table, found) : new_row(access, table);
    for (int i = 0; i < definition.nparams; ++i) {
      const Field& field = definition.fields[i];
      bool isnull = s.nulls[i] == 'n';
      Datum value = isnull ? Datum(0) : i == version_index ? version : column_value(access, table, field, s, i);
      set_column(access, table, row, field.column, value, isnull);
      if (field.column == Column::data && !isnull) {
        for (auto [column, key] : {std::pair{Column::public_metadata, "public_metadata"},
                                   std::pair{Column::private_metadata, "private_metadata"}}) {
          bool member_isnull;
          Datum member = member_or_null(value, key, &member_isnull);
          set_column(access, table, row, column, member, member_isnull);
        }
      }
    }
    if (table == Table::memberships) {
      DeletionTime deletion = membership_deletion(access, definition, s, found);
      set_column(access, table, row, Column::deleted_at, TimestampTzGetDatum(deletion.at), deletion.isnull);
    }
    if (found != nullptr) {
      update_row(access, table, found, row);
      return 1;
    }
    if (insert_row(access, table, row)) return 1;
    // Another transaction inserted the row meanwhile: merge with theirs.
  }
}

// deleted_at is set once and only ever moves earlier. A deletion that comes
// first leaves a row known only by it (`create_missing`).
uint64 mark_deleted(RowAccess* access, Table table, Datum id, Datum deleted_at_datum, bool create_missing) {
  TimestampTz deleted_at = DatumGetTimestampTz(deleted_at_datum);
  for (;;) {
    TupleTableSlot* found = find_row(access, table, id, true);
    if (found != nullptr) {
      DeletionTime existing;
      existing.take_earlier_of_row(access, table, found);
      if (!existing.isnull && existing.at <= deleted_at) return 0;
      TupleTableSlot* row = changed_row(access, table, found);
      set_column(access, table, row, Column::deleted_at, deleted_at_datum, false);
      update_row(access, table, found, row);
      return 1;
    }
    if (!create_missing) return 0;
    TupleTableSlot* row = new_row(access, table);
    set_column(access, table, row, Column::id, id, false);
    set_column(access, table, row, Column::deleted_at, deleted_at_datum, false);
    set_column(access, table, row, Column::source, parse_column(access, table, Column::source, pstrdup("deletion")),
               false);
    if (insert_row(access, table, row)) return 1;
  }
}

// Ends the live memberships of a deleted organization or user, locking them
// in id order, so that concurrent cascades cannot deadlock. A membership
// that arrives later looks its organization and user up (upsert).
uint64 end_memberships(RowAccess* access, Column parent, const BoundStatement& s) {
  int count;
  Datum* ids = find_live_ids(access, Table::memberships, parent, s.values[0], DatumGetTimestampTz(s.values[1]), &count);
  uint64 ended = 0;
  for (int i = 0; i < count; ++i) ended += mark_deleted(access, Table::memberships, ids[i], s.values[1], false);
  pfree(ids);
  return ended;
}

}  // namespace

void bind(const core::Statement& statement, BoundStatement& bound) {
  const Definition& definition = kDefinitions[int(statement.kind)];
  if (int(statement.params.size()) != definition.nparams) {
    throw std::logic_error("planned statement has the wrong number of parameters");
  }
  bound.kind = statement.kind;
  bound.nargs = definition.nparams;
  for (int i = 0; i < definition.nparams; ++i) {
    const core::Param& param = statement.params[i];
    Source source = definition.fields[i].source;
    if (!accepts(source, param.type)) throw std::logic_error("planned statement has a parameter of the wrong type");
    bound.nulls[i] = param.is_null ? 'n' : ' ';
    bound.values[i] = 0;
    if (param.is_null) continue;
    switch (source) {
      case Source::text: bound.values[i] = PointerGetDatum(varlena_or_throw(param.text)); break;
      // Read by the column's type when applied: that can raise, so not here.
      case Source::parsed:
      case Source::json: bound.values[i] = CStringGetDatum(cstring_or_throw(param.text)); break;
      case Source::int32:
        if (param.number < PG_INT32_MIN || param.number > PG_INT32_MAX) throw std::logic_error("integer out of range");
        bound.values[i] = Int32GetDatum(int32(param.number));
        break;
      case Source::time: bound.values[i] = TimestampTzGetDatum(timestamp_from_unix_ms(param.number)); break;
    }
  }
}

uint64 apply_statement(RowAccess* access, const BoundStatement& s) {
  const Definition& definition = kDefinitions[int(s.kind)];
  switch (s.kind) {
    case StatementKind::upsert_organization:
    case StatementKind::upsert_user:
    case StatementKind::upsert_membership:
    case StatementKind::upsert_invitation: return upsert(access, definition, s);
    case StatementKind::delete_organization:
    case StatementKind::delete_user: return mark_deleted(access, definition.table, s.values[0], s.values[1], true);
    case StatementKind::delete_membership:
      return mark_deleted(access, definition.table, s.values[0], s.values[1], false);
    case StatementKind::end_organization_memberships:
    case StatementKind::end_user_memberships: return end_memberships(access, definition.fields[0].column, s);
  }
  elog(ERROR, "orgsync: unknown statement kind %d", int(s.kind));
}

// ---- the deliveries log ---------------------------------------------------------

namespace {

void set_text_or_null(RowAccess* access, TupleTableSlot* row, Column column, const char* value) {
  set_column(access, Table::events, row, column, value == nullptr ? Datum(0) : CStringGetTextDatum(value),
             value == nullptr);
}

Datum delivery_status(RowAccess* access, const char* status) {
  return parse_column(access, Table::events, Column::status, pstrdup(status));
}

}  // namespace

bool delivery_recorded(RowAccess* access, text* delivery_id) {
  return find_row(access, Table::events, PointerGetDatum(delivery_id), false) != nullptr;
}

bool record_delivery(RowAccess* access, const Delivery& delivery) {
  TupleTableSlot* row = new_row(access, Table::events);
  set_column(access, Table::events, row, Column::id, PointerGetDatum(delivery.id), false);
  set_column(access, Table::events, row, Column::endpoint, PointerGetDatum(delivery.endpoint), false);
  set_text_or_null(access, row, Column::type, delivery.type);
  set_column(access, Table::events, row, Column::status, delivery_status(access, delivery.status), false);
  set_text_or_null(access, row, Column::error, delivery.error);
  set_text_or_null(access, row, Column::object_id, delivery.object_id);
  set_column(access, Table::events, row, Column::event_time, TimestampTzGetDatum(delivery.event_time),
             !delivery.has_event_time);
  set_column(access, Table::events, row, Column::payload, PointerGetDatum(delivery.payload), false);
  // Another transaction inserted the same delivery meanwhile, as INSERT ...
  // ON CONFLICT DO NOTHING finds: a duplicate once that one commits; if it
  // rolls back, this record must stand, so insert again.
  while (!insert_row(access, Table::events, row)) {
    if (delivery_recorded(access, delivery.id)) return false;
  }
  return true;
}

bool load_delivery(RowAccess* access, text* delivery_id, RecordedDelivery* loaded) {
  TupleTableSlot* found = find_row(access, Table::events, PointerGetDatum(delivery_id), true);
  if (found == nullptr) return false;
  bool isnull, time_isnull;
  loaded->payload = DatumGetTextPP(get_column(access, Table::events, found, Column::payload, &isnull));
  Datum time = get_column(access, Table::events, found, Column::event_time, &time_isnull);
  loaded->has_event_time = !time_isnull;
  loaded->event_time = time_isnull ? 0 : DatumGetTimestampTz(time);
  Datum status = get_column(access, Table::events, found, Column::status, &isnull);
  loaded->status = DatumGetCString(DirectFunctionCall1(enum_out, status));
  return true;
}

void set_delivery_status(RowAccess* access, text* delivery_id, const char* status, const char* error) {
  TupleTableSlot* found = find_row(access, Table::events, PointerGetDatum(delivery_id), true);
  if (found == nullptr) return;
  TupleTableSlot* row = changed_row(access, Table::events, found);
  set_column(access, Table::events, row, Column::status, delivery_status(access, status), false);
  set_text_or_null(access, row, Column::error, error);
  update_row(access, Table::events, found, row);
}

// The one query that stays SQL: keys.cpp caches what it returns.
uint64 select_endpoint_keys(text* endpoint) {
  static SPIPlanPtr plan = nullptr;
  if (plan == nullptr) {
    Oid argtypes[1] = {TEXTOID};
    SPIPlanPtr prepared = SPI_prepare("SELECT key FROM orgsync.secrets WHERE endpoint = $1", 1, argtypes);
    if (prepared == nullptr) elog(ERROR, "orgsync: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    if (SPI_keepplan(prepared) != 0) elog(ERROR, "orgsync: SPI_keepplan failed");
    plan = prepared;
  }
  Datum values[1] = {PointerGetDatum(endpoint)};
  // SPI leaves its procedure context current; the caller's must stay current
  // for what it allocates next.
  MemoryContext caller = CurrentMemoryContext;
  // The newest committed keys, whatever the transaction's isolation: what
  // is read here stays cached after the transaction, until secrets change
  // again, and a REPEATABLE READ snapshot may predate the last change.
  int rc = SPI_execute_snapshot(plan, values, " ", GetLatestSnapshot(), InvalidSnapshot, false, false, 0);
  MemoryContextSwitchTo(caller);
  if (rc < 0) elog(ERROR, "orgsync: reading orgsync.secrets failed: %s", SPI_result_code_string(rc));
  return SPI_processed;
}

}  // namespace orgsync::pg
