// A stand-in for PostgREST (not installable here): it turns an HTTP request
// into the statements PostgREST sends Postgres, over the same extended
// protocol with parameters, and the outcome into the HTTP status PostgREST
// would answer. Modelled on PostgREST's source (src/library/PostgREST):
//   Query/PreQuery.hs txVarQuery   one `select set_config(...)` of search_path,
//                                  role, request.jwt.claims, request.method,
//                                  request.path, request.headers, request.cookies
//   Query/QueryBuilder.hs callPlanToQuery, Query/Statements.hs mainCall and
//   mainRead                       the main query; a function of one unnamed
//                                  parameter gets the raw body as `$1::json`
//   ApiRequest/Payload.hs          the body must parse as JSON (else 400
//                                  PGRST102); it is passed on as received
//   Error.hs mapSQLtoHTTP          SQLSTATE to HTTP status, PTnnn included
//   MainTx.hs, hasql               BEGIN ISOLATION LEVEL READ COMMITTED
//                                  READ WRITE|READ ONLY ... COMMIT, or ABORT
// It covers what orgsync's tests need: POST /rpc/<function> with a JSON body,
// GET /<table> (Accept-Profile choosing among db-schemas), and the
// transaction around statements of the test's own; one request at a time
// per stand-in.

import { readFileSync } from 'node:fs';
import pg from 'pg';

// PostgREST's configuration file: `key = "value"` lines, # comments.
export function readConfig(file) {
  const config = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([a-z0-9-]+)\s*=\s*(?:"([^"]*)"|(\S+))\s*$/.exec(line);
    if (m) config[m[1]] = m[2] ?? m[3];
  }
  for (const key of ['db-uri', 'db-schemas', 'db-anon-role']) {
    if (!config[key]) throw new Error(`${file}: no ${key}`);
  }
  return config;
}

// Error.hs mapSQLtoHTTP: the status PostgREST answers for an error with this
// SQLSTATE. `authenticated`: the request carried a valid JWT.
export function httpStatusOf(sqlstate, message, authenticated) {
  const c = sqlstate;
  const starts = (...prefixes) => prefixes.some((p) => c.startsWith(p));
  if (starts('08')) return 503;
  if (starts('09')) return 500;
  if (starts('0L', '0P')) return 403;
  if (c === '23503' || c === '23505') return 409;
  if (c === '25006') return 405;
  if (c === '21000') return message.endsWith('requires a WHERE clause') ? 400 : 500;
  if (c === '22023') return message.startsWith('role') && message.endsWith('does not exist') ? 401 : 400;
  if (starts('25')) return 500;
  if (starts('28')) return 403;
  if (starts('2D', '38', '39', '3B', '40')) return 500;
  if (c === '53400') return 500;
  if (starts('53')) return 503;
  if (starts('54', '55')) return 500;
  if (c === '57P01') return 503;
  if (starts('57', '58', 'F0', 'HV')) return 500;
  if (c === 'P0001') return 400;
  if (starts('P0', 'XX')) return 500;
  if (c === '42883') return message.startsWith('function xmlagg(') ? 406 : 404;
  if (c === '42P01') return 404;
  if (c === '42P17') return 500;
  if (c === '42501') return authenticated ? 403 : 401;
  if (starts('PT')) return /^\d+$/.test(c.slice(2)) ? Number(c.slice(2)) : 500;
  return 400;
}

const quoteIdent = (name) => '"' + name.replaceAll('"', '""') + '"';

const TX_VARS =
  'select set_config(\'search_path\', $1, true), set_config(\'role\', $2, true), ' +
  'set_config(\'request.jwt.claims\', $3, true), set_config(\'request.method\', $4, true), ' +
  'set_config(\'request.path\', $5, true), set_config(\'request.headers\', $6, true), ' +
  'set_config(\'request.cookies\', $7, true)';

const RESPONSE_COLUMNS =
  'nullif(current_setting(\'response.headers\', true), \'\') AS response_headers, ' +
  'nullif(current_setting(\'response.status\', true), \'\') AS response_status, ' +
  '\'\' AS response_inserted';

export class PostgrestStandIn {
  // config: readConfig's result. connection: where Postgres really is (the
  // test's cluster): {host, port}; user, password and database come from
  // db-uri.
  constructor(config, connection) {
    const uri = new URL(config['db-uri']);
    this.config = config;
    this.schemas = config['db-schemas'].split(',').map((s) => s.trim());
    this.anonRole = config['db-anon-role'];
    this.client = new pg.Client({
      host: connection.host, port: connection.port,
      user: decodeURIComponent(uri.username), password: decodeURIComponent(uri.password),
      database: decodeURIComponent(uri.pathname.slice(1)),
    });
    this.prepared = new Map(); // statement text -> name, as hasql prepares each text once per connection
  }

  async start() { await this.client.connect(); }
  async close() { await this.client.end(); }

  // request({method, path, headers, body, claims}): `claims` are a JWT's
  // claims PostgREST has verified (undefined: no JWT, the anonymous role).
  // Resolves to {status, body, json, statements} where statements are the SQL
  // texts sent, in order.
  async request({ method, path, headers = {}, body = '', claims }) {
    const lowerHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    // ApiRequest.hs: the schema is the first of db-schemas unless the request
    // names another (Accept-Profile for GET, Content-Profile for POST)
    const profile = lowerHeaders[method === 'GET' ? 'accept-profile' : 'content-profile'];
    if (profile !== undefined && !this.schemas.includes(profile)) {
      return failure(406, 'PGRST106', 'Invalid schema: ' + profile);
    }
    const schema = profile ?? this.schemas[0];
    const url = new URL(path, 'http://postgrest');
    const route = await this.route(method, url.pathname, schema, lowerHeaders, body);
    if (route.error) return route.error;
    const authenticated = claims !== undefined;
    try {
      return await this.transaction({ method, path: url.pathname, headers: lowerHeaders, claims, schema, write: route.write },
        async (run) => {
          const result = (await run(route.query, route.values)).rows[0];
          const status = result.response_status ? Number(result.response_status) : 200;
          return { status, body: result.body, json: JSON.parse(result.body) };
        });
    } catch (err) {
      if (!err.code) throw err;
      const json = { code: err.code, details: err.detail ?? null, hint: err.hint ?? null, message: err.message };
      return { status: httpStatusOf(err.code, err.message, authenticated), body: JSON.stringify(json), json, statements: err.statements };
    }
  }

  // The transaction PostgREST runs a request in, around `main(run)`, which
  // sends the request's own statements through `run(text, values)`. The
  // result gets `statements`, every text sent; an error thrown gets them too.
  async transaction({ method, path, headers = {}, claims, schema = this.schemas[0], write = true }, main) {
    const role = claims !== undefined && typeof claims.role === 'string' ? claims.role : this.anonRole;
    const sent = [];
    const run = async (text, values = []) => {
      sent.push(text);
      if (!this.prepared.has(text)) this.prepared.set(text, `pgrst_${this.prepared.size}`);
      // results as the text Postgres sends, as PostgREST reads them
      return this.client.query({ name: this.prepared.get(text), text, values, types: { getTypeParser: () => String } });
    };
    await run(`BEGIN ISOLATION LEVEL READ COMMITTED ${write ? 'READ WRITE' : 'READ ONLY'}`);
    try {
      await run(TX_VARS, [
        [schema, 'public'].map(quoteIdent).join(', '), role,
        JSON.stringify({ ...(claims ?? {}), role }), method, path, JSON.stringify(headers), JSON.stringify({}),
      ]);
      const result = await main(run);
      await run('COMMIT');
      return { ...result, statements: sent };
    } catch (err) {
      await this.client.query('ABORT');
      err.statements = sent;
      throw err;
    }
  }

  // The plan: which function or table, and the main query (Plan.hs, with
  // the schema cache reduced to a catalog lookup).
  async route(method, pathname, schema, headers, body) {
    const rpc = /^\/rpc\/([^/]+)$/.exec(pathname);
    if (rpc && method === 'POST') return this.callPlan(schema, decodeURIComponent(rpc[1]), headers, body);
    const table = /^\/([^/]+)$/.exec(pathname);
    if (table && method === 'GET') return this.readPlan(schema, decodeURIComponent(table[1]));
    return { error: failure(404, 'PGRST125', 'Invalid path specified in request URL') };
  }

  async callPlan(schema, name, headers, body) {
    const contentType = (headers['content-type'] ?? 'application/json').split(';')[0].trim();
    if (contentType !== 'application/json') throw new Error(`the stand-in takes JSON bodies only, not ${contentType}`);
    // Payload.hs: an empty body is {}; anything else must parse, and a body
    // that is neither an object nor an array of objects becomes [].
    let raw = body;
    if (raw.length === 0) raw = '{}';
    let parsed;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return { error: failure(400, 'PGRST102', 'Empty or invalid json') };
    }
    if (parsed === null || typeof parsed !== 'object') raw = '[]';
    // Only functions of one unnamed json parameter: what orgsync's entry point is.
    const { rows } = await this.client.query(
      `SELECT p.provolatile FROM pg_proc p
       WHERE p.pronamespace = $1::regnamespace AND p.proname = $2 AND p.pronargs = 1
         AND p.proargtypes[0] = 'json'::regtype AND coalesce(p.proargnames[1], '') = ''`, [schema, name]);
    if (rows.length === 0) {
      return { error: failure(404, 'PGRST202', `Could not find the function ${schema}.${name} without parameters, or with a single unnamed json parameter, in the schema cache`) };
    }
    const fn = `${quoteIdent(schema)}.${quoteIdent(name)}`;
    return {
      write: rows[0].provolatile === 'v',
      query: `WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT ${fn}($1::json) pgrst_scalar) pgrst_call) ` +
        'SELECT null::bigint AS total_result_set, 1 AS page_total, ' +
        'coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, \'null\') AS body, ' + RESPONSE_COLUMNS + ' ' +
        'FROM (SELECT "pgrst_source".* FROM "pgrst_source") _postgrest_t',
      values: [raw],
    };
  }

  async readPlan(schema, name) {
    const { rows } = await this.client.query(
      `SELECT FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relname = $2 AND c.relkind IN ('r', 'v', 'm', 'p', 'f')`,
      [schema, name]);
    if (rows.length === 0) return { error: failure(404, 'PGRST205', `Could not find the table '${schema}.${name}' in the schema cache`) };
    const relation = `${quoteIdent(schema)}.${quoteIdent(name)}`;
    return {
      write: false,
      query: `WITH pgrst_source AS ( SELECT ${relation}.* FROM ${relation} ) ` +
        'SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, ' +
        'coalesce(json_agg(_postgrest_t), \'[]\') AS body, ' + RESPONSE_COLUMNS + ' ' +
        'FROM ( SELECT * FROM pgrst_source ) _postgrest_t',
      values: [],
    };
  }
}

function failure(status, code, message) {
  const json = { code, details: null, hint: null, message };
  return { status, body: JSON.stringify(json), json, statements: [] };
}
