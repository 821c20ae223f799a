// Delivery orders for one history: Clerk's own order, then K orders with
// duplicated deliveries (~20%: same svix msg id, same body), as Svix's
// at-least-once, any-order delivery can produce.

import { Rng, subSeed } from './prng.mjs';

const KINDS = ['reverse', 'shuffle', 'retry-late', 'jitter', 'shuffle'];

// -> [{ name, deliveries: [{ event, msgId, body, repeat }] }]
export function deliveryOrders(history, k, dupRate = 0.2) {
  const out = [{ name: 'clerk', deliveries: history.events.map((event) => ({ event, msgId: event.msgId, body: event.body, repeat: false })) }];
  for (let i = 1; i <= k; i++) {
    const rng = new Rng(subSeed(history.seed, i));
    const kind = KINDS[(i - 1) % KINDS.length];
    let evs;
    if (kind === 'reverse') evs = history.events.slice().reverse();
    else if (kind === 'shuffle') evs = rng.shuffle(history.events);
    else if (kind === 'jitter') {
      // mostly in order, each delivery late by an exponential delay
      const n = history.events.length;
      evs = history.events.map((e) => ({ e, at: e.index - Math.log(1 - rng.float()) * Math.max(2, n / 8) }))
        .sort((a, b) => a.at - b.at).map((x) => x.e);
    } else {
      // Clerk's order, but ~30% of deliveries fail and are retried later, in any order
      const late = [], onTime = [];
      for (const e of history.events) (rng.chance(0.3) ? late : onTime).push(e);
      evs = onTime.concat(rng.shuffle(late));
    }
    const list = evs.map((event) => ({ event, msgId: event.msgId, body: event.body }));
    for (const event of history.events) {
      if (!rng.chance(dupRate)) continue;
      const copies = rng.chance(0.2) ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        const at = rng.int(0, list.length);
        list.splice(at, 0, { event, msgId: event.msgId, body: event.body });
      }
    }
    const seen = new Set();
    for (const d of list) { d.repeat = seen.has(d.msgId); seen.add(d.msgId); }
    out.push({ name: `${i}:${kind}`, deliveries: list });
  }
  return out;
}
