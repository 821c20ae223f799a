// plan_event: Clerk webhook bodies to the statements that merge them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/event.hpp"

namespace orgsync::core {
// Readable enums in failure messages.
const char* kind_name(StatementKind kind) {
  switch (kind) {
    case StatementKind::upsert_organization: return "upsert_organization";
    case StatementKind::upsert_user: return "upsert_user";
    case StatementKind::upsert_membership: return "upsert_membership";
    case StatementKind::upsert_invitation: return "upsert_invitation";
    case StatementKind::delete_organization: return "delete_organization";
    case StatementKind::delete_user: return "delete_user";
    case StatementKind::delete_membership: return "delete_membership";
    case StatementKind::end_organization_memberships: return "end_organization_memberships";
    case StatementKind::end_user_memberships: return "end_user_memberships";
  }
  return "?";
}
void PrintTo(StatementKind kind, std::ostream* os) { *os << kind_name(kind); }
void PrintTo(Disposition d, std::ostream* os) {
  *os << (d == Disposition::apply ? "apply" : d == Disposition::ignore ? "ignore" : "invalid");
}
}  // namespace orgsync::core

namespace {

namespace core = orgsync::core;
namespace fs = std::filesystem;
using core::Disposition;
using core::EventPlan;
using core::Param;
using core::Statement;
using K = core::StatementKind;
using T = core::Param::Type;
using Json = nlohmann::json;
using Key = std::array<int64_t, 4>;

std::string fixtures_dir() {
  const char* env = std::getenv("ORGSYNC_FIXTURES");
  return env != nullptr && *env != '\0' ? env : "test/fixtures";
}

std::string read_path(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot open fixture " + path + " (run from the repo root or set ORGSYNC_FIXTURES)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string clerk(const std::string& name) { return read_path(fixtures_dir() + "/clerk/" + name); }
Json clerk_json(const std::string& name) { return Json::parse(clerk(name)); }

// ---- parameter checks ------------------------------------------------------

::testing::AssertionResult IsText(const Param& p, const std::string& expected) {
  if (p.type != T::text) return ::testing::AssertionFailure() << "not a text param";
  if (p.is_null) return ::testing::AssertionFailure() << "NULL, expected '" << expected << "'";
  if (p.text != expected) return ::testing::AssertionFailure() << "'" << p.text << "', expected '" << expected << "'";
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsTime(const Param& p, int64_t expected) {
  if (p.type != T::timestamp_ms) return ::testing::AssertionFailure() << "not a timestamp param";
  if (p.is_null) return ::testing::AssertionFailure() << "NULL, expected " << expected;
  if (p.number != expected) return ::testing::AssertionFailure() << p.number << ", expected " << expected;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsInt(const Param& p, int64_t expected) {
  if (p.type != T::int64) return ::testing::AssertionFailure() << "not an int64 param";
  if (p.is_null) return ::testing::AssertionFailure() << "NULL, expected " << expected;
  if (p.number != expected) return ::testing::AssertionFailure() << p.number << ", expected " << expected;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsNull(const Param& p, T type) {
  if (p.type != type) return ::testing::AssertionFailure() << "param of another type";
  if (!p.is_null) return ::testing::AssertionFailure() << "not NULL: '" << p.text << "' / " << p.number;
  return ::testing::AssertionSuccess();
}

// The parameter types of each statement, as declared in src/pg/statements.cpp.
const std::map<K, std::vector<T>>& signatures() {
  static const std::map<K, std::vector<T>> table = {
      {K::upsert_organization,
       {T::text, T::text, T::text, T::text, T::text, T::int64, T::timestamp_ms, T::timestamp_ms, T::json, T::text,
        T::text}},
      {K::upsert_user,
       {T::text, T::text, T::text, T::text, T::text, T::text, T::text, T::timestamp_ms, T::timestamp_ms, T::json,
        T::text, T::text}},
      {K::upsert_membership,
       {T::text, T::text, T::text, T::text, T::text, T::timestamp_ms, T::timestamp_ms, T::timestamp_ms, T::json,
        T::text}},
      {K::upsert_invitation,
       {T::text, T::text, T::text, T::text, T::text, T::timestamp_ms, T::timestamp_ms, T::timestamp_ms, T::json,
        T::text}},
      {K::delete_organization, {T::text, T::timestamp_ms}},
      {K::delete_user, {T::text, T::timestamp_ms}},
      {K::delete_membership, {T::text, T::timestamp_ms}},
      {K::end_organization_memberships, {T::text, T::timestamp_ms}},
      {K::end_user_memberships, {T::text, T::timestamp_ms}},
  };
  return table;
}

std::optional<Key> parse_version(const std::string& text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
  Key key{};
  size_t start = 1;
  for (int i = 0; i < 4; ++i) {
    size_t end = text.find(i < 3 ? ',' : '}', start);
    if (end == std::string::npos) return std::nullopt;
    std::string part = text.substr(start, end - start);
    size_t used = 0;
    try {
      key[i] = std::stoll(part, &used);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (used != part.size() || part.empty()) return std::nullopt;
    start = end + 1;
  }
  if (start != text.size()) return std::nullopt;
  return key;
}

// Index of the version / data params, where a statement has them.
std::optional<size_t> version_index(K kind) {
  switch (kind) {
    case K::upsert_organization: return 10;
    case K::upsert_user: return 11;
    case K::upsert_membership:
    case K::upsert_invitation: return 9;
    default: return std::nullopt;
  }
}
std::optional<size_t> data_index(K kind) {
  switch (kind) {
    case K::upsert_organization: return 8;
    case K::upsert_user: return 9;
    case K::upsert_membership:
    case K::upsert_invitation: return 8;
    default: return std::nullopt;
  }
}

Key version_of(const Statement& s) {
  auto index = version_index(s.kind);
  if (!index) throw std::runtime_error("statement has no version");
  auto key = parse_version(s.params.at(*index).text);
  if (!key) throw std::runtime_error("unparsable version '" + s.params.at(*index).text + "'");
  return *key;
}

Json data_of(const Statement& s) {
  auto index = data_index(s.kind);
  if (!index) throw std::runtime_error("statement has no data");
  return Json::parse(s.params.at(*index).text);
}

// Invariants every applied plan must satisfy, whatever the input.
::testing::AssertionResult WellFormed(const EventPlan& plan) {
  if (plan.disposition != Disposition::apply) {
    if (!plan.statements.empty()) return ::testing::AssertionFailure() << "statements on a plan not applied";
    if (plan.disposition == Disposition::invalid && plan.error.empty())
      return ::testing::AssertionFailure() << "invalid without an error";
    return ::testing::AssertionSuccess();
  }
  if (plan.statements.empty()) return ::testing::AssertionFailure() << "applied plan without statements";
  if (!plan.error.empty()) return ::testing::AssertionFailure() << "applied plan with an error";
  for (const auto& s : plan.statements) {
    const auto& types = signatures().at(s.kind);
    if (s.params.size() != types.size())
      return ::testing::AssertionFailure() << core::kind_name(s.kind) << ": " << s.params.size() << " params";
    for (size_t i = 0; i < types.size(); ++i) {
      if (s.params[i].type != types[i])
        return ::testing::AssertionFailure() << core::kind_name(s.kind) << ": param " << i << " has the wrong type";
      if (s.params[i].is_null && (!s.params[i].text.empty() || s.params[i].number != 0))
        return ::testing::AssertionFailure() << core::kind_name(s.kind) << ": NULL param " << i << " carries a value";
    }
    if (s.params[0].is_null || s.params[0].text.empty())
      return ::testing::AssertionFailure() << core::kind_name(s.kind) << ": empty id";
    if (s.params.size() == 2 && s.params[1].is_null)
      return ::testing::AssertionFailure() << core::kind_name(s.kind) << ": NULL deletion time";
    if (auto v = version_index(s.kind)) {
      auto key = parse_version(s.params[*v].text);
      if (!key) return ::testing::AssertionFailure() << "bad version " << s.params[*v].text;
      if ((*key)[0] != 0 && (*key)[0] != 1) return ::testing::AssertionFailure() << "bad rank";
    }
    if (auto d = data_index(s.kind)) {
      if (s.params[*d].is_null || !Json::accept(s.params[*d].text) || !Json::parse(s.params[*d].text).is_object())
        return ::testing::AssertionFailure() << core::kind_name(s.kind) << ": data is not a JSON object";
    }
    if (s.kind == K::upsert_membership &&
        (s.params[1].is_null || s.params[1].text.empty() || s.params[2].is_null || s.params[2].text.empty()))
      return ::testing::AssertionFailure() << "membership without organization or user id";
  }
  return ::testing::AssertionSuccess();
}

std::vector<K> kinds(const EventPlan& plan) {
  std::vector<K> out;
  for (const auto& s : plan.statements) out.push_back(s.kind);
  return out;
}

EventPlan plan(const std::string& body, std::optional<int64_t> fallback = std::nullopt) {
  EventPlan p = core::plan_event(body, core::PlanOptions{fallback});
  EXPECT_TRUE(WellFormed(p));
  return p;
}
EventPlan plan(const Json& body, std::optional<int64_t> fallback = std::nullopt) { return plan(body.dump(), fallback); }
EventPlan plan(const char* body, std::optional<int64_t> fallback = std::nullopt) {
  return plan(std::string(body), fallback);
}

// Expect an applied plan with these kinds, in order.
#define EXPECT_PLAN(p, ...)                                      \
  do {                                                           \
    EXPECT_EQ((p).disposition, Disposition::apply) << (p).error; \
    EXPECT_EQ(kinds(p), (std::vector<K>{__VA_ARGS__}));          \
  } while (0)

::testing::AssertionResult IsInvalid(const EventPlan& p, const std::string& error_part) {
  if (p.disposition != Disposition::invalid)
    return ::testing::AssertionFailure() << "disposition " << int(p.disposition) << ", expected invalid";
  if (!p.statements.empty()) return ::testing::AssertionFailure() << "invalid plan with statements";
  if (p.error.find(error_part) == std::string::npos)
    return ::testing::AssertionFailure() << "error '" << p.error << "' lacks '" << error_part << "'";
  return ::testing::AssertionSuccess();
}

constexpr int64_t kDocTime = 1716883200000;  // docs fixtures: "timestamp": 1716883200 (seconds)
constexpr const char* kDocOrg = "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
constexpr const char* kDocUser = "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
constexpr const char* kDocMember = "user_2h8op3Isl1QR7tKu5FGNfaLKEoU";
constexpr const char* kDocMembership = "orgmem_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
constexpr const char* kDocInvitation = "orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S";

// ---- fixtures: documented examples -----------------------------------------

TEST(EventFixtures, OrganizationCreated) {
  Json body = clerk_json("organization.created.json");
  EventPlan p = plan(clerk("organization.created.json"));
  EXPECT_PLAN(p, K::upsert_organization);
  EXPECT_EQ(p.type, std::optional<std::string>("organization.created"));
  EXPECT_EQ(p.object_id, std::optional<std::string>(kDocOrg));
  EXPECT_EQ(p.event_time_ms, std::optional<int64_t>(kDocTime));
  ASSERT_EQ(p.statements.size(), 1u);
  const auto& s = p.statements[0].params;
  EXPECT_TRUE(IsText(s[0], kDocOrg));
  EXPECT_TRUE(IsText(s[1], "Acme Corp"));
  EXPECT_TRUE(IsText(s[2], "acme-corp"));
  EXPECT_TRUE(IsText(s[3], "https://img.clerk.com/xxxxxx"));
  EXPECT_TRUE(IsText(s[4], kDocUser));
  EXPECT_TRUE(IsInt(s[5], 5));
  EXPECT_TRUE(IsTime(s[6], 1716883200000));
  EXPECT_TRUE(IsTime(s[7], 1716883200000));
  EXPECT_EQ(data_of(p.statements[0]), body["data"]);
  EXPECT_TRUE(IsText(s[9], "event"));
  Key v = version_of(p.statements[0]);
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], 1716883200000);
  EXPECT_EQ(v[2], kDocTime);
}

TEST(EventFixtures, OrganizationUpdated) {
  EventPlan p = plan(clerk("organization.updated.json"));
  EXPECT_PLAN(p, K::upsert_organization);
  ASSERT_EQ(p.statements.size(), 1u);
  const auto& s = p.statements[0].params;
  EXPECT_TRUE(IsText(s[0], kDocOrg));
  EXPECT_TRUE(IsText(s[1], "Acme Corp Updated"));
  EXPECT_TRUE(IsText(s[2], "acme-corp-updated"));
  EXPECT_TRUE(IsInt(s[5], 10));
  EXPECT_TRUE(IsTime(s[6], 1716883200000));
  EXPECT_TRUE(IsTime(s[7], 1716883500000));
  EXPECT_EQ(data_of(p.statements[0])["private_metadata"]["internal_id"], "ORG-123");
  Key v = version_of(p.statements[0]);
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], 1716883500000);
  // Later than the created version of the same organization.
  Key created = version_of(plan(clerk("organization.created.json")).statements.at(0));
  EXPECT_GT(v, created);
}

TEST(EventFixtures, OrganizationDeleted) {
  EventPlan p = plan(clerk("organization.deleted.json"));
  EXPECT_PLAN(p, K::delete_organization, K::end_organization_memberships);
  ASSERT_EQ(p.statements.size(), 2u);
  for (const auto& s : p.statements) {
    EXPECT_TRUE(IsText(s.params[0], kDocOrg));
    EXPECT_TRUE(IsTime(s.params[1], kDocTime));
  }
  EXPECT_EQ(p.object_id, std::optional<std::string>(kDocOrg));
}

TEST(EventFixtures, UserCreated) {
  Json body = clerk_json("user.created.json");
  EventPlan p = plan(clerk("user.created.json"));
  EXPECT_PLAN(p, K::upsert_user);
  ASSERT_EQ(p.statements.size(), 1u);
  const auto& s = p.statements[0].params;
  EXPECT_TRUE(IsText(s[0], kDocUser));
  EXPECT_TRUE(IsNull(s[1], T::text));  // no email addresses in the example
  EXPECT_TRUE(IsText(s[2], "John"));
  EXPECT_TRUE(IsText(s[3], "Doe"));
  EXPECT_TRUE(IsNull(s[4], T::text));  // username: null
  EXPECT_TRUE(IsText(s[5], "https://img.clerk.com/xxxxxx"));
  EXPECT_TRUE(IsNull(s[6], T::text));  // external_id: null
  EXPECT_TRUE(IsTime(s[7], 1716883200000));
  EXPECT_TRUE(IsTime(s[8], 1716883200000));
  EXPECT_EQ(data_of(p.statements[0]), body["data"]);
  EXPECT_TRUE(IsText(s[10], "event"));
  Key v = version_of(p.statements[0]);
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], 1716883200000);
  EXPECT_EQ(v[2], kDocTime);
}

TEST(EventFixtures, UserUpdated) {
  EventPlan p = plan(clerk("user.updated.json"));
  EXPECT_PLAN(p, K::upsert_user);
  ASSERT_EQ(p.statements.size(), 1u);
  const auto& s = p.statements[0].params;
  EXPECT_TRUE(IsText(s[0], kDocUser));
  EXPECT_TRUE(IsText(s[3], "Doe Updated"));
  EXPECT_TRUE(IsText(s[4], "johndoe"));
  EXPECT_TRUE(IsText(s[5], "https://img.clerk.com/yyyyy"));
  EXPECT_TRUE(IsTime(s[8], 1716883500000));
  EXPECT_EQ(version_of(p.statements[0])[1], 1716883500000);
  EXPECT_GT(version_of(p.statements[0]), version_of(plan(clerk("user.created.json")).statements.at(0)));
}

TEST(EventFixtures, UserDeleted) {
  EventPlan p = plan(clerk("user.deleted.json"));
  EXPECT_PLAN(p, K::delete_user, K::end_user_memberships);
  ASSERT_EQ(p.statements.size(), 2u);
  for (const auto& s : p.statements) {
    EXPECT_TRUE(IsText(s.params[0], kDocUser));
    EXPECT_TRUE(IsTime(s.params[1], kDocTime));
  }
}

void expect_doc_membership(const EventPlan& p, const std::string& role, const std::string& permissions,
                           int64_t updated_at, std::optional<int64_t> deleted_at) {
  ASSERT_GE(p.statements.size(), 3u);
  const auto& org = p.statements[0];
  EXPECT_TRUE(IsText(org.params[0], kDocOrg));
  EXPECT_TRUE(IsText(org.params[1], "Acme Corp"));
  EXPECT_TRUE(IsInt(org.params[5], 5));
  EXPECT_TRUE(IsText(org.params[9], "membership"));
  EXPECT_EQ(version_of(org)[0], 0);  // snapshot rank

  const auto& user = p.statements[1];
  EXPECT_TRUE(IsText(user.params[0], kDocMember));
  EXPECT_TRUE(IsText(user.params[1], "jane.doe@acme.com"));  // identifier with '@'
  EXPECT_TRUE(IsText(user.params[2], "Jane"));
  EXPECT_TRUE(IsText(user.params[3], "Doe"));
  EXPECT_TRUE(IsNull(user.params[4], T::text));
  EXPECT_TRUE(IsText(user.params[5], "https://img.clerk.com/yyyyy"));
  EXPECT_TRUE(IsNull(user.params[6], T::text));
  EXPECT_TRUE(IsNull(user.params[7], T::timestamp_ms));
  EXPECT_TRUE(IsNull(user.params[8], T::timestamp_ms));
  EXPECT_EQ(data_of(user)["user_id"], kDocMember);
  EXPECT_TRUE(IsText(user.params[10], "membership"));
  Key user_version = version_of(user);
  EXPECT_EQ(user_version[0], 0);
  EXPECT_EQ(user_version[1], user_version[2]);  // the user as of the event

  const auto& m = p.statements[2];
  EXPECT_TRUE(IsText(m.params[0], kDocMembership));
  EXPECT_TRUE(IsText(m.params[1], kDocOrg));
  EXPECT_TRUE(IsText(m.params[2], kDocMember));
  EXPECT_TRUE(IsText(m.params[3], role));
  EXPECT_TRUE(IsText(m.params[4], permissions));
  EXPECT_TRUE(IsTime(m.params[5], 1716883200000));
  EXPECT_TRUE(IsTime(m.params[6], updated_at));
  if (deleted_at) {
    EXPECT_TRUE(IsTime(m.params[7], *deleted_at));
  } else {
    EXPECT_TRUE(IsNull(m.params[7], T::timestamp_ms));
  }
  EXPECT_EQ(data_of(m)["id"], kDocMembership);
  Key v = version_of(m);
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], updated_at);
  EXPECT_EQ(v[2], kDocTime);
}

TEST(EventFixtures, MembershipCreated) {
  EventPlan p = plan(clerk("organizationMembership.created.json"));
  EXPECT_PLAN(p, K::upsert_organization, K::upsert_user, K::upsert_membership);
  expect_doc_membership(p, "org:member", R"({"org:posts:read","org:posts:write"})", 1716883200000, std::nullopt);
  EXPECT_EQ(p.object_id, std::optional<std::string>(kDocMembership));
}

TEST(EventFixtures, MembershipUpdated) {
  EventPlan p = plan(clerk("organizationMembership.updated.json"));
  EXPECT_PLAN(p, K::upsert_organization, K::upsert_user, K::upsert_membership);
  expect_doc_membership(p, "org:admin",
                        R"({"org:posts:read","org:posts:write","org:posts:delete","org:members:manage"})",
                        1716883500000, std::nullopt);
}

TEST(EventFixtures, MembershipDeleted) {
  EventPlan p = plan(clerk("organizationMembership.deleted.json"));
  EXPECT_PLAN(p, K::upsert_organization, K::upsert_user, K::upsert_membership, K::delete_membership);
  expect_doc_membership(p, "org:member", R"({"org:posts:read","org:posts:write"})", 1716883200000, kDocTime);
  ASSERT_EQ(p.statements.size(), 4u);
  EXPECT_TRUE(IsText(p.statements[3].params[0], kDocMembership));
  EXPECT_TRUE(IsTime(p.statements[3].params[1], kDocTime));
}

TEST(EventFixtures, Invitations) {
  const std::map<std::string, std::pair<std::string, int64_t>> cases = {
      {"organizationInvitation.created.json", {"pending", 1716883200000}},
      {"organizationInvitation.accepted.json", {"accepted", 1716883500000}},
      {"organizationInvitation.revoked.json", {"revoked", 1716883500000}},
  };
  for (const auto& [file, expected] : cases) {
    SCOPED_TRACE(file);
    EventPlan p = plan(clerk(file));
    EXPECT_PLAN(p, K::upsert_invitation);
    ASSERT_EQ(p.statements.size(), 1u);
    const auto& s = p.statements[0].params;
    EXPECT_TRUE(IsText(s[0], kDocInvitation));
    EXPECT_TRUE(IsText(s[1], kDocOrg));
    EXPECT_TRUE(IsText(s[2], "jane.doe@acme.com"));
    EXPECT_TRUE(IsText(s[3], "org:member"));
    EXPECT_TRUE(IsText(s[4], expected.first));
    EXPECT_TRUE(IsTime(s[5], 1716883200000));
    EXPECT_TRUE(IsTime(s[6], expected.second));
    EXPECT_TRUE(IsTime(s[7], 1717487999000));
    EXPECT_EQ(data_of(p.statements[0])["status"], expected.first);
    Key v = version_of(p.statements[0]);
    EXPECT_EQ(v[0], 1);
    EXPECT_EQ(v[1], expected.second);
    EXPECT_EQ(v[2], kDocTime);
  }
}

TEST(EventFixtures, SessionsAreIgnored) {
  for (const char* name :
       {"session.created", "session.ended", "session.pending", "session.removed", "session.revoked"}) {
    SCOPED_TRACE(name);
    EventPlan p = plan(clerk(std::string(name) + ".json"));
    EXPECT_EQ(p.disposition, Disposition::ignore);
    EXPECT_TRUE(p.statements.empty());
    EXPECT_TRUE(p.error.empty());
    EXPECT_EQ(p.type, std::optional<std::string>(name));
    EXPECT_EQ(p.object_id, std::optional<std::string>("sess_2g7np7Hrk0SN6kj5EDMLDaKNL0S"));
    EXPECT_EQ(p.event_time_ms, std::optional<int64_t>(kDocTime));
  }
}

TEST(EventFixtures, EveryFixtureFileIsCovered) {
  // Every top-level fixture plans to apply or (sessions) ignore, well-formed.
  int count = 0;
  for (const auto& entry : fs::directory_iterator(fixtures_dir() + "/clerk")) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    std::string name = entry.path().stem().string();
    SCOPED_TRACE(name);
    EventPlan p = plan(read_path(entry.path().string()));
    EXPECT_EQ(p.type, std::optional<std::string>(name));
    EXPECT_EQ(p.disposition, name.rfind("session.", 0) == 0 ? Disposition::ignore : Disposition::apply) << p.error;
  }
  EXPECT_EQ(count, 17);
}

// ---- fixtures: received in 2024 --------------------------------------------

TEST(EventReceived2024, AllApply) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(fixtures_dir() + "/clerk/received_2024")) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    SCOPED_TRACE(entry.path().filename().string());
    std::string body = read_path(entry.path().string());
    EventPlan p = plan(body);
    EXPECT_EQ(p.disposition, Disposition::apply) << p.error;
    Json json = Json::parse(body);
    // Millisecond timestamps stay as they are.
    EXPECT_EQ(p.event_time_ms, std::optional<int64_t>(json["timestamp"].get<int64_t>()));
    EXPECT_EQ(p.object_id, std::optional<std::string>(json["data"]["id"].get<std::string>()));
  }
  EXPECT_EQ(count, 6);
}

TEST(EventReceived2024, Details) {
  EventPlan org = plan(clerk("received_2024/organization.updated.json"));
  EXPECT_PLAN(org, K::upsert_organization);
  ASSERT_EQ(org.statements.size(), 1u);
  EXPECT_TRUE(IsText(org.statements[0].params[0], "org_2o9RAVkGMEfjA4f90OznAdaR1dx"));
  EXPECT_EQ(version_of(org.statements[0]), (Key{1, 1730714042578, 1730714042582, version_of(org.statements[0])[3]}));

  EventPlan deleted = plan(clerk("received_2024/organizationMembership.deleted.json"));
  EXPECT_PLAN(deleted, K::upsert_organization, K::upsert_user, K::upsert_membership, K::delete_membership);
  ASSERT_EQ(deleted.statements.size(), 4u);
  const auto& m = deleted.statements[2].params;
  EXPECT_TRUE(IsText(m[0], "orgmem_2o9XXSriW8J9VdELquuqyZPAvYJ"));
  EXPECT_TRUE(IsText(m[1], "org_2o9RAVkGMEfjA4f90OznAdaR1dx"));
  EXPECT_TRUE(IsText(m[2], "user_2giUfelO6nqMouDtVZQOolP7eXN"));
  EXPECT_TRUE(IsText(m[3], "org:member"));
  EXPECT_TRUE(IsText(m[4], R"({"org:sys_memberships:read"})"));
  EXPECT_TRUE(IsTime(m[6], 1730283452998));  // its last update, not the deletion
  EXPECT_TRUE(IsTime(m[7], 1730711921915));  // the event time
  EXPECT_TRUE(IsTime(deleted.statements[3].params[1], 1730711921915));
  // The membership's organization carries no created_by.
  EXPECT_TRUE(IsNull(deleted.statements[0].params[4], T::text));
  EXPECT_TRUE(IsText(deleted.statements[1].params[1], "sprazzeus@gmail.com"));

  EventPlan user = plan(clerk("received_2024/user.created.json"));
  EXPECT_PLAN(user, K::upsert_user);
  ASSERT_EQ(user.statements.size(), 1u);
  EXPECT_TRUE(IsText(user.statements[0].params[1], "doo@paragraph.ink"));
  EXPECT_TRUE(IsTime(user.statements[0].params[7], 1730279325003));
  EXPECT_TRUE(IsTime(user.statements[0].params[8], 1730279325025));
}

// ---- event time ------------------------------------------------------------

TEST(EventTime, Normalize) {
  EXPECT_EQ(core::normalize_event_time_ms(1716883200), 1716883200000);
  EXPECT_EQ(core::normalize_event_time_ms(1716883200000), 1716883200000);
  EXPECT_EQ(core::normalize_event_time_ms(0), 0);
  EXPECT_EQ(core::normalize_event_time_ms(1), 1000);
  EXPECT_EQ(core::normalize_event_time_ms(99'999'999'999), 99'999'999'999'000);
  EXPECT_EQ(core::normalize_event_time_ms(100'000'000'000), 100'000'000'000);
}

Json with_timestamp(Json body, const Json& timestamp) {
  body["timestamp"] = timestamp;
  return body;
}

TEST(EventTime, SecondsAndMillisecondsInPayload) {
  Json body = clerk_json("organization.created.json");
  EXPECT_EQ(plan(with_timestamp(body, 1716883200)).event_time_ms, std::optional<int64_t>(1716883200000));
  EXPECT_EQ(plan(with_timestamp(body, 1716883200123)).event_time_ms, std::optional<int64_t>(1716883200123));
  EXPECT_EQ(plan(with_timestamp(body, 0)).event_time_ms, std::optional<int64_t>(0));
  EXPECT_EQ(plan(with_timestamp(body, 100'000'000'000'000)).event_time_ms, std::optional<int64_t>(100'000'000'000'000));
  // Out of range, negative or not an integer: no event time.
  for (const Json& bad : {Json(100'000'000'000'001), Json(-1), Json(1716883200.5), Json("1716883200"), Json(nullptr),
                          Json::array({1716883200}), Json(true), Json(uint64_t(18446744073709551615ull))}) {
    EventPlan p = plan(with_timestamp(body, bad));
    EXPECT_EQ(p.disposition, Disposition::apply) << bad.dump();
    EXPECT_FALSE(p.event_time_ms.has_value()) << bad.dump();
    EXPECT_EQ(version_of(p.statements.at(0))[2], 0) << bad.dump();
  }
  Json deletion = with_timestamp(clerk_json("user.deleted.json"), 1730000000);
  EventPlan p = plan(deletion);
  EXPECT_TRUE(IsTime(p.statements.at(0).params[1], 1730000000000));
  EXPECT_TRUE(IsTime(plan(with_timestamp(deletion, 1730000000123)).statements.at(0).params[1], 1730000000123));
}

TEST(EventTime, DeletionFallsBackToDeliveryTime) {
  for (const char* file : {"user.deleted.json", "organization.deleted.json", "organizationMembership.deleted.json"}) {
    SCOPED_TRACE(file);
    Json body = clerk_json(file);
    body.erase("timestamp");
    EventPlan with = plan(body, 1730000000999);
    EXPECT_EQ(with.disposition, Disposition::apply) << with.error;
    EXPECT_FALSE(with.event_time_ms.has_value());  // the payload's own time only
    ASSERT_FALSE(with.statements.empty());
    EXPECT_TRUE(IsTime(with.statements.back().params[1], 1730000000999));

    EventPlan without = plan(body);
    EXPECT_TRUE(IsInvalid(without, "timestamp"));
    // An unusable timestamp is as good as none.
    EXPECT_TRUE(IsInvalid(plan(with_timestamp(body, "soon")), "timestamp"));
    EXPECT_TRUE(IsInvalid(plan(with_timestamp(body, -5)), "timestamp"));
    EventPlan stale_string = plan(with_timestamp(body, "soon"), 42);
    ASSERT_FALSE(stale_string.statements.empty());
    EXPECT_TRUE(IsTime(stale_string.statements.back().params[1], 42));
    // The payload's own time wins over the fallback.
    EventPlan own = plan(with_timestamp(body, 1716883200), 1730000000999);
    EXPECT_TRUE(IsTime(own.statements.back().params[1], kDocTime));
  }
}

TEST(EventTime, FallbackAlsoVersionsUpserts) {
  Json body = clerk_json("organization.created.json");
  body.erase("timestamp");
  EXPECT_EQ(version_of(plan(body).statements.at(0))[2], 0);
  EXPECT_EQ(version_of(plan(body, 1730000000999).statements.at(0))[2], 1730000000999);
}

// ---- versions ---------------------------------------------------------------

Key org_version(const Json& body) {
  EventPlan p = plan(body);
  if (p.statements.size() != 1) throw std::runtime_error("expected one statement: " + p.error);
  return version_of(p.statements[0]);
}

TEST(EventVersion, NewerUpdatedAtIsGreater) {
  Json body = clerk_json("organization.updated.json");
  Json newer = body;
  newer["data"]["updated_at"] = 1716883500001;
  newer["timestamp"] = 1;  // an older event does not matter: updated_at comes first
  EXPECT_GT(org_version(newer), org_version(body));
  Json older = body;
  older["data"]["updated_at"] = 1716883499999;
  older["timestamp"] = 1816883200;
  EXPECT_LT(org_version(older), org_version(body));
}

TEST(EventVersion, LaterEventBreaksUpdatedAtTie) {
  Json body = clerk_json("organization.updated.json");
  Json later = with_timestamp(body, 1716883201);
  EXPECT_GT(org_version(later), org_version(body));
  EXPECT_EQ(org_version(later)[1], org_version(body)[1]);
}

TEST(EventVersion, UpdatedAtFallsBackToCreatedAt) {
  Json body = clerk_json("organization.updated.json");
  body["data"].erase("updated_at");
  EXPECT_EQ(org_version(body)[1], 1716883200000);
  body["data"].erase("created_at");
  EXPECT_EQ(org_version(body)[1], 0);
  body["data"]["updated_at"] = "yesterday";
  EXPECT_EQ(org_version(body)[1], 0);
}

TEST(EventVersion, DigestStableForSameContent) {
  const std::string raw = clerk("organization.updated.json");
  Json body = Json::parse(raw);
  Key a = org_version(body);
  EXPECT_EQ(org_version(Json::parse(raw)), a);
  // Same content, other formatting and key order: same key.
  EXPECT_EQ(plan(body.dump(2)).statements.at(0).params[10].text, plan(raw).statements.at(0).params[10].text);
  std::string reordered =
      R"({"timestamp":1716883200,"type":"organization.updated","data":)" + body["data"].dump() + "}";
  EXPECT_EQ(version_of(plan(reordered).statements.at(0)), a);
  std::string data = body["data"].dump();
  // Escaped the other way: "Acme" as \u0041cme is the same string.
  std::string escaped =
      R"({"type":"organization.updated","timestamp":1716883200,"data":)" +
      std::string(data).replace(data.find("\"Acme Corp Updated\""), 19, R"("\u0041cme Corp Updated")") + "}";
  EXPECT_EQ(version_of(plan(escaped).statements.at(0)), a);
  // Event metadata outside `data` does not enter the digest.
  Json other = body;
  other["event_attributes"]["http_request"]["client_ip"] = "10.0.0.1";
  EXPECT_EQ(org_version(other), a);
}

TEST(EventVersion, DigestDiffersForDifferentContent) {
  Json body = clerk_json("organization.updated.json");
  Key a = org_version(body);
  const std::vector<std::pair<const char*, Json>> changes = {
      {"name", "Acme Corp Updatee"}, {"slug", nullptr}, {"members_count", 4}, {"has_image", false}, {"extra", 1}};
  for (const auto& change : changes) {
    Json changed = body;
    changed["data"][change.first] = change.second;
    Key b = org_version(changed);
    EXPECT_EQ(b[0], a[0]);
    EXPECT_EQ(b[1], a[1]);
    EXPECT_EQ(b[2], a[2]);
    EXPECT_NE(b[3], a[3]) << change.first;
    EXPECT_NE(b, a);
  }
  Json nested = body;
  nested["data"]["public_metadata"]["department"] = "sales";
  EXPECT_NE(org_version(nested)[3], a[3]);
}

// The digest is stored in sync_version and compared across builds: it is
// 64-bit FNV-1a over the canonical (sorted-key, compact) dump of the object,
// bytes taken unsigned.
int64_t fnv1a(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return int64_t(hash);
}

TEST(EventVersion, DigestIsFnv1aOfCanonicalData) {
  for (const char* file : {"organization.updated.json", "user.updated.json", "organizationInvitation.created.json",
                           "received_2024/user.created.json"}) {
    EventPlan p = plan(clerk(file));
    ASSERT_EQ(p.statements.size(), 1u) << file;
    EXPECT_EQ(version_of(p.statements[0])[3], fnv1a(Json::parse(clerk(file))["data"].dump())) << file;
  }
  // Non-ASCII content counts with all its bits.
  Json body = clerk_json("organization.updated.json");
  body["data"]["name"] = "\xc3\xa9";  // "é"
  Key accented = org_version(body);
  EXPECT_EQ(accented[3], fnv1a(body["data"].dump()));
  body["data"]["name"] = "C)";  // the same bytes without their top bit
  EXPECT_NE(org_version(body)[3], accented[3]);
}

TEST(EventVersion, FullObjectOutranksSnapshot) {
  EventPlan membership = plan(clerk("organizationMembership.updated.json"));
  ASSERT_EQ(membership.statements.size(), 3u);
  Key snapshot = version_of(membership.statements[0]);
  Key snapshot_user = version_of(membership.statements[1]);
  EXPECT_EQ(snapshot[0], 0);
  EXPECT_EQ(snapshot_user[0], 0);
  // A full organization event, older in every other respect, still wins.
  Json old_org = clerk_json("organization.created.json");
  old_org["timestamp"] = 1;
  old_org["data"]["updated_at"] = 1;
  Key full = org_version(old_org);
  EXPECT_EQ(full[0], 1);
  EXPECT_GT(full, snapshot);
  Json old_user = clerk_json("user.created.json");
  old_user["timestamp"] = 1;
  old_user["data"]["updated_at"] = 1;
  Key full_user = version_of(plan(old_user).statements.at(0));
  EXPECT_GT(full_user, snapshot_user);
}

TEST(EventVersion, UserSnapshotsAreOrderedByTheEventNotTheMembership) {
  // Clerk's order: a membership updated late in the user's old name, then
  // another one deleted, whose updated_at is older, carrying the new name.
  Json updated = clerk_json("organizationMembership.updated.json");
  updated["timestamp"] = 1700000000151;
  updated["data"]["updated_at"] = 1700000000150;
  updated["data"]["public_user_data"]["first_name"] = "Old";
  Json deleted = clerk_json("organizationMembership.deleted.json");
  deleted["timestamp"] = 1700000000300;
  deleted["data"]["updated_at"] = 1700000000050;
  deleted["data"]["public_user_data"]["user_id"] = updated["data"]["public_user_data"]["user_id"];
  deleted["data"]["public_user_data"]["first_name"] = "New";
  Key older = version_of(plan(updated).statements.at(1));
  Key newer = version_of(plan(deleted).statements.at(1));
  EXPECT_EQ(newer[1], 1700000000300);
  EXPECT_GT(newer, older);
}

// ---- primary email -----------------------------------------------------------

Json user_with_addresses(const Json& addresses, const Json& primary_id) {
  Json body = clerk_json("user.created.json");
  body["data"]["email_addresses"] = addresses;
  body["data"]["primary_email_address_id"] = primary_id;
  return body;
}

std::string planned_email(const Json& body) {
  EventPlan p = plan(body);
  if (p.statements.size() != 1) throw std::runtime_error("expected one statement: " + p.error);
  const Param& email = p.statements[0].params.at(1);
  return email.is_null ? "<null>" : email.text;
}

TEST(EventUser, PrimaryEmailIsPickedByIdNotPosition) {
  Json addresses = Json::array({
      {{"id", "idn_first"}, {"object", "email_address"}, {"email_address", "first@example.com"}},
      {{"id", "idn_second"}, {"object", "email_address"}, {"email_address", "second@example.com"}},
  });
  EXPECT_EQ(planned_email(user_with_addresses(addresses, "idn_second")), "second@example.com");
  EXPECT_EQ(planned_email(user_with_addresses(addresses, "idn_first")), "first@example.com");
  EXPECT_EQ(planned_email(user_with_addresses(addresses, "idn_missing")), "<null>");
  EXPECT_EQ(planned_email(user_with_addresses(addresses, nullptr)), "<null>");
  EXPECT_EQ(planned_email(user_with_addresses(addresses, 2)), "<null>");
  // Odd entries are skipped, not fatal.
  Json odd = Json::array({"idn_second",
                          nullptr,
                          {{"id", 7}},
                          {{"id", "idn_second"}, {"email_address", 5}},
                          {{"id", "idn_second"}, {"email_address", "late@example.com"}}});
  EXPECT_EQ(planned_email(user_with_addresses(odd, "idn_second")), "<null>");  // first match wins, not a string
  EXPECT_EQ(planned_email(user_with_addresses("idn_second", "idn_second")), "<null>");
}

TEST(EventUser, SnapshotIdentifierIsAnEmailOnlyWithAt) {
  Json body = clerk_json("organizationMembership.created.json");
  body["data"]["public_user_data"]["identifier"] = "+15555550100";
  EventPlan p = plan(body);
  ASSERT_EQ(p.statements.size(), 3u);
  EXPECT_TRUE(IsNull(p.statements[1].params[1], T::text));
  body["data"]["public_user_data"]["identifier"] = "someone@example.org";
  EXPECT_TRUE(IsText(plan(body).statements.at(1).params[1], "someone@example.org"));
}

// ---- ignored types -----------------------------------------------------------

TEST(EventTypes, UnmodelledTypesAreIgnored) {
  Json data = {{"id", "x_1"}};
  for (const char* type :
       {"session.created", "session.ended", "email.created", "sms.created", "organizationDomain.created",
        "role.created", "permission.created", "waitlistEntry.created", "user.created.extra", "user.", "User.created",
        "organization", "organizationInvitation", ""}) {
    SCOPED_TRACE(type);
    EventPlan p = plan(Json{{"type", type}, {"data", data}});
    EXPECT_EQ(p.disposition, Disposition::ignore) << p.error;
    EXPECT_TRUE(p.statements.empty());
    EXPECT_EQ(p.type, std::optional<std::string>(type));
  }
  // An ignored type needs nothing more than its type.
  EXPECT_EQ(plan(R"({"type":"session.created"})").disposition, Disposition::ignore);
  EXPECT_EQ(plan(R"({"type":"session.created","data":[]})").disposition, Disposition::ignore);
}

TEST(EventTypes, AnyOrganizationInvitationTypeIsAnInvitation) {
  Json body = clerk_json("organizationInvitation.created.json");
  body["type"] = "organizationInvitation.expired";
  EXPECT_PLAN(plan(body), K::upsert_invitation);
}

// ---- invalid bodies ------------------------------------------------------------

TEST(EventInvalid, NotJson) {
  const std::string full = clerk("user.created.json");
  for (const std::string& body :
       {std::string(""), std::string(" "), std::string("not json"), std::string("{"), std::string("{\"type\":"),
        full.substr(0, full.size() / 2), full.substr(0, full.size() - 2), full + "x", full + "{}",
        std::string("{'type':'user.created'}"), std::string("{\"type\":\"user.created\",}"),
        std::string("{\"a\":1 /* c */}"), std::string("\xff\xfe{}"),
        std::string("{\"type\":\"user.created\",\"data\":{\"id\":\"u\xc3\"}}"),
        std::string("{\"type\":\"user.created\",\"data\":{\"id\":\"\\ud800\"}}")}) {
    EXPECT_TRUE(IsInvalid(plan(body), "not valid JSON")) << "'" << body.substr(0, 60) << "'";
  }
}

TEST(EventInvalid, NotAnObject) {
  for (const char* body : {"[]", "[{\"type\":\"user.created\"}]", "42", "\"user.created\"", "null", "true", "-1.5"}) {
    EventPlan p = plan(body);
    EXPECT_TRUE(IsInvalid(p, "not a JSON object")) << body;
    EXPECT_FALSE(p.type.has_value());
  }
}

TEST(EventInvalid, TypeMissingOrNotAString) {
  Json body = clerk_json("user.created.json");
  Json no_type = body;
  no_type.erase("type");
  EXPECT_TRUE(IsInvalid(plan(no_type), "\"type\""));
  for (const Json& type : {Json(5), Json(nullptr), Json::array({"user.created"}), Json::object(), Json(true)}) {
    Json b = body;
    b["type"] = type;
    EventPlan p = plan(b);
    EXPECT_TRUE(IsInvalid(p, "\"type\"")) << type.dump();
    EXPECT_FALSE(p.type.has_value());
  }
}

TEST(EventInvalid, DataMissingOrNotAnObject) {
  for (const char* file : {"user.created.json", "organization.deleted.json", "organizationMembership.created.json",
                           "organizationInvitation.created.json"}) {
    SCOPED_TRACE(file);
    Json body = clerk_json(file);
    Json no_data = body;
    no_data.erase("data");
    EventPlan p = plan(no_data);
    EXPECT_TRUE(IsInvalid(p, "\"data\""));
    EXPECT_TRUE(p.type.has_value());  // still reported for the record
    for (const Json& data : {Json(nullptr), Json::array(), Json("user_1"), Json(1)}) {
      Json b = body;
      b["data"] = data;
      EXPECT_TRUE(IsInvalid(plan(b), "\"data\"")) << data.dump();
    }
  }
}

TEST(EventInvalid, MissingId) {
  const std::map<std::string, std::string> errors = {
      {"organization.created.json", "organization id"},
      {"organization.deleted.json", "data.id"},
      {"user.created.json", "user id"},
      {"user.deleted.json", "data.id"},
      {"organizationMembership.created.json", "membership id"},
      {"organizationMembership.deleted.json", "membership id"},
      {"organizationInvitation.created.json", "invitation id"},
  };
  for (const auto& [file, error] : errors) {
    SCOPED_TRACE(file);
    Json body = clerk_json(file);
    for (const Json& id : {Json(""), Json(123), Json(nullptr), Json::array({"x"}), Json::object()}) {
      Json b = body;
      b["data"]["id"] = id;
      EventPlan p = plan(b);
      EXPECT_TRUE(IsInvalid(p, error)) << id.dump();
    }
    Json erased = body;
    erased["data"].erase("id");
    EventPlan p = plan(erased);
    EXPECT_TRUE(IsInvalid(p, error));
    EXPECT_FALSE(p.object_id.has_value());
  }
}

TEST(EventInvalid, MembershipWithoutOrganizationOrUser) {
  Json body = clerk_json("organizationMembership.created.json");
  struct Case {
    std::vector<std::string> path;  // field to remove / replace under data
    Json value;                     // discarded = erase
    const char* error;
  };
  const Json erase = Json(Json::value_t::discarded);
  const std::vector<Case> cases = {
      {{"organization"}, erase, "data.organization"},
      {{"organization"}, nullptr, "data.organization"},
      {{"organization"}, "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S", "data.organization"},
      {{"organization", "id"}, erase, "data.organization.id"},
      {{"organization", "id"}, "", "data.organization.id"},
      {{"organization", "id"}, 12, "data.organization.id"},
      {{"public_user_data"}, erase, "data.public_user_data"},
      {{"public_user_data"}, Json::array(), "data.public_user_data"},
      {{"public_user_data", "user_id"}, erase, "public_user_data.user_id"},
      {{"public_user_data", "user_id"}, nullptr, "public_user_data.user_id"},
  };
  for (const char* type :
       {"organizationMembership.created", "organizationMembership.updated", "organizationMembership.deleted"}) {
    for (const auto& c : cases) {
      Json b = body;
      b["type"] = type;
      Json* target = &b["data"];
      for (size_t i = 0; i + 1 < c.path.size(); ++i) target = &(*target)[c.path[i]];
      if (c.value.is_discarded()) {
        target->erase(c.path.back());
      } else {
        (*target)[c.path.back()] = c.value;
      }
      EXPECT_TRUE(IsInvalid(plan(b), c.error)) << type << " " << c.path.back() << "=" << c.value.dump();
    }
  }
}

TEST(EventInvalid, NulInStringOrKey) {
  const std::string head = R"({"type":"organization.created","timestamp":1716883200,"data":{"id":"org_1",)";
  for (const std::string& tail :
       {std::string(R"("name":"a\u0000b"}})"), std::string(R"("na\u0000me":"a"}})"),
        std::string(R"("public_metadata":{"deep":["x","\u0000"]}}})"),
        std::string(R"("public_metadata":{"\u0000":1}}})"), std::string(R"("name":"\u0000"}})")}) {
    EXPECT_TRUE(IsInvalid(plan(head + tail), "\\u0000")) << tail;
  }
  // Also when the type is not modelled, and in the type itself.
  EXPECT_TRUE(IsInvalid(plan(R"({"type":"session.created","data":{"x":"\u0000"}})"), "\\u0000"));
  EXPECT_TRUE(IsInvalid(plan(R"({"type":"user.created\u0000","data":{"id":"u"}})"), "\\u0000"));
  // A raw NUL byte is not JSON at all.
  EXPECT_TRUE(IsInvalid(plan(head + "\"name\":\"a" + std::string(1, '\0') + "b\"}}"), "not valid JSON"));
  // An escaped backslash followed by "u0000" is an ordinary string.
  EventPlan fine = plan(head + R"("name":"a\\u0000b"}})");
  EXPECT_PLAN(fine, K::upsert_organization);
  EXPECT_TRUE(IsText(fine.statements.at(0).params[1], "a\\u0000b"));
  // Other control characters are fine.
  EventPlan control = plan(head + R"("name":"a\u0001b"}})");
  EXPECT_TRUE(IsText(control.statements.at(0).params[1], std::string("a\x01"
                                                                     "b")));
}

// A body whose deepest value sits `depth` containers deep (root and data count).
std::string nested_body(int depth, bool empty_innermost, bool objects) {
  std::string open, close;
  for (int i = 0; i < depth - 2; ++i) {
    open += objects ? "{\"k\":" : "[";
    close += objects ? "}" : "]";
  }
  // The innermost container holds a scalar, or nothing.
  std::string inner;
  if (depth - 2 > 0) {
    if (objects) {
      open.resize(open.size() - 5);
      inner = empty_innermost ? "{}" : "{\"k\":1}";
      close.pop_back();
    } else {
      open.pop_back();
      inner = empty_innermost ? "[]" : "[1]";
      close.pop_back();
    }
  }
  return R"({"type":"organization.created","timestamp":1716883200,"data":{"id":"org_1","x":)" + open + inner + close +
         "}}";
}

TEST(EventInvalid, NestingLimit) {
  for (bool objects : {false, true}) {
    SCOPED_TRACE(objects ? "objects" : "arrays");
    ASSERT_TRUE(Json::accept(nested_body(core::kMaxJsonDepth + 5, false, objects)));
    EXPECT_EQ(plan(nested_body(3, false, objects)).disposition, Disposition::apply);
    EventPlan at_limit = plan(nested_body(core::kMaxJsonDepth, false, objects));
    EXPECT_EQ(at_limit.disposition, Disposition::apply) << at_limit.error;
    EXPECT_TRUE(IsInvalid(plan(nested_body(core::kMaxJsonDepth + 1, false, objects)), "nested too deeply"));
    EXPECT_TRUE(IsInvalid(plan(nested_body(core::kMaxJsonDepth + 2, false, objects)), "nested too deeply"));
    EXPECT_TRUE(IsInvalid(plan(nested_body(100000, false, objects)), "nested too deeply"));
    EXPECT_EQ(plan(nested_body(core::kMaxJsonDepth, true, objects)).disposition, Disposition::apply);
    EXPECT_TRUE(IsInvalid(plan(nested_body(core::kMaxJsonDepth + 2, true, objects)), "nested too deeply"));
  }
  // Deep nesting is refused for unmodelled types too (the parse comes first).
  std::string deep(200, '[');
  EXPECT_TRUE(
      IsInvalid(plan(R"({"type":"session.created","x":)" + deep + std::string(200, ']') + "}"), "nested too deeply"));
}

TEST(EventInvalid, NestingLimitCountsEmptyInnermostContainer) {
  // 65 nested containers are one more than kMaxJsonDepth, whether or not the
  // innermost one holds anything.
  EventPlan arrays = core::plan_event(nested_body(core::kMaxJsonDepth + 1, true, false));
  EventPlan objects = core::plan_event(nested_body(core::kMaxJsonDepth + 1, true, true));
  EXPECT_TRUE(IsInvalid(arrays, "nested too deeply"));
  EXPECT_TRUE(IsInvalid(objects, "nested too deeply"));
}

TEST(EventInvalid, NumbersOutOfRange) {
  const std::string head = R"({"type":"organization.created","data":{"id":"org_1",)";
  // Beyond double, or an integer beyond 64 bits: refused by the parser,
  // reported, never thrown (the delivery is stored as invalid).
  for (const char* number : {"1e400", "-1e400", "1E+999", "18446744073709551616", "-9223372036854775809"}) {
    EXPECT_TRUE(IsInvalid(plan(head + "\"members_count\":" + number + "}}"), "not valid JSON")) << number;
    EXPECT_TRUE(
        IsInvalid(plan(std::string(R"({"type":"session.created","timestamp":)") + number + "}"), "not valid JSON"))
        << number;
  }
  // Beyond int64: not a time, so NULL, and the event still applies.
  for (const char* number :
       {"9223372036854775808", "18446744073709551615", "100000000000000001", "-1", "1e3", "1716883200000.0"}) {
    SCOPED_TRACE(number);
    EventPlan p = plan(head + "\"created_at\":" + number + ",\"updated_at\":" + number + "}}");
    EXPECT_PLAN(p, K::upsert_organization);
    ASSERT_EQ(p.statements.size(), 1u);
    EXPECT_TRUE(IsNull(p.statements[0].params[6], T::timestamp_ms));
    EXPECT_TRUE(IsNull(p.statements[0].params[7], T::timestamp_ms));
    EXPECT_EQ(version_of(p.statements[0])[1], 0);
    EventPlan t =
        plan(std::string(R"({"type":"organization.created","data":{"id":"org_1"},"timestamp":)") + number + "}");
    EXPECT_FALSE(t.event_time_ms.has_value());
  }
  // The largest accepted time.
  EventPlan max = plan(head + "\"created_at\":100000000000000}}");
  EXPECT_TRUE(IsTime(max.statements.at(0).params[6], 100'000'000'000'000));
}

TEST(EventInvalid, MaxAllowedMembershipsBeyondInt32IsNull) {
  Json body = clerk_json("organization.created.json");
  auto planned = [&](const Json& value) {
    Json b = body;
    b["data"]["max_allowed_memberships"] = value;
    EventPlan p = plan(b);
    EXPECT_EQ(p.disposition, Disposition::apply) << p.error;
    return p.statements.at(0).params.at(5);
  };
  EXPECT_TRUE(IsInt(planned(2147483647), 2147483647));
  EXPECT_TRUE(IsInt(planned(-2147483648ll), -2147483648ll));
  EXPECT_TRUE(IsInt(planned(0), 0));
  EXPECT_TRUE(IsNull(planned(2147483648ll), T::int64));
  EXPECT_TRUE(IsNull(planned(-2147483649ll), T::int64));
  EXPECT_TRUE(IsNull(planned(uint64_t(18446744073709551615ull)), T::int64));
  EXPECT_TRUE(IsNull(planned(5.0), T::int64));
  EXPECT_TRUE(IsNull(planned("5"), T::int64));
  EXPECT_TRUE(IsNull(planned(nullptr), T::int64));
  // The same inside a membership's organization.
  Json m = clerk_json("organizationMembership.created.json");
  m["data"]["organization"]["max_allowed_memberships"] = 4294967296ll;
  EXPECT_TRUE(IsNull(plan(m).statements.at(0).params.at(5), T::int64));
}

TEST(EventInvalid, WrongTypedOptionalFieldsAreNullButApplied) {
  const Json odd = Json::array({1, 2});
  {
    Json body = clerk_json("organization.created.json");
    for (const char* field : {"name", "slug", "image_url", "created_by"}) body["data"][field] = 123;
    body["data"]["created_at"] = "1716883200000";
    body["data"]["updated_at"] = 1716883200000.5;
    EventPlan p = plan(body);
    EXPECT_PLAN(p, K::upsert_organization);
    const auto& s = p.statements.at(0).params;
    EXPECT_TRUE(IsText(s[0], kDocOrg));
    for (int i : {1, 2, 3, 4}) EXPECT_TRUE(IsNull(s[i], T::text)) << i;
    EXPECT_TRUE(IsNull(s[6], T::timestamp_ms));
    EXPECT_TRUE(IsNull(s[7], T::timestamp_ms));
    EXPECT_EQ(data_of(p.statements[0])["name"], 123);  // the data keeps them as they were
  }
  {
    Json body = clerk_json("user.updated.json");
    for (const char* field : {"first_name", "last_name", "username", "image_url", "external_id"})
      body["data"][field] = odd;
    body["data"]["created_at"] = false;
    body["data"]["updated_at"] = Json::object();
    body["data"]["email_addresses"] = "x";
    EventPlan p = plan(body);
    EXPECT_PLAN(p, K::upsert_user);
    const auto& s = p.statements.at(0).params;
    EXPECT_TRUE(IsText(s[0], kDocUser));
    for (int i : {1, 2, 3, 4, 5, 6}) EXPECT_TRUE(IsNull(s[i], T::text)) << i;
    EXPECT_TRUE(IsNull(s[7], T::timestamp_ms));
    EXPECT_TRUE(IsNull(s[8], T::timestamp_ms));
  }
  {
    Json body = clerk_json("organizationMembership.updated.json");
    body["data"]["role"] = 5;
    body["data"]["permissions"] = "org:posts:read";
    body["data"]["created_at"] = nullptr;
    body["data"]["public_user_data"]["first_name"] = Json::object();
    body["data"]["public_user_data"]["identifier"] = 42;
    body["data"]["organization"]["name"] = false;
    EventPlan p = plan(body);
    EXPECT_PLAN(p, K::upsert_organization, K::upsert_user, K::upsert_membership);
    ASSERT_EQ(p.statements.size(), 3u);
    EXPECT_TRUE(IsNull(p.statements[0].params[1], T::text));
    EXPECT_TRUE(IsNull(p.statements[1].params[1], T::text));
    EXPECT_TRUE(IsNull(p.statements[1].params[2], T::text));
    const auto& m = p.statements[2].params;
    EXPECT_TRUE(IsNull(m[3], T::text));
    EXPECT_TRUE(IsText(m[4], "{}"));
    EXPECT_TRUE(IsNull(m[5], T::timestamp_ms));
    EXPECT_TRUE(IsTime(m[6], 1716883500000));
  }
  {
    Json body = clerk_json("organizationInvitation.created.json");
    for (const char* field : {"organization_id", "email_address", "role", "status"}) body["data"][field] = true;
    body["data"]["expires_at"] = "tomorrow";
    EventPlan p = plan(body);
    EXPECT_PLAN(p, K::upsert_invitation);
    const auto& s = p.statements.at(0).params;
    for (int i : {1, 2, 3, 4}) EXPECT_TRUE(IsNull(s[i], T::text)) << i;
    EXPECT_TRUE(IsNull(s[7], T::timestamp_ms));
  }
}

TEST(EventMembership, PermissionsArrayLiteral) {
  Json body = clerk_json("organizationMembership.created.json");
  auto permissions = [&](const Json& value) {
    Json b = body;
    b["data"]["permissions"] = value;
    EventPlan p = plan(b);
    EXPECT_EQ(p.disposition, Disposition::apply) << p.error;
    return p.statements.at(2).params.at(4);
  };
  EXPECT_TRUE(IsText(permissions(Json::array()), "{}"));
  EXPECT_TRUE(IsText(permissions(nullptr), "{}"));
  EXPECT_TRUE(IsText(permissions(Json::array({"a", 1, nullptr, "b", Json::array({"c"})})), R"({"a","b"})"));
  EXPECT_TRUE(IsText(permissions(Json::array({"q\"uote", "back\\slash", "comma,brace}", ""})),
                     R"({"q\"uote","back\\slash","comma,brace}",""})"));
  EXPECT_TRUE(IsText(permissions(Json::array({"NULL"})), R"({"NULL"})"));
  Json no_permissions = body;
  no_permissions["data"].erase("permissions");
  EXPECT_TRUE(IsText(plan(no_permissions).statements.at(2).params.at(4), "{}"));
}

TEST(EventMembership, SnapshotsAreVersionedByTheirOwnObjects) {
  // The organization snapshot uses the organization's updated_at; the user
  // snapshot, which has none, the event's time, else the membership's.
  Json body = clerk_json("organizationMembership.updated.json");
  body["data"]["organization"]["updated_at"] = 1700000000000;
  body["data"]["updated_at"] = 1710000000000;
  body["timestamp"] = 1720000000000;
  EventPlan p = plan(body);
  ASSERT_EQ(p.statements.size(), 3u);
  EXPECT_EQ(version_of(p.statements[0])[1], 1700000000000);
  EXPECT_EQ(version_of(p.statements[1])[1], 1720000000000);
  EXPECT_EQ(version_of(p.statements[2])[1], 1710000000000);
  EXPECT_EQ(data_of(p.statements[0])["id"], kDocOrg);
  body.erase("timestamp");
  EXPECT_EQ(version_of(plan(body).statements.at(1))[1], 1710000000000);
}

TEST(EventPlanInvariants, NeverThrowsAndStaysWellFormed) {
  // Every prefix of a few fixtures: invalid or applied, never an exception.
  for (const char* file : {"organizationMembership.deleted.json", "user.deleted.json"}) {
    std::string body = clerk(file);
    int applied = 0;
    for (size_t n = 0; n <= body.size(); ++n) {
      EventPlan p;
      ASSERT_NO_THROW(p = core::plan_event(std::string_view(body).substr(0, n), {}));
      ASSERT_TRUE(WellFormed(p)) << n;
      if (p.disposition == Disposition::apply) ++applied;
    }
    // Only the whole body applies, with or without its trailing whitespace.
    size_t trailing = body.size() - (body.find_last_not_of(" \t\r\n") + 1);
    EXPECT_EQ(applied, int(trailing) + 1) << file;
  }
}

}  // namespace
