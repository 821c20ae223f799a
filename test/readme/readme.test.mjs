// README.md's "Getting started", block by block, as a newcomer runs it: with
// `make run` running (scripts/run.sh, on a run directory and ports of the
// test's own), `make demo`, then each SQL block in the psql session `make
// demo` prints, the event list against orgsync's own, and the backfill block
// against a stand-in for Clerk's Backend API (test/backfill's: it speaks
// the API's documented paths, paging and objects). The blocks run as they
// are written; the two things the test changes are the environment (the
// run directory and port of make run, CLERK_SECRET_KEY and CLERK_API_URL,
// which a reader sets for their own instance) and, in the backfill block's
// connection string, make run's default port for the test's. A block
// added, removed or reordered fails the first test: this file then needs
// the same change.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClerkInstance } from '../backfill/clerk-instance.mjs';
import { ClerkApiStandIn } from '../backfill/clerk-api-stand-in.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');

// The fenced blocks of a section (from its heading to the next `## `).
function blocks(markdown, heading) {
  const start = markdown.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has no "${heading}"`);
  const end = markdown.indexOf('\n## ', start + heading.length + 2);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```$/gm)].map((m) => ({
    lang: m[2],
    text: m[3].split('\n').map((l) => l.slice(m[1].length)).join('\n'),
  }));
}
const started = blocks(readme, '## Getting started');

const freePort = () => Number(execFileSync('bash', [path.join(repo, 'test/free-port.sh')]).toString().trim());
const work = mkdtempSync(path.join(tmpdir(), 'orgsync-readme.'));
let env, run, demoPsql;

// Runs `command` with bash in the repository; resolves to { code, out }
// (stdout and stderr together).
function sh(command, extraEnv = {}) {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd: repo, env: { ...env, ...extraEnv } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('close', (code) => resolve({ code, out }));
  });
}

// A SQL block in the session `make demo` prints: unaligned, tuples only.
async function sql(text, database = null) {
  const file = path.join(work, `block-${Date.now()}.sql`);
  writeFileSync(file, text);
  const psql = database === null ? demoPsql : demoPsql.replace('dbname=orgsync_demo', `dbname=${database}`);
  const r = await sh(`${psql} -X -q -A -t -v ON_ERROR_STOP=1 -f ${file}`);
  assert.equal(r.code, 0, r.out);
  return r.out.trim().split('\n').filter((l) => l !== '');
}

before(async () => {
  const pgPort = freePort();
  let relayPort = freePort();
  while (relayPort === pgPort) relayPort = freePort();
  env = {
    ...process.env,
    ORGSYNC_RUN_DIR: path.join(work, '.run'),
    ORGSYNC_PG_PORT: String(pgPort),
    ORGSYNC_RELAY_LISTEN: `127.0.0.1:${relayPort}`,
  };
  delete env.ORGSYNC_WEBHOOK_SECRET;
  run = spawn('scripts/run.sh', [], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  run.stdout.on('data', (d) => { out += d; });
  run.stderr.on('data', (d) => { out += d; });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://${env.ORGSYNC_RELAY_LISTEN}/healthz`)).ok) break;
    } catch { /* not listening yet */ }
    if (i === 300 || run.exitCode !== null) throw new Error(`make run did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  if (run && run.exitCode === null) {
    run.kill('SIGTERM');
    await new Promise((r) => run.on('close', r));
  }
  // As root the cluster's files live under /var/lib/orgsync behind a link in
  // the run directory (cluster.sh): removing the link alone would leave them.
  execFileSync(path.join(repo, 'scripts/cluster.sh'), ['remove', path.join(work, '.run', 'cluster')], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
});

test('Getting started has the blocks this test runs, in this order', () => {
  assert.deepEqual(started.map((b) => b.lang), ['sh', 'sql', 'sql', 'sql', '', 'sh', 'sql']);
});

test('make demo: every delivery answered 200, and it prints the psql command that opens its database', async () => {
  assert.equal(started[0].text.trim(), 'make demo');
  const r = await sh(started[0].text);
  assert.equal(r.code, 0, r.out);
  const answers = r.out.split('\n').filter((l) => /^\d{3} /.test(l));
  assert.equal(answers.length, 6, r.out);
  assert.ok(answers.every((l) => l.startsWith('200 ')), r.out);
  for (const status of ['applied', 'stale', 'duplicate', 'ignored']) assert.match(r.out, new RegExp(`"status": "${status}"`));
  demoPsql = /(psql "host=[^"]* dbname=orgsync_demo [^"]*")/.exec(r.out)?.[1];
  assert.ok(demoPsql, r.out);
});

test('who belongs where: Jane, in the organization as its newest version names it', async () => {
  assert.deepEqual(await sql(started[1].text), ['Acme Corp Updated|jane.doe@acme.com|org:member']);
  assert.match(readme, /Jane is a member of "Acme Corp Updated"/);
});

test('row-level security from the session token: Acme Corp\'s room only, and none once she is removed', async () => {
  assert.deepEqual(await sql(started[2].text), []);
  const asJane = started[3].text;
  const rooms = (lines) => lines.filter((l) => l.startsWith('org_'));
  assert.deepEqual(rooms(await sql(asJane)), ['org_2g7np7Hrk0SN6kj5EDMLDaKNL0S|101']);
  // Clerk removes her: the organizationMembership.deleted webhook, applied
  // as a trusted event (the demo's relay and secret are gone).
  const removal = readFileSync(path.join(repo, 'test/fixtures/clerk/organizationMembership.deleted.json'), 'utf8');
  const [applied] = await sql(`SELECT orgsync.apply_event(${quote(removal)}::jsonb) ->> 'status';`);
  assert.equal(applied, 'applied');
  assert.deepEqual(rooms(await sql(asJane)), []);
});

const quote = (s) => `'${s.replace(/'/g, "''")}'`;

test('the events to subscribe to: those of docs/events.md, each one applied by orgsync', async () => {
  const listed = started[4].text.split(/\s+/).filter(Boolean).sort();
  const events = readFileSync(path.join(repo, 'docs/events.md'), 'utf8');
  const documented = blocks(events, '## What to subscribe to')[0].text.split(/\s+/).filter(Boolean).sort();
  assert.deepEqual(listed, documented);
  assert.equal(listed.length, 21);
  // Each fixture of those types, in a database of its own, is applied;
  // every other fixture type is ignored.
  await sql('DROP DATABASE IF EXISTS readme_events; CREATE DATABASE readme_events;');
  await sql('CREATE EXTENSION orgsync;', 'readme_events');
  const fixtures = path.join(repo, 'test/fixtures/clerk');
  const types = ['organization', 'organizationDomain', 'organizationInvitation', 'organizationMembership', 'permission',
                 'role', 'user', 'session']
    .flatMap((t) => ['created', 'updated', 'deleted', 'accepted', 'revoked', 'ended', 'pending', 'removed']
      .map((a) => `${t}.${a}`))
    .filter((t) => { try { readFileSync(path.join(fixtures, `${t}.json`)); return true; } catch { return false; } });
  for (const type of types) {
    const body = readFileSync(path.join(fixtures, `${type}.json`), 'utf8');
    const [status] = await sql(`SELECT orgsync.apply_event(${quote(body)}::jsonb) ->> 'status';`, 'readme_events');
    assert.equal(status === 'ignored' ? 'not listed' : 'listed', listed.includes(type) ? 'listed' : 'not listed',
                 `${type}: ${status}`);
  }
  await sql('DROP DATABASE readme_events;');
});

test('the backfill block fills make run\'s mirror from Clerk (a stand-in for its Backend API)', async () => {
  const instance = new ClerkInstance(11, { organizations: 5, users: 12, memberships: 20 });
  const key = 'sk_test_readme';
  const api = new ClerkApiStandIn(instance, { secretKey: key });
  const url = await api.listen();
  try {
    const block = started[5].text;
    assert.equal(block.split('port=54329').length, 2, block);
    const command = block.replace('port=54329', `port=${env.ORGSYNC_PG_PORT}`);
    const r = await sh(command, { CLERK_SECRET_KEY: key, CLERK_API_URL: url.replace(/\/v1$/, '') });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^run \d+ complete/m);
    const live = (kind) => String(instance.liveOf(kind).length);
    assert.deepEqual(await sql(`SELECT count(*) FILTER (WHERE deleted_at IS NULL) FROM orgsync.organizations;
                                SELECT count(*) FILTER (WHERE deleted_at IS NULL) FROM orgsync.users;
                                SELECT count(*) FILTER (WHERE deleted_at IS NULL) FROM orgsync.memberships;`,
                               'postgres'),
                     [live('organizations'), live('users'), live('memberships')]);
    assert.ok(api.requests.length > 0);
  } finally {
    await api.close();
  }
});

test('orgsync.status: the demo\'s deliveries by type', async () => {
  const rows = await sql(started[6].text);
  assert.ok(rows.some((r) => r.startsWith('default|organizationMembership.created|{"applied": 1}')), rows.join('\n'));
  assert.ok(rows.some((r) => r.startsWith('default|session.created|{"ignored": 1}')), rows.join('\n'));
});
