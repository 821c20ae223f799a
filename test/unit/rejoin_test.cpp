// rejoin: two copies of the same version of a row merged, so that neither
// loses what only the other carried.
#include <gtest/gtest.h>

#include <string>

#include "core/objects.hpp"
#include "support.hpp"

namespace {

using namespace orgsync::test;
using core::Column;
using core::RowSource;
using core::Table;

// The plan's write at `index`, of an example changed by `change`.
template <typename Change>
core::Upsert planned(const char* file, size_t index, Change change) {
  Json body = clerk_json(file);
  change(body);
  core::EventPlan p = plan(body);
  return upsert_at(p.writes, index);
}
core::Upsert planned(const char* file, size_t index) {
  return planned(file, index, [](Json&) {});
}

TEST(Rejoin, KeepsAMembershipsFullerEmbeddedOrganization) {
  // Two deliveries of one membership version: one embeds the organization
  // with more of it, the other with a later count.
  core::Upsert fuller = planned("organizationMembership.updated.json", 2);
  core::Upsert thinner = planned("organizationMembership.updated.json", 2, [](Json& body) {
    for (const char* key : {"slug", "image_url", "has_image", "public_metadata"})
      body["data"]["organization"].erase(key);
    body["data"]["organization"]["members_count"] = 3;
    body["timestamp"] = 1716883300;
  });
  ASSERT_TRUE(thinner.version.same_version_as(fuller.version));
  std::optional<core::Upsert> joined = core::rejoin(thinner, *fuller.data, fuller.version);
  ASSERT_TRUE(joined.has_value());
  ASSERT_TRUE(WellFormedWrites({*joined}));
  Json organization = data_of(*joined)["organization"];
  EXPECT_EQ(organization["slug"], "acme-corp");
  EXPECT_EQ(organization["image_url"], "https://img.clerk.com/xxxxxx");
  EXPECT_EQ(organization["public_metadata"], Json::object());
  EXPECT_EQ(organization["members_count"], 3);  // the greater
  // The membership's own row, read from the join.
  EXPECT_EQ(joined->table, Table::memberships);
  EXPECT_EQ(joined->id, kDocMembership);
  EXPECT_EQ(joined->source, RowSource::event);
  EXPECT_TRUE(HasText(*joined, Column::organization_id, kDocOrg));
  EXPECT_TRUE(HasText(*joined, Column::user_id, kDocMember));
  EXPECT_TRUE(HasText(*joined, Column::role, "org:admin"));
  // The same version, at the later event time of the two, digested as joined.
  EXPECT_EQ(joined->version.rank, 1);
  EXPECT_EQ(joined->version.updated_at_ms, fuller.version.updated_at_ms);
  EXPECT_EQ(joined->version.event_time_ms, 1716883300000);
  EXPECT_EQ(joined->version.digest, fnv1a(*joined->data));
  // Whichever copy is stored.
  std::optional<core::Upsert> other_way = core::rejoin(fuller, *thinner.data, thinner.version);
  ASSERT_TRUE(other_way.has_value());
  EXPECT_EQ(other_way->data, joined->data);
  EXPECT_EQ(other_way->version.key(), joined->version.key());
}

TEST(Rejoin, OrganizationSnapshotStaysASnapshot) {
  core::Upsert stored = planned("organizationMembership.created.json", 0);
  core::Upsert incoming = planned("organizationMembership.created.json", 0, [](Json& body) {
    body["data"]["organization"].erase("created_by");
    body["data"]["organization"]["name"] = "Acme Corp Renamed";
  });
  std::optional<core::Upsert> joined = core::rejoin(incoming, *stored.data, stored.version);
  ASSERT_TRUE(joined.has_value());
  EXPECT_EQ(joined->source, RowSource::snapshot);
  EXPECT_EQ(joined->version.rank, 0);
  EXPECT_TRUE(HasText(*joined, Column::created_by, kDocUser));       // only the stored copy had it
  EXPECT_TRUE(HasText(*joined, Column::name, "Acme Corp Renamed"));  // the greater string
  EXPECT_TRUE(HasInt32(*joined, Column::max_allowed_memberships, 5));
}

TEST(Rejoin, OrganizationPlaceholderStaysAPlaceholder) {
  core::Upsert stored = planned("organizationDomain.created.json", 0);
  core::Upsert incoming = planned("organizationDomain.created.json", 0,
                                  [](Json& body) { body["data"]["public_organization_data"].erase("slug"); });
  std::optional<core::Upsert> joined = core::rejoin(incoming, *stored.data, stored.version);
  ASSERT_TRUE(joined.has_value());
  ASSERT_TRUE(WellFormedWrites({*joined}));
  EXPECT_EQ(joined->version.rank, 0);
  EXPECT_EQ(joined->version.updated_at_ms, 0);
  EXPECT_EQ(*joined->data, *stored.data);
  EXPECT_TRUE(HasText(*joined, Column::slug, "acme-corp"));
  EXPECT_TRUE(HasNull(*joined, Column::created_at));
  // A bare placeholder has nothing to join.
  core::Upsert bare = planned("organizationInvitation.created.json", 0);
  EXPECT_FALSE(core::rejoin(bare, *stored.data, stored.version).has_value());
}

TEST(Rejoin, UserSnapshotKeepsItsVersion) {
  core::Upsert stored = planned("organizationMembership.created.json", 1);
  core::Upsert incoming = planned("organizationMembership.created.json", 1, [](Json& body) {
    body["data"]["public_user_data"].erase("image_url");
    body["data"]["public_user_data"]["identifier"] = nullptr;
  });
  std::optional<core::Upsert> joined = core::rejoin(incoming, *stored.data, stored.version);
  ASSERT_TRUE(joined.has_value());
  EXPECT_EQ(joined->source, RowSource::snapshot);
  EXPECT_EQ(joined->version.updated_at_ms, incoming.version.updated_at_ms);
  EXPECT_TRUE(HasText(*joined, Column::image_url, "https://img.clerk.com/yyyyy"));
  EXPECT_TRUE(HasText(*joined, Column::primary_email, "jane.doe@acme.com"));  // non-null wins
}

TEST(Rejoin, FullUserAndTheOtherKinds) {
  for (const auto& [file, index] :
       std::vector<std::pair<const char*, size_t>>{{"user.updated.json", 0},
                                                   {"organization.updated.json", 0},
                                                   {"organizationInvitation.accepted.json", 1},
                                                   {"organizationDomain.updated.json", 1},
                                                   {"role.updated.json", 0},
                                                   {"permission.updated.json", 0}}) {
    SCOPED_TRACE(file);
    core::Upsert stored = planned(file, index);
    core::Upsert incoming = planned(file, index, [](Json& body) {
      body["data"]["extra"] = "only here";
      body["timestamp"] = 1716883201;
    });
    std::optional<core::Upsert> joined = core::rejoin(incoming, *stored.data, stored.version);
    ASSERT_TRUE(joined.has_value());
    ASSERT_TRUE(WellFormedWrites({*joined}));
    EXPECT_EQ(joined->table, stored.table);
    EXPECT_EQ(joined->id, stored.id);
    EXPECT_EQ(joined->source, RowSource::event);
    EXPECT_EQ(data_of(*joined), data_of(incoming));  // the stored copy had nothing more
    EXPECT_EQ(joined->values().size(), incoming.values().size());
    EXPECT_EQ(joined->version.key(), incoming.version.key());
  }
}

TEST(Rejoin, AnInvitationsUrlStaysOut) {
  // A row an older orgsync wrote may hold the url; the join leaves it out.
  core::Upsert incoming = planned("organizationInvitation.accepted.json", 1);
  Json stored = data_of(incoming);
  stored["url"] = "https://accounts.acme.com/accept-invitation?token=abc123";
  std::optional<core::Upsert> joined = core::rejoin(incoming, stored.dump(), incoming.version);
  ASSERT_TRUE(joined.has_value());
  EXPECT_FALSE(data_of(*joined).contains("url"));
  EXPECT_EQ(*joined->data, *incoming.data);
}

TEST(Rejoin, AnUnreadableStoredCopyIsReplaced) {
  core::Upsert incoming = planned("organizationMembership.updated.json", 2);
  for (const char* stored :
       {"not json", R"({"role":{"x":1}})", R"({"created_at":"yesterday"})", R"({"permissions":{"a":1}})"}) {
    EXPECT_FALSE(core::rejoin(incoming, stored, incoming.version).has_value()) << stored;
  }
  core::Upsert events(Table::events, "msg_1", RowSource::event);
  events.data = "{}";
  EXPECT_FALSE(core::rejoin(events, "{}", events.version).has_value());
}

}  // namespace
