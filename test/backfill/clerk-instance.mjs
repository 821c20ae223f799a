// A generated Clerk instance: organizations, users (with email addresses),
// memberships, invitations in every status (expired included), domains,
// roles and permissions, in the shapes of Clerk's Backend API
// (/work/shared/fixtures/clerk-api/bapi-2026-05-12.yml: Organization, User,
// OrganizationMembership with its organization and public_user_data,
// OrganizationInvitationWithPublicOrganizationData, OrganizationDomain, Role,
// Permission). Each change emits the webhook event Clerk would send for it
// (test/fixtures/clerk shapes), with the same object as `data`, except for
// an invitation expiring: Clerk sends nothing for that.
//
// The stand-in (clerk-api-stand-in.mjs) serves it; expectedRows() says what
// orgsync's tables must hold once they agree with it.

import { Rng } from '../property/prng.mjs';

export const KINDS = ['organizations', 'users', 'memberships', 'invitations', 'domains', 'roles', 'permissions'];

const FIRST = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Zoë', 'José', 'Søren', 'Ольга', '美咲', 'Renée'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Müller', 'García', '山田', "d'Arc", null];
const ORGWORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Müller & Söhne', 'Café', '株式会社', 'Ωmega'];
const ORGSUFFIX = ['Corp', 'Inc', 'Labs', 'GmbH', 'Ltd', '🚀'];
const STATUSES = ['pending', 'accepted', 'revoked', 'expired'];
const DAY = 86_400_000;

// Compares records by (created_at, id): Clerk's `created_at` order, made
// total by the id.
const byCreation = (a, b) =>
  a.obj.created_at - b.obj.created_at || (a.obj.id < b.obj.id ? -1 : a.obj.id > b.obj.id ? 1 : 0);

export class ClerkInstance {
  // sizes: { organizations, users, memberships, invitations, domains, roles, permissions }
  // events: false keeps no webhook events (a benchmark's large instance).
  constructor(seed, sizes = {}, { events = true } = {}) {
    this.rng = new Rng(seed);
    this.keepEvents = events;
    this.instanceId = 'ins_2' + this.rng.base62(26);
    this.clock = Date.now() - 200 * DAY;
    this.events = [];
    this.records = Object.fromEntries(KINDS.map((k) => [k, new Map()]));
    this.live = Object.fromEntries(KINDS.map((k) => [k, []])); // sorted by creation
    this.generate(sizes);
  }

  // Clerk's clock: strictly increasing, a little past the last change.
  now(step = this.rng.int(1, 5000)) {
    this.clock += step;
    return this.clock;
  }

  // ---- records ----------------------------------------------------------------

  add(kind, obj) {
    const rec = { kind, obj, deleted: false, version: 0, json: null, jsonKey: null };
    this.records[kind].set(obj.id, rec);
    const live = this.live[kind];
    if (!live.length || byCreation(live[live.length - 1], rec) < 0) live.push(rec);
    else live.splice(this.liveIndex(kind, rec), 0, rec);
    return rec;
  }

  // Where `rec` is, or would be, among the live records of its kind.
  liveIndex(kind, rec) {
    const live = this.live[kind];
    let lo = 0, hi = live.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byCreation(live[mid], rec) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  changed(rec, updatedAt = this.now()) {
    rec.obj.updated_at = updatedAt;
    rec.version++;
  }

  remove(rec) {
    if (rec.deleted) return;
    rec.deleted = true;
    const i = this.liveIndex(rec.kind, rec);
    if (this.live[rec.kind][i] === rec) this.live[rec.kind].splice(i, 1);
  }

  get(kind, id) { return this.records[kind].get(id); }
  liveOf(kind) { return this.live[kind]; }
  newId(prefix) { return `${prefix}_2${this.rng.base62(26)}`; }

  // ---- objects in the API's shapes -------------------------------------------------

  makePermission(key, type = 'custom') {
    const t = this.now();
    return {
      object: 'permission', id: this.newId('perm'), name: key.split(':').pop().replace(/_/g, ' '), key,
      description: `May ${key}`, type, created_at: t, updated_at: t,
    };
  }

  makeRole(key, permissionKeys) {
    const t = this.now();
    return {
      object: 'role', id: this.newId('role'), name: key.replace(/^org:/, ''), key, description: null,
      is_creator_eligible: key === 'org:admin', permissionKeys, created_at: t, updated_at: t,
    };
  }

  makeUser() {
    const t = this.now();
    const first = this.rng.pick(FIRST), last = this.rng.pick(LAST);
    const emails = Array.from({ length: this.rng.int(1, 2) }, () => ({
      id: this.newId('idn'), object: 'email_address',
      email_address: `${this.rng.base62(8).toLowerCase()}@${this.rng.pick(['example.com', 'acme.test'])}`,
      reserved: false, linked_to: [],
      verification: { status: 'verified', strategy: 'email_code', attempts: 1, expire_at: null },
      created_at: t, updated_at: t,
    }));
    return {
      object: 'user', id: this.newId('user'), external_id: this.rng.chance(0.2) ? `ext_${this.rng.base62(8)}` : null,
      primary_email_address_id: emails[0].id, primary_phone_number_id: null, primary_web3_wallet_id: null,
      username: this.rng.chance(0.3) ? `u${this.rng.base62(7).toLowerCase()}` : null,
      first_name: first, last_name: last, profile_image_url: `https://img.clerk.com/${this.rng.base62(16)}`,
      image_url: `https://img.clerk.com/${this.rng.base62(16)}`, has_image: false,
      public_metadata: this.rng.chance(0.3) ? { plan: this.rng.pick(['free', 'pro']) } : {},
      private_metadata: {}, unsafe_metadata: {},
      email_addresses: emails, phone_numbers: [], web3_wallets: [], passkeys: [],
      password_enabled: true, two_factor_enabled: false, totp_enabled: false, backup_code_enabled: false,
      mfa_enabled_at: null, mfa_disabled_at: null, external_accounts: [], saml_accounts: [], enterprise_accounts: [],
      last_sign_in_at: this.rng.chance(0.5) ? t - this.rng.int(0, 10 * DAY) : null,
      banned: false, locked: false, lockout_expires_in_seconds: null, verification_attempts_remaining: 100,
      created_at: t, updated_at: t, delete_self_enabled: true, create_organization_enabled: true,
      create_organizations_limit: null, last_active_at: null, legal_accepted_at: null,
    };
  }

  makeOrganization(createdBy) {
    const t = this.now();
    const name = `${this.rng.pick(ORGWORDS)} ${this.rng.pick(ORGSUFFIX)}`;
    return {
      object: 'organization', id: this.newId('org'), name,
      slug: `${name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}-${this.rng.base62(5).toLowerCase()}`,
      image_url: `https://img.clerk.com/${this.rng.base62(16)}`, has_image: this.rng.chance(0.3),
      max_allowed_memberships: this.rng.pick([5, 100, 0]), admin_delete_enabled: true,
      public_metadata: {}, private_metadata: this.rng.chance(0.2) ? { crm: this.rng.base62(6) } : {},
      created_by: createdBy, created_at: t, updated_at: t,
    };
  }

  makeMembership(org, user, role) {
    const t = this.now();
    return {
      object: 'organization_membership', id: this.newId('orgmem'), role: role.obj.key, role_name: role.obj.name,
      permissions: role.obj.permissionKeys.slice(), public_metadata: {}, private_metadata: {},
      organizationId: org.obj.id, userId: user.obj.id, created_at: t, updated_at: t,
    };
  }

  makeInvitation(org, status) {
    const t = this.now();
    const inviter = this.rng.pick(this.live.users);
    const inv = {
      object: 'organization_invitation', id: this.newId('orginv'),
      email_address: `${this.rng.base62(8).toLowerCase()}@invited.test`, role: 'org:member', role_name: 'member',
      organization_id: org.obj.id, inviter_id: inviter ? inviter.obj.id : null, status: 'pending',
      public_metadata: {}, private_metadata: {},
      url: `https://accounts.example.com/accept?__clerk_ticket=${this.rng.base62(24)}`,
      expires_at: Date.now() + 30 * DAY, created_at: t, updated_at: t,
    };
    const rec = this.add('invitations', inv);
    if (status !== 'pending') this.endInvitation(rec, status, false);
    return rec;
  }

  makeDomain(org) {
    const t = this.now();
    const status = this.rng.pick(['verified', 'unverified']);
    const verification = { status, strategy: 'email_code', attempts: 1, expire_at: null };
    return {
      object: 'organization_domain', id: this.newId('orgdmn'), organization_id: org.obj.id,
      name: `${this.rng.base62(6).toLowerCase()}.example`, enrollment_mode: this.rng.pick(['manual_invitation', 'automatic_invitation']),
      affiliation_email_address: null, affiliation_verification: { ...verification, verified_at: null },
      ownership_verification: null, verification, total_pending_invitations: 0, total_pending_suggestions: 0,
      created_at: t, updated_at: t,
    };
  }

  // ---- the API's views (what the stand-in serves) ---------------------------------

  // The object as the API shows it now, as a JSON text. Organizations' counts
  // and the snapshots a membership, an invitation, a domain or a role embeds
  // are read at the time they are shown, as Clerk does.
  json(rec, { membersCount = true } = {}) {
    const key = this.viewKey(rec, membersCount);
    if (rec.jsonKey !== key) {
      rec.json = JSON.stringify(this.view(rec, membersCount));
      rec.jsonKey = key;
    }
    return rec.json;
  }

  viewKey(rec, membersCount) {
    switch (rec.kind) {
      case 'organizations': return membersCount ? `${rec.version}:${this.counts(rec.obj.id).join(':')}` : `${rec.version}`;
      case 'memberships': {
        const org = this.get('organizations', rec.obj.organizationId), user = this.get('users', rec.obj.userId);
        return `${rec.version}:${org.version}:${user.version}`;
      }
      case 'invitations':
      case 'domains': {
        const org = this.get('organizations', rec.obj.organization_id);
        return `${rec.version}:${org.version}:${rec.obj.inviter_id ? this.get('users', rec.obj.inviter_id).version : ''}`;
      }
      case 'roles': return `${rec.version}:${rec.obj.permissionKeys.map((k) => this.permissionByKey(k)?.version).join(':')}`;
      default: return `${rec.version}`;
    }
  }

  view(rec, membersCount = true) {
    const o = rec.obj;
    switch (rec.kind) {
      case 'organizations': {
        if (!membersCount) return o;
        const [members, pending] = this.counts(o.id);
        return { ...o, members_count: members, pending_invitations_count: pending };
      }
      case 'memberships': {
        const { organizationId, userId, ...rest } = o;
        return { ...rest, organization: this.organizationSnapshot(organizationId), public_user_data: this.publicUserData(userId) };
      }
      case 'invitations': {
        const inviter = o.inviter_id ? this.get('users', o.inviter_id).obj : null;
        return {
          ...o,
          public_inviter_data: inviter && {
            user_id: inviter.id, first_name: inviter.first_name, last_name: inviter.last_name,
            image_url: inviter.image_url, has_image: inviter.has_image, identifier: primaryEmail(inviter) ?? inviter.id,
          },
          public_organization_data: this.publicOrganizationData(o.organization_id),
        };
      }
      case 'domains': return { ...o, public_organization_data: this.publicOrganizationData(o.organization_id) };
      case 'roles': {
        const { permissionKeys, ...rest } = o;
        return { ...rest, permissions: permissionKeys.map((k) => this.permissionByKey(k)?.obj).filter(Boolean) };
      }
      default: return o;
    }
  }

  counts(orgId) {
    const stats = this.orgStats?.get(orgId);
    return stats ? [stats.members, stats.pending] : [0, 0];
  }

  // The slimmer organization a membership carries: no counts, no private metadata.
  organizationSnapshot(orgId) {
    const { private_metadata: _, ...slim } = this.get('organizations', orgId).obj;
    return slim;
  }

  publicOrganizationData(orgId) {
    const o = this.get('organizations', orgId).obj;
    return { id: o.id, name: o.name, slug: o.slug, image_url: o.image_url, has_image: o.has_image };
  }

  publicUserData(userId) {
    const u = this.get('users', userId).obj;
    return {
      user_id: u.id, first_name: u.first_name, last_name: u.last_name, profile_image_url: u.profile_image_url,
      image_url: u.image_url, has_image: u.has_image, identifier: primaryEmail(u) ?? u.username ?? u.id,
      username: u.username, banned: u.banned,
    };
  }

  permissionByKey(key) {
    return this.live.permissions.find((p) => p.obj.key === key);
  }

  // Every view computed once, so that serving is only joining texts (the benchmark).
  warm() {
    for (const kind of KINDS) for (const rec of this.live[kind]) this.json(rec);
  }

  // ---- webhook events -----------------------------------------------------------

  emit(type, data) {
    if (!this.keepEvents) return null;
    const at = this.now(this.rng.int(1, 30));
    const payload = {
      data, object: 'event', type, timestamp: at, instance_id: this.instanceId,
      event_attributes: { http_request: { client_ip: '192.0.2.1', user_agent: 'clerk-backend' } },
    };
    const event = { msgId: 'msg_' + this.rng.base62(27), type, body: JSON.stringify(payload), at };
    this.events.push(event);
    return event;
  }

  // An upsert event carries the object as the API shows it at that moment.
  emitObject(type, rec) {
    return this.keepEvents ? this.emit(type, JSON.parse(this.json(rec))) : null;
  }

  // ---- the instance as generated, its creation events included ----------------

  generate(sizes) {
    const n = {
      organizations: 6, users: 12, memberships: 20, invitations: 8, domains: 4, roles: 3, permissions: 5, ...sizes,
    };
    this.orgStats = new Map();
    const system = ['org:sys_memberships:read', 'org:sys_memberships:manage', 'org:sys_profile:manage'];
    for (let i = 0; i < n.permissions; i++) {
      this.createPermission(i < system.length ? system[i] : `org:feature_${i}:use`, i < system.length ? 'system' : 'custom');
    }
    // Roles use the first permissions; the last ones are free to be deleted.
    const keys = this.live.permissions.map((p) => p.obj.key);
    for (let i = 0; i < n.roles; i++) {
      const key = i === 0 ? 'org:admin' : i === 1 ? 'org:member' : `org:custom_${i}`;
      this.createRole(key, keys.slice(0, i === 0 ? system.length : 1 + (i % system.length)));
    }
    for (let i = 0; i < n.users; i++) this.createUser();
    for (let i = 0; i < n.organizations; i++) this.createOrganization();
    for (let i = 0; i < n.memberships; i++) this.addMembership();
    for (let i = 0; i < n.invitations; i++) this.createInvitation(STATUSES[i % STATUSES.length]);
    for (let i = 0; i < n.domains; i++) this.createDomain();
  }

  // ---- changes: each applies to the instance and returns the events emitted -------

  createPermission(key = `org:feature_${this.rng.base62(5).toLowerCase()}:use`, type = 'custom') {
    const rec = this.add('permissions', this.makePermission(key, type));
    return [this.emitObject('permission.created', rec)];
  }

  createRole(key = `org:role_${this.rng.base62(5).toLowerCase()}`, permissionKeys = null) {
    const keys = permissionKeys ?? this.live.permissions.slice(0, 2).map((p) => p.obj.key);
    const rec = this.add('roles', this.makeRole(key, keys));
    return [this.emitObject('role.created', rec)];
  }

  createUser() {
    const rec = this.add('users', this.makeUser());
    return [this.emitObject('user.created', rec)];
  }

  createOrganization() {
    const creator = this.live.users.length ? this.rng.pick(this.live.users) : null;
    const rec = this.add('organizations', this.makeOrganization(creator ? creator.obj.id : null));
    this.orgStats.set(rec.obj.id, { members: 0, pending: 0 });
    return [this.emitObject('organization.created', rec)];
  }

  // A user not yet in the organization, with a role in use.
  addMembership(org = null) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const o = org ?? this.rng.pick(this.live.organizations);
      const u = this.rng.pick(this.live.users);
      if (!o || !u) return [];
      if (this.membershipOf(o.obj.id, u.obj.id)) continue;
      const role = this.rng.pick(this.live.roles.slice(0, Math.min(2, this.live.roles.length)));
      const rec = this.add('memberships', this.makeMembership(o, u, role));
      this.memberIndex ??= new Map();
      if (!this.memberIndex.has(o.obj.id)) this.memberIndex.set(o.obj.id, new Map());
      this.memberIndex.get(o.obj.id).set(u.obj.id, rec);
      this.orgStats.get(o.obj.id).members++;
      return [this.emitObject('organizationMembership.created', rec)];
    }
    return [];
  }

  membershipOf(orgId, userId) {
    const rec = this.memberIndex?.get(orgId)?.get(userId);
    return rec && !rec.deleted ? rec : null;
  }

  createInvitation(status = 'pending') {
    const org = this.rng.pick(this.live.organizations);
    if (!org) return [];
    const rec = this.makeInvitation(org, status);
    if (rec.obj.status === 'pending') this.orgStats.get(org.obj.id).pending++;
    return [this.emitObject('organizationInvitation.created', rec)];
  }

  // accepted or revoked announce themselves; expired does not (and keeps its
  // updated_at: Clerk's listing shows the status, no event says it).
  endInvitation(rec, status, announce = true) {
    if (rec.obj.status === 'pending' && this.orgStats.get(rec.obj.organization_id) && announce) {
      this.orgStats.get(rec.obj.organization_id).pending--;
    }
    if (status === 'expired') {
      rec.obj.expires_at = rec.obj.created_at + 7 * DAY;
      rec.obj.status = 'expired';
      rec.version++;
      return [];
    }
    rec.obj.status = status;
    if (status === 'accepted') {
      const user = this.rng.pick(this.live.users);
      if (user) rec.obj.user_id = user.obj.id;
    }
    this.changed(rec);
    if (!announce) return [];
    return [this.emitObject(status === 'accepted' ? 'organizationInvitation.accepted' : 'organizationInvitation.revoked', rec)];
  }

  createDomain() {
    const org = this.rng.pick(this.live.organizations);
    if (!org) return [];
    const rec = this.add('domains', this.makeDomain(org));
    return [this.emitObject('organizationDomain.created', rec)];
  }

  updateOrganization(rec = this.rng.pick(this.live.organizations)) {
    if (!rec) return [];
    rec.obj.name = `${this.rng.pick(ORGWORDS)} ${this.rng.pick(ORGSUFFIX)}`;
    rec.obj.public_metadata = { tier: this.rng.pick(['a', 'b', 'c']) };
    this.changed(rec);
    return [this.emitObject('organization.updated', rec)];
  }

  updateUser(rec = this.rng.pick(this.live.users)) {
    if (!rec) return [];
    rec.obj.first_name = this.rng.pick(FIRST);
    if (this.rng.chance(0.5)) {
      const t = this.now();
      const e = {
        id: this.newId('idn'), object: 'email_address', email_address: `${this.rng.base62(8).toLowerCase()}@new.test`,
        reserved: false, linked_to: [], verification: { status: 'verified', strategy: 'email_code', attempts: 1, expire_at: null },
        created_at: t, updated_at: t,
      };
      rec.obj.email_addresses = [...rec.obj.email_addresses, e];
      rec.obj.primary_email_address_id = e.id;
    }
    this.changed(rec);
    return [this.emitObject('user.updated', rec)];
  }

  updateMembership(rec = this.rng.pick(this.live.memberships)) {
    if (!rec) return [];
    const role = this.rng.pick(this.live.roles.slice(0, Math.min(2, this.live.roles.length)));
    rec.obj.role = role.obj.key;
    rec.obj.role_name = role.obj.name;
    rec.obj.permissions = role.obj.permissionKeys.slice();
    rec.obj.public_metadata = { seat: this.rng.int(1, 99) };
    this.changed(rec);
    return [this.emitObject('organizationMembership.updated', rec)];
  }

  updateDomain(rec = this.rng.pick(this.live.domains)) {
    if (!rec) return [];
    rec.obj.enrollment_mode = rec.obj.enrollment_mode === 'manual_invitation' ? 'automatic_invitation' : 'manual_invitation';
    this.changed(rec);
    return [this.emitObject('organizationDomain.updated', rec)];
  }

  updateRole(rec = this.rng.pick(this.live.roles)) {
    if (!rec) return [];
    rec.obj.description = `Changed ${this.rng.base62(4)}`;
    this.changed(rec);
    return [this.emitObject('role.updated', rec)];
  }

  updatePermission(rec = this.rng.pick(this.live.permissions)) {
    if (!rec) return [];
    rec.obj.description = `Changed ${this.rng.base62(4)}`;
    this.changed(rec);
    return [this.emitObject('permission.updated', rec)];
  }

  // Its memberships, invitations and domains go with it; Clerk's event is
  // the organization's alone (orgsync ends the others).
  deleteOrganization(rec = this.rng.pick(this.live.organizations)) {
    if (!rec) return [];
    this.remove(rec);
    for (const kind of ['memberships', 'invitations', 'domains']) {
      for (const child of [...this.live[kind]]) {
        if ((child.obj.organizationId ?? child.obj.organization_id) === rec.obj.id) this.remove(child);
      }
    }
    return [this.emit('organization.deleted', { object: 'organization', id: rec.obj.id, slug: rec.obj.slug, deleted: true })];
  }

  deleteUser(rec = this.rng.pick(this.live.users)) {
    if (!rec) return [];
    this.remove(rec);
    for (const m of [...this.live.memberships]) {
      if (m.obj.userId === rec.obj.id) {
        this.remove(m);
        this.orgStats.get(m.obj.organizationId).members--;
      }
    }
    return [this.emit('user.deleted', { object: 'user', id: rec.obj.id, deleted: true, external_id: rec.obj.external_id })];
  }

  removeMembership(rec = this.rng.pick(this.live.memberships)) {
    if (!rec) return [];
    const event = this.emitObject('organizationMembership.deleted', rec);
    this.remove(rec);
    this.orgStats.get(rec.obj.organizationId).members--;
    return [event];
  }

  deleteDomain(rec = this.rng.pick(this.live.domains)) {
    if (!rec) return [];
    this.remove(rec);
    return [this.emit('organizationDomain.deleted', { object: 'organization_domain', id: rec.obj.id, deleted: true })];
  }

  // Roles no live membership has: Clerk refuses to delete one in use.
  freeRoles() {
    const inUse = new Set(this.live.memberships.map((m) => m.obj.role));
    return this.live.roles.filter((r) => !inUse.has(r.obj.key) && !['org:admin', 'org:member'].includes(r.obj.key));
  }

  deleteRole(rec = this.rng.pick(this.freeRoles())) {
    if (!rec) return this.createRole();
    this.remove(rec);
    return [this.emit('role.deleted', { object: 'role', id: rec.obj.id, deleted: true })];
  }

  // Permissions no role has.
  freePermissions() {
    const used = new Set(this.live.roles.flatMap((r) => r.obj.permissionKeys));
    return this.live.permissions.filter((p) => !used.has(p.obj.key));
  }

  deletePermission(rec = this.rng.pick(this.freePermissions())) {
    if (!rec) return this.createPermission();
    this.remove(rec);
    return [this.emit('permission.deleted', { object: 'permission', id: rec.obj.id, deleted: true })];
  }

  pendingInvitation() {
    return this.rng.pick(this.live.invitations.filter((i) => i.obj.status === 'pending'));
  }

  // One change drawn at random (weights roughly as an instance changes).
  // expire: false leaves invitations' expiry out (it has no webhook).
  randomChange({ expire = true } = {}) {
    const what = this.rng.weighted({
      createUser: 3, updateUser: 3, deleteUser: 1, createOrganization: 2, updateOrganization: 2, deleteOrganization: 1,
      addMembership: 4, updateMembership: 2, removeMembership: 2, createInvitation: 2, acceptInvitation: 1,
      revokeInvitation: 1, expireInvitation: expire ? 1 : 0, createDomain: 1, updateDomain: 1, deleteDomain: 1, createRole: 1,
      updateRole: 1, deleteRole: 1, createPermission: 1, updatePermission: 1, deletePermission: 1,
    });
    switch (what) {
      case 'acceptInvitation':
      case 'revokeInvitation':
      case 'expireInvitation': {
        const rec = this.pendingInvitation();
        if (!rec) return this.createInvitation();
        return this.endInvitation(rec, what.replace('Invitation', '').replace('accept', 'accepted').replace('revoke', 'revoked').replace('expire', 'expired'));
      }
      default: return this[what]();
    }
  }

  // ---- what orgsync's tables must hold -------------------------------------------

  // Per kind, id -> { live, row }: the columns orgsync keeps for the object as
  // the API shows it now (see expectedRow). A deleted object must be absent
  // from orgsync's table or ended there.
  expectedRows() {
    const out = {};
    for (const kind of KINDS) {
      out[kind] = new Map();
      for (const [id, rec] of this.records[kind]) {
        out[kind].set(id, { live: !rec.deleted, row: rec.deleted ? null : expectedRow(kind, JSON.parse(this.json(rec))) });
      }
    }
    return out;
  }
}

export function primaryEmail(user) {
  const e = (user.email_addresses || []).find((x) => x.id === user.primary_email_address_id);
  return e ? e.email_address : null;
}

// The columns orgsync derives from an API object (src/core/objects.cpp), times
// in ms, and `data` as it keeps it (an invitation's url left out).
export function expectedRow(kind, o) {
  const times = (...names) => Object.fromEntries(names.map((n) => [n, o[n] ?? null]));
  switch (kind) {
    case 'organizations':
      return { source: 'event', name: o.name, slug: o.slug, image_url: o.image_url, created_by: o.created_by,
        max_allowed_memberships: o.max_allowed_memberships, public_metadata: o.public_metadata,
        private_metadata: o.private_metadata, ...times('created_at', 'updated_at'), data: o };
    case 'users':
      return { source: 'event', primary_email: primaryEmail(o), first_name: o.first_name, last_name: o.last_name,
        username: o.username, image_url: o.image_url, external_id: o.external_id, public_metadata: o.public_metadata,
        private_metadata: o.private_metadata, banned: o.banned, locked: o.locked,
        ...times('last_sign_in_at', 'created_at', 'updated_at'), data: o };
    case 'memberships':
      return { organization_id: o.organization.id, user_id: o.public_user_data.user_id, role: o.role,
        role_name: o.role_name, permissions: o.permissions, public_metadata: o.public_metadata,
        private_metadata: o.private_metadata, ...times('created_at', 'updated_at'), data: o };
    case 'invitations': {
      const { url: _, ...data } = o;
      return { organization_id: o.organization_id, email_address: o.email_address, role: o.role, role_name: o.role_name,
        status: o.status, inviter_id: o.inviter_id, user_id: o.user_id ?? null,
        ...times('created_at', 'updated_at', 'expires_at'), data };
    }
    case 'domains':
      return { organization_id: o.organization_id, name: o.name, enrollment_mode: o.enrollment_mode,
        verification_status: (o.affiliation_verification ?? o.verification)?.status ?? null,
        affiliation_email_address: o.affiliation_email_address, total_pending_invitations: o.total_pending_invitations,
        total_pending_suggestions: o.total_pending_suggestions, ...times('created_at', 'updated_at'), data: o };
    case 'roles':
      return { key: o.key, name: o.name, description: o.description, is_creator_eligible: o.is_creator_eligible,
        permissions: o.permissions.map((p) => p.key), ...times('created_at', 'updated_at'), data: o };
    case 'permissions':
      return { key: o.key, name: o.name, description: o.description, type: o.type,
        ...times('created_at', 'updated_at'), data: o };
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}
