#include "support.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "plan_invariants.hpp"

namespace orgsync::core {
void PrintTo(Disposition disposition, std::ostream* os) {
  *os << (disposition == Disposition::apply ? "apply" : disposition == Disposition::ignore ? "ignore" : "invalid");
}
void PrintTo(Table table, std::ostream* os) { *os << table_name(table); }
void PrintTo(Column column, std::ostream* os) { *os << column_name(column); }
}  // namespace orgsync::core

namespace orgsync::test {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

std::string fixtures_dir() {
  const char* env = std::getenv("ORGSYNC_FIXTURES");
  return env != nullptr && *env != '\0' ? env : "test/fixtures";
}

std::string read_path(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open fixture " + path + " (run from the repo root or set ORGSYNC_FIXTURES)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string clerk(const std::string& name) { return read_path(fixtures_dir() + "/clerk/" + name); }
Json clerk_json(const std::string& name) { return Json::parse(clerk(name)); }

AssertionResult WellFormedWrites(const std::vector<core::Write>& writes) {
  std::string problem = check_writes(writes);
  return problem.empty() ? AssertionSuccess() : AssertionFailure() << problem;
}

AssertionResult WellFormed(const core::EventPlan& plan) {
  std::string problem = check_plan(plan);
  return problem.empty() ? AssertionSuccess() : AssertionFailure() << problem;
}

core::EventPlan plan(const std::string& body, std::optional<int64_t> delivery_time_ms) {
  core::EventPlan p = core::plan_event(body, core::PlanOptions{delivery_time_ms});
  EXPECT_TRUE(WellFormed(p));
  return p;
}
core::EventPlan plan(const Json& body, std::optional<int64_t> delivery_time_ms) {
  return plan(body.dump(), delivery_time_ms);
}
core::EventPlan plan(const char* body, std::optional<int64_t> delivery_time_ms) {
  return plan(std::string(body), delivery_time_ms);
}

AssertionResult IsApplied(const core::EventPlan& plan) {
  if (plan.disposition != core::Disposition::apply) {
    return AssertionFailure() << "not applied: " << ::testing::PrintToString(plan.disposition) << " " << plan.error;
  }
  return AssertionSuccess();
}

AssertionResult IsInvalid(const core::EventPlan& plan, const std::string& error_part) {
  if (plan.disposition != core::Disposition::invalid) {
    return AssertionFailure() << ::testing::PrintToString(plan.disposition) << ", expected invalid";
  }
  if (!plan.writes.empty()) return AssertionFailure() << "invalid plan with writes";
  if (plan.error.find(error_part) == std::string::npos) {
    return AssertionFailure() << "error '" << plan.error << "' lacks '" << error_part << "'";
  }
  return AssertionSuccess();
}

std::vector<std::string> shape(const std::vector<core::Write>& writes) {
  std::vector<std::string> out;
  for (const auto& write : writes) {
    if (auto* u = std::get_if<core::Upsert>(&write)) {
      out.push_back(std::string("upsert ") + core::table_name(u->table));
    } else if (auto* t = std::get_if<core::Tombstone>(&write)) {
      out.push_back(std::string("tombstone ") + core::table_name(t->table));
    } else {
      const auto& e = std::get<core::EndChildren>(write);
      out.push_back(std::string("end ") + core::table_name(e.table) + " by " + core::column_name(e.parent));
    }
  }
  return out;
}

namespace {
template <typename T>
const T& alternative_at(const std::vector<core::Write>& writes, size_t index, const char* what) {
  if (index >= writes.size()) {
    throw std::runtime_error("no write " + std::to_string(index) + " among " + std::to_string(writes.size()));
  }
  if (auto* w = std::get_if<T>(&writes[index])) return *w;
  throw std::runtime_error("write " + std::to_string(index) + " is not " + what);
}
}  // namespace

const core::Upsert& upsert_at(const std::vector<core::Write>& writes, size_t index) {
  return alternative_at<core::Upsert>(writes, index, "an upsert");
}
const core::Tombstone& tombstone_at(const std::vector<core::Write>& writes, size_t index) {
  return alternative_at<core::Tombstone>(writes, index, "a tombstone");
}
const core::EndChildren& end_children_at(const std::vector<core::Write>& writes, size_t index) {
  return alternative_at<core::EndChildren>(writes, index, "an EndChildren");
}

Json data_of(const core::Upsert& upsert) {
  if (!upsert.data) throw std::runtime_error(std::string("no data on the upsert of ") + upsert.id);
  return Json::parse(*upsert.data);
}

namespace {

// The column's value, checked to be set and of `type`.
AssertionResult set_of(const core::Upsert& upsert, core::Column column, core::ValueType type,
                       const core::ColumnValue*& value) {
  const char* name = core::column_name(column);
  if (core::value_type(column) != type) return AssertionFailure() << name << " is not of the type checked";
  value = &upsert.get(column);
  if (value->is_null) return AssertionFailure() << name << " is NULL";
  return AssertionSuccess();
}

}  // namespace

AssertionResult HasText(const core::Upsert& upsert, core::Column column, const std::string& expected) {
  const core::ColumnValue* value = nullptr;
  if (auto set = set_of(upsert, column, core::ValueType::text, value); !set)
    return set << ", expected '" << expected << "'";
  if (value->text != expected) {
    return AssertionFailure() << core::column_name(column) << " is '" << value->text << "', expected '" << expected
                              << "'";
  }
  return AssertionSuccess();
}

namespace {
AssertionResult has_number(const core::Upsert& upsert, core::Column column, core::ValueType type, int64_t expected) {
  const core::ColumnValue* value = nullptr;
  if (auto set = set_of(upsert, column, type, value); !set) return set << ", expected " << expected;
  if (value->number != expected) {
    return AssertionFailure() << core::column_name(column) << " is " << value->number << ", expected " << expected;
  }
  return AssertionSuccess();
}
}  // namespace

AssertionResult HasInt32(const core::Upsert& upsert, core::Column column, int64_t expected) {
  return has_number(upsert, column, core::ValueType::int32, expected);
}
AssertionResult HasBool(const core::Upsert& upsert, core::Column column, bool expected) {
  return has_number(upsert, column, core::ValueType::boolean, expected ? 1 : 0);
}
AssertionResult HasTime(const core::Upsert& upsert, core::Column column, int64_t expected_ms) {
  return has_number(upsert, column, core::ValueType::time_ms, expected_ms);
}

AssertionResult HasItems(const core::Upsert& upsert, core::Column column, const std::vector<std::string>& expected) {
  const core::ColumnValue* value = nullptr;
  if (auto set = set_of(upsert, column, core::ValueType::text_array, value); !set) return set;
  if (value->items != expected) {
    return AssertionFailure() << core::column_name(column) << " is " << ::testing::PrintToString(value->items)
                              << ", expected " << ::testing::PrintToString(expected);
  }
  return AssertionSuccess();
}

AssertionResult HasNull(const core::Upsert& upsert, core::Column column) {
  const core::ColumnValue& value = upsert.get(column);
  if (!value.is_null) {
    return AssertionFailure() << core::column_name(column) << " is not NULL: '" << value.text << "' / " << value.number;
  }
  return AssertionSuccess();
}

int64_t fnv1a(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return int64_t(hash);
}

}  // namespace orgsync::test
