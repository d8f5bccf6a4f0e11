// Suite 1: the seed's protocol keeps working (docs/protocol.md, DESIGN 2.1/2.2).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, dupes } from '../lib/harness.mjs';
import { rid, keys } from '../lib/client.mjs';
import { sleep } from '../lib/relay.mjs';

const ctx = useSuite('seed');
const N = 5;

describe('seed protocol (require-token=true)', () => {
  let relay;
  const users = [];
  const names = Array.from({ length: N }, (_, i) => `seed${i}_${rid(2)}`);

  before(async () => {
    relay = await ctx.start('seed', { 'require-token': true, 'history-size': 100 });
  });

  test('seed-form logins each get a welcome with a token and the users of main', ctx.it(async () => {
    for (let i = 0; i < N; i++) {
      const c = ctx.client(relay, names[i]);
      const w = await c.login(names[i], { seed: true });
      users.push(c);
      assert.equal(w.v, 1, 'welcome carries v:1');
      assert.equal(w.type, 'welcome');
      assert.equal(w.login, names[i]);
      assert.equal(typeof w.token, 'string');
      assert.ok(w.token.length >= 8, `token looks like a secret: ${w.token}`);
      assert.deepEqual(w.rooms, ['main'], 'seed login joins main');
      assert.ok(w.users && typeof w.users === 'object' && !Array.isArray(w.users), `users is {room:[...]}: ${JSON.stringify(w.users)}`);
      assert.deepEqual([...w.users.main].sort(), names.slice(0, i + 1).sort(), 'welcome lists everyone online in main (self included)');
      assert.equal(w._props.appId, 'chat-relay', 'app_id');
      assert.equal(w._props.userId, relay.options['amqp-user'], 'user_id = relay broker user');
    }
    const tokens = users.map((u) => u.token);
    assert.equal(new Set(tokens).size, N, 'tokens differ per session');
  }));

  test('earlier users receive a join event for each later login', ctx.it(async () => {
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) {
        const ev = await users[i].waitFor((e) => e.type === 'join' && e.login === names[j], 3000, { what: `join ${names[j]}` });
        assert.equal(ev.v, 1);
        assert.equal(ev.room, 'main');
      }
      const selfJoins = users[i].events.filter((e) => e.type === 'join' && e.login === names[i]);
      assert.ok(selfJoins.length <= 1);
    }
  }));

  test('chat from several senders reaches every user exactly once, same order everywhere, seed fields kept', ctx.it(async () => {
    const tag = rid(3);
    const sent = [];
    for (let k = 0; k < 10; k++) {
      for (const s of [0, 2, 4]) {
        const text = `m-${tag}-${s}-${k}`;
        sent.push(`${names[s]}:${text}`);
        await users[s].send(text, { seed: true, token: users[s].token }); // seed body + token
      }
    }
    const mine = (e) => e.type === 'message' && typeof e.message === 'string' && e.message.startsWith(`m-${tag}-`);
    const orders = [];
    for (const u of users) {
      await u.waitForCount(mine, sent.length, 8000, 'all chat messages');
      await sleep(200); // let duplicates show up if any
      const got = u.events.filter(mine);
      assert.deepEqual(dupes(keys(got)), [], `${u.name}: no duplicates`);
      assert.equal(got.length, sent.length, `${u.name}: exactly ${sent.length} messages`);
      assert.deepEqual([...keys(got)].sort(), [...sent].sort(), `${u.name}: every message`);
      for (const m of got) {
        assert.equal(m.v, 1);
        assert.equal(m.room, 'main');
        assert.ok(Number.isInteger(m.id), `id integer: ${m.id}`);
        assert.ok(Number.isInteger(m.ts) && Math.abs(m.ts - Date.now()) < 60000, `ts ms since epoch: ${m.ts}`);
        assert.ok(!('token' in m), 'the sender token is not leaked to other users');
        assert.equal(m._props.userId, relay.options['amqp-user']);
      }
      for (let i = 1; i < got.length; i++) assert.ok(got[i].id > got[i - 1].id, `${u.name}: ids increase (${got[i - 1].id} -> ${got[i].id})`);
      orders.push(got.map((m) => m.id));
    }
    for (let i = 1; i < orders.length; i++) assert.deepEqual(orders[i], orders[0], `user ${i} sees the order of user 0`);
    // one sender's messages keep its sending order
    const u0 = users[1].events.filter(mine).filter((m) => m.sender === names[0]).map((m) => m.message);
    assert.deepEqual(u0, sent.filter((s) => s.startsWith(names[0] + ':')).map((s) => s.slice(names[0].length + 1)));
  }));

  test('a token-less seed chat is rejected with bad_token when require-token=true', ctx.it(async () => {
    const from = users[0].events.length;
    const text = `nt-${rid(3)}`;
    await users[0].send(text, { seed: true, token: null });
    const err = await users[0].waitError('bad_token', 4000, from);
    assert.equal(err.v, 1);
    assert.equal(typeof err.reason, 'string');
    await users[1].send(`after-${text}`);
    await users[0].waitFor((e) => e.type === 'message' && e.message === `after-${text}`, 4000);
    assert.equal(users[0].events.filter((e) => e.message === text).length, 0, 'rejected chat not delivered');
    assert.equal(users[2].events.filter((e) => e.message === text).length, 0, 'rejected chat not delivered');
  }));

  test('a chat with a wrong token is rejected with bad_token', ctx.it(async () => {
    const before = users[0].errors('bad_token').length;
    const text = `wt-${rid(3)}`;
    await users[0].send(text, { token: 'not-the-token' });
    await users[0].send(text + 'b', { token: users[1].token }); // another user's token does not work either
    await users[0].waitForCount((e) => e.type === 'error' && e.code === 'bad_token', before + 2, 4000, 'two bad_token errors');
    await users[1].send(`after-${text}`);
    await users[2].waitFor((e) => e.message === `after-${text}`, 4000);
    assert.equal(users[2].events.filter((e) => e.message === text || e.message === text + 'b').length, 0, 'rejected chats not delivered');
  }));

  test('logout without token is refused when require-token=true (user stays online)', ctx.it(async () => {
    const u = users[3];
    const refused0 = await relay.errorsByCode('bad_token');
    await u.logout({ seed: true, token: null });
    // refused and counted; the online user's queue is not told (it may be someone else's guess)
    const deadline = Date.now() + 4000;
    while ((await relay.errorsByCode('bad_token')) === refused0 && Date.now() < deadline) await sleep(50);
    assert.equal(await relay.errorsByCode('bad_token'), refused0 + 1, 'the token-less logout is counted as bad_token');
    const text = `still-${rid(3)}`;
    await users[0].send(text);
    await u.waitFor((e) => e.message === text, 4000, { what: 'still receiving after refused logout' });
    assert.equal(users[0].events.filter((e) => e.type === 'leave' && e.login === u.name).length, 0, 'no leave for a refused logout');
  }));

  test('logout removes the user: leave event to others, queue deleted (passive declare 404)', ctx.it(async () => {
    const u = users[4];
    const q = u.queue;
    await u.logout();
    const ev = await users[0].waitFor((e) => e.type === 'leave' && e.login === u.name, 4000, { what: 'leave' });
    assert.equal(ev.room, 'main');
    assert.equal(ev.reason, 'logout');
    await u.close();
    let st;
    for (let i = 0; i < 40; i++) {
      st = await ctx.broker.checkQueue(q);
      if (!st.exists) break;
      await sleep(100);
    }
    assert.equal(st.exists, false, `queue ${q} deleted after logout`);
    assert.equal(st.code, 404);
    // a chat from the logged-out user is not delivered
    const text = `ghost-${rid(3)}`;
    await users[0].send(text, { sender: u.name, token: u.token });
    await users[1].send(`after-${text}`);
    await users[0].waitFor((e) => e.message === `after-${text}`, 4000);
    assert.equal(users[0].events.filter((e) => e.message === text).length, 0);
  }));
});

describe('seed protocol (require-token=false)', () => {
  let relay;
  let a, b;
  before(async () => {
    relay = await ctx.start('seed-nt', { 'require-token': false });
    a = ctx.client(relay, `nta_${rid(2)}`);
    b = ctx.client(relay, `ntb_${rid(2)}`);
    await a.login(a.name, { seed: true });
    await b.login(b.name, { seed: true });
  });

  test('a token-less seed chat {sender,message} is delivered to everyone', ctx.it(async () => {
    const text = `seedchat-${rid(3)}`;
    await ctx.broker.publish(relay.options['chat-queue'], { sender: a.name, message: text });
    for (const u of [a, b]) {
      const m = await u.waitFor((e) => e.type === 'message' && e.message === text, 4000);
      assert.equal(m.sender, a.name);
      assert.equal(m.room, 'main');
      assert.equal(m.v, 1);
    }
  }));

  test('a chat that carries a wrong token is still rejected (bad_token)', ctx.it(async () => {
    const text = `wrongtok-${rid(3)}`;
    const from = a.events.length;
    await a.send(text, { seed: true, token: 'wrong-token' });
    await a.waitError('bad_token', 4000, from);
    await b.send(`after-${text}`, { seed: true, token: null });
    await a.waitFor((e) => e.message === `after-${text}`, 4000);
    assert.equal(b.events.filter((e) => e.message === text).length, 0);
  }));

  test('seed-form logout without token works and deletes the queue', ctx.it(async () => {
    const q = b.queue;
    await b.logout({ seed: true, token: null });
    await a.waitFor((e) => e.type === 'leave' && e.login === b.name, 4000);
    await b.close();
    let st;
    for (let i = 0; i < 40; i++) {
      st = await ctx.broker.checkQueue(q);
      if (!st.exists) break;
      await sleep(100);
    }
    assert.equal(st.code, 404);
  }));
});
