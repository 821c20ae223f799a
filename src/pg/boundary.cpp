#include "pg/boundary.hpp"

#include <cstring>
#include <exception>
#include <new>

#include "core/errors.hpp"

namespace orgsync::pg {
namespace {

void set(CaughtError& caught, int sqlstate, const char* message) noexcept {
  caught.sqlstate = sqlstate;
  std::strncpy(caught.message, message, sizeof(caught.message) - 1);
  caught.message[sizeof(caught.message) - 1] = '\0';
}

}  // namespace

void capture_current_exception(CaughtError& caught) noexcept {
  try {
    throw;
  } catch (const SqlError& error) {
    set(caught, error.sqlstate, error.what());
  } catch (const core::InvalidSecret& error) {
    set(caught, ERRCODE_INVALID_PARAMETER_VALUE, error.what());
  } catch (const core::InvalidPayload& error) {
    set(caught, ERRCODE_INVALID_PARAMETER_VALUE, error.what());
  } catch (const core::BeyondJsonb& error) {
    set(caught, ERRCODE_PROGRAM_LIMIT_EXCEEDED, error.what());
  } catch (const std::bad_alloc&) {
    set(caught, ERRCODE_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& error) {
    set(caught, ERRCODE_INTERNAL_ERROR, error.what());
  } catch (...) {
    set(caught, ERRCODE_INTERNAL_ERROR, "unknown C++ exception");
  }
}

void raise_caught(const CaughtError& caught) {
  ereport(ERROR, (errcode(caught.sqlstate), errmsg_internal("%s", caught.message)));
  pg_unreachable();
}

}  // namespace orgsync::pg
