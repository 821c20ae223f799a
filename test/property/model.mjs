// The model: the tables orgsync must end with once every event of a history
// has been delivered, whatever the order and the duplicates.
//
// It is computed the simplest way there is: fold the events once, in Clerk's
// order, each one replacing what it describes (rules 1 and 2 hold trivially in
// that order), then apply the two rules that are not about order:
//   - deletion is final, at the earliest deletion time, and an org's or user's
//     deletion ends its memberships (rule 3);
//   - an org or user known only from memberships is a placeholder built from
//     the newest snapshot; a full event replaces it for good (rule 4).
// The self-check (selfcheck.test.mjs) cross-checks this against the
// generator's own record of Clerk's state.

import { normTs } from './generator.mjs';

export const DONTCARE = Symbol('dontcare');
export const TABLES = ['organizations', 'users', 'memberships', 'invitations'];

const minTs = (a, b) => (a == null ? b : b == null ? a : Math.min(a, b));

// A "mirror": per object, which version it shows and when it was deleted.
//   orgs/users: id -> { source: 'event'|'membership'|'deletion', data, deletedAt }
//   mems: id -> { data, deletedAt }   invs: id -> { data }
export function clerkOrderMirror(events) {
  const orgs = new Map(), users = new Map(), mems = new Map(), invs = new Map();
  const remember = (map, id) => {
    if (!map.has(id)) map.set(id, { source: 'deletion', data: null, deletedAt: null });
    return map.get(id);
  };
  for (const ev of events) {
    const d = ev.payload.data;
    const ts = normTs(ev.payload.timestamp);
    switch (ev.type) {
      case 'organization.created':
      case 'organization.updated': {
        const r = remember(orgs, d.id);
        r.source = 'event'; r.data = d;
        break;
      }
      case 'user.created':
      case 'user.updated': {
        const r = remember(users, d.id);
        r.source = 'event'; r.data = d;
        break;
      }
      case 'organization.deleted': {
        const r = remember(orgs, d.id);
        r.deletedAt = minTs(r.deletedAt, ts);
        break;
      }
      case 'user.deleted': {
        const r = remember(users, d.id);
        r.deletedAt = minTs(r.deletedAt, ts);
        break;
      }
      case 'organizationMembership.created':
      case 'organizationMembership.updated':
      case 'organizationMembership.deleted': {
        const prev = mems.get(d.id);
        mems.set(d.id, {
          data: d,
          deletedAt: ev.type.endsWith('.deleted') ? minTs(prev?.deletedAt, ts) : prev?.deletedAt ?? null,
        });
        const o = remember(orgs, d.organization.id);
        if (o.source !== 'event') { o.source = 'membership'; o.data = d.organization; }
        const u = remember(users, d.public_user_data.user_id);
        if (u.source !== 'event') { u.source = 'membership'; u.data = d.public_user_data; }
        break;
      }
      case 'organizationInvitation.created':
      case 'organizationInvitation.accepted':
      case 'organizationInvitation.revoked':
        invs.set(d.id, { data: d });
        break;
      default:
        break; // session.* and the like: ignored
    }
  }
  // rule 3: an org's or user's deletion ends all its memberships, at the
  // earliest applicable deletion time
  for (const m of mems.values()) {
    m.deletedAt = minTs(m.deletedAt, orgs.get(m.data.organization.id).deletedAt);
    m.deletedAt = minTs(m.deletedAt, users.get(m.data.public_user_data.user_id).deletedAt);
  }
  return { orgs, users, mems, invs };
}

const ms = (v) => (v == null ? null : v);

export function primaryEmailOf(u) {
  const id = u.primary_email_address_id;
  if (id == null || !Array.isArray(u.email_addresses)) return null;
  const e = u.email_addresses.find((x) => x && x.id === id);
  return e ? e.email_address : null;
}

// The rows (only the compared columns) a mirror stands for.
export function rowsFromMirror(mirror) {
  const organizations = new Map(), users = new Map(), memberships = new Map(), invitations = new Map();
  for (const [id, r] of mirror.orgs) {
    const d = r.data;
    if (r.source === 'event') {
      organizations.set(id, {
        id, source: 'event', name: d.name, slug: d.slug, image_url: d.image_url, created_by: d.created_by,
        max_allowed_memberships: d.max_allowed_memberships, public_metadata: d.public_metadata,
        created_at: ms(d.created_at), updated_at: ms(d.updated_at), deleted_at: r.deletedAt, data: d,
      });
    } else if (r.source === 'membership') {
      organizations.set(id, {
        id, source: 'membership', name: d.name, slug: d.slug, image_url: DONTCARE, created_by: DONTCARE,
        max_allowed_memberships: DONTCARE, public_metadata: DONTCARE,
        created_at: ms(d.created_at), updated_at: ms(d.updated_at), deleted_at: r.deletedAt, data: DONTCARE,
      });
    } else {
      organizations.set(id, {
        id, source: 'deletion', name: null, slug: DONTCARE, image_url: DONTCARE, created_by: DONTCARE,
        max_allowed_memberships: DONTCARE, public_metadata: DONTCARE,
        created_at: null, updated_at: null, deleted_at: r.deletedAt, data: DONTCARE,
      });
    }
  }
  for (const [id, r] of mirror.users) {
    const d = r.data;
    if (r.source === 'event') {
      users.set(id, {
        id, source: 'event', first_name: d.first_name, last_name: d.last_name, primary_email: primaryEmailOf(d),
        username: d.username, image_url: d.image_url, external_id: d.external_id, public_metadata: d.public_metadata,
        created_at: ms(d.created_at), updated_at: ms(d.updated_at), deleted_at: r.deletedAt, data: d,
      });
    } else if (r.source === 'membership') {
      users.set(id, {
        id, source: 'membership', first_name: d.first_name, last_name: d.last_name, primary_email: DONTCARE,
        username: DONTCARE, image_url: DONTCARE, external_id: DONTCARE, public_metadata: DONTCARE,
        created_at: DONTCARE, updated_at: DONTCARE, deleted_at: r.deletedAt, data: DONTCARE,
      });
    } else {
      users.set(id, {
        id, source: 'deletion', first_name: null, last_name: null, primary_email: null,
        username: DONTCARE, image_url: DONTCARE, external_id: DONTCARE, public_metadata: DONTCARE,
        created_at: null, updated_at: null, deleted_at: r.deletedAt, data: DONTCARE,
      });
    }
  }
  for (const [id, r] of mirror.mems) {
    const d = r.data;
    memberships.set(id, {
      id, organization_id: d.organization.id, user_id: d.public_user_data.user_id, role: d.role, permissions: d.permissions,
      created_at: ms(d.created_at), updated_at: ms(d.updated_at), deleted_at: r.deletedAt ?? null,
    });
  }
  for (const [id, r] of mirror.invs) {
    const d = r.data;
    invitations.set(id, {
      id, organization_id: d.organization_id, email_address: d.email_address, role: d.role, status: d.status,
      created_at: ms(d.created_at), updated_at: ms(d.updated_at), expires_at: ms(d.expires_at),
    });
  }
  return { organizations, users, memberships, invitations };
}

export function expectedTables(events) {
  return rowsFromMirror(clerkOrderMirror(events));
}

// ---- comparison --------------------------------------------------------------

function canonical(v) {
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
}
export const sameValue = (a, b) => canonical(a) === canonical(b);

function show(v, col) {
  if (v === DONTCARE) return '(any)';
  if (v == null) return 'NULL';
  if (/_at$/.test(col) && typeof v === 'number') return `${v} (${new Date(v).toISOString()})`;
  const s = typeof v === 'string' ? JSON.stringify(v) : canonical(v);
  return s.length > 160 ? s.slice(0, 157) + '...' : s;
}

// Differences between expected and actual tables, one readable line each.
export function diffTables(expected, actual) {
  const out = [];
  for (const t of TABLES) {
    const exp = expected[t], act = actual[t];
    for (const [id, e] of exp) {
      const a = act.get(id);
      if (!a) { out.push(`${t} ${id}: missing (expected ${describe(e)})`); continue; }
      for (const col of Object.keys(e)) {
        if (e[col] === DONTCARE) continue;
        if (!sameValue(e[col], a[col])) {
          if (col === 'data') out.push(`${t} ${id}.data: expected ${dataDiff(e[col], a[col])}`);
          else out.push(`${t} ${id}.${col}: expected ${show(e[col], col)}, actual ${show(a[col], col)}`);
        }
      }
    }
    for (const [id, a] of act) if (!exp.has(id)) out.push(`${t} ${id}: unexpected row ${describe(a)}`);
  }
  return out;
}

function describe(r) {
  const keys = ['source', 'name', 'first_name', 'last_name', 'organization_id', 'user_id', 'role', 'status', 'deleted_at'];
  return '{' + keys.filter((k) => k in r).map((k) => `${k}: ${show(r[k], k)}`).join(', ') + '}';
}

function dataDiff(e, a) {
  if (a == null || typeof a !== 'object') return `the version with updated_at ${e?.updated_at}, actual ${show(a, 'data')}`;
  const keys = new Set([...Object.keys(e), ...Object.keys(a)]);
  const diffs = [...keys].filter((k) => !sameValue(e[k], a[k])).map((k) => `${k}: ${show(e[k], k)} vs ${show(a[k], k)}`);
  return `the version with updated_at ${e.updated_at}; differs in ${diffs.slice(0, 4).join('; ')}`;
}
