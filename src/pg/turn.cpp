#include "pg/turn.hpp"

extern "C" {
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "storage/lmgr.h"
}

namespace orgsync::pg {

Turn take_turn() {
  Oid extension = get_extension_oid("orgsync", false);
  LockDatabaseObject(ExtensionRelationId, extension, 0, ExclusiveLock);
  return {extension};
}

void end_turn(Turn turn) { UnlockDatabaseObject(ExtensionRelationId, turn.extension, 0, ExclusiveLock); }

}  // namespace orgsync::pg
