// End-to-end tests of relay/orgsync-relay: real Svix-signed Clerk deliveries
// over HTTP into the orgsync extension in a throwaway cluster.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Webhook } from 'svix';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const relayBin = path.join(root, 'relay/orgsync-relay');
const clusterSh = path.join(root, 'test/cluster.sh');
const fixtureDir = path.join(root, 'test/fixtures/clerk');

const SECRET = 'whsec_' + randomBytes(24).toString('base64');
const STATUSES = ['applied', 'duplicate', 'stale', 'ignored', 'invalid'];

let dir, pgPort, pgConfig, relay;
const relays = [];

// ------------------------------------------------------------------ helpers

// A free port in 55400-55499, the range these tests may use.
async function freePort() {
  const start = Math.floor(Math.random() * 100);
  for (let i = 0; i < 100; i++) {
    const port = 55400 + ((start + i) % 100);
    const free = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 55400-55499');
}

function cluster(...args) {
  try {
    execFileSync('bash', [clusterSh, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    let log = '';
    try { log = readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000); } catch { /* none yet */ }
    throw new Error(`cluster.sh ${args.join(' ')} failed: ${err.message}\n${log}`);
  }
}

// A fresh connection per query, so queries work across server restarts.
async function sql(text, params = []) {
  const client = new pg.Client(pgConfig);
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function startRelay(...args) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnRelay(await freePort(), args);
    } catch (err) {
      if (attempt === 3 || !/cannot listen/.test(err.message)) throw err;
    }
  }
}

async function spawnRelay(port, args) {
  const conninfo = `host=${pgConfig.host} port=${pgPort} user=postgres dbname=postgres`;
  const child = spawn(relayBin, ['--listen', `127.0.0.1:${port}`, '--database-url', conninfo, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { child, url: `http://127.0.0.1:${port}`, log: '' };
  r.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  child.stderr.on('data', (d) => { r.log += d; });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes(`orgsync-relay listening on ${r.url} (pool`)) resolve();
    });
    r.exited.then(() => reject(new Error(`relay exited early: ${r.log}`)));
  });
  relays.push(r);
  return r;
}

async function waitFor(what, cond, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const newId = () => 'msg_' + randomBytes(12).toString('hex');

// Standard Webhooks headers for one attempt, signed by the official svix library.
function signed(body, { id = newId(), secret = SECRET, at = new Date() } = {}) {
  return {
    'content-type': 'application/json',
    'svix-id': id,
    'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
    'svix-signature': new Webhook(secret).sign(id, at, body),
  };
}

async function post(r, body, headers, route = '/webhooks') {
  const res = await fetch(r.url + route, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

const fixture = (name) => readFileSync(path.join(fixtureDir, `${name}.json`), 'utf8');

// A user.created payload for a fresh user id.
function newUser() {
  const event = JSON.parse(fixture('user.created'));
  event.data.id = 'user_' + randomBytes(8).toString('hex');
  return { id: newId(), userId: event.data.id, body: JSON.stringify(event) };
}

const countEvents = async (ids) =>
  (await sql('SELECT count(*)::int AS n FROM orgsync.events WHERE id = ANY($1)', [ids]))[0].n;

// ------------------------------------------------------------------ setup

before(async () => {
  dir = mkdtempSync('/tmp/orgsync-relay-test-');
  // Another cluster may take the probed port before ours binds it: try another.
  for (let attempt = 1; ; attempt++) {
    pgPort = await freePort();
    try {
      cluster('start', dir, String(pgPort));
      break;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
  pgConfig = { host: path.join(dir, 'sock'), port: pgPort, user: 'postgres', database: 'postgres' };
  await sql('CREATE EXTENSION orgsync');
  await sql('SELECT orgsync.add_secret($1)', [SECRET]);
  relay = await startRelay('--pool', '4');
});

after(async () => {
  for (const r of relays) {
    r.child.kill('SIGTERM');
    await r.exited;
  }
  if (dir) {
    cluster('stop', dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------ tests

test('genuine Clerk deliveries are applied and mirrored', async () => {
  const names = ['user.created', 'organization.created', 'organizationMembership.created',
    'organizationInvitation.created', 'session.created'];
  const sent = [];
  for (const name of names) {
    const body = fixture(name);
    const headers = signed(body);
    const res = await post(relay, body, headers);
    assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.delivery_id, headers['svix-id']);
    assert.equal(res.json.type, name);
    sent.push({ name, id: headers['svix-id'], body, headers, result: res.json.status });
  }
  assert.deepEqual(sent.map((s) => s.result), ['applied', 'applied', 'applied', 'applied', 'ignored']);

  const one = async (table, id) =>
    (await sql(`SELECT count(*)::int AS n FROM orgsync.${table} WHERE id = $1`, [id]))[0].n;
  assert.equal(await one('users', 'user_2g7np7Hrk0SN6kj5EDMLDaKNL0S'), 1);
  assert.equal(await one('organizations', 'org_2g7np7Hrk0SN6kj5EDMLDaKNL0S'), 1);
  assert.equal(await one('memberships', 'orgmem_2g7np7Hrk0SN6kj5EDMLDaKNL0S'), 1);
  assert.equal(await one('invitations', 'orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S'), 1);

  const events = await sql('SELECT id, endpoint, type, status, payload FROM orgsync.events WHERE id = ANY($1)',
    [sent.map((s) => s.id)]);
  assert.equal(events.length, sent.length);
  for (const s of sent) {
    const e = events.find((row) => row.id === s.id);
    assert.deepEqual([e.endpoint, e.type, e.status], ['default', s.name, s.result]);
    assert.equal(e.payload, s.body, 'the body reaches Postgres byte for byte');
  }

  // Svix delivers at least once: a redelivery is acknowledged, not reapplied.
  const again = await post(relay, sent[0].body, signed(sent[0].body, { id: sent[0].id }));
  assert.equal(again.status, 200);
  assert.equal(again.json.status, 'duplicate');
});

test('every fixture payload, replayed in reverse order, is answered 200 with a known status', async () => {
  const files = readdirSync(fixtureDir, { recursive: true }).filter((f) => f.endsWith('.json')).sort().reverse();
  for (const file of files) {
    const body = readFileSync(path.join(fixtureDir, file), 'utf8');
    const res = await post(relay, body, signed(body));
    assert.equal(res.status, 200, `${file}: ${JSON.stringify(res.json)}`);
    assert.ok(STATUSES.includes(res.json.status), `${file}: ${res.json.status}`);
  }
});

test('a signed body that is not a Clerk event is stored as invalid and acknowledged', async () => {
  const body = 'this is not json';
  const headers = signed(body);
  const res = await post(relay, body, headers);
  assert.equal(res.status, 200);
  assert.equal(res.json.status, 'invalid');
  const [row] = await sql('SELECT status FROM orgsync.events WHERE id = $1', [headers['svix-id']]);
  assert.equal(row.status, 'invalid');
});

test('deliveries that do not verify get 401 and store nothing', async () => {
  const body = fixture('organization.updated');
  const forged = signed(body);
  const wrongSecret = signed(body, { secret: 'whsec_' + randomBytes(24).toString('base64') });
  const stale = signed(body, { at: new Date(Date.now() - 3600 * 1000) });
  const unsigned = { ...signed(body) };
  delete unsigned['svix-signature'];
  const attempts = [
    ['forged body', body + ' ', forged],
    ['wrong secret', body, wrongSecret],
    ['stale timestamp', body, stale],
    ['missing signature', body, unsigned],
  ];
  for (const [what, b, headers] of attempts) {
    const res = await post(relay, b, headers);
    assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.json)}`);
    assert.match(res.json.sqlstate, /^28/, what);
    assert.ok(res.json.error, what);
  }
  assert.equal(await countEvents(attempts.map(([, , h]) => h['svix-id'])), 0);
});

test('named endpoints: 503 until a secret is configured, then their own secret', async () => {
  const secretB = 'whsec_' + randomBytes(24).toString('base64');
  const { id, body } = newUser();

  const early = await post(relay, body, signed(body, { id, secret: secretB }), '/webhooks/tenant-b');
  assert.equal(early.status, 503);
  assert.equal(early.json.sqlstate, '55000');
  assert.ok(Number(early.headers.get('retry-after')) > 0);

  await sql("SELECT orgsync.add_secret($1, 'tenant-b')", [secretB]);
  const wrongEndpoint = await post(relay, body, signed(body, { id, secret: secretB }));
  assert.equal(wrongEndpoint.status, 401, 'the default endpoint does not accept tenant-b\'s secret');
  const ok = await post(relay, body, signed(body, { id, secret: secretB }), '/webhooks/tenant-b');
  assert.equal(ok.status, 200);
  assert.equal(ok.json.status, 'applied');
  const [row] = await sql('SELECT endpoint FROM orgsync.events WHERE id = $1', [id]);
  assert.equal(row.endpoint, 'tenant-b');
});

test('bodies over --max-body get 413, whether announced or chunked', async () => {
  const big = JSON.stringify({ pad: 'x'.repeat(1 << 20) });
  const announced = await post(relay, big, signed(big));
  assert.equal(announced.status, 413);

  const chunks = [Buffer.from('{"pad":"'), Buffer.alloc(1 << 20, 'y'), Buffer.from('"}')];
  const stream = new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
  const res = await fetch(relay.url + '/webhooks', {
    method: 'POST', headers: signed('{}'), body: stream, duplex: 'half',
  });
  assert.equal(res.status, 413);
  assert.ok((await res.json()).error);

  // The connection is still usable afterwards.
  const { body } = newUser();
  assert.equal((await post(relay, body, signed(body))).status, 200);
});

test('a body that is not UTF-8 text gets 400 before reaching Postgres', async () => {
  for (const body of [Buffer.from([0x7b, 0xff, 0x7d]), Buffer.from('{"a":"\u0000"}')]) {
    const headers = signed(body);
    const res = await post(relay, body, headers);
    assert.equal(res.status, 400);
    assert.match(res.json.error, /UTF-8/);
    assert.equal(await countEvents([headers['svix-id']]), 0);
  }
});

test('unknown paths get 404, wrong methods 405 with Allow', async () => {
  let res = await fetch(relay.url + '/nope', { method: 'POST', body: '{}' });
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error, 'not found');

  res = await fetch(relay.url + '/webhooks');
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'POST');
  assert.ok((await res.json()).error);

  res = await fetch(relay.url + '/webhooks/tenant-b', { method: 'PUT', body: '{}' });
  assert.equal(res.status, 405);
  await res.arrayBuffer();

  res = await fetch(relay.url + '/healthz', { method: 'POST', body: '{}' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'GET, HEAD');
  await res.arrayBuffer();
});

test('healthz answers 200 while the database is up', async () => {
  const res = await fetch(relay.url + '/healthz');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('Postgres stopped mid-stream: 503 while down, a retrying sender ends with every event applied', async () => {
  const users = Array.from({ length: 60 }, newUser);
  const seen = [];

  // Like Svix: each delivery is retried (freshly signed) until it gets a 2xx.
  async function deliver({ id, body }) {
    for (let attempt = 0; attempt < 200; attempt++) {
      let status = 0; // connection refused or reset
      try {
        const res = await fetch(relay.url + '/webhooks', { method: 'POST', headers: signed(body, { id }), body });
        status = res.status;
        await res.arrayBuffer();
      } catch { /* retried below */ }
      seen.push(status);
      if (status >= 200 && status < 300) return;
      await sleep(50);
    }
    throw new Error(`delivery ${id} never succeeded: ${seen.slice(-5)}`);
  }
  const queue = [...users];
  const sender = Promise.all([1, 2, 3].map(async () => {
    while (queue.length) await deliver(queue.shift());
  }));

  await waitFor('some deliveries to land', () => seen.filter((s) => s === 200).length >= 10);
  cluster('stop', dir);
  await waitFor('a 503 while Postgres is down', () => seen.includes(503));
  const health = await fetch(relay.url + '/healthz');
  assert.equal(health.status, 503);
  assert.ok(health.headers.get('retry-after'));
  await health.arrayBuffer();
  await sleep(300);
  cluster('start', dir, String(pgPort));
  await sender;

  assert.ok(seen.includes(503));
  assert.deepEqual([...new Set(seen)].sort(), [200, 503], 'only 200s and 503s, never a crash');
  const rows = await sql(`SELECT count(*)::int AS n FROM orgsync.events WHERE id = ANY($1) AND status = 'applied'`,
    [users.map((u) => u.id)]);
  assert.equal(rows[0].n, users.length);
  const mirrored = await sql('SELECT count(*)::int AS n FROM orgsync.users WHERE id = ANY($1)',
    [users.map((u) => u.userId)]);
  assert.equal(mirrored[0].n, users.length);
  assert.equal((await fetch(relay.url + '/healthz')).status, 200);
});

test('SIGTERM: requests in flight finish with 2xx, new connections are refused, exit 0', async () => {
  const r = await startRelay('--pool', '4');
  const users = [newUser(), newUser(), newUser()];

  // Hold the events table so the deliveries are stuck inside handle_event.
  const locker = new pg.Client(pgConfig);
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE orgsync.events IN ACCESS EXCLUSIVE MODE');
  const inflight = users.map(({ id, body }) => post(r, body, signed(body, { id })));
  await waitFor('three blocked deliveries', async () => (await sql(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE application_name = 'orgsync-relay' AND wait_event_type = 'Lock'`))[0].n === 3);

  r.child.kill('SIGTERM');
  await waitFor('the relay to stop listening', () => r.log.includes('event=shutdown signal=TERM'));
  await assert.rejects(fetch(r.url + '/healthz'), 'the listener is closed');

  await locker.query('COMMIT');
  await locker.end();
  for (const res of await Promise.all(inflight)) {
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'applied');
  }
  assert.deepEqual(await r.exited, { code: 0, signal: null });
  assert.equal(await countEvents(users.map((u) => u.id)), 3);
});

test('--select-one answers from SELECT 1 without handle_event', async () => {
  const r = await startRelay('--select-one', '--pool', '1');
  const res = await post(r, '{}', {});
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { status: 'ok' });
});

test('one logfmt line per request, without secrets, signatures or bodies', () => {
  const lines = relay.log.trim().split('\n');
  const requests = lines.filter((l) => l.startsWith('method='));
  assert.ok(requests.length > 50);
  assert.ok(requests.every((l) => / status=\d{3}( |$)/.test(l)));
  assert.ok(requests.some((l) => /^method=POST path=\/webhooks status=200 delivery_id=msg_\w+ latency_ms=[\d.]+ result=applied$/.test(l)));
  assert.ok(requests.some((l) => / status=401 .*sqlstate=28/.test(l)));
  assert.ok(requests.some((l) => / status=503 .*error=/.test(l)));
  for (const secretish of [SECRET, 'v1,', 'Acme', 'whsec_', 'user_2g7np7']) {
    assert.ok(!relay.log.includes(secretish), `log leaks ${secretish}`);
  }
});
