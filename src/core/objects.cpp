#include "core/objects.hpp"

#include "core/errors.hpp"

namespace orgsync::core {
namespace {

using C = Column;

int64_t updated_at_or_created(const Fields& object) {
  auto updated = object.time_ms("updated_at");
  if (!updated) updated = object.time_ms("created_at");
  return updated.value_or(0);
}

Upsert row_of(Table table, const Fields& object, const char* id_key, RowSource source, int64_t rank,
              int64_t updated_at_ms, const Origin& origin, std::optional<std::string> data) {
  Upsert upsert(table, object.id(id_key), source);
  int64_t digest = data ? digest_of(*data) : 0;
  upsert.version = {rank, updated_at_ms, origin.event_time_ms.value_or(0), digest};
  upsert.data = std::move(data);
  // Copied into their columns by the merge; they must be objects.
  if (has_metadata(table)) {
    object.object("public_metadata");
    object.object("private_metadata");
  }
  return upsert;
}

// ---- organizations --------------------------------------------------------------

void set_organization_columns(Upsert& upsert, const Fields& org) {
  upsert.set_text(C::name, org.text("name"));
  upsert.set_text(C::slug, org.indexed_text("slug"));
  upsert.set_text(C::image_url, org.text("image_url"));
  upsert.set_text(C::created_by, org.text("created_by"));
  upsert.set_int32(C::max_allowed_memberships, org.int32("max_allowed_memberships"));
  upsert.set_time(C::created_at, org.time_ms("created_at"));
  upsert.set_time(C::updated_at, org.time_ms("updated_at"));
}

// A full organization (rank 1), or the snapshot a membership carries (rank 0).
Upsert organization_row(const Fields& org, std::string data, RowSource source, const Origin& origin) {
  int64_t rank = source == RowSource::event ? 1 : 0;
  Upsert upsert =
      row_of(Table::organizations, org, "id", source, rank, updated_at_or_created(org), origin, std::move(data));
  set_organization_columns(upsert, org);
  return upsert;
}

// The organization a domain or an invitation belongs to, as little as they
// carry (a domain's public_organization_data, or only the id). It ranks
// below every other version of the organization, and exists so that the
// child's write and the organization's deletion lock one row in common.
Upsert organization_placeholder(const std::string& id, const std::optional<Fields>& public_data, const Origin& origin) {
  Upsert upsert(Table::organizations, id, RowSource::snapshot);
  upsert.version = {0, 0, origin.event_time_ms.value_or(0), 0};
  if (public_data) {
    upsert.data = json::canonical(public_data->value());
    upsert.version.digest = digest_of(*upsert.data);
    upsert.set_text(C::name, public_data->text("name"));
    upsert.set_text(C::slug, public_data->indexed_text("slug"));
    upsert.set_text(C::image_url, public_data->text("image_url"));
  }
  return upsert;
}

// ---- users ---------------------------------------------------------------------

// The value at `value_key` of the item of `list` whose id is `primary_id_key`'s.
std::optional<std::string> primary_of(const Fields& user, const char* primary_id_key, const char* list,
                                      const char* value_key) {
  auto primary_id = user.text(primary_id_key);
  auto items = user.objects(list);
  if (!items) return std::nullopt;
  std::optional<std::string> found;
  for (const Fields& item : *items) {
    auto value = item.indexed_text(value_key);  // typed even where not the primary one
    if (primary_id && item.text("id") == primary_id) found = std::move(value);
  }
  return found;
}

Upsert user_row(const Fields& user, std::string data, const Origin& origin) {
  Upsert upsert =
      row_of(Table::users, user, "id", RowSource::event, 1, updated_at_or_created(user), origin, std::move(data));
  upsert.set_text(C::primary_email, primary_of(user, "primary_email_address_id", "email_addresses", "email_address"));
  upsert.set_text(C::primary_phone, primary_of(user, "primary_phone_number_id", "phone_numbers", "phone_number"));
  upsert.set_text(C::first_name, user.text("first_name"));
  upsert.set_text(C::last_name, user.text("last_name"));
  upsert.set_text(C::username, user.text("username"));
  upsert.set_text(C::image_url, user.text("image_url"));
  upsert.set_text(C::external_id, user.indexed_text("external_id"));
  upsert.set_boolean(C::banned, user.boolean("banned"));
  upsert.set_boolean(C::locked, user.boolean("locked"));
  upsert.set_time(C::last_sign_in_at, user.time_ms("last_sign_in_at"));
  upsert.set_time(C::created_at, user.time_ms("created_at"));
  upsert.set_time(C::updated_at, user.time_ms("updated_at"));
  return upsert;
}

// A member's public user data stands in for the user until the full user
// arrives (rank 1 always beats it). It has no updated_at: it is the user as
// of the event, so the event's time orders it among snapshots (the
// membership's own updated_at, the fallback for a listing, can be far older
// than the data, as on a deletion, which carries the current name).
Upsert user_snapshot_row(const Fields& public_user, std::string data, int64_t membership_updated_at,
                         const Origin& origin) {
  int64_t as_of = origin.event_time_ms.value_or(membership_updated_at);
  Upsert upsert = row_of(Table::users, public_user, "user_id", RowSource::snapshot, 0, as_of, origin, std::move(data));
  // The identifier is the user's email address, phone number or username.
  auto identifier = public_user.indexed_text("identifier");
  bool email = identifier && identifier->find('@') != std::string::npos;
  bool phone = identifier && !email && identifier->rfind('+', 0) == 0;
  auto username = public_user.indexed_text("username");
  if (!username && identifier && !email && !phone) username = identifier;
  upsert.set_text(C::primary_email, email ? identifier : std::nullopt);
  upsert.set_text(C::primary_phone, phone ? identifier : std::nullopt);
  upsert.set_text(C::username, username);
  upsert.set_text(C::first_name, public_user.text("first_name"));
  upsert.set_text(C::last_name, public_user.text("last_name"));
  upsert.set_text(C::image_url, public_user.text("image_url"));
  upsert.set_boolean(C::banned, public_user.boolean("banned"));
  return upsert;
}

// ---- memberships ---------------------------------------------------------------

Upsert membership_row(const Fields& membership, std::string data, const Fields& org, const Fields& public_user,
                      const Origin& origin) {
  Upsert upsert = row_of(Table::memberships, membership, "id", RowSource::event, 1, updated_at_or_created(membership),
                         origin, std::move(data));
  upsert.set_text(C::organization_id, org.id("id"));
  upsert.set_text(C::user_id, public_user.id("user_id"));
  upsert.set_text(C::role, membership.required_text("role"));
  upsert.set_text(C::role_name, membership.text("role_name"));
  upsert.set_text_array(C::permissions, membership.strings("permissions"));
  upsert.set_time(C::created_at, membership.time_ms("created_at"));
  upsert.set_time(C::updated_at, membership.time_ms("updated_at"));
  return upsert;
}

// The snapshots' canonical texts are parts of the membership's, written once.
struct MembershipText {
  std::string data;
  json::Span organization, public_user;
  std::string part(json::Span span) const { return data.substr(span.offset, span.size); }
};

MembershipText membership_text(const Fields& membership) {
  static constexpr std::string_view kSnapshots[] = {"organization", "public_user_data"};
  json::Span spans[2];
  std::string data = json::canonical(membership.value(), kSnapshots, spans, 2);
  return {std::move(data), spans[0], spans[1]};
}

// Organization, then user, then membership: every writer locks rows in this order.
void plan_membership(const Fields& membership, const Origin& origin, std::vector<Write>& writes) {
  Fields org = membership.required_object("organization");
  Fields public_user = membership.required_object("public_user_data");
  MembershipText text = membership_text(membership);
  writes.push_back(organization_row(org, text.part(text.organization), RowSource::snapshot, origin));
  writes.push_back(
      user_snapshot_row(public_user, text.part(text.public_user), updated_at_or_created(membership), origin));
  writes.push_back(membership_row(membership, std::move(text.data), org, public_user, origin));
}

// ---- invitations, domains, roles, permissions ----------------------------------

bool is_final_invitation_status(const std::string& status) {
  return status == "accepted" || status == "revoked" || status == "expired";
}

Upsert invitation_row(const Fields& invitation, const Origin& origin) {
  // The url carries the invitation's acceptance token: it stays in the
  // recorded delivery (orgsync.events, the owner's only), not in the mirror.
  std::string data = json::canonical(invitation.value(), nullptr, nullptr, 0, "url");
  std::string status = invitation.required_text("status");
  int64_t rank = is_final_invitation_status(status) ? 2 : 1;
  Upsert upsert = row_of(Table::invitations, invitation, "id", RowSource::event, rank,
                         updated_at_or_created(invitation), origin, std::move(data));
  upsert.set_text(C::organization_id, invitation.id("organization_id"));
  upsert.set_text(C::email_address, invitation.text("email_address"));
  upsert.set_text(C::role, invitation.text("role"));
  upsert.set_text(C::role_name, invitation.text("role_name"));
  upsert.set_text(C::status, std::move(status));
  upsert.set_text(C::inviter_id, invitation.text("inviter_id"));
  upsert.set_text(C::user_id, invitation.text("user_id"));
  upsert.set_time(C::created_at, invitation.time_ms("created_at"));
  upsert.set_time(C::updated_at, invitation.time_ms("updated_at"));
  upsert.set_time(C::expires_at, invitation.time_ms("expires_at"));
  return upsert;
}

// Clerk names it affiliation_verification now, verification before.
std::optional<std::string> domain_verification_status(const Fields& domain) {
  auto verification = domain.object("affiliation_verification");
  if (!verification) verification = domain.object("verification");
  return verification ? verification->text("status") : std::nullopt;
}

Upsert domain_row(const Fields& domain, const Origin& origin) {
  Upsert upsert = row_of(Table::domains, domain, "id", RowSource::event, 1, updated_at_or_created(domain), origin,
                         json::canonical(domain.value()));
  upsert.set_text(C::organization_id, domain.id("organization_id"));
  upsert.set_text(C::name, domain.required_text("name"));
  upsert.set_text(C::enrollment_mode, domain.text("enrollment_mode"));
  upsert.set_text(C::verification_status, domain_verification_status(domain));
  upsert.set_text(C::affiliation_email_address, domain.text("affiliation_email_address"));
  upsert.set_int32(C::total_pending_invitations, domain.int32("total_pending_invitations"));
  upsert.set_int32(C::total_pending_suggestions, domain.int32("total_pending_suggestions"));
  upsert.set_time(C::created_at, domain.time_ms("created_at"));
  upsert.set_time(C::updated_at, domain.time_ms("updated_at"));
  return upsert;
}

Upsert role_row(const Fields& role, const Origin& origin) {
  Upsert upsert = row_of(Table::roles, role, "id", RowSource::event, 1, updated_at_or_created(role), origin,
                         json::canonical(role.value()));
  std::optional<std::vector<std::string>> keys;
  if (auto permissions = role.objects("permissions")) {
    keys.emplace();
    for (const Fields& permission : *permissions) keys->push_back(permission.required_text("key"));
  }
  upsert.set_text(C::key, role.required_text("key"));
  upsert.set_text(C::name, role.text("name"));
  upsert.set_text(C::description, role.text("description"));
  upsert.set_boolean(C::is_creator_eligible, role.boolean("is_creator_eligible"));
  upsert.set_text_array(C::permissions, std::move(keys));
  upsert.set_time(C::created_at, role.time_ms("created_at"));
  upsert.set_time(C::updated_at, role.time_ms("updated_at"));
  return upsert;
}

Upsert permission_row(const Fields& permission, const Origin& origin) {
  Upsert upsert = row_of(Table::permissions, permission, "id", RowSource::event, 1, updated_at_or_created(permission),
                         origin, json::canonical(permission.value()));
  upsert.set_text(C::key, permission.required_text("key"));
  upsert.set_text(C::name, permission.text("name"));
  upsert.set_text(C::description, permission.text("description"));
  upsert.set_text(C::type, permission.text("type"));
  upsert.set_time(C::created_at, permission.time_ms("created_at"));
  upsert.set_time(C::updated_at, permission.time_ms("updated_at"));
  return upsert;
}

// ---- removals ------------------------------------------------------------------

// `deleted`, where a deletion carries it, must say so.
void check_deleted_flag(const Fields& data) {
  auto deleted = data.boolean("deleted");
  if (deleted && !*deleted) throw InvalidPayload(data.path() + ".deleted: expected true, got false");
}

// The row a membership's deletion ends. Clerk's schema does not require the
// member's public user data on a deletion; without it, the membership is
// ended by id (and, if it is not known yet, remembered ended with its
// organization, the member unknown).
void plan_membership_removal(const Fields& membership, int64_t deleted_at_ms, const Origin& origin,
                             std::vector<Write>& writes) {
  std::string id = membership.id("id");
  if (membership.has("public_user_data")) {
    plan_membership(membership, origin, writes);
    writes.push_back(Tombstone{Table::memberships, std::move(id), deleted_at_ms, false, std::nullopt});
    return;
  }
  Fields org = membership.required_object("organization");
  MembershipText text = membership_text(membership);
  writes.push_back(organization_row(org, text.part(text.organization), RowSource::snapshot, origin));
  writes.push_back(Tombstone{Table::memberships, std::move(id), deleted_at_ms, true, org.id("id")});
}

}  // namespace

Table table_of(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::organization: return Table::organizations;
    case ObjectKind::user: return Table::users;
    case ObjectKind::membership: return Table::memberships;
    case ObjectKind::invitation: return Table::invitations;
    case ObjectKind::domain: return Table::domains;
    case ObjectKind::role: return Table::roles;
    case ObjectKind::permission: return Table::permissions;
  }
  return Table::organizations;
}

void plan_object(ObjectKind kind, const Fields& object, const Origin& origin, std::vector<Write>& writes) {
  switch (kind) {
    case ObjectKind::organization:
      writes.push_back(organization_row(object, json::canonical(object.value()), RowSource::event, origin));
      break;
    case ObjectKind::user: writes.push_back(user_row(object, json::canonical(object.value()), origin)); break;
    case ObjectKind::membership: plan_membership(object, origin, writes); break;
    case ObjectKind::invitation:
      writes.push_back(organization_placeholder(object.id("organization_id"), std::nullopt, origin));
      writes.push_back(invitation_row(object, origin));
      break;
    case ObjectKind::domain:
      writes.push_back(
          organization_placeholder(object.id("organization_id"), object.object("public_organization_data"), origin));
      writes.push_back(domain_row(object, origin));
      break;
    case ObjectKind::role: writes.push_back(role_row(object, origin)); break;
    case ObjectKind::permission: writes.push_back(permission_row(object, origin)); break;
  }
}

void plan_removal(ObjectKind kind, const Fields& data, int64_t deleted_at_ms, const Origin& origin,
                  std::vector<Write>& writes) {
  if (kind == ObjectKind::membership) return plan_membership_removal(data, deleted_at_ms, origin, writes);
  check_deleted_flag(data);
  plan_deletion_by_id(kind, data.id("id"), deleted_at_ms, writes);
}

void plan_deletion_by_id(ObjectKind kind, const std::string& id, int64_t deleted_at_ms, std::vector<Write>& writes) {
  writes.push_back(Tombstone{table_of(kind), id, deleted_at_ms, kind != ObjectKind::membership, std::nullopt});
  // A deleted organization's memberships, invitations and domains end with
  // it, and a deleted user's memberships (in the order rows are locked).
  if (kind == ObjectKind::organization) {
    for (Table children : {Table::memberships, Table::invitations, Table::domains}) {
      writes.push_back(EndChildren{children, Column::organization_id, id, deleted_at_ms});
    }
  } else if (kind == ObjectKind::user) {
    writes.push_back(EndChildren{Table::memberships, Column::user_id, id, deleted_at_ms});
  }
}

std::optional<Upsert> rejoin(const Upsert& incoming, std::string_view stored_data, const Version& stored) {
  if (!incoming.data) return std::nullopt;
  try {
    json::Document stored_document(stored_data);
    json::Document incoming_document(*incoming.data);
    std::string joined = json::join(stored_document.root(), incoming_document.root());
    json::Document document(joined);
    Fields object(document.root(), "data");
    Origin origin{std::max(stored.event_time_ms, incoming.version.event_time_ms)};
    std::vector<Write> writes;
    switch (incoming.table) {
      case Table::organizations:
        writes.push_back(incoming.version.rank == 0 && incoming.version.updated_at_ms == 0
                             ? organization_placeholder(incoming.id, object, origin)
                             : organization_row(object, joined, incoming.source, origin));
        break;
      case Table::users:
        writes.push_back(incoming.source == RowSource::snapshot
                             ? user_snapshot_row(object, joined, incoming.version.updated_at_ms, origin)
                             : user_row(object, joined, origin));
        break;
      case Table::memberships:
        writes.push_back(membership_row(object, joined, object.required_object("organization"),
                                        object.required_object("public_user_data"), origin));
        break;
      case Table::invitations: writes.push_back(invitation_row(object, origin)); break;
      case Table::domains: writes.push_back(domain_row(object, origin)); break;
      case Table::roles: writes.push_back(role_row(object, origin)); break;
      case Table::permissions: writes.push_back(permission_row(object, origin)); break;
      case Table::events: return std::nullopt;
    }
    Upsert result = std::get<Upsert>(std::move(writes.back()));
    // Same version: same rank and updated_at, whatever the join reads back.
    result.version = {incoming.version.rank, incoming.version.updated_at_ms, origin.event_time_ms.value_or(0),
                      digest_of(*result.data)};
    return result;
  } catch (const InvalidPayload&) {
    return std::nullopt;
  }
}

}  // namespace orgsync::core
