// A protocol-speaking AMQP test client (docs/protocol.md).
import crypto from 'node:crypto';
import { AMQP_USER } from './broker.mjs';

export const rid = (n = 6) => crypto.randomBytes(n).toString('hex');
export const userQueue = () => `chat.user.it.${rid(8)}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class ChatClient {
  /**
   * @param broker  Broker (lib/broker.mjs)
   * @param relayOpts the relay's options (relay.options) for queue names / expiry
   */
  constructor(broker, relayOpts, name) {
    this.broker = broker;
    this.loginQueue = relayOpts['login-queue'];
    this.chatQueue = relayOpts['chat-queue'];
    this.queueExpiryMs = parseDurationMs(relayOpts['queue-expiry'] ?? '300s');
    this.relayUser = relayOpts['amqp-user'] ?? AMQP_USER;
    this.name = name;
    this.queue = null;
    this.token = null;
    this.welcome = null;
    this.events = []; // every parsed body, in arrival order; each gets ._props and ._at
    this.raw = []; // {props, content} of everything received
    this.waiters = new Set();
    this.ch = null;
    this.ctag = null;
  }

  // ---- receiving -------------------------------------------------------------------------------

  _onMessage(msg) {
    if (!msg) { this.cancelled = true; return; }
    const props = msg.properties;
    let body;
    try { body = JSON.parse(msg.content.toString('utf8')); } catch { body = { _unparsable: msg.content.toString('utf8') }; }
    if (body && typeof body === 'object') {
      Object.defineProperty(body, '_props', { value: props, enumerable: false });
      Object.defineProperty(body, '_at', { value: Date.now(), enumerable: false });
    }
    this.raw.push({ props, content: msg.content });
    this.events.push(body);
    for (const w of [...this.waiters]) w();
  }

  /** Consume `queue`, retrying until it exists (the relay declares it). */
  async consume(queue, { timeout = 10000 } = {}) {
    const deadline = Date.now() + timeout;
    let lastErr;
    while (Date.now() < deadline) {
      const ch = await this.broker.conn.createChannel();
      ch.on('error', (e) => { lastErr = e; });
      try {
        await ch.checkQueue(queue);
        const ok = await ch.consume(queue, (m) => this._onMessage(m), { noAck: true });
        this.ch = ch;
        this.ctag = ok.consumerTag;
        this.queue = queue;
        return;
      } catch (e) {
        lastErr = e;
        await sleep(50);
      }
    }
    throw new Error(`${this.name}: queue ${queue} never became consumable: ${lastErr?.message}`);
  }

  /** Declare the queue ourselves with the arguments the relay uses (x-expires), so errors to it are not lost. */
  async predeclare(queue) {
    const r = await this.broker.onChannel((ch) => ch.assertQueue(queue, { durable: true, arguments: { 'x-expires': this.queueExpiryMs } }));
    if (!r.ok) throw new Error(`predeclare ${queue}: ${r.message}`);
  }

  /** Wait for the first event (from index `from`) matching pred; resolves with it. */
  waitFor(pred, timeout = 5000, { from = 0, what = '' } = {}) {
    return new Promise((resolve, reject) => {
      let done = false;
      const check = () => {
        if (done) return;
        for (let i = from; i < this.events.length; i++) {
          if (pred(this.events[i])) {
            done = true;
            this.waiters.delete(check);
            clearTimeout(tm);
            resolve(this.events[i]);
            return;
          }
        }
      };
      const tm = setTimeout(() => {
        done = true;
        this.waiters.delete(check);
        reject(new Error(`${this.name}: timeout (${timeout} ms) waiting for ${what || pred.toString()}; got ${this.events.length} events, last: ${JSON.stringify(this.events.slice(-5))}`));
      }, timeout);
      this.waiters.add(check);
      check();
    });
  }

  /** Wait until `count(pred) >= n`; returns the matching events. */
  async waitForCount(pred, n, timeout = 10000, what = '') {
    const deadline = Date.now() + timeout;
    for (;;) {
      const got = this.events.filter(pred);
      if (got.length >= n) return got;
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: timeout waiting for ${n} x ${what || pred.toString()}: got ${got.length}; last events: ${JSON.stringify(this.events.slice(-3))}`);
      }
      await new Promise((r) => {
        const w = () => { this.waiters.delete(w); clearTimeout(tm); r(); };
        const tm = setTimeout(w, 100);
        this.waiters.add(w);
      });
    }
  }

  errors(code) { return this.events.filter((e) => e?.type === 'error' && (!code || e.code === code)); }
  waitError(code, timeout = 5000, from = 0) {
    return this.waitFor((e) => e?.type === 'error' && e.code === code, timeout, { from, what: `error ${code}` });
  }
  messages(room) { return this.events.filter((e) => e?.type === 'message' && (!room || e.room === room)); }

  // ---- sending ---------------------------------------------------------------------------------

  /**
   * Log in. opts: rooms, room, since, queue, seed (send only the seed's three fields),
   * extra (merged into body), wait (wait for welcome, default true), predeclare.
   */
  async login(name = this.name, opts = {}) {
    this.name = name;
    const queue = opts.queue ?? userQueue();
    const body = { action: 'login', login: name, queue };
    if (!opts.seed) {
      body.v = 1;
      if (opts.rooms) body.rooms = opts.rooms;
      if (opts.room) body.room = opts.room;
      if (opts.since) body.since = opts.since;
    }
    Object.assign(body, opts.extra ?? {});
    if (opts.predeclare) await this.predeclare(queue);
    const from = this.events.length;
    await this.broker.publish(this.loginQueue, body);
    if (this.queue !== queue) {
      if (this.ch) await this.close();
      await this.consume(queue, { timeout: opts.consumeTimeout ?? 10000 });
    }
    if (opts.wait === false) return null;
    const w = await this.waitFor((e) => e?.type === 'welcome' && e.login === name, opts.timeout ?? 8000, { from, what: `welcome for ${name}` });
    this.welcome = w;
    this.token = w.token;
    return w;
  }

  /** Send a chat. opts: room, to, cid, token (null = omit), sender, seed, extra. */
  async send(message, opts = {}) {
    const body = { sender: opts.sender ?? this.name, message };
    if (!opts.seed) body.v = 1;
    const token = 'token' in opts ? opts.token : this.token;
    if (token !== null && token !== undefined) body.token = token;
    if (opts.room) body.room = opts.room;
    if (opts.to) body.to = opts.to;
    if (opts.cid) body.cid = opts.cid;
    Object.assign(body, opts.extra ?? {});
    if (opts.noWait) return this.broker.publishNoWait(this.chatQueue, body);
    await this.broker.publish(this.chatQueue, body);
    return body;
  }

  async ping(opts = {}) {
    const token = 'token' in opts ? opts.token : this.token;
    const body = { v: 1, action: 'ping', login: this.name };
    if (token) body.token = token;
    await this.broker.publish(this.loginQueue, body);
  }

  async logout(opts = {}) {
    const token = 'token' in opts ? opts.token : this.token;
    const body = { action: 'logout', login: this.name };
    if (!opts.seed) body.v = 1;
    if (token) body.token = token;
    await this.broker.publish(this.loginQueue, body);
  }

  async close() {
    if (this.ch) {
      try { await this.ch.close(); } catch { /* */ }
    }
    this.ch = null;
    this.ctag = null;
    this.queue = null;
  }
}

export function parseDurationMs(v) {
  if (typeof v === 'number') return v;
  const m = /^(\d+)(ms|s|min|h)$/.exec(String(v));
  if (!m) throw new Error(`bad duration ${v}`);
  return Number(m[1]) * { ms: 1, s: 1000, min: 60000, h: 3600000 }[m[2]];
}

/** Messages of a list of events as "sender:message" keys, in order. */
export const keys = (evs) => evs.map((e) => `${e.sender}:${e.message}`);
