// A JavaScript merge that takes deliveries in any order, for the self-check:
//   - mode 'correct' implements the merge rules and must converge to the model
//     for every order (so the model is something a merge can reach);
//   - the other modes are deliberately broken merges (mutants); each must
//     diverge from the model on some generated histories, which shows the
//     generated histories and the comparison can catch that bug.
// Its output has the model's mirror shape, so rowsFromMirror applies.

import { normTs } from './generator.mjs';

export const MUTANTS = [
  'lww',                 // last arrival wins, updated_at ignored
  'resurrect',           // a late created/updated clears deleted_at
  'snapshot-overwrites', // a membership's org/user snapshot competes with full events
  'no-late-cascade',     // an org/user deletion ends only memberships already there
  'first-deletion',      // deleted_at is the first deletion to arrive, not the earliest
  'freeze-deleted',      // once deleted, later-arriving versions are dropped
];

function cmpKey(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

function digest(obj) {
  const s = JSON.stringify(obj);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return h >>> 0;
}

export function mergeDeliveries(deliveries, mode = 'correct') {
  const orgs = new Map(), users = new Map(), mems = new Map(), invs = new Map();
  const seen = new Set();
  const statuses = [];
  const row = (map, id) => {
    if (!map.has(id)) map.set(id, { key: [], source: 'deletion', data: null, deletedAt: null });
    return map.get(id);
  };
  const earliest = (cur, ts) => {
    if (mode === 'first-deletion') return cur ?? ts;
    return cur == null ? ts : Math.min(cur, ts);
  };
  const newer = (k, cur) => {
    if (mode === 'lww') return true;
    return cmpKey(k, cur) > 0;
  };
  const offer = (r, k, data, source) => {
    if (mode === 'freeze-deleted' && r.deletedAt != null) return false;
    if (mode === 'lww' && source === 'membership' && r.source === 'event') return false;
    if (!newer(k, r.key)) return false;
    r.key = k; r.data = data; r.source = source;
    return true;
  };
  // deletion times seen so far, for 'no-late-cascade'
  const cascade = (kind, id, ts) => {
    for (const m of mems.values()) {
      const d = m.data;
      if ((kind === 'org' ? d.organization.id : d.public_user_data.user_id) === id) m.deletedAt = earliest(m.deletedAt, ts);
    }
  };

  for (const dl of deliveries) {
    if (seen.has(dl.msgId)) { statuses.push('duplicate'); continue; }
    seen.add(dl.msgId);
    const p = JSON.parse(dl.body);
    const d = p.data;
    const ts = normTs(p.timestamp);
    let status = 'applied';
    switch (p.type) {
      case 'organization.created':
      case 'organization.updated': {
        const r = row(orgs, d.id);
        if (!offer(r, [1, d.updated_at, ts, digest(d)], d, 'event')) status = 'stale';
        if (mode === 'resurrect') r.deletedAt = null;
        break;
      }
      case 'user.created':
      case 'user.updated': {
        const r = row(users, d.id);
        if (!offer(r, [1, d.updated_at, ts, digest(d)], d, 'event')) status = 'stale';
        if (mode === 'resurrect') r.deletedAt = null;
        break;
      }
      case 'organization.deleted': {
        const r = row(orgs, d.id);
        r.deletedAt = earliest(r.deletedAt, ts);
        if (mode === 'no-late-cascade') cascade('org', d.id, ts);
        break;
      }
      case 'user.deleted': {
        const r = row(users, d.id);
        r.deletedAt = earliest(r.deletedAt, ts);
        if (mode === 'no-late-cascade') cascade('user', d.id, ts);
        break;
      }
      case 'organizationMembership.created':
      case 'organizationMembership.updated':
      case 'organizationMembership.deleted': {
        if (!mems.has(d.id)) mems.set(d.id, { key: [], data: null, deletedAt: null });
        const m = mems.get(d.id);
        if (!offer(m, [1, d.updated_at, ts, digest(d)], d, 'event')) status = 'stale';
        if (p.type.endsWith('.deleted')) m.deletedAt = earliest(m.deletedAt, ts);
        else if (mode === 'resurrect') m.deletedAt = null;
        const rank = mode === 'snapshot-overwrites' ? 1 : 0;
        const o = row(orgs, d.organization.id);
        offer(o, [rank, d.organization.updated_at, ts, digest(d.organization)], d.organization, 'membership');
        // public_user_data has no updated_at: it is the user as of the event
        const u = row(users, d.public_user_data.user_id);
        offer(u, [rank, ts ?? d.updated_at, ts, digest(d.public_user_data)], d.public_user_data, 'membership');
        break;
      }
      case 'organizationInvitation.created':
      case 'organizationInvitation.accepted':
      case 'organizationInvitation.revoked': {
        if (!invs.has(d.id)) invs.set(d.id, { key: [], data: null });
        if (!offer(invs.get(d.id), [d.updated_at, ts, digest(d)], d, 'event')) status = 'stale';
        break;
      }
      default:
        status = 'ignored';
    }
    statuses.push(status);
  }

  // Memberships end with their org or user (the DB does this eagerly, at each
  // deletion and at each membership's arrival; the result is the same).
  if (mode !== 'no-late-cascade') {
    for (const m of mems.values()) {
      m.deletedAt = earliest(m.deletedAt, orgs.get(m.data.organization.id)?.deletedAt ?? Infinity);
      m.deletedAt = earliest(m.deletedAt, users.get(m.data.public_user_data.user_id)?.deletedAt ?? Infinity);
      if (m.deletedAt === Infinity) m.deletedAt = null;
    }
  }
  return { mirror: { orgs, users, mems, invs }, statuses };
}
