// JSON as orgsync's core reads and writes it, for the generator and the model.
//
// JavaScript numbers cannot hold what metadata may (a 30-digit integer,
// 1e999): a Raw is a JSON number kept as written, which stringify() writes
// verbatim. canonical() is the text the core stores and digests (compact,
// keys sorted bytewise, numbers as Postgres's numeric writes them), join()
// merges two copies of one version as src/core/json.cpp does, digest() is
// src/core/writes.cpp's FNV-1a.

export class Raw {
  constructor(text) { this.text = text; }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw);

// JSON text; `indent` as JSON.stringify's (Raw numbers written as they are).
export function stringify(value, indent = 0) {
  const pad = (depth) => (indent ? '\n' + ' '.repeat(indent * depth) : '');
  const out = [];
  // iterative: metadata may nest deeper than is comfortable to recurse on
  const stack = [{ value, depth: 0 }];
  while (stack.length) {
    const item = stack.pop();
    if (typeof item === 'string') { out.push(item); continue; }
    const { value: v, depth } = item;
    if (v instanceof Raw) out.push(v.text);
    else if (Array.isArray(v) || isObject(v)) {
      const entries = Array.isArray(v) ? v.map((x) => [null, x]) : Object.entries(v).filter(([, x]) => x !== undefined);
      const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
      if (!entries.length) { out.push(open + close); continue; }
      const parts = [open];
      entries.forEach(([k, x], i) => {
        parts.push((i ? ',' : '') + pad(depth + 1) + (k === null ? '' : JSON.stringify(k) + (indent ? ': ' : ':')));
        parts.push({ value: x, depth: depth + 1 });
      });
      parts.push(pad(depth) + close);
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]);
    } else out.push(JSON.stringify(v));
  }
  return out.join('');
}

// A deep copy (Raw values are immutable and shared).
export function clone(value) {
  if (Array.isArray(value)) return value.map(clone);
  if (isObject(value)) {
    const copy = {};
    for (const [k, v] of Object.entries(value)) copy[k] = clone(v);
    return copy;
  }
  return value;
}

const utf8 = (s) => Buffer.from(s, 'utf8');
// bytewise order of the UTF-8 encodings, as the core compares keys and strings
export const compareBytes = (a, b) => Buffer.compare(utf8(a), utf8(b));

// A JSON number's text as Postgres's numeric writes numeric_in's value of it
// (src/core/json.cpp numeric_text): no exponent, the input's scale, no sign
// on zero. "1e3" is "1000", "10e-1" is "1.0", "-0" is "0".
export function numericText(text) {
  const negative = text[0] === '-';
  const [mantissa, exp = '0'] = (negative ? text.slice(1) : text).split(/[eE]/);
  const exponent = Number(exp);
  const [whole, fraction = ''] = mantissa.split('.');
  const scale = Math.max(0, fraction.length - exponent);
  const point = whole.length + exponent;
  const digits = whole + fraction;
  let integer, decimals;
  if (point <= 0) [integer, decimals] = ['', '0'.repeat(-point) + digits];
  else if (point >= digits.length) [integer, decimals] = [digits + '0'.repeat(point - digits.length), ''];
  else [integer, decimals] = [digits.slice(0, point), digits.slice(point)];
  decimals = decimals.slice(0, scale).padEnd(scale, '0');
  integer = integer.replace(/^0+/, '') || '0';
  const zero = integer === '0' && !/[1-9]/.test(decimals);
  return (negative && !zero ? '-' : '') + integer + (scale > 0 ? '.' + decimals : '');
}

// The core's canonical text: compact, object keys sorted bytewise, strings
// escaped as JSON.stringify does (quote, backslash, control characters),
// numbers as numeric writes them.
// Memoized per object: payload data is never changed once generated.
const canonicalOf = new WeakMap();
export function canonical(value) {
  if (value instanceof Raw) return numericText(value.text);
  if (typeof value === 'number') return numericText(JSON.stringify(value));
  if (value === null || typeof value !== 'object') return stringify(value);
  let text = canonicalOf.get(value);
  if (text === undefined) canonicalOf.set(value, (text = stringify(sortKeys(value))));
  return text;
}

function sortKeys(value) {
  if (value instanceof Raw) return new Raw(numericText(value.text));
  if (typeof value === 'number') return new Raw(numericText(JSON.stringify(value)));
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isObject(value)) {
    const sorted = {};
    // integer-like keys would be reordered by JavaScript objects: keep order in a Map-free way
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort(compareBytes);
    if (keys.some((k) => /^(0|[1-9]\d*)$/.test(k))) throw new Error(`canonical: integer-like key ${keys.find((k) => /^\d+$/.test(k))} not supported`);
    for (const k of keys) sorted[k] = sortKeys(value[k]);
    return sorted;
  }
  return value;
}

// ---- join ---------------------------------------------------------------------

const JOIN_DEPTH = 32; // src/core/json.cpp kJoinDepth: below it, values compare whole

function typeRank(v) {
  if (v === null) return 0;
  if (v === false) return 1;
  if (v === true) return 2;
  if (typeof v === 'number' || v instanceof Raw) return 3;
  if (typeof v === 'string') return 4;
  if (Array.isArray(v)) return 5;
  return 6;
}

// Two numbers by their exact value (numericText's form); 0 when equal.
function compareNumbers(a, b) {
  const x = numericText(a instanceof Raw ? a.text : JSON.stringify(a));
  const y = numericText(b instanceof Raw ? b.text : JSON.stringify(b));
  const xn = x[0] === '-', yn = y[0] === '-';
  if (xn !== yn) return xn ? -1 : 1;
  const sign = xn ? -1 : 1;
  const [xi, xf = ''] = (xn ? x.slice(1) : x).split('.');
  const [yi, yf = ''] = (yn ? y.slice(1) : y).split('.');
  if (xi.length !== yi.length) return xi.length < yi.length ? -sign : sign;
  if (xi !== yi) return xi < yi ? -sign : sign;
  const n = Math.max(xf.length, yf.length);
  const a2 = xf.padEnd(n, '0'), b2 = yf.padEnd(n, '0');
  return a2 === b2 ? 0 : a2 < b2 ? -sign : sign;
}

// a < b in the join's order: null < false < true < numbers by value <
// strings (bytewise) < arrays < objects; ties between different texts by
// their canonical text.
export function joinLess(a, b) {
  const ra = typeRank(a), rb = typeRank(b);
  if (ra !== rb) return ra < rb;
  if (ra === 3) {
    const order = compareNumbers(a, b);
    if (order !== 0) return order < 0;
  }
  if (ra === 4) return compareBytes(a, b) < 0;
  return compareBytes(canonical(a), canonical(b)) < 0;
}

// Two copies of one version merged: objects member by member (to JOIN_DEPTH),
// other values the greater of the two.
export function join(a, b, depth = 0) {
  if (!(isObject(a) && isObject(b) && depth < JOIN_DEPTH)) return joinLess(a, b) ? b : a;
  const out = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[k] === undefined) out[k] = b[k];
    else if (b[k] === undefined) out[k] = a[k];
    else out[k] = join(a[k], b[k], depth + 1);
  }
  return out;
}

// FNV-1a 64 of the UTF-8 text, as a signed 64-bit decimal (sync_version[4]);
// in 16-bit limbs, the multiplication by 2^40 + 0x1b3 spelled out.
export function digest(text) {
  let h0 = 0x2325, h1 = 0x8422, h2 = 0x9ce4, h3 = 0xcbf2; // 14695981039346656037
  for (const byte of utf8(text)) {
    h0 ^= byte;
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + h0 * 0x100 + (t1 >>> 16);
    const t3 = h3 * 0x1b3 + h1 * 0x100 + (t2 >>> 16);
    h0 = t0 & 0xffff; h1 = t1 & 0xffff; h2 = t2 & 0xffff; h3 = t3 & 0xffff;
  }
  const h = (BigInt(h3) << 48n) | (BigInt(h2) << 32n) | (BigInt(h1) << 16n) | BigInt(h0);
  return BigInt.asIntN(64, h).toString();
}
