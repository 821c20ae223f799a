#include "pg/extension.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "storage/proc.h"
#include "utils/fmgroids.h"
}

// ORGSYNC_VERSION: orgsync.control's default_version, defined by the Makefile.

namespace orgsync::pg {
namespace {

// extversion of the pg_extension row `extension` (palloc'd).
char* installed_version(Oid extension) {
  Relation catalog = table_open(ExtensionRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(extension));
  SysScanDesc scan = systable_beginscan(catalog, ExtensionOidIndexId, true, nullptr, 1, &key);
  HeapTuple tuple = systable_getnext(scan);
  char* version = nullptr;
  if (HeapTupleIsValid(tuple)) {
    bool is_null;
    Datum value = heap_getattr(tuple, Anum_pg_extension_extversion, RelationGetDescr(catalog), &is_null);
    if (!is_null) version = TextDatumGetCString(value);
  }
  systable_endscan(scan);
  table_close(catalog, AccessShareLock);
  return version;
}

}  // namespace

// It changes only with DROP and CREATE EXTENSION, which a transaction calling
// orgsync sees.
Oid extension_oid() {
  static Oid oid = InvalidOid;
  static LocalTransactionId looked_up_in = InvalidLocalTransactionId;
  if (looked_up_in != MyProc->lxid || !OidIsValid(oid)) {
    oid = get_extension_oid("orgsync", false);
    looked_up_in = MyProc->lxid;
  }
  return oid;
}

void require_installed_version() {
  // A version once found current stays so: updates only go forward, and a
  // dropped and re-created extension has another oid.
  static Oid current = InvalidOid;
  Oid extension = extension_oid();
  if (extension == current) return;
  char* version = installed_version(extension);
  if (version == nullptr || strcmp(version, ORGSYNC_VERSION) != 0) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("orgsync: the library is version %s, the extension in this database is version %s",
                           ORGSYNC_VERSION, version ? version : "unknown"),
                    errdetail_internal("extension_not_updated"),
                    errhint("Run ALTER EXTENSION orgsync UPDATE (or install the library of version %s).",
                            version ? version : "the extension's")));
  }
  current = extension;
}

}  // namespace orgsync::pg
