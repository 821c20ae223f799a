// Concurrency stress: 16 sessions deliver one shuffled, duplicated Clerk
// history at once, each delivery one handle_event call in its own
// transaction. Once directly over 16 Postgres connections, once through the
// relay (--pool 16) over 16 HTTP connections. The histories hold every kind
// of object orgsync mirrors (the property generator's): organizations, users,
// memberships, invitations, domains, roles and permissions, deletions that
// end invitations and domains racing with their arrival.
//
// Counted: deadlocks (40P01), unique violations (23505), retryable errors
// (40001/40P01/55P03, retried until they succeed), other errors. Expected:
// no deadlock, no unique violation, no other error, exactly one non-duplicate
// answer per delivery id, and the final tables equal to the model's state.
//
//   ORGSYNC_STRESS_HISTORIES=3   histories per mode (default 3)
//   ORGSYNC_STRESS_SEED=123      replay one history
//   ORGSYNC_STRESS_BASE_SEED=7   rerun a printed set
//   ORGSYNC_STRESS_SESSIONS=16   concurrent sessions
//   ORGSYNC_STRESS_EVENTS=200-280 events per history

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Relay, RETRYABLE, buildDeliveries, checkFinal, countBy, newSecret, organizationModel, reset, seedsFrom, signer } from './common.mjs';

const env = process.env;
const HISTORIES = Number(env.ORGSYNC_STRESS_HISTORIES || 3);
const SESSIONS = Number(env.ORGSYNC_STRESS_SESSIONS || 16);
const [MIN_EVENTS, MAX_EVENTS] = (env.ORGSYNC_STRESS_EVENTS || '200-280').split('-').map(Number);
const MAX_ATTEMPTS = 50;

const secret = newSecret();
const sign = signer(secret);
const seeds = seedsFrom('ORGSYNC_STRESS', HISTORIES);
let cluster, relay, admin;

before(async () => {
  cluster = new Cluster('stress');
  await cluster.start({ fsync: 'off' });
  admin = await cluster.client();
  await admin.query('CREATE EXTENSION orgsync');
  await admin.query('SELECT orgsync.add_secret($1)', [secret]);
});

after(async () => {
  await admin?.end().catch(() => {});
  await relay?.stop();
  await cluster?.destroy();
});

// Runs `deliveries` with SESSIONS workers taking the next one from a shared
// queue; `attempt(d)` -> { ok, status } | { sqlstate, error }.
async function stream(deliveries, attempt) {
  const stats = { deliveries: deliveries.length, retries: 0, deadlocks: 0, uniqueViolations: 0, errors: 0, sqlstates: {}, statuses: {}, samples: [] };
  const answers = new Map();
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const d = deliveries[next++];
      for (let n = 1; ; n++) {
        const r = await attempt(d);
        if (r.ok) {
          countBy(stats.statuses, r.status);
          if (!answers.has(d.msgId)) answers.set(d.msgId, []);
          answers.get(d.msgId).push(r.status);
          break;
        }
        countBy(stats.sqlstates, r.sqlstate || `http ${r.http}`);
        if (r.sqlstate === '40P01') stats.deadlocks++;
        if (r.sqlstate === '23505') stats.uniqueViolations++;
        if (RETRYABLE.has(r.sqlstate)) {
          stats.retries++;
          if (n < MAX_ATTEMPTS) continue;
        }
        stats.errors++;
        if (stats.samples.length < 5) stats.samples.push(`${d.msgId} ${d.event.type}: ${r.sqlstate || r.http} ${r.error}`);
        break; // not retried: the final check will show what is missing
      }
    }
  };
  await Promise.all(Array.from({ length: SESSIONS }, worker));
  return { stats, answers };
}

async function runMode(mode, makeAttempt) {
  const total = { histories: 0, deliveries: 0, retries: 0, deadlocks: 0, uniqueViolations: 0, errors: 0, mismatches: 0 };
  const failures = [];
  const started = Date.now();
  for (const seed of seeds) {
    const { history, deliveries } = buildDeliveries(seed, { minEvents: MIN_EVENTS, maxEvents: MAX_EVENTS || MIN_EVENTS, generator: organizationModel });
    const kinds = {};
    for (const e of history.events) countBy(kinds, e.kind);
    await reset(admin);
    const t0 = Date.now();
    // evidence of contention: how often some session waits for a lock held by another
    let sampling = true, samples = 0, lockWaits = 0, maxWaiting = 0;
    const sampler = (async () => {
      while (sampling) {
        const { rows: [r] } = await admin.query(`SELECT count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting,
            count(*) FILTER (WHERE state = 'active')::int AS active
          FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'`);
        samples++;
        if (r.waiting) lockWaits++;
        maxWaiting = Math.max(maxWaiting, r.waiting);
      }
    })();
    const { stats, answers } = await stream(deliveries, makeAttempt).finally(() => { sampling = false; });
    await sampler;
    total.lockWaitSamples = (total.lockWaitSamples || 0) + lockWaits;
    const check = await checkFinal(admin, { history, deliveries, answers, strictAnswers: true });
    total.histories++;
    for (const k of ['deliveries', 'retries', 'deadlocks', 'uniqueViolations', 'errors']) total[k] += stats[k];
    total.mismatches += check.problems.length;
    console.log(`# ${mode} seed=${seed} events=${history.events.length} ${JSON.stringify(kinds)} deliveries=${stats.deliveries} ` +
      `retries=${stats.retries} deadlocks=${stats.deadlocks} unique_violations=${stats.uniqueViolations} errors=${stats.errors} ` +
      `mismatches=${check.problems.length} lock_waits=${lockWaits}/${samples} samples (max ${maxWaiting} waiting) statuses=${JSON.stringify(stats.statuses)} ` +
      `sqlstates=${JSON.stringify(stats.sqlstates)} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    for (const s of stats.samples) console.log(`#   error: ${s}`);
    for (const p of check.problems.slice(0, 15)) console.log(`#   ${p}`);
    if (stats.deadlocks || stats.uniqueViolations || stats.errors || check.problems.length) failures.push(seed);
  }
  console.log(`# stress summary (${mode}): sessions=${SESSIONS} histories=${total.histories} deliveries=${total.deliveries} ` +
    `retries=${total.retries} deadlocks=${total.deadlocks} unique_violations=${total.uniqueViolations} ` +
    `errors=${total.errors} mismatches=${total.mismatches} lock_wait_samples=${total.lockWaitSamples} ${((Date.now() - started) / 1000).toFixed(1)}s`);
  if (failures.length) console.log(`# replay: ORGSYNC_STRESS_SEED=<seed> test/stress/run.sh (failing seeds: ${failures.join(' ')})`);
  assert.equal(total.deadlocks, 0, 'deadlocks');
  assert.equal(total.uniqueViolations, 0, 'unique violations');
  assert.equal(total.errors, 0, 'errors other than retryable ones');
  assert.equal(total.mismatches, 0, `final state differs from the model (seeds ${failures.join(' ')})`);
}

test(`${SESSIONS} Postgres sessions, one handle_event per transaction`, { timeout: 600_000 }, async () => {
  const clients = await Promise.all(Array.from({ length: SESSIONS }, () => cluster.client()));
  // each worker of stream() takes its own connection from this free list
  const free = [...clients];
  try {
    await runMode('direct', async (d) => {
      const c = free.pop();
      try {
        const res = await c.query('SELECT orgsync.handle_event($1::jsonb, $2) AS r', [JSON.stringify(sign(d.msgId, d.body)), d.body]);
        return { ok: true, status: res.rows[0].r.status };
      } catch (err) {
        return { sqlstate: err.code, error: err.message };
      } finally {
        free.push(c);
      }
    });
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
});

test(`${SESSIONS} relay connections (--pool ${SESSIONS})`, { timeout: 600_000 }, async () => {
  relay = new Relay(cluster, SESSIONS);
  await relay.start();
  await runMode('relay', async (d) => {
    try {
      const res = await fetch(relay.url, {
        method: 'POST', body: d.body, signal: AbortSignal.timeout(30_000),
        headers: { 'content-type': 'application/json', ...sign(d.msgId, d.body) },
      });
      const json = await res.json().catch(() => ({}));
      if (res.status >= 200 && res.status < 300) return { ok: true, status: json.status };
      return { http: res.status, sqlstate: json.sqlstate, error: json.error };
    } catch (err) {
      return { http: 0, error: String(err.cause || err) };
    }
  });
  const lines = relay.log.split('\n').filter((l) => / method=POST /.test(l));
  const non200 = lines.filter((l) => !/ status=200 /.test(l));
  console.log(`# relay log: ${lines.length} requests, ${non200.length} not 200${non200.length ? ': ' + non200.slice(0, 3).join(' | ') : ''}`);
});
