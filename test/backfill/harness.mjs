// What the backfill tests share: a throwaway cluster, a database per test,
// running relay/orgsync-relay (backfill and serve), signed webhook
// deliveries, and orgsync's tables compared with a ClerkInstance.

import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Webhook } from 'svix';
import { KINDS } from './clerk-instance.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const relayBin = path.join(root, 'relay/orgsync-relay');
const testDir = path.join(root, 'test');

// The roles the backfill and the relay connect as: granted orgsync's roles
// for them, nothing else.
export const BACKFILL_ROLE = 'backfill_test';
export const RELAY_ROLE = 'relay_test';

// fsync off unless ORGSYNC_FSYNC=on, as the other suites' clusters.
export class Cluster {
  async start() {
    this.dir = mkdtempSync('/tmp/orgsync-backfill-test-');
    for (let attempt = 1; ; attempt++) {
      this.port = Number(execFileSync('bash', [path.join(testDir, 'free-port.sh')]).toString().trim());
      try {
        execFileSync('bash', [path.join(root, 'scripts/cluster.sh'), 'start', this.dir, String(this.port)], {
          stdio: 'ignore', env: { ...process.env, ORGSYNC_FSYNC: process.env.ORGSYNC_FSYNC ?? 'off' },
        });
        break;
      } catch (err) {
        if (attempt === 3) throw new Error(`cluster.sh start failed: ${err.message}\n${this.serverLog()}`);
      }
    }
    this.host = path.join(this.dir, 'sock');
    // Roles belong to the cluster; orgsync_backfill and orgsync_webhook come with the extension.
    await this.sql('postgres', 'CREATE EXTENSION orgsync');
    await this.sql('postgres', `CREATE ROLE ${BACKFILL_ROLE} LOGIN IN ROLE orgsync_backfill`);
    await this.sql('postgres', `CREATE ROLE ${RELAY_ROLE} LOGIN IN ROLE orgsync_webhook`);
    this.databases = 0;
  }

  serverLog() {
    try { return readFileSync(path.join(this.dir, 'server.log'), 'utf8').slice(-3000); } catch { return ''; }
  }

  stop() {
    if (!this.dir) return;
    try { execFileSync('bash', [path.join(root, 'scripts/cluster.sh'), 'stop', this.dir], { stdio: 'ignore' }); } catch { /* gone */ }
    rmSync(this.dir, { recursive: true, force: true });
  }

  config(database, user = 'postgres') {
    return { host: this.host, port: this.port, user, database };
  }

  conninfo(database, user) {
    return `host=${this.host} port=${this.port} user=${user} dbname=${database}`;
  }

  async connect(database) {
    const client = new pg.Client(this.config(database));
    await client.connect();
    return client;
  }

  async sql(database, text, params = []) {
    const client = await this.connect(database);
    try {
      return (await client.query(text, params)).rows;
    } finally {
      await client.end();
    }
  }

  // A fresh database with orgsync (and a webhook secret, for deliveries).
  async database(secret = null) {
    const name = `backfill_${++this.databases}`;
    await this.sql('postgres', `CREATE DATABASE ${name}`);
    await this.sql(name, 'CREATE EXTENSION orgsync');
    if (secret) await this.sql(name, 'SELECT orgsync.add_secret($1)', [secret]);
    return name;
  }
}

export const newSecret = () => 'whsec_' + randomBytes(24).toString('base64');
export const newKey = () => 'sk_test_' + randomBytes(18).toString('hex');

// Runs `orgsync-relay backfill` with `args`, CLERK_SECRET_KEY=`key` and
// `env`, as `role`; with --api-url `apiUrl` unless it is null. Resolves to { code, signal, stdout, stderr } once it exits.
// `started(child)` sees the process as soon as it runs. terminal: under
// script(1), so that stderr is a terminal (stdout and stderr then both come
// in `stdout`).
export function runBackfill({ cluster, database, apiUrl, key, args = [], env = {}, role = BACKFILL_ROLE, started = null,
                             terminal = false }) {
  const argv = ['backfill', '--database-url', cluster.conninfo(database, role),
                ...(apiUrl === null ? [] : ['--api-url', apiUrl]), ...args];
  const quote = (a) => `'${a.replace(/'/g, "'\\''")}'`;
  const [command, commandArgs] = terminal
    ? ['script', ['-qefc', [relayBin, ...argv].map(quote).join(' '), '/dev/null']]
    : [relayBin, argv];
  const child = spawn(command, commandArgs, {
    env: { PATH: process.env.PATH, CLERK_SECRET_KEY: key, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { out.stdout += d; });
  child.stderr.on('data', (d) => { out.stderr += d; });
  if (started) started(child);
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, ...out })));
}

// `orgsync-relay serve` on a free port, connected as RELAY_ROLE.
export async function startRelay(cluster, database) {
  for (let attempt = 1; ; attempt++) {
    const port = Number(execFileSync('bash', [path.join(testDir, 'free-port.sh')]).toString().trim());
    const child = spawn(relayBin, ['serve', '--listen', `127.0.0.1:${port}`, '--database-url',
      cluster.conninfo(database, RELAY_ROLE)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = { child, url: `http://127.0.0.1:${port}`, log: '' };
    relay.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    child.stderr.on('data', (d) => { relay.log += d; });
    const up = await new Promise((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('listening on')) resolve(true);
      });
      relay.exited.then(() => resolve(false));
    });
    if (up) {
      relay.stop = async () => { child.kill('SIGTERM'); await relay.exited; };
      return relay;
    }
    if (attempt === 3) throw new Error(`the relay did not start: ${relay.log}`);
  }
}

// Standard Webhooks headers for an event, signed by the official svix package.
export function signedHeaders(secret, event, at = new Date()) {
  return {
    'svix-id': event.msgId,
    'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
    'svix-signature': new Webhook(secret).sign(event.msgId, at, event.body),
  };
}

// Events delivered as Svix would, straight into orgsync.handle_events (in
// calls of 500 at the most: it takes 1000).
export async function deliver(cluster, database, secret, events) {
  const client = await cluster.connect(database);
  const results = [];
  try {
    for (let i = 0; i < events.length; i += 500) {
      const batch = events.slice(i, i + 500);
      const headers = batch.map((e) => JSON.stringify(signedHeaders(secret, e)));
      const { rows } = await client.query(
        'SELECT r FROM orgsync.handle_events($1::jsonb[], $2::text[]) WITH ORDINALITY AS t(r, n) ORDER BY n',
        [headers, batch.map((e) => e.body)]);
      results.push(...rows.map((row) => row.r));
    }
    return results;
  } finally {
    await client.end();
  }
}

// An event posted to the relay; resolves to the HTTP status.
export async function post(relay, secret, event) {
  const res = await fetch(`${relay.url}/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signedHeaders(secret, event) },
    body: event.body,
  });
  await res.arrayBuffer();
  return res.status;
}

// ---- orgsync's tables, against the instance -------------------------------------

const ms = (col) => `round(extract(epoch FROM ${col}) * 1000)::float8 AS ${col}`;
const COLUMNS = {
  organizations: `source::text, name, slug, image_url, created_by, max_allowed_memberships, public_metadata,
    private_metadata, ${ms('created_at')}, ${ms('updated_at')}`,
  users: `source::text, primary_email, first_name, last_name, username, image_url, external_id, public_metadata,
    private_metadata, banned, locked, ${ms('last_sign_in_at')}, ${ms('created_at')}, ${ms('updated_at')}`,
  memberships: `organization_id, user_id, role, role_name, permissions, public_metadata, private_metadata,
    ${ms('created_at')}, ${ms('updated_at')}`,
  invitations: `organization_id, email_address, role, role_name, status, inviter_id, user_id,
    ${ms('created_at')}, ${ms('updated_at')}, ${ms('expires_at')}`,
  domains: `organization_id, name, enrollment_mode, verification_status, affiliation_email_address,
    total_pending_invitations, total_pending_suggestions, ${ms('created_at')}, ${ms('updated_at')}`,
  roles: `key, name, description, is_creator_eligible, permissions, ${ms('created_at')}, ${ms('updated_at')}`,
  permissions: `key, name, description, type, ${ms('created_at')}, ${ms('updated_at')}`,
};

// Per kind, id -> { ended, row }.
export async function readMirror(cluster, database) {
  const client = await cluster.connect(database);
  try {
    const mirror = {};
    for (const kind of KINDS) {
      const { rows } = await client.query(
        `SELECT id, deleted_at IS NOT NULL AS ended, ${COLUMNS[kind]}, data FROM orgsync.${kind}`);
      mirror[kind] = new Map(rows.map(({ id, ended, ...row }) => [id, { ended, row }]));
    }
    return mirror;
  } finally {
    await client.end();
  }
}

// What may differ between two copies of one version of an object when
// webhooks and listings both wrote it: counts Clerk changes without a new
// updated_at, and the snapshots of other objects it embeds (the merge joins
// such copies; their own rows are compared on their own).
const UNVERSIONED = {
  organizations: ['members_count', 'pending_invitations_count'],
  memberships: ['organization', 'public_user_data'],
  invitations: ['public_organization_data', 'public_inviter_data'],
  domains: ['public_organization_data', 'total_pending_invitations', 'total_pending_suggestions'],
  roles: ['permissions'],
};

function canonical(v) {
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
}

const short = (v) => {
  const s = canonical(v);
  return s.length > 200 ? s.slice(0, 197) + '...' : s;
};

// Differences between orgsync's tables and the instance, one line each: a
// live object missing or ended, a deleted one live, a column that differs.
// exact: `data` compared whole (nothing but listings wrote the rows).
export function differences(instance, mirror, { exact = true } = {}) {
  const diffs = [];
  const expected = instance.expectedRows();
  for (const kind of KINDS) {
    for (const [id, e] of expected[kind]) {
      const a = mirror[kind].get(id);
      if (!e.live) {
        if (a && !a.ended) diffs.push(`${kind} ${id}: live in orgsync, deleted in Clerk`);
        continue;
      }
      if (!a) { diffs.push(`${kind} ${id}: missing`); continue; }
      if (a.ended) diffs.push(`${kind} ${id}: ended in orgsync, live in Clerk`);
      for (const [col, value] of Object.entries(e.row)) {
        let want = value, got = a.row[col];
        if (col === 'data' && !exact) {
          want = omit(want, UNVERSIONED[kind]);
          got = omit(got, UNVERSIONED[kind]);
        }
        if (canonical(want) !== canonical(got)) diffs.push(`${kind} ${id}.${col}: expected ${short(want)}, got ${short(got)}`);
      }
    }
    for (const id of mirror[kind].keys()) if (!expected[kind].has(id)) diffs.push(`${kind} ${id}: not Clerk's`);
  }
  return diffs;
}

function omit(obj, keys = []) {
  if (!obj || typeof obj !== 'object') return obj;
  const copy = { ...obj };
  for (const k of keys) delete copy[k];
  return copy;
}
