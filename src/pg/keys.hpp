// Signing keys per endpoint, cached in each backend. They are read with the
// newest snapshot, and a statement trigger on orgsync.secrets invalidates
// every backend's cache at commit (and the own backend's at once), so a
// cached key list is never stale, whatever the isolation level.
#pragma once

#include "pg/postgres.hpp"

namespace orgsync::pg {

// A byte string in Postgres memory (no terminating NUL).
struct Bytes {
  const char* data;
  size_t size;
};

struct Keys {
  int count;
  const Bytes* keys;
  const char* const* fingerprints;  // orgsync.secrets.fingerprint of each
};

// The endpoint's keys, read from orgsync.secrets (with SPI) once per backend
// until they change; an endpoint without keys is read each time, not cached.
// Valid until the next call that can process invalidations (any lock or SPI
// call): use them at once.
Keys endpoint_keys(text* endpoint);

// Records that a delivery verified with the endpoint's key `fingerprint`
// (orgsync.secrets.last_verified_at), at most once a minute per key and
// backend, so that an operator rotating secrets sees when the old one was
// last used. Never waits: a row another transaction holds is left to it.
// Nothing is recorded in a read-only transaction, nor under REPEATABLE READ
// or SERIALIZABLE (it could fail the delivery with 40001).
void note_key_use(text* endpoint, const char* fingerprint);

// From _PG_init.
void register_key_cache_invalidation();

}  // namespace orgsync::pg
