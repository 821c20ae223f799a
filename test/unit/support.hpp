// What the core's unit tests share: the Clerk fixtures, the invariants every
// plan must satisfy, and checks of an upsert's columns by name.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "core/tables.hpp"
#include "core/writes.hpp"

namespace orgsync::core {
// Readable enums in failure messages.
void PrintTo(Disposition disposition, std::ostream* os);
void PrintTo(Table table, std::ostream* os);
void PrintTo(Column column, std::ostream* os);
}  // namespace orgsync::core

namespace orgsync::test {

namespace core = orgsync::core;
using Json = nlohmann::json;

// The documented examples' common values (test/fixtures/clerk/*.json).
constexpr int64_t kDocTime = 1716883200000;  // "timestamp": 1716883200, in seconds
constexpr const char* kDocOrg = "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
constexpr const char* kDocUser = "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
constexpr const char* kDocMember = "user_2h8op3Isl1QR7tKu5FGNfaLKEoU";
constexpr const char* kDocMembership = "orgmem_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
constexpr const char* kDocInvitation = "orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S";

// test/fixtures, or $ORGSYNC_FIXTURES.
std::string fixtures_dir();
std::string read_path(const std::string& path);
std::string clerk(const std::string& name);  // "user.created.json", "received_2024/user.created.json"
Json clerk_json(const std::string& name);

// plan_invariants.hpp's checks, as assertions.
::testing::AssertionResult WellFormedWrites(const std::vector<core::Write>& writes);
::testing::AssertionResult WellFormed(const core::EventPlan& plan);

// plan_event, checked WellFormed.
core::EventPlan plan(const std::string& body, std::optional<int64_t> delivery_time_ms = std::nullopt);
core::EventPlan plan(const Json& body, std::optional<int64_t> delivery_time_ms = std::nullopt);
core::EventPlan plan(const char* body, std::optional<int64_t> delivery_time_ms = std::nullopt);

::testing::AssertionResult IsApplied(const core::EventPlan& plan);
// Invalid, with `error_part` in the error.
::testing::AssertionResult IsInvalid(const core::EventPlan& plan, const std::string& error_part);

// The writes in brief: "upsert organizations", "tombstone memberships",
// "end memberships by organization_id".
std::vector<std::string> shape(const std::vector<core::Write>& writes);
#define EXPECT_SHAPE(writes, ...) EXPECT_EQ(::orgsync::test::shape(writes), (std::vector<std::string>{__VA_ARGS__}))

// The write at `index`, of that alternative; throws (failing the test) otherwise.
const core::Upsert& upsert_at(const std::vector<core::Write>& writes, size_t index);
const core::Tombstone& tombstone_at(const std::vector<core::Write>& writes, size_t index);
const core::EndChildren& end_children_at(const std::vector<core::Write>& writes, size_t index);

// An upsert's `data`, parsed; throws when it has none.
Json data_of(const core::Upsert& upsert);

// The value set for a column, by name.
::testing::AssertionResult HasText(const core::Upsert& upsert, core::Column column, const std::string& expected);
::testing::AssertionResult HasInt32(const core::Upsert& upsert, core::Column column, int64_t expected);
::testing::AssertionResult HasBool(const core::Upsert& upsert, core::Column column, bool expected);
::testing::AssertionResult HasTime(const core::Upsert& upsert, core::Column column, int64_t expected_ms);
::testing::AssertionResult HasItems(const core::Upsert& upsert, core::Column column,
                                    const std::vector<std::string>& expected);
::testing::AssertionResult HasNull(const core::Upsert& upsert, core::Column column);

// 64-bit FNV-1a, written out again as an oracle for digest_of.
int64_t fnv1a(const std::string& text);

}  // namespace orgsync::test
