// The turn every call that writes mirror rows takes while it writes. Two
// transactions locking several rows each (a handle_events batch, a backfill
// page, or a single delivery's organization, user and membership) could
// otherwise lock them in opposite orders and deadlock. A turn ends with the
// call, before the commit: a call that has written waits for nothing more,
// so the next one may wait for its rows but never deadlock with it, and
// commits overlap. The turn is a lock on the extension itself, which no
// other role can hold (only its owner's ALTER, COMMENT ON or DROP EXTENSION
// take it), where an advisory lock would be any role's to take and keep.
#pragma once

#include "pg/postgres.hpp"

namespace orgsync::pg {

struct Turn {
  Oid extension;
};

// Refuses a read-only transaction first (25006, naming `function`), as the
// writes that follow would.
Turn take_turn(const char* function);
void end_turn(Turn turn);

}  // namespace orgsync::pg
