// Allocation for the C++ side of the boundary: palloc that throws
// std::bad_alloc instead of raising, so no longjmp can start there.
#pragma once

#include <string_view>

#include "pg/postgres.hpp"

namespace orgsync::pg {

void* palloc_or_throw(size_t size);
char* cstring_or_throw(std::string_view value);
// A text (or bytea: same layout) varlena holding `value`.
text* varlena_or_throw(std::string_view value);

}  // namespace orgsync::pg
