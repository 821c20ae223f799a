#include "pg/keys.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
}

#include "pg/boundary.hpp"
#include "pg/extension.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/snapmgr.h"
}

namespace orgsync::pg {
namespace {

// A statement prepared once per backend.
SPIPlanPtr kept_plan(SPIPlanPtr* plan, const char* sql, int nargs, Oid* argtypes) {
  if (*plan == nullptr) {
    SPIPlanPtr prepared = SPI_prepare(sql, nargs, argtypes);
    if (prepared == nullptr) elog(ERROR, "orgsync: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    if (SPI_keepplan(prepared) != 0) elog(ERROR, "orgsync: SPI_keepplan failed");
    *plan = prepared;
  }
  return *plan;
}

// The endpoint's signing keys, as SPI_tuptable rows (key bytea, fingerprint text).
uint64 select_endpoint_keys(text* endpoint) {
  static SPIPlanPtr select_keys = nullptr;
  Oid argtypes[1] = {TEXTOID};
  SPIPlanPtr plan =
      kept_plan(&select_keys, "SELECT key, fingerprint FROM orgsync.secrets WHERE endpoint = $1", 1, argtypes);
  Datum values[1] = {PointerGetDatum(endpoint)};
  // SPI leaves its procedure context current; the caller's must stay current
  // for what it allocates next.
  MemoryContext caller = CurrentMemoryContext;
  // The newest committed keys, whatever the transaction's isolation: what
  // is read here stays cached after the transaction, until secrets change
  // again, and a REPEATABLE READ snapshot may predate the last change.
  int rc = SPI_execute_snapshot(plan, values, " ", GetLatestSnapshot(), InvalidSnapshot, false, false, 0);
  MemoryContextSwitchTo(caller);
  if (rc < 0) elog(ERROR, "orgsync: reading orgsync.secrets failed: %s", SPI_result_code_string(rc));
  return SPI_processed;
}

struct CachedEndpoint {
  char* name;
  Keys keys;
};

// When this backend last recorded a key's use, by fingerprint (a handful of
// keys: a list). Kept apart from the key cache, which a change of secrets resets.
constexpr int kNotedKeys = 16;
struct NotedKey {
  char fingerprint[33];
  TimestampTz at;
};
NotedKey noted_keys[kNotedKeys];
int noted_count = 0;
constexpr int64 kNoteEveryUsec = 60 * USECS_PER_SEC;

MemoryContext cache_context = nullptr;
CachedEndpoint* cached = nullptr;
int cached_count = 0;
int cached_capacity = 0;
Oid secrets_relid = InvalidOid;

void drop_cache(Datum, Oid relid) {
  if (cache_context == nullptr || !(relid == InvalidOid || relid == secrets_relid)) return;
  MemoryContextReset(cache_context);
  cached = nullptr;
  cached_count = cached_capacity = 0;
}

const CachedEndpoint* find(const char* name) {
  for (int i = 0; i < cached_count; ++i) {
    if (strcmp(cached[i].name, name) == 0) return &cached[i];
  }
  return nullptr;
}

// Reads the endpoint's keys from orgsync.secrets, and caches them when there
// are any: endpoint names without keys are as many as callers care to make
// up, and each would stay in this backend's memory until secrets change.
Keys load(const char* name, text* endpoint) {
  require_installed_version();  // the columns read here are the library's version's
  SPI_connect();
  uint64 rows = select_endpoint_keys(endpoint);
  if (rows == 0) {
    SPI_finish();
    return {0, nullptr, nullptr};
  }
  if (cache_context == nullptr) {
    cache_context = AllocSetContextCreate(TopMemoryContext, "orgsync signing keys", ALLOCSET_SMALL_SIZES);
  }
  secrets_relid = get_relname_relid("secrets", get_namespace_oid("orgsync", false));

  MemoryContext previous = MemoryContextSwitchTo(cache_context);
  if (cached_count == cached_capacity) {
    cached_capacity = cached_capacity == 0 ? 4 : cached_capacity * 2;
    cached =
        static_cast<CachedEndpoint*>(cached == nullptr ? palloc(sizeof(CachedEndpoint) * cached_capacity)
                                                       : repalloc(cached, sizeof(CachedEndpoint) * cached_capacity));
  }
  auto* keys = static_cast<Bytes*>(palloc(sizeof(Bytes) * rows));
  auto* fingerprints = static_cast<const char**>(palloc(sizeof(const char*) * rows));
  for (uint64 i = 0; i < rows; ++i) {
    bool isnull;
    bytea* key = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
    size_t size = VARSIZE_ANY_EXHDR(key);
    char* copy = static_cast<char*>(palloc(size + 1));
    memcpy(copy, VARDATA_ANY(key), size);
    keys[i] = {copy, size};
    fingerprints[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
  }
  cached[cached_count] = {pstrdup(name), {int(rows), keys, fingerprints}};
  MemoryContextSwitchTo(previous);
  SPI_finish();
  return cached[cached_count++].keys;
}

// Whether the key's use is due to be recorded now; marks it recorded.
bool use_due(const char* fingerprint, TimestampTz now) {
  for (int i = 0; i < noted_count; ++i) {
    if (strcmp(noted_keys[i].fingerprint, fingerprint) != 0) continue;
    if (now - noted_keys[i].at < kNoteEveryUsec) return false;
    noted_keys[i].at = now;
    return true;
  }
  NotedKey& slot = noted_keys[noted_count < kNotedKeys ? noted_count++ : 0];
  strlcpy(slot.fingerprint, fingerprint, sizeof(slot.fingerprint));
  slot.at = now;
  return true;
}

}  // namespace

// Not in a read-only transaction, and not under a transaction snapshot: a row
// another session recorded since would fail the delivery with 40001 over
// bookkeeping. A later delivery (the relay's are READ COMMITTED) records it.
void note_key_use(text* endpoint, const char* fingerprint) {
  if (fingerprint == nullptr || XactReadOnly || IsolationUsesXactSnapshot() ||
      !use_due(fingerprint, GetCurrentTimestamp()))
    return;
  static SPIPlanPtr update_use = nullptr;
  Oid argtypes[2] = {TEXTOID, TEXTOID};
  SPI_connect();
  SPIPlanPtr plan = kept_plan(&update_use,
                              "UPDATE orgsync.secrets SET last_verified_at = now() WHERE ctid = ("
                              "SELECT ctid FROM orgsync.secrets WHERE endpoint = $1 AND fingerprint = $2 "
                              "FOR UPDATE SKIP LOCKED)",
                              2, argtypes);
  Datum values[2] = {PointerGetDatum(endpoint), CStringGetTextDatum(fingerprint)};
  MemoryContext caller = CurrentMemoryContext;
  int rc = SPI_execute_plan(plan, values, "  ", false, 0);
  MemoryContextSwitchTo(caller);
  if (rc < 0) elog(ERROR, "orgsync: recording a key's use failed: %s", SPI_result_code_string(rc));
  SPI_finish();
}

Keys endpoint_keys(text* endpoint) {
  char* name = text_to_cstring(endpoint);
  const CachedEndpoint* entry = find(name);
  return entry != nullptr ? entry->keys : load(name, endpoint);
}

void register_key_cache_invalidation() { CacheRegisterRelcacheCallback(drop_cache, 0); }

namespace {

Datum secrets_changed(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("orgsync: secrets_changed() must be called as a trigger")));
  }
  CacheInvalidateRelcache(reinterpret_cast<TriggerData*>(fcinfo->context)->tg_relation);
  return PointerGetDatum(nullptr);
}

}  // namespace
}  // namespace orgsync::pg

ORGSYNC_FUNCTION(orgsync_secrets_changed, orgsync::pg::secrets_changed)
