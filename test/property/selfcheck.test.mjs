// Checks of the property test itself, without Postgres: the generator emits
// well-formed Clerk histories, the model agrees with the generator's record of
// Clerk's state, a correct order-independent merge reaches the model from every
// delivery order, and broken merges do not (so the property test can fail).
//
//   node --test test/property/selfcheck.test.mjs

import test from 'node:test';
import assert from 'node:assert/strict';
import { generateHistory, normTs } from './generator.mjs';
import { expectedTables, rowsFromMirror, diffTables } from './model.mjs';
import { mergeDeliveries, MUTANTS } from './reference.mjs';
import { deliveryOrders } from './orders.mjs';
import { fieldsRead } from './mutations.mjs';
import { subSeed } from './prng.mjs';
import { Raw, canonical, join, stringify } from './json.mjs';

const SEEDS = Array.from({ length: Number(process.env.ORGSYNC_SELFCHECK_HISTORIES || 150) }, (_, i) => subSeed(0x5eed, i));
const histories = SEEDS.map((s) => generateHistory(s));
const MODELED = ['organization', 'user', 'membership', 'invitation', 'domain', 'role', 'permission'];

test('json: canonical text, join and the numbers JavaScript cannot hold', () => {
  const v = { b: [1, new Raw('1e3'), new Raw('-0'), new Raw('10e-1'), 'x'], a: { 'é': null, z: true }, q: '"\\\n' };
  // numbers as Postgres's numeric writes them
  assert.equal(canonical(v), '{"a":{"z":true,"é":null},"b":[1,1000,0,1.0,"x"],"q":"\\"\\\\\\n"}');
  assert.equal(canonical(new Raw('1e999')), '1' + '0'.repeat(999));
  assert.equal(stringify({ n: new Raw('123456789012345678901234567890') }, 2), '{\n  "n": 123456789012345678901234567890\n}');
  // member by member; otherwise the greater: null < false < true < numbers < strings < arrays < objects
  assert.deepEqual(join({ a: 1, b: null, c: 'x' }, { a: 2, b: false, d: [] }), { a: 2, b: false, c: 'x', d: [] });
  assert.equal(join('a', []).length, 0);
  assert.equal(join(new Raw('1e999'), 5).text, '1e999');
  assert.equal(join('é', 'z'), 'é'); // bytewise UTF-8
  assert.equal(join('🚀', 'ｱ'), '🚀'); // not UTF-16 order
});

test('generator: Clerk-shaped events, increasing clock and versions', () => {
  const types = new Set();
  for (const h of histories) {
    let prevTs = -Infinity;
    const last = new Map(); // id -> [updated_at, canonical data]
    const msgIds = new Set();
    for (const e of h.events) {
      types.add(e.type);
      assert.ok(e.ts > prevTs, `seed ${h.seed}: clock must strictly increase at #${e.index}`);
      prevTs = e.ts;
      assert.ok(!msgIds.has(e.msgId));
      msgIds.add(e.msgId);
      assert.equal(e.body, stringify(e.payload, e.body.includes('\n') ? 2 : 0));
      const p = JSON.parse(e.body); // numbers beyond JavaScript's aside, the same payload
      assert.equal(p.object, 'event');
      assert.equal(p.type, e.type);
      assert.equal(normTs(p.timestamp) <= e.ts && normTs(p.timestamp) > e.ts - 1000, true);
      const d = e.payload.data;
      assert.equal(d.id, e.objectId);
      if (e.type.endsWith('.deleted') && e.kind !== 'membership') {
        assert.deepEqual(Object.keys(d).filter((k) => !['object', 'id', 'deleted', 'slug', 'external_id'].includes(k)), []);
        assert.equal(d.deleted, true);
        continue;
      }
      if (e.kind === 'session') continue;
      assert.ok(Number.isInteger(d.created_at) && Number.isInteger(d.updated_at) && d.updated_at <= e.ts);
      const prev = last.get(d.id);
      // updated_at never goes back; a copy with the same one differs only where Clerk lets it
      assert.ok(prev === undefined || d.updated_at >= prev[0], `seed ${h.seed} #${e.index}: updated_at must not decrease`);
      if (prev && d.updated_at === prev[0]) {
        const same = e.type === 'organizationMembership.deleted' || e.type === 'user.updated' ||
          /organizationInvitation\.(accepted|revoked)/.test(e.type);
        assert.ok(same, `seed ${h.seed} #${e.index}: ${e.type} with the previous updated_at`);
      } else if (prev) {
        assert.notEqual(e.type, 'organizationMembership.deleted', `seed ${h.seed} #${e.index}: a deletion carries the last update's updated_at`);
      }
      if (e.type !== 'organizationMembership.deleted') last.set(d.id, [d.updated_at]);
      if (e.kind === 'membership') {
        assert.equal(d.object, 'organization_membership');
        assert.ok(d.organization && d.organization.id && Number.isInteger(d.organization.updated_at));
        // the snapshot is the org's current version
        const orgUpd = last.get(d.organization.id);
        if (orgUpd !== undefined) assert.equal(d.organization.updated_at, orgUpd[0]);
      }
    }
  }
  for (const t of ['organization.created', 'organization.updated', 'organization.deleted', 'user.created', 'user.updated',
    'user.deleted', 'organizationMembership.created', 'organizationMembership.updated', 'organizationMembership.deleted',
    'organizationInvitation.created', 'organizationInvitation.accepted', 'organizationInvitation.revoked',
    'organizationDomain.created', 'organizationDomain.updated', 'organizationDomain.deleted', 'role.created',
    'role.updated', 'role.deleted', 'permission.created', 'permission.updated', 'permission.deleted', 'session.created']) {
    assert.ok(types.has(t), `no ${t} generated`);
  }
});

// What the histories must exercise, each on at least 5% of them.
const CASES = {
  reinvited: (h) => {
    const pairs = new Set();
    return [...h.truth.mems.values()].some((m) => pairs.size === pairs.add(m.orgId + '/' + m.userId).size);
  },
  placeholderFromMembership: (h, exp) => [...exp.organizations.values(), ...exp.users.values()].some((r) => r.source === 'snapshot' && r.updated_at != null),
  placeholderFromDomain: (h, exp) => [...exp.organizations.values()].some((r) => r.source === 'snapshot' && r.updated_at == null && r.data != null),
  barePlaceholder: (h, exp) => [...exp.organizations.values()].some((r) => r.source === 'snapshot' && r.data == null),
  placeholderUserByPhoneOrUsername: (h, exp) => [...exp.users.values()].some((r) => r.source === 'snapshot' && r.primary_email == null),
  deletionOnly: (h, exp) => [...exp.organizations.values(), ...exp.users.values(), ...exp.domains.values()].some((r) => r.source === 'deletion'),
  // memberships, invitations, domains ended by their org's/user's deletion without an event of their own
  lateCascade: (h, exp) => {
    const own = new Set(h.events.filter((e) => e.type.endsWith('.deleted')).map((e) => e.objectId));
    return [...exp.memberships.values()].some((m) => m.deleted_at != null && !own.has(m.id));
  },
  invitationEndedWithOrg: (h, exp) => [...exp.invitations.values()].some((i) => i.deleted_at != null),
  domainEndedWithOrg: (h, exp) => {
    const own = new Set(h.events.filter((e) => e.type === 'organizationDomain.deleted').map((e) => e.objectId));
    return [...exp.domains.values()].some((d) => d.deleted_at != null && !own.has(d.id));
  },
  membershipEndedById: (h) => h.events.some((e) => e.type === 'organizationMembership.deleted' && !e.payload.data.public_user_data),
  memberUnknown: (h, exp) => [...exp.memberships.values()].some((m) => m.user_id == null),
  finalInvitationSameUpdatedAt: (h) => {
    const created = new Map(h.events.filter((e) => e.type === 'organizationInvitation.created').map((e) => [e.objectId, e.payload.data.updated_at]));
    return h.events.some((e) => /accepted|revoked/.test(e.type) && created.get(e.objectId) === e.payload.data.updated_at);
  },
  joinedUser: (h) => sameUpdatedAtCopies(h, 'user.updated'),
  joinedMembership: (h) => sameUpdatedAtCopies(h, 'organizationMembership.deleted'),
  primaryEmailNotFirst: (h, exp) => [...exp.users.values()].some((u) => u.source === 'event' && JSON.parse(u.data).email_addresses.length > 1 &&
    JSON.parse(u.data).email_addresses[0].id !== JSON.parse(u.data).primary_email_address_id),
  primaryPhone: (h, exp) => [...exp.users.values()].some((u) => u.source === 'event' && u.primary_phone != null),
  bannedOrLocked: (h, exp) => [...exp.users.values()].some((u) => u.banned || u.locked),
  hugeNumbers: (h) => h.events.some((e) => /e999|\d{25}/.test(e.body)),
  deepNesting: (h) => h.events.some((e) => e.body.includes('[{"a":'.repeat(100))),
  rolePermissionsChanged: (h) => {
    const keys = new Map();
    return h.events.filter((e) => /^role\.(created|updated)$/.test(e.type)).some((e) => {
      const now = e.payload.data.permissions.map((p) => p.key).join();
      const changed = e.type === 'role.updated' && keys.has(e.objectId) && keys.get(e.objectId) !== now;
      keys.set(e.objectId, now);
      return changed;
    });
  },
  domainVerified: (h, exp) => [...exp.domains.values()].some((d) => d.verification_status === 'verified'),
  secondsTimestamp: (h) => h.events.some((e) => e.tsField !== e.ts),
};
function sameUpdatedAtCopies(h, type) {
  const upd = new Map();
  let found = false;
  for (const e of h.events) {
    const d = e.payload.data;
    if (e.type === type && upd.get(d.id) === d.updated_at) found = true;
    if (d.updated_at !== undefined) upd.set(d.id, d.updated_at);
  }
  return found;
}

test('generator: histories exercise the interesting cases', () => {
  const n = histories.length;
  const hits = Object.fromEntries(Object.keys(CASES).map((k) => [k, 0]));
  for (const h of histories) {
    const exp = expectedTables(h.events);
    for (const [name, seen] of Object.entries(CASES)) if (seen(h, exp)) hits[name]++;
  }
  console.log(`# of ${n} histories, how many have: ${JSON.stringify(hits)}`);
  for (const [what, k] of Object.entries(hits)) assert.ok(k >= n * 0.05, `too few histories where ${what}: ${k}/${n}`);
});

test('mutations: one field orgsync reads, a wrong JSON type, every kind of object', () => {
  const kinds = {}, deletions = {};
  for (const h of histories) {
    const eventIds = new Set(h.events.map((e) => e.msgId));
    for (const m of h.invalid) {
      assert.ok(!eventIds.has(m.msgId), 'a new delivery id');
      const ev = h.events[m.of];
      assert.equal(m.objectId, ev.objectId);
      assert.ok(fieldsRead(ev).some(([path]) => path.join('.') === m.field), `${m.field} is read`);
      assert.notEqual(m.body, ev.body);
      kinds[m.kind] = (kinds[m.kind] || 0) + 1;
      if (m.type.endsWith('.deleted')) deletions[m.kind] = (deletions[m.kind] || 0) + 1;
    }
    for (const kind of MODELED) {
      if (h.events.some((e) => e.kind === kind)) assert.ok(h.invalid.some((m) => m.kind === kind), `seed ${h.seed}: no mutated ${kind}`);
    }
  }
  console.log(`# mutated deliveries by kind ${JSON.stringify(kinds)}, of deletions ${JSON.stringify(deletions)}`);
  // invitations have no deletion event
  for (const kind of MODELED.filter((k) => k !== 'invitation')) assert.ok(deletions[kind] > 0, `no mutated ${kind} deletion`);
});

test('model agrees with the generator\'s record of Clerk\'s state', () => {
  const at = (x) => x.deletedAt ?? null;
  for (const h of histories) {
    const exp = expectedTables(h.events);
    const { orgs, users, mems, invs, domains, roles, perms, primaryEmail, primaryPhone } = h.truth;
    const where = (t, id) => `seed ${h.seed} ${t} ${id}`;
    for (const [id, r] of exp.organizations) {
      const o = orgs.get(id);
      assert.ok(o, `${where('org', id)} unknown`);
      assert.equal(r.deleted_at, at(o), `${where('org', id)} deleted_at`);
      if (r.source === 'event' || (r.source === 'snapshot' && r.updated_at != null)) {
        assert.equal(r.name, o.name, `${where('org', id)} name`);
        assert.equal(r.slug, o.slug);
        assert.equal(r.updated_at, o.updated_at);
      }
      if (!o.preexisting) assert.equal(r.source, 'event');
    }
    for (const o of orgs.values()) if (!o.preexisting) assert.ok(exp.organizations.has(o.id));
    for (const [id, r] of exp.users) {
      const u = users.get(id);
      assert.ok(u, `${where('user', id)} unknown`);
      assert.equal(r.deleted_at, at(u), `${where('user', id)} deleted_at`);
      if (r.source !== 'deletion') {
        assert.equal(r.first_name, u.first_name, `${where('user', id)} first_name`);
        assert.equal(r.last_name, u.last_name);
      }
      if (r.source === 'event') {
        assert.equal(r.primary_email, primaryEmail(u), `${where('user', id)} primary_email`);
        assert.equal(r.primary_phone, primaryPhone(u), `${where('user', id)} primary_phone`);
        for (const c of ['username', 'banned', 'locked', 'last_sign_in_at', 'updated_at']) assert.equal(r[c], u[c], `${where('user', id)} ${c}`);
      }
      if (!u.preexisting) assert.equal(r.source, 'event');
    }
    for (const [id, r] of exp.memberships) {
      const m = mems.get(id);
      assert.ok(m, `${where('membership', id)} unknown`);
      assert.equal(r.organization_id, m.orgId);
      assert.equal(r.deleted_at, at(m), `${where('membership', id)} deleted_at`);
      if (r.user_id == null) continue; // known only by a deletion without the member
      assert.equal(r.user_id, m.userId);
      assert.equal(r.role, m.role, `${where('membership', id)} role`);
    }
    for (const m of mems.values()) if (!h.truth.orgs.get(m.orgId).preexisting) assert.ok(exp.memberships.has(m.id));
    assert.equal(exp.invitations.size, invs.size);
    for (const [id, r] of exp.invitations) {
      assert.equal(r.status, invs.get(id).status, `${where('invitation', id)} status`);
      assert.equal(r.deleted_at, at(invs.get(id)), `${where('invitation', id)} deleted_at`);
    }
    for (const [id, r] of exp.domains) {
      const d = domains.get(id);
      assert.equal(r.deleted_at, at(d), `${where('domain', id)} deleted_at`);
      if (r.source === 'deletion') continue;
      assert.equal(r.enrollment_mode, d.enrollment_mode, `${where('domain', id)} enrollment_mode`);
      assert.equal(r.verification_status, d.verification?.status ?? null, `${where('domain', id)} verification_status`);
    }
    for (const [id, r] of exp.roles) {
      const x = roles.get(id);
      assert.equal(r.deleted_at, at(x), `${where('role', id)} deleted_at`);
      if (r.source !== 'deletion') assert.deepEqual(r.permissions, x.permissionIds.map((p) => perms.get(p).key), `${where('role', id)} permissions`);
    }
    for (const [id, r] of exp.permissions) {
      assert.equal(r.deleted_at, at(perms.get(id)), `${where('permission', id)} deleted_at`);
      if (r.source !== 'deletion') assert.equal(r.name, perms.get(id).name);
    }
  }
});

test('a correct merge reaches the model from every delivery order', () => {
  let runs = 0, dups = 0;
  for (const h of histories.slice(0, 60)) {
    const exp = expectedTables(h.events);
    for (const order of deliveryOrders(h, 8)) {
      const { mirror, statuses } = mergeDeliveries(order.deliveries, 'correct');
      const diff = diffTables(exp, rowsFromMirror(mirror));
      assert.deepEqual(diff, [], `seed ${h.seed} order ${order.name}`);
      order.deliveries.forEach((d, i) => {
        assert.equal(statuses[i] === 'duplicate', d.repeat);
        if (!d.repeat) assert.equal(statuses[i] === 'invalid', Boolean(d.invalid));
        if (order.name === 'clerk' && !d.invalid && d.event.kind !== 'session') assert.equal(statuses[i], 'applied', `seed ${h.seed} clerk#${d.event.index}`);
      });
      dups += order.deliveries.filter((d) => d.repeat).length;
      runs++;
    }
  }
  assert.ok(dups > runs); // orders do carry duplicates
});

test('broken merges are caught (the property can fail)', () => {
  const rates = {};
  for (const mutant of MUTANTS) {
    let caught = 0, total = 0;
    for (const h of histories.slice(0, 60)) {
      const exp = expectedTables(h.events);
      let hit = false;
      for (const order of deliveryOrders(h, 5)) {
        const diff = diffTables(exp, rowsFromMirror(mergeDeliveries(order.deliveries, mutant).mirror));
        if (diff.length) { hit = true; break; }
      }
      total++;
      if (hit) caught++;
    }
    rates[mutant] = `${caught}/${total}`;
    assert.ok(caught > 0, `mutant ${mutant} never caught`);
  }
  console.log('# histories on which each broken merge is caught (5 orders each): ' + JSON.stringify(rates));
});

test('every column of every row is compared exactly', () => {
  let patterns = 0, rows = 0;
  for (const h of histories.slice(0, 30)) {
    const exp = expectedTables(h.events);
    for (const t of Object.keys(exp)) {
      for (const r of exp[t].values()) {
        rows++;
        for (const [col, v] of Object.entries(r)) {
          assert.ok(v !== undefined, `${t} ${r.id}.${col}`);
          if (v instanceof RegExp) patterns++;
        }
      }
    }
  }
  assert.equal(patterns, 0, 'no value is matched by a pattern');
  console.log(`# ${rows} rows compared exactly`);
});
