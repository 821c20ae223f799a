#include "core/writes.hpp"

#include <algorithm>
#include <stdexcept>

namespace orgsync::core {

int64_t digest_of(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash);
}

const char* source_label(RowSource source) {
  switch (source) {
    case RowSource::event: return "event";
    case RowSource::snapshot: return "snapshot";
    case RowSource::deletion: return "deletion";
  }
  return "?";
}

ColumnValue& Upsert::slot(Column column, ValueType type) {
  ColumnList columns = object_columns(table);
  if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
    throw std::logic_error(std::string("orgsync: column ") + column_name(column) + " is not an object column of " +
                           table_name(table));
  }
  if (value_type(column) != type) {
    throw std::logic_error(std::string("orgsync: column ") + column_name(column) + " set with the wrong type");
  }
  for (auto& [existing, value] : values_) {
    if (existing == column) throw std::logic_error(std::string("orgsync: column ") + column_name(column) + " set twice");
  }
  values_.emplace_back(column, ColumnValue{});
  return values_.back().second;
}

void Upsert::set_text(Column column, std::optional<std::string> value) {
  ColumnValue& slot = this->slot(column, ValueType::text);
  slot.is_null = !value;
  if (value) slot.text = std::move(*value);
}

void Upsert::set_int32(Column column, std::optional<int32_t> value) {
  ColumnValue& slot = this->slot(column, ValueType::int32);
  slot.is_null = !value;
  slot.number = value.value_or(0);
}

void Upsert::set_boolean(Column column, std::optional<bool> value) {
  ColumnValue& slot = this->slot(column, ValueType::boolean);
  slot.is_null = !value;
  slot.number = value.value_or(false);
}

void Upsert::set_time(Column column, std::optional<int64_t> ms) {
  ColumnValue& slot = this->slot(column, ValueType::time_ms);
  slot.is_null = !ms;
  slot.number = ms.value_or(0);
}

void Upsert::set_text_array(Column column, std::optional<std::vector<std::string>> items) {
  ColumnValue& slot = this->slot(column, ValueType::text_array);
  slot.is_null = !items;
  if (items) slot.items = std::move(*items);
}

const ColumnValue& Upsert::get(Column column) const {
  static const ColumnValue kNull;
  for (const auto& [existing, value] : values_) {
    if (existing == column) return value;
  }
  return kNull;
}

}  // namespace orgsync::core
