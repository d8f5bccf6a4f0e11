// Hardening (issue 6): identity and impersonation. The relay runs as the broker user `chat-relay`;
// browsers' user `chat-web` (configure ^$, write ^amq\.default$, read ^chat\.user\.) is used over
// plain STOMP (and AMQP where STOMP has no verb for it). Asserts what a hostile client can NOT do:
// consume `login`/`chat`, delete/declare/bind, publish to a room exchange, post as another login
// (wrong/absent token, logout/ping with a wrong token, take over a login under duplicate-login
// "reject"), put a relay-signed message in someone's queue (user-id forgery), and that what it CAN
// do (push into a queue whose name it knows) is recognisable: no `user-id: chat-relay` on it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import amqp from 'amqplib';
import { useSuite } from '../lib/harness.mjs';
import { rid } from '../lib/client.mjs';
import { sleep } from '../lib/relay.mjs';

const ctx = useSuite('id');
const STOMP_PORT = Number(process.env.STOMP_PORT || process.env.RMQ_STOMP_PORT || 61613);
const AMQP_PORT = Number(new URL(process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672').port || 5672);
const RELAY_USER = 'chat-relay';
const WEB = { login: 'chat-web', passcode: 'chat-web' };

// ---- a minimal STOMP 1.2 client over TCP -------------------------------------------------------
const unescape = (v) => v.replace(/\\(.)/g, (_, c) => ({ n: '\n', r: '\r', c: ':', '\\': '\\' }[c] ?? c));
const escape = (v) => String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/:/g, '\\c');

class Stomp {
  constructor(name) {
    this.name = name;
    this.frames = [];
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.waiters = new Set();
    this.sock = null;
  }

  static async open(name, creds = WEB) {
    const s = new Stomp(name);
    await s.connect(creds);
    return s;
  }

  connect({ login, passcode }) {
    return new Promise((resolve, reject) => {
      this.sock = net.connect(STOMP_PORT, '127.0.0.1', () => {
        this.sock.write(`CONNECT\naccept-version:1.2\nhost:/\nlogin:${login}\npasscode:${passcode}\nheart-beat:0,0\n\n\0`);
      });
      this.sock.on('data', (d) => this._data(d));
      this.sock.on('error', () => {});
      this.sock.on('close', () => { this.closed = true; this._wake(); });
      this.waitFrame((f) => f.command === 'CONNECTED' || f.command === 'ERROR', 5000)
        .then((f) => (f.command === 'CONNECTED' ? resolve() : reject(new Error(`${this.name}: ERROR on CONNECT: ${f.headers.message}`))), reject);
    });
  }

  _data(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      while (this.buf.length && (this.buf[0] === 0x0a || this.buf[0] === 0x0d)) this.buf = this.buf.subarray(1); // heart-beats
      const headEnd = this.buf.indexOf('\n\n');
      if (headEnd < 0) return;
      const lines = this.buf.subarray(0, headEnd).toString('utf8').split('\n').map((l) => l.replace(/\r$/, ''));
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        const k = unescape(l.slice(0, i));
        if (!(k in headers)) headers[k] = unescape(l.slice(i + 1));
      }
      let end;
      if (headers['content-length'] !== undefined) {
        end = headEnd + 2 + Number(headers['content-length']);
        if (this.buf.length < end + 1) return;
      } else {
        end = this.buf.indexOf(0, headEnd + 2);
        if (end < 0) return;
      }
      const body = this.buf.subarray(headEnd + 2, end).toString('utf8');
      this.buf = this.buf.subarray(end + 1);
      const f = { command: lines[0], headers, body };
      try { f.json = JSON.parse(body); } catch { f.json = null; }
      this.frames.push(f);
      this._wake();
    }
  }

  _wake() { for (const w of [...this.waiters]) w(); }

  send(command, headers = {}, body = '') {
    const h = Object.entries(headers).map(([k, v]) => `${escape(k)}:${escape(v)}`).join('\n');
    this.sock.write(`${command}\n${h}${h ? '\n' : ''}\n${body}\0`);
  }

  /** First frame (from index `from`) matching pred. Rejects on timeout; resolves null if the socket closed first. */
  waitFrame(pred, timeout = 5000, from = 0) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = this.frames.slice(from).find(pred);
        if (f) { done(); resolve(f); } else if (this.closed) { done(); resolve(null); }
      };
      const tm = setTimeout(() => { done(); reject(new Error(`${this.name}: no matching frame within ${timeout} ms; frames: ${this.frames.map((x) => x.command + ' ' + (x.headers.message ?? '')).join(' | ')}`)); }, timeout);
      const done = () => { clearTimeout(tm); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Send a frame with a receipt: 'RECEIPT' or 'ERROR: <message>' (the broker closes after an ERROR). */
  async attempt(command, headers, body = '') {
    const receipt = `r-${rid(4)}`;
    const from = this.frames.length;
    this.send(command, { ...headers, receipt }, body);
    const f = await this.waitFrame((x) => (x.command === 'RECEIPT' && x.headers['receipt-id'] === receipt) || x.command === 'ERROR', 5000, from);
    if (!f) return 'CLOSED';
    return f.command === 'RECEIPT' ? 'RECEIPT' : `ERROR: ${f.headers.message} ${f.body.slice(0, 200)}`;
  }

  messages() { return this.frames.filter((f) => f.command === 'MESSAGE'); }

  close() { try { this.sock.end(); this.sock.destroy(); } catch { /* */ } }
}

/** One forbidden frame on a fresh chat-web connection (an ERROR ends the connection). */
async function asWeb(command, headers, body = '') {
  const s = await Stomp.open('hostile');
  try { return await s.attempt(command, headers, body); } finally { s.close(); }
}

/** One AMQP operation as chat-web (or `user`): 'ok' or the error's code/message. */
async function amqpAsWeb(fn, user = 'chat-web:chat-web') {
  const conn = await amqp.connect(`amqp://${user}@127.0.0.1:${AMQP_PORT}`);
  conn.on('error', () => {});
  let chErr = null;
  try {
    const ch = await conn.createChannel();
    ch.on('error', (e) => { chErr = e; });
    await fn(ch);
    await sleep(100);
    if (chErr) return `${chErr.code ?? ''} ${chErr.message}`;
    return 'ok';
  } catch (e) {
    const err = chErr ?? e;
    return `${err?.code ?? ''} ${err?.message ?? String(err)}`;
  } finally {
    await conn.close().catch(() => {});
  }
}

// ---- the suite ---------------------------------------------------------------------------------
describe('identity and impersonation (relay as chat-relay, clients as chat-web)', () => {
  let relay, loginQ, chatQ, roomX;
  const users = {}; // name -> {stomp, queue, token, name}

  /** A browser-like user: STOMP as chat-web, SEND login through the default exchange, SUBSCRIBE /amq/queue/Q. */
  async function webUser(prefix) {
    const name = `${prefix}_${rid(2)}`;
    const queue = `chat.user.it.id.${rid(8)}`;
    const stomp = await Stomp.open(name);
    const r = await stomp.attempt('SEND', { destination: `/amq/queue/${loginQ}`, 'content-type': 'application/json' }, JSON.stringify({ v: 1, action: 'login', login: name, queue }));
    assert.equal(r, 'RECEIPT', `chat-web may SEND to the login queue (${r})`);
    const deadline = Date.now() + 8000;
    while (!(await ctx.broker.checkQueue(queue)).exists) {
      if (Date.now() > deadline) throw new Error(`queue ${queue} never declared by the relay`);
      await sleep(50);
    }
    const sub = await stomp.attempt('SUBSCRIBE', { destination: `/amq/queue/${queue}`, id: 's0', ack: 'auto' });
    assert.equal(sub, 'RECEIPT', `chat-web may consume its chat.user.* queue (${sub})`);
    const w = await stomp.waitFrame((f) => f.command === 'MESSAGE' && f.json?.type === 'welcome' && f.json.login === name, 8000);
    assert.ok(w, `welcome for ${name}`);
    const u = { name, queue, stomp, token: w.json.token, welcome: w };
    users[name] = u;
    return u;
  }

  async function chat(u, body) {
    return u.stomp.attempt('SEND', { destination: `/amq/queue/${chatQ}`, 'content-type': 'application/json' }, JSON.stringify({ v: 1, ...body }));
  }

  const msgs = (u, text) => u.stomp.messages().filter((f) => f.json?.type === 'message' && f.json.message === text);

  before(async () => {
    relay = await ctx.start('id', {
      'amqp-user': RELAY_USER,
      'amqp-password': 'chat-relay',
      'require-token': true,
      'duplicate-login': 'reject',
    });
    loginQ = relay.options['login-queue'];
    chatQ = relay.options['chat-queue'];
    roomX = `${relay.options['room-exchange-prefix']}main`;
    await webUser('alice');
    await webUser('bob');
  });

  after(() => { for (const u of Object.values(users)) u.stomp.close(); });

  const alice = () => Object.values(users).find((u) => u.name.startsWith('alice'));
  const bob = () => Object.values(users).find((u) => u.name.startsWith('bob'));

  test('the relay\'s own messages carry user-id chat-relay (validated by the broker)', ctx.it(async () => {
    const text = `hello-${rid(3)}`;
    assert.equal(await chat(alice(), { sender: alice().name, token: alice().token, message: text }), 'RECEIPT');
    const f = await bob().stomp.waitFrame((x) => x.command === 'MESSAGE' && x.json?.message === text, 5000);
    assert.equal(f.headers['user-id'], RELAY_USER, `user-id header of a relay message: ${JSON.stringify(f.headers)}`);
    assert.equal(f.json.sender, alice().name);
    assert.equal(alice().welcome.headers['user-id'], RELAY_USER, 'the welcome too');
  }));

  test('chat-web cannot consume the login or chat queue (nor the seed names)', ctx.it(async () => {
    for (const q of [loginQ, chatQ, 'login', 'chat']) {
      const r = await asWeb('SUBSCRIBE', { destination: `/amq/queue/${q}`, id: 'x', ack: 'auto' });
      assert.match(r, /^ERROR: .*(access_refused|ACCESS_REFUSED|access to queue)/i, `SUBSCRIBE ${q}: ${r}`);
    }
    const r = await amqpAsWeb((ch) => ch.consume(chatQ, () => {}));
    assert.match(r, /403|ACCESS_REFUSED/, `AMQP consume ${chatQ}: ${r}`);
    const g = await amqpAsWeb((ch) => ch.get(loginQ));
    assert.match(g, /403|ACCESS_REFUSED/, `AMQP basic.get ${loginQ}: ${g}`);
  }));

  test('chat-web cannot declare, delete or bind queues, nor publish to a room exchange', ctx.it(async () => {
    const declareStomp = await asWeb('SEND', { destination: `/queue/it.id.new-${rid(3)}` }, '{}');
    assert.match(declareStomp, /^ERROR: .*access/i, `SEND /queue/new (declares): ${declareStomp}`);
    const topic = await asWeb('SUBSCRIBE', { destination: '/topic/it.id.x', id: 't', ack: 'auto' });
    assert.match(topic, /^ERROR: .*access/i, `SUBSCRIBE /topic (declares a queue): ${topic}`);
    const checks = {
      declare: (ch) => ch.assertQueue(`chat.user.it.id.decl-${rid(3)}`, { durable: true }),
      'delete another user\'s queue': (ch) => ch.deleteQueue(bob().queue),
      'delete the chat queue': (ch) => ch.deleteQueue(chatQ),
      'bind a queue to the room exchange': (ch) => ch.bindQueue(alice().queue, roomX, ''),
      'declare an exchange': (ch) => ch.assertExchange(`it.id.x-${rid(3)}`, 'fanout'),
    };
    for (const [what, fn] of Object.entries(checks)) {
      const r = await amqpAsWeb(fn);
      assert.match(r, /403|ACCESS_REFUSED/, `${what}: ${r}`);
    }
    // Publishing to the room's fanout exchange would bypass the relay: refused (write ^amq\.default$ only).
    const text = `bypass-${rid(3)}`;
    const r = await asWeb('SEND', { destination: `/exchange/${roomX}` }, JSON.stringify({ v: 1, type: 'message', id: 1, ts: 1, room: 'main', sender: alice().name, message: text }));
    assert.match(r, /^ERROR: .*access/i, `SEND to the room exchange: ${r}`);
    const viaAmqp = await amqpAsWeb(async (ch) => { ch.publish(roomX, '', Buffer.from('{}')); await sleep(300); await ch.checkQueue(bob().queue); });
    assert.match(viaAmqp, /403|ACCESS_REFUSED/, `AMQP publish to the room exchange: ${viaAmqp}`);
    await sleep(300);
    assert.equal(msgs(bob(), text).length, 0);
    for (const q of [alice().queue, bob().queue, chatQ, loginQ]) assert.ok((await ctx.broker.checkQueue(q)).exists, `${q} still exists`);
  }));

  test('known limitation: read ^chat\\.user\\. lets chat-web consume/purge ANY user queue whose name it knows; the relay never reveals queue names', ctx.it(async (t) => {
    // RabbitMQ checks basic.consume, basic.get and queue.purge against the read permission; browsers
    // need read on their own queue and the broker cannot tell "own" from "other". The protection is
    // that queue names are unguessable (chat.user.<random>) and only the owner knows its own.
    const victim = `chat.user.it.id.victim-${rid(6)}`;
    const mk = await ctx.broker.onChannel((ch) => ch.assertQueue(victim, { durable: true, arguments: { 'x-expires': 60000 } }));
    assert.ok(mk.ok);
    const purge = await amqpAsWeb((ch) => ch.purgeQueue(victim));
    const consume = await asWeb('SUBSCRIBE', { destination: `/amq/queue/${victim}`, id: 'v', ack: 'auto' });
    t.diagnostic(`chat-web purge of a known chat.user.* queue: ${purge}; SUBSCRIBE: ${consume}`);
    await ctx.broker.onChannel((ch) => ch.deleteQueue(victim));
    // No body the relay sent to anyone carries another user's queue name.
    const a = alice();
    const b = bob();
    const leakA = b.stomp.messages().filter((f) => f.body.includes(a.queue));
    const leakB = a.stomp.messages().filter((f) => f.body.includes(b.queue));
    assert.deepEqual([...leakA, ...leakB].map((f) => f.body.slice(0, 200)), [], 'no queue name of another user in any delivered body');
    // and /config.json (served to every browser) names no user queue
    const cfg = await relay.http('/config.json');
    assert.ok(!cfg.text.includes('chat.user.it.id.'), '/config.json names no user queue');
  }));

  test('a chat with another login as sender and a wrong or absent token is refused', ctx.it(async () => {
    const tokBefore = await relay.errorsByCode('bad_token');
    const texts = [];
    const forgeries = [
      { token: undefined },
      { token: '' },
      { token: 'f'.repeat(32) },
      { token: bob().token }, // bob's own valid token, but claiming to be alice
      { token: alice().token.toUpperCase() },
      { token: alice().token + ' ' },
    ];
    for (const f of forgeries) {
      const text = `forged-${rid(3)}`;
      texts.push(text);
      const body = { sender: alice().name, message: text };
      if (f.token !== undefined) body.token = f.token;
      assert.equal(await chat(bob(), body), 'RECEIPT', 'the broker accepts the SEND; the relay must refuse it');
    }
    // a direct message to bob posing as alice
    const dm = `forged-dm-${rid(3)}`;
    texts.push(dm);
    await chat(bob(), { sender: alice().name, token: 'nope', to: bob().name, message: dm });
    // control: alice's real message after the forgeries arrives
    const ok = `genuine-${rid(3)}`;
    await chat(alice(), { sender: alice().name, token: alice().token, message: ok });
    await bob().stomp.waitFrame((x) => x.command === 'MESSAGE' && x.json?.message === ok, 5000);
    await sleep(300);
    for (const u of [alice(), bob()]) {
      const leaked = u.stomp.messages().filter((x) => texts.includes(x.json?.message));
      assert.deepEqual(leaked.map((x) => x.json), [], `${u.name} received no forged message`);
    }
    const tokAfter = await relay.errorsByCode('bad_token');
    assert.ok(tokAfter - tokBefore >= forgeries.length + 1, `bad_token counted for each forgery (${tokBefore} -> ${tokAfter})`);
  }));

  test('logout/ping as another login with a wrong token does not end its session; a second login under its name is refused', ctx.it(async () => {
    const a = alice();
    for (const token of [undefined, '', 'wrong', bob().token]) {
      const body = { v: 1, action: 'logout', login: a.name };
      if (token !== undefined) body.token = token;
      await bob().stomp.attempt('SEND', { destination: `/amq/queue/${loginQ}` }, JSON.stringify(body));
    }
    // duplicate-login=reject: someone else logging in as alice with another queue is refused
    const thiefQ = `chat.user.it.id.thief-${rid(4)}`;
    await bob().stomp.attempt('SEND', { destination: `/amq/queue/${loginQ}` }, JSON.stringify({ v: 1, action: 'login', login: a.name, queue: thiefQ }));
    // and logging in as bob with alice's queue is refused too (queue_taken)
    await bob().stomp.attempt('SEND', { destination: `/amq/queue/${loginQ}` }, JSON.stringify({ v: 1, action: 'login', login: `x${rid(2)}`, queue: a.queue }));
    await sleep(500);
    const text = `still-alice-${rid(3)}`;
    await chat(a, { sender: a.name, token: a.token, message: text });
    await bob().stomp.waitFrame((x) => x.command === 'MESSAGE' && x.json?.message === text, 5000);
    await a.stomp.waitFrame((x) => x.command === 'MESSAGE' && x.json?.message === text, 5000);
    const leaves = bob().stomp.messages().filter((x) => x.json?.type === 'leave' && x.json.login === a.name);
    assert.deepEqual(leaves.map((x) => x.json), [], 'alice never left');
    assert.equal(a.stomp.messages().filter((x) => x.json?.type === 'welcome').length, 1, 'no second welcome in alice\'s queue');
    assert.ok(await relay.errorsByCode('duplicate_login') >= 1, 'duplicate_login counted');
    assert.ok(await relay.errorsByCode('queue_taken') >= 1, 'queue_taken counted');
  }));

  test('a message pushed straight into another user\'s queue is recognisable: never user-id chat-relay', ctx.it(async () => {
    const b = bob();
    const forged = (text) => JSON.stringify({ v: 1, type: 'message', id: 999999, ts: Date.now(), room: 'main', sender: alice().name, message: text });
    // 1. claiming to be the relay: the broker refuses the SEND (user-id is validated)
    const t1 = `spoof-relay-${rid(3)}`;
    const r1 = await asWeb('SEND', { destination: `/amq/queue/${b.queue}`, 'user-id': RELAY_USER }, forged(t1));
    assert.match(r1, /^ERROR: /, `SEND with user-id chat-relay as chat-web is refused: ${r1}`);
    // same over AMQP (as guest, a test-only user)
    const r1b = await amqpAsWeb(async (ch) => { ch.sendToQueue(b.queue, Buffer.from(forged(t1)), { userId: RELAY_USER }); await sleep(300); await ch.checkQueue(b.queue); }, 'guest:guest');
    assert.match(r1b, /406|PRECONDITION_FAILED|user_id/i, `AMQP publish with user_id=chat-relay by guest is refused: ${r1b}`);
    const r1c = await amqpAsWeb(async (ch) => { ch.sendToQueue(b.queue, Buffer.from(forged(t1)), { userId: RELAY_USER }); await sleep(300); await ch.checkQueue(b.queue); });
    assert.match(r1c, /406|PRECONDITION_FAILED|user_id/i, `AMQP publish with user_id=chat-relay by chat-web is refused: ${r1c}`);
    // 2. without user-id, and 3. with its own user-id: delivered (the default exchange reaches any queue) but not as the relay
    const t2 = `spoof-none-${rid(3)}`;
    const t3 = `spoof-own-${rid(3)}`;
    assert.equal(await asWeb('SEND', { destination: `/amq/queue/${b.queue}` }, forged(t2)), 'RECEIPT');
    assert.equal(await asWeb('SEND', { destination: `/amq/queue/${b.queue}`, 'user-id': 'chat-web' }, forged(t3)), 'RECEIPT');
    const f2 = await b.stomp.waitFrame((x) => x.command === 'MESSAGE' && x.json?.message === t2, 5000);
    const f3 = await b.stomp.waitFrame((x) => x.command === 'MESSAGE' && x.json?.message === t3, 5000);
    assert.notEqual(f2.headers['user-id'], RELAY_USER, `pushed message without user-id: headers ${JSON.stringify(f2.headers)}`);
    assert.equal(f3.headers['user-id'], 'chat-web');
    await sleep(300);
    assert.equal(msgs(b, t1).length, 0, 'the relay-spoofing message never arrived');
    // every message bob got that claims to be from the relay really is
    const relayTyped = b.stomp.messages().filter((x) => ![t2, t3].includes(x.json?.message));
    for (const x of relayTyped) assert.equal(x.headers['user-id'], RELAY_USER, `relay message ${x.body.slice(0, 80)}`);
  }));
});
