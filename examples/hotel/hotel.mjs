// The hotel example end to end: a signed Clerk history, shuffled and with
// duplicates, each attempt through the relay or PostgREST (its stand-in,
// test/postgrest/stand-in.mjs) at random, both checked to have been used,
// then each user's view of the app as PostgREST shows it to them: role
// hotel_user, their session token's claims in request.jwt.claims. Prints
// what each user sees and checks it.
//
// Run by examples/hotel/run.sh, which creates the database and passes:
//   HOTEL_DATABASE, HOTEL_SECRET, RELAY_URL (PG* point at the cluster)

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PostgrestStandIn, readConfig } from '../../test/postgrest/stand-in.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'test/package.json'));
const pg = require('pg');
const { Webhook } = require('svix');

const database = process.env.HOTEL_DATABASE;
const SECRET = process.env.HOTEL_SECRET;
const RELAY_URL = process.env.RELAY_URL;
const connection = { host: process.env.PGHOST, port: Number(process.env.PGPORT) };
const config = readConfig(join(root, 'examples/hotel/postgrest.conf'));
const postgrest = new PostgrestStandIn(config, connection);
const owner = new pg.Client({ ...connection, database });

// A seeded shuffle, so that a failing order can be run again (HOTEL_SEED).
const seed = Number(process.env.HOTEL_SEED ?? Date.now() % 100000);
let state = seed;
const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
const shuffle = (list) => {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};

let failures = 0;
function check(description, actual, expected) {
  try {
    assert.deepEqual(actual, expected);
    console.log(`ok: ${description}`);
  } catch {
    failures++;
    console.log(`FAILED: ${description}\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(actual)}`);
  }
}

// --------------------------------------------------------------- Clerk's side

const fixture = (name) => JSON.parse(readFileSync(join(root, 'test/fixtures/clerk', `${name}.json`), 'utf8'));
let clock = Date.parse('2026-11-02T09:00:00Z');
const tick = () => (clock += 60_000);

function event(type, data) {
  return { ...fixture(type), type, timestamp: clock, data };
}
const people = {
  alice: ['Alice', 'Grand'], bob: ['Bob', 'Twohotels'], carol: ['Carol', 'Seaside'],
  dave: ['Dave', 'Alpine'], gina: ['Gina', 'Guest'], henry: ['Henry', 'Guest'], ivan: ['Ivan', 'Guest'],
};
const userId = (name) => `user_${name}`;
function user(name) {
  const at = tick();
  const [first, last] = people[name];
  return event('user.created', {
    ...fixture('user.created').data, id: userId(name), first_name: first, last_name: last,
    primary_email_address_id: `idn_${name}`,
    email_addresses: [{ object: 'email_address', id: `idn_${name}`, email_address: `${name}@example.com`, linked_to: [] }],
    created_at: at, updated_at: at,
  });
}
const hotels = {
  grand: { id: 'org_grand', name: 'Grand Hotel', city: 'Vienna' },
  seaside: { id: 'org_seaside', name: 'Seaside Inn', city: 'Porto' },
  alpine: { id: 'org_alpine', name: 'Alpine Lodge', city: 'Zermatt' },
};
function organization(type, key, name = hotels[key].name) {
  const at = tick();
  return event(type, { ...fixture('organization.created').data, id: hotels[key].id, name, slug: key, created_at: at, updated_at: at });
}
const organizationDeleted = (key) => (tick(), event('organization.deleted', { object: 'organization', id: hotels[key].id, slug: key, deleted: true }));
// The instance's roles: what each may do in any hotel.
function role(type, id, key, permissions) {
  const at = tick();
  return event(type, {
    ...fixture('role.created').data, id, key, name: key,
    permissions: permissions.map((p) => ({ object: 'permission', id: `perm_${p}`, key: p, name: p, type: 'custom' })),
    created_at: at, updated_at: at,
  });
}
const permissionsOf = { 'org:admin': ['org:rooms:read', 'org:rooms:manage'], 'org:member': ['org:rooms:read'] };
function membership(type, name, key, roleKey) {
  const at = tick();
  const base = fixture('organizationMembership.created').data;
  return event(type, {
    ...base, id: `orgmem_${name}_${key}`, role: roleKey, role_name: roleKey, permissions: permissionsOf[roleKey],
    organization: { ...base.organization, id: hotels[key].id, name: hotels[key].name, slug: key },
    public_user_data: { ...base.public_user_data, user_id: userId(name), identifier: `${name}@example.com`, first_name: people[name][0], last_name: people[name][1] },
    created_at: at, updated_at: at,
  });
}

// Phase 1: the instance is set up. Phase 2: carol leaves the Seaside Inn,
// the Alpine Lodge's organization is deleted, and members of the Grand
// Hotel may now manage rooms (the role changes; no membership event). An
// update of carol's membership made in phase 1 is delivered only in phase 2,
// after her removal, and phase 2 also brings late copies of phase 1's
// deliveries: neither may bring her back.
const phase1 = [
  ...Object.keys(people).map(user),
  organization('organization.created', 'grand'), organization('organization.created', 'seaside'), organization('organization.created', 'alpine'),
  role('role.created', 'role_admin', 'org:admin', permissionsOf['org:admin']),
  role('role.created', 'role_member', 'org:member', permissionsOf['org:member']),
  membership('organizationMembership.created', 'alice', 'grand', 'org:admin'),
  membership('organizationMembership.created', 'bob', 'grand', 'org:member'),
  membership('organizationMembership.created', 'bob', 'seaside', 'org:admin'),
  membership('organizationMembership.created', 'carol', 'seaside', 'org:member'),
  membership('organizationMembership.created', 'dave', 'alpine', 'org:admin'),
  organization('organization.updated', 'grand', 'Grand Hotel Wien'),
];
const delayed = membership('organizationMembership.updated', 'carol', 'seaside', 'org:member');
const phase2 = [
  delayed,
  membership('organizationMembership.deleted', 'carol', 'seaside', 'org:member'),
  organizationDeleted('alpine'),
  role('role.updated', 'role_member', 'org:member', ['org:rooms:read', 'org:rooms:manage']),
];

// ------------------------------------------------------------ the deliveries

function delivery(ev) {
  const body = JSON.stringify(ev);
  const id = 'msg_' + randomBytes(12).toString('hex');
  return { body, id, type: ev.type };
}
// Svix's headers for one attempt (a retry is signed again, same id).
function signed({ body, id }) {
  const at = new Date();
  return {
    'Content-Type': 'application/json', 'svix-id': id, 'svix-timestamp': String(Math.floor(at / 1000)),
    'svix-signature': new Webhook(SECRET).sign(id, at, body),
  };
}
async function viaRelay(d) {
  const res = await fetch(`${RELAY_URL}/webhooks`, { method: 'POST', headers: signed(d), body: d.body });
  return { status: res.status, json: await res.json() };
}
const viaPostgrest = (d) => postgrest.request({ method: 'POST', path: '/rpc/webhook', headers: signed(d), body: d.body });

// Each delivery once, and about a third of them (at least one) again, plus
// `late` copies of earlier deliveries, in a shuffled order, each attempt
// through the relay or PostgREST at random. `attemptsVia` counts the whole
// run's attempts by path.
const attemptsVia = { relay: 0, postgrest: 0 };
async function deliver(name, deliveries, late = []) {
  const again = deliveries.filter(() => random() < 0.35);
  const attempts = shuffle([...deliveries, ...(again.length ? again : deliveries.slice(0, 1)), ...late]);
  const seen = new Set(late.map((d) => d.id));
  const paths = { relay: 0, postgrest: 0 };
  for (const d of attempts) {
    const path = random() < 0.5 ? 'relay' : 'postgrest';
    paths[path]++;
    attemptsVia[path]++;
    const res = await (path === 'relay' ? viaRelay(d) : viaPostgrest(d));
    const expected = seen.has(d.id) ? ['duplicate'] : ['applied', 'stale'];
    if (res.status !== 200 || !expected.includes(res.json.status)) {
      check(`${name}: ${d.type} ${d.id} through the ${path}`, [res.status, res.json.status], [200, expected.join(' or ')]);
    }
    seen.add(d.id);
  }
  console.log(`${name}: ${deliveries.length} deliveries, ${attempts.length} attempts (${paths.relay} through the relay, ` +
              `${paths.postgrest} through PostgREST, ${late.length} late copies of earlier ones)`);
}

// ------------------------------------------------------------ the app's side

// A session token's claims, as PostgREST has them once it verified the
// token: version 2 for some users, version 1 for others.
function claims(name, activeHotel) {
  const base = { sub: userId(name), sid: `sess_${name}`, iss: 'https://clerk.hotels.example.com', role: 'hotel_user' };
  if (!activeHotel) return { ...base, v: 2 };
  if (name === 'bob') return { ...base, org_id: hotels[activeHotel].id, org_role: 'org:member', org_slug: activeHotel };
  return { ...base, v: 2, o: { id: hotels[activeHotel].id, rol: 'admin', slg: activeHotel } };
}
const tokens = {
  alice: claims('alice', 'grand'), bob: claims('bob', 'seaside'), carol: claims('carol', 'seaside'),
  dave: claims('dave', 'alpine'), gina: claims('gina'), henry: claims('henry'), ivan: claims('ivan'),
};

async function get(name, table) {
  const res = await postgrest.request({ method: 'GET', path: `/${table}`, headers: { 'Accept-Profile': 'hotel' }, claims: tokens[name] });
  assert.equal(res.status, 200, `${name} GET /${table}: ${res.body}`);
  return res.json;
}
// What a user sees of the app, in a few comparable words.
async function view(name) {
  const sorted = (list) => list.sort();
  return {
    hotels: sorted((await get(name, 'hotels')).map((h) => h.name)),
    rooms: sorted((await get(name, 'rooms')).map((r) => `${r.hotel_id}/${r.number}`)),
    bookings: sorted((await get(name, 'bookings')).map((b) => `${b.hotel_id}/${b.guest_name}`)),
    staff: sorted((await get(name, 'staff')).map((s) => `${s.hotel_id}/${s.user_id}`)),
  };
}
// An UPDATE as the user, in PostgREST's transaction: how many rooms changed.
async function raiseRates(name, hotelKey) {
  const { count } = await postgrest.transaction({ method: 'PATCH', path: '/rooms', claims: tokens[name], schema: 'hotel' },
    async (run) => ({ count: (await run('UPDATE hotel.rooms SET rate_cents = rate_cents + 100 WHERE hotel_id = $1', [hotels[hotelKey].id])).rowCount }));
  return count;
}

const guestBookings = [
  ['seaside', '12', 'gina'], ['alpine', '3', 'henry'], ['grand', '101', 'ivan'],
];
async function openHotels() {
  for (const h of Object.values(hotels)) {
    await owner.query('INSERT INTO hotel.hotels (id, name, city) VALUES ($1, $2, $3)', [h.id, h.name, h.city]);
  }
  const rooms = { grand: ['101', '102'], seaside: ['11', '12'], alpine: ['3'] };
  for (const [key, numbers] of Object.entries(rooms)) {
    for (const number of numbers) {
      await owner.query('INSERT INTO hotel.rooms VALUES ($1, $2, $3, $4)', [hotels[key].id, number, 'double', 12000]);
    }
  }
  for (const [key, room, guest] of guestBookings) {
    await owner.query(`INSERT INTO hotel.bookings (hotel_id, room_number, guest_user_id, guest_name, stay)
                       VALUES ($1, $2, $3, $4, daterange('2026-12-20', '2026-12-27'))`, [hotels[key].id, room, userId(guest), people[guest][0]]);
  }
}

async function main() {
  console.log(`seed ${seed} (HOTEL_SEED=${seed} replays these orders)`);
  await owner.connect();
  await postgrest.start();
  try {
    const phase1Deliveries = phase1.map(delivery);
    await deliver('phase 1', phase1Deliveries);
    await openHotels();
    const before = {};
    for (const name of Object.keys(tokens)) {
      before[name] = await view(name);
      console.log(`${name} sees`, JSON.stringify(before[name]));
    }
    check('alice, staff of the Grand, sees its rooms, bookings and staff only',
      before.alice, { hotels: ['Grand Hotel'], rooms: ['org_grand/101', 'org_grand/102'], bookings: ['org_grand/Ivan'], staff: ['org_grand/user_alice', 'org_grand/user_bob'] });
    check('bob works at two hotels and sees both (whichever is active in his token)',
      before.bob.rooms, ['org_grand/101', 'org_grand/102', 'org_seaside/11', 'org_seaside/12']);
    check('bob sees the staff of both his hotels',
      before.bob.staff, ['org_grand/user_alice', 'org_grand/user_bob', 'org_seaside/user_bob', 'org_seaside/user_carol']);
    check('carol sees the Seaside Inn', before.carol.rooms, ['org_seaside/11', 'org_seaside/12']);
    check('dave sees the Alpine Lodge', before.dave.rooms, ['org_alpine/3']);
    check('gina, a guest of the Seaside Inn, sees her booking and its hotel, nothing of the Grand or any room',
      before.gina, { hotels: ['Seaside Inn'], rooms: [], bookings: ['org_seaside/Gina'], staff: [] });
    check('ivan, a guest of the Grand, sees only his own booking',
      before.ivan, { hotels: ['Grand Hotel'], rooms: [], bookings: ['org_grand/Ivan'], staff: [] });
    check('rooms: alice (org:admin) may manage the Grand\'s, bob (org:member) may not',
      [await raiseRates('alice', 'grand'), await raiseRates('bob', 'grand')], [2, 0]);
    check('rooms: bob manages the Seaside Inn\'s (he is its admin); gina none',
      [await raiseRates('bob', 'seaside'), await raiseRates('gina', 'seaside')], [2, 0]);

    await deliver('phase 2', phase2.map(delivery), phase1Deliveries.filter(() => random() < 0.5));
    check(`both ways in were used (${attemptsVia.relay} attempts through the relay, ${attemptsVia.postgrest} through PostgREST)`,
          { relay: attemptsVia.relay > 0, postgrest: attemptsVia.postgrest > 0 }, { relay: true, postgrest: true });
    const after = {};
    for (const name of Object.keys(tokens)) {
      after[name] = await view(name);
      console.log(`${name} sees`, JSON.stringify(after[name]));
    }
    check('carol, removed from the Seaside Inn, sees nothing, though her token still names it',
      after.carol, { hotels: [], rooms: [], bookings: [], staff: [] });
    check('dave, whose hotel\'s organization was deleted, sees nothing',
      after.dave, { hotels: [], rooms: [], bookings: [], staff: [] });
    check('henry, a guest of the deleted Alpine Lodge, still sees his own booking',
      after.henry, { hotels: ['Alpine Lodge'], rooms: [], bookings: ['org_alpine/Henry'], staff: [] });
    check('bob still sees both his hotels; carol is gone from the Seaside staff',
      [after.bob.rooms, after.bob.staff], [before.bob.rooms, ['org_grand/user_alice', 'org_grand/user_bob', 'org_seaside/user_bob']]);
    check('alice and the guests see what they saw', [after.alice, after.gina, after.ivan], [before.alice, before.gina, before.ivan]);
    check('the role change reaches bob at the Grand with no membership event', await raiseRates('bob', 'grand'), 2);

    const closed = (await owner.query('SELECT id, name FROM hotel.closed_hotels')).rows;
    check('the Alpine Lodge stays, with its rooms and booking, listed as closed for the operator',
      [closed, (await owner.query("SELECT count(*)::int AS n FROM hotel.rooms WHERE hotel_id = 'org_alpine'")).rows[0].n],
      [[{ id: 'org_alpine', name: 'Alpine Lodge' }], 1]);
    const deleted = await owner.query("DELETE FROM orgsync.organizations WHERE id = 'org_alpine'").catch((err) => err);
    check('its organization\'s row cannot be deleted from under it (foreign key)', deleted.code, '23503');
    const early = await owner.query("INSERT INTO hotel.hotels VALUES ('org_unknown', 'Nowhere', 'Nowhere')").catch((err) => err);
    check('a hotel for an organization the mirror does not know yet is refused', early.code, '23503');
    const events = (await owner.query('SELECT count(*)::int AS n FROM orgsync.events')).rows[0].n;
    check('every delivery stored once', events, phase1.length + phase2.length);
  } finally {
    await postgrest.close();
    await owner.end();
  }
  console.log(failures ? `${failures} checks FAILED (seed ${seed})` : 'all checks passed');
  process.exitCode = failures ? 1 : 0;
}

await main();
