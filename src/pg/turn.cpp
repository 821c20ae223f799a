#include "pg/turn.hpp"

#include "pg/extension.hpp"

extern "C" {
#include "catalog/pg_extension.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
}

namespace orgsync::pg {

Turn take_turn(const char* function) {
  PreventCommandIfReadOnly(function);
  Oid extension = extension_oid();
  LockDatabaseObject(ExtensionRelationId, extension, 0, ExclusiveLock);
  return {extension};
}

void end_turn(Turn turn) { UnlockDatabaseObject(ExtensionRelationId, turn.extension, 0, ExclusiveLock); }

}  // namespace orgsync::pg
