// JSON as orgsync's core reads and writes it, for the generator and the model.
//
// JavaScript numbers cannot hold what metadata may (a 30-digit integer,
// 1e999): a Raw is a JSON number kept as written, which stringify() writes
// verbatim. canonical() is the text the core stores and digests (compact,
// keys sorted bytewise, numbers as written), join() merges two copies of one
// version as src/core/json.cpp does, digest() is src/core/writes.cpp's FNV-1a.

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

// The core's canonical text: compact, object keys sorted bytewise, strings
// escaped as JSON.stringify does (quote, backslash, control characters),
// numbers as written.
// Memoized per object: payload data is never changed once generated.
const canonicalOf = new WeakMap();
export function canonical(value) {
  if (value === null || typeof value !== 'object' || value instanceof Raw) return stringify(value);
  let text = canonicalOf.get(value);
  if (text === undefined) canonicalOf.set(value, (text = stringify(sortKeys(value))));
  return text;
}

function sortKeys(value) {
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

// Whether `value` holds a number written with an exponent (1e999): jsonb
// writes those out in full, so the text the core joins a stored copy from
// differs from the written one.
export function hasExponent(value) {
  if (value instanceof Raw) return /[eE]/.test(value.text);
  if (Array.isArray(value)) return value.some(hasExponent);
  if (isObject(value)) return Object.values(value).some(hasExponent);
  return typeof value === 'number' && /e/.test(String(value));
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

// A number's value as the core reads it (strtod-like; out of range: +-Infinity or 0).
const numberValue = (v) => (v instanceof Raw ? Number(v.text) : v);

// a < b in the join's order: null < false < true < numbers by value <
// strings (bytewise) < arrays < objects; ties between different texts by
// their canonical text.
export function joinLess(a, b) {
  const ra = typeRank(a), rb = typeRank(b);
  if (ra !== rb) return ra < rb;
  if (ra === 3) {
    const x = numberValue(a), y = numberValue(b);
    if (x !== y) return x < y;
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
