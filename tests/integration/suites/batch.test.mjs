// Per-room batching (issue 13, docs/protocol.md "Batches"): a client that logs in with
// "batch": true gets its room's messages in `batch` frames, a seed client single `message`
// events; both see every message exactly once and in one order, with the same ids.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite } from '../lib/harness.mjs';
import { rid } from '../lib/client.mjs';
import { settle, checkExactlyOnce, msgKey } from '../lib/invariants.mjs';

const ctx = useSuite('batch');

/** What a client shows: each batch's messages in turn, other events as they came. */
const shown = (c) => ({
  name: c.name,
  get events() { return c.events.flatMap((e) => (e?.type === 'batch' ? e.messages : [e])); },
});

describe('per-room batches: a batching and a seed client in one room', () => {
  let relay, b, s;
  before(async () => {
    relay = await ctx.start('batch', { 'rate-limit': 100000, 'rate-burst': 100000 });
    b = ctx.client(relay, `b_${rid(2)}`);
    s = ctx.client(relay, `s_${rid(2)}`);
  });

  test('both get every message exactly once, in order; the batching one in batch frames', ctx.it(async () => {
    await b.login(b.name, { extra: { batch: true } });
    await s.login(s.name, { seed: true });
    const N = 300;
    const keys = [];
    const sends = [];
    for (let i = 0; i < N; i++) {
      const sender = i % 2 ? b : s;
      const cid = `c${i}-${rid(2)}`;
      keys.push(msgKey({ sender: sender.name, cid }));
      sends.push(sender.send(`m${i}`, { cid }));
    }
    await Promise.all(sends);
    const ours = new Set(keys);
    const isOurs = (e) => e?.type === 'message' && ours.has(msgKey(e));
    const users = [shown(b), shown(s)];
    await settle({ users, isOurs, expected: keys, maxMs: 20000, quietMs: 1000 });
    const { failures, lines } = checkExactlyOnce({ users, isOurs, confirmed: keys });
    assert.deepEqual(failures, [], lines.join('\n'));
    // Each audience in its own form.
    const frames = b.events.filter((e) => e?.type === 'batch');
    assert.ok(frames.length > 0 && frames.length <= N, `${frames.length} batch frames`);
    assert.ok(frames.every((f) => f.room === 'main' && f.v === 1 && f.messages.length > 0));
    assert.equal(b.events.filter(isOurs).length, 0, 'the batching client got no single messages');
    assert.equal(s.events.filter((e) => e?.type === 'batch').length, 0, 'the seed client got no batch');
    // The same message carries the same id in both forms.
    const idsOf = (u) => new Map(u.events.filter(isOurs).map((e) => [msgKey(e), e.id]));
    assert.deepEqual(idsOf(users[0]), idsOf(users[1]));
    // Presence reaches the batching client alone, as a single event.
    await s.logout();
    await b.waitFor((e) => e.type === 'leave' && e.login === s.name, 5000);
    console.log(`  ${N} messages reached the batching client in ${frames.length} frames`);
  }));
});
