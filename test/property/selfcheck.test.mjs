// Checks of the property test itself, without Postgres: the generator emits
// well-formed Clerk histories, the model agrees with the generator's record of
// Clerk's state, a correct order-independent merge reaches the model from every
// delivery order, and broken merges do not (so the property test can fail).
//
//   node --test test/property/selfcheck.test.mjs

import test from 'node:test';
import assert from 'node:assert/strict';
import { generateHistory, normTs } from './generator.mjs';
import { expectedTables, rowsFromMirror, diffTables, DONTCARE } from './model.mjs';
import { mergeDeliveries, MUTANTS } from './reference.mjs';
import { deliveryOrders } from './orders.mjs';
import { subSeed } from './prng.mjs';

const SEEDS = Array.from({ length: Number(process.env.ORGSYNC_SELFCHECK_HISTORIES || 150) }, (_, i) => subSeed(0x5eed, i));
const histories = SEEDS.map((s) => generateHistory(s));

test('generator: Clerk-shaped events, increasing clock and versions', () => {
  const types = new Set();
  for (const h of histories) {
    let prevTs = -Infinity;
    const lastUpd = new Map();
    const msgIds = new Set();
    for (const e of h.events) {
      types.add(e.type);
      assert.ok(e.ts > prevTs, `seed ${h.seed}: clock must strictly increase at #${e.index}`);
      prevTs = e.ts;
      assert.ok(!msgIds.has(e.msgId));
      msgIds.add(e.msgId);
      const p = JSON.parse(e.body);
      assert.deepEqual(p, e.payload);
      assert.equal(p.object, 'event');
      assert.equal(p.type, e.type);
      assert.equal(normTs(p.timestamp) <= e.ts && normTs(p.timestamp) > e.ts - 1000, true);
      const d = p.data;
      assert.equal(d.id, e.objectId);
      if (e.type.endsWith('.deleted') && e.kind !== 'membership') {
        assert.deepEqual(Object.keys(d).filter((k) => !['object', 'id', 'deleted', 'slug', 'external_id'].includes(k)), []);
        assert.equal(d.deleted, true);
        continue;
      }
      if (e.kind === 'session') continue;
      assert.ok(Number.isInteger(d.created_at) && Number.isInteger(d.updated_at) && d.updated_at <= e.ts);
      const prev = lastUpd.get(d.id);
      if (e.type === 'organizationMembership.deleted') {
        // the whole membership, updated_at = its last update
        assert.equal(d.updated_at, prev, `seed ${h.seed} #${e.index}`);
      } else {
        assert.ok(prev === undefined || d.updated_at > prev, `seed ${h.seed} #${e.index}: updated_at must increase`);
        lastUpd.set(d.id, d.updated_at);
      }
      if (e.kind === 'membership') {
        assert.equal(d.object, 'organization_membership');
        assert.ok(d.organization && d.organization.id && Number.isInteger(d.organization.updated_at));
        assert.ok(d.public_user_data && d.public_user_data.user_id);
        // the snapshot is the org's current version
        const orgUpd = lastUpd.get(d.organization.id);
        if (orgUpd !== undefined) assert.equal(d.organization.updated_at, orgUpd);
      }
    }
  }
  for (const t of ['organization.created', 'organization.updated', 'organization.deleted', 'user.created', 'user.updated',
    'user.deleted', 'organizationMembership.created', 'organizationMembership.updated', 'organizationMembership.deleted',
    'organizationInvitation.created', 'organizationInvitation.accepted', 'organizationInvitation.revoked', 'session.created']) {
    assert.ok(types.has(t), `no ${t} generated`);
  }
});

test('generator: histories exercise the interesting cases', () => {
  let reinvited = 0, multiOrgUsers = 0, placeholders = 0, deletionOnly = 0, lateCascade = 0, primaryNotFirst = 0, secondsTs = 0;
  for (const h of histories) {
    const pairs = new Map();
    for (const m of h.truth.mems.values()) {
      const k = m.orgId + '/' + m.userId;
      pairs.set(k, (pairs.get(k) || 0) + 1);
    }
    if ([...pairs.values()].some((n) => n > 1)) reinvited++;
    const orgsPerUser = new Map();
    for (const m of h.truth.mems.values()) orgsPerUser.set(m.userId, new Set([...(orgsPerUser.get(m.userId) || []), m.orgId]));
    if ([...orgsPerUser.values()].some((s) => s.size > 1)) multiOrgUsers++;
    const exp = expectedTables(h.events);
    if ([...exp.organizations.values(), ...exp.users.values()].some((r) => r.source === 'membership')) placeholders++;
    if ([...exp.organizations.values(), ...exp.users.values()].some((r) => r.source === 'deletion')) deletionOnly++;
    // memberships ended by their org's/user's deletion without an event of their own
    const ownDel = new Set(h.events.filter((e) => e.type === 'organizationMembership.deleted').map((e) => e.objectId));
    if ([...exp.memberships.values()].some((m) => m.deleted_at != null && !ownDel.has(m.id))) lateCascade++;
    if ([...exp.users.values()].some((u) => u.source === 'event' && u.data.email_addresses.length > 1 && u.data.email_addresses[0].id !== u.data.primary_email_address_id)) primaryNotFirst++;
    if (h.events.some((e) => e.tsField !== e.ts)) secondsTs++;
  }
  const n = histories.length;
  console.log(`# of ${n} histories: ${reinvited} re-invite someone, ${multiOrgUsers} have users in several orgs, ` +
    `${placeholders} end with placeholders, ${deletionOnly} with rows known only by their deletion, ${lateCascade} end memberships only by an org/user deletion, ` +
    `${primaryNotFirst} have a primary email that is not the first, ${secondsTs} have a timestamp in seconds`);
  for (const [what, k] of Object.entries({ reinvited, multiOrgUsers, placeholders, deletionOnly, lateCascade, primaryNotFirst, secondsTs })) {
    assert.ok(k >= n * 0.05, `too few histories where ${what}: ${k}/${n}`);
  }
});

test('model agrees with the generator\'s record of Clerk\'s state', () => {
  for (const h of histories) {
    const exp = expectedTables(h.events);
    const { orgs, users, mems, invs, primaryEmail } = h.truth;
    for (const [id, r] of exp.organizations) {
      const o = orgs.get(id);
      assert.ok(o, `seed ${h.seed}: unknown org ${id}`);
      assert.equal(r.deleted_at, o.deletedAt, `seed ${h.seed} org ${id} deleted_at`);
      if (r.source !== 'deletion') {
        assert.equal(r.name, o.name, `seed ${h.seed} org ${id} name`);
        assert.equal(r.slug, o.slug);
      }
      if (r.source === 'event') assert.equal(r.updated_at, o.updated_at);
      if (!o.preexisting) assert.equal(r.source, 'event');
    }
    for (const o of orgs.values()) if (!o.preexisting) assert.ok(exp.organizations.has(o.id));
    for (const [id, r] of exp.users) {
      const u = users.get(id);
      assert.ok(u, `seed ${h.seed}: unknown user ${id}`);
      assert.equal(r.deleted_at, u.deletedAt, `seed ${h.seed} user ${id} deleted_at`);
      if (r.source !== 'deletion') {
        assert.equal(r.first_name, u.first_name, `seed ${h.seed} user ${id} first_name`);
        assert.equal(r.last_name, u.last_name);
      }
      if (r.source === 'event') assert.equal(r.primary_email, primaryEmail(u), `seed ${h.seed} user ${id} primary_email`);
      if (!u.preexisting) assert.equal(r.source, 'event');
    }
    assert.equal(exp.memberships.size, mems.size);
    for (const [id, r] of exp.memberships) {
      const m = mems.get(id);
      assert.equal(r.organization_id, m.orgId);
      assert.equal(r.user_id, m.userId);
      assert.equal(r.role, m.role, `seed ${h.seed} membership ${id} role`);
      assert.equal(r.deleted_at, m.deletedAt ?? null, `seed ${h.seed} membership ${id} deleted_at`);
    }
    assert.equal(exp.invitations.size, invs.size);
    for (const [id, r] of exp.invitations) assert.equal(r.status, invs.get(id).status);
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
      order.deliveries.forEach((d, i) => assert.equal(statuses[i] === 'duplicate', d.repeat));
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
  // a model bug that reads the first address instead of primary_email_address_id
  let firstEmail = 0;
  for (const h of histories) {
    const exp = expectedTables(h.events);
    for (const u of exp.users.values()) {
      if (u.source === 'event' && u.primary_email !== (u.data.email_addresses[0]?.email_address ?? null)) { firstEmail++; break; }
    }
  }
  rates['first-email'] = `${firstEmail}/${histories.length}`;
  assert.ok(firstEmail > 0);
  console.log('# histories on which each broken merge is caught (5 orders each): ' + JSON.stringify(rates));
});

test('DONTCARE is only used where the model cannot know', () => {
  for (const h of histories.slice(0, 30)) {
    const exp = expectedTables(h.events);
    for (const t of ['memberships', 'invitations']) {
      for (const r of exp[t].values()) assert.ok(!Object.values(r).includes(DONTCARE));
    }
    for (const r of [...exp.organizations.values(), ...exp.users.values()]) {
      if (r.source === 'event') assert.ok(!Object.values(r).includes(DONTCARE));
    }
  }
});
