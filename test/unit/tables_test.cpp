// core/tables, core/writes and core/event_types: the lists the core and the
// Postgres layer share, and the checks a typed write makes.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

#include "core/event_types.hpp"
#include "core/tables.hpp"
#include "core/writes.hpp"
#include "support.hpp"

namespace {

namespace core = orgsync::core;
using core::Column;
using core::Table;
using core::ValueType;

std::vector<Table> object_tables() {
  std::vector<Table> tables;
  for (int t = 0; t < core::kTables; ++t) {
    if (Table(t) != Table::events) tables.push_back(Table(t));
  }
  return tables;
}

// ---- tables and columns ---------------------------------------------------------------

TEST(Tables, NamesAreDistinctAndNonEmpty) {
  std::set<std::string> tables, columns;
  for (int t = 0; t < core::kTables; ++t) {
    std::string name = core::table_name(Table(t));
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(tables.insert(name).second) << name;
  }
  for (int c = 0; c < core::kColumns; ++c) {
    std::string name = core::column_name(Column(c));
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(columns.insert(name).second) << name;
  }
  EXPECT_STREQ(core::table_name(Table::organizations), "organizations");
  EXPECT_STREQ(core::table_name(Table::events), "events");
  EXPECT_STREQ(core::column_name(Column::id), "id");
  EXPECT_STREQ(core::column_name(Column::payload), "payload");
  EXPECT_STREQ(core::column_name(Column::verification_status), "verification_status");
}

TEST(Tables, ObjectColumnsAreTypedAndUnique) {
  for (Table table : object_tables()) {
    SCOPED_TRACE(core::table_name(table));
    core::ColumnList columns = core::object_columns(table);
    ASSERT_NE(columns.begin(), columns.end());
    std::set<Column> seen;
    for (Column column : columns) {
      EXPECT_TRUE(seen.insert(column).second) << core::column_name(column) << " twice";
      // The id and what the merge keeps are not an object's columns.
      for (Column kept : {Column::id, Column::public_metadata, Column::private_metadata, Column::deleted_at,
                          Column::data, Column::source, Column::sync_version}) {
        EXPECT_NE(column, kept) << core::column_name(column);
      }
      EXPECT_NE(core::value_type(column), ValueType::json) << core::column_name(column);
    }
    // Every object keeps its own times.
    EXPECT_TRUE(seen.count(Column::created_at) && seen.count(Column::updated_at));
  }
  EXPECT_EQ(core::object_columns(Table::events).begin(), core::object_columns(Table::events).end());
}

TEST(Tables, ValueTypes) {
  EXPECT_EQ(core::value_type(Column::name), ValueType::text);
  EXPECT_EQ(core::value_type(Column::max_allowed_memberships), ValueType::int32);
  EXPECT_EQ(core::value_type(Column::total_pending_invitations), ValueType::int32);
  EXPECT_EQ(core::value_type(Column::banned), ValueType::boolean);
  EXPECT_EQ(core::value_type(Column::is_creator_eligible), ValueType::boolean);
  EXPECT_EQ(core::value_type(Column::expires_at), ValueType::time_ms);
  EXPECT_EQ(core::value_type(Column::last_sign_in_at), ValueType::time_ms);
  EXPECT_EQ(core::value_type(Column::permissions), ValueType::text_array);
  EXPECT_EQ(core::value_type(Column::data), ValueType::json);
  EXPECT_EQ(core::value_type(Column::public_metadata), ValueType::json);
}

TEST(Tables, SourceAndMetadata) {
  // Rows that a snapshot or a deletion alone can create have a source.
  for (Table table : {Table::organizations, Table::users, Table::domains, Table::roles, Table::permissions}) {
    EXPECT_TRUE(core::has_source(table)) << core::table_name(table);
  }
  for (Table table : {Table::memberships, Table::invitations, Table::events}) {
    EXPECT_FALSE(core::has_source(table)) << core::table_name(table);
  }
  for (Table table : {Table::organizations, Table::users, Table::memberships, Table::invitations}) {
    EXPECT_TRUE(core::has_metadata(table)) << core::table_name(table);
  }
  for (Table table : {Table::domains, Table::roles, Table::permissions, Table::events}) {
    EXPECT_FALSE(core::has_metadata(table)) << core::table_name(table);
  }
}

// ---- typed writes ---------------------------------------------------------------------

TEST(Upsert, SettersCheckTheColumnsTableAndType) {
  core::Upsert upsert(Table::organizations, "org_1", core::RowSource::event);
  EXPECT_THROW(upsert.set_text(Column::role, "admin"), std::logic_error);      // a memberships column
  EXPECT_THROW(upsert.set_text(Column::id, "org_2"), std::logic_error);        // not an object column
  EXPECT_THROW(upsert.set_time(Column::name, 1), std::logic_error);            // text, not a time
  EXPECT_THROW(upsert.set_text(Column::created_at, "now"), std::logic_error);  // a time, not text
  EXPECT_THROW(upsert.set_boolean(Column::max_allowed_memberships, true), std::logic_error);
  EXPECT_THROW(upsert.set_int32(Column::slug, 5), std::logic_error);
  EXPECT_THROW(upsert.set_text_array(Column::name, std::vector<std::string>{}), std::logic_error);
  EXPECT_TRUE(upsert.values().empty());
  upsert.set_text(Column::name, "Acme");
  EXPECT_THROW(upsert.set_text(Column::name, "Twice"), std::logic_error);
  EXPECT_TRUE(orgsync::test::HasText(upsert, Column::name, "Acme"));

  core::Upsert role(Table::roles, "role_1", core::RowSource::event);
  EXPECT_NO_THROW(role.set_text_array(Column::permissions, std::vector<std::string>{"a"}));
  EXPECT_NO_THROW(role.set_boolean(Column::is_creator_eligible, true));
  EXPECT_THROW(role.set_text(Column::status, "x"), std::logic_error);
}

TEST(Upsert, EveryObjectColumnTakesItsOwnTypeOnly) {
  for (Table table : object_tables()) {
    for (Column column : core::object_columns(table)) {
      SCOPED_TRACE(std::string(core::table_name(table)) + "." + core::column_name(column));
      ValueType type = core::value_type(column);
      core::Upsert upsert(table, "x", core::RowSource::event);
      auto set = [&](ValueType as) {
        switch (as) {
          case ValueType::text: upsert.set_text(column, "v"); break;
          case ValueType::int32: upsert.set_int32(column, 1); break;
          case ValueType::boolean: upsert.set_boolean(column, true); break;
          case ValueType::time_ms: upsert.set_time(column, 1); break;
          case ValueType::text_array: upsert.set_text_array(column, std::vector<std::string>{"v"}); break;
          case ValueType::json: break;
        }
      };
      for (ValueType other :
           {ValueType::text, ValueType::int32, ValueType::boolean, ValueType::time_ms, ValueType::text_array}) {
        if (other != type) {
          EXPECT_THROW(set(other), std::logic_error);
        }
      }
      EXPECT_NO_THROW(set(type));
      EXPECT_FALSE(upsert.get(column).is_null);
      // In no other table's columns, unless that table has it too.
      for (Table other : object_tables()) {
        core::ColumnList others = core::object_columns(other);
        if (std::find(others.begin(), others.end(), column) != others.end()) continue;
        core::Upsert elsewhere(other, "x", core::RowSource::event);
        EXPECT_THROW(elsewhere.set_text(column, "v"), std::logic_error) << core::table_name(other);
      }
    }
  }
}

TEST(Upsert, NullsAndUnsetColumnsReadAsNull) {
  core::Upsert upsert(Table::users, "user_1", core::RowSource::snapshot);
  upsert.set_text(Column::first_name, std::nullopt);
  upsert.set_boolean(Column::banned, false);
  EXPECT_TRUE(upsert.get(Column::first_name).is_null);
  EXPECT_TRUE(upsert.get(Column::last_name).is_null);  // never set
  EXPECT_TRUE(upsert.get(Column::role).is_null);       // not even the table's
  EXPECT_FALSE(upsert.get(Column::banned).is_null);
  EXPECT_EQ(upsert.get(Column::banned).number, 0);
  EXPECT_EQ(upsert.values().size(), 2u);
}

TEST(Writes, DigestIsFnv1a) {
  EXPECT_EQ(core::digest_of(""), int64_t(14695981039346656037ull));
  EXPECT_EQ(core::digest_of("a"), int64_t(0xaf63dc4c8601ec8cull));  // FNV-1a's published value for "a"
  for (const std::string text : {"{}", "{\"a\":1}", "\xc3\xa9", "C)"}) {
    EXPECT_EQ(core::digest_of(text), orgsync::test::fnv1a(text)) << text;
  }
  EXPECT_NE(core::digest_of("\xc3\xa9"), core::digest_of("C)"));  // every bit of every byte counts
}

TEST(Writes, SourceLabels) {
  EXPECT_STREQ(core::source_label(core::RowSource::event), "event");
  EXPECT_STREQ(core::source_label(core::RowSource::snapshot), "snapshot");
  EXPECT_STREQ(core::source_label(core::RowSource::deletion), "deletion");
}

TEST(Writes, VersionKeyAndSameVersion) {
  core::Version a{1, 200, 300, 400};
  EXPECT_EQ(a.key(), (std::array<int64_t, 4>{1, 200, 300, 400}));
  EXPECT_TRUE(a.same_version_as(core::Version{1, 200, 999, -5}));
  EXPECT_FALSE(a.same_version_as(core::Version{2, 200, 300, 400}));
  EXPECT_FALSE(a.same_version_as(core::Version{1, 201, 300, 400}));
}

// ---- event types ------------------------------------------------------------------------

TEST(EventTypes, TheOneList) {
  std::set<std::string> names;
  std::set<core::ObjectKind> upserted;
  for (const core::EventType& type : core::event_types()) {
    EXPECT_TRUE(names.insert(std::string(type.name)).second) << type.name;
    EXPECT_EQ(core::find_event_type(type.name), &type);
    if (type.action == core::Action::upsert) upserted.insert(type.kind);
  }
  EXPECT_EQ(names, (std::set<std::string>{"organization.created",
                                          "organization.updated",
                                          "organization.deleted",
                                          "user.created",
                                          "user.updated",
                                          "user.deleted",
                                          "organizationMembership.created",
                                          "organizationMembership.updated",
                                          "organizationMembership.deleted",
                                          "organizationInvitation.created",
                                          "organizationInvitation.accepted",
                                          "organizationInvitation.revoked",
                                          "organizationDomain.created",
                                          "organizationDomain.updated",
                                          "organizationDomain.deleted",
                                          "role.created",
                                          "role.updated",
                                          "role.deleted",
                                          "permission.created",
                                          "permission.updated",
                                          "permission.deleted"}));
  EXPECT_EQ(int(upserted.size()), core::kObjectKinds);  // every kind can be written
  const core::EventType* deleted = core::find_event_type("organizationMembership.deleted");
  ASSERT_NE(deleted, nullptr);
  EXPECT_EQ(deleted->kind, core::ObjectKind::membership);
  EXPECT_EQ(deleted->action, core::Action::removal);
  EXPECT_EQ(core::find_event_type("organizationInvitation.accepted")->action, core::Action::upsert);
}

TEST(EventTypes, OthersAreNotInTheList) {
  for (const char* name : {"organizationInvitation.deleted", "organizationInvitation.expired", "session.created",
                           "email.created", "user.created.extra", "User.created", "user.", "", "organization"}) {
    EXPECT_EQ(core::find_event_type(name), nullptr) << name;
  }
}

TEST(EventTypes, KindsByPluralName) {
  for (int k = 0; k < core::kObjectKinds; ++k) {
    const char* plural = core::plural_name(core::ObjectKind(k));
    EXPECT_EQ(core::kind_named(plural), core::ObjectKind(k)) << plural;
  }
  EXPECT_STREQ(core::plural_name(core::ObjectKind::membership), "memberships");
  EXPECT_EQ(core::kind_named("domains"), core::ObjectKind::domain);
  for (const char* bad : {"", "organization", "Users", "events"}) EXPECT_EQ(core::kind_named(bad), std::nullopt);
}

}  // namespace
