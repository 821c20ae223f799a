// The extension as this database has it: its oid, and whether its SQL objects
// are the version this library was built for. Installing a new library comes
// before ALTER EXTENSION orgsync UPDATE; in between, the old objects would
// meet queries they lack columns for.
#pragma once

#include "pg/postgres.hpp"

namespace orgsync::pg {

// orgsync's pg_extension oid, looked up once per transaction.
Oid extension_oid();

// Raises 55000 (DETAIL extension_not_updated, so that the relay answers 503
// and Svix delivers again later) unless the installed version is the
// library's. Checked once per backend while the extension stays the same.
void require_installed_version();

}  // namespace orgsync::pg
