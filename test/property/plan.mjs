// What one event tells about each mirror row, as src/core/objects.cpp reads
// it: versions of rows (upserts), deletions (tombstones) and the rows a
// deletion ends with it. The model (a set of copies per row) and the
// reference merge (arrival order) both start from these; they differ in how
// they merge them. Also the columns a row's data stands for.

import { normTs } from './generator.mjs';

export const TABLES = ['organizations', 'users', 'memberships', 'invitations', 'domains', 'roles', 'permissions'];

const KIND_OF = {
  organization: 'organizations', user: 'users', organizationMembership: 'memberships',
  organizationInvitation: 'invitations', organizationDomain: 'domains', role: 'roles', permission: 'permissions',
};

// The parents whose deletion ends a row: [its column, the parent table].
export const PARENTS = {
  memberships: [['organization_id', 'organizations'], ['user_id', 'users']],
  invitations: [['organization_id', 'organizations']],
  domains: [['organization_id', 'organizations']],
};

const FINAL_INVITATION = new Set(['accepted', 'revoked', 'expired']);
const updatedAtOrCreated = (o) => o.updated_at ?? o.created_at ?? 0;
const without = (o, key) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

// -> null (not modeled: ignored) or [write], in the order orgsync makes them:
//   { op: 'upsert', table, id, source, rank, updatedAt, evt, data }   data null: a bare placeholder
//   { op: 'tombstone', table, id, at, createMissing, organizationId }
//   { op: 'endChildren', table, column, parentId, at }
export function planEvent(payload) {
  const [prefix, action] = payload.type.split('.');
  const table = KIND_OF[prefix];
  if (!table || !['created', 'updated', 'deleted', 'accepted', 'revoked'].includes(action)) return null;
  const d = payload.data;
  const evt = normTs(payload.timestamp);
  const version = (source, rank, updatedAt, data) => ({ op: 'upsert', source, rank, updatedAt, evt, data });
  const upsert = (t, id, source, rank, data) => ({ ...version(source, rank, updatedAtOrCreated(data), data), table: t, id });
  // an organization known only from what a child carries: below every other version
  const placeholder = (id, data) => ({ ...version('snapshot', 0, 0, data ?? null), table: 'organizations', id });
  const membership = (m) => [
    upsert('organizations', m.organization.id, 'snapshot', 0, m.organization),
    // the member as of the event: ordered by the event's time
    { ...version('snapshot', 0, evt, m.public_user_data), table: 'users', id: m.public_user_data.user_id },
    upsert('memberships', m.id, 'event', 1, m),
  ];

  if (action === 'deleted') {
    if (table === 'memberships') {
      if ('public_user_data' in d && d.public_user_data !== null) {
        return [...membership(d), { op: 'tombstone', table, id: d.id, at: evt, createMissing: false }];
      }
      return [upsert('organizations', d.organization.id, 'snapshot', 0, d.organization),
        { op: 'tombstone', table, id: d.id, at: evt, createMissing: true, organizationId: d.organization.id }];
    }
    const writes = [{ op: 'tombstone', table, id: d.id, at: evt, createMissing: true }];
    if (table === 'organizations') {
      for (const t of ['memberships', 'invitations', 'domains']) writes.push({ op: 'endChildren', table: t, column: 'organization_id', parentId: d.id, at: evt });
    } else if (table === 'users') {
      writes.push({ op: 'endChildren', table: 'memberships', column: 'user_id', parentId: d.id, at: evt });
    }
    return writes;
  }
  switch (table) {
    case 'memberships': return membership(d);
    case 'invitations':
      // the url (it carries the acceptance token) stays out of the mirror
      return [placeholder(d.organization_id, null),
        upsert(table, d.id, 'event', FINAL_INVITATION.has(d.status) ? 2 : 1, without(d, 'url'))];
    case 'domains':
      return [placeholder(d.organization_id, d.public_organization_data), upsert(table, d.id, 'event', 1, d)];
    default: return [upsert(table, d.id, 'event', 1, d)];
  }
}

// ---- columns ------------------------------------------------------------------

const v = (x) => (x === undefined ? null : x);

function primaryOf(user, primaryKey, list, valueKey) {
  const id = user[primaryKey];
  if (id == null || !Array.isArray(user[list])) return null;
  let found = null;
  for (const item of user[list]) if (item.id === id) found = v(item[valueKey]);
  return found;
}

// The columns (but data, metadata, deleted_at, source, sync_version) that a
// row of `table` holding `data` has; `placeholder`: an organization from a
// domain or an invitation (rank 0, updated_at 0).
export function columnsOf(table, source, data, placeholder = false) {
  const d = data ?? {};
  switch (table) {
    case 'organizations':
      if (placeholder) {
        return { name: v(d.name), slug: v(d.slug), image_url: v(d.image_url), created_by: null, max_allowed_memberships: null, created_at: null, updated_at: null };
      }
      return {
        name: v(d.name), slug: v(d.slug), image_url: v(d.image_url), created_by: v(d.created_by),
        max_allowed_memberships: v(d.max_allowed_memberships), created_at: v(d.created_at), updated_at: v(d.updated_at),
      };
    case 'users': {
      if (source === 'snapshot') {
        // the identifier is the user's email address, phone number or username
        const id = v(d.identifier);
        const email = id != null && id.includes('@');
        const phone = id != null && !email && id.startsWith('+');
        return {
          primary_email: email ? id : null, primary_phone: phone ? id : null,
          username: v(d.username) ?? (id != null && !email && !phone ? id : null),
          first_name: v(d.first_name), last_name: v(d.last_name), image_url: v(d.image_url), external_id: null,
          banned: v(d.banned), locked: null, last_sign_in_at: null, created_at: null, updated_at: null,
        };
      }
      return {
        primary_email: primaryOf(d, 'primary_email_address_id', 'email_addresses', 'email_address'),
        primary_phone: primaryOf(d, 'primary_phone_number_id', 'phone_numbers', 'phone_number'),
        username: v(d.username), first_name: v(d.first_name), last_name: v(d.last_name), image_url: v(d.image_url),
        external_id: v(d.external_id), banned: v(d.banned), locked: v(d.locked), last_sign_in_at: v(d.last_sign_in_at),
        created_at: v(d.created_at), updated_at: v(d.updated_at),
      };
    }
    case 'memberships':
      return {
        organization_id: v(d.organization?.id), user_id: v(d.public_user_data?.user_id), role: v(d.role),
        role_name: v(d.role_name), permissions: v(d.permissions), created_at: v(d.created_at), updated_at: v(d.updated_at),
      };
    case 'invitations':
      return {
        organization_id: v(d.organization_id), email_address: v(d.email_address), role: v(d.role), role_name: v(d.role_name),
        status: v(d.status), inviter_id: v(d.inviter_id), user_id: v(d.user_id), created_at: v(d.created_at),
        updated_at: v(d.updated_at), expires_at: v(d.expires_at),
      };
    case 'domains': {
      const verification = d.affiliation_verification ?? d.verification;
      return {
        organization_id: v(d.organization_id), name: v(d.name), enrollment_mode: v(d.enrollment_mode),
        verification_status: v(verification?.status), affiliation_email_address: v(d.affiliation_email_address),
        total_pending_invitations: v(d.total_pending_invitations), total_pending_suggestions: v(d.total_pending_suggestions),
        created_at: v(d.created_at), updated_at: v(d.updated_at),
      };
    }
    case 'roles':
      return {
        key: v(d.key), name: v(d.name), description: v(d.description), is_creator_eligible: v(d.is_creator_eligible),
        permissions: Array.isArray(d.permissions) ? d.permissions.map((p) => p.key) : null,
        created_at: v(d.created_at), updated_at: v(d.updated_at),
      };
    case 'permissions':
      return {
        key: v(d.key), name: v(d.name), description: v(d.description), type: v(d.type),
        created_at: v(d.created_at), updated_at: v(d.updated_at),
      };
    default: throw new Error(`no table ${table}`);
  }
}

// Every compared column of each table, in the order readTables selects them.
export const COLUMNS = Object.fromEntries(TABLES.map((t) => [t, [
  ...(['organizations', 'users', 'domains', 'roles', 'permissions'].includes(t) ? ['source'] : []),
  ...Object.keys(columnsOf(t, 'event', {})),
  ...(['organizations', 'users', 'memberships', 'invitations'].includes(t) ? ['public_metadata', 'private_metadata'] : []),
  'deleted_at', 'data', 'sync_version',
]]));
export const JSON_COLUMNS = new Set(['data', 'public_metadata', 'private_metadata']);
