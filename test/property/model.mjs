// The model: the tables orgsync must end with once every event of a history
// has been delivered, whatever the order and the duplicates.
//
// It is computed without any order: every event's copies of rows (plan.mjs)
// are gathered as a set, and each row is the newest version among its
// copies (rank, then updated_at), the join of that version's copies where
// there are several (json.mjs join: Clerk sends some objects again with the
// same updated_at and other content), with the latest event time among them;
// deletion is final at the earliest deletion time, and a deleted
// organization or user ends its memberships, invitations and domains whenever
// they arrive. The self-check (selfcheck.test.mjs) cross-checks this against
// the generator's own record of Clerk's state, and against a merge that takes
// the events one at a time in any order (reference.mjs).

import { planEvent, columnsOf, TABLES, PARENTS, COLUMNS, JSON_COLUMNS } from './plan.mjs';
import { canonical, digest, join } from './json.mjs';

export { TABLES };

const minTs = (a, b) => (a == null ? b : b == null ? a : Math.min(a, b));
const cmpVersion = (a, b) => a.rank - b.rank || a.updatedAt - b.updatedAt;

// A "mirror": per table, id -> the merged state of one row:
//   { source, rank, updatedAt, evt, data, deletedAt, organizationId }
//   rank == null: known only by its deletion (sync_version '{}');
//   data == null with a rank: a bare placeholder organization;
//   organizationId: a membership's tombstone's, where nothing else says it.
export function modelMirror(events) {
  const copies = Object.fromEntries(TABLES.map((t) => [t, new Map()]));
  const mirror = Object.fromEntries(TABLES.map((t) => [t, new Map()]));
  const tombstones = [];
  for (const ev of events) {
    for (const w of planEvent(ev.payload) ?? []) {
      if (w.op === 'upsert') {
        if (!copies[w.table].has(w.id)) copies[w.table].set(w.id, []);
        copies[w.table].get(w.id).push(w);
      } else if (w.op === 'tombstone') tombstones.push(w);
      // endChildren: the cascade below does it for every child, whenever it came
    }
  }
  for (const t of TABLES) {
    for (const [id, list] of copies[t]) {
      const newest = list.reduce((a, b) => (cmpVersion(b, a) > 0 ? b : a));
      const same = list.filter((c) => cmpVersion(c, newest) === 0);
      const withData = same.filter((c) => c.data !== null);
      const joined = withData.length ? withData.map((c) => c.data).reduce((a, b) => join(a, b)) : null;
      mirror[t].set(id, {
        source: newest.source, rank: newest.rank, updatedAt: newest.updatedAt,
        evt: Math.max(...(withData.length ? withData : same).map((c) => c.evt)),
        data: joined, deletedAt: null, organizationId: null,
      });
    }
  }
  for (const w of tombstones) {
    let r = mirror[w.table].get(w.id);
    if (!r) {
      if (!w.createMissing) continue;
      r = { source: 'deletion', rank: null, data: null, deletedAt: null, organizationId: w.organizationId ?? null };
      mirror[w.table].set(w.id, r);
    }
    r.deletedAt = minTs(r.deletedAt, w.at);
  }
  // a child ends with its organization (and a membership with its user)
  for (const [t, parents] of Object.entries(PARENTS)) {
    for (const [id, r] of mirror[t]) {
      const cols = rowColumns(t, r);
      for (const [column, parent] of parents) {
        if (cols[column] != null) r.deletedAt = minTs(r.deletedAt, mirror[parent].get(cols[column])?.deletedAt);
      }
    }
  }
  return mirror;
}

function rowColumns(table, r) {
  if (r.rank == null) {
    const cols = columnsOf(table, 'deletion', null);
    if ('organization_id' in cols) cols.organization_id = r.organizationId;
    return cols;
  }
  return columnsOf(table, r.source, r.data, table === 'organizations' && r.rank === 0 && r.updatedAt === 0);
}

const jsonOrNull = (x) => (x == null ? null : canonical(x));

// The rows (every compared column) a mirror stands for. JSON columns hold
// canonical text (readTables gives jsonb's text; the convergence test has
// Postgres read the expected texts as jsonb before comparing).
export function rowsFromMirror(mirror) {
  const out = {};
  for (const t of TABLES) {
    out[t] = new Map();
    for (const [id, r] of mirror[t]) {
      const row = { id, ...(COLUMNS[t].includes('source') ? { source: r.source } : {}), ...rowColumns(t, r) };
      if (COLUMNS[t].includes('public_metadata')) {
        row.public_metadata = jsonOrNull(r.data?.public_metadata);
        row.private_metadata = jsonOrNull(r.data?.private_metadata);
      }
      row.deleted_at = r.deletedAt ?? null;
      row.data = jsonOrNull(r.data);
      if (r.rank == null) row.sync_version = '{}';
      else row.sync_version = `{${r.rank},${r.updatedAt},${r.evt},${r.data == null ? 0 : digest(row.data)}}`;
      out[t].set(id, row);
    }
  }
  return out;
}

export function expectedTables(events) {
  return rowsFromMirror(modelMirror(events));
}

// ---- comparison --------------------------------------------------------------

function canonicalJs(v) {
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(canonicalJs).join(',') + ']';
  return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonicalJs(v[k])).join(',') + '}';
}
// `a` expected (a RegExp: a text it must match), `b` actual
export const sameValue = (a, b) => (a instanceof RegExp
  ? (b instanceof RegExp ? a.source === b.source : typeof b === 'string' && a.test(b))
  : typeof a === 'string' || typeof b === 'string' ? a === b : canonicalJs(a) === canonicalJs(b));

function show(v, col) {
  if (v instanceof RegExp) return `matching ${v.source}`;
  if (v == null) return 'NULL';
  if (/_at$/.test(col) && typeof v === 'number') return `${v} (${new Date(v).toISOString()})`;
  const s = typeof v === 'string' ? (JSON_COLUMNS.has(col) ? v : JSON.stringify(v)) : canonicalJs(v);
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
        if (!sameValue(e[col], a[col])) {
          if (col === 'data') out.push(`${t} ${id}.data: ${dataDiff(e[col], a[col])}`);
          else out.push(`${t} ${id}.${col}: expected ${show(e[col], col)}, actual ${show(a[col], col)}`);
        }
      }
    }
    for (const [id, a] of act) if (!exp.has(id)) out.push(`${t} ${id}: unexpected row ${describe(a)}`);
  }
  return out;
}

function describe(r) {
  const keys = ['source', 'name', 'first_name', 'last_name', 'organization_id', 'user_id', 'role', 'status', 'key', 'deleted_at'];
  return '{' + keys.filter((k) => k in r).map((k) => `${k}: ${show(r[k], k)}`).join(', ') + '}';
}

// JSON texts compared member by member (parsed for display only).
function dataDiff(e, a) {
  let x, y;
  try { x = JSON.parse(e); y = JSON.parse(a); } catch { return `expected ${show(e, 'data')}, actual ${show(a, 'data')}`; }
  if (x == null || y == null || typeof x !== 'object' || typeof y !== 'object') return `expected ${show(e, 'data')}, actual ${show(a, 'data')}`;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  const diffs = [...keys].filter((k) => !sameValue(x[k], y[k])).map((k) => `${k}: ${show(x[k], k)} vs ${show(y[k], k)}`);
  return `expected the version with updated_at ${x.updated_at}; differs in ${diffs.slice(0, 4).join('; ') || '(numbers beyond JavaScript\'s)'}`;
}
