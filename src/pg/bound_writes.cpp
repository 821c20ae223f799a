#include "pg/bound_writes.hpp"

#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/objects.hpp"
#include "pg/pg_memory.hpp"
#include "pg/times.hpp"

namespace orgsync::pg {
namespace {

template <typename T>
T* palloc_array_or_throw(size_t count) {
  static_assert(std::is_trivially_copyable_v<T>, "plain C data only");
  return static_cast<T*>(palloc_or_throw(sizeof(T) * (count == 0 ? 1 : count)));
}

BoundValue bind_value(core::Column column, const core::ColumnValue& value) {
  BoundValue bound{column, value.is_null, Datum(0), nullptr, 0};
  if (value.is_null) return bound;
  switch (core::value_type(column)) {
    case core::ValueType::text: bound.value = PointerGetDatum(varlena_or_throw(value.text)); break;
    case core::ValueType::int32: bound.value = Int32GetDatum(int32(value.number)); break;
    case core::ValueType::boolean: bound.value = BoolGetDatum(value.number != 0); break;
    case core::ValueType::time_ms: bound.value = TimestampTzGetDatum(timestamp_from_unix_ms(value.number)); break;
    case core::ValueType::json:  // data and the metadata are written from the upsert's data, never bound
      throw std::logic_error(std::string("orgsync: column ") + core::column_name(column) + " is not an object column");
    case core::ValueType::text_array: {
      auto** items = palloc_array_or_throw<const char*>(value.items.size());
      for (size_t i = 0; i < value.items.size(); ++i) items[i] = cstring_or_throw(value.items[i]);
      bound.items = items;
      bound.item_count = int(value.items.size());
      break;
    }
  }
  return bound;
}

BoundUpsert bind_upsert(const core::Upsert& upsert) {
  BoundUpsert bound{};
  bound.table = upsert.table;
  bound.id = varlena_or_throw(upsert.id);
  bound.source = upsert.source;
  auto key = upsert.version.key();
  for (int i = 0; i < 4; ++i) bound.version[i] = key[i];
  if (upsert.data) {
    bound.data = cstring_or_throw(*upsert.data);
    bound.data_length = upsert.data->size();
  }
  bound.value_count = int(upsert.values().size());
  bound.values = palloc_array_or_throw<BoundValue>(upsert.values().size());
  for (size_t i = 0; i < upsert.values().size(); ++i) {
    bound.values[i] = bind_value(upsert.values()[i].first, upsert.values()[i].second);
  }
  return bound;
}

text* optional_text(const std::optional<std::string>& value) { return value ? varlena_or_throw(*value) : nullptr; }

BoundWrite bind_write(const core::Write& write) {
  BoundWrite bound{};
  if (const auto* upsert = std::get_if<core::Upsert>(&write)) {
    bound.kind = BoundWrite::Kind::upsert;
    bound.upsert = bind_upsert(*upsert);
  } else if (const auto* tombstone = std::get_if<core::Tombstone>(&write)) {
    bound.kind = BoundWrite::Kind::tombstone;
    bound.tombstone = {tombstone->table, varlena_or_throw(tombstone->id),
                       timestamp_from_unix_ms(tombstone->deleted_at_ms), tombstone->create_missing,
                       optional_text(tombstone->organization_id)};
  } else {
    const auto& end = std::get<core::EndChildren>(write);
    bound.kind = BoundWrite::Kind::end_children;
    bound.end_children = {end.table, end.parent, varlena_or_throw(end.parent_id),
                          timestamp_from_unix_ms(end.deleted_at_ms)};
  }
  return bound;
}

}  // namespace

BoundWrites bind_writes(const std::vector<core::Write>& writes) {
  BoundWrites bound{int(writes.size()), palloc_array_or_throw<BoundWrite>(writes.size())};
  for (size_t i = 0; i < writes.size(); ++i) bound.writes[i] = bind_write(writes[i]);
  return bound;
}

BoundUpsert* rejoin_bound(const BoundUpsert& incoming, const char* stored_data, const int64 stored_version[4]) {
  core::Upsert upsert(incoming.table, std::string(VARDATA_ANY(incoming.id), VARSIZE_ANY_EXHDR(incoming.id)),
                      incoming.source);
  upsert.version = {incoming.version[0], incoming.version[1], incoming.version[2], incoming.version[3]};
  if (incoming.data != nullptr) upsert.data = std::string(incoming.data, incoming.data_length);
  core::Version stored{stored_version[0], stored_version[1], stored_version[2], stored_version[3]};
  std::optional<core::Upsert> joined = core::rejoin(upsert, stored_data, stored);
  auto* bound = palloc_array_or_throw<BoundUpsert>(1);
  *bound = joined ? bind_upsert(*joined) : incoming;
  return bound;
}

}  // namespace orgsync::pg
