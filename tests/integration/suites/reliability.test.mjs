// Reliability (issue 11), against the real broker and daemon: what a hostile
// test reproduced, fixed and kept fixed.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite } from '../lib/harness.mjs';
import { rid, userQueue } from '../lib/client.mjs';
import { sleep } from '../lib/relay.mjs';
import { AMQP_URL, RMQ_MGMT_PORT } from '../lib/broker.mjs';

const ctx = useSuite('rel');

/** The exchanges a queue is bound to (the default one left out), from the management API. */
async function boundExchanges(queue) {
  const url = new URL(AMQP_URL);
  const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
  const res = await fetch(`http://127.0.0.1:${RMQ_MGMT_PORT}/api/queues/%2F/${encodeURIComponent(queue)}/bindings`,
    { headers: { authorization: `Basic ${auth}` } });
  assert.equal(res.status, 200, `bindings of ${queue}`);
  return (await res.json()).map((b) => b.source).filter((s) => s !== '').sort();
}

describe('a user queue is bound to exactly its session\'s rooms', () => {
  let relay, alice, bob;
  before(async () => {
    relay = await ctx.start('rel');
  });

  test('logging in again on the same queue with fewer rooms stops the dropped room', ctx.it(async () => {
    const prefix = relay.options['room-exchange-prefix'];
    alice = ctx.client(relay, `alice_${rid(2)}`);
    bob = ctx.client(relay, `bob_${rid(2)}`);
    const queue = userQueue();
    await alice.login(alice.name, { queue, rooms: ['ra', 'rb'] });
    await bob.login(bob.name, { rooms: ['rb'] });
    assert.deepEqual(await boundExchanges(queue), [`${prefix}ra`, `${prefix}rb`]);
    // How a client changes rooms or reconnects: the same queue, new rooms.
    const w = await alice.login(alice.name, { queue, rooms: ['ra'] });
    assert.deepEqual(w.rooms, ['ra']);
    assert.deepEqual(await boundExchanges(queue), [`${prefix}ra`], 'bindings after the second login');
    const text = `to-rb-${rid(3)}`;
    await bob.send(text, { room: 'rb' });
    await bob.waitFor((e) => e.type === 'message' && e.message === text, 4000);
    await sleep(1000); // a late copy would arrive by now
    assert.equal(alice.events.filter((e) => e.message === text).length, 0, 'a message to the dropped room reached the queue');
    // The room she kept still reaches her.
    const kept = `to-ra-${rid(3)}`;
    await alice.send(kept, { room: 'ra' });
    await alice.waitFor((e) => e.type === 'message' && e.message === kept, 4000);
  }));

  test('a standby that takes over unbinds what a replaced session dropped', ctx.it(async () => {
    const prefix = relay.options['room-exchange-prefix'];
    const standby = await ctx.start('rel', { id: `rel-standby-${rid(2)}` });
    await sleep(500); // the standby's hello is answered with a snapshot
    const carol = ctx.client(relay, `carol_${rid(2)}`);
    const queue = userQueue();
    await carol.login(carol.name, { queue, rooms: ['rc', 'rd'] });
    await carol.login(carol.name, { queue, rooms: ['rc'] });
    assert.deepEqual(await boundExchanges(queue), [`${prefix}rc`]);
    // Bind the dropped room again behind the relays' back (a relay that
    // died between its unbind and the welcome would leave it so).
    await ctx.broker.onChannel((ch) => ch.bindQueue(queue, `${prefix}rd`, ''));
    assert.deepEqual(await boundExchanges(queue), [`${prefix}rc`, `${prefix}rd`]);
    await relay.stop();
    for (let i = 0; i < 100 && !(await standby.isActive()); i++) await sleep(100);
    assert.ok(await standby.isActive(), 'the standby took over');
    for (let i = 0; i < 50 && (await boundExchanges(queue)).length > 1; i++) await sleep(100);
    assert.deepEqual(await boundExchanges(queue), [`${prefix}rc`], 'bindings after the takeover');
  }));
});
