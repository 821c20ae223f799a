// plan_listing: a page of a Backend API listing to the writes that merge it.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/errors.hpp"
#include "core/plan.hpp"
#include "support.hpp"

namespace {

using namespace orgsync::test;
using core::Column;
using core::ObjectKind;

// The message plan_listing throws, or "" when it does not.
std::string listing_error(ObjectKind kind, const std::string& page) {
  try {
    core::plan_listing(kind, page);
    return "";
  } catch (const core::InvalidPayload& error) {
    return error.what();
  }
}

// A page's object ids, and all its writes in order.
std::vector<std::string> ids_of(const core::ListingPlan& plan) {
  std::vector<std::string> ids;
  for (const core::ListedObject& object : plan.objects) ids.push_back(object.id);
  return ids;
}
std::vector<core::Write> writes_of(const core::ListingPlan& plan) {
  std::vector<core::Write> writes;
  for (const core::ListedObject& object : plan.objects)
    writes.insert(writes.end(), object.writes.begin(), object.writes.end());
  return writes;
}

// The examples' objects of one kind, as a listing page holds them.
Json objects_of(const std::vector<const char*>& files) {
  Json items = Json::array();
  for (const char* file : files) items.push_back(clerk_json(file)["data"]);
  return items;
}

TEST(Listing, BareArrayOrDataPage) {
  Json items = objects_of({"organization.created.json", "received_2024/organization.created.json"});
  core::ListingPlan bare = core::plan_listing(ObjectKind::organization, items.dump());
  core::ListingPlan paged =
      core::plan_listing(ObjectKind::organization, Json{{"data", items}, {"total_count", 2}}.dump());
  for (const core::ListingPlan* p : {&bare, &paged}) {
    std::vector<core::Write> writes = writes_of(*p);
    EXPECT_EQ(ids_of(*p), (std::vector<std::string>{kDocOrg, "org_2o9RAVkGMEfjA4f90OznAdaR1dx"}));
    EXPECT_SHAPE(writes, "upsert organizations", "upsert organizations");
    EXPECT_TRUE(WellFormedWrites(writes));
    EXPECT_EQ(upsert_at(writes, 1).id, "org_2o9RAVkGMEfjA4f90OznAdaR1dx");
    EXPECT_TRUE(HasText(upsert_at(writes, 0), Column::name, "Acme Corp"));
  }
  EXPECT_EQ(upsert_at(writes_of(bare), 0).version.key(), upsert_at(writes_of(paged), 0).version.key());
  EXPECT_TRUE(core::plan_listing(ObjectKind::user, "[]").objects.empty());
  EXPECT_TRUE(core::plan_listing(ObjectKind::user, R"({"data":[],"total_count":0})").objects.empty());
}

TEST(Listing, IdsInPageOrderAndEachObjectsWrites) {
  Json items = objects_of({"organizationMembership.updated.json", "received_2024/organizationMembership.created.json",
                           "organizationMembership.created.json"});
  core::ListingPlan p = core::plan_listing(ObjectKind::membership, Json{{"data", items}}.dump());
  std::vector<std::string> ids = ids_of(p);
  EXPECT_EQ(ids, (std::vector<std::string>{kDocMembership, "orgmem_2o9RAV6JzBIn92oN15jhs2cIijL", kDocMembership}));
  ASSERT_EQ(p.objects.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const std::vector<core::Write>& writes = p.objects[i].writes;
    ASSERT_EQ(writes.size(), 3u);
    EXPECT_TRUE(WellFormedWrites(writes));
    EXPECT_EQ(upsert_at(writes, 0).table, core::Table::organizations);
    EXPECT_EQ(upsert_at(writes, 1).table, core::Table::users);
    EXPECT_EQ(upsert_at(writes, 2).id, ids[i]);
  }
}

TEST(Listing, CopiesHaveNoEventTime) {
  Json membership = clerk_json("organizationMembership.updated.json")["data"];
  std::vector<core::Write> writes =
      writes_of(core::plan_listing(ObjectKind::membership, Json::array({membership}).dump()));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(upsert_at(writes, i).version.event_time_ms, 0) << i;
  // A member's user snapshot is as of the membership's last update.
  EXPECT_EQ(upsert_at(writes, 1).version.updated_at_ms, 1716883500000);
}

TEST(Listing, ReadsEveryKindAsItsEventsDo) {
  for (const core::EventType& type : core::event_types()) {
    if (type.action != core::Action::upsert) continue;
    SCOPED_TRACE(type.name);
    Json body = clerk_json(std::string(type.name) + ".json");
    core::EventPlan event = plan(body);
    core::ListingPlan page = core::plan_listing(type.kind, Json::array({body["data"]}).dump());
    std::vector<core::Write> listed = writes_of(page);
    EXPECT_EQ(ids_of(page), std::vector<std::string>{*event.object_id});
    ASSERT_EQ(shape(listed), shape(event.writes));
    for (size_t i = 0; i < event.writes.size(); ++i) {
      const core::Upsert& a = upsert_at(event.writes, i);
      const core::Upsert& b = upsert_at(listed, i);
      EXPECT_EQ(a.id, b.id);
      EXPECT_EQ(a.data, b.data);
      EXPECT_EQ(a.version.rank, b.version.rank);
      EXPECT_EQ(b.version.event_time_ms, 0);
      ASSERT_EQ(a.values().size(), b.values().size());
      for (size_t v = 0; v < a.values().size(); ++v) {
        EXPECT_EQ(a.values()[v].first, b.values()[v].first);
        EXPECT_EQ(a.values()[v].second.text, b.values()[v].second.text);
        EXPECT_EQ(a.values()[v].second.number, b.values()[v].second.number);
        EXPECT_EQ(a.values()[v].second.items, b.values()[v].second.items);
      }
    }
  }
}

TEST(Listing, AnUnusableObjectFailsThePageNamingIt) {
  // A page is applied whole or not at all: a backfill never skips an object.
  Json items = objects_of({"role.created.json", "role.updated.json", "role.created.json", "role.updated.json"});
  items[3].erase("id");
  EXPECT_EQ(listing_error(ObjectKind::role, Json{{"data", items}}.dump()), "page.data[3].id: missing, expected string");
  items[3]["id"] = "role_4";
  items[1]["key"] = 7;
  EXPECT_EQ(listing_error(ObjectKind::role, items.dump()), "page[1].key: expected string, got number 7");
  items[1] = "role_2";
  EXPECT_EQ(listing_error(ObjectKind::role, items.dump()), "page[1]: expected object, got string");
}

TEST(Listing, NotAPage) {
  EXPECT_EQ(listing_error(ObjectKind::user, "{}"), "page: expected an array, or an object with an array in \"data\"");
  EXPECT_EQ(listing_error(ObjectKind::user, R"({"data":{}})"), "page.data: expected array, got object");
  EXPECT_EQ(listing_error(ObjectKind::user, "5"), "page: expected array, got number");
  EXPECT_NE(listing_error(ObjectKind::user, "[").find("not valid JSON"), std::string::npos);
  EXPECT_NE(listing_error(ObjectKind::user, R"(["\u0000"])").find("\\u0000"), std::string::npos);
}

}  // namespace
