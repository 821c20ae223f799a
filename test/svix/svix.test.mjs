// Cross-check of orgsync's Standard Webhooks (Svix) signatures with the
// official `svix` npm package, and with the fixed vectors in
// test/fixtures/standard_webhooks_vectors.json.
//
// Needs PG* variables pointing at a server where orgsync can be created
// (test/svix/run.sh provides one).

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Webhook } from 'svix';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'fixtures');

const client = new pg.Client();
test.before(async () => {
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS orgsync');
});
test.after(() => client.end());

// orgsync.verify(headers, body, secret, at); `at` in unix seconds
async function verify(headers, body, secret, atSeconds) {
  const { rows } = await client.query(
    'SELECT orgsync.verify($1::jsonb, $2, $3, to_timestamp($4)) AS ok',
    [JSON.stringify(headers), body, secret, atSeconds]);
  return rows[0].ok;
}
// false, or an error: both mean "not verified"
async function rejects(headers, body, secret, atSeconds) {
  try {
    return (await verify(headers, body, secret, atSeconds)) === false;
  } catch (e) {
    return true;
  }
}

const newSecret = (n = 24) => 'whsec_' + randomBytes(n).toString('base64');
const msgId = () => 'msg_' + randomBytes(16).toString('base64url');
const svixHeaders = (id, ts, sig) => ({ 'svix-id': id, 'svix-timestamp': String(ts), 'svix-signature': sig });

function fixtureBodies() {
  const out = [];
  for (const dir of [join(fixtures, 'clerk'), join(fixtures, 'clerk', 'received_2024')]) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
      out.push([`fixture ${f}${dir.endsWith('2024') ? ' (2024)' : ''}`, readFileSync(join(dir, f), 'utf8')]);
    }
  }
  return out;
}

const BODIES = [
  ...fixtureBodies(),
  ['unicode', '{"name":"Zoë Ünïcödé – 日本語 株式会社 🚀👩🏽‍💻","rtl":"שלום مرحبا","combining":"e\u0301"}'],
  ['escaped unicode', '{"a":"\\u00e9\\ud83d\\ude80\\u0000","b":"line\\nbreak"}'],
  ['empty', ''],
  ['one space', ' '],
  ['newline', '\n'],
  ['crlf', '\r\n'],
  ['empty object', '{}'],
  ['empty array', '[]'],
  ['null', 'null'],
  ['not json', 'hello, world'],
  ['spaced json', '  { "data" : { } , "type" : "user.created" }  \n'],
  ['dots and commas', 'msg_x.123.v1,abc= v1,def'],
  ['large', JSON.stringify({ data: { blob: 'x'.repeat(200_000), u: 'é'.repeat(1000) } })],
];

test('svix-signed payloads verify in orgsync; tampering does not', async () => {
  for (const [name, body] of BODIES) {
    for (const secret of [newSecret(24), newSecret(32)]) {
      const wh = new Webhook(secret);
      const id = msgId();
      const now = new Date();
      const ts = Math.floor(now.getTime() / 1000);
      const sig = wh.sign(id, now, body);
      const h = svixHeaders(id, ts, sig);
      assert.equal(await verify(h, body, secret, ts), true, `${name}: svix signature must verify`);
      assert.equal(await verify(h, body, secret.slice('whsec_'.length), ts), true, `${name}: bare base64 secret`);
      assert.equal(await verify({ 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sig }, body, secret, ts), true, `${name}: webhook-* headers`);
      assert.equal(await verify(h, body, secret, ts + 299), true, `${name}: 299 s later`);
      assert.equal(await verify(h, body, secret, ts - 299), true, `${name}: 299 s earlier`);
      // tampered
      assert.equal(await verify(h, body + ' ', secret, ts), false, `${name}: body + space`);
      if (body.length) {
        const i = Math.floor(body.length / 2);
        const flipped = body.slice(0, i) + (body[i] === 'a' ? 'b' : 'a') + body.slice(i + 1);
        assert.equal(await verify(h, flipped, secret, ts), false, `${name}: one character changed`);
        assert.equal(await verify(h, body.slice(0, -1), secret, ts), false, `${name}: truncated`);
      }
      assert.equal(await verify(h, body, newSecret(24), ts), false, `${name}: other secret`);
      assert.equal(await verify(svixHeaders(id, ts + 1, sig), body, secret, ts + 1), false, `${name}: timestamp header changed`);
      assert.equal(await verify(svixHeaders(id + 'x', ts, sig), body, secret, ts), false, `${name}: id changed`);
      assert.equal(await verify(h, body, secret, ts + 301), false, `${name}: 301 s later (too old)`);
      assert.equal(await verify(h, body, secret, ts - 301), false, `${name}: 301 s earlier (too new)`);
    }
  }
});

test('orgsync.sign output verifies with svix Webhook.verify and equals svix\'s signature', async () => {
  for (const [name, body] of BODIES) {
    const secret = newSecret(24);
    const wh = new Webhook(secret);
    const id = msgId();
    const { rows } = await client.query('SELECT orgsync.sign($1, $2, $3, now()) AS h, floor(extract(epoch FROM now()))::bigint AS ts', [secret, id, body]);
    const headers = rows[0].h;
    const ts = Number(rows[0].ts);
    assert.equal(headers['svix-id'], id, name);
    assert.equal(headers['svix-timestamp'], String(ts), name);
    // identical to what svix computes for the same id, time and body
    assert.equal(headers['svix-signature'], wh.sign(id, new Date(ts * 1000), body), `${name}: signature differs from svix`);
    // svix's verify parses the payload as JSON after checking it: only JSON bodies
    let json = true;
    try { JSON.parse(body); } catch { json = false; }
    if (json) assert.deepEqual(wh.verify(body, headers), JSON.parse(body), `${name}: svix verify`);
    else {
      assert.throws(() => wh.verify(body, headers), (e) => e instanceof SyntaxError, `${name}: svix must get past the signature`);
    }
    assert.throws(() => wh.verify(body + ' ', headers), /signature/i, `${name}: svix rejects a changed body`);
    // and orgsync verifies its own
    assert.equal(await verify(headers, body, secret, ts), true, name);
  }
});

const vectors = JSON.parse(readFileSync(join(fixtures, 'standard_webhooks_vectors.json'), 'utf8'));

test('standard_webhooks_vectors.json symmetric_fixed: orgsync.verify at their own time', async () => {
  assert.ok(vectors.symmetric_fixed.length >= 3);
  for (const v of vectors.symmetric_fixed) {
    const h = svixHeaders(v.msg_id, v.timestamp, v.expected_signature);
    // svix agrees with the vector
    assert.equal(new Webhook(v.secret).sign(v.msg_id, new Date(v.timestamp * 1000), v.payload), v.expected_signature, `${v.name}: svix`);
    assert.equal(await verify(h, v.payload, v.secret, v.timestamp), true, v.name);
    assert.equal(await verify({ 'webhook-id': v.msg_id, 'webhook-timestamp': String(v.timestamp), 'webhook-signature': v.expected_signature },
      v.payload, v.secret, v.timestamp), true, `${v.name}: webhook-* headers`);
    assert.equal(await verify(h, v.payload, v.secret, v.timestamp + 301), false, `${v.name}: 301 s later`);
    assert.equal(await verify(h, v.payload, v.secret, v.timestamp - 301), false, `${v.name}: 301 s earlier`);
    assert.equal(await verify(h, v.payload + ' ', v.secret, v.timestamp), false, `${v.name}: body changed`);
    // orgsync.sign reproduces the vector
    const { rows } = await client.query('SELECT orgsync.sign($1, $2, $3, to_timestamp($4)) AS h', [v.secret, v.msg_id, v.payload, v.timestamp]);
    assert.equal(rows[0].h['svix-signature'], v.expected_signature, `${v.name}: orgsync.sign`);
  }
});

test('standard_webhooks_vectors.json negative and parsing cases', async () => {
  const v = vectors.symmetric_fixed[0]; // whsec_MfKQ...
  const good = v.expected_signature;
  const at = v.timestamp;
  const sig = (s) => svixHeaders(v.msg_id, at, s);
  const bad = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
  const cases = [
    ['wrong v1 signature', sig(bad)],
    ['one char off', sig('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=')],
    ['garbage base64', sig('v1,dawfeoifkpqwoekfpqoekf')],
    ['empty after version', sig('v1,')],
    ['first 8 chars', sig(good.slice(0, 8))],
    ['v1a signature', sig('v1a,' + good.slice(3))],
    ['v2 with the right bytes', sig('v2,' + good.slice(3))],
    ['no version', sig(good.slice(3))],
    ['empty signature', sig('')],
    ['missing id', { 'svix-timestamp': String(at), 'svix-signature': good }],
    ['missing timestamp', { 'svix-id': v.msg_id, 'svix-signature': good }],
    ['missing signature', { 'svix-id': v.msg_id, 'svix-timestamp': String(at) }],
    ['timestamp "hello"', { 'svix-id': v.msg_id, 'svix-timestamp': 'hello', 'svix-signature': good }],
    ['timestamp with fraction', { 'svix-id': v.msg_id, 'svix-timestamp': `${at}.0`, 'svix-signature': good }],
    ['no headers', {}],
  ];
  for (const [name, h] of cases) {
    assert.ok(await rejects(h, v.payload, v.secret, at), `${name} must not verify`);
  }
  // multi-signature: the valid one third, unknown versions skipped
  assert.equal(await verify(sig(`${bad} v2,${bad.slice(3)} ${good} ${bad}`), v.payload, v.secret, at), true, 'multi-signature with a valid one');
  const c = vectors.symmetric_fixed.find((x) => x.secret === 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD');
  if (c) {
    const none = 'v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q= v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=';
    assert.ok(await rejects(svixHeaders(c.msg_id, c.timestamp, none), c.payload, c.secret, c.timestamp), 'multi-signature, none valid');
  }
  // secret with and without the prefix both verify; empty secrets do not
  assert.equal(await verify(sig(good), v.payload, v.secret.slice('whsec_'.length), at), true, 'bare secret');
  for (const s of ['', 'whsec_']) assert.ok(await rejects(sig(good), v.payload, s, at), `secret ${JSON.stringify(s)}`);
});
