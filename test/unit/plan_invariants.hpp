// The invariants every plan satisfies whatever its input, shared by the unit
// tests (support.hpp) and the fuzzer (test/fuzz/core_fuzzer.cpp). Each check
// returns what broke, or "" when nothing did.
#pragma once

#include <string>
#include <vector>

#include "core/plan.hpp"
#include "core/writes.hpp"

namespace orgsync::test {

// Every write well-formed: an upsert's columns are its table's, each once and
// with its column's type, ids non-empty and at most kMaxIdLength bytes, times
// within [0, kMaxTimeMs], ranks 0..2, data canonical JSON with its digest; a
// bare placeholder has neither data nor columns.
std::string check_writes(const std::vector<core::Write>& writes);

// Applied: well-formed writes of a listed type, in the order rows are locked,
// the last of the event's own rows being its object's. Invalid: an error and
// no writes. Ignored: a type, and neither writes nor an error.
std::string check_plan(const core::EventPlan& plan);

}  // namespace orgsync::test
