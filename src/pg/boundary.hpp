// The one boundary between Postgres and C++.
//
// Every SQL-callable function is defined with ORGSYNC_FUNCTION, which runs its
// body inside cpp_boundary: a C++ exception is caught there, its message copied
// into a fixed buffer (nothing is allocated while the exception is live), and
// only after the catch block has ended is it raised with ereport and a real
// SQLSTATE.
//
// The other direction, ereport's longjmp, must never cross a live C++ object.
// So the functions are written in phases: Postgres-facing code (SPI, fmgr,
// ereport) holds only plain C data, and all C++ objects live inside helper
// functions that call nothing in Postgres that can raise, and hand their
// results back in palloc'd memory (see pg_memory.hpp).
#pragma once

#include <stdexcept>

#include "pg/postgres.hpp"

namespace orgsync::pg {

// A C++-side failure that should surface with a specific SQLSTATE.
struct SqlError : std::runtime_error {
  SqlError(int sqlstate, const std::string& message) : std::runtime_error(message), sqlstate(sqlstate) {}
  int sqlstate;
};

struct CaughtError {
  int sqlstate;
  char message[1024];
};

// Classifies the exception being handled; call only from a catch block.
void capture_current_exception(CaughtError& caught) noexcept;

[[noreturn]] void raise_caught(const CaughtError& caught);

template <Datum (*Body)(FunctionCallInfo)>
Datum cpp_boundary(FunctionCallInfo fcinfo) {
  CaughtError caught;
  try {
    return Body(fcinfo);
  } catch (...) {
    capture_current_exception(caught);
  }
  raise_caught(caught);
}

}  // namespace orgsync::pg

#define ORGSYNC_FUNCTION(sql_name, body)                                               \
  extern "C" {                                                                         \
  PG_FUNCTION_INFO_V1(sql_name);                                                       \
  Datum sql_name(PG_FUNCTION_ARGS) { return orgsync::pg::cpp_boundary<body>(fcinfo); } \
  }
