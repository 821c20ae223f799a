// What teams write instead of orgsync: a Clerk webhook handler in the style of
// Clerk's guide (node:http, the official svix Webhook.verify, a pg Pool), that
// applies each delivery in one transaction of guarded upserts into the same
// orgsync.* tables. For the relay benchmark (bench/relay/run.sh).
//
//   PORT=8788 CLERK_WEBHOOK_SIGNING_SECRET=whsec_... PGDATABASE=... node node-handler.mjs
//
// Idempotent by delivery id (orgsync.events), newer wins by a version
// {rank, updated_at, event time} (no content digest), memberships refresh
// placeholder rows from their snapshots, deletions leave tombstones and end
// memberships. Users, organizations and memberships only: other types
// (invitations, sessions, ...) are recorded as ignored.
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../test/", import.meta.url));
const { Webhook } = require("svix");
const pg = require("pg");

const webhook = new Webhook(process.env.CLERK_WEBHOOK_SIGNING_SECRET);
const pool = new pg.Pool({ max: 16 }); // PG* environment variables

const time = (ms) => (Number.isSafeInteger(ms) && ms >= 0 ? new Date(ms).toISOString() : null);
const json = (v) => (v === undefined || v === null ? null : JSON.stringify(v));
const str = (v) => (typeof v === "string" ? v : null);
const version = (rank, obj, t) => [rank, obj.updated_at ?? obj.created_at ?? 0, t ?? 0];

const SQL = {
  event: `INSERT INTO orgsync.events (id, endpoint, type, status, object_id, event_time, payload)
          VALUES ($1, 'default', $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
  stale: `UPDATE orgsync.events SET status = 'stale' WHERE id = $1`,
  organization: `
    INSERT INTO orgsync.organizations AS o (id, name, slug, image_url, created_by, max_allowed_memberships,
      public_metadata, private_metadata, created_at, updated_at, data, source, sync_version)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, slug = excluded.slug, image_url = excluded.image_url,
      created_by = excluded.created_by, max_allowed_memberships = excluded.max_allowed_memberships,
      public_metadata = excluded.public_metadata, private_metadata = excluded.private_metadata,
      created_at = excluded.created_at, updated_at = excluded.updated_at, data = excluded.data,
      source = excluded.source, sync_version = excluded.sync_version
    WHERE o.sync_version < excluded.sync_version`,
  user: `
    INSERT INTO orgsync.users AS u (id, primary_email, first_name, last_name, username, image_url, external_id,
      public_metadata, private_metadata, created_at, updated_at, data, source, sync_version)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
    ON CONFLICT (id) DO UPDATE SET primary_email = excluded.primary_email, first_name = excluded.first_name,
      last_name = excluded.last_name, username = excluded.username, image_url = excluded.image_url,
      external_id = excluded.external_id, public_metadata = excluded.public_metadata,
      private_metadata = excluded.private_metadata, created_at = excluded.created_at,
      updated_at = excluded.updated_at, data = excluded.data, source = excluded.source,
      sync_version = excluded.sync_version
    WHERE u.sync_version < excluded.sync_version`,
  // A membership of an organization or user already deleted is born ended.
  membership: `
    INSERT INTO orgsync.memberships AS m (id, organization_id, user_id, role, permissions, public_metadata,
      private_metadata, created_at, updated_at, deleted_at, data, sync_version)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
            LEAST($10::timestamptz, (SELECT deleted_at FROM orgsync.organizations WHERE id = $2),
                  (SELECT deleted_at FROM orgsync.users WHERE id = $3)), $11, $12)
    ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id, user_id = excluded.user_id,
      role = excluded.role, permissions = excluded.permissions, public_metadata = excluded.public_metadata,
      private_metadata = excluded.private_metadata, created_at = excluded.created_at,
      updated_at = excluded.updated_at, deleted_at = LEAST(m.deleted_at, excluded.deleted_at),
      data = excluded.data, sync_version = excluded.sync_version
    WHERE m.sync_version < excluded.sync_version`,
  endMembership: `UPDATE orgsync.memberships SET deleted_at = $2
                  WHERE id = $1 AND (deleted_at IS NULL OR deleted_at > $2)`,
  tombstone: (table) => `
    INSERT INTO orgsync.${table} AS t (id, deleted_at, source) VALUES ($1, $2, 'deletion')
    ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at
    WHERE t.deleted_at IS NULL OR t.deleted_at > excluded.deleted_at`,
  // Memberships locked in id order, so concurrent cascades cannot deadlock.
  cascade: (column) => `
    UPDATE orgsync.memberships AS m SET deleted_at = $2
    FROM (SELECT id FROM orgsync.memberships WHERE ${column} = $1 AND (deleted_at IS NULL OR deleted_at > $2)
          ORDER BY id FOR UPDATE) AS ending
    WHERE m.id = ending.id`,
};

// Each function returns how many rows it changed.
async function upsertOrganization(db, org, rank, t) {
  const r = await db.query(SQL.organization, [org.id, str(org.name), str(org.slug), str(org.image_url),
    str(org.created_by), org.max_allowed_memberships ?? null, json(org.public_metadata),
    json(org.private_metadata), time(org.created_at), time(org.updated_at), json(org),
    rank === 1 ? "event" : "membership", version(rank, org, t)]);
  return r.rowCount;
}

async function upsertUser(db, user, t) {
  const primary = (user.email_addresses ?? []).find((e) => e.id === user.primary_email_address_id);
  const r = await db.query(SQL.user, [user.id, str(primary?.email_address), str(user.first_name),
    str(user.last_name), str(user.username), str(user.image_url), str(user.external_id),
    json(user.public_metadata), json(user.private_metadata), time(user.created_at), time(user.updated_at),
    json(user), "event", version(1, user, t)]);
  return r.rowCount;
}

// The member's public data stands in for the user until the user event comes.
async function upsertUserSnapshot(db, member, membership, t) {
  const email = str(member.identifier)?.includes("@") ? member.identifier : null;
  const r = await db.query(SQL.user, [member.user_id, email, str(member.first_name), str(member.last_name),
    null, str(member.image_url), null, null, null, null, null, json(member), "membership",
    version(0, membership, t)]);
  return r.rowCount;
}

async function applyMembership(db, m, t, deleted) {
  let changed = await upsertOrganization(db, m.organization, 0, t); // org, user, membership: lock order
  changed += await upsertUserSnapshot(db, m.public_user_data, m, t);
  const deletedAt = deleted ? time(t) : null;
  changed += (await db.query(SQL.membership, [m.id, m.organization.id, m.public_user_data.user_id, str(m.role),
    Array.isArray(m.permissions) ? m.permissions.filter((p) => typeof p === "string") : [],
    json(m.public_metadata), json(m.private_metadata), time(m.created_at), time(m.updated_at), deletedAt,
    json(m), version(1, m, t)])).rowCount;
  if (deleted) changed += (await db.query(SQL.endMembership, [m.id, deletedAt])).rowCount;
  return changed;
}

async function applyDeletion(db, table, column, id, t) {
  const at = time(t);
  return (await db.query(SQL.tombstone(table), [id, at])).rowCount +
    (await db.query(SQL.cascade(column), [id, at])).rowCount;
}

const appliers = {
  "organization.created": (db, d, t) => upsertOrganization(db, d, 1, t),
  "organization.updated": (db, d, t) => upsertOrganization(db, d, 1, t),
  "organization.deleted": (db, d, t) => applyDeletion(db, "organizations", "organization_id", d.id, t),
  "user.created": (db, d, t) => upsertUser(db, d, t),
  "user.updated": (db, d, t) => upsertUser(db, d, t),
  "user.deleted": (db, d, t) => applyDeletion(db, "users", "user_id", d.id, t),
  "organizationMembership.created": (db, d, t) => applyMembership(db, d, t, false),
  "organizationMembership.updated": (db, d, t) => applyMembership(db, d, t, false),
  "organizationMembership.deleted": (db, d, t) => applyMembership(db, d, t, true),
};

async function handle(id, evt, body) {
  const apply = appliers[evt.type];
  const t = Number.isSafeInteger(evt.timestamp) ? (evt.timestamp < 1e11 ? evt.timestamp * 1000 : evt.timestamp) : null;
  const db = await pool.connect();
  try {
    await db.query("BEGIN");
    const recorded = await db.query(SQL.event, [id, evt.type, apply ? "applied" : "ignored", evt.data?.id,
      time(t), body]);
    let status = "duplicate";
    if (recorded.rowCount === 1) {
      status = "ignored";
      if (apply) {
        status = (await apply(db, evt.data, t)) > 0 ? "applied" : "stale";
        if (status === "stale") await db.query(SQL.stale, [id]);
      }
    }
    await db.query("COMMIT");
    return status;
  } catch (err) {
    await db.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    db.release();
  }
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/webhooks") return res.writeHead(404).end();
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", async () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let evt;
    try {
      evt = webhook.verify(body, req.headers);
    } catch (err) {
      return res.writeHead(400).end(JSON.stringify({ error: "invalid signature" }));
    }
    try {
      const status = await handle(req.headers["svix-id"], evt, body);
      console.log(`Received webhook with ID ${req.headers["svix-id"]} and event type of ${evt.type}: ${status}`);
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ status }));
    } catch (err) {
      console.error(`Webhook ${req.headers["svix-id"]} failed: ${err.message}`);
      res.writeHead(500).end(JSON.stringify({ error: "internal error" })); // Svix retries
    }
  });
});

server.listen(Number(process.env.PORT ?? 8788), "127.0.0.1", () =>
  console.log(`node-handler listening on http://127.0.0.1:${server.address().port}/webhooks`));
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  pool.end().finally(() => process.exit(0));
});
