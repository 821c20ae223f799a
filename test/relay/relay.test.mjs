// End-to-end tests of relay/orgsync-relay: real Svix-signed Clerk deliveries
// over HTTP into the orgsync extension in a throwaway cluster.

import { test as nodeTest, before, after } from 'node:test';
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
const clusterSh = path.join(root, 'scripts/cluster.sh');
const fixtureDir = path.join(root, 'test/fixtures/clerk');

const SECRET = 'whsec_' + randomBytes(24).toString('base64');
const STATUSES = ['applied', 'duplicate', 'stale', 'ignored', 'invalid'];

let dir, pgPort, pgConfig, relay;
const relays = [];

// Each test fails after two minutes rather than hanging the suite. A per-test
// option, which Node 18 (Debian bookworm's) has; --test-timeout came later.
const test = (name, fn) => nodeTest(name, { timeout: 120_000 }, fn);

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

const postAll = (r, deliveries) =>
  Promise.all(deliveries.map(({ body, headers }) => post(r, body, headers)));

// The batch= of each of the relay's log lines for these delivery ids.
function batchesOf(r, ids) {
  const batches = [];
  for (const line of r.log.split('\n')) {
    const m = / delivery_id=(\S+) .* batch=(\d+)/.exec(line);
    if (m && ids.includes(m[1])) batches.push(Number(m[2]));
  }
  return batches;
}

// Sends `burst` while an earlier delivery is blocked inside Postgres (behind a
// lock on orgsync.events) on relay `r` of one connection, so the whole burst
// waits in the relay and then goes to the database as one batch; runs
// `whileQueued` before letting go. Resolves to the burst's responses.
async function sendQueued(r, burst, whileQueued = async () => {}) {
  const locker = new pg.Client(pgConfig);
  await locker.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE orgsync.events IN ACCESS EXCLUSIVE MODE');
    const blocker = newUser();
    const first = post(r, blocker.body, signed(blocker.body, { id: blocker.id }));
    await waitFor('a delivery blocked in Postgres', async () => (await sql(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE application_name = 'orgsync-relay' AND wait_event_type = 'Lock'`))[0].n === 1);
    const responses = postAll(r, burst);
    await sleep(1000); // for the burst to reach the relay's queue, even on a busy machine
    await whileQueued();
    await locker.query('COMMIT');
    assert.equal((await first).status, 200);
    return await responses;
  } finally {
    await locker.end();
  }
}

const signedUsers = (n) => Array.from({ length: n }, () => {
  const u = newUser();
  return { ...u, headers: signed(u.body, { id: u.id }) };
});

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
  const reasons = ['no_matching_signature', 'no_matching_signature', 'timestamp_too_old', 'missing_signature'];
  // --batch 1 sends each alone to handle_event, which names the check in its error's DETAIL.
  const alone = await startRelay('--pool', '1', '--batch', '1');
  for (const r of [relay, alone]) {
    for (const [i, [what, b, headers]] of attempts.entries()) {
      const res = await post(r, b, headers);
      assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.json)}`);
      assert.match(res.json.sqlstate, /^28/, what);
      assert.ok(res.json.error, what);
      // The log says which check failed, never what was expected.
      await waitFor('its log line', () => r.log.includes(`delivery_id=${headers['svix-id']} `));
      const line = r.log.split('\n').find((l) => l.includes(`delivery_id=${headers['svix-id']} `));
      assert.match(line, new RegExp(` status=401 delivery_id=\\S+ outcome=rejected .* reason=${reasons[i]} sqlstate=28000`),
        `${what}: ${line}`);
      r.log = r.log.replace(line, ''); // the same ids go to the second relay
    }
  }
  assert.equal(await countEvents(attempts.map(([, , h]) => h['svix-id'])), 0);
});

test('--log-format json: one object per line, with the same fields; the passwords stay out of the log', async () => {
  // sslpassword (a client key's passphrase; unused over the socket) is
  // another field libpq marks secret.
  const conninfo = `host=${pgConfig.host} port=${pgPort} user=postgres dbname=postgres password=not-for-logs ` +
    'sslpassword=key-passphrase-not-for-logs';
  const r = await startRelay('--pool', '1', '--log-format', 'json', '--log-level', 'debug', '--database-url', conninfo);
  const [user] = signedUsers(1);
  assert.equal((await post(r, user.body, user.headers)).status, 200);
  const forged = signed(user.body);
  assert.equal((await post(r, user.body + ' ', forged)).status, 401);
  await waitFor('two request lines', () => (r.log.match(/"method"/g) || []).length === 2);
  assert.ok(!r.log.includes('not-for-logs'), 'no password, no sslpassword');
  const lines = r.log.trim().split('\n').map((l) => JSON.parse(l));
  for (const l of lines) {
    assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(['debug', 'info', 'warn', 'error'].includes(l.level));
  }
  const start = lines.find((l) => l.event === 'start');
  assert.equal(start.version, '0.4.0');
  assert.equal(start.listen, new URL(r.url).host);
  assert.equal(start.database, `user=postgres dbname=postgres host=${pgConfig.host} port=${pgPort}`);
  assert.deepEqual([start.pool, start.batch], [1, 64]);
  const applied = lines.find((l) => l.delivery_id === user.id);
  assert.deepEqual({ ...applied, time: 0, duration_ms: 0 }, {
    time: 0, level: 'info', method: 'POST', path: '/webhooks', status: 200, delivery_id: user.id,
    outcome: 'applied', duration_ms: 0, batch: 1,
  });
  assert.equal(typeof applied.duration_ms, 'number');
  const rejected = lines.find((l) => l.delivery_id === forged['svix-id']);
  assert.deepEqual([rejected.status, rejected.outcome, rejected.reason, rejected.sqlstate],
    [401, 'rejected', 'no_matching_signature', '28000']);
  assert.ok(lines.some((l) => l.level === 'debug' && l.event === 'call' && l.jobs === 1), 'debug: each database call');

  const quiet = await startRelay('--pool', '1', '--log-level', 'warn');
  assert.equal((await fetch(quiet.url + '/healthz')).status, 200);
  assert.equal((await fetch(quiet.url + '/nope')).status, 404);
  assert.equal(quiet.log, '', 'info lines are below warn');
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

test('a read-only database (a standby, say) gets 503 with Retry-After, and stores nothing', async () => {
  const readOnly = `host=${pgConfig.host} port=${pgPort} user=postgres dbname=postgres ` +
    "options='-c default_transaction_read_only=on'";
  const r = await startRelay('--pool', '1', '--database-url', readOnly);
  const { id, body } = newUser();
  const res = await post(r, body, signed(body, { id }));
  assert.equal(res.status, 503, JSON.stringify(res.json));
  assert.equal(res.json.sqlstate, '25006');
  assert.ok(Number(res.headers.get('retry-after')) > 0);
  assert.equal(await countEvents([id]), 0);
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

test('headers over 64 KiB in all get 431 and reach no database', async () => {
  const { id, body } = newUser();
  const padding = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`x-padding-${i}`, 'p'.repeat(8000)]));
  const res = await post(relay, body, { ...signed(body, { id }), ...padding });
  assert.equal(res.status, 431, JSON.stringify(res.json));
  assert.equal(await countEvents([id]), 0);
  const fewer = Object.fromEntries(Object.entries(padding).slice(0, 7));
  const ok = await post(relay, body, { ...signed(body, { id }), ...fewer });
  assert.equal(ok.status, 200, 'under the cap, extra headers are harmless');
});

test('a multipart body gets 415, or 405 for another method, never 500', async () => {
  for (const method of ['POST', 'PUT']) {
    const form = new FormData();
    form.append('payload', '{"type": "user.created"}');
    const res = await fetch(`${relay.url}/webhooks`, { method, body: form });
    assert.equal(res.status, method === 'POST' ? 415 : 405, method);
    assert.match(res.headers.get('content-type'), /application\/json/, method);
  }
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

// Sends `chunks` on one connection (after each, waits for `until` to appear
// in what came back, if given); resolves to all the relay sent once it
// closed the connection.
function exchange(r, chunks) {
  const { port } = new URL(r.url);
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = net.connect(Number(port), '127.0.0.1', async () => {
      for (const [bytes, until] of chunks) {
        socket.write(bytes);
        if (until) await waitFor(`"${until}"`, () => received.includes(until), 5000).catch(reject);
      }
    });
    socket.setTimeout(5000, () => socket.destroy(new Error(`still open after: ${received}`)));
    socket.on('data', (d) => { received += d; });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

const statusLines = (text) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

test('HTTP/1.1 as written: pipelining, HTTP/1.0, Expect: 100-continue, malformed framing', async () => {
  const pipelined = await exchange(relay, [[
    'GET /healthz HTTP/1.1\r\nHost: r\r\n\r\nGET /nope HTTP/1.1\r\nHost: r\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n']]);
  assert.deepEqual(statusLines(pipelined), [200, 404, 200], 'answered in order, on one connection');
  assert.match(pipelined, /Content-Length: 15\r\nConnection: close\r\n\r\n$/, 'HEAD: the length, no body; then closed');

  const http10 = await exchange(relay, [['GET /healthz HTTP/1.0\r\n\r\n']]);
  assert.deepEqual(statusLines(http10), [200], 'HTTP/1.0 without keep-alive: closed after one');

  const expecting = await exchange(relay, [
    ['POST /nope HTTP/1.1\r\nHost: r\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
      '100 Continue'],
    ['{}']]);
  assert.deepEqual(statusLines(expecting), [100, 404]);

  for (const [what, request, status] of [
    ['a request line that is not one', 'NOT A REQUEST\r\n\r\n', 400],
    ['Content-Length and Transfer-Encoding both', 'POST /webhooks HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['two different Content-Lengths', 'POST /webhooks HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 400],
    ['a transfer coding other than chunked', 'POST /webhooks HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['HTTP/2.0 in a request line', 'GET /healthz HTTP/2.0\r\n\r\n', 505],
    ['a malformed chunk', 'POST /webhooks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
  ]) {
    const answer = await exchange(relay, [[request]]);
    assert.deepEqual(statusLines(answer), [status], what);
    assert.match(answer, /Connection: close\r\n\r\n\{"error":"[^"]+"\}$/, `${what}: a JSON error, then closed`);
  }
});

test('healthz answers 200 while the database is up', async () => {
  const res = await fetch(relay.url + '/healthz');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('with its one connection kept busy by deliveries, healthz still gets it between calls', async () => {
  const r = await startRelay('--pool', '1', '--batch', '4');
  // 20 ms per user written, 4 per call and 16 senders: some deliveries are
  // always waiting when a call returns.
  await sql(`CREATE FUNCTION public.slow_user_write() RETURNS trigger LANGUAGE plpgsql
             AS $$BEGIN PERFORM pg_sleep(0.02); RETURN NEW; END$$`);
  await sql(`CREATE TRIGGER slow_user_write BEFORE INSERT ON orgsync.users
             FOR EACH ROW EXECUTE FUNCTION public.slow_user_write()`);
  let sending = true;
  const statuses = [];
  const senders = Promise.all(Array.from({ length: 16 }, async () => {
    while (sending) {
      const [u] = signedUsers(1);
      statuses.push((await post(r, u.body, u.headers)).status);
    }
  }));
  try {
    await waitFor('deliveries in batches', () => / batch=4( |$)/m.test(r.log));
    // A request waits 5 s for a connection, then gets 503; the load outlasts that.
    const started = Date.now();
    const health = await fetch(r.url + '/healthz');
    assert.equal(health.status, 200, `healthz after ${Date.now() - started} ms: ${await health.text()}`);
    await sleep(Math.max(0, 6000 - (Date.now() - started)));
  } finally {
    sending = false;
    await senders;
    await sql('DROP TRIGGER slow_user_write ON orgsync.users');
    await sql('DROP FUNCTION public.slow_user_write()');
  }
  assert.ok(statuses.length > 100 && statuses.every((s) => s === 200), `${statuses.length} deliveries`);
});

test('300 slowloris connections hold up neither a delivery nor /healthz, and get 408 at their deadline', async () => {
  const r = await startRelay('--pool', '1');
  const { port } = new URL(r.url);
  // Each sends a request's first line, then a header line every 2 s: never
  // idle long enough for a per-read timeout, never a complete request.
  const attackers = await Promise.all(Array.from({ length: 300 }, () => new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write('POST /webhooks HTTP/1.1\r\nHost: relay\r\n');
      resolve(socket);
    });
    socket.received = '';
    socket.on('data', (d) => { socket.received += d; });
    socket.gone = new Promise((done) => socket.on('close', done));
    socket.on('error', () => {});
    socket.once('error', reject);
  })));
  let line = 0;
  const drip = setInterval(() => {
    line++;
    for (const s of attackers) if (!s.destroyed) s.write(`x-drip-${line}: ${line}\r\n`);
  }, 2000);
  try {
    await sleep(500); // for the relay to take them all in
    const { id, body } = newUser();
    const delivered = await fetch(r.url + '/webhooks', {
      method: 'POST', headers: signed(body, { id }), body, signal: AbortSignal.timeout(4000),
    });
    assert.equal(delivered.status, 200, 'a genuine delivery is answered while the attack goes on');
    assert.equal((await delivered.json()).status, 'applied');
    const health = await fetch(r.url + '/healthz', { signal: AbortSignal.timeout(4000) });
    assert.equal(health.status, 200, '/healthz too');
    await health.arrayBuffer();
    // The whole request has a deadline (10 s), however often a byte arrives.
    await Promise.race([Promise.all(attackers.map((s) => s.gone)),
      sleep(20000).then(() => { throw new Error('slowloris connections still open after 20 s'); })]);
    assert.ok(attackers.every((s) => s.received.startsWith('HTTP/1.1 408 ')), attackers[0].received);
    const { samples } = await scrape(r.url + '/metrics');
    assert.equal(samples['orgsync_relay_rejected_deliveries_total{reason="timeout"}'], 300);
    assert.match(r.log, / level=info method=POST path=\/webhooks status=408 outcome=rejected duration_ms=[\d.]+ reason=timeout$/m);
  } finally {
    clearInterval(drip);
    for (const s of attackers) s.destroy();
  }
});

test('Postgres stopped mid-stream: 503 while down, a retrying sender ends with every event applied', async () => {
  const users = Array.from({ length: 60 }, newUser);
  const seen = [];
  const unavailable = new Set(); // the bodies of 503 answers

  // Like Svix: each delivery is retried (freshly signed) until it gets a 2xx.
  async function deliver({ id, body }) {
    for (let attempt = 0; attempt < 200; attempt++) {
      let status = 0; // connection refused or reset
      try {
        const res = await fetch(relay.url + '/webhooks', { method: 'POST', headers: signed(body, { id }), body });
        status = res.status;
        if (status === 503) unavailable.add(await res.text());
        else await res.arrayBuffer();
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
  unavailable.add(await health.text());
  await sleep(300);
  cluster('start', dir, String(pgPort));
  await sender;

  assert.ok(seen.includes(503));
  assert.deepEqual([...new Set(seen)].sort(), [200, 503], 'only 200s and 503s, never a crash');
  // What libpq said (the server's socket path, say) is for the log, not the sender.
  assert.deepEqual([...new Set([...unavailable].map((b) => JSON.parse(b).error))], ['database unavailable, retry later'],
    [...unavailable].join('\n'));
  for (const body of unavailable) assert.doesNotMatch(body, /\/|socket|PGSQL|connection|server|terminat/i, body);
  assert.match(relay.log, / status=503 .*error=".*(socket|connection|terminat)/, 'the log has the details');
  const rows = await sql(`SELECT count(*)::int AS n FROM orgsync.events WHERE id = ANY($1) AND status = 'applied'`,
    [users.map((u) => u.id)]);
  assert.equal(rows[0].n, users.length);
  const mirrored = await sql('SELECT count(*)::int AS n FROM orgsync.users WHERE id = ANY($1)',
    [users.map((u) => u.userId)]);
  assert.equal(mirrored[0].n, users.length);
  assert.equal((await fetch(relay.url + '/healthz')).status, 200);
  const { samples } = await scrape(relay.url + '/metrics');
  assert.ok(samples.orgsync_relay_database_reconnects_total >= 1, 'the restart was counted');
  assert.ok(samples['orgsync_relay_deliveries_total{outcome="failed"}'] >= 1, 'and the 503s while it was down');
});

test('SIGTERM: requests in flight and queued finish with 2xx, new connections are refused, exit 0', async () => {
  const r = await startRelay('--pool', '1');
  const queued = signedUsers(3);
  const responses = await sendQueued(r, queued, async () => {
    r.child.kill('SIGTERM');
    await waitFor('the relay to stop listening', () => r.log.includes('event=shutdown signal=TERM'));
    await assert.rejects(fetch(r.url + '/healthz'), 'the listener is closed');
  });
  for (const res of responses) {
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'applied');
  }
  assert.deepEqual(await r.exited, { code: 0, signal: null });
  assert.equal(await countEvents(queued.map((u) => u.id)), 3);
  assert.deepEqual(batchesOf(r, queued.map((u) => u.id)), [3, 3, 3], 'the queued ones went as a batch');
});

test('--select-one answers from SELECT 1 without handle_event', async () => {
  const r = await startRelay('--select-one', '--pool', '1');
  const res = await post(r, '{}', {});
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { status: 'ok' });
});

test('a burst of genuine and forged deliveries: each gets its own answer, in batches', async () => {
  const genuine = signedUsers(64);
  const forged = Array.from({ length: 16 }, (_, i) => {
    const { id, body } = newUser();
    const headers = i % 2 ? signed(body, { id, secret: 'whsec_' + randomBytes(24).toString('base64') })
      : signed(body.replace('"user_', '"user_x'), { id }); // signed for another body
    return { id, body, headers };
  });
  // Forged ones spread among the genuine ones.
  const burst = genuine.flatMap((g, i) => (i % 4 === 0 ? [g, forged[i / 4]] : [g]));

  const responses = await postAll(relay, burst);
  responses.forEach((res, i) => {
    const isForged = forged.includes(burst[i]);
    assert.equal(res.status, isForged ? 401 : 200, JSON.stringify(res.json));
    if (isForged) assert.equal(res.json.sqlstate, '28000');
    else assert.deepEqual([res.json.status, res.json.delivery_id], ['applied', burst[i].id]);
  });
  assert.equal(await countEvents(genuine.map((g) => g.id)), 64);
  assert.equal(await countEvents(forged.map((f) => f.id)), 0);
  const batches = batchesOf(relay, burst.map((d) => d.id));
  assert.equal(batches.length, burst.length, 'one log line with batch= per delivery');
  assert.ok(batches.some((b) => b > 1), `some went in a batch: ${batches}`);
});

test('the same delivery several times in one batch: applied once, then duplicate', async () => {
  const r = await startRelay('--pool', '1');
  const [user] = signedUsers(1);
  const others = signedUsers(4);
  const burst = [...others.slice(0, 2), user, user, user, ...others.slice(2), user];

  const responses = await sendQueued(r, burst);
  assert.ok(responses.every((res) => res.status === 200));
  const statuses = responses.filter((_, i) => burst[i] === user).map((res) => res.json.status);
  // Concurrent requests reach the relay in any order: which copy is first varies.
  assert.deepEqual(statuses.sort(), ['applied', 'duplicate', 'duplicate', 'duplicate']);
  assert.equal(await countEvents([user.id]), 1);
  assert.deepEqual(batchesOf(r, [user.id]), [8, 8, 8, 8]);
});

test('bodies with quotes, backslashes and non-ASCII text reach Postgres byte for byte in a batch', async () => {
  const r = await startRelay('--pool', '1');
  const burst = signedUsers(3).map(({ id, body }, i) => {
    const event = JSON.parse(body);
    event.data.first_name = ['Zoë "Z" \\ \\\\', '{"a":[1,2]}, NULL', '\u00e9\u{1F600}\t\\"'][i];
    const text = JSON.stringify(event, null, i); // i = 0: compact; else indented
    return { id, body: text, headers: signed(text, { id }) };
  });
  const responses = await sendQueued(r, burst);
  assert.deepEqual(responses.map((res) => res.json.status), ['applied', 'applied', 'applied']);
  const rows = await sql('SELECT id, payload FROM orgsync.events WHERE id = ANY($1)', [burst.map((d) => d.id)]);
  for (const d of burst) assert.equal(rows.find((row) => row.id === d.id).payload, d.body);
  assert.deepEqual(batchesOf(r, burst.map((d) => d.id)), [3, 3, 3]);
});

test('a delivery that fails its whole batch fails alone: its neighbours are still applied', async () => {
  const r = await startRelay('--pool', '1');
  const neighbours = signedUsers(12);
  const [poison] = signedUsers(1);
  await sql(`CREATE FUNCTION public.poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'poisoned delivery'; END $$`);
  await sql(`CREATE TRIGGER poison BEFORE INSERT ON orgsync.events FOR EACH ROW
    WHEN (NEW.id = '${poison.id}') EXECUTE FUNCTION public.poison()`);
  try {
    const burst = [...neighbours.slice(0, 6), poison, ...neighbours.slice(6)];
    const responses = await sendQueued(r, burst);
    responses.forEach((res, i) => {
      if (burst[i] === poison) {
        assert.equal(res.status, 500, JSON.stringify(res.json));
        assert.deepEqual(res.json, { error: 'the database failed on this delivery', sqlstate: 'P0001' },
          'the database\'s message goes to the log, not to the sender');
      } else {
        assert.equal(res.status, 200, JSON.stringify(res.json));
        assert.equal(res.json.status, 'applied');
      }
    });
  } finally {
    await sql('DROP TRIGGER poison ON orgsync.events');
    await sql('DROP FUNCTION public.poison()');
  }
  assert.equal(await countEvents(neighbours.map((u) => u.id)), 12);
  assert.equal(await countEvents([poison.id]), 0);
  assert.match(r.log, / level=warn event=batch_failed deliveries=13 sqlstate=P0001 error="poisoned delivery"$/m);
  assert.match(r.log, / status=500 .*error="poisoned delivery"/m);
  // Each went again alone after the batch failed.
  assert.deepEqual(batchesOf(r, [...neighbours, poison].map((u) => u.id)), Array(13).fill(1));
});

test('--batch 1: one delivery per transaction, as before batching', async () => {
  const r = await startRelay('--pool', '1', '--batch', '1');
  const burst = signedUsers(6);
  const responses = await sendQueued(r, burst);
  assert.deepEqual(responses.map((res) => [res.status, res.json.status]), Array(6).fill([200, 'applied']));
  assert.deepEqual(batchesOf(r, burst.map((d) => d.id)), Array(6).fill(1));
});

// Prometheus' text format: the samples by name and labels, and each family's TYPE.
function parseMetrics(text) {
  const samples = {};
  const types = {};
  const helps = new Set();
  for (const line of text.split('\n')) {
    let m;
    if ((m = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line))) types[m[1]] = m[2];
    else if ((m = /^# HELP (\S+) \S/.exec(line))) helps.add(m[1]);
    else if (line) {
      m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      assert.ok(m, `not a sample line: ${line}`);
      samples[m[1] + (m[2] ?? '')] = Number(m[3]);
    }
  }
  for (const name of Object.keys(types)) assert.ok(helps.has(name), `HELP for ${name}`);
  return { samples, types };
}

async function scrape(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseMetrics(await res.text());
}

test('GET /metrics: counters move by exactly what was sent', async () => {
  const r = await startRelay('--pool', '1', '--max-body', '4096');
  const before = (await scrape(r.url + '/metrics')).samples;
  const users = signedUsers(3);
  for (const u of users) assert.equal((await post(r, u.body, u.headers)).status, 200);
  assert.equal((await post(r, users[0].body, users[0].headers)).json.status, 'duplicate');
  for (const u of signedUsers(2)) {
    const forged = signed(u.body, { id: u.id, secret: 'whsec_' + randomBytes(24).toString('base64') });
    assert.equal((await post(r, u.body, forged)).status, 401);
  }
  const big = JSON.stringify({ pad: 'x'.repeat(5000) });
  assert.equal((await post(r, big, signed(big))).status, 413);
  // orgsync's other refusals, a different number of each, so that a reason
  // counted under another's label shows.
  const malformed = signedUsers(3).map((u, i) => {
    const headers = { ...u.headers };
    if (i === 0) delete headers['svix-id'];
    if (i === 1) delete headers['svix-signature'];
    if (i === 2) headers['svix-timestamp'] = 'soon';
    return [u.body, headers];
  });
  const hour = 3600 * 1000;
  const outOfTolerance = signedUsers(4).map((u, i) =>
    [u.body, signed(u.body, { at: new Date(Date.now() + (i % 2 ? hour : -hour)) })]);
  for (const [body, headers] of [...malformed, ...outOfTolerance]) {
    assert.equal((await post(r, body, headers)).status, 401);
  }
  const noSecret = `/webhooks/no-secret-${randomBytes(4).toString('hex')}`;
  for (const u of signedUsers(5)) assert.equal((await post(r, u.body, u.headers, noSecret)).status, 503);
  const { samples: after, types } = await scrape(r.url + '/metrics');
  const moved = (name) => after[name] - (before[name] ?? 0);

  // Each series against what was sent: four stored (and the first scrape)
  // as 200; two forged, three with a malformed header and four out of the
  // timestamp tolerance as 401; five for an endpoint without a secret as
  // 503; one too large as 413. One database call for each delivery that
  // reached the database (all but the one too large), sent one at a time.
  const rejected = { bad_signature: 2, malformed_header: 3, timestamp: 4, unknown_endpoint: 5, too_large: 1 };
  const expected = {
    'orgsync_relay_http_requests_total{status="200"}': 4 + 1,
    'orgsync_relay_http_requests_total{status="401"}': 2 + 3 + 4,
    'orgsync_relay_http_requests_total{status="503"}': 5,
    'orgsync_relay_http_requests_total{status="413"}': 1,
    'orgsync_relay_deliveries_total{outcome="applied"}': 3,
    'orgsync_relay_deliveries_total{outcome="duplicate"}': 1,
    'orgsync_relay_deliveries_total{outcome="rejected"}': 15,
    'orgsync_relay_deliveries_total{outcome="failed"}': 0,
    orgsync_relay_batch_size_count: 18,
    orgsync_relay_batch_size_sum: 18,
    'orgsync_relay_batch_size_bucket{le="1"}': 18,
    orgsync_relay_receipt_to_commit_seconds_count: 4,
    orgsync_relay_database_reconnects_total: 0,
  };
  // Every reason's series: those not sent stay where they were.
  for (const name of Object.keys(after).filter((k) => k.startsWith('orgsync_relay_rejected_deliveries_total{'))) {
    expected[name] = rejected[/reason="(\w+)"/.exec(name)[1]] ?? 0;
  }
  for (const reason of Object.keys(rejected)) {
    assert.ok(`orgsync_relay_rejected_deliveries_total{reason="${reason}"}` in expected, `a series for ${reason}`);
  }
  assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, moved(k)])), expected);
  assert.deepEqual([types.orgsync_relay_http_requests_total, types.orgsync_relay_deliveries_total,
    types.orgsync_relay_batch_size, types.orgsync_relay_receipt_to_commit_seconds,
    types.orgsync_relay_http_requests_in_flight], ['counter', 'counter', 'histogram', 'histogram', 'gauge']);
  for (const h of ['orgsync_relay_batch_size', 'orgsync_relay_receipt_to_commit_seconds']) {
    const buckets = Object.keys(after).filter((k) => k.startsWith(`${h}_bucket{`)).map((k) => after[k]);
    assert.ok(buckets.every((v, i) => i === 0 || v >= buckets[i - 1]), `${h}: cumulative buckets`);
    assert.equal(after[`${h}_bucket{le="+Inf"}`], after[`${h}_count`]);
  }
  assert.equal(after.orgsync_relay_http_requests_in_flight, 1, 'the scrape itself');
  assert.ok(after.orgsync_relay_http_connections >= 1);
  assert.equal(after['orgsync_relay_build_info{version="0.4.0"}'], 1);
  assert.ok(Math.abs(after.process_start_time_seconds - Date.now() / 1000) < 600);
});

test('--metrics-listen: /metrics on its own address, not on the main one', async () => {
  const metricsPort = await freePort();
  const r = await startRelay('--pool', '1', '--metrics-listen', `127.0.0.1:${metricsPort}`);
  const elsewhere = `http://127.0.0.1:${metricsPort}`;
  const main = await fetch(r.url + '/metrics');
  assert.equal(main.status, 404);
  await main.arrayBuffer();
  const { samples } = await scrape(elsewhere + '/metrics');
  assert.equal(samples['orgsync_relay_http_requests_total{status="404"}'], 1, 'the main listener\'s 404');
  assert.equal(samples['orgsync_relay_http_requests_total{status="200"}'], 0, 'scrapes are not counted');
  const wrong = await fetch(elsewhere + '/metrics', { method: 'POST', body: '' });
  assert.deepEqual([wrong.status, wrong.headers.get('allow')], [405, 'GET, HEAD']);
  await wrong.arrayBuffer();
  assert.equal((await fetch(elsewhere + '/webhooks', { method: 'POST', body: '{}' })).status, 404);
  assert.match(r.log, new RegExp(` event=start .* metrics_listen=127\\.0\\.0\\.1:${metricsPort}$`, 'm'));
});

test('one logfmt line per request, without secrets, signatures or bodies', () => {
  const lines = relay.log.trim().split('\n');
  const requests = lines.filter((l) => / method=/.test(l));
  assert.ok(requests.length > 50);
  assert.ok(requests.every((l) => /^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(info|warn|error) method=\S+ path=\S+ status=\d{3}( |$)/.test(l)));
  assert.ok(requests.some((l) => / level=info method=POST path=\/webhooks status=200 delivery_id=msg_\w+ outcome=applied duration_ms=[\d.]+ batch=\d+$/.test(l)));
  assert.ok(requests.some((l) => / level=info .* status=401 .*outcome=rejected .*reason=no_matching_signature sqlstate=28000/.test(l)));
  assert.ok(requests.some((l) => / level=warn .* status=503 .*error=/.test(l)));
  assert.match(lines[0], / level=info event=start version=0\.4\.0 listen=127\.0\.0\.1:\d+ database="user=postgres dbname=postgres host=\S+ port=\d+" pool=4 batch=64 max_body=1048576$/);
  for (const secretish of [SECRET, 'v1,', 'Acme', 'whsec_', 'user_2g7np7']) {
    assert.ok(!relay.log.includes(secretish), `log leaks ${secretish}`);
  }
});
