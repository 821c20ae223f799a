// Deliveries that must come back `invalid`: a history's event with one field
// orgsync reads given a wrong JSON type (or, for times and 32-bit integers,
// a number they cannot take; for required fields, null or nothing), under a
// new delivery id. The fields are those src/core/objects.cpp and plan.cpp
// read for the event as it is (a field read only in some cases is listed
// only then); the field and the wrong value are drawn from the seed.

import { Raw, clone, stringify } from './json.mjs';

// Wrong values by the type a field is read with.
const TEXT = [42, 1.5, true, false, ['x'], {}];
const REQUIRED = [null, undefined]; // undefined: the member removed
const WRONG = {
  id: [42, '', true, [], {}, ...REQUIRED],
  requiredText: [42, true, ['x'], {}, ...REQUIRED],
  text: TEXT,
  // (1e2 is no wrong int32: it is the number 100, as numeric and jsonb read it; 3e9 is beyond 32 bits)
  int32: ['10', 1.5, new Raw('99999999999'), new Raw('3e9'), new Raw('10.0'), true, [], {}],
  boolean: ['true', 'no', 0, 1, [], {}],
  time: ['x', -5, 1.5, new Raw('253402300800000'), new Raw('1716883200000.0'), new Raw('1.7e-12'), true, [], {}],
  timestamp: ['x', -5, 1.5, new Raw('253402300800000'), new Raw('1e-12'), true, [], {}],
  strings: ['x', 5, true, {}],
  stringItem: [1, null, {}, []],
  object: ['x', 5, true, []],
  requiredObject: ['x', 5, true, [], ...REQUIRED],
  objects: ['x', 5, true, {}],
  objectItem: ['x', 5, null, []],
  deletedFlag: ['yes', 1, false, [], {}],
};

const ORGANIZATION = {
  id: 'id', name: 'text', slug: 'text', image_url: 'text', created_by: 'text', max_allowed_memberships: 'int32',
  created_at: 'time', updated_at: 'time', public_metadata: 'object', private_metadata: 'object',
};
const USER = {
  id: 'id', first_name: 'text', last_name: 'text', username: 'text', image_url: 'text', external_id: 'text',
  banned: 'boolean', locked: 'boolean', last_sign_in_at: 'time', created_at: 'time', updated_at: 'time',
  primary_email_address_id: 'text', primary_phone_number_id: 'text', email_addresses: 'objects',
  phone_numbers: 'objects', public_metadata: 'object', private_metadata: 'object',
};
const PUBLIC_USER = {
  user_id: 'id', identifier: 'text', username: 'text', first_name: 'text', last_name: 'text', image_url: 'text',
  banned: 'boolean',
};
const MEMBERSHIP = {
  id: 'id', role: 'requiredText', role_name: 'text', permissions: 'strings', created_at: 'time', updated_at: 'time',
  public_metadata: 'object', private_metadata: 'object', organization: 'requiredObject', public_user_data: 'requiredObject',
};
const INVITATION = {
  id: 'id', organization_id: 'id', status: 'requiredText', email_address: 'text', role: 'text', role_name: 'text',
  inviter_id: 'text', user_id: 'text', created_at: 'time', updated_at: 'time', expires_at: 'time',
  public_metadata: 'object', private_metadata: 'object',
};
const DOMAIN = {
  id: 'id', organization_id: 'id', name: 'requiredText', enrollment_mode: 'text', affiliation_email_address: 'text',
  total_pending_invitations: 'int32', total_pending_suggestions: 'int32', created_at: 'time', updated_at: 'time',
  public_organization_data: 'object',
};
const ROLE = {
  id: 'id', key: 'requiredText', name: 'text', description: 'text', is_creator_eligible: 'boolean',
  created_at: 'time', updated_at: 'time', permissions: 'objects',
};
const PERMISSION = { id: 'id', key: 'requiredText', name: 'text', description: 'text', type: 'text', created_at: 'time', updated_at: 'time' };
const DELETION = { id: 'id', deleted: 'deletedFlag' };

// [path, type] of every field orgsync reads in this event's payload.
export function fieldsRead(ev) {
  const out = [[['type'], 'requiredText'], [['timestamp'], 'timestamp'], [['data'], 'requiredObject']];
  const d = ev.payload.data;
  // the fields of `spec` the object holds (required ones always)
  const add = (prefix, object, spec) => {
    for (const [key, type] of Object.entries(spec)) {
      if (key in object || WRONG[type].includes(undefined)) out.push([[...prefix, key], type]);
    }
  };
  const items = (prefix, list, itemType, each) => {
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => {
      out.push([[...prefix, i], itemType]);
      if (each) each([...prefix, i], item);
    });
  };
  const deletion = ev.type.endsWith('.deleted');
  switch (ev.kind) {
    case 'organization':
      add(['data'], d, deletion ? DELETION : ORGANIZATION);
      break;
    case 'user':
      if (deletion) { add(['data'], d, DELETION); break; }
      add(['data'], d, USER);
      for (const [list, value, primary] of [['email_addresses', 'email_address', 'primary_email_address_id'],
        ['phone_numbers', 'phone_number', 'primary_phone_number_id']]) {
        items(['data', list], d[list], 'objectItem', (path) => {
          out.push([[...path, value], 'text']);
          if (d[primary] != null) out.push([[...path, 'id'], 'text']); // compared only against a primary id
        });
      }
      break;
    case 'membership': {
      const withMember = 'public_user_data' in d;
      if (deletion && !withMember) {
        // ended by id: only the id and the organization are read
        add(['data'], d, { id: 'id', organization: 'requiredObject' });
      } else {
        // a deletion's member may be null (then it is ended by id), not another type
        add(['data'], d, deletion ? { ...MEMBERSHIP, public_user_data: 'object' } : MEMBERSHIP);
        add(['data', 'public_user_data'], d.public_user_data, PUBLIC_USER);
        items(['data', 'permissions'], d.permissions, 'stringItem');
      }
      add(['data', 'organization'], d.organization, ORGANIZATION);
      break;
    }
    case 'invitation':
      add(['data'], d, INVITATION);
      break;
    case 'domain': {
      if (deletion) { add(['data'], d, DELETION); break; }
      add(['data'], d, DOMAIN);
      if (d.public_organization_data) add(['data', 'public_organization_data'], d.public_organization_data, { name: 'text', slug: 'text', image_url: 'text' });
      // affiliation_verification, else (absent or null) verification
      for (const key of ['affiliation_verification', 'verification']) {
        if (!(key in d)) continue;
        out.push([['data', key], 'object']);
        if (d[key] !== null) out.push([['data', key, 'status'], 'text']);
        if (d[key] !== null) break;
      }
      break;
    }
    case 'role':
      if (deletion) { add(['data'], d, DELETION); break; }
      add(['data'], d, ROLE);
      items(['data', 'permissions'], d.permissions, 'objectItem', (path) => out.push([[...path, 'key'], 'requiredText']));
      break;
    case 'permission':
      add(['data'], d, deletion ? DELETION : PERMISSION);
      break;
    default:
      return [];
  }
  return out;
}

function setAt(payload, path, value) {
  let parent = payload;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path[path.length - 1];
  if (value !== undefined) parent[last] = value;
  else if (Array.isArray(parent)) parent.splice(last, 1);
  else delete parent[last];
}

const describe = (value) => (value === undefined ? 'removed' : value instanceof Raw ? value.text : JSON.stringify(value));
const jsonType = (value) => (value === undefined ? 'removed' : value === null ? 'null' : value instanceof Raw ? 'number'
  : Array.isArray(value) ? 'array' : typeof value);

// One mutated delivery of `ev`.
export function mutate(ev, rng, msgId) {
  const fields = fieldsRead(ev);
  // the envelope's three fields are drawn as often as any one field of data
  const [path, type] = rng.chance(0.1) ? fields[rng.int(0, 2)] : rng.pick(fields.slice(3));
  const value = rng.pick(WRONG[type]);
  const payload = clone(ev.payload);
  setAt(payload, path, value);
  return {
    msgId, type: ev.type, kind: ev.kind, objectId: ev.objectId, of: ev.index, invalid: true,
    field: path.join('.'), wrong: describe(value), wrongType: jsonType(value), body: stringify(payload),
  };
}

const KINDS = ['organization', 'user', 'membership', 'invitation', 'domain', 'role', 'permission'];

// Mutated deliveries for about `rate` of the events, and at least one per
// kind of object the history has.
export function mutatedDeliveries(events, rng, { rate, usedMsgIds }) {
  const msgId = () => {
    let id;
    do { id = 'msg_' + rng.base62(27); } while (usedMsgIds.has(id));
    usedMsgIds.add(id);
    return id;
  };
  const modeled = events.filter((e) => KINDS.includes(e.kind));
  const chosen = new Set(modeled.filter(() => rng.chance(rate)));
  for (const kind of KINDS) {
    const ofKind = modeled.filter((e) => e.kind === kind);
    if (ofKind.length && ![...chosen].some((e) => e.kind === kind)) chosen.add(rng.pick(ofKind));
  }
  return [...chosen].sort((a, b) => a.index - b.index).map((ev) => mutate(ev, rng, msgId()));
}
