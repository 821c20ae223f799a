// What the core asks the Postgres layer to write: named columns with typed
// values, never parameter positions. The merge rules that decide whether a
// write changes a row live in the Postgres layer (pg/merge.hpp), which holds
// the rows; this file is the contract between the two.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/tables.hpp"

namespace orgsync::core {

// One column's new value, of the type value_type(column) says.
struct ColumnValue {
  bool is_null = true;
  std::string text;                // text
  int64_t number = 0;              // int32, boolean (0 or 1), time_ms
  std::vector<std::string> items;  // text_array
};

// The merge key of one version of an object, stored as `sync_version`
// (bigint[]) and compared element by element, as Postgres compares arrays.
struct Version {
  // 0: a snapshot carried inside another object; 1: a full Clerk object;
  // 2: a full object in a final state (an invitation accepted, revoked or
  // expired), which no copy in another state replaces.
  int64_t rank = 0;
  int64_t updated_at_ms = 0;  // the object's updated_at (else created_at)
  int64_t event_time_ms = 0;  // the delivery's event time; 0 for a Backend API copy
  int64_t digest = 0;         // of the canonical `data`: equal digests, equal content

  std::array<int64_t, 4> key() const { return {rank, updated_at_ms, event_time_ms, digest}; }
  // Two copies of the same version of an object, which the merge joins
  // rather than letting one replace the other.
  bool same_version_as(const Version& other) const {
    return rank == other.rank && updated_at_ms == other.updated_at_ms;
  }
};

// FNV-1a over the canonical text: stable on every platform and build.
int64_t digest_of(std::string_view text);

// Where a row's content came from: the labels of the enum orgsync.row_source.
enum class RowSource : uint8_t { event, snapshot, deletion };
const char* source_label(RowSource source);

// A version of one object, for the row with `id` in `table`: it replaces the
// row if newer, is joined with it if the same version, and changes nothing if
// older (pg/merge.hpp).
class Upsert {
 public:
  Upsert(Table table, std::string id, RowSource source) : table(table), id(std::move(id)), source(source) {}

  Table table;
  std::string id;
  RowSource source;
  Version version;
  std::optional<std::string> data;  // the object's canonical JSON; none for a bare placeholder

  // Setters check that the column is one of the table's object_columns and
  // takes that type (std::logic_error otherwise: a bug, not bad input).
  void set_text(Column column, std::optional<std::string> value);
  void set_int32(Column column, std::optional<int32_t> value);
  void set_boolean(Column column, std::optional<bool> value);
  void set_time(Column column, std::optional<int64_t> ms);
  void set_text_array(Column column, std::optional<std::vector<std::string>> items);

  // The value set for `column`, or NULL.
  const ColumnValue& get(Column column) const;
  const std::vector<std::pair<Column, ColumnValue>>& values() const { return values_; }

 private:
  ColumnValue& slot(Column column, ValueType type);
  std::vector<std::pair<Column, ColumnValue>> values_;
};

// A deletion: `deleted_at` is set once and only ever moves earlier. With
// `create_missing`, a deletion that comes before the object leaves a row
// known only by it (with the parent ids given, if any).
struct Tombstone {
  Table table = Table::organizations;
  std::string id;
  int64_t deleted_at_ms = 0;
  bool create_missing = false;
  std::optional<std::string> organization_id;  // memberships: the tombstone row's parent
};

// Ends the live rows of `table` whose `parent` column is `parent_id` (a
// deleted organization's memberships, say), in id order.
struct EndChildren {
  Table table = Table::memberships;
  Column parent = Column::organization_id;
  std::string parent_id;
  int64_t deleted_at_ms = 0;
};

using Write = std::variant<Upsert, Tombstone, EndChildren>;

}  // namespace orgsync::core
