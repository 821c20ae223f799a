// jsonb from the core's canonical JSON text (core/json.hpp: compact, keys
// sorted and unique, only '"', '\' and control characters escaped), built
// with pushJsonbValue as jsonb_in builds it, without Postgres's general JSON
// lexer. The same values as jsonb_in of the same text. Postgres side: raises.
#pragma once

#include "pg/postgres.hpp"

namespace orgsync::pg {

Datum jsonb_from_canonical(const char* text, size_t length);

}  // namespace orgsync::pg
