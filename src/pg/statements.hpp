// How orgsync writes: the core's planned statements and the deliveries log,
// carried out row by row (rows.hpp), and the one query that stays SQL.
#pragma once

#include "core/event.hpp"
#include "pg/postgres.hpp"
#include "pg/rows.hpp"

namespace orgsync::pg {

constexpr int kMaxParams = 12;

// A planned statement with its parameters as Datums (a value that a column
// type's input function will read stays a C string until then): plain C
// data, safe to hold across anything that may raise.
struct BoundStatement {
  core::StatementKind kind;
  int nargs;
  Datum values[kMaxParams];
  char nulls[kMaxParams];  // 'n' for NULL, as SPI has it
};

// C++ side: binds a planned statement, checking that the core's parameters
// are the ones its definition expects. Throws; never raises.
void bind(const core::Statement& statement, BoundStatement& bound);

// Postgres side: carries it out and returns the number of rows it changed.
uint64 apply_statement(RowAccess* access, const BoundStatement& statement);

// The deliveries log, orgsync.events.
struct Delivery {
  text* id;
  text* endpoint;
  const char* type;       // NULL when unknown
  const char* object_id;  // NULL when unknown
  bool has_event_time;
  TimestampTz event_time;
  const char* status;
  const char* error;  // NULL when none
  text* payload;
};

bool delivery_recorded(RowAccess* access, text* delivery_id);
// Returns false, recording nothing, if the delivery id is recorded already.
bool record_delivery(RowAccess* access, const Delivery& delivery);

// A recorded delivery, locked until the end of the transaction; false if none.
struct RecordedDelivery {
  text* payload;
  bool has_event_time;
  TimestampTz event_time;
  char* status;
};
bool load_delivery(RowAccess* access, text* delivery_id, RecordedDelivery* loaded);
void set_delivery_status(RowAccess* access, text* delivery_id, const char* status, const char* error);

// The signing keys of an endpoint, as SPI_tuptable rows of one bytea column.
uint64 select_endpoint_keys(text* endpoint);

// Milliseconds since the Unix epoch <-> Postgres timestamps.
inline TimestampTz timestamp_from_unix_ms(int64 ms) {
  return ms * 1000 - (int64(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
}
inline int64 unix_seconds_from_timestamp(TimestampTz at) {
  return at / USECS_PER_SEC + int64(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

}  // namespace orgsync::pg
