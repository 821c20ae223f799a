// A JavaScript merge that takes deliveries one at a time in any order, as
// src/pg/merge.cpp does, for the self-check:
//   - mode 'correct' implements the merge rules and must converge to the model
//     for every order (so the model is something a merge can reach);
//   - the other modes are deliberately broken merges (mutants); each must
//     diverge from the model on some generated histories, which shows the
//     generated histories and the comparison can catch that bug.
// Its output has the model's mirror shape, so rowsFromMirror applies.

import { planEvent, columnsOf, PARENTS } from './plan.mjs';
import { canonical, digest, join } from './json.mjs';

export const MUTANTS = [
  'lww',                  // last arrival wins, versions ignored
  'resurrect',            // a late created/updated clears deleted_at
  'snapshot-overwrites',  // a membership's org/user snapshot competes with full events
  'no-late-cascade',      // a deletion ends only the children already there
  'first-deletion',       // deleted_at is the first deletion to arrive, not the earliest
  'freeze-deleted',       // once deleted, later-arriving versions are dropped
  'pick-by-digest',       // copies of one version: the greater digest wins, no join
  'no-final-invitation',  // an accepted/revoked invitation ranks as a pending one
  'invitations-outlive',  // invitations and domains do not end with their organization
  'first-event-time',     // copies of one version keep the first event time, not the latest
];

const newRow = () => ({ source: 'deletion', rank: null, updatedAt: null, evt: null, data: null, deletedAt: null, organizationId: null });

export function mergeDeliveries(deliveries, mode = 'correct') {
  const mirror = {};
  const table = (t) => (mirror[t] ??= new Map());
  const seen = new Set();
  const statuses = [];
  const earliest = (cur, at) => (mode === 'first-deletion' ? cur ?? at : cur == null ? at : Math.min(cur, at));
  const parentDeletion = (t, r) => {
    let at = null;
    if (mode === 'invitations-outlive' && t !== 'memberships') return null;
    const cols = columnsOf(t, r.source, r.data);
    for (const [column, parent] of PARENTS[t] ?? []) {
      const p = cols[column] != null ? table(parent).get(cols[column]) : null;
      if (p?.deletedAt != null) at = at == null ? p.deletedAt : Math.min(at, p.deletedAt);
    }
    return at;
  };

  // merge.cpp decide(): what an incoming version does to the stored row
  function upsert(w) {
    const rows = table(w.table);
    const stored = rows.get(w.id);
    const rank = mode === 'no-final-invitation' && w.table === 'invitations' ? 1 : mode === 'snapshot-overwrites' && w.source === 'snapshot' ? 1 : w.rank;
    const incoming = { source: w.source, rank, updatedAt: w.updatedAt, evt: w.evt, data: w.data };
    let next = incoming;
    if (mode === 'freeze-deleted' && stored?.deletedAt != null) return false;
    if (stored && stored.rank != null && mode !== 'lww') {
      const order = stored.rank - rank || stored.updatedAt - w.updatedAt;
      if (order > 0) return false;
      if (order === 0) {
        // a bare placeholder adds nothing to a row with data; among bare
        // copies the latest event time stays
        if (w.data === null && (stored.data !== null || w.evt <= stored.evt)) return false;
        if (w.data !== null && stored.data !== null) {
          const a = canonical(stored.data), b = canonical(w.data);
          if (a === b || mode === 'pick-by-digest') {
            const keepStored = a === b ? w.evt <= stored.evt : BigInt(digest(a)) > BigInt(digest(b));
            if (keepStored) return false;
          } else {
            const joined = join(stored.data, w.data);
            const evt = mode === 'first-event-time' ? stored.evt : Math.max(stored.evt, w.evt);
            if (canonical(joined) === a && evt === stored.evt) return false;
            next = { ...incoming, data: joined, evt };
          }
        }
      }
    } else if (stored && mode === 'lww' && w.source === 'snapshot' && stored.source === 'event') {
      return false;
    }
    const row = { ...(stored ?? newRow()), ...next };
    if (mode === 'resurrect') row.deletedAt = null;
    if (PARENTS[w.table]) {
      const parent = mode === 'no-late-cascade' && !stored ? null : parentDeletion(w.table, row);
      if (parent != null) row.deletedAt = row.deletedAt == null ? parent : Math.min(row.deletedAt, parent);
    }
    rows.set(w.id, row);
    return true;
  }

  function tombstone(w) {
    const rows = table(w.table);
    let r = rows.get(w.id);
    if (!r) {
      if (!w.createMissing) return false;
      r = { ...newRow(), organizationId: w.organizationId ?? null };
      rows.set(w.id, r);
    } else if (r.deletedAt != null && (mode === 'first-deletion' || r.deletedAt <= w.at)) return false;
    r.deletedAt = earliest(r.deletedAt, w.at);
    return true;
  }

  function endChildren(w) {
    if (mode === 'invitations-outlive' && w.table !== 'memberships') return false;
    let changed = false;
    for (const r of table(w.table).values()) {
      const cols = r.rank == null ? { organization_id: r.organizationId } : columnsOf(w.table, r.source, r.data);
      if (cols[w.column] === w.parentId && (r.deletedAt == null || r.deletedAt > w.at)) {
        r.deletedAt = earliest(r.deletedAt, w.at);
        changed = true;
      }
    }
    return changed;
  }

  for (const dl of deliveries) {
    if (seen.has(dl.msgId)) { statuses.push('duplicate'); continue; }
    seen.add(dl.msgId);
    if (dl.invalid) { statuses.push('invalid'); continue; }
    const writes = planEvent(dl.event.payload);
    if (!writes) { statuses.push('ignored'); continue; }
    let changed = false;
    for (const w of writes) {
      if (w.op === 'upsert') changed = upsert(w) || changed;
      else if (w.op === 'tombstone') changed = tombstone(w) || changed;
      else changed = endChildren(w) || changed;
    }
    statuses.push(changed ? 'applied' : 'stale');
  }
  for (const t of ['organizations', 'users', 'memberships', 'invitations', 'domains', 'roles', 'permissions']) table(t);
  return { mirror, statuses };
}
