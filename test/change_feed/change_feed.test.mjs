// The change feed: with orgsync.notify_changes on, a LISTEN orgsync_changes
// connection receives one notification per row change the merge commits.
//
// What a listener should see is worked out without the feed, twice over:
//   - row triggers on the mirror tables and on orgsync.events log every row
//     orgsync writes, in order, in the same transaction; the writes logged
//     before a delivery's record in orgsync.events are that delivery's. A
//     rolled-back transaction takes its log rows with it.
//   - a snapshot of every mirror row before and after each transaction: the
//     rows notified must be exactly the rows that differ.
// Deliveries go through orgsync.handle_event (one per transaction, several
// in one statement) and orgsync.handle_events, as a role holding only
// orgsync_webhook, shuffled, with duplicates; some transactions roll back
// (whole, after an error, or to a savepoint) and their deliveries are sent
// again later, as Svix retries; others roll back and are never sent again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Webhook } from 'svix';
import { deliveries, history, prng } from './history.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const SECRET = 'whsec_' + randomBytes(24).toString('base64');
const SEED = Number(process.env.ORGSYNC_FEED_SEED ?? randomBytes(4).readUInt32LE());
const HISTORIES = 3;
const MIRROR_TABLES = ['organizations', 'users', 'memberships', 'invitations', 'domains', 'roles', 'permissions'];
const PAYLOAD_KEYS = ['delivery_id', 'id', 'operation', 'organization_id', 'table', 'type'];
const DAY_MS = 86400000;

const clients = [];
async function connect(database, user = 'postgres') {
  const client = new pg.Client({ database, user }); // PGHOST and PGPORT from run.sh's cluster
  await client.connect();
  clients.push(client);
  return client;
}

// Every row orgsync writes, logged by row triggers: a mirror row as
// (table, id, organization_id, operation), a delivery's record in
// orgsync.events as (events, delivery id, type). A write that only sets
// deleted_at, or inserts a row known only by its deletion, ends the row.
const WRITE_LOG = `
  CREATE SCHEMA feed_test;
  CREATE TABLE feed_test.writes (
    seq bigserial PRIMARY KEY, tbl text NOT NULL, id text NOT NULL, organization_id text, operation text, type text);
  CREATE FUNCTION feed_test.log_write() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    row_now jsonb := to_jsonb(NEW);
    ends boolean;
  BEGIN
    IF TG_TABLE_NAME = 'events' THEN
      INSERT INTO feed_test.writes (tbl, id, type) VALUES ('events', NEW.id, NEW.type);
      RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
      ends := row_now -> 'data' = 'null' AND row_now -> 'deleted_at' <> 'null';
    ELSE
      ends := row_now - 'deleted_at' = to_jsonb(OLD) - 'deleted_at';
    END IF;
    INSERT INTO feed_test.writes (tbl, id, organization_id, operation)
    VALUES (TG_TABLE_NAME, NEW.id,
            CASE TG_TABLE_NAME WHEN 'organizations' THEN NEW.id ELSE row_now ->> 'organization_id' END,
            CASE WHEN ends THEN 'delete' ELSE 'upsert' END);
    RETURN NULL;
  END $$;
  ${MIRROR_TABLES.map((t) => `CREATE TRIGGER log_write AFTER INSERT OR UPDATE ON orgsync.${t}
    FOR EACH ROW EXECUTE FUNCTION feed_test.log_write();`).join('\n')}
  CREATE TRIGGER log_write AFTER INSERT ON orgsync.events FOR EACH ROW EXECUTE FUNCTION feed_test.log_write();`;

async function prepareDatabase(admin, name) {
  await admin.query(`CREATE DATABASE ${name}`);
  const db = await connect(name);
  await db.query('CREATE EXTENSION orgsync');
  await db.query('SELECT orgsync.add_secret($1)', [SECRET]);
  await db.query(WRITE_LOG);
  return db;
}

// A LISTEN connection of a role with no privilege on orgsync at all, and
// marks on a channel of the test's own, sent after each step: the
// notifications between two marks are those of the step between them.
async function listener(database) {
  const client = await connect(database, 'feed_reader');
  const received = [];
  client.on('notification', (n) => received.push(n));
  await client.query('LISTEN orgsync_changes');
  await client.query('LISTEN feed_test_mark');
  let taken = 0;
  return {
    // The orgsync_changes notifications since the last mark, up to `mark`.
    async upTo(mark) {
      const deadline = Date.now() + 20000;
      for (;;) {
        const at = received.findIndex((n, i) => i >= taken && n.channel === 'feed_test_mark' && n.payload === mark);
        if (at >= 0) {
          const step = received.slice(taken, at);
          taken = at + 1;
          assert.ok(step.every((n) => n.channel === 'orgsync_changes'), 'a mark out of order');
          return step.map((n) => n.payload);
        }
        if (Date.now() > deadline) throw new Error(`mark ${mark} never arrived`);
        await sleep(10);
      }
    },
  };
}

const sign = (webhook, d) => {
  const now = new Date();
  return JSON.stringify({
    'svix-id': d.msgId,
    'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
    'svix-signature': webhook.sign(d.msgId, now, d.body),
  });
};

// The ways deliveries reach orgsync; each returns one status per delivery.
function via(client) {
  const webhook = new Webhook(SECRET);
  const args = (batch) => [batch.map((d) => sign(webhook, d)), batch.map((d) => d.body)];
  const statuses = (rows) => rows.map((row) => row.r.status);
  return {
    async handle_event(batch) {
      const out = [];
      for (const d of batch) {
        const [[headers], [body]] = args([d]);
        out.push(...statuses((await client.query('SELECT orgsync.handle_event($1::jsonb, $2) AS r', [headers, body])).rows));
      }
      return out;
    },
    async statement(batch) {
      return statuses((await client.query(`
        SELECT orgsync.handle_event(x.h::jsonb, x.b) AS r
        FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(h, b, n) ORDER BY x.n`, args(batch))).rows);
    },
    async handle_events(batch) {
      return statuses((await client.query(`
        SELECT r FROM orgsync.handle_events($1::jsonb[], $2::text[]) WITH ORDINALITY AS t(r, n) ORDER BY n`,
      args(batch))).rows);
    },
  };
}

async function snapshot(db) {
  const { rows } = await db.query(MIRROR_TABLES.map((t) =>
    `SELECT '${t}' AS tbl, x.id, to_jsonb(x)::text AS row FROM orgsync.${t} x`).join(' UNION ALL '));
  return new Map(rows.map((r) => [`${r.tbl}:${r.id}`, r.row]));
}

const changedRows = (before, after) =>
  [...after.keys()].filter((k) => before.get(k) !== after.get(k)).sort();

// The notifications the writes logged since `seq` call for, in order.
// Postgres sends identical notifications of one transaction once.
async function expectedSince(db, seq) {
  const { rows } = await db.query('SELECT * FROM feed_test.writes WHERE seq > $1 ORDER BY seq', [seq]);
  const expected = [];
  let pending = [];
  for (const w of rows) {
    if (w.tbl !== 'events') {
      pending.push(w);
      continue;
    }
    for (const p of pending) {
      expected.push(JSON.stringify({ table: p.tbl, id: p.id, organization_id: p.organization_id,
                                     operation: p.operation, type: w.type, delivery_id: w.id }));
    }
    pending = [];
  }
  assert.deepEqual(pending, [], 'writes after the last recorded delivery of a step');
  return { expected: [...new Set(expected)], seq: rows.length ? rows.at(-1).seq : seq };
}

let admin, onDb, offDb;

before(async () => {
  admin = await connect('postgres');
  onDb = await prepareDatabase(admin, 'feed_on');
  offDb = await prepareDatabase(admin, 'feed_off');
  await admin.query('CREATE ROLE feed_relay LOGIN IN ROLE orgsync_webhook'); // the role comes with the extension
  await admin.query('CREATE ROLE feed_reader LOGIN');
  await admin.query('ALTER DATABASE feed_on SET orgsync.notify_changes = on');
});

after(async () => {
  for (const client of clients) await client.end().catch(() => {});
});

test('a listener sees exactly the changes committed, in order, and nothing of a rollback', async () => {
  console.log(`seed ${SEED} (ORGSYNC_FEED_SEED=${SEED} replays this run)`);
  const random = prng(SEED);
  const relay = await connect('feed_on', 'feed_relay');
  const send = via(relay);
  const listen = await listener('feed_on');
  const start = Date.now() - 30 * DAY_MS;
  const queue = [];
  for (let h = 0; h < HISTORIES; h++) queue.push(...deliveries(history(`h${SEED}x${h}`, start + h * DAY_MS), random));
  const ghosts = history(`ghost${SEED}`, start).filter((d) => d.type === 'organization.created');
  const ghostIds = new Set(ghosts.map((d) => d.msgId));
  const seen = { statuses: new Set(), rolledBack: 0, savepoints: 0, notifications: 0 };
  let seq = 0;

  // Puts deliveries of a rolled-back transaction back in the queue, later,
  // until they commit (Svix retries); ghosts are never sent again. (Retrying
  // each once only lost, in some seeds, every copy of the one ignored or
  // invalid delivery of a history: the run then had none of that status.)
  const retryLater = (batch) => {
    for (const d of batch) {
      if (!ghostIds.has(d.msgId)) queue.splice(Math.min(queue.length, 3 + random.int(10)), 0, d);
    }
  };

  for (let step = 1; queue.length > 0; step++) {
    const mode = ['handle_event', 'statement', 'handle_events', 'handle_events', 'rollback', 'error', 'savepoint'][random.int(7)];
    const batch = queue.splice(0, mode === 'handle_event' ? 1 : 1 + random.int(8));
    const before = await snapshot(onDb);
    const committed = [];
    if (mode === 'rollback' || mode === 'error') {
      const doomed = [...batch, ghosts[step % ghosts.length]];
      await relay.query('BEGIN');
      await send.handle_events(doomed);
      if (mode === 'error') await assert.rejects(relay.query('SELECT 1 / 0'), { code: '22012' });
      await relay.query('ROLLBACK');
      retryLater(doomed);
      seen.rolledBack++;
    } else if (mode === 'savepoint') {
      const kept = batch.slice(0, Math.ceil(batch.length / 2));
      const undone = [...batch.slice(kept.length), ghosts[step % ghosts.length]];
      await relay.query('BEGIN');
      const statuses = await send.handle_events(kept);
      await relay.query('SAVEPOINT undone');
      await send.handle_events(undone);
      await relay.query('ROLLBACK TO SAVEPOINT undone');
      await relay.query('COMMIT');
      kept.forEach((d, i) => committed.push({ d, status: statuses[i] }));
      retryLater(undone);
      seen.savepoints++;
    } else {
      const statuses = await send[mode](batch);
      batch.forEach((d, i) => committed.push({ d, status: statuses[i] }));
    }
    await onDb.query("SELECT pg_notify('feed_test_mark', $1)", [String(step)]);
    const got = await listen.upTo(String(step));
    const after = await snapshot(onDb);
    const { expected, seq: next } = await expectedSince(onDb, seq);
    seq = next;
    const context = `step ${step} (${mode}, seed ${SEED})`;

    assert.deepEqual(got, expected, `${context}: the notifications, against the writes logged`);
    const parsed = got.map((payload) => JSON.parse(payload));
    for (const change of parsed) assert.deepEqual(Object.keys(change).sort(), PAYLOAD_KEYS, context);
    assert.deepEqual([...new Set(parsed.map((c) => `${c.table}:${c.id}`))].sort(), changedRows(before, after),
      `${context}: the rows notified, against the rows that changed`);
    for (const { d, status } of committed) {
      seen.statuses.add(status);
      const applied = committed.some((c) => c.d.msgId === d.msgId && c.status === 'applied');
      const sent = parsed.filter((c) => c.delivery_id === d.msgId).length;
      assert.ok(applied ? sent > 0 : sent === 0, `${context}: ${d.msgId} ${status}, ${sent} notifications`);
    }
    assert.ok(parsed.every((c) => !ghostIds.has(c.delivery_id)), `${context}: a rolled-back delivery notified`);
    seen.notifications += got.length;
  }

  // The run exercised what it claims to.
  for (const status of ['applied', 'stale', 'duplicate', 'ignored', 'invalid']) {
    assert.ok(seen.statuses.has(status), `no ${status} delivery in this run`);
  }
  assert.ok(seen.rolledBack > 0 && seen.savepoints > 0, 'no rolled-back transaction in this run');
  const { rows: [tables] } = await onDb.query(`SELECT count(DISTINCT tbl)::int AS n FROM feed_test.writes WHERE tbl <> 'events'`);
  assert.equal(tables.n, MIRROR_TABLES.length, 'a mirror table the run never wrote');
  console.log(`${seen.notifications} notifications, ${seen.rolledBack} rollbacks, ${seen.savepoints} savepoints undone`);
});

test('with orgsync.notify_changes off (the default), nothing is sent', async () => {
  const random = prng(SEED + 1);
  const relay = await connect('feed_off', 'feed_relay');
  const send = via(relay);
  const listen = await listener('feed_off');
  const sent = deliveries(history(`off${SEED}`, Date.now() - DAY_MS), random);
  const statuses = [...await send.handle_events(sent.slice(0, 20)), ...await send.statement(sent.slice(20))];
  await offDb.query("SELECT pg_notify('feed_test_mark', 'off')");
  assert.deepEqual(await listen.upTo('off'), []);
  assert.ok(statuses.includes('applied'));
  const { rows: [writes] } = await offDb.query(`SELECT count(*)::int AS n FROM feed_test.writes WHERE tbl <> 'events'`);
  assert.ok(writes.n > 0, 'the deliveries wrote rows: there was something to send');
});

test('nothing is sent before the commit', async () => {
  const relay = await connect('feed_on', 'feed_relay');
  const listen = await listener('feed_on');
  const marker = await connect('feed_on');
  const user = history('open', Date.now()).find((d) => d.type === 'user.created');
  await relay.query('BEGIN');
  assert.deepEqual(await via(relay).handle_events([user]), ['applied']);
  await marker.query("SELECT pg_notify('feed_test_mark', 'open')");
  assert.deepEqual(await listen.upTo('open'), [], 'sent while the transaction was open');
  await relay.query('COMMIT');
  await marker.query("SELECT pg_notify('feed_test_mark', 'committed')");
  assert.deepEqual((await listen.upTo('committed')).map((p) => JSON.parse(p).id), ['user_open_1']);
});

test('ALTER DATABASE reaches new sessions of the relay role; only a superuser changes the setting', async () => {
  const setting = async (client) => (await client.query('SHOW orgsync.notify_changes')).rows[0]['orgsync.notify_changes'];
  assert.equal(await setting(onDb), 'off', 'a session opened before ALTER DATABASE keeps its value');
  const relay = await connect('feed_on', 'feed_relay');
  assert.equal(await setting(relay), 'on');
  await relay.query("SELECT orgsync.handle_event('{}', '')").catch(() => {}); // loads the library
  await assert.rejects(relay.query('SET orgsync.notify_changes = off'), { code: '42501' });
});

test('a backfill page notifies with type "backfill" and no delivery id', async () => {
  const page = JSON.stringify([{ ...JSON.parse(history('backfill', Date.now()).find((d) => d.type === 'organization.created').body).data }]);
  const listen = await listener('feed_on');
  const backfill = await connect('feed_on');
  await backfill.query("SELECT * FROM orgsync.apply_listing('organizations', $1)", [page]);
  await backfill.query("SELECT pg_notify('feed_test_mark', 'backfill')");
  const got = (await listen.upTo('backfill')).map((p) => JSON.parse(p));
  assert.deepEqual(got, [{ table: 'organizations', id: 'org_backfill_1', organization_id: 'org_backfill_1',
                           operation: 'upsert', type: 'backfill', delivery_id: null }]);
});

test('the LISTEN example of docs/operating.md runs as written', async () => {
  const example = readFileSync(path.join(here, 'listen.mjs'), 'utf8');
  const docs = readFileSync(path.join(root, 'docs/operating.md'), 'utf8');
  assert.ok(docs.includes('```js\n' + example + '```'), 'docs/operating.md does not show test/change_feed/listen.mjs');

  const child = spawn(process.execPath, [path.join(here, 'listen.mjs')], {
    env: { ...process.env, PGDATABASE: 'feed_on', PGUSER: 'feed_reader' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  try {
    const deadline = Date.now() + 20000;
    const waitFor = async (text) => {
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`the example printed ${JSON.stringify(out)}`);
        await sleep(20);
      }
    };
    await waitFor('listening\n');
    const membership = history('example', Date.now()).find((d) => d.type === 'organizationMembership.created');
    const relay = await connect('feed_on', 'feed_relay');
    assert.deepEqual(await via(relay).handle_event([membership]), ['applied']);
    await waitFor('upsert memberships');
    assert.equal(out, ['listening',
      'upsert organizations org_example_1 organization=org_example_1',
      'upsert users user_example_1 organization=null',
      'upsert memberships orgmem_example_1 organization=org_example_1', ''].join('\n'));
  } finally {
    child.kill('SIGTERM');
  }
});
