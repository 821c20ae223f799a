// Each kind of Clerk object read into its writes, from the documented
// examples: columns checked by name, versions, snapshots and placeholders,
// and what a deletion ends.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/plan.hpp"
#include "core/time.hpp"
#include "support.hpp"

namespace {

using namespace orgsync::test;
using core::Column;
using core::EventPlan;
using core::RowSource;
using core::Table;
using Key = std::array<int64_t, 4>;

// ---- organizations -------------------------------------------------------------------------

TEST(Organization, Created) {
  Json body = clerk_json("organization.created.json");
  EventPlan p = plan(body);
  EXPECT_SHAPE(p.writes, "upsert organizations");
  const core::Upsert& o = upsert_at(p.writes, 0);
  EXPECT_EQ(o.id, kDocOrg);
  EXPECT_EQ(o.source, RowSource::event);
  EXPECT_TRUE(HasText(o, Column::name, "Acme Corp"));
  EXPECT_TRUE(HasText(o, Column::slug, "acme-corp"));
  EXPECT_TRUE(HasText(o, Column::image_url, "https://img.clerk.com/xxxxxx"));
  EXPECT_TRUE(HasText(o, Column::created_by, kDocUser));
  EXPECT_TRUE(HasInt32(o, Column::max_allowed_memberships, 5));
  EXPECT_TRUE(HasTime(o, Column::created_at, 1716883200000));
  EXPECT_TRUE(HasTime(o, Column::updated_at, 1716883200000));
  EXPECT_EQ(data_of(o), body["data"]);
  EXPECT_EQ(o.version.key(), (Key{1, 1716883200000, kDocTime, fnv1a(body["data"].dump())}));
}

TEST(Organization, Updated) {
  EventPlan p = plan(clerk("organization.updated.json"));
  const core::Upsert& o = upsert_at(p.writes, 0);
  EXPECT_TRUE(HasText(o, Column::name, "Acme Corp Updated"));
  EXPECT_TRUE(HasText(o, Column::slug, "acme-corp-updated"));
  EXPECT_TRUE(HasInt32(o, Column::max_allowed_memberships, 10));
  EXPECT_TRUE(HasTime(o, Column::updated_at, 1716883500000));
  EXPECT_EQ(data_of(o)["private_metadata"]["internal_id"], "ORG-123");  // the merge copies metadata from data
  EXPECT_EQ(o.version.updated_at_ms, 1716883500000);
}

TEST(Organization, MaxAllowedMembershipsIsInt32) {
  Json body = clerk_json("organization.created.json");
  auto planned = [&](const Json& value) {
    body["data"]["max_allowed_memberships"] = value;
    return plan(body);
  };
  EXPECT_TRUE(HasInt32(upsert_at(planned(2147483647).writes, 0), Column::max_allowed_memberships, 2147483647));
  EXPECT_TRUE(HasInt32(upsert_at(planned(-2147483648ll).writes, 0), Column::max_allowed_memberships, INT32_MIN));
  EXPECT_TRUE(HasInt32(upsert_at(planned(0).writes, 0), Column::max_allowed_memberships, 0));
  EXPECT_TRUE(HasNull(upsert_at(planned(nullptr).writes, 0), Column::max_allowed_memberships));
  for (const Json& bad :
       {Json(2147483648ll), Json(-2147483649ll), Json(uint64_t(18446744073709551615ull)), Json(5.0), Json("5")}) {
    EXPECT_TRUE(IsInvalid(planned(bad), "data.max_allowed_memberships: expected 32-bit integer")) << bad;
  }
}

// ---- users -------------------------------------------------------------------------------------

TEST(User, Created) {
  Json body = clerk_json("user.created.json");
  EventPlan p = plan(body);
  EXPECT_SHAPE(p.writes, "upsert users");
  const core::Upsert& u = upsert_at(p.writes, 0);
  EXPECT_EQ(u.id, kDocUser);
  EXPECT_EQ(u.source, RowSource::event);
  EXPECT_TRUE(HasNull(u, Column::primary_email));  // no email addresses in the example
  EXPECT_TRUE(HasNull(u, Column::primary_phone));
  EXPECT_TRUE(HasText(u, Column::first_name, "John"));
  EXPECT_TRUE(HasText(u, Column::last_name, "Doe"));
  EXPECT_TRUE(HasNull(u, Column::username));
  EXPECT_TRUE(HasText(u, Column::image_url, "https://img.clerk.com/xxxxxx"));
  EXPECT_TRUE(HasNull(u, Column::external_id));
  EXPECT_TRUE(HasBool(u, Column::banned, false));
  EXPECT_TRUE(HasBool(u, Column::locked, false));
  EXPECT_TRUE(HasTime(u, Column::last_sign_in_at, 1716883200000));
  EXPECT_TRUE(HasTime(u, Column::created_at, 1716883200000));
  EXPECT_TRUE(HasTime(u, Column::updated_at, 1716883200000));
  EXPECT_EQ(data_of(u), body["data"]);
  EXPECT_EQ(u.version.key(), (Key{1, 1716883200000, kDocTime, fnv1a(body["data"].dump())}));
}

TEST(User, Updated) {
  core::Upsert u = upsert_at(plan(clerk("user.updated.json")).writes, 0);
  EXPECT_TRUE(HasText(u, Column::last_name, "Doe Updated"));
  EXPECT_TRUE(HasText(u, Column::username, "johndoe"));
  EXPECT_TRUE(HasText(u, Column::image_url, "https://img.clerk.com/yyyyy"));
  EXPECT_TRUE(HasTime(u, Column::last_sign_in_at, 1716883400000));
  EXPECT_TRUE(HasTime(u, Column::updated_at, 1716883500000));
  EXPECT_EQ(u.version.updated_at_ms, 1716883500000);
}

TEST(User, PrimaryEmailAndPhoneArePickedByIdNotPosition) {
  struct List {
    const char *list, *value_key, *primary_key;
    Column column;
  };
  for (const List& l : {List{"email_addresses", "email_address", "primary_email_address_id", Column::primary_email},
                        List{"phone_numbers", "phone_number", "primary_phone_number_id", Column::primary_phone}}) {
    SCOPED_TRACE(l.list);
    Json items =
        Json::array({{{"id", "idn_first"}, {l.value_key, "first"}}, {{"id", "idn_second"}, {l.value_key, "second"}}});
    auto primary = [&](const Json& primary_id) {
      Json body = clerk_json("user.created.json");
      body["data"][l.list] = items;
      body["data"][l.primary_key] = primary_id;
      return plan(body);
    };
    EXPECT_TRUE(HasText(upsert_at(primary("idn_second").writes, 0), l.column, "second"));
    EXPECT_TRUE(HasText(upsert_at(primary("idn_first").writes, 0), l.column, "first"));
    EXPECT_TRUE(HasNull(upsert_at(primary("idn_missing").writes, 0), l.column));
    EXPECT_TRUE(HasNull(upsert_at(primary(nullptr).writes, 0), l.column));
  }
}

// ---- memberships ---------------------------------------------------------------------------------

// The documented membership examples: the organization and user snapshots,
// then the membership.
void expect_doc_membership(const EventPlan& p, const Json& body, const std::string& role,
                           const std::vector<std::string>& permissions, int64_t updated_at) {
  ASSERT_GE(p.writes.size(), 3u);
  const Json& data = body["data"];
  const core::Upsert& org = upsert_at(p.writes, 0);
  EXPECT_EQ(org.table, Table::organizations);
  EXPECT_EQ(org.id, kDocOrg);
  EXPECT_EQ(org.source, RowSource::snapshot);
  EXPECT_TRUE(HasText(org, Column::name, "Acme Corp"));
  EXPECT_TRUE(HasInt32(org, Column::max_allowed_memberships, 5));
  EXPECT_TRUE(HasText(org, Column::created_by, kDocUser));
  EXPECT_EQ(data_of(org), data["organization"]);
  // A snapshot ranks 0, ordered by the organization's own updated_at.
  EXPECT_EQ(org.version.key(),
            (Key{0, data["organization"]["updated_at"].get<int64_t>(), kDocTime, fnv1a(data["organization"].dump())}));

  const core::Upsert& user = upsert_at(p.writes, 1);
  EXPECT_EQ(user.table, Table::users);
  EXPECT_EQ(user.id, kDocMember);
  EXPECT_EQ(user.source, RowSource::snapshot);
  EXPECT_TRUE(HasText(user, Column::primary_email, "jane.doe@acme.com"));  // the identifier, with '@'
  EXPECT_TRUE(HasNull(user, Column::primary_phone));
  EXPECT_TRUE(HasNull(user, Column::username));
  EXPECT_TRUE(HasText(user, Column::first_name, "Jane"));
  EXPECT_TRUE(HasText(user, Column::last_name, "Doe"));
  EXPECT_TRUE(HasText(user, Column::image_url, "https://img.clerk.com/yyyyy"));
  EXPECT_TRUE(HasNull(user, Column::banned));
  EXPECT_TRUE(HasNull(user, Column::created_at));
  EXPECT_EQ(data_of(user), data["public_user_data"]);
  // The user as of the event.
  EXPECT_EQ(user.version.key(), (Key{0, kDocTime, kDocTime, fnv1a(data["public_user_data"].dump())}));

  const core::Upsert& m = upsert_at(p.writes, 2);
  EXPECT_EQ(m.table, Table::memberships);
  EXPECT_EQ(m.id, kDocMembership);
  EXPECT_EQ(m.source, RowSource::event);
  EXPECT_TRUE(HasText(m, Column::organization_id, kDocOrg));
  EXPECT_TRUE(HasText(m, Column::user_id, kDocMember));
  EXPECT_TRUE(HasText(m, Column::role, role));
  EXPECT_TRUE(HasItems(m, Column::permissions, permissions));
  EXPECT_TRUE(HasTime(m, Column::created_at, 1716883200000));
  EXPECT_TRUE(HasTime(m, Column::updated_at, updated_at));
  EXPECT_EQ(data_of(m), data);
  EXPECT_EQ(m.version.key(), (Key{1, updated_at, kDocTime, fnv1a(data.dump())}));
}

TEST(Membership, Created) {
  Json body = clerk_json("organizationMembership.created.json");
  EventPlan p = plan(body);
  EXPECT_SHAPE(p.writes, "upsert organizations", "upsert users", "upsert memberships");
  expect_doc_membership(p, body, "org:member", {"org:posts:read", "org:posts:write"}, 1716883200000);
  EXPECT_TRUE(HasText(upsert_at(p.writes, 2), Column::role_name, "Member"));
}

TEST(Membership, Updated) {
  Json body = clerk_json("organizationMembership.updated.json");
  EventPlan p = plan(body);
  EXPECT_SHAPE(p.writes, "upsert organizations", "upsert users", "upsert memberships");
  expect_doc_membership(p, body, "org:admin",
                        {"org:posts:read", "org:posts:write", "org:posts:delete", "org:members:manage"}, 1716883500000);
  EXPECT_TRUE(HasText(upsert_at(p.writes, 2), Column::role_name, "Admin"));
}

TEST(Membership, PermissionsAreItems) {
  Json body = clerk_json("organizationMembership.created.json");
  auto permissions = [&](const std::optional<Json>& value) {
    Json b = body;
    if (value) {
      b["data"]["permissions"] = *value;
    } else {
      b["data"].erase("permissions");
    }
    return plan(b);
  };
  EXPECT_TRUE(HasItems(upsert_at(permissions(Json::array()).writes, 2), Column::permissions, {}));
  EXPECT_TRUE(HasNull(upsert_at(permissions(Json(nullptr)).writes, 2), Column::permissions));
  EXPECT_TRUE(HasNull(upsert_at(permissions(std::nullopt).writes, 2), Column::permissions));
  // Kept verbatim: the Postgres layer builds the array, no literal to escape.
  std::vector<std::string> odd = {"q\"uote", "back\\slash", "comma,brace}", "", "NULL"};
  EXPECT_TRUE(HasItems(upsert_at(permissions(Json(odd)).writes, 2), Column::permissions, odd));
}

TEST(Membership, SnapshotsAreVersionedByTheirOwnObjects) {
  // The organization snapshot by the organization's updated_at; the user
  // snapshot, which has none, by the event's time, else the membership's.
  Json body = clerk_json("organizationMembership.updated.json");
  body["data"]["organization"]["updated_at"] = 1700000000000;
  body["data"]["updated_at"] = 1710000000000;
  body["timestamp"] = 1720000000000;
  EventPlan p = plan(body);
  EXPECT_EQ(upsert_at(p.writes, 0).version.updated_at_ms, 1700000000000);
  EXPECT_EQ(upsert_at(p.writes, 1).version.updated_at_ms, 1720000000000);
  EXPECT_EQ(upsert_at(p.writes, 2).version.updated_at_ms, 1710000000000);
  body.erase("timestamp");
  EXPECT_EQ(upsert_at(plan(body).writes, 1).version.updated_at_ms, 1710000000000);
  body["data"]["organization"].erase("updated_at");
  EXPECT_EQ(upsert_at(plan(body).writes, 0).version.updated_at_ms, 1716883200000);  // its created_at
}

TEST(Membership, SnapshotIdentifierIsAnEmailOnlyWithAt) {
  Json body = clerk_json("organizationMembership.created.json");
  auto user = [&](const Json& identifier, const Json& username) {
    Json b = body;
    b["data"]["public_user_data"]["identifier"] = identifier;
    b["data"]["public_user_data"]["username"] = username;
    return upsert_at(plan(b).writes, 1);
  };
  core::Upsert phone = user("+15555550100", nullptr);
  EXPECT_TRUE(HasNull(phone, Column::primary_email));
  EXPECT_TRUE(HasText(phone, Column::primary_phone, "+15555550100"));
  EXPECT_TRUE(HasNull(phone, Column::username));
  core::Upsert email = user("someone@example.org", nullptr);
  EXPECT_TRUE(HasText(email, Column::primary_email, "someone@example.org"));
  EXPECT_TRUE(HasNull(email, Column::primary_phone));
  core::Upsert plus_email = user("+tag@example.org", nullptr);
  EXPECT_TRUE(HasText(plus_email, Column::primary_email, "+tag@example.org"));
  EXPECT_TRUE(HasNull(plus_email, Column::primary_phone));
  // Neither: a username, unless the user data names one.
  core::Upsert name = user("jdoe", nullptr);
  EXPECT_TRUE(HasNull(name, Column::primary_email));
  EXPECT_TRUE(HasNull(name, Column::primary_phone));
  EXPECT_TRUE(HasText(name, Column::username, "jdoe"));
  EXPECT_TRUE(HasText(user("jdoe", "jane"), Column::username, "jane"));
}

// ---- invitations ------------------------------------------------------------------------------------

TEST(Invitation, DocumentedExamples) {
  struct Case {
    const char* file;
    const char* status;
    int64_t rank, updated_at;
    std::optional<std::string> user_id;
  };
  for (const Case& c : {Case{"organizationInvitation.created.json", "pending", 1, 1716883200000, std::nullopt},
                        Case{"organizationInvitation.accepted.json", "accepted", 2, 1716883500000, kDocMember},
                        Case{"organizationInvitation.revoked.json", "revoked", 2, 1716883500000, std::nullopt}}) {
    SCOPED_TRACE(c.file);
    Json body = clerk_json(c.file);
    EventPlan p = plan(body);
    EXPECT_SHAPE(p.writes, "upsert organizations", "upsert invitations");
    // The organization, as little as the invitation carries: its id. It
    // ranks below every other version of it.
    const core::Upsert& org = upsert_at(p.writes, 0);
    EXPECT_EQ(org.id, kDocOrg);
    EXPECT_EQ(org.source, RowSource::snapshot);
    EXPECT_FALSE(org.data.has_value());
    EXPECT_TRUE(org.values().empty());
    EXPECT_EQ(org.version.key(), (Key{0, 0, kDocTime, 0}));

    const core::Upsert& i = upsert_at(p.writes, 1);
    EXPECT_EQ(i.id, kDocInvitation);
    EXPECT_TRUE(HasText(i, Column::organization_id, kDocOrg));
    EXPECT_TRUE(HasText(i, Column::email_address, "jane.doe@acme.com"));
    EXPECT_TRUE(HasText(i, Column::role, "org:member"));
    EXPECT_TRUE(HasText(i, Column::role_name, "Member"));
    EXPECT_TRUE(HasText(i, Column::status, c.status));
    EXPECT_TRUE(HasNull(i, Column::inviter_id));
    if (c.user_id) {
      EXPECT_TRUE(HasText(i, Column::user_id, *c.user_id));
    } else {
      EXPECT_TRUE(HasNull(i, Column::user_id));
    }
    EXPECT_TRUE(HasTime(i, Column::created_at, 1716883200000));
    EXPECT_TRUE(HasTime(i, Column::updated_at, c.updated_at));
    EXPECT_TRUE(HasTime(i, Column::expires_at, 1717487999000));
    // The url carries the acceptance token: it stays out of the mirror.
    Json data = body["data"];
    ASSERT_TRUE(data.contains("url"));
    data.erase("url");
    EXPECT_EQ(data_of(i), data);
    EXPECT_EQ(i.version.key(), (Key{c.rank, c.updated_at, kDocTime, fnv1a(data.dump())}));
  }
}

TEST(Invitation, FinalStatesRank2) {
  Json body = clerk_json("organizationInvitation.created.json");
  for (const auto& [status, rank] : std::vector<std::pair<std::string, int64_t>>{
           {"accepted", 2}, {"revoked", 2}, {"expired", 2}, {"pending", 1}, {"Accepted", 1}, {"", 1}}) {
    body["data"]["status"] = status;
    EXPECT_EQ(upsert_at(plan(body).writes, 1).version.rank, rank) << status;
  }
  // A final state outranks a pending copy, however much later that one was updated.
  Json pending = clerk_json("organizationInvitation.created.json");
  pending["data"]["updated_at"] = core::kMaxTimeMs;
  EXPECT_GT(upsert_at(plan(clerk("organizationInvitation.revoked.json")).writes, 1).version.key(),
            upsert_at(plan(pending).writes, 1).version.key());
}

TEST(Invitation, UrlOfAnyTypeIsLeftOut) {
  Json body = clerk_json("organizationInvitation.created.json");
  for (const Json& url : {Json(5), Json::object({{"token", "t"}}), Json(nullptr)}) {
    body["data"]["url"] = url;
    EventPlan p = plan(body);
    ASSERT_TRUE(IsApplied(p));
    EXPECT_FALSE(data_of(upsert_at(p.writes, 1)).contains("url")) << url;
  }
}

// ---- domains ----------------------------------------------------------------------------------------------

TEST(Domain, Created) {
  Json body = clerk_json("organizationDomain.created.json");
  EventPlan p = plan(body);
  EXPECT_SHAPE(p.writes, "upsert organizations", "upsert domains");
  // The organization from public_organization_data: a placeholder, rank 0
  // with updated_at 0, below every snapshot and full copy.
  const core::Upsert& org = upsert_at(p.writes, 0);
  const Json& public_data = body["data"]["public_organization_data"];
  EXPECT_EQ(org.id, kDocOrg);
  EXPECT_EQ(org.source, RowSource::snapshot);
  EXPECT_EQ(data_of(org), public_data);
  EXPECT_EQ(org.version.key(), (Key{0, 0, kDocTime, fnv1a(public_data.dump())}));
  EXPECT_TRUE(HasText(org, Column::name, "Acme Corp"));
  EXPECT_TRUE(HasText(org, Column::slug, "acme-corp"));
  EXPECT_TRUE(HasText(org, Column::image_url, "https://img.clerk.com/proxy/example-url"));
  EXPECT_TRUE(HasNull(org, Column::created_at));

  const core::Upsert& d = upsert_at(p.writes, 1);
  EXPECT_EQ(d.id, "orgdmn_2g7np7Hrk0SN6kj5EDMLDaKNL0S");
  EXPECT_EQ(d.source, RowSource::event);
  EXPECT_TRUE(HasText(d, Column::organization_id, kDocOrg));
  EXPECT_TRUE(HasText(d, Column::name, "acme.com"));
  EXPECT_TRUE(HasText(d, Column::enrollment_mode, "automatic_invitation"));
  EXPECT_TRUE(HasNull(d, Column::verification_status));  // "verification": null
  EXPECT_TRUE(HasText(d, Column::affiliation_email_address, "admin@acme.com"));
  EXPECT_TRUE(HasInt32(d, Column::total_pending_invitations, 0));
  EXPECT_TRUE(HasInt32(d, Column::total_pending_suggestions, 2));
  EXPECT_TRUE(HasTime(d, Column::created_at, 1716883200000));
  EXPECT_TRUE(HasTime(d, Column::updated_at, 1716883200000));
  EXPECT_EQ(data_of(d), body["data"]);
  EXPECT_EQ(d.version.key(), (Key{1, 1716883200000, kDocTime, fnv1a(body["data"].dump())}));
}

TEST(Domain, Updated) {
  EventPlan p = plan(clerk("organizationDomain.updated.json"));
  // Without public_organization_data, the organization is known by id only.
  const core::Upsert& org = upsert_at(p.writes, 0);
  EXPECT_FALSE(org.data.has_value());
  EXPECT_TRUE(org.values().empty());
  EXPECT_EQ(org.version.key(), (Key{0, 0, kDocTime, 0}));
  const core::Upsert& d = upsert_at(p.writes, 1);
  EXPECT_TRUE(HasText(d, Column::verification_status, "verified"));
  EXPECT_TRUE(HasText(d, Column::enrollment_mode, "automatic_suggestion"));
  EXPECT_TRUE(HasInt32(d, Column::total_pending_invitations, 2));
  EXPECT_TRUE(HasInt32(d, Column::total_pending_suggestions, 5));
  EXPECT_EQ(d.version.updated_at_ms, 1716883500000);
}

TEST(Domain, AffiliationVerificationElseVerification) {
  Json body = clerk_json("organizationDomain.updated.json");
  auto status = [&](const Json& affiliation) {
    body["data"]["affiliation_verification"] = affiliation;
    return upsert_at(plan(body).writes, 1);
  };
  EXPECT_TRUE(HasText(status({{"status", "unverified"}}), Column::verification_status, "unverified"));
  EXPECT_TRUE(HasText(status(nullptr), Column::verification_status, "verified"));
  // Clerk's current name wins, even without a status.
  EXPECT_TRUE(HasNull(status(Json::object()), Column::verification_status));
  body["data"].erase("affiliation_verification");
  body["data"].erase("verification");
  EXPECT_TRUE(HasNull(upsert_at(plan(body).writes, 1), Column::verification_status));
}

TEST(Domain, PlaceholderRanksBelowSnapshotAndFullOrganization) {
  Key placeholder = upsert_at(plan(clerk("organizationDomain.created.json")).writes, 0).version.key();
  Json membership = clerk_json("organizationMembership.created.json");
  membership["timestamp"] = 1;  // older in every other respect
  Key snapshot = upsert_at(plan(membership).writes, 0).version.key();
  Json full = clerk_json("organization.created.json");
  full["timestamp"] = 1;
  EXPECT_LT(placeholder, snapshot);
  EXPECT_LT(snapshot, upsert_at(plan(full).writes, 0).version.key());
}

// ---- roles and permissions ---------------------------------------------------------------------------------

TEST(Role, Created) {
  Json body = clerk_json("role.created.json");
  EventPlan p = plan(body);
  EXPECT_SHAPE(p.writes, "upsert roles");
  const core::Upsert& r = upsert_at(p.writes, 0);
  EXPECT_EQ(r.id, "role_2g7np7Hrk0SN6kj5EDMLDaKNL0S");
  EXPECT_TRUE(HasText(r, Column::key, "org:content_manager"));
  EXPECT_TRUE(HasText(r, Column::name, "Content Manager"));
  EXPECT_TRUE(HasText(r, Column::description, "Can manage all content in the organization"));
  EXPECT_TRUE(HasBool(r, Column::is_creator_eligible, false));
  EXPECT_TRUE(HasItems(r, Column::permissions, {"org:posts:create"}));  // the keys of its permission objects
  EXPECT_TRUE(HasTime(r, Column::created_at, 1716883200000));
  EXPECT_TRUE(HasTime(r, Column::updated_at, 1716883200000));
  EXPECT_EQ(data_of(r), body["data"]);
  EXPECT_EQ(r.version.key(), (Key{1, 1716883200000, kDocTime, fnv1a(body["data"].dump())}));
}

TEST(Role, Updated) {
  core::Upsert r = upsert_at(plan(clerk("role.updated.json")).writes, 0);
  EXPECT_TRUE(HasText(r, Column::key, "editor"));
  EXPECT_TRUE(HasItems(r, Column::permissions, {"org:posts:edit", "org:posts:publish"}));
  EXPECT_TRUE(HasNull(r, Column::is_creator_eligible));
  EXPECT_EQ(r.version.updated_at_ms, 1716883500000);
}

TEST(Role, PermissionsAbsentOrEmpty) {
  Json body = clerk_json("role.created.json");
  body["data"]["permissions"] = Json::array();
  EXPECT_TRUE(HasItems(upsert_at(plan(body).writes, 0), Column::permissions, {}));
  body["data"].erase("permissions");
  EXPECT_TRUE(HasNull(upsert_at(plan(body).writes, 0), Column::permissions));
}

TEST(Permission, CreatedAndUpdated) {
  Json body = clerk_json("permission.created.json");
  EventPlan p = plan(body);
  EXPECT_SHAPE(p.writes, "upsert permissions");
  const core::Upsert& created = upsert_at(p.writes, 0);
  EXPECT_EQ(created.id, "perm_2g7np7Hrk0SN6kj5EDMLDaKNL0S");
  EXPECT_TRUE(HasText(created, Column::key, "org:posts:create"));
  EXPECT_TRUE(HasText(created, Column::name, "Create Posts"));
  EXPECT_TRUE(HasText(created, Column::description, "Ability to create new posts in the organization"));
  EXPECT_TRUE(HasText(created, Column::type, "custom"));
  EXPECT_TRUE(HasTime(created, Column::created_at, 1716883200000));
  EXPECT_EQ(data_of(created), body["data"]);
  EXPECT_EQ(created.version.key(), (Key{1, 1716883200000, kDocTime, fnv1a(body["data"].dump())}));
  core::Upsert updated = upsert_at(plan(clerk("permission.updated.json")).writes, 0);
  EXPECT_TRUE(HasText(updated, Column::name, "Create and Edit Posts"));
  EXPECT_TRUE(HasTime(updated, Column::updated_at, 1716883500000));
  EXPECT_GT(updated.version.key(), created.version.key());
}

// ---- removals -----------------------------------------------------------------------------------------------

TEST(Removal, OrganizationEndsItsMembershipsInvitationsAndDomains) {
  EventPlan p = plan(clerk("organization.deleted.json"));
  EXPECT_SHAPE(p.writes, "tombstone organizations", "end memberships by organization_id",
               "end invitations by organization_id", "end domains by organization_id");
  const core::Tombstone& t = tombstone_at(p.writes, 0);
  EXPECT_EQ(t.id, kDocOrg);
  EXPECT_EQ(t.deleted_at_ms, kDocTime);
  EXPECT_TRUE(t.create_missing);
  EXPECT_FALSE(t.organization_id.has_value());
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(end_children_at(p.writes, i).parent_id, kDocOrg);
    EXPECT_EQ(end_children_at(p.writes, i).deleted_at_ms, kDocTime);
  }
  EXPECT_EQ(p.object_id, kDocOrg);
}

TEST(Removal, UserEndsItsMemberships) {
  EventPlan p = plan(clerk("user.deleted.json"));
  EXPECT_SHAPE(p.writes, "tombstone users", "end memberships by user_id");
  EXPECT_EQ(tombstone_at(p.writes, 0).id, kDocUser);
  EXPECT_TRUE(tombstone_at(p.writes, 0).create_missing);
  EXPECT_EQ(end_children_at(p.writes, 1).parent_id, kDocUser);
  EXPECT_EQ(end_children_at(p.writes, 1).deleted_at_ms, kDocTime);
}

TEST(Removal, DomainRoleAndPermissionEndThemselves) {
  for (const auto& [file, table, id] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"organizationDomain.deleted.json", "domains", "orgdm_2g7np7Hrk0SN6kj5EDMLDaKNL0S"},
           {"role.deleted.json", "roles", "role_2g7np7Hrk0SN6kj5EDMLDaKNL0S"},
           {"permission.deleted.json", "permissions", "perm_2g7np7Hrk0SN6kj5EDMLDaKNL0S"}}) {
    EventPlan p = plan(clerk(file));
    EXPECT_SHAPE(p.writes, "tombstone " + table);
    EXPECT_EQ(tombstone_at(p.writes, 0).id, id);
    EXPECT_EQ(tombstone_at(p.writes, 0).deleted_at_ms, kDocTime);
    EXPECT_TRUE(tombstone_at(p.writes, 0).create_missing);
  }
}

TEST(Removal, DeletedFlagIsOptionalButNeverFalse) {
  Json body = clerk_json("organization.deleted.json");
  body["data"].erase("deleted");
  EXPECT_TRUE(IsApplied(plan(body)));
  body["data"]["deleted"] = nullptr;
  EXPECT_TRUE(IsApplied(plan(body)));
  body["data"]["deleted"] = false;
  EXPECT_TRUE(IsInvalid(plan(body), "data.deleted: expected true, got false"));
}

TEST(Removal, MembershipWithItsUser) {
  Json body = clerk_json("organizationMembership.deleted.json");
  EventPlan p = plan(body);
  EXPECT_SHAPE(p.writes, "upsert organizations", "upsert users", "upsert memberships", "tombstone memberships");
  expect_doc_membership(p, body, "org:member", {"org:posts:read", "org:posts:write"}, 1716883200000);
  const core::Tombstone& t = tombstone_at(p.writes, 3);
  EXPECT_EQ(t.id, kDocMembership);
  EXPECT_EQ(t.deleted_at_ms, kDocTime);
  EXPECT_FALSE(t.create_missing);  // its upsert just before creates it
  EXPECT_FALSE(t.organization_id.has_value());
  EXPECT_EQ(p.object_id, kDocMembership);
}

TEST(Removal, MembershipWithoutItsUser) {
  // Clerk's schema does not require public_user_data on a deletion: the
  // membership is ended by id, remembered with its organization if unknown.
  Json body = clerk_json("organizationMembership.deleted.json");
  for (const std::optional<Json>& user : {std::optional<Json>(), std::optional<Json>(Json(nullptr))}) {
    Json b = body;
    if (user) {
      b["data"]["public_user_data"] = *user;
    } else {
      b["data"].erase("public_user_data");
    }
    b["data"]["role"] = 5;  // not read: no membership row is written
    EventPlan p = plan(b);
    EXPECT_SHAPE(p.writes, "upsert organizations", "tombstone memberships");
    const core::Upsert& org = upsert_at(p.writes, 0);
    EXPECT_EQ(org.id, kDocOrg);
    EXPECT_EQ(org.source, RowSource::snapshot);
    EXPECT_EQ(data_of(org), body["data"]["organization"]);
    const core::Tombstone& t = tombstone_at(p.writes, 1);
    EXPECT_EQ(t.table, Table::memberships);
    EXPECT_EQ(t.id, kDocMembership);
    EXPECT_EQ(t.deleted_at_ms, kDocTime);
    EXPECT_TRUE(t.create_missing);
    EXPECT_EQ(t.organization_id, kDocOrg);
  }
}

}  // namespace
