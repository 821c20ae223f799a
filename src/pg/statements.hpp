// The SQL orgsync runs, prepared once per backend and kept across calls.
#pragma once

#include "core/event.hpp"
#include "pg/postgres.hpp"

namespace orgsync::pg {

// The merge statements the core plans (core::StatementKind), then the ones
// the Postgres layer issues itself.
enum class Query {
  insert_event = core::kStatementKinds,
  set_event_status,
  load_keys,
  load_event,
};

constexpr int kMaxParams = 12;

// A statement with its parameters as Datums (a jsonb parameter as the C
// string execute() parses): plain C data, safe to hold across anything that
// may raise.
struct BoundStatement {
  int query;
  int nargs;
  Datum values[kMaxParams];
  char nulls[kMaxParams];
};

// C++ side: binds a planned statement, checking that the core's parameters
// match the SQL's types. Throws; never raises.
void bind(const core::Statement& statement, BoundStatement& bound);

// Postgres side (inside SPI_connect): runs it and returns SPI_processed, in
// the memory context it was called in.
uint64 execute(const BoundStatement& bound);

// Milliseconds since the Unix epoch <-> Postgres timestamps.
inline TimestampTz timestamp_from_unix_ms(int64 ms) {
  return ms * 1000 - (int64(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
}
inline int64 unix_seconds_from_timestamp(TimestampTz at) {
  return at / USECS_PER_SEC + int64(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

}  // namespace orgsync::pg
