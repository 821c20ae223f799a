// plan_event: a webhook body to the writes that merge it. What every event
// shares: the envelope, event times, versions, refusals and invariants. What
// each kind of object is read into: objects_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "core/time.hpp"
#include "support.hpp"

namespace {

using namespace orgsync::test;
namespace fs = std::filesystem;
using core::Column;
using core::Disposition;
using core::EventPlan;
using Key = std::array<int64_t, 4>;

Json with_timestamp(Json body, const Json& timestamp) {
  body["timestamp"] = timestamp;
  return body;
}

// The version of the plan's one upsert of the event's own object.
Key own_version(const Json& body, std::optional<int64_t> delivery_time_ms = std::nullopt) {
  EventPlan p = plan(body, delivery_time_ms);
  if (p.disposition != Disposition::apply) throw std::runtime_error("not applied: " + p.error);
  return upsert_at(p.writes, p.writes.size() - 1).version.key();
}

// ---- fixtures ---------------------------------------------------------------------------

TEST(PlanFixtures, EveryDocumentedExample) {
  // Every event type's example applies (sessions: ignored), well-formed, with
  // its type, its object's id and its time recorded.
  int count = 0;
  for (const auto& entry : fs::directory_iterator(fixtures_dir() + "/clerk")) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    std::string name = entry.path().stem().string();
    SCOPED_TRACE(name);
    std::string body = read_path(entry.path().string());
    EventPlan p = plan(body);
    bool session = name.rfind("session.", 0) == 0;
    EXPECT_EQ(p.disposition, session ? Disposition::ignore : Disposition::apply) << p.error;
    EXPECT_EQ(session, core::find_event_type(name) == nullptr);
    EXPECT_EQ(p.type, name);
    EXPECT_EQ(p.object_id, Json::parse(body)["data"]["id"].get<std::string>());
    EXPECT_EQ(p.event_time_ms, kDocTime);
  }
  EXPECT_EQ(count, 26);
}

TEST(PlanFixtures, EveryListedTypeHasAnExample) {
  for (const core::EventType& type : core::event_types()) {
    EXPECT_TRUE(fs::exists(fixtures_dir() + "/clerk/" + std::string(type.name) + ".json")) << type.name;
  }
}

TEST(PlanFixtures, SessionsAreIgnored) {
  for (const char* name :
       {"session.created", "session.ended", "session.pending", "session.removed", "session.revoked"}) {
    SCOPED_TRACE(name);
    EventPlan p = plan(clerk(std::string(name) + ".json"));
    EXPECT_EQ(p.disposition, Disposition::ignore);
    EXPECT_TRUE(p.writes.empty());
    EXPECT_TRUE(p.error.empty());
    EXPECT_EQ(p.type, name);
    EXPECT_EQ(p.object_id, "sess_2g7np7Hrk0SN6kj5EDMLDaKNL0S");
    EXPECT_EQ(p.event_time_ms, kDocTime);
  }
}

TEST(PlanReceived2024, AllApply) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(fixtures_dir() + "/clerk/received_2024")) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    SCOPED_TRACE(entry.path().filename().string());
    std::string body = read_path(entry.path().string());
    EventPlan p = plan(body);
    EXPECT_TRUE(IsApplied(p));
    Json json = Json::parse(body);
    EXPECT_EQ(p.event_time_ms, json["timestamp"].get<int64_t>());  // milliseconds stay as they are
    EXPECT_EQ(p.object_id, json["data"]["id"].get<std::string>());
  }
  EXPECT_EQ(count, 6);
}

TEST(PlanReceived2024, Details) {
  EventPlan org = plan(clerk("received_2024/organization.updated.json"));
  EXPECT_SHAPE(org.writes, "upsert organizations");
  const core::Upsert& o = upsert_at(org.writes, 0);
  EXPECT_EQ(o.id, "org_2o9RAVkGMEfjA4f90OznAdaR1dx");
  EXPECT_EQ(o.version.key(), (Key{1, 1730714042578, 1730714042582, o.version.digest}));

  EventPlan deleted = plan(clerk("received_2024/organizationMembership.deleted.json"));
  EXPECT_SHAPE(deleted.writes, "upsert organizations", "upsert users", "upsert memberships", "tombstone memberships");
  const core::Upsert& m = upsert_at(deleted.writes, 2);
  EXPECT_EQ(m.id, "orgmem_2o9XXSriW8J9VdELquuqyZPAvYJ");
  EXPECT_TRUE(HasText(m, Column::organization_id, "org_2o9RAVkGMEfjA4f90OznAdaR1dx"));
  EXPECT_TRUE(HasText(m, Column::user_id, "user_2giUfelO6nqMouDtVZQOolP7eXN"));
  EXPECT_TRUE(HasText(m, Column::role, "org:member"));
  EXPECT_TRUE(HasItems(m, Column::permissions, {"org:sys_memberships:read"}));
  EXPECT_TRUE(HasTime(m, Column::updated_at, 1730283452998));               // its last update, not the deletion
  EXPECT_EQ(tombstone_at(deleted.writes, 3).deleted_at_ms, 1730711921915);  // the event time
  // The membership's organization carries no created_by.
  EXPECT_TRUE(HasNull(upsert_at(deleted.writes, 0), Column::created_by));
  EXPECT_TRUE(HasText(upsert_at(deleted.writes, 1), Column::primary_email, "sprazzeus@gmail.com"));

  EventPlan user = plan(clerk("received_2024/user.created.json"));
  EXPECT_SHAPE(user.writes, "upsert users");
  const core::Upsert& u = upsert_at(user.writes, 0);
  EXPECT_TRUE(HasText(u, Column::primary_email, "doo@paragraph.ink"));
  EXPECT_TRUE(HasTime(u, Column::created_at, 1730279325003));
  EXPECT_TRUE(HasTime(u, Column::updated_at, 1730279325025));
  EXPECT_TRUE(HasNull(u, Column::last_sign_in_at));
}

// ---- event time ------------------------------------------------------------------------

TEST(PlanTime, SecondsOrMilliseconds) {
  Json body = clerk_json("organization.created.json");
  const std::vector<std::pair<Json, int64_t>> cases = {
      {1716883200, 1716883200000},          {1716883200123, 1716883200123},       {0, 0},
      {99'999'999'999, 99'999'999'999'000},  // below 1e11 only seconds can be meant
      {100'000'000'000, 100'000'000'000},   {core::kMaxTimeMs, core::kMaxTimeMs},
  };
  for (const auto& [timestamp, ms] : cases) {
    EventPlan p = plan(with_timestamp(body, timestamp));
    EXPECT_EQ(p.event_time_ms, ms) << timestamp;
    EXPECT_EQ(upsert_at(p.writes, 0).version.event_time_ms, ms) << timestamp;
  }
  Json deletion = clerk_json("user.deleted.json");
  EXPECT_EQ(tombstone_at(plan(with_timestamp(deletion, 1730000000)).writes, 0).deleted_at_ms, 1730000000000);
  EXPECT_EQ(tombstone_at(plan(with_timestamp(deletion, 1730000000123)).writes, 0).deleted_at_ms, 1730000000123);
}

TEST(PlanTime, AnUnusableTimestampIsInvalid) {
  Json body = clerk_json("organization.created.json");
  const std::vector<std::pair<Json, std::string>> cases = {
      {core::kMaxTimeMs + 1, "got number 253402300800000"},
      {-1, "got number -1"},
      {1716883200.5, "got number 1716883200.5"},
      {"1716883200", "got string"},
      {Json::array({1716883200}), "got array"},
      {true, "got boolean"},
      {Json::object(), "got object"},
      {uint64_t(18446744073709551615ull), "got number 18446744073709551615"},
  };
  for (const auto& [timestamp, got] : cases) {
    EXPECT_TRUE(IsInvalid(plan(with_timestamp(body, timestamp)),
                          "timestamp: expected whole seconds or milliseconds between 1970 and 9999, " + got));
  }
  // Beyond double, too.
  std::string text = clerk("organization.created.json");
  text.replace(text.find("1716883200,"), 10, "1e999");
  EXPECT_TRUE(IsInvalid(
      plan(text),
      "timestamp: expected whole seconds or milliseconds between 1970 and 9999, got number 1" + std::string(999, '0')));
}

TEST(PlanTime, NullIsNoTime) {
  EventPlan p = plan(with_timestamp(clerk_json("organization.created.json"), nullptr));
  EXPECT_TRUE(IsApplied(p));
  EXPECT_FALSE(p.event_time_ms.has_value());
  EXPECT_EQ(upsert_at(p.writes, 0).version.event_time_ms, 0);
}

TEST(PlanTime, AnIgnoredTypeIsRecordedWithoutItsUnusableTime) {
  Json session = clerk_json("session.created.json");
  for (const Json& timestamp : {Json("soon"), Json(-1), Json(1.5), Json(core::kMaxTimeMs + 1)}) {
    EventPlan p = plan(with_timestamp(session, timestamp));
    EXPECT_EQ(p.disposition, Disposition::ignore) << timestamp;
    EXPECT_FALSE(p.event_time_ms.has_value()) << timestamp;
  }
}

// When the plan's tombstones and ended children were deleted.
std::vector<int64_t> deletion_times(const EventPlan& p) {
  std::vector<int64_t> times;
  for (const core::Write& write : p.writes) {
    if (auto* t = std::get_if<core::Tombstone>(&write)) times.push_back(t->deleted_at_ms);
    if (auto* e = std::get_if<core::EndChildren>(&write)) times.push_back(e->deleted_at_ms);
  }
  return times;
}

TEST(PlanTime, DeletionFallsBackToTheDeliveryTime) {
  for (const char* file : {"user.deleted.json", "organization.deleted.json", "organizationMembership.deleted.json",
                           "organizationDomain.deleted.json", "role.deleted.json", "permission.deleted.json"}) {
    SCOPED_TRACE(file);
    Json body = clerk_json(file);
    body.erase("timestamp");
    EventPlan with = plan(body, 1730000000999);
    ASSERT_TRUE(IsApplied(with));
    EXPECT_FALSE(with.event_time_ms.has_value());  // the payload's own time only
    std::vector<int64_t> times = deletion_times(with);
    EXPECT_FALSE(times.empty());
    EXPECT_EQ(times, std::vector<int64_t>(times.size(), 1730000000999));
    EXPECT_TRUE(IsInvalid(plan(body), "timestamp: missing, and the delivery has no signed time"));
    EXPECT_TRUE(IsApplied(plan(with_timestamp(body, nullptr), 42)));
    // An unusable timestamp is not made good by the delivery's.
    EXPECT_TRUE(IsInvalid(plan(with_timestamp(body, "soon"), 42), "timestamp: "));
    EXPECT_TRUE(IsInvalid(plan(with_timestamp(body, -5), 42), "timestamp: "));
    // The payload's own time wins over the delivery's.
    EventPlan own = plan(with_timestamp(body, 1716883200), 1730000000999);
    ASSERT_TRUE(IsApplied(own));
    times = deletion_times(own);
    EXPECT_EQ(times, std::vector<int64_t>(times.size(), kDocTime));
  }
}

TEST(PlanTime, TheDeliveryTimeAlsoVersionsUpserts) {
  Json body = clerk_json("organization.created.json");
  body.erase("timestamp");
  EXPECT_EQ(own_version(body)[2], 0);
  EXPECT_EQ(own_version(body, 1730000000999)[2], 1730000000999);
  // And orders a member's user snapshot.
  Json membership = clerk_json("organizationMembership.created.json");
  membership.erase("timestamp");
  core::Upsert user = upsert_at(plan(membership, 1730000000999).writes, 1);
  EXPECT_EQ(user.version.updated_at_ms, 1730000000999);
  EXPECT_EQ(user.version.event_time_ms, 1730000000999);
}

// ---- versions ---------------------------------------------------------------------------

TEST(PlanVersion, NewerUpdatedAtIsGreater) {
  Json body = clerk_json("organization.updated.json");
  Json newer = body;
  newer["data"]["updated_at"] = 1716883500001;
  newer["timestamp"] = 1;  // an older event does not matter: updated_at comes first
  EXPECT_GT(own_version(newer), own_version(body));
  Json older = body;
  older["data"]["updated_at"] = 1716883499999;
  older["timestamp"] = 1816883200;
  EXPECT_LT(own_version(older), own_version(body));
  EXPECT_GT(own_version(body), own_version(clerk_json("organization.created.json")));
  EXPECT_GT(own_version(clerk_json("user.updated.json")), own_version(clerk_json("user.created.json")));
}

TEST(PlanVersion, LaterEventBreaksAnUpdatedAtTie) {
  Json body = clerk_json("organization.updated.json");
  Json later = with_timestamp(body, 1716883201);
  EXPECT_GT(own_version(later), own_version(body));
  EXPECT_EQ(own_version(later)[1], own_version(body)[1]);
}

TEST(PlanVersion, UpdatedAtFallsBackToCreatedAt) {
  Json body = clerk_json("organization.updated.json");
  body["data"].erase("updated_at");
  EXPECT_EQ(own_version(body)[1], 1716883200000);
  body["data"]["updated_at"] = nullptr;
  EXPECT_EQ(own_version(body)[1], 1716883200000);
  body["data"].erase("created_at");
  EXPECT_EQ(own_version(body)[1], 0);
  body["data"]["updated_at"] = "yesterday";
  EXPECT_TRUE(IsInvalid(plan(body), "data.updated_at: expected whole milliseconds"));
}

TEST(PlanVersion, DigestStableForTheSameContent) {
  const std::string raw = clerk("organization.updated.json");
  Json body = Json::parse(raw);
  Key a = own_version(body);
  EXPECT_EQ(own_version(Json::parse(raw)), a);
  EXPECT_EQ(upsert_at(plan(raw).writes, 0).version.key(), a);
  // Other formatting and key order: the same key.
  EXPECT_EQ(upsert_at(plan(body.dump(2)).writes, 0).version.key(), a);
  std::string reordered =
      R"({"timestamp":1716883200,"type":"organization.updated","data":)" + body["data"].dump() + "}";
  EXPECT_EQ(upsert_at(plan(reordered).writes, 0).version.key(), a);
  // Escaped the other way: "Acme" as \u0041cme is the same string.
  std::string escaped = reordered;
  escaped.replace(escaped.find("\"Acme Corp Updated\""), 19, R"("\u0041cme Corp Updated")");
  EXPECT_EQ(upsert_at(plan(escaped).writes, 0).version.key(), a);
  // Event metadata outside `data` does not enter the digest.
  Json other = body;
  other["event_attributes"]["http_request"]["client_ip"] = "10.0.0.1";
  EXPECT_EQ(own_version(other), a);
}

TEST(PlanVersion, DigestDiffersForOtherContent) {
  Json body = clerk_json("organization.updated.json");
  Key a = own_version(body);
  const std::vector<std::pair<const char*, Json>> changes = {
      {"name", "Acme Corp Updatee"}, {"slug", nullptr}, {"members_count", 4}, {"has_image", false}, {"extra", 1}};
  for (const auto& [field, value] : changes) {
    Json changed = body;
    changed["data"][field] = value;
    Key b = own_version(changed);
    EXPECT_EQ((Key{b[0], b[1], b[2], a[3]}), a) << field;
    EXPECT_NE(b[3], a[3]) << field;
  }
  Json nested = body;
  nested["data"]["public_metadata"]["department"] = "sales";
  EXPECT_NE(own_version(nested)[3], a[3]);
}

TEST(PlanVersion, DigestIsFnv1aOfTheCanonicalData) {
  // Stored in sync_version and compared across builds: 64-bit FNV-1a over the
  // canonical (sorted-key, compact) text of the object, bytes unsigned.
  for (const char* file : {"organization.updated.json", "user.updated.json", "organizationInvitation.created.json",
                           "role.updated.json", "received_2024/user.created.json"}) {
    EventPlan p = plan(clerk(file));
    const core::Upsert& own = upsert_at(p.writes, p.writes.size() - 1);
    Json data = clerk_json(file)["data"];
    data.erase("url");  // an invitation's, which the mirror leaves out
    EXPECT_EQ(*own.data, data.dump()) << file;
    EXPECT_EQ(own.version.digest, fnv1a(data.dump())) << file;
  }
  // Non-ASCII content counts with all its bits.
  Json body = clerk_json("organization.updated.json");
  body["data"]["name"] = "\xc3\xa9";  // "é"
  Key accented = own_version(body);
  EXPECT_EQ(accented[3], fnv1a(body["data"].dump()));
  body["data"]["name"] = "C)";  // the same bytes without their top bit
  EXPECT_NE(own_version(body)[3], accented[3]);
}

TEST(PlanVersion, FullObjectOutranksSnapshot) {
  EventPlan membership = plan(clerk("organizationMembership.updated.json"));
  ASSERT_EQ(membership.writes.size(), 3u);
  Key snapshot_org = upsert_at(membership.writes, 0).version.key();
  Key snapshot_user = upsert_at(membership.writes, 1).version.key();
  EXPECT_EQ(snapshot_org[0], 0);
  EXPECT_EQ(snapshot_user[0], 0);
  // A full object, older in every other respect, still wins.
  Json old_org = clerk_json("organization.created.json");
  old_org["timestamp"] = 1;
  old_org["data"]["updated_at"] = 1;
  Key full_org = own_version(old_org);
  EXPECT_EQ(full_org[0], 1);
  EXPECT_GT(full_org, snapshot_org);
  Json old_user = clerk_json("user.created.json");
  old_user["timestamp"] = 1;
  old_user["data"]["updated_at"] = 1;
  EXPECT_GT(own_version(old_user), snapshot_user);
}

TEST(PlanVersion, UserSnapshotsAreOrderedByTheEventNotTheMembership) {
  // Clerk's order: a membership updated late in the user's old name, then
  // another one deleted, whose updated_at is older, carrying the new name.
  Json updated = clerk_json("organizationMembership.updated.json");
  updated["timestamp"] = 1700000000151;
  updated["data"]["updated_at"] = 1700000000150;
  updated["data"]["public_user_data"]["first_name"] = "Old";
  Json deleted = clerk_json("organizationMembership.deleted.json");
  deleted["timestamp"] = 1700000000300;
  deleted["data"]["updated_at"] = 1700000000050;
  deleted["data"]["public_user_data"]["first_name"] = "New";
  Key older = upsert_at(plan(updated).writes, 1).version.key();
  Key newer = upsert_at(plan(deleted).writes, 1).version.key();
  EXPECT_EQ(newer[1], 1700000000300);
  EXPECT_GT(newer, older);
}

// ---- event types ------------------------------------------------------------------------

TEST(PlanTypes, UnlistedTypesAreIgnored) {
  Json data = {{"id", "x_1"}};
  for (const char* type : {"session.created", "email.created", "sms.created", "waitlistEntry.created",
                           "organizationInvitation.deleted", "organizationInvitation.expired", "user.created.extra",
                           "user.", "User.created", "organization", "organizationInvitation", ""}) {
    SCOPED_TRACE(type);
    EventPlan p = plan(Json{{"type", type}, {"data", data}, {"timestamp", 1716883200}});
    EXPECT_EQ(p.disposition, Disposition::ignore) << p.error;
    EXPECT_TRUE(p.writes.empty());
    EXPECT_EQ(p.type, type);
    EXPECT_EQ(p.object_id, "x_1");
    EXPECT_EQ(p.event_time_ms, kDocTime);
  }
  // An ignored type needs nothing more than its type.
  EXPECT_EQ(plan(R"({"type":"session.created"})").disposition, Disposition::ignore);
  EXPECT_EQ(plan(R"({"type":"session.created","data":[]})").disposition, Disposition::ignore);
  // A listed type's example is ignored under an unlisted name.
  Json invitation = clerk_json("organizationInvitation.revoked.json");
  invitation["type"] = "organizationInvitation.deleted";
  EXPECT_EQ(plan(invitation).disposition, Disposition::ignore);
}

// ---- refused bodies ---------------------------------------------------------------------

TEST(PlanInvalid, NotJson) {
  const std::string full = clerk("user.created.json");
  for (const std::string& body :
       {std::string(""), std::string(" "), std::string("not json"), std::string("{"), std::string("{\"type\":"),
        full.substr(0, full.size() / 2), full.substr(0, full.size() - 2), full + "x", full + "{}",
        std::string("{'type':'user.created'}"), std::string("{\"type\":\"user.created\",}"),
        std::string("{\"a\":1 /* c */}"), std::string("\xff\xfe{}"),
        std::string("{\"type\":\"user.created\",\"data\":{\"id\":\"u\xc3\"}}")}) {
    EventPlan p = plan(body);
    EXPECT_TRUE(IsInvalid(p, "not valid JSON")) << "'" << body.substr(0, 60) << "'";
    EXPECT_FALSE(p.type.has_value());
  }
  EXPECT_TRUE(IsInvalid(plan(R"({"type":"user.created","data":{"id":"\ud800"}})"), "unpaired surrogate"));
}

TEST(PlanInvalid, NotAnObject) {
  for (const char* body : {"[]", "[{\"type\":\"user.created\"}]", "42", "\"user.created\"", "null", "true", "-1.5"}) {
    EventPlan p = plan(body);
    EXPECT_TRUE(IsInvalid(p, "body: expected object, got ")) << body;
    EXPECT_FALSE(p.type.has_value());
  }
}

TEST(PlanInvalid, TypeMissingOrNotAString) {
  Json body = clerk_json("user.created.json");
  Json no_type = body;
  no_type.erase("type");
  EXPECT_TRUE(IsInvalid(plan(no_type), "type: missing, expected string"));
  EXPECT_TRUE(IsInvalid(plan(with_timestamp(no_type, "soon")), "type: missing"));
  const std::vector<std::pair<Json, std::string>> cases = {
      {5, "type: expected string, got number 5"},
      {nullptr, "type: missing, expected string"},
      {Json::array({"user.created"}), "type: expected string, got array"},
      {Json::object(), "type: expected string, got object"},
      {true, "type: expected string, got boolean"}};
  for (const auto& [type, error] : cases) {
    Json b = body;
    b["type"] = type;
    EventPlan p = plan(b);
    EXPECT_TRUE(IsInvalid(p, error));
    EXPECT_FALSE(p.type.has_value());
    EXPECT_EQ(p.object_id, kDocUser);  // recorded all the same
  }
}

TEST(PlanInvalid, DataMissingOrNotAnObject) {
  for (const core::EventType& type : core::event_types()) {
    SCOPED_TRACE(type.name);
    Json body = clerk_json(std::string(type.name) + ".json");
    Json no_data = body;
    no_data.erase("data");
    EventPlan p = plan(no_data);
    EXPECT_TRUE(IsInvalid(p, "data: missing, expected object"));
    EXPECT_EQ(p.type, type.name);  // still reported for the record
    EXPECT_TRUE(IsInvalid(plan(with_timestamp(no_data, nullptr)), "data: missing"));
    for (const Json& data : {Json(nullptr), Json::array(), Json("user_1"), Json(1)}) {
      Json b = body;
      b["data"] = data;
      EXPECT_TRUE(IsInvalid(plan(b), "data: ")) << data;
    }
  }
}

TEST(PlanInvalid, IdMissingEmptyOrNotAString) {
  for (const core::EventType& type : core::event_types()) {
    SCOPED_TRACE(type.name);
    Json body = clerk_json(std::string(type.name) + ".json");
    const std::vector<std::pair<Json, std::string>> cases = {
        {"", "data.id: empty, expected an id"},
        {123, "data.id: expected string, got number 123"},
        {nullptr, "data.id: missing, expected string"},
        {Json::array({"x"}), "data.id: expected string, got array"},
        {Json::object(), "data.id: expected string, got object"},
        {std::string(257, 'x'), "data.id: longer than 256 bytes"}};
    for (const auto& [id, error] : cases) {
      Json b = body;
      b["data"]["id"] = id;
      EXPECT_TRUE(IsInvalid(plan(b), error)) << id;
    }
    Json erased = body;
    erased["data"].erase("id");
    EventPlan p = plan(erased);
    EXPECT_TRUE(IsInvalid(p, "data.id: missing, expected string"));
    EXPECT_FALSE(p.object_id.has_value());
  }
}

TEST(PlanInvalid, NulInStringOrKey) {
  const std::string head = R"({"type":"organization.created","timestamp":1716883200,"data":{"id":"org_1",)";
  for (const std::string& tail :
       {std::string(R"("name":"a\u0000b"}})"), std::string(R"("na\u0000me":"a"}})"),
        std::string(R"("public_metadata":{"deep":["x","\u0000"]}}})"),
        std::string(R"("public_metadata":{"\u0000":1}}})"), std::string(R"("name":"\u0000"}})")}) {
    EXPECT_TRUE(IsInvalid(plan(head + tail), "\\u0000")) << tail;
  }
  // Also when the type is not listed, and in the type itself.
  EXPECT_TRUE(IsInvalid(plan(R"({"type":"session.created","data":{"x":"\u0000"}})"), "\\u0000"));
  EXPECT_TRUE(IsInvalid(plan(R"({"type":"user.created\u0000","data":{"id":"u"}})"), "\\u0000"));
  // A raw NUL byte is not JSON at all.
  EXPECT_TRUE(IsInvalid(plan(head + "\"name\":\"a" + std::string(1, '\0') + "b\"}}"), "not valid JSON"));
  // An escaped backslash followed by "u0000" is an ordinary string.
  EventPlan fine = plan(head + R"("name":"a\\u0000b"}})");
  ASSERT_TRUE(IsApplied(fine));
  EXPECT_TRUE(HasText(upsert_at(fine.writes, 0), Column::name, "a\\u0000b"));
  // Other control characters are fine.
  EventPlan control = plan(head + R"("name":"a\u0001b"}})");
  ASSERT_TRUE(IsApplied(control));
  EXPECT_TRUE(HasText(upsert_at(control.writes, 0), Column::name, std::string("a\x01") + "b"));
}

TEST(PlanInvalid, TimesOutOfRange) {
  const std::string head = R"({"type":"organization.created","timestamp":1716883200,"data":{"id":"org_1",)";
  for (const char* number :
       {"9223372036854775808", "18446744073709551615", "253402300800000", "-1", "1716883200000.0"}) {
    EXPECT_TRUE(IsInvalid(
        plan(head + "\"created_at\":" + number + "}}"),
        std::string("data.created_at: expected whole milliseconds between 1970 and 9999, got number ") + number));
  }
  EventPlan max = plan(head + "\"created_at\":253402300799999}}");
  ASSERT_TRUE(IsApplied(max));
  EXPECT_TRUE(HasTime(upsert_at(max.writes, 0), Column::created_at, core::kMaxTimeMs));
}

TEST(PlanInvalid, NumbersOrgsyncDoesNotReadAreKeptExactly) {
  // A Clerk field orgsync does not type, or metadata, may hold any number:
  // it is kept exactly, as numeric writes it, not refused.
  const std::string head = R"({"type":"organization.created","timestamp":1716883200,"data":{"id":"org_1",)";
  EventPlan p =
      plan(head + R"("members_count":1e999,"public_metadata":{"n":123456789012345678901234567890,"p":1.50}}})");
  ASSERT_TRUE(IsApplied(p));
  EXPECT_EQ(*upsert_at(p.writes, 0).data, R"({"id":"org_1","members_count":1)" + std::string(999, '0') +
                                              R"(,"public_metadata":{"n":123456789012345678901234567890,"p":1.50}})");
}

TEST(PlanInvalid, ANumberJsonbCannotHoldIsInvalid) {
  // numeric holds 131,072 digits before the point: one more, even in
  // metadata orgsync does not read, and no jsonb can store the data.
  EventPlan p = plan(R"({"type":"organization.created","timestamp":1716883200,"data":{"id":"org_1",)"
                     R"("public_metadata":{"n":1e131072}}})");
  EXPECT_TRUE(IsInvalid(p, "a JSON number is beyond the range of numeric"));
  EXPECT_TRUE(p.writes.empty());
}

TEST(PlanInvalid, DeepNestingIsNotTheCoresToRefuse) {
  // Postgres refuses nesting deeper than it stores; the core plans it.
  constexpr size_t kDepth = 100'000;
  std::string deep = std::string(kDepth, '[') + std::string(kDepth, ']');
  EventPlan p =
      plan(R"({"type":"organization.created","timestamp":1716883200,"data":{"id":"org_1","x":)" + deep + "}}");
  ASSERT_TRUE(IsApplied(p));
  EXPECT_EQ(*upsert_at(p.writes, 0).data, R"({"id":"org_1","x":)" + deep + "}");
}

// One field of one documented example replaced, or removed when `value` is
// none: the delivery is invalid, naming the field.
struct Probe {
  const char* example;
  const char* pointer;  // a JSON pointer into the body
  std::optional<Json> value;
  const char* error;
};

TEST(PlanInvalid, EveryFieldReadHasItsType) {
  const std::vector<Probe> probes = {
      {"organization.created", "/data/name", 42, "data.name: expected string, got number 42"},
      {"organization.created", "/data/slug", Json::array({"s"}), "data.slug: expected string, got array"},
      {"organization.created", "/data/slug", std::string(1025, 's'), "data.slug: longer than 1024 bytes"},
      {"organization.created", "/data/image_url", true, "data.image_url: expected string, got boolean"},
      {"organization.created", "/data/created_by", Json::object(), "data.created_by: expected string, got object"},
      {"organization.created", "/data/max_allowed_memberships", "ten",
       "data.max_allowed_memberships: expected 32-bit integer, got string"},
      {"organization.created", "/data/max_allowed_memberships", 1.5,
       "data.max_allowed_memberships: expected 32-bit integer, got number 1.5"},
      {"organization.created", "/data/max_allowed_memberships", 2147483648ll,
       "data.max_allowed_memberships: expected 32-bit integer, got number 2147483648"},
      {"organization.created", "/data/created_at", "x", "data.created_at: expected whole milliseconds"},
      {"organization.created", "/data/updated_at", -1, "data.updated_at: expected whole milliseconds"},
      {"organization.created", "/data/public_metadata", Json::array(),
       "data.public_metadata: expected object, got array"},
      {"organization.created", "/data/private_metadata", "s", "data.private_metadata: expected object, got string"},
      {"user.created", "/data/email_addresses", "x", "data.email_addresses: expected array of objects, got string"},
      {"user.created", "/data/email_addresses", Json::array({"x"}),
       "data.email_addresses[0]: expected object, got string"},
      {"user.created", "/data/email_addresses", Json::parse(R"([{"id":"idn_1","email_address":5}])"),
       "data.email_addresses[0].email_address: expected string, got number 5"},
      {"user.created", "/data/primary_email_address_id", 2,
       "data.primary_email_address_id: expected string, got number 2"},
      {"user.created", "/data/phone_numbers", Json::object(),
       "data.phone_numbers: expected array of objects, got object"},
      {"user.created", "/data/primary_phone_number_id", true, "data.primary_phone_number_id: expected string"},
      {"user.created", "/data/first_name", Json::array({1}), "data.first_name: expected string, got array"},
      {"user.created", "/data/last_name", 1, "data.last_name: expected string"},
      {"user.created", "/data/username", false, "data.username: expected string"},
      {"user.created", "/data/image_url", 1, "data.image_url: expected string"},
      {"user.created", "/data/external_id", std::string(1025, 'x'), "data.external_id: longer than 1024 bytes"},
      {"user.created", "/data/banned", "no", "data.banned: expected boolean, got string"},
      {"user.created", "/data/locked", 0, "data.locked: expected boolean, got number 0"},
      {"user.created", "/data/last_sign_in_at", "x", "data.last_sign_in_at: expected whole milliseconds"},
      {"user.created", "/data/public_metadata", 1, "data.public_metadata: expected object, got number"},
      {"organizationMembership.created", "/data/role", 5, "data.role: expected string, got number 5"},
      {"organizationMembership.created", "/data/role", std::nullopt, "data.role: missing, expected string"},
      {"organizationMembership.created", "/data/role_name", false, "data.role_name: expected string, got boolean"},
      {"organizationMembership.created", "/data/permissions", "org:posts:read",
       "data.permissions: expected array of strings, got string"},
      {"organizationMembership.created", "/data/permissions", Json::array({"a", 1}),
       "data.permissions[1]: expected string, got number"},
      {"organizationMembership.created", "/data/created_at", true, "data.created_at: expected whole milliseconds"},
      {"organizationMembership.created", "/data/updated_at", 1e13, "data.updated_at: expected whole milliseconds"},
      {"organizationMembership.created", "/data/organization", "org_1",
       "data.organization: expected object, got string"},
      {"organizationMembership.created", "/data/organization", std::nullopt,
       "data.organization: missing, expected object"},
      {"organizationMembership.created", "/data/organization/id", std::nullopt, "data.organization.id: missing"},
      {"organizationMembership.created", "/data/organization/id", "", "data.organization.id: empty"},
      {"organizationMembership.created", "/data/organization/id", 12, "data.organization.id: expected string"},
      {"organizationMembership.created", "/data/organization/name", false, "data.organization.name: expected string"},
      {"organizationMembership.created", "/data/organization/max_allowed_memberships", 4294967296ll,
       "data.organization.max_allowed_memberships: expected 32-bit integer, got number 4294967296"},
      {"organizationMembership.created", "/data/organization/private_metadata", 1,
       "data.organization.private_metadata: expected object"},
      {"organizationMembership.created", "/data/public_user_data", Json::array(),
       "data.public_user_data: expected object, got array"},
      {"organizationMembership.created", "/data/public_user_data", std::nullopt,
       "data.public_user_data: missing, expected object"},
      {"organizationMembership.created", "/data/public_user_data/user_id", std::nullopt,
       "data.public_user_data.user_id: missing, expected string"},
      {"organizationMembership.created", "/data/public_user_data/identifier", 42,
       "data.public_user_data.identifier: expected string, got number 42"},
      {"organizationMembership.created", "/data/public_user_data/username", 42,
       "data.public_user_data.username: expected string"},
      {"organizationMembership.created", "/data/public_user_data/first_name", Json::object(),
       "data.public_user_data.first_name: expected string, got object"},
      {"organizationMembership.created", "/data/public_user_data/banned", "no",
       "data.public_user_data.banned: expected boolean"},
      {"organizationMembership.deleted", "/data/public_user_data/user_id", Json(nullptr),
       "data.public_user_data.user_id: missing, expected string"},
      {"organizationMembership.deleted", "/data/organization", std::nullopt,
       "data.organization: missing, expected object"},
      {"organizationInvitation.accepted", "/data/organization_id", std::nullopt,
       "data.organization_id: missing, expected string"},
      {"organizationInvitation.accepted", "/data/organization_id", true,
       "data.organization_id: expected string, got boolean"},
      {"organizationInvitation.accepted", "/data/status", std::nullopt, "data.status: missing, expected string"},
      {"organizationInvitation.accepted", "/data/status", 1, "data.status: expected string, got number 1"},
      {"organizationInvitation.accepted", "/data/email_address", Json::array(), "data.email_address: expected string"},
      {"organizationInvitation.accepted", "/data/role", Json::object(), "data.role: expected string"},
      {"organizationInvitation.accepted", "/data/role_name", 1, "data.role_name: expected string"},
      {"organizationInvitation.accepted", "/data/inviter_id", 1, "data.inviter_id: expected string"},
      {"organizationInvitation.accepted", "/data/user_id", 1, "data.user_id: expected string"},
      {"organizationInvitation.accepted", "/data/expires_at", "tomorrow",
       "data.expires_at: expected whole milliseconds"},
      {"organizationInvitation.accepted", "/data/public_metadata", "x", "data.public_metadata: expected object"},
      {"organizationDomain.updated", "/data/name", std::nullopt, "data.name: missing, expected string"},
      {"organizationDomain.updated", "/data/organization_id", 5, "data.organization_id: expected string"},
      {"organizationDomain.updated", "/data/enrollment_mode", 5, "data.enrollment_mode: expected string"},
      {"organizationDomain.updated", "/data/verification", "verified",
       "data.verification: expected object, got string"},
      {"organizationDomain.updated", "/data/verification/status", 1,
       "data.verification.status: expected string, got number 1"},
      {"organizationDomain.updated", "/data/affiliation_verification", Json::array(),
       "data.affiliation_verification: expected object, got array"},
      {"organizationDomain.updated", "/data/affiliation_email_address", 1,
       "data.affiliation_email_address: expected string"},
      {"organizationDomain.updated", "/data/total_pending_invitations", "2",
       "data.total_pending_invitations: expected 32-bit integer, got string"},
      {"organizationDomain.updated", "/data/total_pending_suggestions", 3000000000ll,
       "data.total_pending_suggestions: expected 32-bit integer, got number 3000000000"},
      {"organizationDomain.created", "/data/public_organization_data", "x",
       "data.public_organization_data: expected object, got string"},
      {"organizationDomain.created", "/data/public_organization_data/name", 1,
       "data.public_organization_data.name: expected string, got number 1"},
      {"role.created", "/data/key", std::nullopt, "data.key: missing, expected string"},
      {"role.created", "/data/name", 1, "data.name: expected string"},
      {"role.created", "/data/description", 1, "data.description: expected string"},
      {"role.created", "/data/is_creator_eligible", "yes", "data.is_creator_eligible: expected boolean, got string"},
      {"role.created", "/data/permissions", "x", "data.permissions: expected array of objects, got string"},
      {"role.created", "/data/permissions", Json::array({"org:posts:create"}),
       "data.permissions[0]: expected object, got string"},
      {"role.created", "/data/permissions/0/key", std::nullopt, "data.permissions[0].key: missing, expected string"},
      {"permission.created", "/data/key", 1, "data.key: expected string, got number 1"},
      {"permission.created", "/data/type", 1, "data.type: expected string"},
      {"permission.created", "/data/name", 1, "data.name: expected string"},
      {"permission.created", "/data/description", 1, "data.description: expected string"},
      {"permission.created", "/data/updated_at", 1.5, "data.updated_at: expected whole milliseconds"},
      {"organization.deleted", "/data/deleted", false, "data.deleted: expected true, got false"},
      {"user.deleted", "/data/deleted", "yes", "data.deleted: expected boolean, got string"},
      {"organizationDomain.deleted", "/data/deleted", false, "data.deleted: expected true, got false"},
      {"role.deleted", "/data/deleted", 1, "data.deleted: expected boolean, got number 1"},
      {"permission.deleted", "/data/deleted", false, "data.deleted: expected true, got false"},
  };
  for (const Probe& probe : probes) {
    SCOPED_TRACE(std::string(probe.example) + " " + probe.pointer);
    Json body = clerk_json(std::string(probe.example) + ".json");
    ASSERT_TRUE(IsApplied(plan(body)));
    Json::json_pointer pointer(probe.pointer);
    ASSERT_TRUE(body.contains(pointer.parent_pointer()));
    if (probe.value) {
      body[pointer] = *probe.value;
    } else {
      body[pointer.parent_pointer()].erase(pointer.back());
    }
    EventPlan p = plan(body);
    EXPECT_TRUE(IsInvalid(p, probe.error));
    EXPECT_EQ(p.error.find(probe.error), 0u) << p.error;  // the error starts with the field's path
    EXPECT_EQ(p.type, probe.example);
  }
}

// ---- invariants ---------------------------------------------------------------------------

TEST(PlanInvariants, EveryPrefixIsInvalidButTheWhole) {
  for (const char* file : {"organizationMembership.deleted.json", "user.deleted.json", "role.updated.json"}) {
    std::string body = clerk(file);
    int applied = 0;
    for (size_t n = 0; n <= body.size(); ++n) {
      EventPlan p;
      ASSERT_NO_THROW(p = core::plan_event(std::string_view(body).substr(0, n)));
      ASSERT_TRUE(WellFormed(p)) << n;
      if (p.disposition == Disposition::apply) ++applied;
    }
    // Only the whole body applies, with or without its trailing whitespace.
    size_t trailing = body.size() - (body.find_last_not_of(" \t\r\n") + 1);
    EXPECT_EQ(applied, int(trailing) + 1) << file;
  }
}

TEST(PlanInvariants, BrokenPlansAreCaught) {
  // The checks WellFormed (and the fuzzer) make, each shown to fail: each
  // change, and what it breaks.
  const EventPlan good = plan(clerk("organizationMembership.deleted.json"));
  ASSERT_TRUE(WellFormed(good));
  auto broken = [&](const std::function<void(EventPlan&)>& change) {
    EventPlan p = good;
    change(p);
    return p;
  };
  auto membership = [](EventPlan& p) -> core::Upsert& { return std::get<core::Upsert>(p.writes[2]); };
  const std::vector<std::pair<const char*, std::function<void(EventPlan&)>>> changes = {
      {"rank 3", [&](EventPlan& p) { membership(p).version.rank = 3; }},
      {"a version time out of range",
       [&](EventPlan& p) { membership(p).version.updated_at_ms = core::kMaxTimeMs + 1; }},
      {"a version time out of range", [&](EventPlan& p) { membership(p).version.event_time_ms = -1; }},
      {"digest not of the data", [&](EventPlan& p) { membership(p).version.digest ^= 1; }},
      {"data not canonical", [&](EventPlan& p) { *membership(p).data = " " + *membership(p).data; }},
      {"data not an object", [&](EventPlan& p) { membership(p).data = "[]"; }},
      {"memberships: id ''", [&](EventPlan& p) { membership(p).id.clear(); }},
      {"memberships: id 'xxx", [&](EventPlan& p) { membership(p).id.assign(257, 'x'); }},
      {"created_at: number -1 out of",
       [&](EventPlan& p) {
         core::Upsert& m = membership(p);
         core::Upsert copy(m.table, m.id, m.source);
         copy.version = m.version;
         copy.data = m.data;
         copy.set_time(Column::created_at, -1);
         m = copy;
       }},
      {"a snapshot row in a table without source",
       [&](EventPlan& p) { membership(p).source = core::RowSource::snapshot; }},
      {"a bare placeholder with a digest",
       [&](EventPlan& p) {
         auto& org = std::get<core::Upsert>(p.writes[0]);
         org.data.reset();
         org.version.digest = 1;
       }},
      {"out of the order rows are locked in", [&](EventPlan& p) { std::swap(p.writes[0], p.writes[1]); }},
      {"deleted_at out of range", [&](EventPlan& p) { std::get<core::Tombstone>(p.writes[3]).deleted_at_ms = -1; }},
      {"tombstone organization_id",
       [&](EventPlan& p) { std::get<core::Tombstone>(p.writes[3]).organization_id = kDocOrg; }},
      {"ended by name",
       [&](EventPlan& p) {
         p.writes.push_back(core::EndChildren{core::Table::memberships, Column::name, kDocOrg, kDocTime});
       }},
      {"the last own write is not the object's", [&](EventPlan& p) { p.object_id = kDocOrg; }},
      {"applied with an error", [&](EventPlan& p) { p.error = "x"; }},
      {"applied without writes", [&](EventPlan& p) { p.writes.clear(); }},
      {"applied, of no listed type", [&](EventPlan& p) { p.type = "session.created"; }},
      {"writes on an invalid plan", [&](EventPlan& p) { p.disposition = Disposition::invalid, p.error = "x"; }},
      {"invalid without an error",
       [&](EventPlan& p) {
         p.disposition = Disposition::invalid;
         p.writes.clear();
       }},
      {"writes on an ignored plan", [&](EventPlan& p) { p.disposition = Disposition::ignore; }},
  };
  for (const auto& [problem, change] : changes) {
    ::testing::AssertionResult result = WellFormed(broken(change));
    EXPECT_FALSE(result) << problem;
    EXPECT_NE(std::string(result.message()).find(problem), std::string::npos) << result.message();
  }
}

// A random value of any JSON type.
Json random_value(std::mt19937& rng) {
  switch (rng() % 9) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return int64_t(rng() % 3000000000ull) - 1000;
    case 3: return 1716883200000ll + int64_t(rng() % 1000);
    case 4: return 0.5;
    case 5: return "s";
    case 6: return std::string(rng() % 300, 'x');
    case 7: return Json::array({"a", Json::object()});
    default: return Json::object({{"id", "x"}, {"user_id", "u"}});
  }
}

// Every value in `json`, by JSON pointer.
void pointers(const Json& json, const Json::json_pointer& at, std::vector<Json::json_pointer>& out) {
  out.push_back(at);
  if (json.is_object()) {
    for (const auto& [key, value] : json.items()) pointers(value, at / key, out);
  } else if (json.is_array()) {
    for (size_t i = 0; i < json.size(); ++i) pointers(json[i], at / i, out);
  }
}

TEST(PlanInvariants, RandomChangesToEveryExampleStayWellFormed) {
  std::mt19937 rng(20240611);
  std::map<Disposition, int> seen;
  for (const auto& entry : fs::recursive_directory_iterator(fixtures_dir() + "/clerk")) {
    if (entry.path().extension() != ".json") continue;
    const std::string text = read_path(entry.path().string());
    const Json example = Json::parse(text);
    std::vector<Json::json_pointer> all;
    pointers(example, Json::json_pointer(), all);
    for (int i = 0; i < 200; ++i) {
      std::string body;
      if (i % 2 == 0) {
        // A value replaced by one of any type, or removed.
        Json changed = example;
        const Json::json_pointer& at = all[1 + rng() % (all.size() - 1)];
        if (rng() % 4 == 0 && changed[at.parent_pointer()].is_object()) {
          changed[at.parent_pointer()].erase(at.back());
        } else {
          changed[at] = random_value(rng);
        }
        body = changed.dump();
      } else {
        // A few bytes changed, inserted or deleted.
        body = text;
        for (int n = 1 + int(rng() % 3); n > 0 && !body.empty(); --n) {
          size_t at = rng() % body.size();
          switch (rng() % 3) {
            case 0: body[at] = char(rng()); break;
            case 1: body.insert(at, 1, "{}[],:\"0\\u"[rng() % 10]); break;
            default: body.erase(at, 1);
          }
        }
      }
      EventPlan p;
      ASSERT_NO_THROW(p = core::plan_event(body, core::PlanOptions{1730000000000}));
      ASSERT_TRUE(WellFormed(p)) << body;
      ++seen[p.disposition];
      // Planning is deterministic.
      EventPlan again = core::plan_event(body, core::PlanOptions{1730000000000});
      EXPECT_EQ(again.disposition, p.disposition);
      EXPECT_EQ(again.error, p.error);
      EXPECT_EQ(shape(again.writes), shape(p.writes));
    }
  }
  // The changes reach every outcome.
  EXPECT_GT(seen[Disposition::apply], 0);
  EXPECT_GT(seen[Disposition::ignore], 0);
  EXPECT_GT(seen[Disposition::invalid], 0);
}

}  // namespace
