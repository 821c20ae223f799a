// The core's writes (core/writes.hpp) copied into palloc'd plain C data, which
// the Postgres side (merge.hpp) can hold across anything that may raise.
// Binding is the C++ side of the boundary: it throws, and calls nothing in
// Postgres that can raise (pg_memory.hpp).
#pragma once

#include <vector>

#include "core/writes.hpp"
#include "pg/postgres.hpp"

namespace orgsync::pg {

struct BoundValue {
  core::Column column;
  bool isnull;
  Datum value;               // text: a text*; int32, boolean, time_ms: the Datum itself
  const char* const* items;  // text_array: NUL-terminated strings
  int item_count;
};

struct BoundUpsert {
  core::Table table;
  text* id;
  core::RowSource source;
  int64 version[4];  // core::Version::key()
  const char* data;  // canonical JSON, NUL-terminated; NULL for a bare placeholder
  size_t data_length;
  int value_count;
  BoundValue* values;
};

struct BoundTombstone {
  core::Table table;
  text* id;
  TimestampTz deleted_at;
  bool create_missing;
  text* organization_id;  // NULL unless given
};

struct BoundEndChildren {
  core::Table table;
  core::Column parent;
  text* parent_id;
  TimestampTz deleted_at;
};

struct BoundWrite {
  enum class Kind { upsert, tombstone, end_children } kind;
  BoundUpsert upsert;
  BoundTombstone tombstone;
  BoundEndChildren end_children;
};

struct BoundWrites {
  int count;
  BoundWrite* writes;
};

BoundWrites bind_writes(const std::vector<core::Write>& writes);

// core::rejoin of an incoming upsert with the stored data of the same
// version (merge.cpp calls it on a tie), bound; `incoming` itself where the
// stored copy cannot be joined.
BoundUpsert* rejoin_bound(const BoundUpsert& incoming, const char* stored_data, const int64 stored_version[4]);

}  // namespace orgsync::pg
