// Hardening (issue 6): a broker resource alarm (memory) blocks publishing. The relay must not
// buffer without bound: it keeps at most relay.max-in-flight deliveries of `chat` (the prefetch),
// publishes nothing while blocked (its own basic.publish count, /metrics), the rest of the chats wait
// READY in the broker's chat queue (management API), and it delivers every message once the alarm clears.
// Uses the shared test broker: the alarm is raised for a few seconds and always cleared again.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useSuite } from '../lib/harness.mjs';
import { rid } from '../lib/client.mjs';
import { sleep } from '../lib/relay.mjs';
import { queueInfo } from '../lib/broker.mjs';

const execFileP = promisify(execFile);
const NODE = process.env.RMQ_NODE || 'chatrelay@localhost';
const IN_FLIGHT = 50;
const N = 500;
const ctx = useSuite('blk');

async function ctl(...args) {
  const { stdout } = await execFileP('rabbitmqctl', ['-q', '-n', NODE, ...args], { timeout: 60000 });
  return stdout.trim();
}

describe('broker memory alarm (connection.blocked)', () => {
  let relay, a, b, watermark, alarmed = false;
  const clearAlarm = async () => {
    if (!alarmed) return;
    // watermark is what the node had: {absolute,N}, {absolute,"2GB"} or a fraction
    const abs = /^\{absolute,"?([^"}]+)"?\}$/.exec(watermark);
    if (abs) await ctl('set_vm_memory_high_watermark', 'absolute', abs[1]);
    else await ctl('set_vm_memory_high_watermark', watermark);
    alarmed = false;
  };
  before(async () => {
    watermark = await ctl('eval', 'vm_memory_monitor:get_vm_memory_high_watermark().');
    relay = await ctx.start('blk', { 'max-in-flight': IN_FLIGHT });
    a = ctx.client(relay, `ba_${rid(2)}`);
    b = ctx.client(relay, `bb_${rid(2)}`);
    await a.login(a.name);
    await b.login(b.name);
  });
  after(async () => { await clearAlarm(); });

  test(`${N} chats while publishing is blocked: at most max-in-flight taken, none lost after the alarm clears`, ctx.it(async () => {
    // Queue the chats while the relay is paused, then block publishing and let the relay go on.
    process.kill(relay.pid, 'SIGSTOP');
    try {
      for (let i = 0; i < N; i++) await a.send(`blk-${i}`, { cid: `blk-${i}` });
      alarmed = true;
      await ctl('set_vm_memory_high_watermark', 'absolute', '1');
    } finally {
      process.kill(relay.pid, 'SIGCONT');
    }
    // Who holds back? The broker's view of the chat queue (management API, refreshed every ~5 s):
    // the relay holds exactly max-in-flight deliveries unacked, the rest stays READY in the queue,
    // and the relay's own basic.publish count (/metrics) does not move while blocked.
    await sleep(1000);
    const published0 = await relay.metric('chat_relay_published_total');
    const chatQ = relay.options['chat-queue'];
    let q = null;
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      q = await queueInfo(chatQ);
      if (q && q.messages_unacknowledged === IN_FLIGHT && q.messages_ready === N - IN_FLIGHT) break;
      await sleep(500);
    }
    const passive = await ctx.broker.checkQueue(chatQ); // real-time ready count
    const published1 = await relay.metric('chat_relay_published_total');
    const taken = await relay.metric('chat_relay_messages_in_total');
    const seen = b.messages().filter((e) => e.message.startsWith('blk-')).length;
    const prefetch = q?.consumer_details?.map((c) => c.prefetch_count) ?? [];
    console.log(`# while blocked: relay took ${taken} of ${N} chats (max-in-flight ${IN_FLIGHT}); management: ${q?.messages_unacknowledged} unacked, ` +
      `${q?.messages_ready} ready, consumer prefetch ${prefetch}; passive declare: ${passive.messageCount} ready; relay basic.publish ${published0} -> ${published1}; user saw ${seen}`);
    assert.ok(taken <= IN_FLIGHT, `relay took ${taken} deliveries while blocked (bound ${IN_FLIGHT})`);
    assert.equal(q?.messages_unacknowledged, IN_FLIGHT, 'the relay holds exactly max-in-flight deliveries of chat unacked');
    assert.equal(q?.messages_ready, N - IN_FLIGHT, 'the rest waits in the broker, not in the relay');
    assert.equal(passive.messageCount, N - IN_FLIGHT, 'passive declare: the rest is ready in the chat queue');
    assert.deepEqual(prefetch, [IN_FLIGHT], 'one consumer on chat (the relay) with prefetch max-in-flight');
    assert.equal(published1, published0, 'the relay publishes nothing while the broker blocks it');
    assert.equal(seen, 0, 'nothing is delivered while the broker blocks publishing');
    assert.equal((await relay.healthz()).status, 200, 'still alive');
    const cleared = Date.now();
    await clearAlarm();
    await b.waitForCount((e) => e.type === 'message' && e.message.startsWith('blk-'), N, 30000, 'every chat after the alarm');
    const got = b.messages().filter((e) => e.message.startsWith('blk-'));
    assert.equal(new Set(got.map((e) => e.cid)).size, N, 'every cid once');
    const order = got.map((e) => Number(e.message.slice(4)));
    assert.deepEqual(order, [...order].sort((x, y) => x - y), 'in order');
    console.log(`# all ${N} delivered ${Date.now() - cleared} ms after the alarm cleared`);
  }));
});
