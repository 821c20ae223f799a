// Receiving Clerk's webhooks with PostgREST, end to end but for PostgREST
// itself, which cannot be installed here: stand-in.mjs sends Postgres what
// PostgREST sends and answers what PostgREST would answer. The database is
// set up with docs/postgrest/webhook.sql and the stand-in configured from
// docs/postgrest/postgrest.conf, the two files docs/postgrest.md and
// README.md's "Receiving webhooks with PostgREST" show;
// deliveries are signed with the official svix package.
//
// Needs PG* variables pointing at a throwaway server where orgsync is
// installed (test/postgrest/run.sh starts one).

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Webhook } from 'svix';
import { PostgrestStandIn, readConfig } from './stand-in.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFIG_FILE = join(root, 'docs/postgrest/postgrest.conf');
const SETUP_SQL = join(root, 'docs/postgrest/webhook.sql');
const config = readConfig(CONFIG_FILE);
const database = new URL(config['db-uri']).pathname.slice(1);
const connection = { host: process.env.PGHOST, port: Number(process.env.PGPORT) };

const SECRET = 'whsec_' + randomBytes(24).toString('base64');
const fixture = (name) => readFileSync(join(root, 'test/fixtures/clerk', `${name}.json`), 'utf8');
const newId = () => 'msg_' + randomBytes(12).toString('hex');

// Headers Svix sends with a delivery, signed by the official library.
function signed(body, { id = newId(), secret = SECRET, at = new Date(), standard = false } = {}) {
  const prefix = standard ? 'webhook' : 'svix';
  return {
    Host: 'api.example.com', 'Content-Type': 'application/json', 'User-Agent': 'Svix-Webhooks/1.24',
    'Content-Length': String(Buffer.byteLength(body)),
    [`${prefix}-id`]: id,
    [`${prefix}-timestamp`]: String(Math.floor(at.getTime() / 1000)),
    [`${prefix}-signature`]: new Webhook(secret).sign(id, at, body),
  };
}

let admin, postgrest;
const sql = async (text, values) => (await admin.query(text, values)).rows;
const post = (body, headers, path = '/rpc/webhook') => postgrest.request({ method: 'POST', path, headers, body });
const stored = async (id) => (await sql('SELECT status::text, payload FROM orgsync.events WHERE id = $1', [id]))[0];

test.before(async () => {
  execFileSync('createdb', [database]);
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', 'CREATE EXTENSION orgsync']);
  // the SQL the docs give, as they say to run it
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', database,
    '-v', `authenticator_password=${decodeURIComponent(new URL(config['db-uri']).password)}`,
    '-v', `webhook_secret=${SECRET}`, '-f', SETUP_SQL]);
  admin = new pg.Client({ ...connection, database });
  await admin.connect();
  postgrest = new PostgrestStandIn(config, connection);
  await postgrest.start();
});
test.after(async () => {
  await postgrest?.close();
  await admin?.end();
});

test('docs/postgrest.md and the README show the configuration and the SQL the test runs', () => {
  const quoted = (text, name, lang, file) => assert.ok(text.includes('```' + lang + '\n' + readFileSync(file, 'utf8') + '```\n'),
    `${name} has a ${lang} block quoting ${file} as it is`);
  const doc = readFileSync(join(root, 'docs/postgrest.md'), 'utf8');
  quoted(doc, 'docs/postgrest.md', 'ini', CONFIG_FILE);
  quoted(doc, 'docs/postgrest.md', 'sql', SETUP_SQL);
  assert.match(doc, /\/rpc\/webhook/);
  // the README's section, up to the next heading of its level
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Receiving webhooks with PostgREST\n');
  assert.ok(start >= 0, 'README.md has a section "Receiving webhooks with PostgREST"');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  quoted(section, 'README.md\'s section', 'ini', CONFIG_FILE);
  quoted(section, 'README.md\'s section', 'sql', SETUP_SQL);
  assert.match(section, /\/rpc\/webhook/);
  assert.match(section, /\]\(docs\/postgrest\.md\)/);
});

test('a delivery: 200 with the JSON handle_event returns, sent as PostgREST sends it', async () => {
  const body = fixture('organization.created');
  const headers = signed(body);
  const res = await post(body, headers);
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, {
    status: 'applied', type: 'organization.created', object_id: 'org_2g7np7Hrk0SN6kj5EDMLDaKNL0S', delivery_id: headers['svix-id'],
  });
  // one transaction: the settings, then the call with the body as a parameter
  assert.equal(res.statements.length, 4);
  assert.equal(res.statements[0], 'BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE');
  assert.match(res.statements[1], /^select set_config\('search_path', \$1, true\), set_config\('role', \$2, true\), set_config\('request.jwt.claims', \$3, true\), set_config\('request.method', \$4, true\), set_config\('request.path', \$5, true\), set_config\('request.headers', \$6, true\)/);
  assert.match(res.statements[2], /SELECT "api"."webhook"\(\$1::json\) pgrst_scalar/);
  assert.ok(!res.statements[2].includes('organization.created'), 'the body is a parameter, not SQL text');
  assert.equal(res.statements[3], 'COMMIT');
  assert.equal((await stored(headers['svix-id'])).payload, body);
});

test('a redelivery: 200 duplicate, nothing applied twice', async () => {
  const body = fixture('user.created');
  const headers = signed(body);
  assert.equal((await post(body, headers)).json.status, 'applied');
  const again = await post(body, headers);
  assert.equal(again.status, 200);
  assert.equal(again.json.status, 'duplicate');
  // Svix's retry of the same message signs again with a new timestamp
  const retry = await post(body, signed(body, { id: headers['svix-id'] }));
  assert.deepEqual([retry.status, retry.json.status], [200, 'duplicate']);
});

test('the Standard Webhooks header set (webhook-*) works as svix-* does', async () => {
  const body = fixture('organization.updated');
  const headers = signed(body, { standard: true });
  const res = await post(body, headers);
  assert.equal(res.status, 200);
  assert.equal(res.json.delivery_id, headers['webhook-id']);
  assert.equal((await stored(headers['webhook-id'])).status, 'applied');
});

test('a forged delivery: 401 naming the failed check, nothing stored', async () => {
  const body = fixture('organization.deleted');
  const headers = signed(body, { secret: 'whsec_' + randomBytes(24).toString('base64') });
  const res = await post(body, headers);
  assert.equal(res.status, 401);
  assert.equal(res.json.code, 'PT401');
  assert.equal(res.json.details, 'no_matching_signature');
  assert.equal(await stored(headers['svix-id']), undefined);
  assert.equal((await sql("SELECT deleted_at FROM orgsync.organizations WHERE id = 'org_2g7np7Hrk0SN6kj5EDMLDaKNL0S'"))[0].deleted_at, null);
});

test('a replay with a new body: 401 under the old signature; under a valid one, the id is a duplicate and the stored body stays', async () => {
  const original = fixture('organizationMembership.created');
  const headers = signed(original);
  assert.equal((await post(original, headers)).json.status, 'applied');
  const altered = original.replace('"org:member"', '"org:admin"');
  const replayed = await post(altered, headers);
  assert.deepEqual([replayed.status, replayed.json.details], [401, 'no_matching_signature']);
  const resigned = await post(altered, signed(altered, { id: headers['svix-id'] }));
  assert.deepEqual([resigned.status, resigned.json.status], [200, 'duplicate']);
  assert.equal((await stored(headers['svix-id'])).payload, original);
  assert.equal((await sql("SELECT role FROM orgsync.memberships WHERE id = 'orgmem_2g7np7Hrk0SN6kj5EDMLDaKNL0S'"))[0].role, 'org:member');
});

test('timestamps and malformed headers: 401 out of tolerance, 400 for a header that is missing or no number', async () => {
  const body = fixture('organization.updated');
  const old = await post(body, signed(body, { at: new Date(Date.now() - 3600e3) }));
  assert.deepEqual([old.status, old.json.details], [401, 'timestamp_too_old']);
  const future = await post(body, signed(body, { at: new Date(Date.now() + 3600e3) }));
  assert.deepEqual([future.status, future.json.details], [401, 'timestamp_too_new']);
  const malformed = await post(body, { ...signed(body), 'svix-timestamp': '17e8' });
  assert.deepEqual([malformed.status, malformed.json.details], [400, 'malformed_timestamp']);
  const { 'svix-id': _, ...noId } = signed(body);
  const missing = await post(body, noId);
  assert.deepEqual([missing.status, missing.json.details], [400, 'missing_id']);
  const { 'svix-signature': __, ...unsigned } = signed(body);
  const nosig = await post(body, unsigned);
  assert.deepEqual([nosig.status, nosig.json.details], [401, 'missing_signature']);
  const long = await post(body, signed(body, { id: 'msg_' + 'x'.repeat(300) }));
  assert.deepEqual([long.status, long.json.code, long.json.details], [400, '22023', 'id_too_long']);
});

test('bodies whose exact bytes matter reach the signature check unchanged', async () => {
  const exact = readFileSync(join(root, 'test/postgrest/exact-body.json'), 'utf8');
  const variants = [
    exact, // escaped unicode, key order, spaces and a newline, 1.0 and 0.10, -0, 1e2
    ' \n' + exact.replace('Ren\\u00e9e', 'René€ 株式 🚀').replace('user_exact', 'user_exact_2') + '\n\t',
  ];
  for (const body of variants) {
    const headers = signed(body);
    const res = await post(body, headers);
    assert.deepEqual([res.status, res.json.status], [200, 'applied'], body);
    assert.equal((await stored(headers['svix-id'])).payload, body, 'stored byte for byte');
  }
  const names = await sql("SELECT first_name FROM orgsync.users WHERE id LIKE 'user_exact%' ORDER BY id");
  assert.deepEqual(names.map((r) => r.first_name), ['Renée 😀', 'René€ 株式 🚀 😀']);
});

test('a body that is not JSON never reaches Postgres: 400 PGRST102', async () => {
  const res = await post('{"type": "user.created",', signed('{"type": "user.created",'));
  assert.deepEqual([res.status, res.json.code, res.statements.length], [400, 'PGRST102', 0]);
});

test('a second endpoint behind its own wrapper: 401 until it has a secret, then its own key verifies', async () => {
  // as docs/postgrest.md says for a second Clerk instance
  await sql(`CREATE FUNCTION api.webhook_staging(json) RETURNS jsonb LANGUAGE sql AS $$ SELECT orgsync.webhook($1, 'staging') $$;
             REVOKE ALL ON FUNCTION api.webhook_staging(json) FROM PUBLIC;
             GRANT EXECUTE ON FUNCTION api.webhook_staging(json) TO web_anon`);
  const stagingSecret = 'whsec_' + randomBytes(24).toString('base64');
  const body = fixture('user.updated');
  const before = await post(body, signed(body, { secret: stagingSecret }), '/rpc/webhook_staging');
  assert.deepEqual([before.status, before.json.details], [401, 'unknown_endpoint']);
  await sql('SELECT orgsync.add_secret($1, $2)', [stagingSecret, 'staging']);
  const headers = signed(body, { secret: stagingSecret });
  const after = await post(body, headers, '/rpc/webhook_staging');
  assert.deepEqual([after.status, after.json.status], [200, 'applied']);
  assert.equal((await sql('SELECT endpoint FROM orgsync.events WHERE id = $1', [headers['svix-id']]))[0].endpoint, 'staging');
  // the default endpoint's key does not verify for staging, nor staging's for default
  assert.equal((await post(body, signed(body), '/rpc/webhook_staging')).status, 401);
  assert.equal((await post(body, signed(body, { secret: stagingSecret }))).status, 401);
});

test('a transient database error answers 5xx, and Svix\'s retry then succeeds', async () => {
  // a writer holding orgsync.events longer than the lock_timeout PostgREST's role runs with
  await sql("ALTER ROLE authenticator SET lock_timeout = '200ms'");
  const impatient = new PostgrestStandIn(config, connection);
  await impatient.start();
  const blocker = new pg.Client({ ...connection, database });
  await blocker.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE orgsync.events IN ACCESS EXCLUSIVE MODE');
    const body = fixture('organizationMembership.updated');
    const headers = signed(body);
    const res = await impatient.request({ method: 'POST', path: '/rpc/webhook', headers, body });
    assert.deepEqual([res.status, res.json.code], [500, '55P03']);
    await blocker.query('ROLLBACK');
    const retry = await impatient.request({ method: 'POST', path: '/rpc/webhook', headers: signed(body, { id: headers['svix-id'] }), body });
    assert.deepEqual([retry.status, retry.json.status], [200, 'applied']);
  } finally {
    await blocker.end();
    await impatient.close();
    await sql('ALTER ROLE authenticator RESET lock_timeout');
  }
});

test('the anonymous role: PostgREST reaches only api.webhook, and SQL as web_anon reaches nothing else of orgsync', async () => {
  for (const name of ['add_secret', 'apply_event', 'handle_event', 'replay', 'is_member']) {
    const res = await post('{"secret": "whsec_AAAA"}', { 'Content-Type': 'application/json' }, `/rpc/${name}`);
    assert.deepEqual([res.status, res.json.code], [404, 'PGRST202'], name);
  }
  // What PostgREST can call is what web_anon may execute in the schema it
  // serves: the webhook entry points and nothing else (the 404s above would
  // hold for any function outside that schema, whatever its grants).
  const reachable = await sql(`SELECT p.oid::regprocedure::text AS f FROM pg_proc p
    WHERE p.pronamespace = 'api'::regnamespace AND has_function_privilege('web_anon', p.oid, 'EXECUTE') ORDER BY 1`);
  assert.deepEqual(reachable.map((r) => r.f), ['api.webhook(json)', 'api.webhook_staging(json)']);
  const anon = new pg.Client({ ...connection, database, user: 'authenticator' });
  await anon.connect();
  const as = async (role, text) => {
    await anon.query('BEGIN');
    try {
      await anon.query(`SET LOCAL ROLE ${role}`);
      await anon.query(text);
      return 'allowed';
    } catch (err) {
      return err.code;
    } finally {
      await anon.query('ROLLBACK');
    }
  };
  try {
    const denied = [
      'SELECT * FROM orgsync.secrets', 'SELECT * FROM orgsync.events', 'SELECT * FROM orgsync.organizations',
      'SELECT * FROM orgsync.users', 'SELECT * FROM orgsync.memberships', 'SELECT * FROM orgsync.invitations',
      "SELECT orgsync.add_secret('whsec_AAAA')", `SELECT orgsync.remove_secret('${SECRET}')`,
      `SELECT orgsync.apply_event('${fixture('organization.created').replaceAll("'", "''")}')`,
      "SELECT orgsync.replay('msg_1')", "SELECT * FROM orgsync.apply_listing('organizations', '[]')",
      "SELECT orgsync.apply_deletion('organizations', 'org_1', now())", 'SELECT orgsync.backfill_start()',
      "SELECT orgsync.is_member('org_1', 'user_1')", 'SELECT * FROM orgsync.user_organizations()',
    ];
    for (const text of denied) assert.equal(await as('web_anon', text), '42501', text);
    assert.equal(await as('web_anon', "SELECT api.webhook('{}')"), 'PT400');
    // the login role itself holds nothing (NOINHERIT), not even the webhook
    const direct = await anon.query("SELECT api.webhook('{}')").catch((err) => err);
    assert.equal(direct.code, '42501');
  } finally {
    await anon.end();
  }
  // nor widen the replay window, in a new session (the library not loaded
  // yet: Postgres drops the value when the library defines the setting) or
  // in one that has loaded it (refused at once)
  const fresh = new pg.Client({ ...connection, database, user: 'authenticator' });
  await fresh.connect();
  try {
    const body = fixture('organization.updated');
    await fresh.query('BEGIN');
    await fresh.query('SET LOCAL ROLE web_anon');
    await fresh.query("SET orgsync.timestamp_tolerance = '1 day'");
    await fresh.query("SELECT set_config('request.headers', $1, true)", [JSON.stringify(signed(body, { at: new Date(Date.now() - 3600e3) }))]);
    const late = await fresh.query('SELECT api.webhook($1::json)', [body]).catch((err) => err);
    assert.deepEqual([late.code, late.detail], ['PT401', 'timestamp_too_old']);
    await fresh.query('ROLLBACK');
    await fresh.query('SET ROLE web_anon');
    const refused = await fresh.query("SET orgsync.timestamp_tolerance = '1 day'").catch((err) => err);
    assert.equal(refused.code, '42501');
  } finally {
    await fresh.end();
  }
  // 42501 answers 401 to a request without a JWT, as PostgREST maps it
  await sql('GRANT USAGE ON SCHEMA api TO web_anon');
  await sql('CREATE FUNCTION api.peek(json) RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM orgsync.secrets $$');
  const peek = await post('{}', { 'Content-Type': 'application/json' }, '/rpc/peek');
  assert.deepEqual([peek.status, peek.json.code], [401, '42501']);
});
