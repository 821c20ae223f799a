// Unix times <-> Postgres timestamps.
#pragma once

#include "pg/postgres.hpp"

namespace orgsync::pg {

inline TimestampTz timestamp_from_unix_ms(int64 ms) {
  return ms * 1000 - (int64(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
}
inline int64 unix_ms_from_timestamp(TimestampTz at) {
  return (at + int64(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY) / 1000;
}
inline int64 unix_seconds_from_timestamp(TimestampTz at) {
  return at / USECS_PER_SEC + int64(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

}  // namespace orgsync::pg
