// Hardening (issue 6): a broker resource alarm (memory) blocks publishing. The relay must not
// buffer without bound: it keeps at most relay.max-in-flight deliveries of `chat` (the prefetch),
// publishes nothing while blocked, and delivers every message once the alarm clears.
// Uses the shared test broker: the alarm is raised for a few seconds and always cleared again.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useSuite } from '../lib/harness.mjs';
import { rid } from '../lib/client.mjs';
import { sleep } from '../lib/relay.mjs';

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
    await sleep(3000);
    const taken = await relay.metric('chat_relay_messages_in_total');
    const seen = b.messages().filter((e) => e.message.startsWith('blk-')).length;
    console.log(`# while blocked: relay took ${taken} of ${N} chats (max-in-flight ${IN_FLIGHT}); user saw ${seen}`);
    assert.ok(taken <= IN_FLIGHT, `relay took ${taken} deliveries while blocked (bound ${IN_FLIGHT})`);
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
