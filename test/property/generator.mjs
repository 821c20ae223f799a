// Random Clerk histories, shaped like the real payloads in test/fixtures/clerk.
//
// generateHistory(seed) plays Clerk: it keeps Clerk's own state (the truth)
// and emits the webhook events Clerk would send, in Clerk's order, with a
// clock that strictly increases along the history. An object's updated_at
// never decreases from one version to the next; it stays the same only where
// a copy is sent again with other content (a deleted membership carries its
// last update's; a sign-in or a final invitation status may leave it as it
// was), and the merge must then join the copies.
//
// Returned: { seed, events, invalid, truth, counts }
//   events[i] = { index, msgId, type, ts, tsField, kind, objectId, payload, body }
//     body is the exact text that is signed and delivered (json.mjs
//     stringify: metadata may hold numbers JavaScript cannot).
//   invalid = deliveries of events with one field orgsync reads given a wrong
//     JSON type (mutations.mjs); each must come back `invalid`.
//   truth = Clerk's final state (Maps of orgs, users, mems, invs, domains,
//     roles, perms) used by the self-check to cross-check the model.

import { Rng, subSeed } from './prng.mjs';
import { Raw, clone, stringify } from './json.mjs';
import { mutatedDeliveries } from './mutations.mjs';

const FIRST = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Edsger',
  'Zoë', 'José', 'Søren', 'Ægir', 'Łukasz', 'Ольга', '美咲', 'Nguyễn', 'Chloé', 'O\'Brien', 'Renée'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Allen',
  'Dijkstra', 'Müller', 'Øster', 'García', 'Дмитриев', '山田', 'Smith-Jones', 'd\'Arc', 'Ñúñez'];
const ORGWORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Tyrell',
  'Cyberdyne', 'Soylent', 'Vandelay', 'Müller & Söhne', 'Café', '株式会社', 'Ωmega', 'Confederacy'];
const ORGSUFFIX = ['Corp', 'Inc', 'Labs', 'GmbH', 'Ltd', 'Industries', 'Systems', 'Collective', '🚀'];
const ROLES = ['org:admin', 'org:member', 'org:member', 'org:billing_manager', 'org:viewer'];
const LEGACY_ROLES = ['admin', 'basic_member'];
const PERMISSIONS = {
  'org:admin': ['org:sys_profile:manage', 'org:sys_profile:delete', 'org:sys_memberships:read',
    'org:sys_memberships:manage', 'org:sys_domains:read', 'org:sys_domains:manage'],
  'org:member': ['org:sys_memberships:read'],
  'org:billing_manager': ['org:sys_memberships:read', 'org:billing:manage'],
  'org:viewer': [],
  admin: ['org:sys_memberships:manage'],
  basic_member: [],
};
const ROLE_NAMES = {
  'org:admin': 'Admin', 'org:member': 'Member', 'org:billing_manager': 'Billing manager',
  'org:viewer': 'Viewer', admin: 'Admin', basic_member: 'Member',
};
const FEATURES = ['posts', 'invoices', 'reports', 'projects', 'secrets', 'billing', 'teams', 'wiki'];
const VERBS = ['read', 'create', 'edit', 'delete', 'publish', 'manage'];
const ROLE_WORDS = ['editor', 'auditor', 'content_manager', 'support', 'owner', 'analyst', 'guest', 'reviewer'];
const ENROLLMENT = ['manual_invitation', 'automatic_invitation', 'automatic_suggestion'];
const TLDS = ['com', 'io', 'dev', 'de', 'co.uk', 'org'];

export const DEFAULTS = {
  minEvents: 30,
  maxEvents: 140,
  invitations: true,   // organizationInvitation.created/accepted/revoked
  domains: true,       // organizationDomain.created/updated/deleted
  roles: true,         // role.* and permission.*
  preexisting: true,   // some objects exist before the history (no .created event)
  ignored: true,       // a few session.* events the extension ignores
  bigMetadata: 0.3,    // share of metadata changes with huge numbers and deep nesting
  secondsTimestamps: 0.1, // share of deletion events whose top-level timestamp is in seconds
  prettyBodies: 0.1,   // share of bodies sent pretty-printed
  mutations: 0.08,     // invalid deliveries per event (at least one per kind of object)
  weights: {},         // actions' weights, over the defaults below (e.g. { createDomain: 6 })
};

// Metadata as an application or a browser may write it: integers beyond 64
// bits, 1e999, decimals beyond a double, and nesting ~200 deep.
function bigMetadata(rng) {
  const digits = (n) => String(rng.int(1, 9)) + Array.from({ length: n - 1 }, () => rng.int(0, 9)).join('');
  const m = {};
  if (rng.chance(0.8)) m.quota = new Raw(digits(rng.int(20, 40)));
  if (rng.chance(0.5)) m.huge = new Raw(rng.pick(['1e999', '-1E+400', '9.99e308', '1.0e309']));
  if (rng.chance(0.5)) m.tiny = new Raw(rng.pick(['1e-999', '-1E-999', '5e-325']));
  if (rng.chance(0.5)) m.precise = new Raw('0.' + digits(rng.int(25, 40)));
  if (rng.chance(0.7)) {
    // {"a": [{"a": [ ... ]}]}: objects and arrays, `depth` levels in all
    const depth = rng.int(150, 220);
    let v = rng.chance(0.5) ? new Raw(digits(30)) : 'bottom';
    for (let level = 0; level < depth; level++) v = level % 2 ? { a: v } : [v];
    m.deep = v;
  }
  if (!Object.keys(m).length) m.quota = new Raw(digits(30));
  return m;
}

export function generateHistory(seed, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const rng = new Rng(seed);
  const target = rng.int(opts.minEvents, opts.maxEvents);
  const instanceId = 'ins_2' + rng.base62(26);
  const omitInstanceId = rng.chance(0.3); // like received_2024
  const richPublicUserData = rng.chance(0.5); // public_user_data with username and banned

  const orgs = new Map(); // id -> org truth
  const users = new Map();
  const mems = new Map();
  const invs = new Map();
  const domains = new Map();
  const roles = new Map();
  const perms = new Map();
  const events = [];
  const usedEmails = new Set();
  const usedNames = new Set();
  const usedMsgIds = new Set();

  // Clerk's clock: `now` is the next change time; event timestamps are a few
  // ms after the change they report; both strictly increase.
  let lastTs = 1_700_000_000_000 + rng.int(0, 60_000_000) * 1000 + rng.int(0, 999);
  const tick = (burst = false) => lastTs + (burst ? rng.int(1, 4) : rng.weighted({ 1: 1, 50: 2, 2000: 3, 90000: 3 }) * 1 + rng.int(0, 999));

  const newId = (prefix) => `${prefix}_2${rng.base62(26)}`;
  const msgId = () => {
    let id;
    do { id = 'msg_' + rng.base62(27); } while (usedMsgIds.has(id));
    usedMsgIds.add(id);
    return id;
  };
  const unique = (make) => {
    let v;
    do { v = make(); } while (usedNames.has(v));
    usedNames.add(v);
    return v;
  };

  function emit(type, kind, objectId, data, changeTime, { deletion = false } = {}) {
    let ts = changeTime + rng.int(0, 30);
    if (ts <= lastTs) ts = lastTs + 1;
    lastTs = ts;
    let tsField = ts;
    if (deletion && rng.chance(opts.secondsTimestamps)) tsField = Math.floor(ts / 1000);
    const payload = {
      data,
      event_attributes: { http_request: { client_ip: rng.chance(0.5) ? '' : `192.0.2.${rng.int(1, 254)}`, user_agent: rng.pick(['clerk/clerk-sdk-go@v2.0.0', 'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/131.0']) } },
      object: 'event',
      type,
      timestamp: tsField,
    };
    if (!omitInstanceId) payload.instance_id = instanceId;
    const body = stringify(payload, rng.chance(opts.prettyBodies) ? 2 : 0);
    const ev = { index: events.length, msgId: msgId(), type, ts, tsField, kind, objectId, payload, body };
    events.push(ev);
    return ev;
  }

  // ---- names -------------------------------------------------------------
  function personName() {
    const first = rng.chance(0.05) ? null : rng.pick(FIRST);
    const last = rng.chance(0.1) ? null : rng.pick(LAST);
    return { first, last };
  }
  function freshEmail(first, last) {
    const ascii = (s) => (s || 'x').normalize('NFKD').replace(/[^A-Za-z]/g, '').toLowerCase() || 'u';
    let e;
    do {
      e = `${ascii(first)}.${ascii(last)}.${rng.base62(5).toLowerCase()}@${rng.pick(['example.com', 'example.org', 'acme.test'])}`;
    } while (usedEmails.has(e));
    usedEmails.add(e);
    return e;
  }
  const freshPhone = () => unique(() => `+${rng.pick(['1', '44', '49', '81'])}${rng.int(200, 999)}555${String(rng.int(0, 9999)).padStart(4, '0')}`);
  function orgName() {
    const name = `${rng.pick(ORGWORDS)} ${rng.pick(ORGSUFFIX)}`;
    const slug = name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') + '-' + rng.base62(4).toLowerCase();
    return { name, slug };
  }
  const metadata = () => (rng.chance(opts.bigMetadata) ? bigMetadata(rng) : { plan: rng.pick(['free', 'pro', 'team']), n: rng.int(0, 99) });

  // ---- payload builders (shapes from test/fixtures/clerk) ----------------
  function orgPayload(o) {
    return {
      object: 'organization',
      id: o.id,
      name: o.name,
      slug: o.slug,
      image_url: o.image_url,
      has_image: o.has_image,
      members_count: liveMembers(o.id).length,
      missing_member_with_elevated_permissions: false,
      pending_invitations_count: [...invs.values()].filter((i) => i.orgId === o.id && i.status === 'pending').length,
      max_allowed_memberships: o.max_allowed_memberships,
      admin_delete_enabled: true,
      public_metadata: clone(o.public_metadata),
      private_metadata: clone(o.private_metadata),
      created_by: o.created_by,
      created_at: o.created_at,
      updated_at: o.updated_at,
    };
  }
  // the organization as carried inside a membership
  function orgSnapshot(o) {
    const s = orgPayload(o);
    if (o.snapshotStyle === 'received_2024') {
      delete s.created_by;
      delete s.private_metadata;
      s.logo_url = null;
    }
    return s;
  }
  // the organization as carried inside a domain
  const publicOrganizationData = (o) => ({ id: o.id, name: o.name, slug: o.slug, image_url: o.image_url, has_image: o.has_image });
  const verification = (status, attempts) => ({ status, strategy: rng.pick(['email_code', 'admin']), attempts, expire_at: null });
  function userPayload(u) {
    return {
      object: 'user',
      id: u.id,
      external_id: u.external_id,
      primary_email_address_id: u.primary_email_address_id,
      primary_phone_number_id: u.primary_phone_number_id,
      primary_web3_wallet_id: null,
      username: u.username,
      first_name: u.first_name,
      last_name: u.last_name,
      profile_image_url: u.image_url,
      image_url: u.image_url,
      has_image: false,
      public_metadata: clone(u.public_metadata),
      private_metadata: clone(u.private_metadata),
      unsafe_metadata: clone(u.unsafe_metadata),
      email_addresses: u.emails.map((e) => ({
        id: e.id,
        object: 'email_address',
        email_address: e.email,
        reserved: false,
        linked_to: [],
        verification: verification('verified', null),
        created_at: e.created_at,
        updated_at: e.created_at,
      })),
      phone_numbers: u.phones.map((p) => ({
        id: p.id,
        object: 'phone_number',
        phone_number: p.phone,
        reserved_for_second_factor: false,
        default_second_factor: false,
        reserved: false,
        verification: verification('verified', 1),
        linked_to: [],
        backup_codes: null,
        created_at: p.created_at,
        updated_at: p.created_at,
      })),
      web3_wallets: [],
      passkeys: [],
      password_enabled: true,
      two_factor_enabled: false,
      totp_enabled: false,
      backup_code_enabled: false,
      mfa_enabled_at: null,
      mfa_disabled_at: null,
      external_accounts: [],
      saml_accounts: [],
      enterprise_accounts: [],
      last_sign_in_at: u.last_sign_in_at,
      banned: u.banned,
      locked: u.locked,
      lockout_expires_in_seconds: u.locked ? 1800 : null,
      verification_attempts_remaining: 100,
      created_at: u.created_at,
      updated_at: u.updated_at,
      delete_self_enabled: true,
      create_organization_enabled: true,
      create_organizations_limit: null,
      last_active_at: u.last_active_at,
      legal_accepted_at: null,
    };
  }
  function primaryEmail(u) {
    const e = u.emails.find((x) => x.id === u.primary_email_address_id);
    return e ? e.email : null;
  }
  function primaryPhone(u) {
    const p = u.phones.find((x) => x.id === u.primary_phone_number_id);
    return p ? p.phone : null;
  }
  function publicUserData(u) {
    const d = {
      user_id: u.id,
      first_name: u.first_name,
      last_name: u.last_name,
      profile_image_url: u.image_url,
      image_url: u.image_url,
      has_image: false,
      identifier: primaryEmail(u) ?? primaryPhone(u) ?? u.username ?? u.id,
    };
    if (richPublicUserData) {
      d.username = u.username;
      d.banned = u.banned;
    }
    return d;
  }
  function membershipPayload(m) {
    return {
      object: 'organization_membership',
      id: m.id,
      role: m.role,
      role_name: ROLE_NAMES[m.role],
      permissions: m.permissions.slice(),
      public_metadata: clone(m.public_metadata),
      private_metadata: {},
      organization: orgSnapshot(orgs.get(m.orgId)),
      public_user_data: publicUserData(users.get(m.userId)),
      created_at: m.created_at,
      updated_at: m.updated_at,
    };
  }
  function invitationPayload(i) {
    const p = {
      object: 'organization_invitation',
      id: i.id,
      email_address: i.email,
      role: i.role,
      role_name: ROLE_NAMES[i.role],
      organization_id: i.orgId,
      status: i.status,
      public_metadata: clone(i.public_metadata),
      private_metadata: {},
      url: `https://accounts.example.com/accept-invitation?token=${i.token}`,
      expires_at: i.expires_at,
      created_at: i.created_at,
      updated_at: i.updated_at,
    };
    if (i.inviterId !== undefined) p.inviter_id = i.inviterId;
    if (i.userId) p.user_id = i.userId;
    return p;
  }
  function domainPayload(d) {
    const o = orgs.get(d.orgId);
    const p = {
      object: 'organization_domain',
      id: d.id,
      organization_id: d.orgId,
      name: d.name,
      enrollment_mode: d.enrollment_mode,
      affiliation_email_address: d.affiliation_email_address,
      [d.verificationKey]: d.verification ? clone(d.verification) : null,
      total_pending_invitations: d.total_pending_invitations,
      total_pending_suggestions: d.total_pending_suggestions,
      created_at: d.created_at,
      updated_at: d.updated_at,
    };
    // Clerk's created example carries it, the updated one does not
    if (rng.chance(0.6)) p.public_organization_data = publicOrganizationData(o);
    return p;
  }
  const permissionPayload = (p) => ({
    object: 'permission', id: p.id, name: p.name, key: p.key, description: p.description, type: p.type,
    created_at: p.created_at, updated_at: p.updated_at,
  });
  const rolePayload = (r) => ({
    object: 'role', id: r.id, name: r.name, key: r.key, description: r.description,
    is_creator_eligible: r.is_creator_eligible,
    permissions: r.permissionIds.map((id) => permissionPayload(perms.get(id))),
    created_at: r.created_at, updated_at: r.updated_at,
  });
  // deletions of users, organizations, domains, roles, permissions: the id and little else
  function deletionData(object, id, extra = {}) {
    const data = { object, id, deleted: true };
    for (const [k, v] of Object.entries(extra)) if (rng.chance(0.5)) data[k] = v;
    return data;
  }

  // ---- state queries -----------------------------------------------------
  const live = (map) => [...map.values()].filter((x) => x.deletedAt == null);
  const liveOrgs = () => live(orgs);
  const changingOrgs = () => liveOrgs().filter((o) => !o.quiet);
  const liveUsers = () => live(users);
  const liveMembers = (orgId) => [...mems.values()].filter((m) => m.orgId === orgId && m.deletedAt == null);
  const liveMems = () => live(mems);
  const isMember = (orgId, userId) => liveMembers(orgId).some((m) => m.userId === userId);
  const pickRole = () => (rng.chance(0.05) ? rng.pick(LEGACY_ROLES) : rng.pick(ROLES));
  const ended = (at, x) => { x.deletedAt = Math.min(x.deletedAt ?? Infinity, at); };

  // ---- objects -------------------------------------------------------------
  function makeUser(t, preexisting, email) {
    const { first, last } = personName();
    const u = {
      id: newId('user'),
      first_name: first,
      last_name: last,
      username: rng.chance(0.3) ? `${(first || 'user').normalize('NFKD').replace(/[^A-Za-z]/g, '').toLowerCase() || 'u'}${rng.int(1, 9999)}` : null,
      image_url: `https://img.clerk.com/${rng.base62(20)}`,
      external_id: rng.chance(0.2) ? `ext_${rng.base62(8)}` : null,
      public_metadata: rng.chance(0.1) ? bigMetadata(rng) : {},
      private_metadata: rng.chance(0.5) ? {} : null,
      unsafe_metadata: rng.chance(0.1) ? bigMetadata(rng) : {},
      emails: [],
      primary_email_address_id: null,
      phones: [],
      primary_phone_number_id: null,
      banned: false,
      locked: false,
      last_sign_in_at: rng.chance(0.5) ? t : null,
      last_active_at: t,
      created_at: t,
      updated_at: t,
      deletedAt: null,
      preexisting,
    };
    const nEmails = email ? 1 : rng.weighted(preexisting ? { 0: 6, 1: 14 } : { 0: 2, 1: 14, 2: 4, 3: 1 }) * 1;
    for (let k = 0; k < nEmails; k++) {
      u.emails.push({ id: newId('idn'), email: k === 0 && email ? email : freshEmail(first, last), created_at: t });
    }
    if (u.emails.length) u.primary_email_address_id = rng.pick(u.emails).id;
    if (email) u.primary_email_address_id = u.emails[0].id;
    const nPhones = rng.weighted({ 0: 6, 1: 3, 2: 1 }) * 1;
    for (let k = 0; k < nPhones; k++) u.phones.push({ id: newId('idn'), phone: freshPhone(), created_at: t });
    if (u.phones.length) u.primary_phone_number_id = rng.pick(u.phones).id;
    users.set(u.id, u);
    return u;
  }
  function makeOrg(t, preexisting, createdBy) {
    const { name, slug } = orgName();
    const o = {
      id: newId('org'),
      name,
      slug,
      image_url: `https://img.clerk.com/${rng.base62(20)}`,
      has_image: rng.chance(0.3),
      max_allowed_memberships: rng.pick([5, 10, 100, null]),
      public_metadata: rng.chance(0.1) ? bigMetadata(rng) : {},
      private_metadata: {},
      created_by: createdBy,
      created_at: t,
      updated_at: t,
      deletedAt: null,
      preexisting,
      snapshotStyle: rng.chance(0.3) ? 'received_2024' : 'openapi',
    };
    orgs.set(o.id, o);
    return o;
  }
  function makeMembership(o, u, role, t) {
    const m = {
      id: newId('orgmem'), orgId: o.id, userId: u.id, role, permissions: PERMISSIONS[role].slice(),
      public_metadata: {}, created_at: t, updated_at: t, deletedAt: null,
    };
    mems.set(m.id, m);
    return m;
  }
  function makeDomain(o, t) {
    const word = rng.pick(ORGWORDS).normalize('NFKD').toLowerCase().replace(/[^a-z]+/g, '') || 'corp';
    const d = {
      id: newId('orgdmn'), orgId: o.id,
      name: unique(() => `${word}${rng.int(1, 999)}.${rng.pick(TLDS)}`),
      enrollment_mode: rng.pick(ENROLLMENT),
      affiliation_email_address: null,
      verificationKey: rng.chance(0.5) ? 'verification' : 'affiliation_verification',
      verification: rng.chance(0.5) ? null : verification('unverified', 0),
      total_pending_invitations: 0,
      total_pending_suggestions: rng.int(0, 3),
      created_at: t, updated_at: t, deletedAt: null,
    };
    d.affiliation_email_address = rng.chance(0.7) ? `admin@${d.name}` : null;
    domains.set(d.id, d);
    return d;
  }
  function makePermission(t) {
    const feature = rng.pick(FEATURES), verb = rng.pick(VERBS);
    const p = {
      id: newId('perm'),
      key: unique(() => `org:${feature}${rng.chance(0.5) ? rng.int(2, 99) : ''}:${verb}`),
      name: `${verb[0].toUpperCase()}${verb.slice(1)} ${feature}`,
      description: rng.chance(0.8) ? `Ability to ${verb} ${feature} in the organization` : null,
      type: 'custom', created_at: t, updated_at: t, deletedAt: null,
    };
    perms.set(p.id, p);
    return p;
  }
  const pickPermissionIds = () => rng.shuffle(live(perms)).slice(0, rng.int(0, 4)).map((p) => p.id);
  function makeRole(t) {
    const word = rng.pick(ROLE_WORDS);
    const r = {
      id: newId('role'),
      key: unique(() => `org:${word}${rng.chance(0.5) ? rng.int(2, 99) : ''}`),
      name: word.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join(' '),
      description: rng.chance(0.7) ? `Can do what a ${word.replace('_', ' ')} does` : null,
      is_creator_eligible: rng.chance(0.3),
      permissionIds: pickPermissionIds(),
      created_at: t, updated_at: t, deletedAt: null,
    };
    roles.set(r.id, r);
    return r;
  }

  // ---- actions -----------------------------------------------------------
  // A deletion of a user, organization, domain, role or permission: it ends
  // at the event's time.
  function removed(type, kind, x, object, extra = {}, burst = false) {
    const ev = emit(type, kind, x.id, deletionData(object, x.id, extra), tick(burst), { deletion: true });
    ended(normTs(ev.tsField), x);
  }
  function membershipDeleted(m, t) {
    const data = membershipPayload(m);
    // Clerk's schema does not require the member on a deletion
    if (rng.chance(m.preexisting ? 0.5 : 0.2)) delete data.public_user_data;
    const ev = emit('organizationMembership.deleted', 'membership', m.id, data, t, { deletion: true });
    ended(normTs(ev.tsField), m);
  }
  const actions = {
    createUser() {
      const t = tick();
      const u = makeUser(t, false);
      emit('user.created', 'user', u.id, userPayload(u), t);
      return true;
    },
    updateUser() {
      const us = liveUsers().filter((u) => !u.quiet);
      if (!us.length) return false;
      const u = rng.pick(us);
      const t = tick();
      const what = rng.weighted({
        rename: 4, addEmail: 2, switchPrimary: 2, removeEmail: 1, username: 1, metadata: 2,
        addPhone: 1.5, switchPhone: 1, removePhone: 0.7, ban: 0.7, lock: 0.7, signIn: 1.5,
      });
      if (what === 'rename') {
        const n = personName();
        if (rng.chance(0.7)) u.first_name = n.first;
        if (rng.chance(0.7) || n.first === u.first_name) u.last_name = n.last;
      } else if (what === 'addEmail') {
        const e = { id: newId('idn'), email: freshEmail(u.first_name, u.last_name), created_at: t };
        if (rng.chance(0.5)) u.emails.push(e); else u.emails.unshift(e);
        if (rng.chance(0.6) || !u.primary_email_address_id) u.primary_email_address_id = e.id;
      } else if (what === 'switchPrimary') {
        const others = u.emails.filter((e) => e.id !== u.primary_email_address_id);
        if (!others.length) return false;
        u.primary_email_address_id = rng.pick(others).id;
      } else if (what === 'removeEmail') {
        const others = u.emails.filter((e) => e.id !== u.primary_email_address_id);
        if (!others.length) return false;
        const gone = rng.pick(others);
        u.emails = u.emails.filter((e) => e !== gone);
      } else if (what === 'username') {
        u.username = rng.chance(0.2) ? null : `u${rng.base62(6).toLowerCase()}`;
      } else if (what === 'metadata') {
        const key = rng.pick(['public_metadata', 'private_metadata', 'unsafe_metadata']);
        u[key] = metadata();
      } else if (what === 'addPhone') {
        const p = { id: newId('idn'), phone: freshPhone(), created_at: t };
        if (rng.chance(0.5)) u.phones.push(p); else u.phones.unshift(p);
        if (rng.chance(0.6) || !u.primary_phone_number_id) u.primary_phone_number_id = p.id;
      } else if (what === 'switchPhone') {
        const others = u.phones.filter((p) => p.id !== u.primary_phone_number_id);
        if (!others.length) return false;
        u.primary_phone_number_id = rng.pick(others).id;
      } else if (what === 'removePhone') {
        if (!u.phones.length) return false;
        const gone = rng.pick(u.phones);
        u.phones = u.phones.filter((p) => p !== gone);
        if (gone.id === u.primary_phone_number_id) u.primary_phone_number_id = u.phones.length ? u.phones[0].id : null;
      } else if (what === 'ban') {
        u.banned = !u.banned;
      } else if (what === 'lock') {
        u.locked = !u.locked;
      } else {
        // a sign-in; Clerk may report it without a new updated_at: the same
        // version with other content, which the merge joins
        u.last_sign_in_at = t;
        u.last_active_at = t;
        if (rng.chance(0.4)) {
          emit('user.updated', 'user', u.id, userPayload(u), t);
          return true;
        }
      }
      u.updated_at = t;
      emit('user.updated', 'user', u.id, userPayload(u), t);
      return true;
    },
    deleteUser() {
      const us = liveUsers();
      if (us.length < 2) return false;
      const u = rng.pick(us);
      if (rng.chance(0.5)) for (const m of rng.shuffle(liveMems().filter((x) => x.userId === u.id))) membershipDeleted(m, tick(true));
      removed('user.deleted', 'user', u, 'user', { external_id: u.external_id });
      // every membership of the user ends, at the earliest applicable time
      for (const m of mems.values()) if (m.userId === u.id) ended(u.deletedAt, m);
      // Clerk revokes nothing here; pending invitations to the address stay.
      return true;
    },
    createOrg() {
      const us = liveUsers();
      const creator = us.length && rng.chance(0.9) ? rng.pick(us) : null;
      const t = tick();
      const o = makeOrg(t, false, creator ? creator.id : null);
      emit('organization.created', 'organization', o.id, orgPayload(o), t);
      if (creator && rng.chance(0.85)) addMembership(o, creator, 'org:admin', true);
      return true;
    },
    updateOrg() {
      const os = changingOrgs();
      if (!os.length) return false;
      const o = rng.pick(os);
      const t = tick();
      const what = rng.weighted({ rename: 5, slug: 1, metadata: 2, limit: 1 });
      if (what === 'rename') {
        const n = orgName();
        o.name = n.name;
        if (rng.chance(0.5)) o.slug = n.slug;
      } else if (what === 'slug') {
        o.slug = orgName().slug;
      } else if (what === 'metadata') {
        o.public_metadata = rng.chance(opts.bigMetadata) ? bigMetadata(rng) : { tier: rng.pick(['a', 'b', 'c']), seats: rng.int(1, 50) };
      } else {
        o.max_allowed_memberships = rng.pick([5, 10, 20, 100, null]);
      }
      o.updated_at = t;
      emit('organization.updated', 'organization', o.id, orgPayload(o), t);
      return true;
    },
    deleteOrg() {
      const os = liveOrgs();
      if (os.length < 2) return false;
      const o = rng.pick(os);
      // Clerk may or may not report the members and domains going with it
      if (rng.chance(0.5)) for (const m of rng.shuffle(liveMembers(o.id))) membershipDeleted(m, tick(true));
      if (rng.chance(0.5)) {
        for (const d of rng.shuffle(live(domains).filter((x) => x.orgId === o.id))) removed('organizationDomain.deleted', 'domain', d, 'organization_domain', {}, true);
      }
      removed('organization.deleted', 'organization', o, 'organization', { slug: o.slug });
      // its memberships, invitations and domains end with it
      for (const x of [...mems.values(), ...invs.values(), ...domains.values()]) if (x.orgId === o.id) ended(o.deletedAt, x);
      return true;
    },
    addMember() {
      const os = changingOrgs();
      const us = liveUsers();
      const pairs = [];
      for (const o of os) for (const u of us) if (!isMember(o.id, u.id)) pairs.push([o, u]);
      if (!pairs.length) return false;
      const [o, u] = rng.pick(pairs);
      addMembership(o, u, pickRole(), false);
      return true;
    },
    reinvite() {
      // a member removed earlier comes back: a NEW membership id
      const pairs = [];
      for (const m of mems.values()) {
        if (m.deletedAt == null) continue;
        const o = orgs.get(m.orgId), u = users.get(m.userId);
        if (o.deletedAt == null && !o.quiet && u.deletedAt == null && !isMember(o.id, u.id)) pairs.push([o, u]);
      }
      if (!pairs.length) return false;
      const [o, u] = rng.pick(pairs);
      addMembership(o, u, pickRole(), false);
      return true;
    },
    changeMemberRole() {
      const ms = liveMems();
      if (!ms.length) return false;
      const m = rng.pick(ms);
      const t = tick();
      if (rng.chance(0.8)) {
        let r;
        do { r = pickRole(); } while (r === m.role);
        m.role = r;
        m.permissions = PERMISSIONS[r].slice();
      } else {
        m.public_metadata = { note: rng.base62(6) };
      }
      m.updated_at = t;
      emit('organizationMembership.updated', 'membership', m.id, membershipPayload(m), t);
      return true;
    },
    removeMember() {
      const ms = liveMems();
      if (!ms.length) return false;
      // (those from before the history more often: a deletion may be all the mirror hears of them)
      const earlier = ms.filter((m) => m.preexisting);
      // the payload is the whole membership; updated_at stays its last update
      membershipDeleted(rng.pick(earlier.length && rng.chance(0.3) ? earlier : ms), tick());
      return true;
    },
    inviteCreate() {
      const os = liveOrgs();
      if (!os.length) return false;
      const quiet = os.filter((x) => x.quiet);
      const o = rng.pick(quiet.length && rng.chance(0.3) ? quiet : os);
      let email;
      const candidates = liveUsers().filter((u) => !isMember(o.id, u.id) && primaryEmail(u));
      if (candidates.length && rng.chance(0.4)) email = primaryEmail(rng.pick(candidates));
      else email = freshEmail(rng.pick(FIRST), rng.pick(LAST));
      const admins = liveMembers(o.id).filter((m) => m.role === 'org:admin');
      const t = tick();
      const i = {
        id: newId('orginv'), orgId: o.id, email, role: pickRole(), status: 'pending',
        token: rng.base62(16), created_at: t, updated_at: t, expires_at: t + 7 * 86400_000, userId: null,
        inviterId: rng.chance(0.3) ? undefined : admins.length ? rng.pick(admins).userId : null,
        public_metadata: rng.chance(0.2) ? { source: rng.pick(['csv', 'api']) } : {}, deletedAt: null,
      };
      invs.set(i.id, i);
      emit('organizationInvitation.created', 'invitation', i.id, invitationPayload(i), t);
      return true;
    },
    inviteAccept() {
      const pending = [...invs.values()].filter((i) => i.status === 'pending' && orgs.get(i.orgId).deletedAt == null);
      if (!pending.length) return false;
      const i = rng.pick(pending);
      const o = orgs.get(i.orgId);
      let u = [...users.values()].find((x) => x.emails.some((e) => e.email === i.email));
      if (u && (u.deletedAt != null || isMember(o.id, u.id))) return false;
      if (!u) {
        const t = tick();
        u = makeUser(t, false, i.email);
        emit('user.created', 'user', u.id, userPayload(u), t);
      }
      const t = tick(true);
      i.status = 'accepted';
      i.userId = u.id;
      finalStatus(i, t);
      emit('organizationInvitation.accepted', 'invitation', i.id, invitationPayload(i), t);
      addMembership(o, u, i.role, true);
      return true;
    },
    inviteRevoke() {
      const pending = [...invs.values()].filter((i) => i.status === 'pending' && orgs.get(i.orgId).deletedAt == null);
      if (!pending.length) return false;
      const i = rng.pick(pending);
      const t = tick();
      i.status = 'revoked';
      finalStatus(i, t);
      emit('organizationInvitation.revoked', 'invitation', i.id, invitationPayload(i), t);
      return true;
    },
    createDomain() {
      const os = liveOrgs();
      if (!os.length) return false;
      const t = tick();
      const d = makeDomain(rng.pick(os), t);
      emit('organizationDomain.created', 'domain', d.id, domainPayload(d), t);
      return true;
    },
    updateDomain() {
      const ds = live(domains).filter((d) => orgs.get(d.orgId).deletedAt == null);
      if (!ds.length) return false;
      const d = rng.pick(ds);
      const what = rng.weighted({ enrollment: 3, counts: 2, verify: 3, email: 1 });
      if (what === 'enrollment') d.enrollment_mode = rng.pick(ENROLLMENT.filter((e) => e !== d.enrollment_mode));
      else if (what === 'counts') {
        d.total_pending_invitations = rng.int(0, 9);
        d.total_pending_suggestions = rng.int(0, 9);
      } else if (what === 'verify') {
        if (d.verification?.status === 'verified') return false;
        d.verification = verification('verified', rng.int(1, 3));
      } else d.affiliation_email_address = `it@${d.name}`;
      d.updated_at = tick();
      emit('organizationDomain.updated', 'domain', d.id, domainPayload(d), d.updated_at);
      return true;
    },
    deleteDomain() {
      const ds = live(domains);
      if (!ds.length) return false;
      removed('organizationDomain.deleted', 'domain', rng.pick(ds), 'organization_domain');
      return true;
    },
    createPermission() {
      const t = tick();
      const p = makePermission(t);
      emit('permission.created', 'permission', p.id, permissionPayload(p), t);
      return true;
    },
    updatePermission() {
      const ps = live(perms);
      if (!ps.length) return false;
      const p = rng.pick(ps);
      if (rng.chance(0.5)) p.name = `${p.name} (${rng.pick(['v2', 'legacy', 'beta'])})`;
      else p.description = rng.chance(0.2) ? null : `Lets members ${rng.pick(VERBS)} ${rng.pick(FEATURES)}`;
      p.updated_at = tick();
      emit('permission.updated', 'permission', p.id, permissionPayload(p), p.updated_at);
      return true;
    },
    deletePermission() {
      const ps = live(perms);
      if (!ps.length) return false;
      const p = rng.pick(ps);
      // the roles holding it lose it first
      for (const r of live(roles).filter((x) => x.permissionIds.includes(p.id))) {
        r.permissionIds = r.permissionIds.filter((id) => id !== p.id);
        r.updated_at = tick(true);
        emit('role.updated', 'role', r.id, rolePayload(r), r.updated_at);
      }
      removed('permission.deleted', 'permission', p, 'permission');
      return true;
    },
    createRole() {
      const t = tick();
      const r = makeRole(t);
      emit('role.created', 'role', r.id, rolePayload(r), t);
      return true;
    },
    updateRole() {
      const rs = live(roles);
      if (!rs.length) return false;
      const r = rng.pick(rs);
      const what = rng.weighted({ permissions: 4, rename: 1, creator: 1 });
      if (what === 'permissions') {
        const before = r.permissionIds.join();
        r.permissionIds = pickPermissionIds();
        if (r.permissionIds.join() === before) return false;
      } else if (what === 'rename') {
        r.name = `${r.name} ${rng.pick(['II', 'Plus', 'Lite'])}`;
        r.description = rng.chance(0.3) ? null : `Renamed ${r.name}`;
      } else r.is_creator_eligible = !r.is_creator_eligible;
      r.updated_at = tick();
      emit('role.updated', 'role', r.id, rolePayload(r), r.updated_at);
      return true;
    },
    deleteRole() {
      const rs = live(roles);
      if (!rs.length) return false;
      removed('role.deleted', 'role', rng.pick(rs), 'role', { slug: null });
      return true;
    },
    session() {
      const us = liveUsers();
      if (!us.length) return false;
      const u = rng.pick(us);
      const t = tick();
      const id = newId('sess');
      emit(rng.pick(['session.created', 'session.ended']), 'session', id, {
        object: 'session', id, user_id: u.id, client_id: newId('client'), status: 'active',
        last_active_at: t, expire_at: t + 604800_000, abandon_at: t + 2592000_000,
        created_at: t, updated_at: t,
      }, t);
      return true;
    },
  };

  // An invitation becomes accepted or revoked, for good; now and then
  // without a new updated_at, which only its final status (rank 2) orders
  // after the pending copy.
  function finalStatus(i, t) {
    if (rng.chance(0.75)) i.updated_at = t;
  }

  function addMembership(o, u, role, burst) {
    const t = tick(burst);
    const m = makeMembership(o, u, role, t);
    emit('organizationMembership.created', 'membership', m.id, membershipPayload(m), t);
    return m;
  }

  // ---- the history -------------------------------------------------------
  if (opts.preexisting && rng.chance(0.7)) {
    // objects that existed before the webhook endpoint did: no .created event
    const before = () => lastTs - rng.int(10_000_000, 900_000_000);
    const nu = rng.int(0, 3), no = rng.int(1, 2);
    // a quiet user is not changed during the history (the mirror may know it only as a member)
    for (let k = 0; k < nu; k++) makeUser(before(), true).quiet = rng.chance(0.5);
    for (let k = 0; k < no; k++) {
      const pre = [...users.values()];
      const o = makeOrg(before(), true, pre.length ? rng.pick(pre).id : null);
      // a quiet organization is neither changed nor joined during the history:
      // the mirror knows it only from what its members, invitations and domains carry
      o.quiet = rng.chance(0.5);
      const members = o.quiet && rng.chance(0.5) ? [] : pre;
      for (const u of members) {
        if (rng.chance(0.5)) makeMembership(o, u, pickRole(), Math.max(o.created_at, u.created_at) + rng.int(1, 1000)).preexisting = true;
      }
      for (let k = opts.domains ? rng.int(0, 2) : 0; k > 0; k--) makeDomain(o, o.created_at + rng.int(1, 1000));
    }
    if (opts.roles) {
      for (let k = rng.int(0, 2); k > 0; k--) makePermission(before());
      for (let k = rng.int(0, 1); k > 0; k--) makeRole(before());
    }
  }
  for (let k = rng.int(1, 3); k > 0; k--) actions.createUser();
  for (let k = rng.int(1, 2); k > 0; k--) actions.createOrg();

  const on = (flag, w) => (flag ? w : 0);
  const weights = {
    createUser: 7, updateUser: 14, deleteUser: 2.5,
    createOrg: 4, updateOrg: 10, deleteOrg: 2,
    addMember: 16, reinvite: 5, changeMemberRole: 12, removeMember: 6,
    inviteCreate: on(opts.invitations, 3.5), inviteAccept: on(opts.invitations, 2.5), inviteRevoke: on(opts.invitations, 1.5),
    createDomain: on(opts.domains, 2.5), updateDomain: on(opts.domains, 3), deleteDomain: on(opts.domains, 0.8),
    createPermission: on(opts.roles, 1.5), updatePermission: on(opts.roles, 1), deletePermission: on(opts.roles, 0.5),
    createRole: on(opts.roles, 1.5), updateRole: on(opts.roles, 2.5), deleteRole: on(opts.roles, 0.6),
    session: on(opts.ignored, 1),
    ...opts.weights,
  };
  let guard = 0;
  while (events.length < target && guard++ < target * 50) {
    const w = { ...weights };
    if (liveUsers().length < 3) w.createUser *= 3;
    if (liveOrgs().length < 2) w.createOrg *= 3;
    actions[rng.weighted(w)]();
  }

  const invalid = mutatedDeliveries(events, new Rng(subSeed(seed, 0x3c7)), { rate: opts.mutations, usedMsgIds });
  const counts = {};
  for (const e of events) counts[e.type] = (counts[e.type] || 0) + 1;
  return {
    seed, events, invalid, counts,
    truth: { orgs, users, mems, invs, domains, roles, perms, primaryEmail, primaryPhone },
  };
}

// Clerk's top-level timestamp: milliseconds, or seconds in some payloads.
export function normTs(v) {
  return v < 1e11 ? v * 1000 : v;
}
