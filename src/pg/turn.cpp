#include "pg/turn.hpp"

extern "C" {
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/utility.h"
}

namespace orgsync::pg {
namespace {

// The extension's oid, looked up once per transaction: it changes only with
// DROP and CREATE EXTENSION, which a transaction calling orgsync sees.
Oid extension_oid() {
  static Oid oid = InvalidOid;
  static LocalTransactionId looked_up_in = InvalidLocalTransactionId;
  if (looked_up_in != MyProc->lxid || !OidIsValid(oid)) {
    oid = get_extension_oid("orgsync", false);
    looked_up_in = MyProc->lxid;
  }
  return oid;
}

}  // namespace

Turn take_turn(const char* function) {
  PreventCommandIfReadOnly(function);
  Oid extension = extension_oid();
  LockDatabaseObject(ExtensionRelationId, extension, 0, ExclusiveLock);
  return {extension};
}

void end_turn(Turn turn) { UnlockDatabaseObject(ExtensionRelationId, turn.extension, 0, ExclusiveLock); }

}  // namespace orgsync::pg
