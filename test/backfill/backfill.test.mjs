// End-to-end tests of `relay/orgsync-relay backfill`: a generated Clerk
// instance served by a stand-in for Clerk's Backend API
// (clerk-api-stand-in.mjs), read into orgsync in a throwaway cluster, and
// orgsync's tables compared row by row with the instance. Webhooks are
// signed with the official svix package and delivered through
// orgsync.handle_events, or through `orgsync-relay serve`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../property/prng.mjs';
import { ClerkInstance } from './clerk-instance.mjs';
import { ClerkApiStandIn } from './clerk-api-stand-in.mjs';
import {
  Cluster, runBackfill, startRelay, deliver, post, readMirror, differences, newKey, newSecret,
} from './harness.mjs';

const SIZES = { organizations: 24, users: 40, memberships: 70, invitations: 16, domains: 8, roles: 4, permissions: 6 };
const SWEPT = ['organizations', 'users', 'memberships', 'domains', 'roles', 'permissions'];
const cluster = new Cluster();
const standIns = [];

before(async () => { await cluster.start(); });
after(async () => {
  for (const s of standIns) await s.close();
  cluster.stop();
});

async function standIn(instance, options = {}) {
  const key = options.secretKey ?? newKey();
  const api = new ClerkApiStandIn(instance, { secretKey: key, ...options });
  await api.listen();
  standIns.push(api);
  return { api, key };
}

function assertSame(instance, mirror, options) {
  const diffs = differences(instance, mirror, options);
  assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} differences`);
}

// The summary's rows: kind -> { read, applied, stale, tombstoned }.
function summary(stdout) {
  const rows = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\w+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+[\d.]+ s$/.exec(line);
    if (m) {
      const n = (i) => Number(m[i].replace(/,/g, ''));
      rows[m[1]] = { read: n(2), applied: n(3), stale: n(4), tombstoned: n(5) };
    }
  }
  return rows;
}

const listings = (api, prefix) => api.requestsTo(prefix).filter((r) => r.query.has('limit'));
const logLines = (stderr, event) => stderr.split('\n').filter((l) => l.includes(` event=${event} `));

test('into an empty database: every table equals what the API served', async () => {
  const instance = new ClerkInstance(1, SIZES);
  const { api, key } = await standIn(instance);
  const database = await cluster.database();
  const r = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--page-size', '7', '--rate', '0'] });
  assert.equal(r.code, 0, r.stderr);
  assertSame(instance, await readMirror(cluster, database), { exact: true });

  // Invitations in every status, expired included (no webhook says it).
  const statuses = await cluster.sql(database, 'SELECT DISTINCT status FROM orgsync.invitations ORDER BY 1');
  assert.deepEqual(statuses.map((s) => s.status), ['accepted', 'expired', 'pending', 'revoked']);
  for (const status of ['pending', 'accepted', 'revoked', 'expired']) {
    assert.ok(listings(api, '/organization_invitations').some((q) => q.query.get('status') === status), status);
  }
  // Oldest first, 7 at a time; users by cursor.
  for (const r2 of api.requests.filter((q) => q.query.has('limit'))) {
    assert.equal(r2.query.get('order_by'), '+created_at', r2.path);
  }
  assert.ok(listings(api, '/users').slice(1).every((q) => q.query.has('starting_after')));
  // Not a terminal: one log line per page, and the summary on stdout.
  const pages = api.requests.filter((q) => q.query.has('limit'));
  assert.equal(logLines(r.stderr, 'backfill_page').length, pages.length);
  const rows = summary(r.stdout);
  assert.deepEqual(Object.keys(rows), ['organizations', 'users', 'memberships', 'invitations', 'domains', 'roles', 'permissions']);
  assert.equal(rows.users.applied, SIZES.users);
  assert.match(r.stdout, /^run \d+ complete in [\d.]+ s$/m);
  const [run] = await cluster.sql(database, 'SELECT outcome, finished_at IS NOT NULL AS finished FROM orgsync.backfill_runs');
  assert.deepEqual(run, { outcome: 'complete', finished: true });
});

test('objects deleted between two page requests shift the offsets: no live object is skipped', async () => {
  const instance = new ClerkInstance(2, { ...SIZES, organizations: 40, memberships: 90 });
  const secret = newSecret();
  const { api, key } = await standIn(instance);
  const database = await cluster.database(secret);
  await deliver(cluster, database, secret, instance.events);
  // Before the 2nd and the 4th request for organizations and the 3rd for
  // memberships, objects before the pager's place are deleted (their
  // webhooks delivered, as Svix would): every later object moves down.
  const shifts = [['/organizations', 2, 2], ['/organizations', 4, 1], ['/organization_memberships', 3, 3]];
  const requests = {};
  api.intercept = async (request) => {
    const prefix = request.path.split('?')[0];
    requests[prefix] = (requests[prefix] ?? 0) + 1;
    const shift = shifts.find(([p, nth]) => p === prefix && requests[prefix] === nth);
    if (!shift) return;
    shifts.splice(shifts.indexOf(shift), 1);
    const kind = shift[0] === '/organizations' ? 'organizations' : 'memberships';
    const doomed = instance.liveOf(kind).slice(0, shift[2]);
    const events = doomed.flatMap((rec) => (kind === 'organizations' ? instance.deleteOrganization(rec) : instance.removeMembership(rec)));
    await deliver(cluster, database, secret, events);
  };
  const r = await runBackfill({ cluster, database, apiUrl: api.url, key,
    args: ['--page-size', '7', '--rate', '0', '--sweep'] });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(shifts.length, 0, 'every shift happened');
  assertSame(instance, await readMirror(cluster, database), { exact: false });
  // The listings held every live object despite the shifts: the sweep found
  // no candidate to ask Clerk about, so none could be tombstoned.
  for (const kind of ['organizations', 'memberships']) {
    assert.match(r.stderr, new RegExp(`event=backfill_sweep kind=${kind} candidates=0\\b`), r.stderr);
  }
  // The pager stepped back to find its place.
  const offsets = listings(api, '/organizations').map((q) => Number(q.query.get('offset')));
  assert.ok(offsets.some((o, i) => i > 0 && o < offsets[i - 1]), `offsets ${offsets}`);
});

// One deletion of each swept kind, of objects orgsync knows (created before
// `knownUntil`), apart from each other so that no tombstone ends another.
function deleteKnownObjects(instance, knownUntil) {
  const known = (rec) => rec.obj.created_at < knownUntil;
  const org = instance.liveOf('organizations').find(known);
  const user = instance.liveOf('users').find(known);
  const member = instance.liveOf('memberships')
    .find((m) => known(m) && m.obj.organizationId !== org.obj.id && m.obj.userId !== user.obj.id);
  const domain = instance.liveOf('domains').find((d) => known(d) && d.obj.organization_id !== org.obj.id);
  const events = [
    ...instance.removeMembership(member), ...instance.deleteDomain(domain),
    ...instance.deleteRole(instance.freeRoles().find(known)),
    ...instance.deletePermission(instance.freePermissions().find(known)),
    ...instance.deleteUser(user), ...instance.deleteOrganization(org),
  ];
  assert.deepEqual(events.map((e) => e.type), ['organizationMembership.deleted', 'organizationDomain.deleted',
    'role.deleted', 'permission.deleted', 'user.deleted', 'organization.deleted']);
  return events;
}

test('a database that missed part of the webhook history, then --sweep: equal to Clerk, deletions tombstoned', async () => {
  const instance = new ClerkInstance(3, SIZES);
  const secret = newSecret();
  const { api, key } = await standIn(instance);
  const database = await cluster.database(secret);
  const created = instance.events.length;
  for (let i = 0; i < 150; i++) instance.randomChange();
  const lost = new Set(deleteKnownObjects(instance, instance.events[created - 1].at));
  // The endpoint was down for a stretch of the history (Svix gave up on those
  // deliveries), and the forced deletions were lost too.
  const history = instance.events;
  const down = [created + 40, created + 100];
  const delivered = history.filter((e, i) => !lost.has(e) && (i < down[0] || i >= down[1]));
  const results = await deliver(cluster, database, secret, delivered);
  assert.ok(results.every((x) => ['applied', 'stale'].includes(x.status)), JSON.stringify(results));
  const before = differences(instance, await readMirror(cluster, database), { exact: false });
  assert.ok(before.some((d) => d.includes('live in orgsync, deleted in Clerk')), 'orgsync starts out wrong');

  const r = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--sweep', '--page-size', '5', '--rate', '0'] });
  assert.equal(r.code, 0, r.stderr);
  assertSame(instance, await readMirror(cluster, database), { exact: false });
  // Each live invitation reads as Clerk lists it, expired ones included
  // (pending in the webhooks delivered; no webhook says an invitation expired).
  const served = new Map(instance.liveOf('invitations').map((rec) => [rec.obj.id, rec.obj.status]));
  assert.ok([...served.values()].includes('expired'));
  const read = await cluster.sql(database,
    'SELECT i.id, orgsync.current_status(i) AS status FROM orgsync.invitations i WHERE i.deleted_at IS NULL ORDER BY i.id');
  assert.deepEqual(read.map((i) => [i.id, i.status]), [...served].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const rows = summary(r.stdout);
  for (const kind of SWEPT) assert.ok(rows[kind].tombstoned >= 1, `${kind}: ${JSON.stringify(rows[kind])}`);
  // Each tombstone was confirmed by a request of its own.
  const tombstoned = logLines(r.stderr, 'backfill_candidate').filter((l) => l.endsWith('result=tombstoned'));
  assert.equal(tombstoned.length, SWEPT.reduce((sum, kind) => sum + rows[kind].tombstoned, 0), r.stderr);
  for (const line of tombstoned) {
    const [, kind, id] = /kind=(\w+) id=(\S+)/.exec(line);
    const rec = instance.get(kind, id).obj;
    const asked = kind === 'memberships'
      ? api.requests.some((q) => q.path.startsWith(`/organizations/${rec.organizationId}/memberships?`) &&
        q.query.get('user_id') === rec.userId)
      : kind === 'domains' ? api.requests.some((q) => q.query.get('organization_id') === rec.organization_id)
        : api.requests.some((q) => q.path === `/${kind === 'roles' || kind === 'permissions' ? 'organization_' : ''}${kind}/${id}`);
    assert.ok(asked, line);
  }
});

test('signed webhooks through the relay while the backfill runs, older and newer than what it reads', async (t) => {
  const instance = new ClerkInstance(4, SIZES);
  const rng = new Rng(44);
  const secret = newSecret();
  const { api, key } = await standIn(instance);
  const database = await cluster.database(secret);
  // Most of the instance's creation history arrived before.
  await deliver(cluster, database, secret, instance.events.filter(() => rng.chance(0.7)));
  const relay = await startRelay(cluster, database);
  t.after(() => relay.stop()); // also when an assertion fails: a running relay would keep the suite alive
  const held = []; // delivered late, after newer copies
  const older = []; // of objects changed twice before the backfill reads them: delivered after it
  const posts = [];
  let changes = 0;
  api.intercept = async (request) => {
    if (request.n === 1) {
      const twice = { users: 'updateUser', organizations: 'updateOrganization', memberships: 'updateMembership', roles: 'updateRole' };
      for (const [kind, change] of Object.entries(twice)) {
        const rec = instance.liveOf(kind)[0];
        older.push(...instance[change](rec));
        for (const event of instance[change](rec)) posts.push(await post(relay, secret, event));
      }
    }
    // Expiry has no webhook: an invitation expiring after the listing read
    // it is the next backfill's to see.
    for (const event of instance.randomChange({ expire: false })) {
      changes++;
      if (rng.chance(0.35)) held.push(event);
      else posts.push(await post(relay, secret, event));
    }
    if (request.n % 6 === 0) {
      for (const event of held.splice(0, rng.int(1, 3))) posts.push(await post(relay, secret, event));
    }
  };
  const r = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--sweep', '--page-size', '5', '--rate', '0'] });
  api.intercept = null;
  for (const event of [...held, ...older]) posts.push(await post(relay, secret, event));
  await relay.stop();
  assert.equal(r.code, 0, r.stderr);
  assert.ok(changes > 40, `${changes} changes`);
  assert.deepEqual([...new Set(posts)], [200], relay.log);
  assertSame(instance, await readMirror(cluster, database), { exact: false });
  const statuses = await cluster.sql(database, 'SELECT status::text FROM orgsync.events WHERE id = ANY($1)',
    [older.map((e) => e.msgId)]);
  assert.deepEqual(statuses.map((x) => x.status), older.map(() => 'stale'), 'older webhooks change nothing');
});

test('--resume after SIGKILL continues where the run stopped, without reading completed kinds again', async () => {
  const instance = new ClerkInstance(5, SIZES);
  const { api, key } = await standIn(instance);
  const database = await cluster.database();
  let child;
  api.intercept = async (request) => {
    if (request.path.startsWith('/organization_memberships?') && Number(request.query.get('offset')) >= 24) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('close', resolve));
    }
  };
  const args = ['--sweep', '--page-size', '5', '--rate', '0'];
  const first = await runBackfill({ cluster, database, apiUrl: api.url, key, args, started: (c) => { child = c; } });
  assert.equal(first.signal, 'SIGKILL');
  api.intercept = null;
  const progress = await cluster.sql(database, `SELECT kind, listed_at IS NOT NULL AS listed, position
    FROM orgsync.backfill_progress ORDER BY kind`);
  assert.deepEqual(progress.map((p) => [p.kind, p.listed]), [['memberships', false], ['organizations', true], ['users', true]]);
  const stoppedAt = progress[0].position.offset;
  assert.ok(stoppedAt > 0, JSON.stringify(progress[0].position));

  const seen = api.requests.length;
  const second = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--resume', '--page-size', '5', '--rate', '0'] });
  assert.equal(second.code, 0, second.stderr);
  const again = api.requests.slice(seen);
  assert.deepEqual(again.filter((q) => /^\/(organizations|users)\?/.test(q.path)), [], 'completed kinds not read again');
  const firstMembershipPage = again.find((q) => q.path.startsWith('/organization_memberships?'));
  assert.equal(Number(firstMembershipPage.query.get('offset')), stoppedAt);
  assertSame(instance, await readMirror(cluster, database), { exact: true });
  const runs = await cluster.sql(database, 'SELECT id, sweep, outcome FROM orgsync.backfill_runs');
  assert.deepEqual(runs.map((x) => [x.sweep, x.outcome]), [[true, 'complete']], 'the same run, finished');
  assert.match(second.stderr, /event=backfill_run run=\d+ resumed=true sweep=true/);
});

test('a wrong key: exit 3, one line, the key never printed, no run started', async () => {
  const instance = new ClerkInstance(6, { organizations: 2, users: 2, memberships: 2 });
  const { api } = await standIn(instance);
  const database = await cluster.database();
  const wrong = newKey();
  const r = await runBackfill({ cluster, database, apiUrl: api.url, key: wrong, args: ['--sweep'] });
  assert.equal(r.code, 3);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^orgsync-relay backfill: Clerk refused the secret key \(401 Unauthorized: authentication_invalid: .*\); check CLERK_SECRET_KEY\n$/);
  assert.ok(!r.stdout.includes(wrong) && !r.stderr.includes(wrong));
  assert.equal(api.requests.length, 1, 'not retried');
  assert.deepEqual(await cluster.sql(database, 'SELECT * FROM orgsync.backfill_runs'), []);
});

test('CLERK_API_URL, the address Clerk\'s SDKs read, without the version; --api-url wins over it', async () => {
  const instance = new ClerkInstance(7, { organizations: 2, users: 2, memberships: 2 });
  const { api, key } = await standIn(instance);
  const base = api.url.replace(/\/v1$/, '');
  const database = await cluster.database();
  const r = await runBackfill({ cluster, database, apiUrl: null, key, env: { CLERK_API_URL: `${base}/` } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`api_url=${base}/v1\\b`));
  assertSame(instance, await readMirror(cluster, database), { exact: true });
  const before = api.requests.length;
  const overridden = await runBackfill({ cluster, database, apiUrl: api.url, key,
                                         env: { CLERK_API_URL: 'http://127.0.0.1:9' } });
  assert.equal(overridden.code, 0, overridden.stderr);
  assert.ok(api.requests.length > before, 'the second run read the stand-in, not CLERK_API_URL');
  const bad = await runBackfill({ cluster, database, apiUrl: null, key, env: { CLERK_API_URL: 'api.clerk.com' } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad CLERK_API_URL: expected https:\/\/HOST/);
});

test('http:// only to a loopback host: any other exits 2 before a request, as does CLERK_API_URL naming one', async () => {
  const instance = new ClerkInstance(15, { organizations: 2, users: 2, memberships: 2 });
  const { api, key } = await standIn(instance);
  const database = await cluster.database();
  const refusal = /^orgsync-relay backfill: bad (--api-url|CLERK_API_URL): http:\/\/ would send the secret key unencrypted; it is for a stand-in on this machine only \(127\.0\.0\.0\/8, localhost, \[::1\]\): use https:\/\//;
  const remote = await runBackfill({ cluster, database, apiUrl: 'http://api.example.com/v1', key, args: ['--rate', '0'] });
  assert.equal(remote.code, 2, remote.stderr);
  assert.match(remote.stderr, refusal);
  assert.equal(remote.stderr.match(refusal)[1], '--api-url');
  // 0.0.0.0 is no loopback address, yet Linux connects it to this machine:
  // the stand-in would see the key if the backfill sent it.
  const port = new URL(api.url).port;
  const anyAddress = await runBackfill({ cluster, database, apiUrl: `http://0.0.0.0:${port}/v1`, key, args: ['--rate', '0'] });
  assert.equal(anyAddress.code, 2, anyAddress.stderr);
  assert.match(anyAddress.stderr, refusal);
  const fromEnv = await runBackfill({ cluster, database, apiUrl: null, key, args: ['--rate', '0'],
                                      env: { CLERK_API_URL: `http://0.0.0.0:${port}` } });
  assert.equal(fromEnv.code, 2, fromEnv.stderr);
  assert.equal(fromEnv.stderr.match(refusal)?.[1], 'CLERK_API_URL', fromEnv.stderr);
  assert.equal(api.requests.length, 0, 'no request made');
  assert.deepEqual(await cluster.sql(database, 'SELECT * FROM orgsync.backfill_runs'), []);

  const local = await runBackfill({ cluster, database, apiUrl: `http://localhost:${port}/v1`, key, args: ['--rate', '0'] });
  assert.equal(local.code, 0, local.stderr);
  assertSame(instance, await readMirror(cluster, database), { exact: true });
});

test('a key refused in the middle of a run: exit 3, and the run ends failed', async () => {
  const instance = new ClerkInstance(7, SIZES);
  const { api, key } = await standIn(instance);
  const database = await cluster.database();
  api.intercept = async (request) => (request.n === 6
    ? { status: 403, body: JSON.stringify({ errors: [{ code: 'forbidden', message: 'no', long_message: `key ${key} revoked` }] }) }
    : undefined);
  const r = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--page-size', '5', '--rate', '0'] });
  assert.equal(r.code, 3);
  assert.ok(!r.stdout.includes(key) && !r.stderr.includes(key), 'the key, even echoed by Clerk, is not printed');
  assert.match(r.stderr.trimEnd().split('\n').pop(), /^orgsync-relay backfill: Clerk refused the secret key \(403 Forbidden/);
  const [run] = await cluster.sql(database, 'SELECT outcome FROM orgsync.backfill_runs');
  assert.match(run.outcome, /^failed: Clerk refused the secret key \(403/);
});

test('429 with Retry-After, a 500, a 503 and a dropped connection are retried, and the run completes', async () => {
  const instance = new ClerkInstance(8, SIZES);
  const { api, key } = await standIn(instance);
  const database = await cluster.database();
  const faults = {
    3: { status: 429, headers: { 'retry-after': '1' }, body: '{"errors":[{"code":"too_many_requests","message":"slow down","long_message":"slow down"}]}' },
    4: { status: 429, headers: { 'retry-after': '1' }, body: '{"errors":[]}' },
    9: { status: 500, body: '{"errors":[{"code":"internal_clerk_error","message":"x","long_message":"x"}]}' },
    12: 'reset',
    15: { status: 503, body: 'upstream unavailable' },
  };
  api.intercept = async (request) => faults[request.n];
  const r = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--page-size', '6', '--rate', '0'] });
  assert.equal(r.code, 0, r.stderr);
  assertSame(instance, await readMirror(cluster, database), { exact: true });
  const retries = logLines(r.stderr, 'clerk_retry');
  assert.equal(retries.length, 5, retries.join('\n'));
  assert.match(retries.join('\n'),
    /why="429 Too Many Requests" .*why="429 Too Many Requests" .*why="500 Internal Server Error" .*why="no answer: .*why="503 Service Unavailable"/s);
  // Retry-After is honoured: the next request waited at least that long.
  for (const n of [3, 4]) assert.ok(api.requests[n].at - api.requests[n - 1].at >= 1000, `after request ${n}`);
  assert.match(r.stdout, /Clerk: \d+ requests \(5 retried\)/);
});

test('--rate N: never more than N requests started in a second', async () => {
  const instance = new ClerkInstance(16, { organizations: 3, users: 3, memberships: 3 });
  const { api, key } = await standIn(instance);
  const database = await cluster.database();
  const rate = 4;
  const r = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--rate', String(rate)] });
  assert.equal(r.code, 0, r.stderr);
  const at = api.requests.map((q) => q.at);
  assert.ok(at.length >= 2 * rate + 1, `${at.length} requests: too few to fill two windows`);
  // The stand-in sees a request when it arrives, a transit after the
  // backfill started it; transits differ by a few ms (more on a busy
  // machine), hence the slack: no 0.9 s holds more than N arrivals.
  const slack = 100;
  for (let i = 0; i + rate < at.length; i++) {
    const span = at[i + rate] - at[i];
    assert.ok(span >= 1000 - slack, `requests ${i + 1} to ${i + rate + 1} arrived within ${span} ms`);
  }
  assertSame(instance, await readMirror(cluster, database), { exact: true });
});

test('an answer that is not a listing fails the run at once: exit 1, the run ends failed', async () => {
  const instance = new ClerkInstance(9, SIZES);
  const { api, key } = await standIn(instance);
  const database = await cluster.database();
  api.intercept = async (request) => (request.path.startsWith('/users?') ? { status: 200, body: '{"data": "no"}' } : undefined);
  const r = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--rate', '0'] });
  assert.equal(r.code, 1);
  assert.match(r.stderr.trimEnd().split('\n').pop(), /^orgsync-relay backfill: GET \/users\?.*: unusable answer: expected an array$/);
  const [run] = await cluster.sql(database, 'SELECT outcome FROM orgsync.backfill_runs');
  assert.match(run.outcome, /^failed: GET \/users/);
  // What was read before stays applied.
  const [orgs] = await cluster.sql(database, 'SELECT count(*)::int AS n FROM orgsync.organizations');
  assert.equal(orgs.n, SIZES.organizations);
});

for (const cursorGone of ['422', 'empty']) {
  test(`the users' cursor deleted between two pages (Clerk answering ${cursorGone}): continued from its time`, async () => {
    const instance = new ClerkInstance(10, SIZES);
    const secret = newSecret();
    const { api, key } = await standIn(instance, { cursorGone });
    const database = await cluster.database(secret);
    let deleted = null;
    api.intercept = async (request) => {
      const cursor = request.query.get('starting_after');
      if (deleted || !cursor || !request.path.startsWith('/users?')) return;
      deleted = cursor;
      await deliver(cluster, database, secret, instance.deleteUser(instance.get('users', cursor)));
    };
    const r = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--page-size', '5', '--rate', '0'] });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(deleted);
    assert.ok(api.requestsTo('/users').some((q) => q.query.has('created_at_after')), 'continued by creation time');
    assertSame(instance, await readMirror(cluster, database), { exact: false });
  });
}

test('HTTPS: refused without the CA, complete with --api-ca-file; verification is never off', async () => {
  const dir = mkdtempSync('/tmp/orgsync-backfill-tls-');
  try {
    const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    for (const ca of ['ca', 'other-ca']) {
      openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '1',
        '-subj', `/CN=orgsync test ${ca}`);
    }
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName = IP:127.0.0.1\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext');
    const tls = { key: readFileSync(path.join(dir, 'server.key')), cert: readFileSync(path.join(dir, 'server.pem')) };
    const instance = new ClerkInstance(11, SIZES);
    const { api, key } = await standIn(instance, { tls });
    assert.match(api.url, /^https:/);
    const database = await cluster.database();

    const untrusted = await runBackfill({ cluster, database, apiUrl: api.url, key });
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /^orgsync-relay backfill: the certificate of https:\/\/127\.0\.0\.1:\d+\/v1 did not verify: .+\n$/);
    const other = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--api-ca-file', path.join(dir, 'other-ca.pem')] });
    assert.equal(other.code, 1);
    assert.match(other.stderr, /did not verify/);
    assert.equal(api.requests.length, 0, 'nothing sent over an unverified connection');

    const trusted = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--api-ca-file', path.join(dir, 'ca.pem'), '--rate', '0'] });
    assert.equal(trusted.code, 0, trusted.stderr);
    assertSame(instance, await readMirror(cluster, database), { exact: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on a terminal: one line per kind, redrawn in place', async () => {
  const instance = new ClerkInstance(13, SIZES);
  const { api, key } = await standIn(instance);
  const database = await cluster.database();
  // Paced, so that pages come slower than the display's ten redraws a second.
  const r = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--page-size', '5', '--rate', '20'], terminal: true });
  assert.equal(r.code, 0, r.stdout);
  const screen = r.stdout.replace(/\r/g, '');
  // Back up the 7 lines of the block, clear, draw them again.
  assert.ok(screen.split('\x1b[7F\x1b[J').length > 10, screen.slice(0, 500));
  assert.match(screen, /^users {10}\d+ \/ 40  \d+%/m);
  assert.match(screen, /^memberships    listed: \d+ read$/m);
  assert.doesNotMatch(screen, /event=backfill_page/, 'no log lines on a terminal');
  assertSame(instance, await readMirror(cluster, database), { exact: true });
});

test('a role without orgsync_backfill: exit 1 with the database\'s reason, nothing written', async () => {
  const instance = new ClerkInstance(14, { organizations: 2, users: 2, memberships: 2 });
  const { api, key } = await standIn(instance);
  const database = await cluster.database();
  await cluster.sql('postgres', 'CREATE ROLE no_backfill_test LOGIN');
  const r = await runBackfill({ cluster, database, apiUrl: api.url, key, role: 'no_backfill_test' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^orgsync-relay backfill: orgsync\.backfill_start: permission denied for function backfill_start \(SQLSTATE 42501\)\n$/);
  assert.deepEqual(await cluster.sql(database, 'SELECT * FROM orgsync.backfill_runs'), []);
});

test('usage: no key, unknown flags and bad values exit 2; --resume without a run exits 1', async () => {
  const instance = new ClerkInstance(12, { organizations: 1, users: 1, memberships: 1 });
  const { api, key } = await standIn(instance);
  const database = await cluster.database();
  const noKey = await runBackfill({ cluster, database, apiUrl: api.url, key: '' });
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /^orgsync-relay backfill: CLERK_SECRET_KEY is not set/);
  for (const args of [['--key', 'x'], ['--page-size', '1'], ['--page-size', '501'], ['--rate', '-1'], ['--api-url', 'ftp://x']]) {
    const r = await runBackfill({ cluster, database, apiUrl: api.url, key, args });
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
  }
  const resume = await runBackfill({ cluster, database, apiUrl: api.url, key, args: ['--resume'] });
  assert.equal(resume.code, 1);
  assert.match(resume.stderr, /--resume: no unfinished run/);
  assert.deepEqual(api.requests.map((q) => q.path), ['/users/count'], 'only the key was checked');
});
