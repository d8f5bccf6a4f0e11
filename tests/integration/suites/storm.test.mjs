// Storm (issue 11): many clients doing random valid and invalid things (log in and out, change rooms
// on the same queue, ping, chat, direct messages, resume with since, bad bodies) while the two relays
// are killed with SIGKILL and restarted. Seeded: the seed is printed; STORM_SEED=<n> replays the same
// choices (timing differs). STORM_CLIENTS (default 36) and STORM_MS (storm phase, default 45000).
//
// During the storm (lib/invariants.mjs): ids increasing per room (and for direct messages) as each
// user receives them, the same id for every user, one message per id, nothing nobody sent.
// Afterwards, every invariant holds:
//  - every relay is alive, exactly one active;
//  - each online user's queue is bound to exactly its rooms (management API: bindings);
//  - a final message per room reaches exactly its members, once;
//  - no user queue is left after everyone logs out.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite } from '../lib/harness.mjs';
import { queueBindings, listNames } from '../lib/broker.mjs';
import { sleep } from '../lib/relay.mjs';
import { checkExactlyOnce, msgKey, settle } from '../lib/invariants.mjs';
import { waitActive } from '../lib/failover.mjs';

const SEED = Number(process.env.STORM_SEED || Math.floor(Math.random() * 2 ** 31));
const CLIENTS = Number(process.env.STORM_CLIENTS || 36);
const STORM_MS = Number(process.env.STORM_MS || 45000);
const ROOMS = ['main', 'ra', 'rb', 'rc'];
const OPTS = { failover: '1s', 'history-size': 200, 'keepalive-timeout': '600s', 'max-message-size': 512 };
const ctx = useSuite('storm');
const tag = `st${SEED.toString(36)}`;
const QPREFIX = `chat.user.it.storm.${tag}.`;

/** mulberry32: small, seedable, good enough to pick actions. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
    rooms() { // 1..3 distinct rooms, in a random order
      const n = 1 + Math.floor(next() * 3);
      const pool = [...ROOMS];
      const out = [];
      while (out.length < n) out.push(pool.splice(Math.floor(next() * pool.length), 1)[0]);
      return out;
    },
  };
}

describe(`storm: ${CLIENTS} clients, two relays killed and restarted (STORM_SEED=${SEED})`, { timeout: 240000 }, () => {
  const relays = [];
  const players = [];
  const sentKeys = new Set(); // (sender, cid) of every chat and direct message published
  const problems = []; // invariant failures found while storming (answers that never came)
  const faults = [];
  let stats = { logins: 0, relogins: 0, logouts: 0, pings: 0, chats: 0, directs: 0, bad: 0, resumes: 0 };

  before(async () => {
    console.log(`# storm seed ${SEED} (STORM_SEED=${SEED} reproduces the choices), ${CLIENTS} clients, ${STORM_MS} ms`);
    relays.push(await ctx.start('storm', { ...OPTS, id: 'it-storm-r1' }));
    relays.push(await ctx.start('storm', { ...OPTS, id: 'it-storm-r2' }, 'healthz'));
    for (let i = 0; i < CLIENTS; i++) {
      const c = ctx.client(relays[0], `s${i}_${tag}`);
      players.push({ c, i, rnd: prng(SEED + 7919 * (i + 1)), online: false, rooms: [], queue: null, gen: 0, seq: 0, lastId: {} });
    }
  }, { timeout: 60000 });

  // ---- one player's actions ----------------------------------------------------------------------

  const onlineNames = () => players.filter((p) => p.online).map((p) => p.c.name);

  function noteIds(p) {
    for (const e of p.c.events) if (e?.type === 'message' && typeof e.id === 'number') p.lastId[e.room] = Math.max(p.lastId[e.room] ?? 0, e.id);
  }

  async function login(p, { resume = false } = {}) {
    const rooms = p.rnd.rooms();
    // a fresh queue name after a logout: the old one may still be on its way to deletion
    if (!p.queue) p.queue = `${QPREFIX}${p.i}.${p.gen++}`;
    const opts = { queue: p.queue, rooms, timeout: 25000, consumeTimeout: 25000 };
    if (resume) {
      noteIds(p);
      const since = Object.fromEntries(rooms.filter((r) => p.lastId[r]).map((r) => [r, p.lastId[r]]));
      if (Object.keys(since).length) { opts.since = since; stats.resumes++; }
    }
    if (p.online) stats.relogins++; else stats.logins++;
    try {
      const w = await p.c.login(p.c.name, opts);
      if (JSON.stringify(w.rooms) !== JSON.stringify(rooms) && JSON.stringify([...w.rooms].sort()) !== JSON.stringify([...rooms].sort())) {
        problems.push(`${p.c.name}: welcome rooms ${JSON.stringify(w.rooms)} for a login with ${JSON.stringify(rooms)}`);
      }
      p.online = true;
      p.rooms = rooms;
    } catch (e) {
      problems.push(`${p.c.name}: login on ${p.queue} (rooms ${rooms}) never answered: ${e.message.slice(0, 200)}`);
      p.online = false; // unknown: logged out (new queue) before the next login
      await logout(p).catch(() => {});
    }
  }

  async function logout(p) {
    stats.logouts++;
    await p.c.logout();
    await p.c.close(); // the relay deletes the queue: the next login uses a new one
    p.online = false;
    p.queue = null;
    p.rooms = [];
  }

  async function chat(p) {
    const room = p.rnd.pick(p.rooms);
    const cid = `${tag}-${p.i}-${p.seq++}`;
    sentKeys.add(msgKey({ sender: p.c.name, cid }));
    stats.chats++;
    await p.c.send(`storm ${cid}`, { room, cid });
  }

  async function direct(p) {
    const to = p.rnd.pick(onlineNames());
    if (!to) return;
    const cid = `${tag}-${p.i}-${p.seq++}`;
    sentKeys.add(msgKey({ sender: p.c.name, cid }));
    stats.directs++;
    await p.c.send(`dm ${cid}`, { to, cid });
  }

  /** Something invalid, picked at random: each must be answered or counted, never crash anything. */
  async function bad(p) {
    stats.bad++;
    const c = p.c;
    const kind = p.rnd.int(8);
    if (kind === 0) await ctx.broker.publish(c.chatQueue, '{"sender":');
    else if (kind === 1) await ctx.broker.publish(c.loginQueue, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    else if (kind === 2) await c.send('wrong token', { token: 'x'.repeat(32), cid: `bad-${p.seq++}` });
    else if (kind === 3) await c.send('not my room', { room: ROOMS.find((r) => !p.rooms.includes(r)) ?? 'zz' });
    else if (kind === 4) await c.send('nobody', { to: `nobody_${tag}` });
    else if (kind === 5) await ctx.broker.publish(c.loginQueue, { v: 2, action: 'login', login: c.name, queue: p.queue });
    else if (kind === 6) await ctx.broker.publish(c.loginQueue, { v: 1, action: 'logout', login: c.name, token: 'nope' });
    else await c.send('x'.repeat(600), { room: p.rooms[0] });
  }

  async function play(p, until) {
    while (Date.now() < until) {
      const r = p.rnd.next();
      if (!p.online) {
        if (r < 0.8) await login(p, { resume: p.rnd.chance(0.5) });
        else await bad(p);
      } else if (r < 0.08) await logout(p);
      else if (r < 0.18) await login(p, { resume: p.rnd.chance(0.5) }); // change rooms on the same queue
      else if (r < 0.30) { stats.pings++; await p.c.ping(); }
      else if (r < 0.70) await chat(p);
      else if (r < 0.82) await direct(p);
      else await bad(p);
      await sleep(100 + p.rnd.int(400));
    }
  }

  /** Kill -9 a relay (mostly the active one) every few seconds and start it again. */
  async function chaos(until, rnd) {
    while (Date.now() < until) {
      await sleep(5000 + rnd.int(5000));
      if (Date.now() >= until) break;
      const act = [];
      for (const r of relays) if (r.running && (await r.isActive())) act.push(r);
      const victim = rnd.chance(0.75) && act.length ? act[0] : rnd.pick(relays.filter((r) => r.running));
      if (!victim) continue;
      const wasActive = act.includes(victim);
      await victim.kill9();
      const down = 500 + rnd.int(2500);
      faults.push(`${((Date.now() - t0) / 1000).toFixed(1)} s: kill -9 ${victim.id}${wasActive ? ' (active)' : ''}, down ${down} ms`);
      await sleep(down);
      await victim.restart({ wait: 'healthz' });
    }
  }
  let t0 = 0;

  test('the storm: random valid and invalid actions while relays are killed', { timeout: 180000 }, ctx.it(async (t) => {
    t0 = Date.now();
    const until = t0 + STORM_MS;
    await Promise.all([...players.map((p) => play(p, until)), chaos(until, prng(SEED))]);
    for (const r of relays) if (!r.running) await r.restart({ wait: 'healthz' });
    t.diagnostic(`seed ${SEED}; ${JSON.stringify(stats)}; faults: ${faults.join('; ')}`);
    console.log(`# storm seed ${SEED}: ${JSON.stringify(stats)}\n# faults: ${faults.join('; ')}`);
    assert.ok(faults.length >= 2, `at least two relay kills during the storm (${faults.length})`);
    assert.deepEqual(problems, [], 'every login answered with a welcome for the rooms asked');
  }));

  test('during the storm: ids increasing per room and for direct messages, one id per message', ctx.it(async (t) => {
    const isOurs = (e) => (e?.type === 'message' || e?.type === 'direct') && typeof e.cid === 'string' && e.cid.startsWith(`${tag}-`);
    await sleep(2000); // late copies
    const { failures, stats: s } = checkExactlyOnce({ users: players.map((p) => p.c), isOurs, confirmed: [], sent: [...sentKeys] });
    t.diagnostic(`storm deliveries ${s.deliveries}, duplicates dropped ${s.duplicates}, re-stamped ${s.restamped}, out of order ${s.outOfOrder}, conflicts ${s.conflicts}`);
    console.log(`# storm deliveries ${s.deliveries}, duplicates ${s.duplicates}, re-stamped ${s.restamped}, out of order ${s.outOfOrder}, id conflicts ${s.conflicts}`);
    const kinds = {};
    for (const f of failures) {
      const k = `${/@direct/.test(f) ? 'direct' : /room:/.test(f) ? 'room' : 'other'} ${/out of order/.test(f) ? 'out of order' : /stamped on two/.test(f) ? 'id reused' : /re-stamped/.test(f) ? 're-stamped' : 'other'}`;
      kinds[k] = (kinds[k] ?? 0) + 1;
    }
    console.log(`# storm violations by kind: ${JSON.stringify(kinds)}`);
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} violations ${JSON.stringify(kinds)} (first 20 shown)`);
  }));

  test('afterwards: every relay alive, exactly one active', ctx.it(async () => {
    await waitActive(relays, 20000);
    for (const r of relays) {
      assert.ok(r.running, `${r.id} running`);
      assert.equal((await r.healthz()).status, 200, `${r.id} /healthz`);
    }
  }));

  test('afterwards: each online user\'s queue is bound to exactly its rooms', ctx.it(async (t) => {
    // settle every player into a final state: online with random rooms (on its queue) or logged out
    const rnd = prng(SEED ^ 0x5eed);
    for (const p of players) {
      if (rnd.chance(0.7)) await login(p);
      else if (p.online) await logout(p);
      else if (p.queue) await logout(p); // maybe online after an unanswered login
    }
    assert.deepEqual(problems, [], 'every final login answered');
    await sleep(1000);
    const prefix = relays[0].options['room-exchange-prefix'];
    const wrong = [];
    for (const p of players.filter((x) => x.online)) {
      const b = await queueBindings(p.queue);
      const bound = (b ?? []).filter((x) => x.source.startsWith(prefix)).map((x) => x.source.slice(prefix.length)).sort();
      const want = [...p.rooms].sort();
      if (b === null || JSON.stringify(bound) !== JSON.stringify(want)) wrong.push(`${p.c.name} on ${p.queue}: rooms ${want}, bound to ${b === null ? 'NO QUEUE' : bound.join(',') || 'nothing'}`);
    }
    t.diagnostic(`${players.filter((x) => x.online).length} online; ${wrong.length} with wrong bindings`);
    assert.deepEqual(wrong, [], 'bindings = rooms');
  }));

  test('afterwards: a final message per room reaches exactly its members, once', ctx.it(async (t) => {
    const online = players.filter((p) => p.online);
    const finals = [];
    for (const room of ROOMS) {
      const from = online.find((p) => p.rooms.includes(room));
      if (!from) continue;
      const cid = `fin-${tag}-${room}`;
      finals.push({ room, key: msgKey({ sender: from.c.name, cid }) });
      await from.c.send(`final ${room}`, { room, cid });
    }
    const isFinal = (e) => e?.type === 'message' && typeof e.cid === 'string' && e.cid.startsWith(`fin-${tag}-`);
    const member = (u, key) => { const f = finals.find((x) => x.key === key); return online.find((p) => p.c === u).rooms.includes(f.room); };
    const users = online.map((p) => p.c);
    const expectedOf = (u) => finals.filter((f) => member(u, f.key)).map((f) => f.key);
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline && !users.every((u) => expectedOf(u).every((k) => u.events.some((e) => isFinal(e) && msgKey(e) === k)))) await sleep(100);
    await settle({ users, isOurs: isFinal, expected: [], maxMs: 0, quietMs: 2000 });
    const { failures } = checkExactlyOnce({ users, isOurs: isFinal, confirmed: finals.map((f) => f.key), recipients: member });
    const strays = [];
    for (const p of online) {
      const got = p.c.events.filter(isFinal);
      const copies = new Map();
      for (const e of got) copies.set(e.cid, (copies.get(e.cid) ?? 0) + 1);
      for (const [cid, n] of copies) {
        const room = cid.slice(`fin-${tag}-`.length);
        if (!p.rooms.includes(room)) strays.push(`${p.c.name} (rooms ${p.rooms}) got the final message of ${room}`);
        else if (n > 1) strays.push(`${p.c.name} got the final message of ${room} ${n} times`);
      }
    }
    t.diagnostic(`${finals.length} rooms, ${online.length} online users`);
    assert.deepEqual([...failures, ...strays], [], 'each member once, nobody else');
  }));

  test('afterwards: no user queue is left after everyone logs out', ctx.it(async (t) => {
    for (const p of players) if (p.online) await logout(p);
    const deadline = Date.now() + 10000;
    let left = [];
    while (Date.now() < deadline) {
      left = (await listNames('queues')).filter((n) => n.startsWith(QPREFIX));
      if (!left.length) break;
      await sleep(250);
    }
    t.diagnostic(`${left.length} user queues left`);
    assert.deepEqual(left, [], 'every user queue deleted');
    for (const r of relays) assert.ok(r.running, `${r.id} still running`);
  }));
});
