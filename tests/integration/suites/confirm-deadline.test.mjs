// Issue 15.1: a confirm that never comes must not stop the relay, and /readyz tells the truth
// meanwhile. The broker's VM is frozen (SIGSTOP) for a few seconds during a chat stream, so the
// relay's publishes go unconfirmed past relay.confirm-timeout (1 s here). Checked: /readyz turns
// 503 {"role":"stalled"} while it lasts, the timeout and the resend are counted, /readyz is 200
// active again after SIGCONT, and every user gets every confirmed chat exactly once after the
// client's de-duplication, ids increasing. Uses the suite broker (RMQ_BASE/beam.pid) and always
// resumes it, also when the test fails or the process is signalled.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Broker } from '../lib/broker.mjs';
import { ChatClient, rid } from '../lib/client.mjs';
import { startRelay, sleep } from '../lib/relay.mjs';

const RMQ_BASE = process.env.RMQ_BASE || '/tmp/chatrelay-rmq';
const FREEZE_MS = 3500;
const BURST = 1000;

function beamPid() {
  const pid = Number(fs.readFileSync(path.join(RMQ_BASE, 'beam.pid'), 'utf8').trim());
  if (!pid) throw new Error(`no pid in ${RMQ_BASE}/beam.pid`);
  return pid;
}

let frozen = 0;
function thaw() {
  if (!frozen) return;
  try { process.kill(frozen, 'SIGCONT'); } catch { /* gone */ }
  frozen = 0;
}
process.once('exit', thaw);
for (const sig of ['SIGTERM', 'SIGINT']) process.once(sig, () => { thaw(); process.exit(1); });

describe('a confirm that never comes (broker frozen)', () => {
  let relay;
  let broker;
  const users = [];

  before(async () => {
    relay = await startRelay({ suite: 'confirm', options: { 'confirm-timeout': { raw: '1s' }, 'max-in-flight': 64 } });
    broker = await Broker.open();
    for (let k = 0; k < 2; k++) {
      const u = new ChatClient(broker, relay.options, `cd${k}_${rid(2)}`);
      await u.login(u.name, { timeout: 10000 });
      users.push(u);
    }
  });

  after(async () => {
    thaw();
    for (const u of users) await u.close();
    await broker?.close();
    await relay?.stop();
  });

  test(`bursts of ${BURST} chats across a ${FREEZE_MS} ms freeze: stalled while it lasts, then all delivered`, { timeout: 120000 }, async () => {
    const tag = rid(3);
    const roles = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const r = await relay.readyz();
        const role = `${r.status} ${r.json?.role}`;
        if (roles.at(-1)?.role !== role) roles.push({ at: Date.now(), role });
        await sleep(100);
      }
    })();
    const confirmed = [];
    // Bursts of chats (a backlog the relay works through at full speed, publishing all the time),
    // and the freeze in the middle of one: the relay's publishes in flight then wait for confirms
    // that come only after SIGCONT. A freeze that caught nothing in flight (the confirms came
    // first) is tried again with a new burst.
    const isMine = (e) => e?.type === 'message' && e.cid?.startsWith(`cd${tag}-`);
    let freezeAt = 0;
    let n = 0;
    for (let attempt = 0; attempt < 5 && !freezeAt; attempt++) {
      const from = users[0].events.filter(isMine).length;
      for (let i = 0; i < BURST; i++, n++) {
        const cid = `cd${tag}-${n}`;
        broker.publishNoWait(relay.options['chat-queue'],
          { v: 1, sender: users[0].name, token: users[0].token, message: `m${n}`, cid });
        confirmed.push(cid);
      }
      await broker.flush();
      await users[0].waitForCount(isMine, from + 50, 20000, 'the first chats of the burst');
      frozen = beamPid();
      process.kill(frozen, 'SIGSTOP');
      const at = Date.now();
      await sleep(2000); // twice the confirm timeout
      if ((await relay.readyz()).json?.role === 'stalled') {
        freezeAt = at;
        await sleep(Math.max(0, at + FREEZE_MS - Date.now()));
      }
      thaw();
    }
    for (const u of users) {
      try {
        await u.waitForCount(isMine, confirmed.length, 30000, 'the confirmed chats');
      } catch (e) {
        const m = {};
        for (const k of ['messages_in_total', 'messages_out_total', 'published_total', 'in_flight', 'confirm_stalled',
          'confirm_timeouts_total', 'republished_total', 'reconnects_total', 'redeliveries_total']) m[k] = await relay.metric(`chat_relay_${k}`).catch(() => NaN);
        throw new Error(`${e.message}\nrelay: ${JSON.stringify(m)}`);
      }
    }
    await sleep(1500); // late copies
    polling = false;
    await poll;

    const rel = roles.map((r) => `${freezeAt ? r.at - freezeAt : 0} ms: ${r.role}`).join(', ');
    console.log(`[confirm] /readyz after the freeze: ${rel}`);
        const stalled = roles.filter((r) => r.role === '503 stalled');
    assert.ok(stalled.length > 0, `/readyz said stalled during the freeze (${rel})`);
    assert.equal(roles.at(-1).role, '200 active', `/readyz active again after (${rel})`);
    assert.ok(await relay.metric('chat_relay_confirm_timeouts_total') >= 1, 'the timeout is counted');
    assert.ok(await relay.metric('chat_relay_republished_total') >= 1, 'the resend is counted');
    assert.equal(await relay.metric('chat_relay_confirm_stalled'), 0, 'no longer stalled');
    for (const u of users) {
      const seen = new Set();
      const shown = [];
      for (const e of u.events.filter(isMine)) {
        const keys = [`id ${e.id}`, `cid ${e.cid}`];
        const dup = keys.some((k) => seen.has(k));
        keys.forEach((k) => seen.add(k));
        if (!dup) shown.push(e);
      }
      assert.deepEqual(shown.map((e) => e.cid).sort(), [...confirmed].sort(), `${u.name}: every confirmed chat once`);
      for (let k = 1; k < shown.length; k++) {
        assert.ok(shown[k].id > shown[k - 1].id, `${u.name}: id ${shown[k].id} after ${shown[k - 1].id}`);
      }
    }
  });
});
