// Suite 2: a STOMP-over-WebSocket client like the seed's browser front end.
// The relay uses the seed's unprefixed queue names `login` and `chat` here.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';
import { useSuite } from '../lib/harness.mjs';
import { rid, userQueue } from '../lib/client.mjs';
import { WS_URL, queueInfo, peekQueue } from '../lib/broker.mjs';
import { sleep } from '../lib/relay.mjs';

const ctx = useSuite('stomp', { extraQueues: ['login', 'chat'] });
// The seed's queue names are global: if another relay (someone else's run) consumes them, do not
// interfere with it, and do not pass either: the suite FAILS (a skip would count as a pass).
const busy = [];
for (const q of ['login', 'chat']) if ((await peekQueue(q)).consumerCount > 0) busy.push(q);

class StompUser {
  constructor(name) {
    this.name = name;
    this.events = [];
    this.frames = [];
    this.errors = [];
    this.closes = [];
    this.client = null;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const tm = setTimeout(() => reject(new Error('STOMP connect timeout')), 8000);
      this.client = new Client({
        webSocketFactory: () => new WebSocket(WS_URL, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
        connectHeaders: { login: 'guest', passcode: 'guest' },
        reconnectDelay: 0,
        heartbeatIncoming: 10000,
        heartbeatOutgoing: 10000,
        debug: () => {},
      });
      this.client.onConnect = () => { clearTimeout(tm); resolve(); };
      this.client.onStompError = (f) => { this.errors.push(f); clearTimeout(tm); reject(new Error(`STOMP ERROR ${f.headers.message}: ${f.body}`)); };
      this.client.onWebSocketClose = (e) => { this.closes.push(e); };
      this.client.activate();
    });
  }

  /** SEND with a receipt; resolves when the broker acknowledges it, rejects on ERROR/close. */
  send(destination, body) {
    return new Promise((resolve, reject) => {
      const receipt = `r-${rid(4)}`;
      const nErr = this.errors.length;
      const tm = setTimeout(() => reject(new Error(`no receipt for SEND ${destination}; errors: ${this.errors.slice(nErr).map((f) => f.headers.message + ' ' + f.body).join('|')}`)), 5000);
      this.client.watchForReceipt(receipt, () => { clearTimeout(tm); resolve(); });
      this.client.publish({ destination, body: JSON.stringify(body), headers: { receipt, 'content-type': 'application/json' } });
    });
  }

  /** SUBSCRIBE /amq/queue/Q (never declares), once the relay has declared Q (checked over AMQP). */
  async subscribeQueue(queue, { timeout = 8000 } = {}) {
    const deadline = Date.now() + timeout;
    while (!(await ctx.broker.checkQueue(queue)).exists) {
      if (Date.now() > deadline) throw new Error(`queue ${queue} was never declared by the relay`);
      await sleep(50);
    }
    return this.client.subscribe(`/amq/queue/${queue}`, (msg) => {
      this.frames.push(msg);
      let body;
      try { body = JSON.parse(msg.body); } catch { body = { _unparsable: msg.body }; }
      Object.defineProperty(body, '_headers', { value: msg.headers, enumerable: false });
      this.events.push(body);
    });
  }

  async waitFor(pred, timeout = 5000, what = '') {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const e = this.events.find(pred);
      if (e) return e;
      await sleep(50);
    }
    throw new Error(`${this.name}: timeout waiting for ${what}; events ${JSON.stringify(this.events.slice(-5))}`);
  }

  async close() { try { await this.client?.deactivate(); } catch { /* */ } }
}

if (busy.length) {
  test('the seed queues login and chat are free for this suite', () => {
    assert.fail(`queue(s) ${busy.join(', ')} already consumed by another process on this broker: ` +
      'the STOMP suite cannot run (use a private broker, scripts/broker.sh)');
  });
}

describe('STOMP seed client', { skip: busy.length > 0 && 'see the failed test above' }, () => {
  let relay, amqpUser, stomp;
  before(async () => {
    relay = await ctx.start('stomp', {
      'login-queue': 'login',
      'chat-queue': 'chat',
      'require-token': false, // the seed's front end sends no token
    });
    amqpUser = ctx.client(relay, `amqp_${rid(2)}`);
    await amqpUser.login(amqpUser.name, { seed: true });
    stomp = new StompUser(`stomp_${rid(2)}`);
  });
  after(async () => { await stomp?.close(); });

  test('the relay declared login and chat durable without arguments (as STOMP declares them)', ctx.it(async () => {
    for (const q of ['login', 'chat']) {
      const info = await queueInfo(q);
      if (info) {
        assert.equal(info.durable, true, `${q} durable`);
        assert.deepEqual(info.arguments, {}, `${q} has no arguments`);
      }
      // re-declare exactly as a STOMP SEND does: durable, no arguments -> no PRECONDITION_FAILED
      const r = await ctx.broker.onChannel((ch) => ch.assertQueue(q, { durable: true, autoDelete: false, exclusive: false }));
      assert.equal(r.ok, true, `re-declare ${q}: ${r.message}`);
    }
  }));

  test('a STOMP client logs in by SEND to the unprefixed destination login and gets a welcome', ctx.it(async () => {
    await stomp.connect();
    const queue = userQueue();
    await stomp.send('login', { action: 'login', login: stomp.name, queue });
    await stomp.subscribeQueue(queue);
    const w = await stomp.waitFor((e) => e.type === 'welcome' && e.login === stomp.name, 5000, 'welcome');
    assert.equal(typeof w.token, 'string');
    assert.equal(w._headers['user-id'], relay.options['amqp-user'], 'user-id header = relay broker user');
    stomp.token = w.token;
    assert.equal(stomp.errors.length, 0, 'no STOMP ERROR frame');
    await amqpUser.waitFor((e) => e.type === 'join' && e.login === stomp.name, 4000);
  }));

  test('SEND {sender,message} to the unprefixed destination chat works as guest: no PRECONDITION_FAILED, others receive it', ctx.it(async () => {
    const text = `stomp-seed-${rid(3)}`;
    await stomp.send('chat', { sender: stomp.name, message: text }); // the seed's exact body
    assert.equal(stomp.errors.length, 0, `no STOMP ERROR frame: ${stomp.errors.map((f) => f.headers.message).join()}`);
    assert.ok(stomp.client.connected, 'connection still open');
    const m = await amqpUser.waitFor((e) => e.type === 'message' && e.message === text, 5000);
    assert.equal(m.sender, stomp.name);
    await stomp.waitFor((e) => e.type === 'message' && e.message === text, 5000, 'own message');
  }));

  test('SEND to chat with the session token works too', ctx.it(async () => {
    const text = `stomp-tok-${rid(3)}`;
    await stomp.send('chat', { v: 1, sender: stomp.name, message: text, token: stomp.token });
    await amqpUser.waitFor((e) => e.type === 'message' && e.message === text, 5000);
    assert.equal(stomp.errors.length, 0);
  }));

  test('AMQP user messages reach the STOMP user with the relay user-id header', ctx.it(async () => {
    const text = `to-stomp-${rid(3)}`;
    await amqpUser.send(text);
    const m = await stomp.waitFor((e) => e.type === 'message' && e.message === text, 5000, 'message');
    assert.equal(m.sender, amqpUser.name);
    assert.equal(m._headers['user-id'], relay.options['amqp-user']);
    assert.equal(stomp.events.filter((e) => e.message === text).length, 1, 'exactly once');
  }));

  test('a second STOMP connection re-declaring chat and login still works after the relay runs', ctx.it(async () => {
    const s2 = new StompUser(`stomp2_${rid(2)}`);
    try {
      await s2.connect();
      const queue = userQueue();
      await s2.send('login', { action: 'login', login: s2.name, queue });
      await s2.subscribeQueue(queue);
      await s2.waitFor((e) => e.type === 'welcome', 5000, 'welcome');
      const text = `s2-${rid(3)}`;
      await s2.send('chat', { sender: s2.name, message: text });
      await stomp.waitFor((e) => e.message === text, 5000, 's2 message at stomp');
      await amqpUser.waitFor((e) => e.message === text, 5000);
      assert.equal(s2.errors.length, 0);
      await s2.send('login', { action: 'logout', login: s2.name });
      await amqpUser.waitFor((e) => e.type === 'leave' && e.login === s2.name, 5000);
    } finally {
      await s2.close();
    }
  }));
});
