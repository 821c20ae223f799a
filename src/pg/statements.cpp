#include "pg/statements.hpp"

#include <stdexcept>

#include "pg/pg_memory.hpp"

namespace orgsync::pg {
namespace {

constexpr Oid T = TEXTOID;
constexpr Oid I = INT8OID;
constexpr Oid TS = TIMESTAMPTZOID;
constexpr Oid J = JSONBOID;

struct QueryDefinition {
  const char* sql;
  int nargs;
  Oid argtypes[kMaxParams];
};

// Ends the live memberships of a deleted organization or user. Rows are
// locked in id order, so concurrent cascades cannot deadlock.
#define END_MEMBERSHIPS_OF(column)                                          \
  "UPDATE orgsync.memberships AS m SET deleted_at = $2 "                    \
  "FROM (SELECT id FROM orgsync.memberships "                               \
  "      WHERE " column " = $1 AND (deleted_at IS NULL OR deleted_at > $2) " \
  "      ORDER BY id FOR UPDATE) AS ending "                                \
  "WHERE m.id = ending.id"

// Full versions only replace a row whose sync_version is lower; deleted_at is
// never cleared and only ever moves earlier. Objects come in as jsonb (parsed
// once, in execute()); arrays, versions and enums as text, cast here.
const QueryDefinition kQueries[] = {
    // upsert_organization(id, name, slug, image_url, created_by,
    //   max_allowed_memberships, created_at, updated_at, data, source, version)
    {R"SQL(
INSERT INTO orgsync.organizations AS o
    (id, name, slug, image_url, created_by, max_allowed_memberships, public_metadata,
     private_metadata, created_at, updated_at, data, source, sync_version)
VALUES ($1, $2, $3, $4, $5, $6::integer, NULLIF($9 -> 'public_metadata', 'null'),
        NULLIF($9 -> 'private_metadata', 'null'), $7, $8, $9, $10::orgsync.row_source, $11::bigint[])
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, slug = excluded.slug, image_url = excluded.image_url,
    created_by = excluded.created_by, max_allowed_memberships = excluded.max_allowed_memberships,
    public_metadata = excluded.public_metadata, private_metadata = excluded.private_metadata,
    created_at = excluded.created_at, updated_at = excluded.updated_at, data = excluded.data,
    source = excluded.source, sync_version = excluded.sync_version
WHERE o.sync_version < excluded.sync_version)SQL",
     11, {T, T, T, T, T, I, TS, TS, J, T, T}},

    // upsert_user(id, primary_email, first_name, last_name, username, image_url,
    //   external_id, created_at, updated_at, data, source, version)
    {R"SQL(
INSERT INTO orgsync.users AS u
    (id, primary_email, first_name, last_name, username, image_url, external_id,
     public_metadata, private_metadata, created_at, updated_at, data, source, sync_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($10 -> 'public_metadata', 'null'),
        NULLIF($10 -> 'private_metadata', 'null'), $8, $9, $10, $11::orgsync.row_source, $12::bigint[])
ON CONFLICT (id) DO UPDATE SET
    primary_email = excluded.primary_email, first_name = excluded.first_name,
    last_name = excluded.last_name, username = excluded.username, image_url = excluded.image_url,
    external_id = excluded.external_id, public_metadata = excluded.public_metadata,
    private_metadata = excluded.private_metadata, created_at = excluded.created_at,
    updated_at = excluded.updated_at, data = excluded.data, source = excluded.source,
    sync_version = excluded.sync_version
WHERE u.sync_version < excluded.sync_version)SQL",
     12, {T, T, T, T, T, T, T, TS, TS, J, T, T}},

    // upsert_membership(id, organization_id, user_id, role, permissions,
    //   created_at, updated_at, deleted_at, data, version). A membership that
    // arrives after its organization or user was deleted is born ended.
    {R"SQL(
INSERT INTO orgsync.memberships AS m
    (id, organization_id, user_id, role, permissions, public_metadata, private_metadata,
     created_at, updated_at, deleted_at, data, sync_version)
VALUES ($1, $2, $3, $4, $5::text[], NULLIF($9 -> 'public_metadata', 'null'),
        NULLIF($9 -> 'private_metadata', 'null'), $6, $7,
        LEAST($8, (SELECT deleted_at FROM orgsync.organizations WHERE id = $2),
                  (SELECT deleted_at FROM orgsync.users WHERE id = $3)),
        $9, $10::bigint[])
ON CONFLICT (id) DO UPDATE SET
    organization_id = excluded.organization_id, user_id = excluded.user_id, role = excluded.role,
    permissions = excluded.permissions, public_metadata = excluded.public_metadata,
    private_metadata = excluded.private_metadata, created_at = excluded.created_at,
    updated_at = excluded.updated_at, deleted_at = LEAST(m.deleted_at, excluded.deleted_at),
    data = excluded.data, sync_version = excluded.sync_version
WHERE m.sync_version < excluded.sync_version)SQL",
     10, {T, T, T, T, T, TS, TS, TS, J, T}},

    // upsert_invitation(id, organization_id, email_address, role, status,
    //   created_at, updated_at, expires_at, data, version)
    {R"SQL(
INSERT INTO orgsync.invitations AS i
    (id, organization_id, email_address, role, status, public_metadata, private_metadata,
     created_at, updated_at, expires_at, data, sync_version)
VALUES ($1, $2, $3, $4, $5, NULLIF($9 -> 'public_metadata', 'null'),
        NULLIF($9 -> 'private_metadata', 'null'), $6, $7, $8, $9, $10::bigint[])
ON CONFLICT (id) DO UPDATE SET
    organization_id = excluded.organization_id, email_address = excluded.email_address,
    role = excluded.role, status = excluded.status, public_metadata = excluded.public_metadata,
    private_metadata = excluded.private_metadata, created_at = excluded.created_at,
    updated_at = excluded.updated_at, expires_at = excluded.expires_at, data = excluded.data,
    sync_version = excluded.sync_version
WHERE i.sync_version < excluded.sync_version)SQL",
     10, {T, T, T, T, T, TS, TS, TS, J, T}},

    // delete_organization(id, deleted_at)
    {R"SQL(
INSERT INTO orgsync.organizations AS o (id, deleted_at, source) VALUES ($1, $2, 'deletion')
ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at
WHERE o.deleted_at IS NULL OR o.deleted_at > excluded.deleted_at)SQL",
     2, {T, TS}},

    // delete_user(id, deleted_at)
    {R"SQL(
INSERT INTO orgsync.users AS u (id, deleted_at, source) VALUES ($1, $2, 'deletion')
ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at
WHERE u.deleted_at IS NULL OR u.deleted_at > excluded.deleted_at)SQL",
     2, {T, TS}},

    // delete_membership(id, deleted_at)
    {R"SQL(
UPDATE orgsync.memberships SET deleted_at = $2
WHERE id = $1 AND (deleted_at IS NULL OR deleted_at > $2))SQL",
     2, {T, TS}},

    // end_organization_memberships(organization_id, deleted_at)
    {END_MEMBERSHIPS_OF("organization_id"), 2, {T, TS}},

    // end_user_memberships(user_id, deleted_at)
    {END_MEMBERSHIPS_OF("user_id"), 2, {T, TS}},

    // insert_event(id, endpoint, type, status, error, object_id, event_time, payload)
    {R"SQL(
INSERT INTO orgsync.events (id, endpoint, type, status, error, object_id, event_time, payload)
VALUES ($1, $2, $3, $4::orgsync.delivery_status, $5, $6, $7, $8)
ON CONFLICT (id) DO NOTHING)SQL",
     8, {T, T, T, T, T, T, TS, T}},

    // set_event_status(id, status, error)
    {"UPDATE orgsync.events SET status = $2::orgsync.delivery_status, error = $3 WHERE id = $1", 3, {T, T, T}},

    // load_keys(endpoint)
    {"SELECT key FROM orgsync.secrets WHERE endpoint = $1", 1, {T}},

    // load_event(id)
    {"SELECT payload, event_time, status::text FROM orgsync.events WHERE id = $1 FOR UPDATE", 1, {T}},
};

constexpr int kQueryCount = sizeof(kQueries) / sizeof(kQueries[0]);
static_assert(kQueryCount == int(Query::load_event) + 1, "one definition per query");

SPIPlanPtr prepared[kQueryCount];

SPIPlanPtr plan_for(int query) {
  if (prepared[query] == nullptr) {
    const QueryDefinition& definition = kQueries[query];
    SPIPlanPtr plan = SPI_prepare(definition.sql, definition.nargs, const_cast<Oid*>(definition.argtypes));
    if (plan == nullptr) elog(ERROR, "orgsync: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) != 0) elog(ERROR, "orgsync: SPI_keepplan failed");
    prepared[query] = plan;
  }
  return prepared[query];
}

Oid type_oid(core::Param::Type type) {
  switch (type) {
    case core::Param::Type::text: return TEXTOID;
    case core::Param::Type::int64: return INT8OID;
    case core::Param::Type::timestamp_ms: return TIMESTAMPTZOID;
    case core::Param::Type::json: return JSONBOID;
  }
  return InvalidOid;
}

}  // namespace

void bind(const core::Statement& statement, BoundStatement& bound) {
  const QueryDefinition& definition = kQueries[int(statement.kind)];
  if (int(statement.params.size()) != definition.nargs) {
    throw std::logic_error("planned statement has the wrong number of parameters");
  }
  bound.query = int(statement.kind);
  bound.nargs = definition.nargs;
  for (int i = 0; i < definition.nargs; ++i) {
    const core::Param& param = statement.params[i];
    if (type_oid(param.type) != definition.argtypes[i]) {
      throw std::logic_error("planned statement has a parameter of the wrong type");
    }
    bound.nulls[i] = param.is_null ? 'n' : ' ';
    bound.values[i] = 0;
    if (param.is_null) continue;
    switch (param.type) {
      case core::Param::Type::text:
        bound.values[i] = PointerGetDatum(varlena_or_throw(param.text));
        break;
      case core::Param::Type::json:
        // Parsed into jsonb by execute(): that can raise, so not here.
        bound.values[i] = CStringGetDatum(cstring_or_throw(param.text));
        break;
      case core::Param::Type::int64:
        bound.values[i] = Int64GetDatum(param.number);
        break;
      case core::Param::Type::timestamp_ms:
        bound.values[i] = TimestampTzGetDatum(timestamp_from_unix_ms(param.number));
        break;
    }
  }
}

uint64 execute(const BoundStatement& bound) {
  const QueryDefinition& definition = kQueries[bound.query];
  Datum values[kMaxParams];
  for (int i = 0; i < bound.nargs; ++i) {
    bool json_text = definition.argtypes[i] == JSONBOID && bound.nulls[i] != 'n';
    values[i] = json_text ? DirectFunctionCall1(jsonb_in, bound.values[i]) : bound.values[i];
  }
  // SPI leaves its procedure context current; the caller's (a per-delivery
  // context, say) must stay current for what it allocates next.
  MemoryContext caller = CurrentMemoryContext;
  int rc = SPI_execute_plan(plan_for(bound.query), values, bound.nulls, false, 0);
  MemoryContextSwitchTo(caller);
  if (rc < 0) elog(ERROR, "orgsync: statement failed: %s", SPI_result_code_string(rc));
  return SPI_processed;
}

}  // namespace orgsync::pg
