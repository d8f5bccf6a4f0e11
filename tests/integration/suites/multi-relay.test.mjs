// Suite 6: several relays on the same queues (DESIGN section 4, the seed's open problem).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite } from '../lib/harness.mjs';
import { rid } from '../lib/client.mjs';
import { sleep } from '../lib/relay.mjs';
import { checkExactlyOnce, msgKey, settle } from '../lib/invariants.mjs';
import { waitActive as waitActiveOf } from '../lib/failover.mjs';

const ctx = useSuite('multi');
const OPTS = { failover: '1s', 'history-size': 100 };

describe('three relays on the same queues', () => {
  const relays = [];
  const users = [];
  const log = [];

  async function connected(r) {
    try { return (await r.metric('chat_relay_connected')) >= 1; } catch { return false; }
  }

  const waitActive = (timeout) => waitActiveOf(relays, timeout);

  before(async () => {
    relays.push(await ctx.start('multi', { ...OPTS, id: 'it-multi-r1' }));
    relays.push(await ctx.start('multi', { ...OPTS, id: 'it-multi-r2' }, 'healthz'));
    relays.push(await ctx.start('multi', { ...OPTS, id: 'it-multi-r3' }, 'healthz'));
    for (const r of relays) {
      const deadline = Date.now() + 20000;
      while (!(await connected(r)) && Date.now() < deadline) await sleep(100);
    }
  });

  test('exactly one relay is active; the others are connected stand-bys', ctx.it(async (t) => {
    const { relay } = await waitActive();
    for (const r of relays) {
      assert.ok(await connected(r), `${r.id} connected`);
      const rz = await r.readyz();
      t.diagnostic(`${r.id}: /readyz ${rz.status} ${rz.text.slice(0, 120)} active=${r === relay}`);
    }
    await sleep(1500); // still exactly one a bit later (stand-bys retrying must not steal it)
    const again = await waitActive(2000);
    assert.equal(again.relay, relay, 'the active relay stays the same');
  }));

  test('logins handled while different relays are active: presence identical, every message once, one order', ctx.it(async (t) => {
    const phaseUsers = async (n) => {
      for (let i = 0; i < n; i++) {
        const c = ctx.client(relays[0], `m${users.length}_${rid(2)}`);
        const w = await c.login(c.name, { timeout: 10000 });
        users.push(c);
        const expected = users.map((u) => u.name).sort();
        assert.deepEqual([...w.users.main].sort(), expected, `welcome of ${c.name}: presence of everyone logged in so far`);
      }
    };
    // phase 1
    let { relay: act } = await waitActive();
    log.push(`phase1 active ${act.id}`);
    await phaseUsers(2);
    // phase 2: stop the active one, log in under the next active, bring the old one back as stand-by
    for (let phase = 2; phase <= 3; phase++) {
      // graceful stop (the 2 s bound is asserted in the restart suite; here a slow stop must not turn into a kill)
      const st = await act.stop({ grace: 8000 });
      log.push(`${act.id} SIGTERM -> exit in ${st.ms} ms`);
      const next = await waitActive(15000);
      log.push(`phase${phase}: ${act.id} stopped, ${next.relay.id} active after ${next.ms} ms`);
      assert.notEqual(next.relay, act);
      const old = act;
      act = next.relay;
      await phaseUsers(2);
      await old.restart({ wait: 'healthz' });
    }
    t.diagnostic(log.join('; '));
    // all 6 users see each other
    await sleep(300);
    const tag = rid(3);
    const sent = [];
    for (let k = 0; k < 5; k++) {
      for (const u of users) {
        const cid = `c${tag}${sent.length}`;
        sent.push(msgKey({ sender: u.name, cid }));
        await u.send(`mr-${tag}-${u.name}-${k}`, { cid });
      }
    }
    const mine = (e) => e.type === 'message' && typeof e.message === 'string' && e.message.startsWith(`mr-${tag}-`);
    await settle({ users, isOurs: mine, expected: sent, maxMs: 10000, quietMs: 500 });
    const { failures, lines } = checkExactlyOnce({ users, isOurs: mine, confirmed: sent });
    for (const l of lines) t.diagnostic(l);
    assert.deepEqual(failures, [], 'every message exactly once to every user, ids increasing, one stamp per message');
  }));

  test('kill -9 of the active relay during a stream of 1000 messages: every user gets all 1000 exactly once, ids increasing', ctx.it(async (t) => {
    assert.ok(users.length >= 2, 'users from the previous test');
    for (const r of relays) if (!r.running) await r.restart({ wait: 'healthz' });
    const { relay: victim } = await waitActive();
    const sender = users[0];
    const dmFrom = users[1];
    const tag = rid(3);
    const N = 1000;
    const KILL_AT = 400;
    let killedAt = 0;
    const cidOf = (i) => `k${tag}-${i}`;
    for (let i = 0; i < N; i++) {
      if (i === KILL_AT) {
        await victim.kill9();
        killedAt = Date.now();
      }
      await sender.send(`stream-${tag}-${i}`, { cid: cidOf(i) });
      if (i % 50 === 0) await dmFrom.send(`dm-${tag}-${i}`, { to: sender.name, cid: `d${tag}-${i}` }); // direct ids across the failover too
      if (i % 25 === 24) await sleep(20); // ~ 600-800 msgs/s overall, leave CPU to the relays
    }
    const sentDone = Date.now();
    const isStream = (e) => (e.type === 'message') && typeof e.cid === 'string' && e.cid.startsWith(`k${tag}-`);
    // every publish above waited for the broker's confirm: all N are confirmed
    const confirmed = Array.from({ length: N }, (_, i) => msgKey({ sender: sender.name, cid: cidOf(i) }));
    const st = await settle({ users, isOurs: isStream, expected: confirmed, maxMs: 40000, quietMs: 3000 });
    const { failures, lines, stats } = checkExactlyOnce({ users, isOurs: isStream, confirmed });
    // takeover: largest gap between consecutive arrivals after the kill
    const gaps = users.map((u) => {
      const times = u.events.filter(isStream).map((e) => e._at).filter((x) => x >= killedAt - 1000);
      let gap = 0;
      for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
      return gap;
    });
    const newActive = await waitActive(5000).catch(() => null);
    const line = `kill -9 ${victim.id} at message ${KILL_AT}; sending took ${sentDone - killedAt} ms after the kill; ` +
      `all arrived ${st.allArrivedMs} ms after, quiet ${st.settledMs} ms after; max delivery gap after kill ${Math.max(...gaps)} ms; ` +
      `new active: ${newActive?.relay.id ?? 'NONE'}; duplicates ${stats.duplicates}, re-stamped ${stats.restamped}, out of order ${stats.outOfOrder}, missing ${stats.missing}`;
    t.diagnostic(line);
    for (const r of lines) t.diagnostic(r);
    console.log(`[multi-relay] ${line}\n[multi-relay] ${lines.join('\n[multi-relay] ')}`);
    assert.deepEqual(failures, [], 'every user sees every confirmed message exactly once (by sender, cid), ids increasing, one id per message');
    assert.ok(newActive, 'a stand-by took over');
    // direct messages: the same promise (ids unique and increasing for each user across the failover)
    const isDm = (e) => e.type === 'direct' && typeof e.cid === 'string' && e.cid.startsWith(`d${tag}-`);
    const dms = Array.from({ length: N / 50 }, (_, k) => msgKey({ sender: dmFrom.name, cid: `d${tag}-${k * 50}` }));
    const pair = [sender, dmFrom];
    await settle({ users: pair, isOurs: isDm, expected: dms, maxMs: 10000, quietMs: 500 });
    const dm = checkExactlyOnce({ users: pair, isOurs: isDm, confirmed: dms });
    for (const r of dm.lines) t.diagnostic(`direct: ${r}`);
    console.log(`[multi-relay] direct: ${dm.lines.join('; ')}${dm.failures.length ? `; FAILURES: ${dm.failures.slice(0, 4).join('; ')}` : ''}`);
    assert.deepEqual(dm.failures, [], 'every direct message exactly once to sender and recipient, ids unique and increasing across the failover');
    // users handled by the killed relay are still online
    const text = `after-kill-${tag}`;
    await users.at(-1).send(text);
    for (const u of users) await u.waitFor((e) => e.message === text, 8000);
  }));

  test('a relay that has just started never takes over from a caught-up stand-by: sessions survive (F6)', ctx.it(async (t) => {
    // The window of F6: a fresh relay connects just before the active one dies. Before the fix it
    // competed at once and won about half the takeovers with an empty replica, whose snapshot then
    // wiped the stand-bys' sessions. Two rounds, so a regression shows in ~3 of 4 runs.
    for (let round = 0; round < 2; round++) {
      const { relay: act } = await waitActive();
      for (const r of relays) if (!r.running) await r.restart({ wait: 'healthz' });
      const [standby, fresh] = relays.filter((r) => r !== act);
      const u = ctx.client(act, `f6_${round}_${rid(2)}`);
      await u.login(u.name, { timeout: 10000 });
      await sleep(300); // the login's replication reaches the stand-by
      await fresh.stop({ grace: 8000 });
      await fresh.restart({ wait: 'healthz' });
      const deadline = Date.now() + 10000;
      while (!(await connected(fresh)) && Date.now() < deadline) await sleep(20);
      await act.kill9();
      const next = await waitActive(15000);
      t.diagnostic(`round ${round}: ${act.id} killed right after ${fresh.id} connected; ${next.relay.id} active after ${next.ms} ms`);
      assert.notEqual(next.relay, fresh, `the caught-up stand-by ${standby.id} took over, not the fresh ${fresh.id}`);
      const text = `f6-${round}-${rid(3)}`;
      await u.send(text);
      await u.waitFor((e) => e.type === 'message' && e.message === text, 10000, { what: 'own message after the takeover: still logged in' });
      await act.restart({ wait: 'healthz' });
    }
  }));
});
