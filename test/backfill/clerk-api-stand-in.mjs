// A stand-in for Clerk's Backend API (https://api.clerk.com/v1), serving a
// ClerkInstance over HTTP or HTTPS: what `orgsync-relay backfill` reads.
// It follows Clerk's OpenAPI description (/work/shared/fixtures/clerk-api/
// bapi-2026-05-12.yml) and its README there:
//   - every request needs `Authorization: Bearer <secret key>`: else 401 with
//     Clerk's error body {"errors": [{"message", "long_message", "code"}]};
//   - GET /organizations (include_members_count), /organization_memberships,
//     /organization_invitations (status), /organization_domains
//     (organization_id), /organization_roles, /organization_permissions:
//     {"data": [...], "total_count": N}, limit 1-500 (default 10) + offset,
//     order_by created_at / +created_at / -created_at (default -created_at);
//   - GET /users: a bare array; limit + offset, or the cursor starting_after
//     (only with created_at ordering, not with a non-zero offset: 422);
//     created_at_after (ms, strictly after); GET /users/count;
//   - GET /organizations/{id}, /users/{id}, /organization_roles/{id},
//     /organization_permissions/{id}: the object or 404;
//     GET /organizations/{id}/memberships (user_id): 404 for an organization
//     that does not exist.
// Every list is read live: a deletion between two page requests moves every
// later object one offset down, as a database's OFFSET does.
//
// Assumption (Clerk does not document it): a `starting_after` naming a user
// that has been deleted is refused with 422 (cursorGone = '422'), or, as
// the other plausible behaviour, answered with an empty page ('empty').
//
// Tests steer it with `intercept(request)`: called before each request is
// served (awaited), it may change the instance, or return an answer
// ({status, headers, body}, or 'reset' to drop the connection) instead.

import http from 'node:http';
import https from 'node:https';

const LISTS = {
  '/organizations': 'organizations',
  '/organization_memberships': 'memberships',
  '/organization_invitations': 'invitations',
  '/organization_domains': 'domains',
  '/organization_roles': 'roles',
  '/organization_permissions': 'permissions',
};
const BY_ID = { organizations: 'organizations', users: 'users', organization_roles: 'roles', organization_permissions: 'permissions' };

export function clerkError(status, code, message) {
  return { status, body: JSON.stringify({ errors: [{ message, long_message: message, code }], clerk_trace_id: 'trace_standin' }) };
}

class BadRequest extends Error {
  constructor(answer) { super(answer.body); this.answer = answer; }
}

export class ClerkApiStandIn {
  // tls: { key, cert } (PEM) to serve HTTPS
  constructor(instance, { secretKey, tls = null, cursorGone = '422' } = {}) {
    this.instance = instance;
    this.secretKey = secretKey;
    this.tls = tls;
    this.cursorGone = cursorGone;
    this.intercept = null;
    this.requests = []; // { n, at, path, query, status }
    const handler = (req, res) => this.handle(req, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(clerkError(500, 'internal', String(err.stack || err)).body);
    });
    this.server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler);
    this.server.keepAliveTimeout = 30_000;
  }

  async listen() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address();
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${port}/v1`;
    return this.url;
  }

  close() {
    this.server.closeAllConnections?.();
    return new Promise((resolve) => this.server.close(resolve));
  }

  // Requests whose path (without /v1) starts with `prefix`.
  requestsTo(prefix) {
    return this.requests.filter((r) => r.path === prefix || r.path.startsWith(prefix + '?') || r.path.startsWith(prefix + '/'));
  }

  async handle(req, res) {
    const url = new URL(req.url, 'http://stand-in');
    const path = url.pathname.replace(/^\/v1/, '');
    const record = { n: this.requests.length + 1, at: Date.now(), path: path + url.search, query: url.searchParams, status: 0 };
    this.requests.push(record);
    let answer = this.intercept ? await this.intercept(record) : undefined;
    if (answer === 'reset') {
      record.status = 'reset';
      req.socket.destroy();
      return;
    }
    if (!answer) {
      if (req.headers.authorization !== `Bearer ${this.secretKey}`) {
        answer = clerkError(401, 'authentication_invalid', 'Invalid authentication');
      } else if (req.method !== 'GET') {
        answer = clerkError(405, 'method_not_allowed', 'The stand-in serves GET only');
      } else {
        try {
          answer = this.route(path, url.searchParams);
        } catch (err) {
          if (!(err instanceof BadRequest)) throw err;
          answer = err.answer;
        }
      }
    }
    record.status = answer.status;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers || {}) });
    res.end(answer.body);
  }

  route(path, q) {
    const inst = this.instance;
    if (LISTS[path]) return this.list(LISTS[path], q);
    if (path === '/users') return this.users(q);
    if (path === '/users/count') return ok(JSON.stringify({ object: 'total_count', total_count: inst.liveOf('users').length }));
    let m = /^\/organizations\/([^/]+)\/memberships$/.exec(path);
    if (m) {
      const org = inst.get('organizations', decodeURIComponent(m[1]));
      if (!org || org.deleted) return notFound();
      const users = q.getAll('user_id');
      return this.list('memberships', q, (rec) => rec.obj.organizationId === org.obj.id && (!users.length || users.includes(rec.obj.userId)));
    }
    m = /^\/(organizations|users|organization_roles|organization_permissions)\/([^/]+)$/.exec(path);
    if (m) {
      const rec = inst.get(BY_ID[m[1]], decodeURIComponent(m[2]));
      if (!rec || rec.deleted) return notFound();
      return ok(inst.json(rec, { membersCount: q.get('include_members_count') === 'true' }));
    }
    return clerkError(404, 'resource_not_found', `No route ${path} in the stand-in`);
  }

  // The live objects of `kind` in the requested order.
  ordered(kind, q, filter) {
    const order = q.get('order_by') ?? '-created_at';
    if (!['created_at', '+created_at', '-created_at'].includes(order)) {
      throw new BadRequest(clerkError(422, 'form_param_value_invalid', `order_by ${order}: the stand-in knows created_at only`));
    }
    let recs = this.instance.liveOf(kind);
    if (filter) recs = recs.filter(filter);
    return order === '-created_at' ? recs.slice().reverse() : recs;
  }

  list(kind, q, filter = null) {
    const { limit, offset } = paging(q);
    const status = q.get('status'), orgId = q.get('organization_id');
    if (status && !['pending', 'accepted', 'revoked', 'expired'].includes(status)) {
      throw new BadRequest(clerkError(422, 'form_param_value_invalid', `status ${status}`));
    }
    const keep = (rec) => (!filter || filter(rec)) && (!status || rec.obj.status === status) &&
      (!orgId || rec.obj.organization_id === orgId);
    const recs = this.ordered(kind, q, filter || status || orgId ? keep : null);
    const membersCount = q.get('include_members_count') === 'true';
    const page = recs.slice(offset, offset + limit).map((rec) => this.instance.json(rec, { membersCount }));
    return ok(`{"data":[${page.join(',')}],"total_count":${recs.length}}`);
  }

  users(q) {
    const { limit, offset } = paging(q);
    const after = q.get('created_at_after');
    let recs = this.ordered('users', q, after ? (rec) => rec.obj.created_at > Number(after) : null);
    const cursor = q.get('starting_after');
    let start = offset;
    if (cursor) {
      if (offset) throw new BadRequest(clerkError(422, 'form_param_value_invalid', 'starting_after cannot be combined with offset'));
      const rec = this.instance.get('users', cursor);
      if (!rec || rec.deleted) {
        if (this.cursorGone === 'empty') return ok('[]');
        throw new BadRequest(clerkError(422, 'form_param_value_invalid', `starting_after: no user ${cursor}`));
      }
      start = recs.indexOf(rec) + 1;
    }
    return ok(`[${recs.slice(start, start + limit).map((rec) => this.instance.json(rec)).join(',')}]`);
  }
}

function paging(q) {
  const limit = q.has('limit') ? Number(q.get('limit')) : 10;
  const offset = q.has('offset') ? Number(q.get('offset')) : 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new BadRequest(clerkError(422, 'form_param_value_invalid', 'limit must be between 1 and 500'));
  }
  if (!Number.isInteger(offset) || offset < 0) throw new BadRequest(clerkError(422, 'form_param_value_invalid', 'offset'));
  return { limit, offset };
}

const ok = (body) => ({ status: 200, body });
const notFound = () => clerkError(404, 'resource_not_found', 'not found');
