#include "core/event.hpp"

#include "core/errors.hpp"
#include "core/json.hpp"

namespace orgsync::core {
namespace {

using json::Value;

// Clerk times are milliseconds since the epoch. Anything outside year
// 1970..5138 is not a Clerk time; treat it as absent rather than overflow.
constexpr int64_t kMaxTimeMs = 100'000'000'000'000;

std::optional<std::string> string_field(Value object, const char* key) {
  std::string_view text;
  auto value = json::member(object, key);
  if (!value || value->get(text) != simdjson::SUCCESS) return std::nullopt;
  return std::string(text);
}

// Columns with a btree index hold at most ~2.7 kB; Clerk's slugs, emails and
// external ids are far shorter. A longer value stays in `data` but not in the
// indexed column, so it can never make a delivery fail.
constexpr size_t kMaxIndexedText = 1024;
constexpr size_t kMaxIdLength = 256;

std::optional<std::string> indexed_string_field(Value object, const char* key) {
  auto value = string_field(object, key);
  if (value && value->size() > kMaxIndexedText) return std::nullopt;
  return value;
}

// Integers only: a float is not a Clerk time or count.
std::optional<int64_t> integer_field(Value object, const char* key) {
  auto value = json::member(object, key);
  if (!value) return std::nullopt;
  if (value->type() == simdjson::dom::element_type::INT64) return int64_t(*value);
  if (value->type() == simdjson::dom::element_type::UINT64 && uint64_t(*value) <= uint64_t(INT64_MAX)) {
    return static_cast<int64_t>(uint64_t(*value));
  }
  return std::nullopt;
}

std::optional<int64_t> int32_field(Value object, const char* key) {
  auto value = integer_field(object, key);
  if (!value || *value < INT32_MIN || *value > INT32_MAX) return std::nullopt;
  return value;
}

std::optional<int64_t> time_field(Value object, const char* key) {
  auto value = integer_field(object, key);
  if (!value || *value < 0 || *value > kMaxTimeMs) return std::nullopt;
  return value;
}

// FNV-1a: a stable 64-bit digest, the same on every platform and build.
int64_t digest_of(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash);
}

// Postgres text[] literal of an array's strings; other items are skipped.
std::string text_array_literal(std::optional<Value> array) {
  std::string literal = "{";
  simdjson::dom::array items;
  if (array && array->get(items) == simdjson::SUCCESS) {
    for (Value item : items) {
      std::string_view text;
      if (item.get(text) != simdjson::SUCCESS) continue;
      if (literal.size() > 1) literal += ',';
      literal += '"';
      for (char c : text) {
        if (c == '"' || c == '\\') literal += '\\';
        literal += c;
      }
      literal += '"';
    }
  }
  literal += '}';
  return literal;
}

struct Event {
  Value data;
  std::optional<int64_t> time_ms;
};

Value require_object(Value parent, const char* key, const char* what) {
  auto value = json::member(parent, key);
  if (!value || !value->is_object()) throw InvalidPayload(std::string(what) + " is missing or not an object");
  return *value;
}

std::string require_id(Value object, const char* key, const char* what) {
  auto value = string_field(object, key);
  if (!value || value->empty()) throw InvalidPayload(std::string(what) + " is missing or not a string");
  if (value->size() > kMaxIdLength) {
    throw InvalidPayload(std::string(what) + " is longer than " + std::to_string(kMaxIdLength) + " bytes");
  }
  return std::move(*value);
}

Version version_of(int64_t rank, Value object, std::optional<int64_t> event_time, const std::string& data) {
  auto updated = time_field(object, "updated_at");
  if (!updated) updated = time_field(object, "created_at");
  return Version{rank, updated.value_or(0), event_time.value_or(0), digest_of(data)};
}

int64_t require_deletion_time(const Event& event) {
  if (!event.time_ms) throw InvalidPayload("deletion event has no usable timestamp");
  return *event.time_ms;
}

// `data`: canonical(org).
Statement organization_upsert(Value org, std::string data, int64_t rank, std::optional<int64_t> event_time) {
  Version version = version_of(rank, org, event_time, data);
  return {StatementKind::upsert_organization,
          {Param::of_text(require_id(org, "id", "organization id")), Param::of_text(string_field(org, "name")),
           Param::of_text(indexed_string_field(org, "slug")), Param::of_text(string_field(org, "image_url")),
           Param::of_text(string_field(org, "created_by")),
           Param::of_int64(int32_field(org, "max_allowed_memberships")), Param::of_time(time_field(org, "created_at")),
           Param::of_time(time_field(org, "updated_at")), Param::of_json(std::move(data)),
           Param::of_text(rank == 1 ? "event" : "membership"), Param::of_text(version.to_sql_array())}};
}

std::optional<std::string> primary_email(Value user) {
  auto primary_id = string_field(user, "primary_email_address_id");
  auto addresses = json::member(user, "email_addresses");
  simdjson::dom::array items;
  if (!primary_id || !addresses || addresses->get(items) != simdjson::SUCCESS) return std::nullopt;
  for (Value address : items) {
    if (string_field(address, "id") == primary_id) return indexed_string_field(address, "email_address");
  }
  return std::nullopt;
}

Statement user_upsert(Value user, std::optional<int64_t> event_time) {
  std::string data = json::canonical(user);
  Version version = version_of(1, user, event_time, data);
  return {StatementKind::upsert_user,
          {Param::of_text(require_id(user, "id", "user id")), Param::of_text(primary_email(user)),
           Param::of_text(string_field(user, "first_name")), Param::of_text(string_field(user, "last_name")),
           Param::of_text(string_field(user, "username")), Param::of_text(string_field(user, "image_url")),
           Param::of_text(indexed_string_field(user, "external_id")), Param::of_time(time_field(user, "created_at")),
           Param::of_time(time_field(user, "updated_at")), Param::of_json(std::move(data)), Param::of_text("event"),
           Param::of_text(version.to_sql_array())}};
}

// A membership carries only the member's public data, without updated_at:
// it stands in for the user until the full user event arrives (rank 1 always
// beats it). It is the user as of the event, so the event's time orders it
// among snapshots: the membership's own updated_at (the fallback) can be far
// older than the data, as on a deletion, which carries the current name.
Statement user_snapshot_upsert(Value public_user, std::string data, Value membership,
                               std::optional<int64_t> event_time) {
  auto identifier = indexed_string_field(public_user, "identifier");
  if (identifier && identifier->find('@') == std::string::npos) identifier.reset();
  Version version = version_of(0, membership, event_time, data);
  if (event_time) version.updated_at_ms = *event_time;
  using T = Param::Type;
  return {
      StatementKind::upsert_user,
      {Param::of_text(require_id(public_user, "user_id", "public_user_data.user_id")), Param::of_text(identifier),
       Param::of_text(string_field(public_user, "first_name")), Param::of_text(string_field(public_user, "last_name")),
       Param::null(T::text), Param::of_text(string_field(public_user, "image_url")), Param::null(T::text),
       Param::null(T::timestamp_ms), Param::null(T::timestamp_ms), Param::of_json(std::move(data)),
       Param::of_text("membership"), Param::of_text(version.to_sql_array())}};
}

void plan_membership(const Event& event, bool deleted, EventPlan& plan) {
  Value membership = event.data;
  Value org = require_object(membership, "organization", "data.organization");
  Value public_user = require_object(membership, "public_user_data", "data.public_user_data");
  std::string id = require_id(membership, "id", "membership id");
  std::string org_id = require_id(org, "id", "data.organization.id");
  std::string user_id = require_id(public_user, "user_id", "public_user_data.user_id");
  std::optional<int64_t> deleted_at;
  if (deleted) deleted_at = require_deletion_time(event);

  // The snapshots' canonical texts are parts of the membership's.
  constexpr std::string_view kSnapshots[] = {"organization", "public_user_data"};
  json::Span spans[2];
  std::string data = json::canonical(membership, kSnapshots, spans, 2);
  auto part = [&data](json::Span span) { return data.substr(span.offset, span.size); };
  // Org, then user, then membership: every writer locks rows in this order.
  plan.statements.push_back(organization_upsert(org, part(spans[0]), 0, event.time_ms));
  plan.statements.push_back(user_snapshot_upsert(public_user, part(spans[1]), membership, event.time_ms));

  Version version = version_of(1, membership, event.time_ms, data);
  plan.statements.push_back(
      {StatementKind::upsert_membership,
       {Param::of_text(id), Param::of_text(org_id), Param::of_text(user_id),
        Param::of_text(string_field(membership, "role")),
        Param::of_text(text_array_literal(json::member(membership, "permissions"))),
        Param::of_time(time_field(membership, "created_at")), Param::of_time(time_field(membership, "updated_at")),
        Param::of_time(deleted_at), Param::of_json(std::move(data)), Param::of_text(version.to_sql_array())}});
  if (deleted) {
    plan.statements.push_back({StatementKind::delete_membership, {Param::of_text(id), Param::of_time(deleted_at)}});
  }
}

Statement invitation_upsert(Value invitation, std::optional<int64_t> event_time) {
  std::string data = json::canonical(invitation);
  Version version = version_of(1, invitation, event_time, data);
  return {StatementKind::upsert_invitation,
          {Param::of_text(require_id(invitation, "id", "invitation id")),
           Param::of_text(indexed_string_field(invitation, "organization_id")),
           Param::of_text(string_field(invitation, "email_address")), Param::of_text(string_field(invitation, "role")),
           Param::of_text(string_field(invitation, "status")), Param::of_time(time_field(invitation, "created_at")),
           Param::of_time(time_field(invitation, "updated_at")), Param::of_time(time_field(invitation, "expires_at")),
           Param::of_json(std::move(data)), Param::of_text(version.to_sql_array())}};
}

// A deletion leaves a tombstone on the object, then ends its memberships.
void plan_deletion(const Event& event, StatementKind tombstone, StatementKind cascade, EventPlan& plan) {
  std::string id = require_id(event.data, "id", "data.id");
  int64_t deleted_at = require_deletion_time(event);
  plan.statements.push_back({tombstone, {Param::of_text(id), Param::of_time(deleted_at)}});
  plan.statements.push_back({cascade, {Param::of_text(std::move(id)), Param::of_time(deleted_at)}});
}

void plan_modelled(const Event& event, std::string_view type, EventPlan& plan) {
  Value data = event.data;
  if (type == "organization.created" || type == "organization.updated") {
    plan.statements.push_back(organization_upsert(data, json::canonical(data), 1, event.time_ms));
  } else if (type == "organization.deleted") {
    plan_deletion(event, StatementKind::delete_organization, StatementKind::end_organization_memberships, plan);
  } else if (type == "user.created" || type == "user.updated") {
    plan.statements.push_back(user_upsert(data, event.time_ms));
  } else if (type == "user.deleted") {
    plan_deletion(event, StatementKind::delete_user, StatementKind::end_user_memberships, plan);
  } else if (type == "organizationMembership.created" || type == "organizationMembership.updated") {
    plan_membership(event, false, plan);
  } else if (type == "organizationMembership.deleted") {
    plan_membership(event, true, plan);
  } else {
    plan.statements.push_back(invitation_upsert(data, event.time_ms));
  }
}

bool is_modelled(std::string_view type) {
  constexpr std::string_view kModelled[] = {
      "organization.created",
      "organization.updated",
      "organization.deleted",
      "user.created",
      "user.updated",
      "user.deleted",
      "organizationMembership.created",
      "organizationMembership.updated",
      "organizationMembership.deleted",
  };
  for (auto known : kModelled) {
    if (type == known) return true;
  }
  return type.substr(0, 23) == "organizationInvitation.";
}

}  // namespace

Param Param::of_text(std::optional<std::string> value) {
  return value ? Param{Type::text, false, std::move(*value), 0} : null(Type::text);
}

Param Param::of_int64(std::optional<int64_t> value) {
  return value ? Param{Type::int64, false, {}, *value} : null(Type::int64);
}

Param Param::of_time(std::optional<int64_t> ms) {
  return ms ? Param{Type::timestamp_ms, false, {}, *ms} : null(Type::timestamp_ms);
}

std::string Version::to_sql_array() const {
  return "{" + std::to_string(rank) + "," + std::to_string(updated_at_ms) + "," + std::to_string(event_time_ms) + "," +
         std::to_string(digest) + "}";
}

int64_t normalize_event_time_ms(int64_t value) { return value < 100'000'000'000 ? value * 1000 : value; }

EventPlan plan_event(std::string_view body, const PlanOptions& options) {
  EventPlan plan;
  try {
    json::Document document(body, kMaxJsonDepth);
    Value root = document.root();
    if (!root.is_object()) throw InvalidPayload("body is not a JSON object");
    plan.type = string_field(root, "type");
    if (auto data = json::member(root, "data")) plan.object_id = string_field(*data, "id");
    if (auto raw = integer_field(root, "timestamp"); raw && *raw >= 0 && normalize_event_time_ms(*raw) <= kMaxTimeMs) {
      plan.event_time_ms = normalize_event_time_ms(*raw);
    }
    if (!plan.type) throw InvalidPayload("\"type\" is missing or not a string");
    if (!is_modelled(*plan.type)) {
      plan.disposition = Disposition::ignore;
      return plan;
    }
    Event event{require_object(root, "data", "\"data\""),
                plan.event_time_ms ? plan.event_time_ms : options.fallback_event_time_ms};
    plan_modelled(event, *plan.type, plan);
    plan.disposition = Disposition::apply;
  } catch (const InvalidPayload& error) {
    plan.disposition = Disposition::invalid;
    plan.error = error.what();
    plan.statements.clear();
  }
  return plan;
}

}  // namespace orgsync::core
