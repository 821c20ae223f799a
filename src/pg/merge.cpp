#include "pg/merge.hpp"

#include <utility>

#include "pg/canonical_jsonb.hpp"
#include "pg/catalog.hpp"
#include "pg/change_feed.hpp"
#include "pg/rows.hpp"

extern "C" {
#include "utils/array.h"
}

namespace orgsync::pg {
namespace {

// ---- values --------------------------------------------------------------------

Datum version_datum(const int64 version[4]) {
  Datum elements[4];
  for (int i = 0; i < 4; ++i) elements[i] = Int64GetDatum(version[i]);
  return PointerGetDatum(construct_array(elements, 4, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

// A stored sync_version: up to 4 elements (a tombstone's is empty).
int stored_version(Datum datum, int64 version[4]) {
  ArrayType* array = DatumGetArrayTypeP(datum);
  if (ARR_HASNULL(array) || ARR_ELEMTYPE(array) != INT8OID || ARR_NDIM(array) > 1) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("orgsync: sync_version must be a bigint[] without NULLs")));
  }
  int count = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
  const auto* elements = reinterpret_cast<const int64*>(ARR_DATA_PTR(array));
  for (int i = 0; i < 4; ++i) version[i] = i < count ? elements[i] : 0;
  return count;
}

Datum text_array_datum(const BoundValue& value) {
  Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (value.item_count + 1)));
  for (int i = 0; i < value.item_count; ++i) elements[i] = CStringGetTextDatum(value.items[i]);
  return PointerGetDatum(construct_array(elements, value.item_count, TEXTOID, -1, false, TYPALIGN_INT));
}

Datum column_datum(const BoundValue& value) {
  switch (core::value_type(value.column)) {
    case core::ValueType::text_array: return text_array_datum(value);
    default: return value.value;
  }
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

// ---- deletion times -------------------------------------------------------------

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

// The rows a child row belongs to: it ends when they are deleted.
struct Parent {
  Column column;
  Table table;
};
constexpr Parent kMembershipParents[] = {{Column::organization_id, Table::organizations},
                                         {Column::user_id, Table::users}};
constexpr Parent kOrganizationParent[] = {{Column::organization_id, Table::organizations}};

std::pair<const Parent*, const Parent*> parents_of(Table table) {
  switch (table) {
    case Table::memberships: return {std::begin(kMembershipParents), std::end(kMembershipParents)};
    case Table::invitations:
    case Table::domains: return {std::begin(kOrganizationParent), std::end(kOrganizationParent)};
    default: return {nullptr, nullptr};
  }
}

const BoundValue* value_of(const BoundUpsert& upsert, Column column) {
  for (int i = 0; i < upsert.value_count; ++i) {
    if (upsert.values[i].column == column) return &upsert.values[i];
  }
  return nullptr;
}

// A child that arrives after its organization or user was deleted is born
// ended; an ended one stays ended, at the earliest time. The parents were
// locked earlier in this delivery (their placeholders' upserts).
DeletionTime child_deletion(RowAccess* access, const BoundUpsert& upsert, TupleTableSlot* found) {
  DeletionTime deletion;
  if (found != nullptr) deletion.take_earlier_of_row(access, upsert.table, found);
  auto [first, last] = parents_of(upsert.table);
  for (const Parent* parent = first; parent != last; ++parent) {
    const BoundValue* id = value_of(upsert, parent->column);
    if (id == nullptr || id->isnull) continue;
    TupleTableSlot* row = find_row(access, parent->table, id->value, false);
    if (row != nullptr) deletion.take_earlier_of_row(access, parent->table, row);
  }
  return deletion;
}

// Tells the change feed what a write just did to `row`.
void feed_change(RowAccess* access, Table table, TupleTableSlot* row, const char* operation) {
  if (!notify_changes) return;
  bool isnull, org_isnull = true;
  Datum id = get_column(access, table, row, Column::id, &isnull);
  Datum organization_id = id;
  if (table == Table::organizations) {
    org_isnull = false;
  } else if (parents_of(table).first != nullptr) {
    organization_id = get_column(access, table, row, Column::organization_id, &org_isnull);
  }
  note_change(table, id, organization_id, org_isnull, operation);
}

// ---- upserts ---------------------------------------------------------------------

enum class Decision { keep, replace, join };

// What an incoming version does to the stored one. Whatever the order of
// arrival, the row ends with the newest version's content, the join of all
// copies of that version that carry data, and the latest event time among
// them: the same row for every order.
Decision decide(const int64 stored[4], int stored_count, const BoundUpsert& incoming, bool stored_has_data) {
  const int64* version = incoming.version;
  if (stored_count < 4) return Decision::replace;  // a tombstone: anything is newer
  for (int i = 0; i < 2; ++i) {
    if (stored[i] != version[i]) return stored[i] < version[i] ? Decision::replace : Decision::keep;
  }
  // A bare placeholder (no data) adds nothing to a row with data; among bare
  // copies, and among copies of equal content, the latest event time stays.
  bool later = version[2] > stored[2];
  if (incoming.data == nullptr) return !stored_has_data && later ? Decision::replace : Decision::keep;
  if (!stored_has_data) return Decision::replace;
  if (stored[3] == version[3]) return later ? Decision::replace : Decision::keep;
  return Decision::join;
}

bool same_version(const int64 a[4], const int64 b[4]) {
  return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

void write_upsert_columns(RowAccess* access, const BoundUpsert& upsert, TupleTableSlot* row) {
  Table table = upsert.table;
  set_column(access, table, row, Column::id, PointerGetDatum(upsert.id), false);
  for (Column column : core::object_columns(table)) set_column(access, table, row, column, Datum(0), true);
  for (int i = 0; i < upsert.value_count; ++i) {
    const BoundValue& value = upsert.values[i];
    set_column(access, table, row, value.column, value.isnull ? Datum(0) : column_datum(value), value.isnull);
  }
  Datum data = upsert.data == nullptr ? Datum(0) : jsonb_from_canonical(upsert.data, upsert.data_length);
  set_column(access, table, row, Column::data, data, upsert.data == nullptr);
  if (core::has_metadata(table)) {
    for (auto [column, key] : {std::pair{Column::public_metadata, "public_metadata"},
                               std::pair{Column::private_metadata, "private_metadata"}}) {
      bool isnull = true;
      Datum member = upsert.data == nullptr ? Datum(0) : member_or_null(data, key, &isnull);
      set_column(access, table, row, column, member, isnull);
    }
  }
  if (core::has_source(table)) set_column(access, table, row, Column::source, row_source_datum(upsert.source), false);
  set_column(access, table, row, Column::sync_version, version_datum(upsert.version), false);
}

// The row is locked whether or not it changes, which keeps the lock order of
// every writer.
uint64 upsert(RowAccess* access, const BoundUpsert& incoming) {
  Table table = incoming.table;
  for (;;) {
    const BoundUpsert* upsert = &incoming;
    TupleTableSlot* found = find_row(access, table, PointerGetDatum(incoming.id), true);
    if (found != nullptr) {
      bool isnull, data_isnull;
      Datum version = get_column(access, table, found, Column::sync_version, &isnull);
      int64 stored[4] = {0, 0, 0, 0};
      int stored_count = isnull ? 0 : stored_version(version, stored);
      Datum data = get_column(access, table, found, Column::data, &data_isnull);
      Decision decision = decide(stored, stored_count, incoming, !data_isnull);
      if (decision == Decision::keep) return 0;
      if (decision == Decision::join) {
        Jsonb* jsonb = DatumGetJsonbP(data);
        upsert = rejoin_bound(incoming, JsonbToCString(nullptr, &jsonb->root, VARSIZE(jsonb)), stored);
        if (same_version(upsert->version, stored)) return 0;  // the join is what is stored
      }
    }
    TupleTableSlot* row = found != nullptr ? changed_row(access, table, found) : new_row(access, table);
    write_upsert_columns(access, *upsert, row);
    if (parents_of(table).first != nullptr) {
      DeletionTime deletion = child_deletion(access, *upsert, found);
      set_column(access, table, row, Column::deleted_at, TimestampTzGetDatum(deletion.at), deletion.isnull);
    }
    if (found != nullptr) {
      update_row(access, table, found, row);
      feed_change(access, table, row, "upsert");
      return 1;
    }
    if (insert_row(access, table, row)) {
      feed_change(access, table, row, "upsert");
      return 1;
    }
    // Another transaction inserted the row meanwhile: merge with theirs.
  }
}

// ---- deletions -------------------------------------------------------------------

// deleted_at is set once and only ever moves earlier.
uint64 mark_deleted(RowAccess* access, const BoundTombstone& tombstone) {
  Table table = tombstone.table;
  Datum id = PointerGetDatum(tombstone.id);
  for (;;) {
    TupleTableSlot* found = find_row(access, table, id, true);
    if (found != nullptr) {
      DeletionTime existing;
      existing.take_earlier_of_row(access, table, found);
      if (!existing.isnull && existing.at <= tombstone.deleted_at) return 0;
      TupleTableSlot* row = changed_row(access, table, found);
      set_column(access, table, row, Column::deleted_at, TimestampTzGetDatum(tombstone.deleted_at), false);
      update_row(access, table, found, row);
      feed_change(access, table, row, "delete");
      return 1;
    }
    if (!tombstone.create_missing) return 0;
    TupleTableSlot* row = new_row(access, table);
    set_column(access, table, row, Column::id, id, false);
    set_column(access, table, row, Column::deleted_at, TimestampTzGetDatum(tombstone.deleted_at), false);
    if (core::has_source(table)) {
      set_column(access, table, row, Column::source, row_source_datum(core::RowSource::deletion), false);
    }
    if (tombstone.organization_id != nullptr) {
      set_column(access, table, row, Column::organization_id, PointerGetDatum(tombstone.organization_id), false);
    }
    if (insert_row(access, table, row)) {
      feed_change(access, table, row, "delete");
      return 1;
    }
  }
}

// Ends the live children of a deleted row, locking them in id order, so
// that concurrent cascades cannot deadlock. A child that arrives later looks
// its parents up (child_deletion).
uint64 end_children(RowAccess* access, const BoundEndChildren& end) {
  int count;
  Datum* ids = find_live_ids(access, end.table, end.parent, PointerGetDatum(end.parent_id), end.deleted_at, &count);
  uint64 ended = 0;
  for (int i = 0; i < count; ++i) {
    BoundTombstone tombstone{end.table, reinterpret_cast<text*>(DatumGetPointer(ids[i])), end.deleted_at, false,
                             nullptr};
    ended += mark_deleted(access, tombstone);
  }
  pfree(ids);
  return ended;
}

}  // namespace

uint64 apply_write(RowAccess* access, const BoundWrite& write) {
  switch (write.kind) {
    case BoundWrite::Kind::upsert: return upsert(access, write.upsert);
    case BoundWrite::Kind::tombstone: return mark_deleted(access, write.tombstone);
    case BoundWrite::Kind::end_children: return end_children(access, write.end_children);
  }
  elog(ERROR, "orgsync: unknown write kind %d", int(write.kind));
}

uint64 apply_writes(RowAccess* access, const BoundWrites& writes) {
  uint64 changed = 0;
  for (int i = 0; i < writes.count; ++i) changed += apply_write(access, writes.writes[i]);
  return changed;
}

}  // namespace orgsync::pg
