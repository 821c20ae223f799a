#include "support.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "core/errors.hpp"
#include "core/fields.hpp"
#include "core/json.hpp"
#include "core/time.hpp"

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

namespace {

bool valid_id(const std::string& id) { return !id.empty() && id.size() <= core::kMaxIdLength; }
bool valid_time(int64_t ms) { return ms >= 0 && ms <= core::kMaxTimeMs; }

core::Table table_of(const core::Write& write) {
  return std::visit([](const auto& w) { return w.table; }, write);
}

AssertionResult well_formed_value(core::Column column, const core::ColumnValue& value) {
  const char* name = core::column_name(column);
  auto has = [&](const std::string& text) { return text.find('\0') != std::string::npos; };
  if (value.is_null) {
    if (!value.text.empty() || value.number != 0 || !value.items.empty()) {
      return AssertionFailure() << name << ": NULL carrying a value";
    }
    return AssertionSuccess();
  }
  core::ValueType type = core::value_type(column);
  if (type != core::ValueType::text && type != core::ValueType::json && !value.text.empty()) {
    return AssertionFailure() << name << ": text on a column not of text";
  }
  if (type != core::ValueType::text_array && !value.items.empty()) {
    return AssertionFailure() << name << ": items on a column not of text[]";
  }
  if (has(value.text) || std::any_of(value.items.begin(), value.items.end(), has)) {
    return AssertionFailure() << name << ": NUL in text";
  }
  switch (type) {
    case core::ValueType::text:
    case core::ValueType::json:
    case core::ValueType::text_array:
      if (value.number != 0) return AssertionFailure() << name << ": number on a column of text";
      break;
    case core::ValueType::int32:
      if (value.number < INT32_MIN || value.number > INT32_MAX) return AssertionFailure() << name << ": beyond int32";
      break;
    case core::ValueType::boolean:
      if (value.number != 0 && value.number != 1) return AssertionFailure() << name << ": boolean not 0 or 1";
      break;
    case core::ValueType::time_ms:
      if (!valid_time(value.number)) return AssertionFailure() << name << ": time out of range " << value.number;
      break;
  }
  return AssertionSuccess();
}

AssertionResult well_formed(const core::Upsert& upsert) {
  const char* table = core::table_name(upsert.table);
  if (upsert.table == core::Table::events) return AssertionFailure() << "upsert of events";
  if (!valid_id(upsert.id)) return AssertionFailure() << table << ": id '" << upsert.id << "'";
  const core::Version& v = upsert.version;
  if (v.rank < 0 || v.rank > 2) return AssertionFailure() << table << ": rank " << v.rank;
  if (!valid_time(v.updated_at_ms) || !valid_time(v.event_time_ms)) {
    return AssertionFailure() << table << ": version time out of range";
  }
  if (upsert.source != core::RowSource::event && !core::has_source(upsert.table)) {
    return AssertionFailure() << table << ": a " << core::source_label(upsert.source)
                              << " row in a table without source";
  }
  if (upsert.data) {
    try {
      core::json::Document document(*upsert.data);
      if (!document.root().is(core::json::Type::object)) return AssertionFailure() << table << ": data not an object";
      if (core::json::canonical(document.root()) != *upsert.data) {
        return AssertionFailure() << table << ": data not canonical: " << *upsert.data;
      }
    } catch (const core::InvalidPayload& error) {
      return AssertionFailure() << table << ": data not JSON: " << error.what();
    }
    if (v.digest != core::digest_of(*upsert.data)) return AssertionFailure() << table << ": digest not of data";
  } else if (v.digest != 0 || !upsert.values().empty()) {
    return AssertionFailure() << table << ": a bare placeholder with a digest or columns";
  }
  core::ColumnList columns = core::object_columns(upsert.table);
  std::vector<core::Column> seen;
  for (const auto& [column, value] : upsert.values()) {
    if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
      return AssertionFailure() << table << ": column " << core::column_name(column) << " is not the table's";
    }
    if (std::find(seen.begin(), seen.end(), column) != seen.end()) {
      return AssertionFailure() << table << ": column " << core::column_name(column) << " twice";
    }
    seen.push_back(column);
    if (auto result = well_formed_value(column, value); !result)
      return AssertionFailure() << table << ": " << result.message();
  }
  return AssertionSuccess();
}

AssertionResult well_formed(const core::Tombstone& tombstone) {
  const char* table = core::table_name(tombstone.table);
  if (tombstone.table == core::Table::events) return AssertionFailure() << "tombstone of events";
  if (!valid_id(tombstone.id)) return AssertionFailure() << table << ": tombstone id '" << tombstone.id << "'";
  if (!valid_time(tombstone.deleted_at_ms)) return AssertionFailure() << table << ": deleted_at out of range";
  bool needs_parent = tombstone.table == core::Table::memberships && tombstone.create_missing;
  if (tombstone.organization_id.has_value() != needs_parent) {
    return AssertionFailure() << table << ": tombstone organization_id " << (needs_parent ? "missing" : "unexpected");
  }
  if (tombstone.organization_id && !valid_id(*tombstone.organization_id)) {
    return AssertionFailure() << table << ": tombstone organization_id '" << *tombstone.organization_id << "'";
  }
  return AssertionSuccess();
}

AssertionResult well_formed(const core::EndChildren& end) {
  const char* table = core::table_name(end.table);
  core::ColumnList columns = core::object_columns(end.table);
  if (std::find(columns.begin(), columns.end(), end.parent) == columns.end() ||
      core::value_type(end.parent) != core::ValueType::text) {
    return AssertionFailure() << table << ": ended by " << core::column_name(end.parent);
  }
  if (!valid_id(end.parent_id)) return AssertionFailure() << table << ": parent id '" << end.parent_id << "'";
  if (!valid_time(end.deleted_at_ms)) return AssertionFailure() << table << ": deleted_at out of range";
  return AssertionSuccess();
}

// The id of the event's own object: its upsert's, or its tombstone's.
std::optional<std::string> own_id(const std::vector<core::Write>& writes) {
  for (auto it = writes.rbegin(); it != writes.rend(); ++it) {
    if (auto* t = std::get_if<core::Tombstone>(&*it)) return t->id;
    if (auto* u = std::get_if<core::Upsert>(&*it); u && u->source == core::RowSource::event) return u->id;
  }
  return std::nullopt;
}

}  // namespace

AssertionResult WellFormedWrites(const std::vector<core::Write>& writes) {
  for (size_t i = 0; i < writes.size(); ++i) {
    AssertionResult result = std::visit([](const auto& w) { return well_formed(w); }, writes[i]);
    if (!result) return AssertionFailure() << "write " << i << ": " << result.message();
  }
  return AssertionSuccess();
}

AssertionResult WellFormed(const core::EventPlan& plan) {
  if (plan.disposition != core::Disposition::apply) {
    if (!plan.writes.empty()) return AssertionFailure() << "writes on a plan not applied";
    if (plan.disposition == core::Disposition::invalid && plan.error.empty()) {
      return AssertionFailure() << "invalid without an error";
    }
    if (plan.disposition == core::Disposition::ignore && (!plan.error.empty() || !plan.type)) {
      return AssertionFailure() << "ignored with an error or without a type";
    }
    return AssertionSuccess();
  }
  if (plan.writes.empty()) return AssertionFailure() << "applied without writes";
  if (!plan.error.empty()) return AssertionFailure() << "applied with an error";
  if (!plan.type || !core::find_event_type(*plan.type)) return AssertionFailure() << "applied, of no known type";
  if (plan.event_time_ms && !valid_time(*plan.event_time_ms)) return AssertionFailure() << "event time out of range";
  if (auto result = WellFormedWrites(plan.writes); !result) return result;
  for (size_t i = 1; i < plan.writes.size(); ++i) {
    if (table_of(plan.writes[i]) < table_of(plan.writes[i - 1])) {
      return AssertionFailure() << "write " << i << " out of the order rows are locked in";
    }
  }
  if (plan.object_id != own_id(plan.writes)) return AssertionFailure() << "the last own write is not of the object";
  return AssertionSuccess();
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
