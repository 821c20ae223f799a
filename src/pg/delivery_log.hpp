// The deliveries log, orgsync.events: one row per verified delivery, its body
// kept byte for byte, whatever became of it. Postgres side: raises.
#pragma once

#include "pg/postgres.hpp"
#include "pg/row_access.hpp"

namespace orgsync::pg {

struct Delivery {
  text* id;
  text* endpoint;
  const char* type;       // NULL when unknown
  const char* object_id;  // NULL when unknown
  bool has_event_time;
  TimestampTz event_time;
  const char* status;  // "applied", "stale", "ignored" or "invalid"
  const char* error;   // NULL when none
  text* payload;
};

bool delivery_recorded(RowAccess* access, text* delivery_id);

// Returns false, recording nothing, if the delivery id is recorded already.
// Another transaction recording the same id at the same moment is waited
// for, as INSERT ... ON CONFLICT DO NOTHING waits: a duplicate if it
// commits; recorded here if it rolls back.
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

}  // namespace orgsync::pg
