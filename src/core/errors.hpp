// The exceptions the core throws. The Postgres boundary maps each to a SQLSTATE.
#pragma once

#include <stdexcept>

namespace orgsync::core {

// A signing secret that cannot be used (empty, not base64).
struct InvalidSecret : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// A payload that is signed but unusable as sent: not JSON, a field missing or
// of the wrong type, a time out of range.
struct InvalidPayload : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Valid JSON that Postgres itself could not store as jsonb: a number beyond
// what numeric holds, or a value beyond jsonb's size. A delivery with it is
// kept as invalid (its body is text); a backfill page with it fails, 54000.
struct BeyondJsonb : std::length_error {
  using std::length_error::length_error;
};

}  // namespace orgsync::core
