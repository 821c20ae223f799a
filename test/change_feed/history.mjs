// A Clerk history over every table orgsync mirrors, built from Clerk's own
// examples (test/fixtures/clerk): permissions and roles, organizations
// renamed and one deleted, users updated and one deleted, memberships
// created, changed and ended (one deletion without the member's data),
// invitations accepted, revoked and left pending, domains verified and
// deleted, plus a session event (ignored) and a delivery orgsync cannot use
// (invalid). Each event gets its own delivery id; `deliveries` shuffles
// them and sends some twice, as Svix may.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtureDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/clerk');
const fixture = (type) => JSON.parse(readFileSync(path.join(fixtureDir, `${type}.json`), 'utf8'));

// mulberry32: small, seedable, the same sequence on every platform.
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), chance: (p) => next() < p };
}

export function shuffle(items, random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// `tag` makes every id of this history unique in the database.
export function history(tag, startMs) {
  let clock = startMs;
  let deliveries = 0;
  const events = [];
  const emit = (type, data) => {
    clock += 1000;
    const event = fixture(type);
    event.timestamp = clock;
    event.data = data(clock);
    events.push({ msgId: `msg_${tag}_${++deliveries}`, type, body: JSON.stringify(event) });
  };
  const id = (prefix, n) => `${prefix}_${tag}_${n}`;

  const permission = (n, name) => (at) => ({
    ...fixture('permission.created').data, id: id('perm', n), key: `org:${tag}_${n}:manage`, name,
    created_at: startMs, updated_at: at,
  });
  const role = (n, name, permissionIds) => (at) => ({
    ...fixture('role.created').data, id: id('role', n), key: `org:${tag}_role_${n}`, name,
    permissions: permissionIds.map((p) => ({ ...permission(p, `permission ${p}`)(startMs) })),
    created_at: startMs, updated_at: at,
  });
  const organization = (n, name) => (at) => ({
    ...fixture('organization.created').data, id: id('org', n), name, slug: `${tag}-org-${n}`,
    created_by: id('user', 1), created_at: startMs, updated_at: at,
  });
  const user = (n, first) => (at) => {
    const data = fixture('user.created').data;
    const emailId = id('idn', n);
    return {
      ...data, id: id('user', n), first_name: first, primary_email_address_id: emailId,
      email_addresses: [{ object: 'email_address', id: emailId, email_address: `${tag}.${n}@example.com`,
                          verification: null, linked_to: [] }],
      created_at: startMs, updated_at: at,
    };
  };
  const membership = (n, org, member, role) => (at) => {
    const data = fixture('organizationMembership.created').data;
    return {
      ...data, id: id('orgmem', n), role,
      organization: { ...data.organization, id: id('org', org), name: `org ${org}`, updated_at: startMs },
      public_user_data: { ...data.public_user_data, user_id: id('user', member),
                          identifier: `${tag}.${member}@example.com` },
      created_at: startMs, updated_at: at,
    };
  };
  const invitation = (n, org, status, type) => (at) => ({
    ...fixture(type).data, id: id('orginv', n), organization_id: id('org', org), status,
    email_address: `${tag}.invited.${n}@example.com`, created_at: startMs, updated_at: at,
    expires_at: startMs + 7 * 86400000,
  });
  const domain = (n, org, verification) => (at) => ({
    ...fixture('organizationDomain.updated').data, id: id('orgdmn', n), organization_id: id('org', org),
    name: `${tag}-${n}.example.com`, verification, created_at: startMs, updated_at: at,
  });
  const deleted = (object, prefix, n) => () => ({ object, id: id(prefix, n), deleted: true });

  emit('permission.created', permission(1, 'Manage posts'));
  emit('permission.created', permission(2, 'Manage billing'));
  emit('permission.updated', permission(1, 'Manage all posts'));
  emit('role.created', role(1, 'Editor', [1]));
  emit('role.updated', role(1, 'Editor', [1, 2]));
  emit('role.created', role(2, 'Billing', [2]));
  emit('permission.deleted', deleted('permission', 'perm', 2));
  emit('role.deleted', deleted('role', 'role', 2));
  for (let n = 1; n <= 3; n++) emit('organization.created', organization(n, `org ${n}`));
  for (let n = 1; n <= 4; n++) emit('user.created', user(n, `user ${n}`));
  emit('organization.updated', organization(1, 'org 1, renamed'));
  emit('user.updated', user(2, 'user 2, renamed'));
  const memberships = [[1, 1], [1, 2], [2, 2], [2, 3], [3, 1], [3, 4]];
  memberships.forEach(([org, member], i) =>
    emit('organizationMembership.created', membership(i + 1, org, member, 'org:member')));
  emit('organizationMembership.updated', membership(1, 1, 1, 'org:admin'));
  emit('organizationMembership.updated', membership(3, 2, 2, 'org:admin'));
  emit('organizationMembership.deleted', membership(2, 1, 2, 'org:member'));
  emit('organizationMembership.deleted', (at) => {
    const { public_user_data: _member, ...rest } = membership(4, 2, 3, 'org:member')(at);
    return rest;
  });
  emit('organizationInvitation.created', invitation(1, 1, 'pending', 'organizationInvitation.created'));
  emit('organizationInvitation.created', invitation(2, 2, 'pending', 'organizationInvitation.created'));
  emit('organizationInvitation.created', invitation(3, 3, 'pending', 'organizationInvitation.created'));
  emit('organizationInvitation.accepted', invitation(1, 1, 'accepted', 'organizationInvitation.accepted'));
  emit('organizationInvitation.revoked', invitation(2, 2, 'revoked', 'organizationInvitation.revoked'));
  emit('organizationDomain.created', domain(1, 1, null));
  emit('organizationDomain.updated', domain(1, 1, { status: 'verified', strategy: 'email_code' }));
  emit('organizationDomain.created', domain(2, 3, null));
  emit('organizationDomain.created', domain(3, 2, null));
  emit('organizationDomain.deleted', deleted('organization_domain', 'orgdmn', 3));
  emit('organization.updated', organization(2, 'org 2, renamed'));
  emit('user.updated', user(3, 'user 3, renamed'));
  emit('session.created', () => ({ ...fixture('session.created').data, id: id('sess', 1) }));
  // A name that is not a string: signed, stored, and `invalid`.
  emit('organization.updated', (at) => ({ ...organization(1, 'x')(at), name: 12345 }));
  emit('organization.deleted', deleted('organization', 'org', 3));
  emit('user.deleted', deleted('user', 'user', 4));
  return events;
}

// The history shuffled, with about `duplicates` of its deliveries sent twice.
export function deliveries(events, random, duplicates = 0.25) {
  const sent = [...events];
  for (const event of events) if (random.chance(duplicates)) sent.push(event);
  return shuffle(sent, random);
}
