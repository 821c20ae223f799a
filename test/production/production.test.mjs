// deploy/ as production would use it: the systemd unit checked by
// systemd-analyze; the relay started with the unit's command and nothing but
// the unit's environment file; nginx running deploy/nginx/orgsync-relay.conf
// with TLS on loopback in front of it; the roles of docs/production.md. A
// signed delivery goes through it all over HTTPS. Only what cannot exist on
// a test machine is replaced, and each replacement is checked to have
// happened: the relay's path, the database's socket, the ports, the
// certificate (a throwaway self-signed one for webhooks.example.com).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Webhook } from 'svix';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const deploy = (file) => readFileSync(path.join(root, 'deploy', file), 'utf8');
const relayBin = process.env.ORGSYNC_RELAY_BIN ?? path.join(root, 'relay/orgsync-relay');
const HOST = 'webhooks.example.com';
const SECRET = 'whsec_' + randomBytes(24).toString('base64');

let dir, relay, nginx, nginxPort, relayPort, admin;

// `text` with `from` replaced by `to`, which must occur exactly once.
function replaceOnce(text, from, to) {
  assert.equal(text.split(from).length, 2, `expected exactly one ${JSON.stringify(from)}`);
  return text.replace(from, () => to);
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function unitSetting(unit, key) {
  const lines = unit.split('\n').filter((line) => line.startsWith(`${key}=`));
  assert.equal(lines.length, 1, `the unit sets ${key} once`);
  return lines[0].slice(key.length + 1);
}

// KEY=VALUE lines, as systemd's EnvironmentFile reads them (no quotes here).
function environmentFile(text) {
  const env = {};
  for (const line of text.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const at = line.indexOf('=');
    env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

function started(child, what, ready) {
  let log = '';
  child.stdout?.on('data', (d) => { log += d; });
  child.stderr?.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    child, exited, log: () => log,
    ready: (async () => {
      const deadline = Date.now() + 15000;
      while (!(await ready())) {
        if (child.exitCode !== null) throw new Error(`${what} exited: ${log}`);
        if (Date.now() > deadline) throw new Error(`${what} did not start: ${log}`);
        await sleep(50);
      }
    })(),
  };
}

const listening = (port) => () => new Promise((resolve) => {
  const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
  socket.on('error', () => resolve(false));
});

// A request over HTTPS to nginx, trusting only the throwaway certificate.
function request(method, route, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: nginxPort, servername: HOST, method, path: route,
      headers: { host: HOST, ...headers }, ca: readFileSync(path.join(dir, 'cert.pem')),
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const direct = async (route) => {
  const res = await fetch(`http://127.0.0.1:${relayPort}${route}`);
  return { status: res.status, text: await res.text() };
};

function signed(body, id = 'msg_' + randomBytes(12).toString('hex')) {
  const now = new Date();
  return {
    'content-type': 'application/json',
    'svix-id': id,
    'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
    'svix-signature': new Webhook(SECRET).sign(id, now, body),
  };
}

const organization = () => {
  const event = JSON.parse(readFileSync(path.join(root, 'test/fixtures/clerk/organization.created.json'), 'utf8'));
  event.data.id = 'org_' + randomBytes(8).toString('hex');
  return { id: event.data.id, body: JSON.stringify(event) };
};

before(async () => {
  dir = mkdtempSync('/tmp/orgsync-production-');
  admin = new pg.Client({ database: 'postgres' });
  await admin.connect();
  await admin.query('CREATE DATABASE app');
  const app = new pg.Client({ database: 'app' });
  await app.connect();
  await app.query('CREATE EXTENSION orgsync');
  await app.query('SELECT orgsync.add_secret($1, label => $2)', [SECRET, 'test']);
  const docs = readFileSync(path.join(root, 'docs/production.md'), 'utf8');
  const roles = /<!-- roles: test\/production runs this block -->\n```sql\n([\s\S]*?)```/.exec(docs);
  assert.ok(roles, 'docs/production.md has the roles block');
  await app.query(roles[1]);
  await app.end();
});

after(async () => {
  for (const p of [relay, nginx]) {
    if (p && p.child.exitCode === null) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }
  await admin?.end();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("docs/production.md's removal of the development secret keeps only Clerk's", async () => {
  const docs = readFileSync(path.join(root, 'docs/production.md'), 'utf8');
  const block = /<!-- secrets: test\/production runs this block[^>]*-->\n```sql\n([\s\S]*?)```/.exec(docs);
  assert.ok(block, 'docs/production.md has the secrets block');
  const [development, clerk] = ['make run', 'Clerk'].map(() => 'whsec_' + randomBytes(24).toString('base64'));
  await admin.query('CREATE DATABASE keys');
  const keys = new pg.Client({ database: 'keys' });
  try {
    await keys.connect();
    await keys.query('CREATE EXTENSION orgsync');
    await keys.query("SELECT orgsync.add_secret($1, label => 'make run')", [development]);
    await keys.query("SELECT orgsync.add_secret($1, label => 'Clerk production endpoint')", [clerk]);
    // The block as written (one simple-protocol query), its placeholder replaced by Clerk's secret.
    await keys.query(block[1].split("'whsec_...'").join(`'${clerk}'`));
    const { rows } = await keys.query(
      'SELECT k.label, k.fingerprint = orgsync.secret_fingerprint($1) AS is_clerks FROM orgsync.signing_keys k', [clerk]);
    assert.deepEqual(rows, [{ label: 'Clerk production endpoint', is_clerks: true }]);
  } finally {
    await keys.end();
    await admin.query('DROP DATABASE keys');
  }
});

test('systemd-analyze verifies the unit, and rates its hardening', () => {
  const unit = deploy('orgsync-relay.service');
  assert.equal(unitSetting(unit, 'User'), 'orgsync-relay');
  assert.equal(unitSetting(unit, 'EnvironmentFile'), '/etc/orgsync/relay.env');
  assert.equal(unitSetting(unit, 'Restart'), 'on-failure');
  assert.equal(unitSetting(unit, 'KillSignal'), 'SIGTERM');
  assert.match(unitSetting(unit, 'ExecStart'), /^\/usr\/local\/bin\/orgsync-relay serve$/);
  // verify checks that ExecStart's program exists: point it at this build.
  const copy = path.join(dir, 'orgsync-relay.service');
  writeFileSync(copy, replaceOnce(unit, '/usr/local/bin/orgsync-relay', relayBin));
  const verify = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr + verify.stdout, '', 'systemd-analyze verify warned');
  const security = spawnSync('systemd-analyze', ['security', '--offline=yes', copy], { encoding: 'utf8' });
  const level = /Overall exposure level for orgsync-relay\.service: ([\d.]+)/.exec(security.stdout);
  assert.ok(level, security.stdout + security.stderr);
  assert.ok(Number(level[1]) < 3, `exposure ${level[1]}: a hardening option went missing?`);
});

test('the relay starts as the unit starts it, behind nginx with TLS', async () => {
  const unit = deploy('orgsync-relay.service');
  const [program, ...args] = unitSetting(unit, 'ExecStart').split(' ');
  assert.equal(program, '/usr/local/bin/orgsync-relay');
  relayPort = await freePort();
  nginxPort = await freePort();

  // The environment file, pointed at this cluster and port; the relay gets
  // nothing else (systemd starts it with a clean environment).
  let envText = deploy('orgsync-relay.env');
  envText = replaceOnce(envText, 'ORGSYNC_RELAY_LISTEN=127.0.0.1:8787', `ORGSYNC_RELAY_LISTEN=127.0.0.1:${relayPort}`);
  envText = replaceOnce(envText, 'host=/var/run/postgresql', `host=${process.env.PGHOST}&port=${process.env.PGPORT}`);
  relay = started(spawn(relayBin, args, { env: environmentFile(envText), stdio: ['ignore', 'pipe', 'pipe'] }),
    'the relay', listening(relayPort));
  await relay.ready;

  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-days', '1', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`,
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  let site = deploy('nginx/orgsync-relay.conf');
  site = replaceOnce(site, 'listen 443 ssl;', `listen 127.0.0.1:${nginxPort} ssl;`);
  site = replaceOnce(site, 'listen [::]:443 ssl;', ''); // loopback IPv6 may be missing here
  site = replaceOnce(site, 'server 127.0.0.1:8787;', `server 127.0.0.1:${relayPort};`);
  site = replaceOnce(site, `/etc/letsencrypt/live/${HOST}/fullchain.pem`, path.join(dir, 'cert.pem'));
  site = replaceOnce(site, `/etc/letsencrypt/live/${HOST}/privkey.pem`, path.join(dir, 'key.pem'));
  writeFileSync(path.join(dir, 'site.conf'), site);
  // What Debian's /etc/nginx/nginx.conf would hold around the site, in this directory.
  writeFileSync(path.join(dir, 'nginx.conf'), `
    ${process.getuid() === 0 ? 'user root;' : ''}
    daemon off;
    worker_processes 1;
    pid ${dir}/nginx.pid;
    events { worker_connections 64; }
    http {
      access_log ${dir}/access.log;
      client_body_temp_path ${dir}/client_body;
      proxy_temp_path ${dir}/proxy;
      fastcgi_temp_path ${dir}/fastcgi;
      uwsgi_temp_path ${dir}/uwsgi;
      scgi_temp_path ${dir}/scgi;
      include ${dir}/site.conf;
    }`);
  const nginxArgs = ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')];
  const check = spawnSync('nginx', [...nginxArgs, '-t'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  nginx = started(spawn('nginx', nginxArgs, { stdio: ['ignore', 'pipe', 'pipe'] }), 'nginx', listening(nginxPort));
  await nginx.ready;
});

test('a signed delivery goes through over HTTPS, byte for byte, once', async () => {
  const org = organization();
  const headers = signed(org.body);
  const first = await request('POST', '/webhooks', { headers, body: org.body });
  assert.equal(first.status, 200, first.text);
  assert.equal(JSON.parse(first.text).status, 'applied');
  const again = await request('POST', '/webhooks', { headers, body: org.body });
  assert.equal(JSON.parse(again.text).status, 'duplicate');
  const app = new pg.Client({ database: 'app' });
  await app.connect();
  try {
    const found = await app.query('SELECT name FROM orgsync.organizations WHERE id = $1', [org.id]);
    assert.equal(found.rows[0]?.name, 'Acme Corp');
  } finally {
    await app.end();
  }
  const forged = await request('POST', '/webhooks', { headers: { ...signed(org.body), 'svix-signature': 'v1,AAAA' },
                                                      body: org.body });
  assert.equal(forged.status, 401);
  const endpoint = await request('POST', '/webhooks/other', { headers: signed(org.body), body: org.body });
  assert.equal(endpoint.status, 503, 'an endpoint without a secret reaches the relay: 503');
});

test('/metrics and /healthz are refused publicly, answered on loopback', async () => {
  for (const route of ['/metrics', '/healthz', '/', '/webhooksx']) {
    const res = await request('GET', route);
    assert.equal(res.status, 404, route);
  }
  const metrics = await direct('/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.text, /^orgsync_relay_deliveries_total\{/m);
  assert.equal((await direct('/healthz')).status, 200);
});

test('nginx refuses oversized headers and bodies before the relay sees them', async () => {
  const header = await request('POST', '/webhooks', { headers: { 'x-padding': 'x'.repeat(5000) }, body: '{}' });
  assert.equal(header.status, 400);
  assert.match(header.type, /text\/html/); // nginx's page, not the relay's JSON
  const body = 'x'.repeat(1024 * 1024 + 1);
  const large = await request('POST', '/webhooks', { headers: signed(body), body });
  assert.equal(large.status, 413);
  assert.match(large.type, /text\/html/);
});

test('SIGTERM stops the relay cleanly (exit 0), as systemctl stop sends it', async () => {
  relay.child.kill('SIGTERM');
  const { code, signal } = await relay.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, relay.log());
});
