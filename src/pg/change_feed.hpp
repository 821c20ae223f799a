// The change feed: with orgsync.notify_changes on (per database:
// ALTER DATABASE ... SET orgsync.notify_changes = on), each row change the
// merge makes is sent as NOTIFY orgsync_changes with a small JSON payload,
// delivered when its transaction commits, never for a rolled-back one.
// Postgres side: raises.
#pragma once

#include "core/tables.hpp"
#include "pg/postgres.hpp"

namespace orgsync::pg {

extern bool notify_changes;  // the setting

// What the changes that follow come from: the event type and the delivery
// id (NULL for a backfill page).
void set_change_origin(const char* event_type, const char* delivery_id);

// A row of `table` was inserted or updated ("upsert"), or ended ("delete").
void note_change(core::Table table, Datum id, Datum organization_id, bool organization_id_isnull,
                 const char* operation);

}  // namespace orgsync::pg
