// Suite 3: bad input (docs/protocol.md "Error codes", DESIGN section 8).
// Every bad message gets its error code in the sender's queue where the sender is known, is counted
// in /metrics (chat_relay_errors_total{code}), and the relay keeps serving.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite } from '../lib/harness.mjs';
import { rid, userQueue } from '../lib/client.mjs';
import { sleep } from '../lib/relay.mjs';

const ctx = useSuite('bad', { extraQueues: ['login', 'chat'] }); // a relay that accepts them as user queues creates them
// `login`/`chat` exist when another relay (someone else's run) uses the seed names: then do not touch them
const MAX = 4096;

describe('bad input', () => {
  let relay, alice, bob, carol, chatQ, loginQ;

  /** the relay still serves: a good chat from bob reaches alice; /healthz 200 */
  async function stillServing(tag = rid(3)) {
    const text = `probe-${tag}`;
    await bob.send(text);
    await alice.waitFor((e) => e.type === 'message' && e.message === text, 5000, { what: 'probe after bad input' });
    const h = await relay.healthz();
    assert.equal(h.status, 200, '/healthz still 200');
  }

  async function counted(codes, fn, n = 1) {
    codes = [].concat(codes);
    const sum = async () => { let s = 0; for (const c of codes) s += await relay.errorsByCode(c); return s; };
    const before = await sum();
    await fn();
    const deadline = Date.now() + 5000;
    let now = before;
    while (Date.now() < deadline) {
      now = await sum();
      if (now >= before + n) break;
      await sleep(100);
    }
    assert.ok(now >= before + n, `chat_relay_errors_total{code=~"${codes.join('|')}"} grew by >= ${n} (before ${before}, now ${now})`);
  }

  /** publish `body` (from client c's point of view) and expect error `code` in c's queue, also counted */
  async function errorTo(c, code, queue, body) {
    const from = c.events.length;
    await counted(code, async () => {
      await ctx.broker.publish(queue, body);
      const err = await c.waitError(code, 5000, from);
      assert.equal(err.v, 1);
      assert.equal(typeof err.reason, 'string', 'error has a reason');
      assert.equal(err._props.userId, relay.options['amqp-user']);
    });
  }

  before(async () => {
    relay = await ctx.start('bad', { 'max-message-size': MAX, 'require-token': true });
    chatQ = relay.options['chat-queue'];
    loginQ = relay.options['login-queue'];
    alice = ctx.client(relay, `alice_${rid(2)}`);
    bob = ctx.client(relay, `bob_${rid(2)}`);
    carol = ctx.client(relay, `carol_${rid(2)}`);
    await alice.login(alice.name, { rooms: ['main'] });
    await bob.login(bob.name, { rooms: ['main', 'dev'] });
    await carol.login(carol.name, { rooms: ['main'] });
  });

  test('body that is not JSON is counted as bad_json', ctx.it(async () => {
    await counted('bad_json', () => ctx.broker.publish(chatQ, 'hello {not json'));
    await counted('bad_json', () => ctx.broker.publish(loginQ, '{"action":"login",'));
    await stillServing();
  }));

  test('body with non-UTF-8 bytes is counted as bad_utf8', ctx.it(async () => {
    const bytes = Buffer.concat([Buffer.from(`{"v":1,"sender":"${alice.name}","token":"${alice.token}","message":"`), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]);
    await counted('bad_utf8', () => ctx.broker.publish(chatQ, bytes));
    await stillServing();
  }));

  test('JSON that is not an object (array, number, string, null) is rejected and counted', ctx.it(async () => {
    await counted(['bad_json', 'bad_type'], async () => {
      for (const b of ['[1,2,3]', `[{"sender":"${alice.name}","message":"x"}]`, '42', '"str"', 'null']) await ctx.broker.publish(chatQ, b);
    }, 5);
    await counted(['bad_json', 'bad_type'], () => ctx.broker.publish(loginQ, '["login"]'));
    await stillServing();
  }));

  test('wrong field types get bad_type in the sender queue', ctx.it(async () => {
    const base = () => ({ v: 1, sender: alice.name, token: alice.token, message: 'x' });
    await errorTo(alice, 'bad_type', chatQ, { ...base(), message: 123 });
    await errorTo(alice, 'bad_type', chatQ, { ...base(), message: { text: 'x' } });
    await errorTo(alice, 'bad_type', chatQ, { ...base(), room: 7 });
    await errorTo(alice, 'bad_type', chatQ, { ...base(), cid: 99 });
    await errorTo(alice, 'bad_type', loginQ, { v: 1, action: 'login', login: alice.name, queue: alice.queue, rooms: 'main,dev', token: alice.token });
    await counted('bad_type', () => ctx.broker.publish(chatQ, { v: 1, sender: 12345, message: 'x' }));
    await stillServing();
  }));

  test('bad values get bad_value: cid longer than 64 chars, empty cid', ctx.it(async () => {
    await errorTo(alice, 'bad_value', chatQ, { v: 1, sender: alice.name, token: alice.token, message: 'x', cid: 'c'.repeat(65) });
    await errorTo(alice, 'bad_value', chatQ, { v: 1, sender: alice.name, token: alice.token, message: 'x', cid: '' });
    await stillServing();
  }));

  test('missing fields get missing_field', ctx.it(async () => {
    await errorTo(alice, 'missing_field', chatQ, { v: 1, sender: alice.name, token: alice.token });
    await counted('missing_field', () => ctx.broker.publish(chatQ, { v: 1, message: 'no sender' }));
    await counted('missing_field', () => ctx.broker.publish(loginQ, { v: 1, login: `x${rid(2)}`, queue: userQueue() }));
    await counted('missing_field', () => ctx.broker.publish(loginQ, { v: 1, action: 'login', login: `x${rid(2)}` }));
    await stillServing();
  }));

  test('unknown action gets unknown_action', ctx.it(async () => {
    await errorTo(alice, 'unknown_action', loginQ, { v: 1, action: 'dance', login: alice.name, token: alice.token });
    await stillServing();
  }));

  test('unsupported protocol version gets unsupported_version', ctx.it(async () => {
    await errorTo(alice, 'unsupported_version', chatQ, { v: 2, sender: alice.name, token: alice.token, message: 'v2' });
    await errorTo(alice, 'unsupported_version', loginQ, { v: 99, action: 'ping', login: alice.name, token: alice.token });
    await stillServing();
    assert.equal(bob.events.filter((e) => e.message === 'v2').length, 0, 'v2 chat not delivered');
  }));

  test('a message over max-message-size gets too_large and is not delivered', ctx.it(async () => {
    const text = 'L' + 'x'.repeat(MAX);
    await errorTo(alice, 'too_large', chatQ, { v: 1, sender: alice.name, token: alice.token, message: text });
    // a body far beyond size + 1 KiB envelope
    await counted('too_large', () => ctx.broker.publish(chatQ, { v: 1, sender: alice.name, token: alice.token, message: 'H' + 'y'.repeat(200 * 1024) }));
    await stillServing();
    assert.equal(bob.events.filter((e) => typeof e.message === 'string' && e.message.length > MAX).length, 0);
  }));

  test('a message of exactly max-message-size bytes (multi-byte UTF-8) is delivered', ctx.it(async () => {
    const text = 'é'.repeat(MAX / 2); // MAX bytes
    await alice.send(text);
    const m = await bob.waitFor((e) => e.type === 'message' && e.message === text, 5000, { what: 'max-size message' });
    assert.equal(Buffer.byteLength(m.message), MAX);
    const over = 'é'.repeat(MAX / 2) + 'z'; // MAX+1 bytes but only MAX/2+1 characters
    await errorTo(alice, 'too_large', chatQ, { v: 1, sender: alice.name, token: alice.token, message: over });
  }));

  test('chat from a user that is not logged in gets not_logged_in and is not delivered', ctx.it(async () => {
    const ghost = `ghost_${rid(2)}`;
    await counted('not_logged_in', () => ctx.broker.publish(chatQ, { v: 1, sender: ghost, message: 'boo', token: 'whatever' }));
    await stillServing();
    assert.equal(alice.events.filter((e) => e.sender === ghost).length, 0);
  }));

  test('chat to a room the sender is not in gets not_in_room; a bad room name gets bad_room', ctx.it(async () => {
    const text = `notin-${rid(3)}`;
    await errorTo(alice, 'not_in_room', chatQ, { v: 1, sender: alice.name, token: alice.token, message: text, room: 'dev' });
    await errorTo(alice, 'bad_room', chatQ, { v: 1, sender: alice.name, token: alice.token, message: text, room: 'no such/room!' });
    await stillServing();
    assert.equal(bob.events.filter((e) => e.message === text).length, 0, 'not delivered to dev members');
  }));

  test('hostile login names get bad_login in the queue they named', ctx.it(async () => {
    const hostile = ['', 'has space', 'x'.repeat(33), 'y'.repeat(1000), 'ünïcode', 'slash/name', '../etc', 'new\nline', 'semi;colon'];
    for (const name of hostile) {
      const c = ctx.client(relay, 'hostile');
      const q = userQueue();
      await c.predeclare(q);
      await c.consume(q);
      await errorTo(c, 'bad_login', loginQ, { v: 1, action: 'login', login: name, queue: q });
      assert.equal(c.events.filter((e) => e.type === 'welcome').length, 0, `no welcome for ${JSON.stringify(name.slice(0, 40))}`);
      await c.close();
    }
    await counted('bad_type', () => ctx.broker.publish(loginQ, { v: 1, action: 'login', login: 43, queue: userQueue() }));
    await stillServing();
    assert.equal(alice.events.filter((e) => e.type === 'join' && !String(e.login).match(/^[A-Za-z0-9_.-]{1,32}$/)).length, 0, 'no join for a bad login');
  }));

  test('hostile queue names get bad_queue and are never declared', ctx.it(async () => {
    const bad = ['amq.x', 'amq.gen-abc', 'chat.relay.events', `chat.relay.${rid(2)}`, loginQ, chatQ,
      'with space', 'q'.repeat(1000), 'q'.repeat(129), '.leading', '-leading', 'tab\tq', 'ünï', 'slash/q'];
    const declarable = ['with space', 'q'.repeat(129), '.leading', '-leading', 'ünï', 'slash/q', `chat.relay.${rid(2)}`];
    await counted('bad_queue', async () => {
      for (const q of bad) await ctx.broker.publish(loginQ, { v: 1, action: 'login', login: `q${rid(3)}`, queue: q });
    }, bad.length);
    await stillServing();
    await sleep(300);
    for (const q of declarable) {
      const st = await ctx.broker.checkQueue(q);
      assert.equal(st.exists, false, `queue ${JSON.stringify(q.slice(0, 40))} must not be declared`);
    }
    for (const q of [loginQ, chatQ]) {
      const st = await ctx.broker.checkQueue(q);
      assert.equal(st.consumerCount >= 1, true, `${q} still consumed`);
    }
    assert.equal(alice.events.filter((e) => e.type === 'join' && /^q[0-9a-f]{6}$/.test(e.login)).length, 0, 'no join for those logins');
  }));

  test('the seed queue names login and chat are refused as user queues (bad_queue), even when the relay uses other names', ctx.it(async () => {
    // Where another process already has them, the refusal (bad_queue) is the
    // proof; where they do not exist, they must not appear either.
    const existed = {};
    for (const q of ['login', 'chat']) existed[q] = (await ctx.broker.checkQueue(q)).exists;
    await counted('bad_queue', async () => {
      for (const q of ['login', 'chat']) await ctx.broker.publish(loginQ, { v: 1, action: 'login', login: `s${rid(3)}`, queue: q });
    }, 2);
    await stillServing();
    for (const q of ['login', 'chat']) {
      if (existed[q]) continue;
      const st = await ctx.broker.checkQueue(q);
      assert.equal(st.exists, false, `queue ${q} must not be declared as a user queue (x-expires would break seed STOMP clients)`);
    }
  }));

  test("login with another user's queue gets queue_taken (counted, the owner sees nothing)", ctx.it(async () => {
    const thief = `thief_${rid(2)}`;
    const fromA = alice.events.length;
    await counted('queue_taken', () => ctx.broker.publish(loginQ, { v: 1, action: 'login', login: thief, queue: alice.queue }));
    await stillServing();
    assert.equal(alice.events.slice(fromA).filter((e) => e.type === 'welcome').length, 0, 'no welcome for the thief in the owner queue');
    assert.equal(carol.events.filter((e) => e.type === 'join' && e.login === thief).length, 0, 'thief not online');
    // the owner still works with its own token
    const text = `owner-${rid(3)}`;
    await alice.send(text);
    await bob.waitFor((e) => e.message === text, 4000);
  }));

  test('too many rooms or a bad room name on login is rejected (bad_room / bad_value)', ctx.it(async () => {
    const c = ctx.client(relay, `rooms_${rid(2)}`);
    const q = userQueue();
    await c.predeclare(q);
    await c.consume(q);
    const from = c.events.length;
    await ctx.broker.publish(loginQ, { v: 1, action: 'login', login: c.name, queue: q, rooms: Array.from({ length: 17 }, (_, i) => `r${i}`) });
    const e1 = await c.waitFor((e) => e.type === 'error', 5000, { from, what: 'error for 17 rooms' });
    assert.ok(['bad_value', 'bad_room'].includes(e1.code), `code ${e1.code}`);
    const from2 = c.events.length;
    await ctx.broker.publish(loginQ, { v: 1, action: 'login', login: c.name, queue: q, rooms: ['main', 'bad room'] });
    const e2 = await c.waitFor((e) => e.type === 'error', 5000, { from: from2, what: 'error for bad room' });
    assert.equal(e2.code, 'bad_room');
    assert.equal(c.events.filter((e) => e.type === 'welcome').length, 0);
    await c.close();
    await stillServing();
  }));

  test('a user queue pre-declared with other arguments does not break the relay', ctx.it(async () => {
    const q = userQueue();
    const r = await ctx.broker.onChannel((ch) => ch.assertQueue(q, { durable: false, autoDelete: false }));
    assert.ok(r.ok);
    await ctx.broker.publish(loginQ, { v: 1, action: 'login', login: `odd_${rid(2)}`, queue: q });
    await sleep(500);
    await stillServing();
    const text = `after-odd-${rid(3)}`;
    await carol.send(text);
    await alice.waitFor((e) => e.message === text, 4000);
  }));

  test('a burst of 2000 mixed bad bodies: every interleaved good message is delivered in order, relay healthy', ctx.it(async () => {
    const tag = rid(3);
    const bads = [
      () => 'garbage',
      () => Buffer.from([0x7b, 0xff, 0x7d]),
      () => '[]',
      () => ({ v: 1, sender: alice.name, token: alice.token }),
      () => ({ v: 1, sender: alice.name, token: alice.token, message: 5 }),
      () => ({ v: 3, sender: alice.name, token: alice.token, message: 'v3' }),
      () => ({ v: 1, sender: `nobody_${tag}`, message: 'x' }),
      () => ({ v: 1, sender: alice.name, token: 'bad', message: `badtok-${tag}` }),
      () => ({ v: 1, sender: alice.name, token: alice.token, message: `notin-${tag}`, room: 'dev' }),
      () => ({ v: 1, sender: alice.name, token: alice.token, message: 'x'.repeat(MAX + 10) }),
    ];
    const loginBads = [
      () => ({ v: 1, action: 'jump', login: alice.name, token: alice.token }),
      () => ({ v: 1, action: 'login', login: 'bad name', queue: userQueue() }),
      () => ({ v: 1, action: 'login', login: `x${tag}`, queue: 'amq.nope' }),
      () => 'not json',
    ];
    const good = [];
    const total = 2000;
    let n = 0;
    for (let i = 0; i < total; i++) {
      if (i % 20 === 10) {
        const text = `good-${tag}-${n++}`;
        good.push(text);
        ctx.broker.publishNoWait(chatQ, { v: 1, sender: alice.name, token: alice.token, message: text, cid: `g${tag}${n}` });
      } else if (i % 7 === 3) {
        ctx.broker.publishNoWait(loginQ, loginBads[i % loginBads.length]());
      } else {
        ctx.broker.publishNoWait(chatQ, bads[i % bads.length]());
      }
      if (i % 200 === 199) await ctx.broker.flush();
    }
    await ctx.broker.flush();
    const isGood = (e) => e.type === 'message' && typeof e.message === 'string' && e.message.startsWith(`good-${tag}-`);
    const got = await bob.waitForCount(isGood, good.length, 30000, 'good messages of the burst');
    await sleep(300);
    const all = bob.events.filter(isGood).map((e) => e.message);
    assert.deepEqual(all, good, 'every good message once, in order');
    const leaked = bob.events.filter((e) => e.type === 'message' && typeof e.message === 'string' && e.message.endsWith(tag) && !e.message.startsWith('good-'));
    assert.deepEqual(leaked, [], 'no bad message delivered');
    assert.equal(got.length >= good.length, true);
    await stillServing();
    const m = await relay.metrics();
    const codes = new Set(m.filter((s) => s.name === 'chat_relay_errors_total' && s.value > 0).map((s) => s.labels.code));
    for (const c of ['bad_json', 'bad_utf8', 'missing_field', 'bad_type', 'unsupported_version', 'not_logged_in', 'bad_token', 'not_in_room', 'too_large', 'unknown_action', 'bad_login', 'bad_queue']) {
      assert.ok(codes.has(c), `errors_total has code ${c} (has: ${[...codes].join(',')})`);
    }
  }));
});
