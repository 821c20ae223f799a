// Shared by test/stress and test/faults: a throwaway cluster and relay on
// ports from test/free-port.sh, a shuffled and duplicated delivery list built
// from the property generator, Svix-style signing, and the final checks
// against the property model.

import { spawn, execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Webhook } from 'svix';
import { generateHistory } from '../property/generator.mjs';
import { expectedTables, diffTables } from '../property/model.mjs';
import { readTables, asJsonb } from '../property/db.mjs';
import { Rng, subSeed } from '../property/prng.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const clusterSh = path.join(root, 'scripts/cluster.sh');
const freePortSh = path.join(root, 'test/free-port.sh');
const relayBin = path.join(root, 'relay/orgsync-relay');

export const RETRYABLE = new Set(['40001', '40P01', '55P03']);
export const newSecret = () => 'whsec_' + randomBytes(24).toString('base64');
export const freePort = () => Number(execFileSync('bash', [freePortSh]).toString().trim());

// ------------------------------------------------------------------ seeds

const parseSeed = (s) => Number(BigInt(s.trim())) >>> 0;

// The history seeds of a run: one replayed seed, or `count` derived from a
// printed base seed.
export function seedsFrom(prefix, count) {
  const env = process.env;
  if (env[`${prefix}_SEED`]) return [parseSeed(env[`${prefix}_SEED`])];
  const base = env[`${prefix}_BASE_SEED`] ? parseSeed(env[`${prefix}_BASE_SEED`]) : randomInt(2 ** 32 - 1);
  console.log(`# base seed ${base} (${prefix}_BASE_SEED=${base} reruns this set)`);
  return Array.from({ length: count }, (_, i) => subSeed(base, i));
}

// ------------------------------------------------------------------ cluster

const asServer = (args) => (process.getuid() === 0 ? ['runuser', ['-u', 'postgres', '--', ...args]] : [args[0], args.slice(1)]);

export class Cluster {
  constructor(name) {
    this.dir = mkdtempSync(`/tmp/orgsync-${name}-`);
    this.port = null;
    this.running = false;
  }

  get config() {
    return { host: path.join(this.dir, 'sock'), port: this.port, user: 'postgres', database: 'postgres' };
  }

  get conninfo() {
    return `host=${this.config.host} port=${this.port} user=postgres dbname=postgres`;
  }

  // Asynchronous, so that senders keep running (and retrying) meanwhile.
  async cluster(...args) {
    try {
      await promisify(execFile)('bash', [clusterSh, ...args]);
    } catch (err) {
      throw new Error(`cluster.sh ${args.join(' ')} failed: ${err.stderr || err.message}\n${this.serverLog(2000)}`);
    }
  }

  serverLog(tail = 4000) {
    try { return readFileSync(path.join(this.dir, 'server.log'), 'utf8').slice(-tail); } catch { return ''; }
  }

  // First start: a free port (another cluster may take it first: try again).
  async start({ fsync = 'on' } = {}) {
    process.env.ORGSYNC_FSYNC = fsync;
    for (let attempt = 1; ; attempt++) {
      const port = this.port ?? freePort();
      try {
        await this.cluster('start', this.dir, String(port));
        this.port = port;
        this.running = true;
        return;
      } catch (err) {
        if (attempt >= 3 || this.port) throw err;
      }
    }
  }

  // Restart on the same port (the relay keeps its conninfo).
  async restart() {
    await this.cluster('start', this.dir, String(this.port));
    this.running = true;
  }

  async stopFast() {
    await this.cluster('stop', this.dir);
    this.running = false;
  }

  // A crash: postmaster and backends quit at once, no checkpoint; the next
  // start runs crash recovery from the WAL.
  async stopImmediate() {
    const bindir = execFileSync('pg_config', ['--bindir']).toString().trim();
    const [cmd, args] = asServer([path.join(bindir, 'pg_ctl'), '-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    // From /: postgres may not enter the test's directory (a clone under /root).
    await promisify(execFile)(cmd, args, { cwd: '/' });
    this.running = false;
  }

  async client() {
    const c = new pg.Client(this.config);
    c.on('error', () => {}); // a terminated idle session must not crash the test process
    await c.connect();
    return c;
  }

  // A fresh connection per query: works across restarts.
  async sql(text, params = []) {
    const c = await this.client();
    try { return (await c.query(text, params)).rows; } finally { await c.end().catch(() => {}); }
  }

  async destroy() {
    try { if (this.dir && this.port) await this.cluster('stop', this.dir); } catch (err) { console.log(`# stopping cluster: ${err.message}`); }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ relay

export class Relay {
  constructor(cluster, pool) {
    this.cluster = cluster;
    this.pool = pool;
    this.port = null;
    this.child = null;
    this.log = '';
    this.all = [];
  }

  get url() { return `http://127.0.0.1:${this.port}/webhooks`; }

  // Starts on this.port (or a free one), waiting for the "listening" line.
  async start() {
    for (let attempt = 1; ; attempt++) {
      const port = this.port ?? freePort();
      try {
        await this.spawn(port);
        this.port = port;
        return;
      } catch (err) {
        // the port may be taken between probing and binding; a fixed port may
        // still be held for a moment by the relay just killed
        if (attempt >= 5 || !/cannot listen/.test(err.message)) throw err;
        await sleep(100);
      }
    }
  }

  spawn(port) {
    const child = spawn(relayBin, ['--listen', `127.0.0.1:${port}`, '--database-url', this.cluster.conninfo,
      '--pool', String(this.pool)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const r = { child, exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))) };
    let log = '';
    child.stderr.on('data', (d) => { log += d; this.log += d; });
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes(`listening on http://127.0.0.1:${port} (pool`)) {
          this.child = r;
          this.all.push(r);
          resolve();
        }
      });
      r.exited.then(() => reject(new Error(`relay exited early: ${log}`)));
    });
  }

  async kill9() {
    const r = this.child;
    this.child = null;
    r.child.kill('SIGKILL');
    return r.exited;
  }

  async stop() {
    for (const r of this.all) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      const timer = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
      await r.exited;
      clearTimeout(timer);
    }
    this.child = null;
  }
}

// ------------------------------------------------------------------ deliveries

// One history from the property generator, shuffled, with duplicates (same
// svix id and body): ~dupRate of the events get 1-2 copies at random places,
// ~adjacentRate get a copy right next to the first so that concurrent
// sessions race on the same id. `generator`: options of generateHistory, by
// default without domains, roles and permissions (test/faults empties only
// the four older tables between its runs); pass `organizationModel` for them,
// with three times the default share of invitations, domains, roles and
// permissions so that sessions meet on their rows.
export const organizationModel = {
  domains: true, roles: true,
  weights: {
    inviteCreate: 10, inviteAccept: 7, inviteRevoke: 4, createDomain: 7, updateDomain: 9, deleteDomain: 2.5,
    createPermission: 4, updatePermission: 3, deletePermission: 1.5, createRole: 4, updateRole: 7, deleteRole: 2,
  },
};
export function buildDeliveries(seed, { minEvents = 200, maxEvents = 280, dupRate = 0.25, adjacentRate = 0.1, generator = { domains: false, roles: false } } = {}) {
  const history = generateHistory(seed, { minEvents, maxEvents, ...generator });
  const rng = new Rng(subSeed(seed, 1000));
  const list = rng.shuffle(history.events).map((event) => ({ event, msgId: event.msgId, body: event.body }));
  for (const event of history.events) {
    if (rng.chance(dupRate)) {
      const copies = rng.chance(0.2) ? 2 : 1;
      for (let c = 0; c < copies; c++) list.splice(rng.int(0, list.length), 0, { event, msgId: event.msgId, body: event.body });
    }
  }
  for (const event of history.events) {
    if (rng.chance(adjacentRate)) {
      const at = list.findIndex((d) => d.msgId === event.msgId);
      list.splice(at + 1, 0, { event, msgId: event.msgId, body: event.body });
    }
  }
  return { history, deliveries: list };
}

// Svix's headers for one attempt: signed now, with a fresh timestamp.
export function signer(secret) {
  const wh = new Webhook(secret);
  return (msgId, body) => {
    const now = new Date();
    return {
      'svix-id': msgId,
      'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
      'svix-signature': wh.sign(msgId, now, body),
    };
  };
}

// every mirror table and the deliveries
export { reset } from '../property/db.mjs';

// The state after a run. `answers`: msgId -> statuses of the 2xx answers the
// sender got (in any order). Returns problem lines:
//   - orgsync.events: one row per delivered id, no other row, none invalid,
//     the status its kind allows (ignored for session.*, applied|stale else),
//     equal to the non-duplicate answer when one was seen;
//   - at most one non-duplicate answer per id (a second one = applied twice,
//     or the first lost); `strictAnswers`: exactly one (no faults);
//   - the mirror tables equal the model's final state.
export async function checkFinal(client, { history, deliveries, answers, strictAnswers = false }) {
  const problems = [];
  const events = new Map(history.events.map((e) => [e.msgId, e]));
  const delivered = new Set(deliveries.map((d) => d.msgId));
  const { rows } = await client.query('SELECT id, status, error FROM orgsync.events');
  const stored = new Map(rows.map((r) => [r.id, r]));
  const missing = [];
  for (const id of delivered) {
    const e = events.get(id);
    const row = stored.get(id);
    const firsts = (answers.get(id) || []).filter((s) => s != null && s !== 'duplicate');
    const allowed = e.kind === 'session' ? ['ignored'] : ['applied', 'stale'];
    if (!row) { missing.push(id); problems.push(`events: ${id} (${e.type} ${e.objectId}) missing; answers ${JSON.stringify(answers.get(id) || [])}`); continue; }
    if (!allowed.includes(row.status)) problems.push(`events: ${id} (${e.type}) stored as ${row.status} ${row.error || ''}, expected ${allowed.join('|')}`);
    if (firsts.length > 1) problems.push(`answers: ${id} (${e.type}) answered ${JSON.stringify(firsts)}: applied more than once`);
    if (strictAnswers && firsts.length !== 1) problems.push(`answers: ${id} (${e.type}) answered ${JSON.stringify(answers.get(id) || [])}: expected exactly one non-duplicate`);
    if (firsts.length >= 1 && firsts[0] !== row.status) problems.push(`events: ${id} stored as ${row.status} but answered ${firsts[0]}`);
  }
  for (const id of stored.keys()) if (!delivered.has(id)) problems.push(`events: unexpected row ${id}`);
  const diff = diffTables(await asJsonb(client, expectedTables(history.events)), await readTables(client));
  problems.push(...diff.map((l) => `model: ${l}`));
  return { problems, missing, modelDiff: diff.length, rows: stored.size, distinct: delivered.size };
}

export function countBy(map, key, n = 1) {
  map[key] = (map[key] || 0) + n;
}
