// Random Clerk histories, shaped like the real payloads in test/fixtures/clerk.
//
// generateHistory(seed) plays Clerk: it keeps Clerk's own state (the truth)
// and emits the webhook events Clerk would send, in Clerk's order, with a
// clock that strictly increases along the history. Every object's updated_at
// strictly increases from one version to the next.
//
// Returned: { seed, events, truth, counts }
//   events[i] = { index, msgId, type, ts, kind, objectId, payload, body }
//     body is the exact text that is signed and delivered.
//   truth = Clerk's final state (Maps of orgs, users, memberships, invitations)
//     used by the self-check to cross-check the model.

import { Rng } from './prng.mjs';

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

export const DEFAULTS = {
  minEvents: 30,
  maxEvents: 140,
  invitations: true,   // organizationInvitation.created/accepted/revoked
  preexisting: true,   // some users/orgs exist before the history (no .created event)
  ignored: true,       // a few session.* events the extension ignores
  secondsTimestamps: 0.1, // share of deletion events whose top-level timestamp is in seconds
  prettyBodies: 0.1,   // share of bodies sent pretty-printed
};

const clone = (x) => JSON.parse(JSON.stringify(x));

export function generateHistory(seed, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const rng = new Rng(seed);
  const target = rng.int(opts.minEvents, opts.maxEvents);
  const instanceId = 'ins_2' + rng.base62(26);
  const omitInstanceId = rng.chance(0.3); // like received_2024

  const orgs = new Map(); // id -> org truth
  const users = new Map();
  const mems = new Map();
  const invs = new Map();
  const events = [];
  const usedEmails = new Set();
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
    const body = rng.chance(opts.prettyBodies) ? JSON.stringify(payload, null, 2) : JSON.stringify(payload);
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
  function orgName() {
    const name = `${rng.pick(ORGWORDS)} ${rng.pick(ORGSUFFIX)}`;
    const slug = name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') + '-' + rng.base62(4).toLowerCase();
    return { name, slug };
  }

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
  function userPayload(u) {
    return {
      object: 'user',
      id: u.id,
      external_id: u.external_id,
      primary_email_address_id: u.primary_email_address_id,
      primary_phone_number_id: null,
      primary_web3_wallet_id: null,
      username: u.username,
      first_name: u.first_name,
      last_name: u.last_name,
      profile_image_url: u.image_url,
      image_url: u.image_url,
      has_image: false,
      public_metadata: clone(u.public_metadata),
      private_metadata: clone(u.private_metadata),
      unsafe_metadata: {},
      email_addresses: u.emails.map((e) => ({
        id: e.id,
        object: 'email_address',
        email_address: e.email,
        reserved: false,
        linked_to: [],
        verification: { status: 'verified', strategy: 'admin', attempts: null, expire_at: null },
        created_at: e.created_at,
        updated_at: e.created_at,
      })),
      phone_numbers: [],
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
      last_sign_in_at: null,
      banned: false,
      locked: false,
      lockout_expires_in_seconds: null,
      verification_attempts_remaining: 100,
      created_at: u.created_at,
      updated_at: u.updated_at,
      delete_self_enabled: true,
      create_organization_enabled: true,
      create_organizations_limit: null,
      last_active_at: null,
      legal_accepted_at: null,
    };
  }
  function primaryEmail(u) {
    const e = u.emails.find((x) => x.id === u.primary_email_address_id);
    return e ? e.email : null;
  }
  function publicUserData(u) {
    return {
      user_id: u.id,
      first_name: u.first_name,
      last_name: u.last_name,
      profile_image_url: u.image_url,
      image_url: u.image_url,
      has_image: false,
      identifier: primaryEmail(u) ?? u.username ?? u.id,
    };
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
      public_metadata: {},
      private_metadata: {},
      url: `https://accounts.example.com/accept-invitation?token=${i.token}`,
      expires_at: i.expires_at,
      created_at: i.created_at,
      updated_at: i.updated_at,
    };
    if (i.userId) p.user_id = i.userId;
    return p;
  }

  // ---- state queries -----------------------------------------------------
  const liveOrgs = () => [...orgs.values()].filter((o) => o.deletedAt == null);
  const liveUsers = () => [...users.values()].filter((u) => u.deletedAt == null);
  const liveMembers = (orgId) => [...mems.values()].filter((m) => m.orgId === orgId && m.deletedAt == null);
  const liveMems = () => [...mems.values()].filter((m) => m.deletedAt == null);
  const isMember = (orgId, userId) => liveMembers(orgId).some((m) => m.userId === userId);
  const pickRole = () => (rng.chance(0.05) ? rng.pick(LEGACY_ROLES) : rng.pick(ROLES));

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
      public_metadata: {},
      private_metadata: rng.chance(0.5) ? {} : null,
      emails: [],
      primary_email_address_id: null,
      created_at: t,
      updated_at: t,
      deletedAt: null,
      preexisting,
    };
    const nEmails = email ? 1 : rng.weighted({ 0: 1, 1: 14, 2: 4, 3: 1 }) * 1;
    for (let k = 0; k < nEmails; k++) {
      u.emails.push({ id: newId('idn'), email: k === 0 && email ? email : freshEmail(first, last), created_at: t });
    }
    if (u.emails.length) u.primary_email_address_id = rng.pick(u.emails).id;
    if (email) u.primary_email_address_id = u.emails[0].id;
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
      public_metadata: {},
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

  // ---- actions -----------------------------------------------------------
  const actions = {
    createUser() {
      const t = tick();
      const u = makeUser(t, false);
      emit('user.created', 'user', u.id, userPayload(u), t);
      return true;
    },
    updateUser() {
      const live = liveUsers();
      if (!live.length) return false;
      const u = rng.pick(live);
      const t = tick();
      const what = rng.weighted({ rename: 4, addEmail: 2, switchPrimary: 2, removeEmail: 1, username: 1, metadata: 1 });
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
      } else {
        u.public_metadata = { plan: rng.pick(['free', 'pro', 'team']), n: rng.int(0, 99) };
      }
      u.updated_at = t;
      emit('user.updated', 'user', u.id, userPayload(u), t);
      return true;
    },
    deleteUser() {
      const live = liveUsers();
      if (live.length < 2) return false;
      const u = rng.pick(live);
      const cascadeEvents = rng.chance(0.5);
      const theirs = liveMems().filter((m) => m.userId === u.id);
      if (cascadeEvents) {
        for (const m of rng.shuffle(theirs)) {
          const ev = emit('organizationMembership.deleted', 'membership', m.id, membershipPayload(m), tick(true), { deletion: true });
          m.deletedAt = normTs(ev.tsField);
        }
      }
      const t = tick();
      const data = { object: 'user', id: u.id, deleted: true };
      if (rng.chance(0.5)) data.external_id = u.external_id;
      const ev = emit('user.deleted', 'user', u.id, data, t, { deletion: true });
      u.deletedAt = normTs(ev.tsField);
      // every membership of the user ends, at the earliest applicable time
      for (const m of mems.values()) if (m.userId === u.id) m.deletedAt = Math.min(m.deletedAt ?? Infinity, u.deletedAt);
      // Clerk revokes nothing here; pending invitations to the address stay.
      return true;
    },
    createOrg() {
      const live = liveUsers();
      const creator = live.length && rng.chance(0.9) ? rng.pick(live) : null;
      const t = tick();
      const o = makeOrg(t, false, creator ? creator.id : null);
      emit('organization.created', 'organization', o.id, orgPayload(o), t);
      if (creator && rng.chance(0.85)) addMembership(o, creator, 'org:admin', true);
      return true;
    },
    updateOrg() {
      const live = liveOrgs();
      if (!live.length) return false;
      const o = rng.pick(live);
      const t = tick();
      const what = rng.weighted({ rename: 5, slug: 1, metadata: 2, limit: 1 });
      if (what === 'rename') {
        const n = orgName();
        o.name = n.name;
        if (rng.chance(0.5)) o.slug = n.slug;
      } else if (what === 'slug') {
        o.slug = orgName().slug;
      } else if (what === 'metadata') {
        o.public_metadata = { tier: rng.pick(['a', 'b', 'c']), seats: rng.int(1, 50) };
      } else {
        o.max_allowed_memberships = rng.pick([5, 10, 20, 100, null]);
      }
      o.updated_at = t;
      emit('organization.updated', 'organization', o.id, orgPayload(o), t);
      return true;
    },
    deleteOrg() {
      const live = liveOrgs();
      if (live.length < 2) return false;
      const o = rng.pick(live);
      const cascadeEvents = rng.chance(0.5);
      const theirs = liveMembers(o.id);
      if (cascadeEvents) {
        for (const m of rng.shuffle(theirs)) {
          const ev = emit('organizationMembership.deleted', 'membership', m.id, membershipPayload(m), tick(true), { deletion: true });
          m.deletedAt = normTs(ev.tsField);
        }
      }
      const data = { object: 'organization', id: o.id, deleted: true };
      if (rng.chance(0.5)) data.slug = o.slug;
      const ev = emit('organization.deleted', 'organization', o.id, data, tick(), { deletion: true });
      o.deletedAt = normTs(ev.tsField);
      for (const m of mems.values()) if (m.orgId === o.id) m.deletedAt = Math.min(m.deletedAt ?? Infinity, o.deletedAt);
      return true;
    },
    addMember() {
      const os = liveOrgs();
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
        if (o.deletedAt == null && u.deletedAt == null && !isMember(o.id, u.id)) pairs.push([o, u]);
      }
      if (!pairs.length) return false;
      const [o, u] = rng.pick(pairs);
      addMembership(o, u, pickRole(), false);
      return true;
    },
    updateRole() {
      const live = liveMems();
      if (!live.length) return false;
      const m = rng.pick(live);
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
      const live = liveMems();
      if (!live.length) return false;
      const m = rng.pick(live);
      // the payload is the whole membership; updated_at stays its last update
      const ev = emit('organizationMembership.deleted', 'membership', m.id, membershipPayload(m), tick(), { deletion: true });
      m.deletedAt = normTs(ev.tsField);
      return true;
    },
    inviteCreate() {
      if (!opts.invitations) return false;
      const os = liveOrgs();
      if (!os.length) return false;
      const o = rng.pick(os);
      let email;
      const candidates = liveUsers().filter((u) => !isMember(o.id, u.id) && primaryEmail(u));
      if (candidates.length && rng.chance(0.4)) email = primaryEmail(rng.pick(candidates));
      else email = freshEmail(rng.pick(FIRST), rng.pick(LAST));
      const t = tick();
      const i = {
        id: newId('orginv'), orgId: o.id, email, role: pickRole(), status: 'pending',
        token: rng.base62(16), created_at: t, updated_at: t, expires_at: t + 7 * 86400_000, userId: null,
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
      i.updated_at = t;
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
      i.updated_at = t;
      emit('organizationInvitation.revoked', 'invitation', i.id, invitationPayload(i), t);
      return true;
    },
    session() {
      if (!opts.ignored) return false;
      const live = liveUsers();
      if (!live.length) return false;
      const u = rng.pick(live);
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

  function addMembership(o, u, role, burst) {
    const t = tick(burst);
    const m = {
      id: newId('orgmem'), orgId: o.id, userId: u.id, role, permissions: PERMISSIONS[role].slice(),
      public_metadata: {}, created_at: t, updated_at: t, deletedAt: null,
    };
    mems.set(m.id, m);
    emit('organizationMembership.created', 'membership', m.id, membershipPayload(m), t);
    return m;
  }

  // ---- the history -------------------------------------------------------
  if (opts.preexisting && rng.chance(0.6)) {
    // objects that existed before the webhook endpoint did: no .created event
    const nu = rng.int(0, 3), no = rng.int(0, 2);
    for (let k = 0; k < nu; k++) makeUser(lastTs - rng.int(10_000_000, 900_000_000), true);
    for (let k = 0; k < no; k++) {
      const t = lastTs - rng.int(10_000_000, 900_000_000);
      const pre = [...users.values()];
      makeOrg(t, true, pre.length ? rng.pick(pre).id : null);
    }
  }
  for (let k = rng.int(1, 3); k > 0; k--) actions.createUser();
  for (let k = rng.int(1, 2); k > 0; k--) actions.createOrg();

  const weights = {
    createUser: 7, updateUser: 12, deleteUser: 2.5,
    createOrg: 4, updateOrg: 10, deleteOrg: 2,
    addMember: 16, reinvite: 5, updateRole: 12, removeMember: 6,
    inviteCreate: opts.invitations ? 3 : 0, inviteAccept: opts.invitations ? 2.5 : 0, inviteRevoke: opts.invitations ? 1.5 : 0,
    session: opts.ignored ? 1 : 0,
  };
  let guard = 0;
  while (events.length < target && guard++ < target * 50) {
    const w = { ...weights };
    if (liveUsers().length < 3) w.createUser *= 3;
    if (liveOrgs().length < 2) w.createOrg *= 3;
    actions[rng.weighted(w)]();
  }

  const counts = {};
  for (const e of events) counts[e.type] = (counts[e.type] || 0) + 1;
  return { seed, events, truth: { orgs, users, mems, invs, primaryEmail }, counts };
}

// Clerk's top-level timestamp: milliseconds, or seconds in some payloads.
export function normTs(v) {
  return v < 1e11 ? v * 1000 : v;
}
