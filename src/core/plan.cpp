#include "core/plan.hpp"

#include "core/errors.hpp"
#include "core/fields.hpp"
#include "core/objects.hpp"

namespace orgsync::core {
namespace {

// The envelope's `timestamp`, in seconds or milliseconds; nothing if absent
// or null. Throws for any other value.
std::optional<int64_t> envelope_time_ms(const Fields& envelope) {
  auto value = envelope.value().member("timestamp");
  if (!value || value->is(json::Type::null)) return std::nullopt;
  std::optional<int64_t> raw;
  if (value->is(json::Type::number)) raw = parse_integer(value->number_text());
  if (raw && *raw >= 0 && normalize_event_time_ms(*raw) <= kMaxTimeMs) return normalize_event_time_ms(*raw);
  std::string shown = value->is(json::Type::number) ? " " + std::string(value->number_text()) : "";
  throw InvalidPayload(std::string("timestamp: expected whole seconds or milliseconds between 1970 and 9999, got ") +
                       json::type_name(value->type()) + shown);
}

// What is recorded of any delivery, applied or not: read without judging.
void read_summary(json::Value root, EventPlan& plan) {
  auto string_member = [](json::Value object, std::string_view key) -> std::optional<std::string> {
    auto value = object.member(key);
    if (value && value->is(json::Type::string)) return std::string(value->string());
    return std::nullopt;
  };
  plan.type = string_member(root, "type");
  if (auto data = root.member("data")) plan.object_id = string_member(*data, "id");
}

}  // namespace

EventPlan plan_event(std::string_view body, const PlanOptions& options) {
  EventPlan plan;
  try {
    json::Document document(body);
    Fields envelope(document.root(), "");
    read_summary(document.root(), plan);
    const EventType* type = find_event_type(envelope.required_text("type"));
    if (type == nullptr) {
      // Not orgsync's to judge: recorded as it came.
      try {
        plan.event_time_ms = envelope_time_ms(envelope);
      } catch (const InvalidPayload&) {
      }
      plan.disposition = Disposition::ignore;
      return plan;
    }
    plan.event_time_ms = envelope_time_ms(envelope);
    Fields data = envelope.required_object("data");
    Origin origin{plan.event_time_ms ? plan.event_time_ms : options.delivery_time_ms};
    if (type->action == Action::upsert) {
      plan_object(type->kind, data, origin, plan.writes);
    } else {
      if (!origin.event_time_ms) throw InvalidPayload("timestamp: missing, and the delivery has no signed time");
      plan_removal(type->kind, data, *origin.event_time_ms, origin, plan.writes);
    }
    plan.disposition = Disposition::apply;
  } catch (const InvalidPayload& error) {
    plan.disposition = Disposition::invalid;
    plan.error = error.what();
    plan.writes.clear();
  } catch (const BeyondJsonb& error) {
    // No retry makes such a body storable as jsonb: kept, as text, as invalid.
    plan.disposition = Disposition::invalid;
    plan.error = error.what();
    plan.writes.clear();
  }
  return plan;
}

ListingPlan plan_listing(ObjectKind kind, std::string_view page) {
  json::Document document(page);
  json::Value items = document.root();
  std::string path = "page";
  if (items.is(json::Type::object)) {
    auto data = items.member("data");
    if (!data) throw InvalidPayload("page: expected an array, or an object with an array in \"data\"");
    items = *data;
    path = "page.data";
  }
  if (!items.is(json::Type::array)) {
    throw InvalidPayload(path + ": expected array, got " + json::type_name(items.type()));
  }
  ListingPlan plan;
  items.each([&](std::string_view, json::Value item) {
    Fields object(item, path + "[" + std::to_string(plan.objects.size()) + "]");
    ListedObject& listed = plan.objects.emplace_back();
    listed.id = object.id("id");
    plan_object(kind, object, Origin{}, listed.writes);
  });
  return plan;
}

std::vector<Write> plan_deletion(ObjectKind kind, const std::string& id, int64_t deleted_at_ms) {
  // The rules Fields::id holds a listed or delivered id to.
  if (id.empty()) throw InvalidPayload("orgsync: id: empty, expected an id");
  if (id.size() > kMaxIdLength) {
    throw InvalidPayload("orgsync: id: longer than " + std::to_string(kMaxIdLength) + " bytes");
  }
  std::vector<Write> writes;
  plan_deletion_by_id(kind, id, deleted_at_ms, writes);
  return writes;
}

}  // namespace orgsync::core
