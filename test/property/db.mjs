// Talking to the extension: signed deliveries through orgsync.handle_event(s) and
// the mirror tables read back in the model's row shape.

import pg from 'pg';
import { Webhook } from 'svix';
import { randomBytes } from 'node:crypto';
import { TABLES, COLUMNS, JSON_COLUMNS } from './plan.mjs';

export async function connect() {
  const client = new pg.Client(); // PGHOST, PGPORT, PGUSER, PGDATABASE from scripts/cluster.sh env
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS orgsync');
  return client;
}

export function newSecret() {
  return 'whsec_' + randomBytes(24).toString('base64');
}

export async function reset(client) {
  await client.query(`TRUNCATE ${[...TABLES, 'events'].map((t) => 'orgsync.' + t).join(', ')}`);
}

// Each delivery is signed just before it is sent. A batch goes in one
// statement (autocommit): handle_event on each delivery, in list order, or
// one orgsync.handle_events call.
const DELIVER = {
  handle_event: `
    SELECT orgsync.handle_event(x.h::jsonb, x.b) AS r
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(h, b, n)
    ORDER BY x.n`,
  handle_events: `
    SELECT r FROM orgsync.handle_events($1::jsonb[], $2::text[]) WITH ORDINALITY AS t(r, n)
    ORDER BY n`,
};

// batchSize: a number, or a function giving the size of each next batch.
export async function deliver(client, secret, deliveries, batchSize = 256, via = 'handle_event') {
  const wh = new Webhook(secret);
  const results = [];
  const nextSize = typeof batchSize === 'function' ? batchSize : () => batchSize;
  for (let i = 0, size; i < deliveries.length; i += size) {
    size = nextSize();
    const batch = deliveries.slice(i, i + size);
    const now = new Date();
    const headers = batch.map((d) => JSON.stringify({
      'svix-id': d.msgId,
      'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
      'svix-signature': wh.sign(d.msgId, now, d.body),
    }));
    const res = await client.query(DELIVER[via], [headers, batch.map((d) => d.body)]);
    for (const row of res.rows) results.push(row.r);
  }
  return results;
}

// Each table's compared columns (plan.mjs COLUMNS), in the model's shape:
// times as epoch milliseconds, JSON as jsonb's text (numbers beyond
// JavaScript's kept), sync_version as its text.
function select(table) {
  const cols = COLUMNS[table].map((c) => {
    if (/_at$/.test(c)) return `round(extract(epoch FROM ${c}) * 1000)::float8 AS ${c}`;
    if (JSON_COLUMNS.has(c) || c === 'sync_version') return `${c}::text AS ${c}`;
    return c;
  });
  return `SELECT id, ${cols.join(', ')} FROM orgsync.${table}`;
}

export async function readTables(client) {
  const out = {};
  for (const t of TABLES) out[t] = new Map((await client.query(select(t))).rows.map((r) => [r.id, r]));
  return out;
}

// The model's JSON texts as jsonb's text, so that they compare with what
// readTables reads: jsonb orders keys its own way and writes numbers as
// numeric does (1e999 in full).
export async function asJsonb(client, tables) {
  const texts = [];
  for (const t of TABLES) for (const row of tables[t].values()) for (const c of JSON_COLUMNS) if (typeof row[c] === 'string') texts.push(row[c]);
  const { rows } = await client.query('SELECT x::jsonb::text AS j FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n', [texts]);
  const out = {};
  let i = 0;
  for (const t of TABLES) {
    out[t] = new Map();
    for (const [id, row] of tables[t]) {
      const copy = { ...row };
      for (const c of JSON_COLUMNS) if (typeof row[c] === 'string') copy[c] = rows[i++].j;
      out[t].set(id, copy);
    }
  }
  return out;
}

// Each recorded delivery id -> { status, error }.
export async function recordedEvents(client) {
  const { rows } = await client.query('SELECT id, status::text, error FROM orgsync.events');
  return new Map(rows.map((r) => [r.id, r]));
}
