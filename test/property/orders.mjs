// Delivery orders for one history: Clerk's own order, then K orders with
// duplicated deliveries (~20%: same svix msg id, same body), as Svix's
// at-least-once, any-order delivery can produce. The history's invalid
// deliveries (mutations.mjs) go along: in Clerk's order each right after the
// event it corrupts, elsewhere anywhere.

import { Rng, subSeed } from './prng.mjs';

const KINDS = ['reverse', 'shuffle', 'retry-late', 'jitter', 'shuffle'];

// Clerk's order of everything delivered: events, and each invalid delivery
// after its event. An invalid delivery's `event` is its mutation record.
function clerkList(history) {
  const after = new Map();
  for (const m of history.invalid ?? []) {
    if (!after.has(m.of)) after.set(m.of, []);
    after.get(m.of).push({ event: { ...m, index: `${m.of}*` }, msgId: m.msgId, body: m.body, invalid: true });
  }
  return history.events.flatMap((event) => [{ event, msgId: event.msgId, body: event.body }, ...(after.get(event.index) ?? [])]);
}

const copy = (d) => ({ ...d });

// -> [{ name, deliveries: [{ event, msgId, body, repeat, invalid }] }]
export function deliveryOrders(history, k, dupRate = 0.2) {
  const clerk = clerkList(history);
  const out = [{ name: 'clerk', deliveries: clerk.map((d) => ({ ...d, repeat: false })) }];
  const created = new Map(clerk.filter((d) => d.event.type === 'organizationInvitation.created').map((d) => [d.event.objectId, d]));
  for (let i = 1; i <= k; i++) {
    const rng = new Rng(subSeed(history.seed, i));
    const kind = KINDS[(i - 1) % KINDS.length];
    let list;
    if (kind === 'reverse') list = clerk.slice().reverse();
    else if (kind === 'shuffle') list = rng.shuffle(clerk);
    else if (kind === 'jitter') {
      // mostly in order, each delivery late by an exponential delay
      const n = clerk.length;
      list = clerk.map((d, at) => ({ d, at: at - Math.log(1 - rng.float()) * Math.max(2, n / 8) }))
        .sort((a, b) => a.at - b.at).map((x) => x.d);
    } else {
      // Clerk's order, but ~30% of deliveries fail and are retried later, in any order
      const late = [], onTime = [];
      for (const d of clerk) (rng.chance(0.3) ? late : onTime).push(d);
      list = onTime.concat(rng.shuffle(late));
    }
    list = list.map(copy);
    for (const d of clerk) {
      if (!rng.chance(dupRate)) continue;
      const copies = rng.chance(0.2) ? 2 : 1;
      for (let c = 0; c < copies; c++) list.splice(rng.int(0, list.length), 0, copy(d));
    }
    // the pending copy of an accepted or revoked invitation delivered again after it
    for (let at = list.length - 1; at >= 0; at--) {
      const e = list[at].event;
      if (!list[at].invalid && /\.(accepted|revoked)$/.test(e.type) && created.has(e.objectId) && rng.chance(0.5)) {
        list.splice(at + 1, 0, copy(created.get(e.objectId)));
      }
    }
    const seen = new Set();
    for (const d of list) { d.repeat = seen.has(d.msgId); seen.add(d.msgId); }
    out.push({ name: `${i}:${kind}`, deliveries: list });
  }
  return out;
}
