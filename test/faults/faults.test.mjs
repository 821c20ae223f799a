// Crash safety: a sender that retries like Svix streams a shuffled,
// duplicated Clerk history through the relay with 4 concurrent senders while
// faults are injected: relay backends terminated, the cluster restarted (fast
// and immediate, i.e. crashed), the relay killed with SIGKILL and restarted.
//
// The sender, like Svix: on a non-2xx answer or a connection error it retries
// the same delivery (same svix id, same body), re-signed with a fresh
// timestamp, after a short backoff; a 2xx is final.
//
// Checked afterwards:
//   lost  = a delivery acknowledged with 2xx that is not in orgsync.events,
//           checked right after each restart for what was acknowledged before
//           it, and at the end for everything;
//   wrong = a delivery applied twice (two non-duplicate answers for one id),
//           a row in orgsync.events with a status its event does not allow or
//           other than the answer given, an unexpected row, or a difference
//           between the mirror tables and the model's final state.
//
//   ORGSYNC_FAULTS_SEED=123 / ORGSYNC_FAULTS_BASE_SEED=7   replay histories
//   ORGSYNC_FAULTS_EVENTS=200-280                          events per history

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Relay, buildDeliveries, checkFinal, countBy, newSecret, seedsFrom, signer } from '../stress/common.mjs';

const env = process.env;
const SENDERS = 4;
const [MIN_EVENTS, MAX_EVENTS] = (env.ORGSYNC_FAULTS_EVENTS || '200-280').split('-').map(Number);
const DELIVERY_DEADLINE_MS = 40_000; // per delivery; Svix would go on for 27 hours

const secret = newSecret();
const sign = signer(secret);
const seeds = seedsFrom('ORGSYNC_FAULTS', 5);
let seedIndex = 0;
let cluster, relay;
const totals = { tests: 0, faults: 0, deliveries: 0, acks: 0, retries: 0, lost: 0, wrong: 0 };

before(async () => {
  cluster = new Cluster('faults');
  await cluster.start({ fsync: 'on' }); // crash recovery must keep every commit
  await cluster.sql('CREATE EXTENSION orgsync');
  await cluster.sql('SELECT orgsync.add_secret($1)', [secret]);
  relay = new Relay(cluster, SENDERS);
  await relay.start();
});

after(async () => {
  await relay?.stop();
  if (relay) {
    const statuses = {};
    for (const m of relay.log.matchAll(/ method=POST .*? status=(\d+)/gm)) countBy(statuses, m[1]);
    const other = relay.log.split('\n').filter((l) => l && !/ (method=| event=(shutdown|start) )/.test(l));
    console.log(`# relay logs: POST statuses ${JSON.stringify(statuses)}; other lines: ${other.length ? other.slice(0, 5).join(' | ') : 'none'}`);
  }
  if (cluster) {
    // anything the server logged beyond the expected terminations and restarts
    const expected = /terminating connection due to administrator command|the database system is (shutting down|starting up|not yet accepting connections)|connection to client lost/;
    const kinds = {};
    for (const m of cluster.serverLog(1 << 24).matchAll(/^.*?(ERROR|FATAL|PANIC|WARNING):\s+(.*)$/gm)) {
      if (!(m[1] === 'FATAL' && expected.test(m[2]))) countBy(kinds, `${m[1]}: ${m[2].slice(0, 100)}`);
    }
    console.log(`# server log, unexpected errors: ${JSON.stringify(kinds)}`);
  }
  await cluster?.destroy();
  console.log(`# faults summary: tests=${totals.tests} faults=${totals.faults} deliveries=${totals.deliveries} ` +
    `acknowledgements=${totals.acks} retries=${totals.retries} lost=${totals.lost} wrong=${totals.wrong}`);
});

async function waitFor(what, cond, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// One run: stream the history with SENDERS Svix-like senders; `inject(run)`
// injects faults meanwhile.
async function scenario(name, inject) {
  const seed = seeds[seedIndex++ % seeds.length];
  const { history, deliveries } = buildDeliveries(seed, { minEvents: MIN_EVENTS, maxEvents: MAX_EVENTS || MIN_EVENTS });
  await cluster.sql('TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events');

  const run = {
    faults: 0, acks: 0, retries: 0, http: {}, reasons: {}, answers: new Map(), acked: new Set(),
    lostAtFault: [], notes: [], done: false, aborted: false, total: deliveries.length,
  };

  async function deliver(d) {
    const deadline = Date.now() + DELIVERY_DEADLINE_MS;
    for (let attempt = 1; ; attempt++) {
      let status = 0, json = null;
      try {
        const res = await fetch(relay.url, {
          method: 'POST', body: d.body, signal: AbortSignal.timeout(15_000),
          headers: { 'content-type': 'application/json', ...sign(d.msgId, d.body) }, // fresh timestamp each attempt
        });
        status = res.status;
        json = await res.json().catch(() => null);
      } catch { /* connection refused or reset: retried */ }
      countBy(run.http, status);
      if (status !== 0 && (status < 200 || status >= 300)) countBy(run.reasons, `${status} ${json?.sqlstate ?? ''} ${String(json?.error).replace(/:.*/, '')}`.replace(/  +/g, ' '));
      if (status >= 200 && status < 300) {
        run.acks++;
        run.acked.add(d.msgId);
        if (!run.answers.has(d.msgId)) run.answers.set(d.msgId, []);
        run.answers.get(d.msgId).push(json?.status ?? null);
        return;
      }
      if (run.aborted) throw new Error('aborted: the fault injection failed');
      if (Date.now() > deadline) throw new Error(`delivery ${d.msgId} not acknowledged after ${attempt} attempts (last ${status} ${JSON.stringify(json)})`);
      run.retries++;
      await sleep(Math.min(20 * 2 ** Math.min(attempt - 1, 5), 400) * (0.5 + Math.random()));
    }
  }

  let next = 0;
  const senders = Promise.all(Array.from({ length: SENDERS }, async () => {
    while (next < deliveries.length) await deliver(deliveries[next++]);
  })).finally(() => { run.done = true; });

  // Waits until `fraction` of the deliveries are acknowledged (false if the
  // stream ended first).
  run.at = async (fraction) => {
    await waitFor(`${Math.round(fraction * 100)}% acknowledged`, () => run.done || run.acks >= fraction * run.total, 60_000);
    return !run.done;
  };
  // What was acknowledged before a restart must be there right after it.
  run.checkKept = async (ackedBefore, what) => {
    const ids = [...ackedBefore];
    const rows = await cluster.sql('SELECT id FROM orgsync.events WHERE id = ANY($1)', [ids]);
    const have = new Set(rows.map((r) => r.id));
    const lost = ids.filter((id) => !have.has(id));
    run.lostAtFault.push(...lost);
    run.notes.push(`${what}: ${ids.length} acknowledged before, ${lost.length} missing after`);
  };

  const started = Date.now();
  let injectError = null;
  try {
    await inject(run);
  } catch (err) {
    injectError = err;
    run.aborted = true;
  }
  await senders.catch((err) => { if (!injectError) throw err; }); // throws if a delivery was never acknowledged
  if (injectError) throw injectError;

  const client = await cluster.client();
  let check;
  try {
    check = await checkFinal(client, { history, deliveries, answers: run.answers });
  } finally {
    await client.end();
  }
  // lost: acknowledged, then missing after a restart or at the end
  const lost = new Set([...run.lostAtFault, ...check.missing.filter((id) => run.acked.has(id))]).size;
  const unapplied = check.missing.length;
  const wrong = check.problems.length - unapplied;
  // committed, but the answer never reached the sender: later attempts said duplicate
  const answerLost = [...run.answers.values()].filter((a) => a.every((s) => s === 'duplicate')).length;

  totals.tests++;
  totals.faults += run.faults;
  totals.deliveries += deliveries.length;
  totals.acks += run.acks;
  totals.retries += run.retries;
  totals.lost += lost;
  totals.wrong += wrong;
  console.log(`# ${name}: seed=${seed} faults=${run.faults} deliveries=${deliveries.length} (ids ${check.distinct}) ` +
    `acknowledgements=${run.acks} retries=${run.retries} lost=${lost} wrong=${wrong} unapplied=${unapplied} ` +
    `events_rows=${check.rows} committed_but_unanswered=${answerLost} http=${JSON.stringify(run.http)} ${((Date.now() - started) / 1000).toFixed(1)}s`);
  for (const n of run.notes) console.log(`#   ${n}`);
  console.log(`#   non-2xx answers: ${JSON.stringify(run.reasons)}`);
  for (const p of check.problems.slice(0, 15)) console.log(`#   ${p}`);
  for (const id of run.lostAtFault.slice(0, 5)) console.log(`#   lost across a restart: ${id}`);

  assert.ok(run.faults > 0, 'no fault was injected: the stream ended first');
  assert.equal(run.acks, deliveries.length, 'every delivery acknowledged once');
  assert.equal(lost, 0, 'acknowledged deliveries lost');
  assert.equal(unapplied, 0, 'deliveries never applied');
  assert.equal(check.rows, check.distinct, 'one orgsync.events row per delivery id');
  assert.equal(wrong, 0, 'deliveries applied twice or inconsistent with the model');
  return run;
}

const FRACTIONS = [0.12, 0.3, 0.48, 0.66, 0.84];

test('(a) relay backends terminated mid-stream', { timeout: 120_000 }, async () => {
  const monitor = await cluster.client();
  try {
    await scenario('backends terminated', async (run) => {
      for (const f of FRACTIONS) {
        if (!(await run.at(f))) break;
        // aim at a moment when a relay backend is inside handle_event: try
        // for up to ~1 s, then terminate them all anyway
        let r;
        for (let i = 0; i < 300 && !r; i++) {
          [r] = (await monitor.query(`
            WITH a AS MATERIALIZED (SELECT pid, state FROM pg_stat_activity WHERE application_name = 'orgsync-relay')
            SELECT (SELECT count(*) FROM a WHERE state = 'active')::int AS active,
                   (SELECT count(*) FROM a WHERE pg_terminate_backend(pid))::int AS killed
            WHERE EXISTS (SELECT FROM a WHERE state = 'active') OR $1`, [i === 299])).rows;
        }
        run.faults++;
        run.notes.push(`at ${Math.round(f * 100)}%: terminated ${r.killed} relay backends (${r.active} active)`);
      }
    });
  } finally {
    await monitor.end();
  }
});

async function restarts(run, stop, what) {
  for (const f of [0.2, 0.55]) {
    if (!(await run.at(f))) break;
    await sleep(Math.random() * 20);
    const ackedBefore = new Set(run.acked);
    await stop();
    run.faults++;
    await sleep(300); // senders meet a database that is down
    await cluster.restart();
    await run.checkKept(ackedBefore, `at ${Math.round(f * 100)}% ${what}`);
  }
}

test('(b1) cluster restarted (fast shutdown) mid-stream', { timeout: 120_000 }, async () => {
  await scenario('cluster restart (fast)', (run) => restarts(run, () => cluster.stopFast(), 'fast stop + start'));
});

test('(b2) cluster crashed (immediate shutdown) mid-stream, then recovered', { timeout: 120_000 }, async () => {
  await scenario('cluster crash (immediate)', (run) => restarts(run, () => cluster.stopImmediate(), 'immediate stop + start'));
  assert.match(cluster.serverLog(20_000), /database system was interrupted|redo (starts|done)|automatic recovery/,
    'the server log shows crash recovery');
});

test('(c) relay killed with SIGKILL and restarted on the same port', { timeout: 120_000 }, async () => {
  await scenario('relay SIGKILL', async (run) => {
    for (const f of [0.15, 0.4, 0.65]) {
      if (!(await run.at(f))) break;
      const ackedBefore = new Set(run.acked);
      const { signal } = await relay.kill9();
      run.faults++;
      await sleep(200); // senders meet a refused connection
      await relay.start();
      await run.checkKept(ackedBefore, `at ${Math.round(f * 100)}% relay killed (${signal}) and restarted`);
    }
  });
});
