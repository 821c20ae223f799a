// Signed Clerk deliveries for the relay benchmark, one per line:
//   svix-id \t svix-timestamp \t svix-signature \t body
//
//   node bench/relay/gen.mjs SECRET TAG COUNT > deliveries.tsv
//
// A Clerk history in Clerk's order, built from the captured payloads in
// test/fixtures/clerk (the same shapes as bench/generate.sql): users,
// organizations and memberships created, updated and deleted. TAG (digits)
// makes the ids unique to one load point and seeds the history, so the same
// TAG gives the same bodies. Signed with the official svix library at the
// moment this runs: send within orgsync.timestamp_tolerance (5 min).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const { Webhook } = createRequire(root + "test/")("svix");
const [secret, tag, countArg] = process.argv.slice(2);
if (!secret || !/^\d+$/.test(tag ?? "") || !(Number(countArg) > 0)) {
  console.error("usage: node gen.mjs SECRET TAG COUNT");
  process.exit(2);
}
const count = Number(countArg);
const fixture = (name) => JSON.parse(readFileSync(`${root}test/fixtures/clerk/${name}.json`, "utf8"));
const tpl = {
  user: fixture("received_2024/user.created"),
  organization: fixture("received_2024/organization.created"),
  membership: fixture("received_2024/organizationMembership.created"),
  "user.deleted": fixture("user.deleted"),
  "organization.deleted": fixture("organization.deleted"),
};
delete tpl["user.deleted"].instance_id;
delete tpl["organization.deleted"].instance_id;

// Ids as long as Clerk's, unique to this TAG.
const pad = (n, width) => `${tag}${String(n).padStart(width - tag.length, "0")}`;
const userId = (u) => `user_2b${pad(u, 25)}`;
const orgId = (o) => `org_2b${pad(o, 25)}`;
const membershipId = (m) => `orgmem_2b${pad(m, 25)}`;
const emailId = (u, k) => `idn_2b${pad(u, 22)}${k}`;

let seed = Number(tag) * 2654435761 + 1;
const random = () => { // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];

function userBody(type, u, t) {
  const base = tpl.user.data;
  const email = { ...base.email_addresses[0], id: emailId(u.n, 0), email_address: `user${u.n}@example.com`,
                  created_at: u.created, updated_at: u.created };
  const addresses = u.step === 0 ? [email]
    : [email, { ...email, id: emailId(u.n, 1), email_address: `user${u.n}.work@example.com` }];
  const data = { ...base, id: userId(u.n), first_name: `First${u.n}`, last_name: `Last${u.n}v${u.step}`,
                 username: `user${u.n}`, external_id: u.n % 3 === 0 ? `ext_${u.n}` : null,
                 created_at: u.created, updated_at: u.updated, last_active_at: u.updated,
                 last_sign_in_at: u.updated, primary_email_address_id: emailId(u.n, Math.min(u.step, 1)),
                 email_addresses: addresses };
  return { ...tpl.user, type, timestamp: t, data };
}

function orgBody(type, o, t) {
  const data = { ...tpl.organization.data, id: orgId(o.n), name: `Organization ${o.n} v${o.step}`,
                 slug: `org-${tag}-${o.n}-v${o.step}`, created_by: userId(o.creator),
                 max_allowed_memberships: 5 + o.step, created_at: o.created, updated_at: o.updated };
  return { ...tpl.organization, type, timestamp: t, data };
}

function membershipBody(type, m, t) {
  const base = tpl.membership.data;
  const admin = m.step % 2 === 1;
  const data = {
    ...base, id: membershipId(m.n), role: admin ? "org:admin" : "org:member", role_name: admin ? "Admin" : "Member",
    permissions: admin ? base.permissions : ["org:sys_memberships:read"],
    created_at: m.created, updated_at: m.updated,
    organization: { ...base.organization, id: orgId(m.org), name: `Organization ${m.org}`, slug: `org-${tag}-${m.org}`,
                    created_at: m.created - 1000, updated_at: m.created - 1000 },
    public_user_data: { ...base.public_user_data, user_id: userId(m.user), first_name: `First${m.user}`,
                        last_name: `Last${m.user}`, identifier: `user${m.user}@example.com` },
  };
  return { ...tpl.membership, type, timestamp: t, data };
}

function deletionBody(type, extra, t) {
  const template = tpl[type];
  return { ...template, type, timestamp: t, data: { object: template.data.object, deleted: true, ...extra } };
}

// Proportions as in bench/generate.sql: users 20% created, 10% updated, 1%
// deleted; organizations 4%, 4%, 0.5%; memberships 40%, 12%, 8%.
const weights = [["user.created", 20], ["user.updated", 10], ["user.deleted", 1],
  ["organization.created", 4], ["organization.updated", 4], ["organization.deleted", 0.5],
  ["organizationMembership.created", 40], ["organizationMembership.updated", 12],
  ["organizationMembership.deleted", 8]];
const totalWeight = weights.reduce((s, [, w]) => s + w, 0);
const live = { user: [], organization: [], membership: [] };
const next = { user: 1, organization: 1, membership: 1 };

// Removes and returns a random live object (lazily dropping those whose
// organization or user is gone), or undefined.
function takeLive(kind, remove) {
  const list = live[kind];
  while (list.length) {
    const i = Math.floor(random() * list.length);
    const obj = list[i];
    if (!obj.dead && !(obj.orgRef?.dead || obj.userRef?.dead)) {
      if (remove) list[i] = list[list.length - 1], list.pop();
      return obj;
    }
    list[i] = list[list.length - 1], list.pop();
  }
  return undefined;
}

function event(t) {
  let r = random() * totalWeight, type;
  for (const [name, w] of weights) if ((r -= w) < 0) { type = name; break; }
  type ??= "user.created";
  const [family, what] = type.split(".");
  const kind = family === "organizationMembership" ? "membership" : family;
  if (kind === "membership" && what === "created" && (!live.user.length || !live.organization.length)) {
    return create(live.user.length ? "organization" : "user", t);
  }
  if (what === "created") return create(kind, t);
  const obj = takeLive(kind, what === "deleted");
  if (!obj) return create(kind === "membership" ? "user" : kind, t);
  if (what === "updated") {
    obj.step++, obj.updated = t - 3;
    return kind === "user" ? userBody(type, obj, t) : kind === "organization" ? orgBody(type, obj, t)
      : membershipBody(type, obj, t);
  }
  obj.dead = true; // deleted: Clerk sends the membership as it last was
  if (kind === "membership") return membershipBody(type, obj, t);
  return kind === "user" ? deletionBody(type, { id: userId(obj.n), external_id: `ext_${obj.n}` }, t)
    : deletionBody(type, { id: orgId(obj.n), slug: `org-${tag}-${obj.n}-v${obj.step}` }, t);
}

function create(kind, t) {
  const obj = { n: next[kind]++, step: 0, created: t - 7, updated: t - 3 };
  if (kind === "organization") obj.creator = pick(live.user)?.n ?? 1;
  if (kind === "membership") {
    obj.orgRef = pick(live.organization), obj.userRef = pick(live.user);
    obj.org = obj.orgRef.n, obj.user = obj.userRef.n;
  }
  live[kind].push(obj);
  const type = `${kind === "membership" ? "organizationMembership" : kind}.created`;
  return kind === "user" ? userBody(type, obj, t) : kind === "organization" ? orgBody(type, obj, t)
    : membershipBody(type, obj, t);
}

// One second of Clerk time between events; each TAG its own stretch of time.
const webhook = new Webhook(secret);
const now = new Date();
const timestamp = Math.floor(now.getTime() / 1000);
const start = 1730000000000 + (Number(tag) % 100000) * 1e9;
const lines = [];
for (let i = 1; i <= count; i++) {
  const body = JSON.stringify(event(start + 1000 * i));
  const id = `msg_2b${pad(i, 25)}`;
  lines.push(`${id}\t${timestamp}\t${webhook.sign(id, now, body)}\t${body}`);
  if (lines.length === 5000) process.stdout.write(lines.join("\n") + "\n"), (lines.length = 0);
}
if (lines.length) process.stdout.write(lines.join("\n") + "\n");
