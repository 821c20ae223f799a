// The only way Postgres headers enter C++: they are C, so wrap them, and keep
// them out of src/core entirely.
#pragma once

extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

// Postgres defines these as macros; they collide with the C++ library.
#undef gettext
#undef dgettext
#undef ngettext
#undef dngettext
