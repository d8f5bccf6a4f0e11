// The relay's delivery promise, checked the same way by every fault suite (issue 11, "exactly once
// under faults, asserted"):
//
//   after the de-duplication a client does by (sender, cid), every user sees every CONFIRMED message
//   exactly once, and per room in one order: ids strictly increasing as received.
//
// The relay may publish a message again (a redelivered or resent cid): as an exact copy (same id),
// or "re-stamped" with a new, higher id and the same cid (docs/protocol.md, "Message ids"). The
// client drops either by (sender, cid), so copies are counted, not failures; what fails is what a
// client would keep or confuse: a missing message, a kept message whose id is not above the
// previous one of its room, one message kept in different rooms by different users, and one id
// carried by two different messages (copies included: a client also drops by (room, id)). A user
// who never got a message's first copy keeps the re-stamped one, whose id differs from what the
// others kept: counted (divergent), like the copies.
import { sleep } from './relay.mjs';

/** The client's de-duplication key. */
export const msgKey = (e) => `${e.sender}\u0000${e.cid}`;
const showKey = (k) => k.replace('\u0000', '/');

/** The ordering scope of a message: its room, or one scope for all direct messages a user gets. */
export const scopeOf = (e) => (e.type === 'direct' ? '@direct' : `room:${e.room}`);

/**
 * Wait until every user has received every key of `expected` (first copies), then keep listening
 * until no new matching event has arrived for `quietMs` (late copies from a redelivery or a
 * republish). Bounded: gives up waiting for missing keys after `maxMs` and for quiet after another
 * `maxQuietMs`. Returns { allArrivedMs, settledMs, complete }.
 */
export async function settle({ users, isOurs, expected, maxMs = 40000, quietMs = 2000, maxQuietMs = 15000 }) {
  const t0 = Date.now();
  const want = [...expected];
  const have = (u) => {
    const got = new Set();
    for (const e of u.events) if (isOurs(e)) got.add(msgKey(e));
    return want.every((k) => got.has(k));
  };
  let complete = false;
  while (Date.now() - t0 < maxMs) {
    if (users.every(have)) { complete = true; break; }
    await sleep(100);
  }
  const allArrivedMs = Date.now() - t0;
  const count = () => users.reduce((n, u) => n + u.events.length, 0);
  const tq = Date.now();
  let last = count();
  let lastChange = Date.now();
  while (Date.now() - lastChange < quietMs && Date.now() - tq < maxQuietMs) {
    await sleep(100);
    const n = count();
    if (n !== last) { last = n; lastChange = Date.now(); }
  }
  return { allArrivedMs, settledMs: Date.now() - t0, complete };
}

/**
 * Check the promise for `users` ([{name, events}]).
 *  isOurs(e)   the events under test (messages/directs with a cid)
 *  confirmed   keys (msgKey) the broker confirmed: each must arrive exactly once after de-duplication
 *  sent        keys that were published at all (confirmed or not): anything else arriving is a failure
 *  recipients  optional (user, key) => boolean: whether that user must get that key (default: all)
 * Returns { failures: [string], lines: [string] (one per user, for the report), stats }.
 */
export function checkExactlyOnce({ users, isOurs, confirmed, sent = confirmed, recipients = () => true }) {
  const confirmedSet = new Set(confirmed);
  const sentSet = new Set(sent);
  const failures = [];
  const lines = [];
  const idOf = new Map(); // key -> {id, scope, user}: the stamp the first user saw, for cross-user checks
  const keyOfId = new Map(); // scope#id -> key: one id, one message
  const stats = { deliveries: 0, duplicates: 0, restamped: 0, divergent: 0, missing: 0, outOfOrder: 0, unknown: 0, conflicts: 0 };
  for (const u of users) {
    const first = new Map(); // key -> event (first copy)
    const perScope = new Map(); // scope -> [ids of first copies, as received]
    let dups = 0, restamped = 0, unknown = 0, outOfOrder = 0, divergent = 0;
    const samples = { order: [], unknown: [] };
    const evs = u.events.filter(isOurs);
    for (const e of evs) {
      const k = msgKey(e);
      const scope = scopeOf(e);
      const idKey = `${scope}#${e.id}`;
      const owner = keyOfId.get(idKey);
      if (owner === undefined) keyOfId.set(idKey, k);
      else if (owner !== k) {
        stats.conflicts++;
        failures.push(`${scope} id ${e.id} stamped on two messages: ${showKey(owner)} and ${showKey(k)}`);
      }
      const seen = first.get(k);
      if (seen) {
        dups++;
        if (seen.id !== e.id) restamped++;
        continue;
      }
      first.set(k, e);
      if (!sentSet.has(k)) { unknown++; samples.unknown.push(showKey(k)); }
      if (!perScope.has(scope)) perScope.set(scope, []);
      const ids = perScope.get(scope);
      const prev = ids.at(-1);
      if (prev !== undefined && !(e.id > prev)) { outOfOrder++; samples.order.push(`${scope} id ${e.id} (${showKey(k)}) after ${prev}`); }
      ids.push(e.id);
      // One scope per message for every user, one message per stamp. A user may keep a message by
      // another id than a second user only when its first copy never reached that user and the
      // re-stamped one did (protocol.md, "Message ids"): counted, as the re-stamps are.
      const other = idOf.get(k);
      if (!other) idOf.set(k, { id: e.id, scope, user: u.name });
      else if (other.scope !== scope) {
        stats.conflicts++;
        failures.push(`${showKey(k)}: ${other.user} got it in ${other.scope}, ${u.name} in ${scope}`);
      } else if (other.id !== e.id) divergent++;
    }
    const missing = [...confirmedSet].filter((k) => recipients(u, k) && !first.has(k));
    lines.push(`${u.name}: ${first.size} distinct of ${confirmedSet.size} confirmed, ${evs.length} deliveries, ` +
      `${dups} copies dropped by (sender, cid) (${restamped} of them re-stamped with a new id), ${missing.length} missing, ` +
      `${outOfOrder} out of order, ${unknown} never sent, ${divergent} kept by a re-stamped id another user did not keep`);
    if (missing.length) failures.push(`${u.name} is missing ${missing.length} confirmed messages: ${missing.slice(0, 5).map(showKey).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    if (outOfOrder) failures.push(`${u.name}: ${outOfOrder} messages out of order: ${samples.order.slice(0, 3).join('; ')}`);
    if (unknown) failures.push(`${u.name}: ${unknown} messages nobody sent: ${samples.unknown.slice(0, 3).join(', ')}`);
    Object.assign(stats, {
      deliveries: stats.deliveries + evs.length,
      duplicates: stats.duplicates + dups,
      restamped: stats.restamped + restamped,
      divergent: stats.divergent + divergent,
      missing: stats.missing + missing.length,
      outOfOrder: stats.outOfOrder + outOfOrder,
      unknown: stats.unknown + unknown,
    });
  }
  return { failures, lines, stats };
}
