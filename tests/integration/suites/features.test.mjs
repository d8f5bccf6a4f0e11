// Suite 4: the protocol's extensions: rooms, direct messages, history, resume, duplicate-login policies,
// rate limit, max message size, keep-alive, cid dedup.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, dupes } from '../lib/harness.mjs';
import { rid } from '../lib/client.mjs';
import { sleep } from '../lib/relay.mjs';
import { queueInfo } from '../lib/broker.mjs';

const ctx = useSuite('feat');

/** Poll a passive declare until the queue no longer exists; true when it is gone within `timeout`. */
async function queueGone(queue, timeout) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const st = await ctx.broker.checkQueue(queue);
    if (!st.exists && st.code === 404) return true;
    await sleep(100);
  }
  return false;
}
const K = 5;

describe('rooms, direct messages, history, resume, cid, size (history-size=5)', () => {
  let relay, a, b, c;
  before(async () => {
    relay = await ctx.start('feat', { 'history-size': K, 'max-message-size': 256 });
    a = ctx.client(relay, `a_${rid(2)}`);
    b = ctx.client(relay, `b_${rid(2)}`);
    c = ctx.client(relay, `c_${rid(2)}`);
  });

  test('welcome lists presence per room', ctx.it(async () => {
    const wa = await a.login(a.name, { rooms: ['main', 'dev'] });
    assert.deepEqual([...wa.rooms].sort(), ['dev', 'main']);
    const wb = await b.login(b.name, { rooms: ['main'] });
    assert.deepEqual(wb.rooms, ['main']);
    const wc = await c.login(c.name, { room: 'dev' }); // singular form
    assert.deepEqual(wc.rooms, ['dev']);
    assert.deepEqual([...wc.users.dev].sort(), [a.name, c.name].sort(), 'dev presence');
    assert.ok(!wc.users.main || !wc.users.main.includes(c.name), 'c is not in main');
    assert.deepEqual([...wb.users.main].sort(), [a.name, b.name].sort(), 'main presence');
    await a.waitFor((e) => e.type === 'join' && e.login === c.name && e.room === 'dev', 3000);
    await sleep(300);
    assert.equal(b.events.filter((e) => e.type === 'join' && e.login === c.name).length, 0, 'b (main only) does not see a join in dev');
  }));

  test('a user in main+dev sees dev messages; a user only in main does not', ctx.it(async () => {
    const t1 = `dev-${rid(3)}`;
    await c.send(t1, { room: 'dev' });
    const m = await a.waitFor((e) => e.type === 'message' && e.message === t1, 4000);
    assert.equal(m.room, 'dev');
    await c.waitFor((e) => e.message === t1, 4000);
    const t2 = `main-${rid(3)}`;
    await a.send(t2, { room: 'main' });
    await b.waitFor((e) => e.message === t2, 4000);
    assert.equal(b.events.filter((e) => e.message === t1).length, 0, 'main-only user got no dev message');
    assert.equal(c.events.filter((e) => e.message === t2).length, 0, 'dev-only user got no main message');
    // seed form (no room) goes to the sender's first room
    const t3 = `first-${rid(3)}`;
    await c.send(t3);
    const m3 = await a.waitFor((e) => e.message === t3, 4000);
    assert.equal(m3.room, 'dev');
  }));

  test('direct message reaches the recipient and the sender echo only', ctx.it(async () => {
    const t = `dm-${rid(3)}`;
    await a.send(t, { to: b.name, cid: `dm${rid(2)}` });
    const got = await b.waitFor((e) => e.message === t, 4000);
    assert.equal(got.type, 'direct');
    assert.equal(got.sender, a.name);
    assert.equal(got.to, b.name);
    assert.equal(got.v, 1);
    assert.ok(Number.isInteger(got.ts));
    const echo = await a.waitFor((e) => e.message === t, 4000);
    assert.equal(echo.type, 'direct');
    const probe = `probe-${rid(3)}`;
    await a.send(probe, { room: 'dev' });
    await c.waitFor((e) => e.message === probe, 4000);
    assert.equal(c.events.filter((e) => e.message === t).length, 0, 'third user does not see the DM');
    assert.equal(b.events.filter((e) => e.message === t).length, 1);
    assert.equal(a.events.filter((e) => e.message === t).length, 1);
  }));

  test('direct message to an offline user gets unknown_recipient', ctx.it(async () => {
    const from = a.events.length;
    await a.send(`dm-nobody-${rid(2)}`, { to: `nobody_${rid(2)}` });
    const err = await a.waitError('unknown_recipient', 4000, from);
    assert.equal(err.v, 1);
  }));

  test('a message over max-message-size gets too_large (not delivered); one at the limit is delivered', ctx.it(async () => {
    const ok = 'k'.repeat(256);
    const big = 'B'.repeat(257);
    const from = a.events.length;
    await a.send(big, { room: 'main', cid: 'big1' });
    const err = await a.waitError('too_large', 4000, from);
    assert.equal(err.cid, 'big1', 'error carries the cid');
    await a.send(ok, { room: 'main' });
    await b.waitFor((e) => e.message === ok, 4000);
    assert.equal(b.events.filter((e) => e.message === big).length, 0);
  }));

  test('the same (sender, cid) sent twice is stamped once: any repeat carries the same id and cid', ctx.it(async () => {
    const cid = `dup-${rid(3)}`;
    const t = `cid-${rid(3)}`;
    await a.send(t, { room: 'main', cid });
    await a.send(t, { room: 'main', cid });
    const t2 = `after-${rid(3)}`;
    await a.send(t2, { room: 'main', cid: `${cid}-2` });
    await b.waitFor((e) => e.message === t2, 4000);
    await sleep(200);
    const got = b.events.filter((e) => e.message === t);
    assert.ok(got.length >= 1, 'delivered');
    // A repeat is the same message again (a client drops it by id or cid),
    // never a second one with a new id.
    assert.deepEqual([...new Set(got.map((e) => e.id))], [got[0].id], `one id (got ${got.map((e) => e.id)})`);
    assert.equal(got[0].cid, cid);
    // same cid from another sender is a different message
    await b.send(`${t}-b`, { room: 'main', cid });
    await a.waitFor((e) => e.message === `${t}-b`, 4000);
  }));

  test('welcome history carries the last history-size messages of each room (bound respected)', ctx.it(async () => {
    const room = 'hist';
    const h = ctx.client(relay, `h_${rid(2)}`);
    await h.login(h.name, { rooms: [room] });
    const sent = [];
    for (let i = 0; i < K + 3; i++) {
      const t = `hist-${i}-${rid(2)}`;
      sent.push(t);
      await h.send(t, { room });
    }
    await h.waitFor((e) => e.message === sent.at(-1), 4000);
    const late = ctx.client(relay, `late_${rid(2)}`);
    const w = await late.login(late.name, { rooms: [room] });
    assert.ok(w.history && Array.isArray(w.history[room]), `history.${room} is a list: ${JSON.stringify(w.history)}`);
    const hist = w.history[room];
    assert.equal(hist.length, K, `history holds K=${K}`);
    assert.deepEqual(hist.map((m) => m.message), sent.slice(-K), 'the last K, oldest first');
    for (const m of hist) {
      assert.equal(m.type, 'message');
      assert.equal(m.room, room);
      assert.equal(m.sender, h.name);
    }
    await late.close();
  }));

  test('resume: since replays the messages missed while away (resumed=true)', ctx.it(async () => {
    const room = 'res';
    const r = ctx.client(relay, `r_${rid(2)}`);
    const s = ctx.client(relay, `s_${rid(2)}`);
    await r.login(r.name, { rooms: [room] });
    await s.login(s.name, { rooms: [room] });
    const t0 = `res-seen-${rid(2)}`;
    await s.send(t0, { room });
    const seen = await r.waitFor((e) => e.message === t0, 4000);
    await r.logout();
    await s.waitFor((e) => e.type === 'leave' && e.login === r.name, 4000);
    await r.close();
    const missed = [];
    for (let i = 0; i < 3; i++) { const t = `res-missed-${i}-${rid(2)}`; missed.push(t); await s.send(t, { room }); }
    await s.waitFor((e) => e.message === missed.at(-1), 4000);
    const w = await r.login(r.name, { rooms: [room], since: { [room]: seen.id } });
    assert.equal(w.resumed, true, 'resumed');
    await sleep(400);
    const inHistory = (w.history?.[room] ?? []).filter((m) => m.id > seen.id);
    const replayed = r.events.filter((e) => e.type === 'message' && e.room === room && e.id > seen.id);
    const ids = new Set([...inHistory, ...replayed].map((m) => m.message));
    assert.deepEqual([...ids].sort(), [...missed].sort(), 'exactly the missed messages are replayed');
    assert.deepEqual(dupes(replayed.map((m) => m.id)), [], 'no duplicate replay events');
    assert.equal([...inHistory, ...replayed].some((m) => m.message === t0), false, 'nothing already seen is replayed');
  }));

  test('resume: a gap older than the history gives resumed=false', ctx.it(async () => {
    const room = 'gap';
    const r = ctx.client(relay, `g_${rid(2)}`);
    const s = ctx.client(relay, `gs_${rid(2)}`);
    await r.login(r.name, { rooms: [room] });
    await s.login(s.name, { rooms: [room] });
    const t0 = `gap-seen-${rid(2)}`;
    await s.send(t0, { room });
    const seen = await r.waitFor((e) => e.message === t0, 4000);
    await r.logout();
    await s.waitFor((e) => e.type === 'leave' && e.login === r.name, 4000);
    await r.close();
    let last;
    for (let i = 0; i < K + 3; i++) { last = `gap-${i}-${rid(2)}`; await s.send(last, { room }); }
    await s.waitFor((e) => e.message === last, 4000);
    const w = await r.login(r.name, { rooms: [room], since: { [room]: seen.id } });
    assert.equal(w.resumed, false, 'resumed=false when history no longer holds id+1');
  }));

  test('duplicate login (policy replace): the new session takes over, the old token stops working', ctx.it(async () => {
    const name = `dup_${rid(2)}`;
    const s1 = ctx.client(relay, name);
    const s2 = ctx.client(relay, name);
    await s1.login(name, { rooms: ['main'] });
    const oldToken = s1.token;
    const oldQ = s1.queue;
    const w2 = await s2.login(name, { rooms: ['main'] });
    assert.notEqual(w2.token, oldToken, 'new token');
    const t = `repl-${rid(3)}`;
    await b.send(t, { room: 'main' });
    await s2.waitFor((e) => e.message === t, 4000);
    await sleep(300);
    assert.equal(s1.events.filter((e) => e.message === t).length, 0, 'old session no longer receives');
    // old token rejected
    const from = s2.events.length;
    await s1.send(`old-${t}`, { room: 'main', token: oldToken });
    await sleep(500);
    assert.equal(b.events.filter((e) => e.message === `old-${t}`).length, 0, 'old token chat not delivered');
    assert.ok(s2.events.slice(from).some((e) => e.type === 'error' && e.code === 'bad_token'), 'the old token gets bad_token (in the online session\'s queue)');
    // the old session is told why, then its queue is deleted
    const told = s1.errors('duplicate_login');
    assert.equal(told.length, 1, `the old session got duplicate_login once (got: ${JSON.stringify(s1.events.slice(-3))})`);
    assert.ok(await queueGone(oldQ, 5000), `the old session's queue ${oldQ} is deleted`);
    assert.equal(s1.events.filter((e) => e.type === 'message' && e.message === t).length, 0, 'nothing after the replace reaches the old queue');
    assert.equal(b.events.filter((e) => e.type === 'leave' && e.login === name && e.reason !== 'replaced').length, 0, 'no logout/timeout leave for a replace');
  }));
});

describe('duplicate login policy reject', () => {
  let relay;
  before(async () => { relay = await ctx.start('feat-reject', { 'duplicate-login': 'reject' }); });

  test('a second login of an online name gets duplicate_login and the first session keeps working', ctx.it(async () => {
    const name = `rej_${rid(2)}`;
    const s1 = ctx.client(relay, name);
    const s2 = ctx.client(relay, name);
    const o = ctx.client(relay, `obs_${rid(2)}`);
    await o.login(o.name);
    await s1.login(name);
    await s2.login(name, { predeclare: true, wait: false });
    // the error goes to the requester's queue (or, read literally, to the online login's queue)
    const err = await Promise.any([s2.waitError('duplicate_login', 5000), s1.waitError('duplicate_login', 5000)])
      .catch(() => { throw new Error('no duplicate_login error in either queue'); });
    assert.equal(err.v, 1);
    await sleep(300);
    assert.equal(s2.events.filter((e) => e.type === 'welcome').length, 0, 'no welcome for the rejected session');
    const t = `s1-${rid(3)}`;
    await s1.send(t);
    await o.waitFor((e) => e.message === t, 4000);
    await s1.waitFor((e) => e.message === t, 4000);
    assert.equal(s2.events.filter((e) => e.message === t).length, 0);
    assert.equal(o.events.filter((e) => e.type === 'leave' && e.login === name).length, 0, 'no leave for the first session');
  }));
});

describe('duplicate login policy allow (tabs)', () => {
  let relay;
  before(async () => { relay = await ctx.start('feat-allow', { 'duplicate-login': 'allow' }); });

  test('two sessions of one login: both welcomed, both get room and direct messages, one presence, logout of one keeps the other', ctx.it(async () => {
    const name = `tab_${rid(2)}`;
    const s1 = ctx.client(relay, name);
    const s2 = ctx.client(relay, name);
    const o = ctx.client(relay, `obs_${rid(2)}`);
    await o.login(o.name);
    const w1 = await s1.login(name);
    const w2 = await s2.login(name);
    assert.notEqual(s1.queue, s2.queue);
    assert.notEqual(w1.token, w2.token, 'each session has its own token');
    assert.equal(w2.users.main.filter((u) => u === name).length, 1, 'one presence in the second welcome');
    await sleep(300);
    assert.equal(o.events.filter((e) => e.type === 'join' && e.login === name).length, 1, 'one join for two sessions');
    assert.equal(s1.errors().length + s2.errors().length, 0, 'no error to either session');
    // room messages from someone else reach both sessions once
    const t = `tabs-${rid(3)}`;
    await o.send(t);
    for (const s of [s1, s2]) {
      await s.waitFor((e) => e.message === t, 4000, { what: `room message at ${s.queue}` });
    }
    // each session chats with its own token
    await s1.send(`${t}-from1`);
    await s2.send(`${t}-from2`);
    await o.waitFor((e) => e.message === `${t}-from1`, 4000);
    await o.waitFor((e) => e.message === `${t}-from2`, 4000);
    // a direct message reaches every session
    await o.send(`${t}-dm`, { to: name });
    for (const s of [s1, s2]) await s.waitFor((e) => e.type === 'direct' && e.message === `${t}-dm`, 4000, { what: 'direct' });
    await sleep(300);
    for (const s of [s1, s2]) {
      for (const x of [t, `${t}-from1`, `${t}-from2`, `${t}-dm`]) assert.equal(s.events.filter((e) => e.message === x).length, 1, `${s.queue}: ${x} once`);
    }
    // logout of one session: its queue goes, the other stays online and keeps receiving
    const q1 = s1.queue;
    await s1.logout();
    assert.ok(await queueGone(q1, 5000), 'the logged-out session\'s queue is deleted');
    const t2 = `after-${t}`;
    await o.send(t2);
    await s2.waitFor((e) => e.message === t2, 4000, { what: 'message after the other tab logged out' });
    await s2.send(`${t2}-from2`);
    await o.waitFor((e) => e.message === `${t2}-from2`, 4000);
    assert.equal(o.events.filter((e) => e.type === 'leave' && e.login === name).length, 0, 'no leave while one session is online');
    // the last session's logout ends the presence
    await s2.logout();
    await o.waitFor((e) => e.type === 'leave' && e.login === name, 4000, { what: 'leave after the last session' });
  }));
});

describe('rate limit (rate-limit=2/s, burst=5)', () => {
  let relay;
  before(async () => { relay = await ctx.start('feat-rate', { 'rate-limit': 2, 'rate-burst': 5 }); });

  test('a burst over the limit gets rate_limited errors, not silent drops', ctx.it(async () => {
    const s = ctx.client(relay, `fast_${rid(2)}`);
    const o = ctx.client(relay, `obs_${rid(2)}`);
    await s.login(s.name);
    await o.login(o.name);
    const tag = rid(3);
    const n = 20;
    for (let i = 0; i < n; i++) s.send(`rl-${tag}-${i}`, { cid: `rl${tag}${i}`, noWait: true });
    await ctx.broker.flush();
    const accounted = () => {
      const delivered = o.events.filter((e) => e.type === 'message' && e.message?.startsWith(`rl-${tag}-`)).length;
      const limited = s.errors('rate_limited').length;
      return { delivered, limited };
    };
    const deadline = Date.now() + 6000;
    while (Date.now() < deadline) {
      const { delivered, limited } = accounted();
      if (delivered + limited >= n) break;
      await sleep(100);
    }
    const { delivered, limited } = accounted();
    assert.ok(limited >= 10, `rate_limited errors: ${limited}`);
    assert.ok(delivered >= 5 && delivered <= 8, `delivered about burst: ${delivered}`);
    assert.equal(delivered + limited, n, `every message either delivered or answered rate_limited (${delivered}+${limited})`);
    const errs = s.errors('rate_limited');
    assert.ok(errs.every((e) => typeof e.cid === 'string' && e.cid.startsWith(`rl${tag}`)), 'rate_limited errors carry the cid');
    // after waiting, the user can send again
    await sleep(1100);
    const t = `again-${tag}`;
    await s.send(t);
    await o.waitFor((e) => e.message === t, 4000);
    const counted = await relay.errorsByCode('rate_limited');
    assert.ok(counted >= limited, `chat_relay_errors_total{code="rate_limited"} = ${counted}, expected >= ${limited} (errors sent)`);
  }));
});

describe('keep-alive (keepalive-timeout=1s)', () => {
  let relay;
  before(async () => { relay = await ctx.start('feat-ka', { 'keepalive-timeout': '1s' }); });

  test('a silent user is logged out (leave reason timeout); a pinging user stays', ctx.it(async () => {
    const silent = ctx.client(relay, `silent_${rid(2)}`);
    const pinger = ctx.client(relay, `pinger_${rid(2)}`);
    const obs = ctx.client(relay, `obs_${rid(2)}`);
    await obs.login(obs.name);
    let stop = false;
    const pingLoop = async (c) => { while (!stop) { await c.ping().catch(() => {}); await sleep(250); } };
    const loops = [pingLoop(obs)];
    await pinger.login(pinger.name);
    loops.push(pingLoop(pinger));
    await silent.login(silent.name);
    const silentQ = silent.queue;
    try {
      const leave = await obs.waitFor((e) => e.type === 'leave' && e.login === silent.name, 5000, { what: 'timeout leave' });
      assert.equal(leave.reason, 'timeout');
      // expiry is a logout: the user's queue is deleted (passive declare: NOT_FOUND), not left to x-expires
      assert.ok(await queueGone(silentQ, 5000), `the timed-out user's queue ${silentQ} is deleted`);
      assert.equal(await queueInfo(silentQ), null, 'management API: no such queue');
      await sleep(1500);
      assert.equal(obs.events.filter((e) => e.type === 'leave' && e.login === pinger.name).length, 0, 'pinging user not logged out');
      const t = `alive-${rid(3)}`;
      await pinger.send(t);
      await obs.waitFor((e) => e.message === t, 4000);
      // the silent user's token no longer works
      await silent.send(`late-${t}`);
      await sleep(400);
      assert.equal(obs.events.filter((e) => e.message === `late-${t}`).length, 0, 'timed-out user cannot chat');
      // chat counts as activity: a user that only chats stays
      const chatter = ctx.client(relay, `chatter_${rid(2)}`);
      await chatter.login(chatter.name);
      for (let i = 0; i < 8; i++) { await chatter.send(`chat-${i}-${t}`); await sleep(250); }
      assert.equal(obs.events.filter((e) => e.type === 'leave' && e.login === chatter.name).length, 0, 'chatting user stays');
    } finally {
      stop = true;
      await Promise.all(loops);
    }
  }));
});
