// The library's entry: its magic block, and _PG_init with orgsync's settings
// and the callbacks its caches and kept row access need.

#include <climits>

#include "pg/catalog.hpp"
#include "pg/change_feed.hpp"
#include "pg/delivery.hpp"
#include "pg/keys.hpp"
#include "pg/row_access.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

void _PG_init(void) {
  using namespace orgsync::pg;
  DefineCustomIntVariable("orgsync.timestamp_tolerance",
                          "How far a delivery's signed timestamp may be from now, in seconds.",
                          "Deliveries outside this window are rejected as replays.", &timestamp_tolerance_seconds, 300,
                          0, INT_MAX, PGC_SUSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("orgsync.notify_changes", "Sends each row change orgsync makes as NOTIFY orgsync_changes.",
                           "Off by default: a notification queue that listeners do not drain fills up, and then "
                           "commits fail. Set it per database with ALTER DATABASE ... SET.",
                           &notify_changes, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("orgsync");
  register_catalog_invalidation();
  register_key_cache_invalidation();
  register_row_access_callbacks();
}
