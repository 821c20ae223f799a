// Property: whatever the order of arrival and however many duplicates, the
// orgsync tables end exactly as Clerk's state (the model).
//
// For each random Clerk history (seeded, printed): deliver it through
// orgsync.handle_event(s), signed with the official svix package, in Clerk's order
// and then in K other orders with ~20% duplicated deliveries; after each run
// compare every table with the model, then truncate. Among the deliveries are
// events with one field orgsync reads given a wrong JSON type (mutations.mjs):
// each must come back `invalid`, and the model is computed without them.
//
//   ORGSYNC_PROPERTY_HISTORIES=20  histories (default 20)
//   ORGSYNC_PROPERTY_ORDERS=5      orders besides Clerk's own (default 5)
//   ORGSYNC_PROPERTY_EVENTS=30-140 events per history (default 30-140)
//   ORGSYNC_PROPERTY_SEED=123      replay one history (with its same orders)
//   ORGSYNC_PROPERTY_BASE_SEED=7   derive the histories' seeds from this (default: random)
//   ORGSYNC_PROPERTY_BATCH=256     deliveries per statement (1: one round trip,
//                                  so one transaction, per delivery); default:
//                                  orders k = 0, 3, ...: 256 handle_event calls
//                                  per statement; k = 1, 4, ...: one per
//                                  transaction; k = 2, 5, ...: handle_events
//                                  calls of 1-40 deliveries (random sizes)
//   ORGSYNC_PROPERTY_MUTANT=lww    expect what a broken merge would give instead
//                                  of the model: the test must then fail
// Needs PG* variables pointing at a server where orgsync can be created.

import test from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { generateHistory } from './generator.mjs';
import { expectedTables, rowsFromMirror, diffTables } from './model.mjs';
import { mergeDeliveries, MUTANTS } from './reference.mjs';
import { deliveryOrders } from './orders.mjs';
import { Rng, subSeed } from './prng.mjs';
import { connect, newSecret, reset, deliver, readTables, asJsonb, recordedEvents } from './db.mjs';

const env = process.env;
const parseSeed = (s) => Number(BigInt(s.trim())) >>> 0;
const HISTORIES = Number(env.ORGSYNC_PROPERTY_HISTORIES || 20);
const ORDERS = Number(env.ORGSYNC_PROPERTY_ORDERS ?? 5);
const MUTANT = env.ORGSYNC_PROPERTY_MUTANT || null;
const [MIN_EVENTS, MAX_EVENTS] = (env.ORGSYNC_PROPERTY_EVENTS || '30-140').split('-').map(Number);
const BATCH = env.ORGSYNC_PROPERTY_BATCH ? Number(env.ORGSYNC_PROPERTY_BATCH) : null;
const MAX_DETAILED = 3;

if (MUTANT && !MUTANTS.includes(MUTANT)) throw new Error(`unknown mutant ${MUTANT}; one of ${MUTANTS.join(', ')}`);

function seeds() {
  if (env.ORGSYNC_PROPERTY_SEED) return [parseSeed(env.ORGSYNC_PROPERTY_SEED)];
  const base = env.ORGSYNC_PROPERTY_BASE_SEED ? parseSeed(env.ORGSYNC_PROPERTY_BASE_SEED) : randomInt(2 ** 32 - 1);
  console.log(`# base seed ${base} (ORGSYNC_PROPERTY_BASE_SEED=${base} reruns this set)`);
  return Array.from({ length: HISTORIES }, (_, i) => subSeed(base, i));
}

// The events behind a mismatch: each object named in the diff, with the
// org/user of a membership, in Clerk's order and where this order put them.
function explain(history, order, diff) {
  const ids = new Set(diff.map((l) => l.split(' ')[1].split('.')[0]));
  for (const e of history.events) {
    if (ids.has(e.objectId) && e.kind === 'membership') {
      ids.add(e.payload.data.organization.id);
      if (e.payload.data.public_user_data) ids.add(e.payload.data.public_user_data.user_id);
    }
    if (ids.has(e.objectId) && e.payload.data.organization_id) ids.add(e.payload.data.organization_id);
  }
  const positions = new Map();
  order.deliveries.forEach((d, i) => {
    if (!positions.has(d.msgId)) positions.set(d.msgId, []);
    positions.get(d.msgId).push(i);
  });
  const lines = [];
  for (const e of history.events) {
    const d = e.payload.data;
    const about = [e.objectId, d.organization?.id, d.public_user_data?.user_id, d.organization_id].filter((x) => ids.has(x));
    if (!about.length) continue;
    const what = [];
    if (d.name !== undefined) what.push(`name=${JSON.stringify(d.name)}`);
    if (d.first_name !== undefined) what.push(`first=${JSON.stringify(d.first_name)} last=${JSON.stringify(d.last_name)}`);
    if (d.role !== undefined) what.push(`role=${d.role}`);
    if (d.status !== undefined) what.push(`status=${d.status}`);
    if (d.key !== undefined) what.push(`key=${d.key}`);
    if (d.organization_id !== undefined) what.push(`org=${d.organization_id}`);
    if (d.organization) what.push(`org=${d.organization.id} org.updated_at=${d.organization.updated_at} org.name=${JSON.stringify(d.organization.name)}`);
    if (d.public_user_data) what.push(`user=${d.public_user_data.user_id}`);
    lines.push(`    clerk#${String(e.index).padStart(3)} delivered@${(positions.get(e.msgId) || []).join(',').padEnd(9)} ` +
      `${e.type} ${e.objectId} updated_at=${d.updated_at ?? '-'} timestamp=${e.tsField}${e.tsField !== e.ts ? '(s)' : ''} ` +
      `${what.join(' ')} ${e.msgId}`);
  }
  return lines;
}

// Order k's deliveries through one of the three paths (see the top comment).
function deliverAsOrder(client, secret, deliveries, k, seed) {
  if (k % 3 === 2) {
    const rng = new Rng(seed);
    return deliver(client, secret, deliveries, BATCH ? () => BATCH : () => rng.int(1, 40), 'handle_events');
  }
  return deliver(client, secret, deliveries, BATCH ?? (k % 3 === 1 ? 1 : 256));
}

test('orgsync converges to Clerk\'s state whatever the delivery order', { timeout: 6 * 3600_000 }, async () => {
  const client = await connect();
  const secret = newSecret();
  await client.query('SELECT orgsync.add_secret($1)', [secret]);
  const started = Date.now();
  let runs = 0, deliveries = 0, repeats = 0, invalidSent = 0;
  const statusCounts = {};
  const mutatedKinds = {}, mutatedTypes = {};
  const failures = [];
  try {
    for (const seed of seeds()) {
      const history = generateHistory(seed, { minEvents: MIN_EVENTS, maxEvents: MAX_EVENTS || MIN_EVENTS });
      for (const m of history.invalid) {
        mutatedKinds[m.kind] = (mutatedKinds[m.kind] || 0) + 1;
        mutatedTypes[m.wrongType] = (mutatedTypes[m.wrongType] || 0) + 1;
      }
      const modelTables = MUTANT ? null : await asJsonb(client, expectedTables(history.events));
      const orders = deliveryOrders(history, ORDERS);
      let bad = 0, n = 0;
      for (const [k, order] of orders.entries()) {
        await reset(client);
        const results = await deliverAsOrder(client, secret, order.deliveries, k, subSeed(seed, 1000 + k));
        const recorded = await recordedEvents(client);
        const problems = [];
        order.deliveries.forEach((d, i) => {
          const r = results[i] || {};
          statusCounts[r.status] = (statusCounts[r.status] || 0) + 1;
          // in Clerk's own order every event is the newest news: nothing is stale
          const want = d.repeat ? ['duplicate'] : d.invalid ? ['invalid'] : d.event.kind === 'session' ? ['ignored'] : k === 0 ? ['applied'] : ['applied', 'stale'];
          const what = `delivery @${i} (clerk#${d.event.index} ${d.event.type} ${d.event.objectId} ${d.msgId}${d.repeat ? ', a repeat' : ''}` +
            `${d.invalid ? `, ${d.event.field} = ${d.event.wrong}` : ''})`;
          if (!want.includes(r.status)) {
            problems.push(`${what}: status ${JSON.stringify(r.status)}, expected ${want.join('|')}; result ${JSON.stringify(r)}`);
          }
          const row = recorded.get(d.msgId);
          if (!row) problems.push(`${what}: not in orgsync.events`);
          else if ((row.status === 'invalid') !== Boolean(d.invalid)) problems.push(`${what}: recorded ${row.status} ${row.error ?? ''}`);
        });
        const distinct = new Set(order.deliveries.map((d) => d.msgId));
        for (const id of recorded.keys()) if (!distinct.has(id)) problems.push(`orgsync.events: unexpected row ${id}`);
        const expected = MUTANT ? await asJsonb(client, rowsFromMirror(mergeDeliveries(order.deliveries, MUTANT).mirror)) : modelTables;
        const diff = diffTables(expected, await readTables(client));
        problems.push(...diff);
        runs++; n += order.deliveries.length;
        repeats += order.deliveries.filter((d) => d.repeat).length;
        invalidSent += order.deliveries.filter((d) => d.invalid && !d.repeat).length;
        if (problems.length) {
          bad++;
          failures.push({ seed, order: order.name, problems });
          if (failures.length <= MAX_DETAILED) {
            console.log(`# MISMATCH seed=${seed} order=${order.name} (${order.deliveries.length} deliveries):`);
            for (const p of problems.slice(0, 25)) console.log(`#   ${p}`);
            if (problems.length > 25) console.log(`#   ... and ${problems.length - 25} more`);
            if (diff.length) {
              console.log('#   events involved (clerk# = position in Clerk\'s order, delivered@ = positions in this run):');
              for (const l of explain(history, order, diff).slice(0, 60)) console.log('#' + l);
            }
          }
        }
      }
      deliveries += n;
      console.log(`# history seed=${seed} events=${history.events.length} invalid=${history.invalid.length} orders=${orders.length} deliveries=${n} ` +
        `${bad ? `MISMATCH in ${bad}/${orders.length} orders` : 'ok'}`);
    }
  } finally {
    await client.end();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const histories = runs / (ORDERS + 1);
  console.log(`# property summary: ${histories} histories x ${ORDERS + 1} orders (Clerk's + ${ORDERS}) = ${runs} runs checked, ` +
    `${deliveries} deliveries (${repeats} repeats, ${invalidSent} mutated), ${failures.length} mismatching runs` +
    `${MUTANT ? ` [expecting mutant ${MUTANT}]` : ''}; statuses ${JSON.stringify(statusCounts)}; ${secs}s`);
  console.log(`# mutated deliveries by kind ${JSON.stringify(mutatedKinds)}, by wrong value ${JSON.stringify(mutatedTypes)}`);
  if (failures.length) {
    const seedsFailed = [...new Set(failures.map((f) => f.seed))];
    console.log(`# replay: ORGSYNC_PROPERTY_SEED=<seed> test/property/run.sh  (failing seeds: ${seedsFailed.join(' ')})`);
  }
  assert.equal(failures.length, 0, `${failures.length} of ${runs} runs did not converge; seeds ${[...new Set(failures.map((f) => f.seed))].join(', ')}`);
});
