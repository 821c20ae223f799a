// Talking to the extension: signed deliveries through orgsync.handle_event(s) and
// the mirror tables read back in the model's row shape.

import pg from 'pg';
import { Webhook } from 'svix';
import { randomBytes } from 'node:crypto';

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
  await client.query('TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events');
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

const ms = (col) => `round(extract(epoch FROM ${col}) * 1000)::float8 AS ${col}`;

export async function readTables(client) {
  const q = async (sql) => new Map((await client.query(sql)).rows.map((r) => [r.id, r]));
  return {
    organizations: await q(`SELECT id, source, name, slug, image_url, created_by, max_allowed_memberships,
        public_metadata, ${ms('created_at')}, ${ms('updated_at')}, ${ms('deleted_at')}, data
      FROM orgsync.organizations`),
    users: await q(`SELECT id, source, first_name, last_name, primary_email, username, image_url, external_id,
        public_metadata, ${ms('created_at')}, ${ms('updated_at')}, ${ms('deleted_at')}, data
      FROM orgsync.users`),
    memberships: await q(`SELECT id, organization_id, user_id, role, permissions,
        ${ms('created_at')}, ${ms('updated_at')}, ${ms('deleted_at')}
      FROM orgsync.memberships`),
    invitations: await q(`SELECT id, organization_id, email_address, role, status,
        ${ms('created_at')}, ${ms('updated_at')}, ${ms('expires_at')}
      FROM orgsync.invitations`),
  };
}

export async function eventsSummary(client) {
  const { rows } = await client.query(`
    SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids,
           count(*) FILTER (WHERE status = 'invalid')::int AS invalid,
           string_agg(DISTINCT error, '; ') AS errors
    FROM orgsync.events`);
  return rows[0];
}
