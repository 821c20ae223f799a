#include "pg/pg_memory.hpp"

#include <cstring>
#include <new>

namespace orgsync::pg {

void* palloc_or_throw(size_t size) {
  void* memory = palloc_extended(size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
  if (memory == nullptr) throw std::bad_alloc();
  return memory;
}

char* cstring_or_throw(std::string_view value) {
  auto* copy = static_cast<char*>(palloc_or_throw(value.size() + 1));
  std::memcpy(copy, value.data(), value.size());
  copy[value.size()] = '\0';
  return copy;
}

text* varlena_or_throw(std::string_view value) {
  if (value.size() > MaxAllocSize - VARHDRSZ) throw std::bad_alloc();
  auto* result = static_cast<text*>(palloc_or_throw(value.size() + VARHDRSZ));
  SET_VARSIZE(result, value.size() + VARHDRSZ);
  std::memcpy(VARDATA(result), value.data(), value.size());
  return result;
}

}  // namespace orgsync::pg
