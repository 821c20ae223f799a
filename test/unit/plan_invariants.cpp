#include "plan_invariants.hpp"

#include <algorithm>
#include <climits>
#include <variant>

#include "core/errors.hpp"
#include "core/event_types.hpp"
#include "core/fields.hpp"
#include "core/json.hpp"
#include "core/time.hpp"

namespace orgsync::test {
namespace {

namespace core = orgsync::core;

bool valid_id(const std::string& id) { return !id.empty() && id.size() <= core::kMaxIdLength; }
bool valid_time(int64_t ms) { return ms >= 0 && ms <= core::kMaxTimeMs; }
bool has_nul(const std::string& text) { return text.find('\0') != std::string::npos; }

std::string check_value(core::Column column, const core::ColumnValue& value) {
  std::string name = core::column_name(column);
  if (value.is_null) {
    bool empty = value.text.empty() && value.number == 0 && value.items.empty();
    return empty ? "" : name + ": NULL carrying a value";
  }
  core::ValueType type = core::value_type(column);
  if (type != core::ValueType::text && !value.text.empty()) return name + ": text on a column not of text";
  if (type != core::ValueType::text_array && !value.items.empty()) return name + ": items on a column not of text[]";
  if (has_nul(value.text) || std::any_of(value.items.begin(), value.items.end(), has_nul)) return name + ": NUL";
  bool number_fits = true;
  switch (type) {
    case core::ValueType::text:
    case core::ValueType::json:
    case core::ValueType::text_array: number_fits = value.number == 0; break;
    case core::ValueType::int32: number_fits = value.number >= INT32_MIN && value.number <= INT32_MAX; break;
    case core::ValueType::boolean: number_fits = value.number == 0 || value.number == 1; break;
    case core::ValueType::time_ms: number_fits = valid_time(value.number); break;
  }
  return number_fits ? "" : name + ": number " + std::to_string(value.number) + " out of its type's range";
}

std::string check(const core::Upsert& upsert) {
  std::string table = core::table_name(upsert.table);
  if (upsert.table == core::Table::events) return "an upsert of events";
  if (!valid_id(upsert.id)) return table + ": id '" + upsert.id + "'";
  const core::Version& v = upsert.version;
  if (v.rank < 0 || v.rank > 2) return table + ": rank " + std::to_string(v.rank);
  if (!valid_time(v.updated_at_ms) || !valid_time(v.event_time_ms)) return table + ": a version time out of range";
  if (upsert.source != core::RowSource::event && !core::has_source(upsert.table)) {
    return table + ": a " + core::source_label(upsert.source) + " row in a table without source";
  }
  if (upsert.data) {
    try {
      core::json::Document document(*upsert.data);
      if (!document.root().is(core::json::Type::object)) return table + ": data not an object";
      if (core::json::canonical(document.root()) != *upsert.data) return table + ": data not canonical";
    } catch (const core::InvalidPayload& error) {
      return table + ": data not JSON: " + error.what();
    }
    if (v.digest != core::digest_of(*upsert.data)) return table + ": digest not of the data";
  } else if (v.digest != 0 || !upsert.values().empty()) {
    return table + ": a bare placeholder with a digest or columns";
  }
  core::ColumnList columns = core::object_columns(upsert.table);
  std::vector<core::Column> seen;
  for (const auto& [column, value] : upsert.values()) {
    std::string name = core::column_name(column);
    if (std::find(columns.begin(), columns.end(), column) == columns.end()) return table + ": not its column " + name;
    if (std::find(seen.begin(), seen.end(), column) != seen.end()) return table + ": column " + name + " twice";
    seen.push_back(column);
    if (std::string problem = check_value(column, value); !problem.empty()) return table + "." + problem;
  }
  return "";
}

std::string check(const core::Tombstone& tombstone) {
  std::string table = core::table_name(tombstone.table);
  if (tombstone.table == core::Table::events) return "a tombstone of events";
  if (!valid_id(tombstone.id)) return table + ": tombstone id '" + tombstone.id + "'";
  if (!valid_time(tombstone.deleted_at_ms)) return table + ": deleted_at out of range";
  // Only a membership ended before it is known is remembered with its organization.
  bool needs_parent = tombstone.table == core::Table::memberships && tombstone.create_missing;
  if (tombstone.organization_id.has_value() != needs_parent) return table + ": tombstone organization_id";
  if (tombstone.organization_id && !valid_id(*tombstone.organization_id)) return table + ": tombstone organization_id";
  return "";
}

std::string check(const core::EndChildren& end) {
  std::string table = core::table_name(end.table);
  core::ColumnList columns = core::object_columns(end.table);
  if (std::find(columns.begin(), columns.end(), end.parent) == columns.end() ||
      core::value_type(end.parent) != core::ValueType::text) {
    return table + ": ended by " + core::column_name(end.parent);
  }
  if (!valid_id(end.parent_id)) return table + ": parent id '" + end.parent_id + "'";
  if (!valid_time(end.deleted_at_ms)) return table + ": deleted_at out of range";
  return "";
}

core::Table table_of(const core::Write& write) {
  return std::visit([](const auto& w) { return w.table; }, write);
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

std::string check_writes(const std::vector<core::Write>& writes) {
  for (size_t i = 0; i < writes.size(); ++i) {
    std::string problem = std::visit([](const auto& w) { return check(w); }, writes[i]);
    if (!problem.empty()) return "write " + std::to_string(i) + ": " + problem;
  }
  return "";
}

std::string check_plan(const core::EventPlan& plan) {
  switch (plan.disposition) {
    case core::Disposition::invalid:
      if (plan.error.empty()) return "invalid without an error";
      return plan.writes.empty() ? "" : "writes on an invalid plan";
    case core::Disposition::ignore:
      if (!plan.type || !plan.error.empty()) return "ignored without a type or with an error";
      return plan.writes.empty() ? "" : "writes on an ignored plan";
    case core::Disposition::apply: break;
  }
  if (plan.writes.empty()) return "applied without writes";
  if (!plan.error.empty()) return "applied with an error";
  if (!plan.type || core::find_event_type(*plan.type) == nullptr) return "applied, of no listed type";
  if (plan.event_time_ms && !valid_time(*plan.event_time_ms)) return "event time out of range";
  if (std::string problem = check_writes(plan.writes); !problem.empty()) return problem;
  for (size_t i = 1; i < plan.writes.size(); ++i) {
    if (table_of(plan.writes[i]) < table_of(plan.writes[i - 1])) {
      return "write " + std::to_string(i) + " out of the order rows are locked in";
    }
  }
  if (!plan.object_id || plan.object_id != own_id(plan.writes)) return "the last own write is not the object's";
  return "";
}

}  // namespace orgsync::test
