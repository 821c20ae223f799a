// The turn that calls applying many deliveries (or a backfill page) in one
// transaction take while they run. Two such calls running at once could lock
// the same rows in opposite orders and deadlock. A turn ends with the call,
// before the commit: a call that has run waits for nothing more, so the next
// one may wait for its rows but never deadlock with it, and commits overlap.
// The turn is a lock on the extension itself, which no other role can hold
// (only its owner's ALTER, COMMENT ON or DROP EXTENSION take it), where an
// advisory lock would be any role's to take and keep.
#pragma once

#include "pg/postgres.hpp"

namespace orgsync::pg {

struct Turn {
  Oid extension;
};

Turn take_turn();
void end_turn(Turn turn);

}  // namespace orgsync::pg
