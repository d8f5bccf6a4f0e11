// Hardening (issue 6): the RabbitMQ node is killed with `kill -9` during chat traffic and started
// again. This suite runs ITS OWN private node (scripts/broker.sh with its own node name, ports and
// data dir; the shared test broker is not touched), a relay on it, 3 users, and a stream of
// RS_COUNT (2000) chat messages with cids, published persistent through a confirm channel.
// Midway the node's beam process is killed and restarted. The clients here behave like the client
// library must: reconnect, re-consume (manual acks), and republish every unconfirmed message with
// the same cid.
// Asserts (lib/invariants.mjs): every confirmed message reaches every user exactly once after the
// client's de-duplication by (sender, cid), ids increasing per room, one id per message;
// /readyz is not 200 during the outage and 200 after, chat_relay_reconnects_total grew.
// Prints sent/confirmed/delivered, duplicates, outage and reconnect times.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { useSuite } from '../lib/harness.mjs';
import { rid } from '../lib/client.mjs';
import { freePort, sleep } from '../lib/relay.mjs';
import { checkExactlyOnce, msgKey, settle } from '../lib/invariants.mjs';

const execFileP = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const BROKER_SCRIPT = process.env.BROKER_SCRIPT || path.resolve(here, '../../../scripts/broker.sh');
const N = Number(process.env.RS_COUNT || 2000);
const WINDOW = 100; // unconfirmed publishes at most
const PACE_MS = Number(process.env.RS_PACE_MS ?? 0); // pause between publishes
const ctx = useSuite('rs');

// ---- the suite's own broker node ---------------------------------------------------------------
const node = {
  name: `chatrelay-restart-${process.pid}@localhost`,
  base: `/tmp/chatrelay-restart-${process.pid}`,
  ports: null,
  started: false,
  env() {
    return {
      ...process.env,
      RMQ_NODE: this.name,
      RMQ_BASE: this.base,
      RMQ_AMQP_PORT: String(this.ports.amqp),
      RMQ_STOMP_PORT: String(this.ports.stomp),
      RMQ_WS_PORT: String(this.ports.ws),
      RMQ_MGMT_PORT: String(this.ports.mgmt),
      RMQ_DIST_PORT: String(this.ports.dist),
      RMQ_MEMORY: '512MB',
    };
  },
  get url() { return `amqp://guest:guest@127.0.0.1:${this.ports.amqp}`; },
  async script(cmd, extra = {}) {
    const { stdout, stderr } = await execFileP('bash', [BROKER_SCRIPT, cmd], { env: { ...this.env(), ...extra }, timeout: 120000 });
    return stdout + stderr;
  },
  async start(fresh) {
    this.started = true;
    return this.script('start', fresh ? { RMQ_FRESH: '1' } : {});
  },
  async stop() {
    if (!this.started) return;
    await this.script('stop').catch((e) => console.error(`stopping ${this.name}: ${e.message}`));
    this.started = false;
    fs.rmSync(this.base, { recursive: true, force: true });
  },
  beamPid() {
    const p = Number(fs.readFileSync(path.join(this.base, 'beam.pid'), 'utf8').trim());
    if (!p) throw new Error('no beam.pid');
    return p;
  },
};

/** Resolves when a TCP connection to the port succeeds (polling every 100 ms). */
async function whenAccepting(port, stopped) {
  while (!stopped()) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect({ host: '127.0.0.1', port }, () => { sock.destroy(); resolve(true); });
      sock.on('error', () => resolve(false));
    });
    if (ok) return Date.now();
    await sleep(100);
  }
  return 0;
}

async function distinctFreePorts(n) {
  const s = new Set();
  while (s.size < n) s.add(await freePort());
  return [...s];
}

// ---- clients that survive a broker restart -----------------------------------------------------
async function connectRetry(url, stopped) {
  for (;;) {
    if (stopped()) return null;
    try {
      const c = await amqp.connect(url);
      c.on('error', () => {});
      return c;
    } catch {
      await sleep(100);
    }
  }
}

/** A user consuming its queue with manual acks; re-consumes after the connection is lost. */
class User {
  constructor(name, queue, url, expiryMs) {
    Object.assign(this, { name, queue, url, expiryMs });
    this.events = [];
    this.token = null;
    this.stopped = false;
    this.attaches = 0;
    this.gen = 0;
    this.conn = null;
  }

  async attach() {
    const gen = ++this.gen;
    while (!this.stopped) {
      const conn = await connectRetry(this.url, () => this.stopped);
      if (!conn) return;
      try {
        const ch = await conn.createChannel();
        ch.on('error', () => {});
        await ch.prefetch(200);
        // Same arguments as the relay declares it (durable, x-expires): exists after a restart.
        await ch.assertQueue(this.queue, { durable: true, arguments: { 'x-expires': this.expiryMs } });
        await ch.consume(this.queue, (m) => {
          if (!m) return; // cancelled: the close handler re-attaches
          let body;
          try { body = JSON.parse(m.content.toString('utf8')); } catch { body = { _bad: true }; }
          body._userId = m.properties.userId;
          body._redelivered = m.fields.redelivered;
          this.events.push(body);
          try { ch.ack(m); } catch { /* channel gone: redelivered after re-attach */ }
        }, { noAck: false });
        this.conn = conn;
        this.attaches++;
        const again = () => { if (!this.stopped && gen === this.gen) this.attach(); };
        conn.once('close', again);
        ch.once('close', () => { conn.close().catch(() => {}); });
        return;
      } catch {
        await conn.close().catch(() => {});
        await sleep(200);
      }
    }
  }

  messages() { return this.events.filter((e) => e.type === 'message'); }

  async waitFor(pred, timeout, what) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const e = this.events.find(pred);
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`${this.name}: timeout waiting for ${what}; last: ${JSON.stringify(this.events.slice(-3))}`);
      await sleep(50);
    }
  }

  async close() {
    this.stopped = true;
    await this.conn?.close().catch(() => {});
  }
}

/** Publishes through a confirm channel; on a lost connection reconnects and republishes every
 *  unconfirmed message (same body, same cid). */
class Publisher {
  constructor(url) {
    this.url = url;
    this.ch = null;
    this.conn = null;
    this.gen = 0;
    this.pending = new Map(); // key -> {queue, buf, gen}
    this.confirmed = new Set();
    this.sends = 0; // publish calls, republishes included
    this.republished = 0;
    this.nacked = 0;
    this.connects = 0;
    this.stopped = false;
    this.connecting = null;
    this.waiters = [];
  }

  wake() { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  async ensure() {
    if (this.ch) return;
    if (!this.connecting) {
      this.connecting = (async () => {
        for (;;) {
          const conn = await connectRetry(this.url, () => this.stopped);
          if (!conn) return;
          try {
            const ch = await conn.createConfirmChannel();
            ch.on('error', () => {});
            const gen = ++this.gen;
            const lost = () => { if (this.gen === gen && this.ch) { this.ch = null; this.conn = null; this.wake(); } };
            conn.once('close', lost);
            ch.once('close', lost);
            this.conn = conn;
            this.ch = ch;
            this.connects++;
            // republish what the previous connection left unconfirmed
            for (const [key, p] of this.pending) if (p.gen < gen) { this.republished++; this._send(key, p); }
            return;
          } catch {
            await conn.close().catch(() => {});
            await sleep(100);
          }
        }
      })().finally(() => { this.connecting = null; });
    }
    await this.connecting;
  }

  _send(key, p) {
    const gen = this.gen;
    p.gen = gen;
    this.sends++;
    try {
      this.ch.sendToQueue(p.queue, p.buf, { contentType: 'application/json', persistent: true }, (err) => {
        if (!this.pending.has(key)) return;
        if (!err) {
          this.pending.delete(key);
          this.confirmed.add(key);
        } else if (err.message === 'message nacked') {
          this.nacked++;
          if (this.ch && this.gen === gen) this._send(key, p); // resend now; else on reconnect
        } // 'channel closed': the reconnect republishes it
        this.wake();
      });
    } catch { /* channel closed under us: the reconnect republishes it */ }
  }

  /** Publish (waits while WINDOW messages are unconfirmed or the broker is unreachable). */
  async publish(key, queue, body) {
    for (;;) {
      await this.ensure();
      if (this.ch && this.pending.size < WINDOW) break;
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, 100); });
    }
    const p = { queue, buf: Buffer.from(JSON.stringify(body)), gen: 0 };
    this.pending.set(key, p);
    this._send(key, p);
  }

  async drain(timeout) {
    const deadline = Date.now() + timeout;
    while (this.pending.size > 0) {
      if (Date.now() > deadline) throw new Error(`publisher: ${this.pending.size} messages still unconfirmed`);
      await this.ensure();
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, 100); });
    }
  }

  async close() {
    this.stopped = true;
    await this.conn?.close().catch(() => {});
  }
}

// ---- the test ----------------------------------------------------------------------------------
describe('broker killed (kill -9) and restarted during traffic', { timeout: 300000 }, () => {
  let relay, pub;
  const users = [];

  before(async () => {
    const [amqpP, stomp, ws, mgmt, dist] = await distinctFreePorts(5);
    node.ports = { amqp: amqpP, stomp, ws, mgmt, dist };
    await node.start(true);
    relay = await ctx.start('rs', {
      'amqp-port': node.ports.amqp,
      'amqp-user': 'guest',
      'amqp-password': 'guest',
      'require-token': true,
      'rate-limit': 100000,
      'rate-burst': 100000,
      'keepalive-timeout': '600s',
      'history-size': 5000, // resent cids are recognised while history holds them
      'log-level': 'debug', // a failure report can then say what the relay did with a missing cid
    }, 'readyz');
    pub = new Publisher(node.url);
    const expiryMs = 300000;
    for (const n of ['rx', 'ry', 'rz']) {
      const u = new User(`${n}_${rid(2)}`, `chat.user.it.rs.${rid(6)}`, node.url, expiryMs);
      await u.attach();
      await pub.publish(`login-${u.name}`, relay.options['login-queue'], { v: 1, action: 'login', login: u.name, queue: u.queue });
      const w = await u.waitFor((e) => e.type === 'welcome', 10000, 'welcome');
      u.token = w.token;
      users.push(u);
    }
    await pub.drain(5000);
  }, { timeout: 180000 });

  after(async () => {
    for (const u of users) await u.close();
    await pub?.close();
    await relay?.stop();
    await node.stop();
  }, { timeout: 120000 });

  test(`${N} chat messages across a kill -9 of the broker: every confirmed message reaches every user`, { timeout: 240000 }, ctx.it(async (t) => {
    const tag = rid(3);
    const chatQ = relay.options['chat-queue'];
    const reconnects0 = await relay.metric('chat_relay_reconnects_total');

    // /readyz timeline
    const ready = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const r = await relay.readyz();
        ready.push({ t: Date.now(), s: r.status });
        await sleep(100);
      }
    })();

    let tKill = 0, tBrokerUp = 0, tAccept = 0, beamPid = 0, restartOut = '';
    let restart = null;
    let inFlightAtKill = 0;
    const cids = [];
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      const u = users[i % users.length];
      const cid = `rs-${tag}-${i}`;
      cids.push(cid);
      await pub.publish(cid, chatQ, { v: 1, sender: u.name, token: u.token, message: `m${i}-${tag}`, cid });
      if (!restart && pub.confirmed.size >= N / 2 - users.length) {
        // Kill while the relay has publishes awaiting the broker's confirm (the interesting
        // moment); the stream goes on meanwhile. Give up waiting for that after 3 s.
        restart = (async () => {
          const tWait = Date.now();
          for (;;) {
            inFlightAtKill = await relay.metric('chat_relay_in_flight').catch(() => 0);
            if (inFlightAtKill >= 5 || Date.now() - tWait > 3000) break;
          }
          beamPid = node.beamPid();
          process.kill(beamPid, 'SIGKILL');
          tKill = Date.now();
          // wait for the VM to be gone before starting it again
          while (fs.existsSync(`/proc/${beamPid}`)) await sleep(50);
          await sleep(500);
          const accepting = whenAccepting(node.ports.amqp, () => Date.now() - tKill > 120000).then((x) => { tAccept = x; });
          restartOut = await node.start(false);
          await accepting;
          tBrokerUp = Date.now();
        })();
      }
      if (PACE_MS) await sleep(PACE_MS); // a stream, not one burst
    }
    const tSent = Date.now();
    await restart;
    await pub.drain(60000);
    const tConfirmed = Date.now();

    const confirmedChat = cids.filter((c) => pub.confirmed.has(c));
    const isOurs = (e) => e.type === 'message' && typeof e.cid === 'string' && e.cid.startsWith(`rs-${tag}-`);
    const keyOf = (c) => msgKey({ sender: users[Number(c.slice(c.lastIndexOf('-') + 1)) % users.length].name, cid: c });
    const confirmedKeys = confirmedChat.map(keyOf);
    const settled = await settle({ users, isOurs, expected: confirmedKeys, maxMs: 60000, quietMs: 3000 });
    const tDelivered = Date.now();
    // When the stream finished before the kill, the relay may still be in its
    // backoff (up to 5 s): give it the time to come back before judging.
    await relay.waitReady({ timeout: 15000 }).catch(() => {});
    await sleep(300); // let the poller see it
    polling = false;
    await poller;

    // readiness: not ready during the outage, ready after; first 200 after the kill = reconnect
    const afterKill = ready.filter((x) => x.t >= tKill);
    const notReady = afterKill.filter((x) => x.s !== 200);
    const firstDown = notReady[0];
    const backUp = afterKill.find((x) => x.s === 200 && firstDown && x.t > firstDown.t);
    const reconnects1 = await relay.metric('chat_relay_reconnects_total');
    const outage = backUp ? backUp.t - tKill : NaN;
    const afterBroker = backUp ? backUp.t - tAccept : NaN;

    const report = [
      `node ${node.name} (amqp ${node.ports.amqp}): beam pid ${beamPid} killed with SIGKILL after ${Math.round((tKill - t0) / 1000)} s of traffic with ${inFlightAtKill} relay publishes unconfirmed; AMQP port accepting again ${((tAccept - tKill) / 1000).toFixed(1)} s after the kill, broker.sh start done after ${((tBrokerUp - tKill) / 1000).toFixed(1)} s`,
      `chat messages: sent ${N} (publish calls incl. republishes ${pub.sends - users.length}, republished after reconnect ${pub.republished}, nacked ${pub.nacked}), confirmed ${confirmedChat.length}; publisher connections ${pub.connects}`,
      `relay: /readyz not 200 from ${firstDown ? firstDown.t - tKill : '?'} ms after the kill; 200 again ${outage} ms after the kill = ${afterBroker} ms after the broker accepted connections again (relay backoff caps at 5 s); chat_relay_reconnects_total ${reconnects0} -> ${reconnects1}`,
      `timing: sent in ${((tSent - t0) / 1000).toFixed(1)} s, all confirmed after ${((tConfirmed - t0) / 1000).toFixed(1)} s, delivered after ${((tDelivered - t0) / 1000).toFixed(1)} s`,
    ];
    const { failures, lines, stats } = checkExactlyOnce({ users, isOurs, confirmed: confirmedKeys, sent: cids.map(keyOf) });
    report.push(`delivery: all confirmed arrived ${settled.allArrivedMs} ms after the last confirm, quiet after ${settled.settledMs} ms; ` +
      `duplicates ${stats.duplicates} (re-stamped ${stats.restamped}), out of order ${stats.outOfOrder}, missing ${stats.missing}`);
    report.push(...lines.map((l, i) => `${l}, consumer (re)attaches ${users[i].attaches}`));
    for (const u of users) {
      const foreign = u.events.filter(isOurs).filter((e) => e._userId !== relay.options['amqp-user']).length;
      if (foreign) failures.push(`${u.name}: ${foreign} messages without the relay's user-id`);
    }
    if (stats.missing) {
      const log = relay.log().split('\n');
      const gone = confirmedChat.filter((c) => users.some((u) => !u.events.some((e) => isOurs(e) && e.cid === c)));
      const about = (c) => log.filter((l) => l.includes(c)).map((l) => l.slice(0, 160)).join(' / ') || 'no log line';
      failures.push(`relay log on ${gone[0]}: ${about(gone[0])}`);
    }
    for (const line of report) t.diagnostic(line);
    const relayLog = relay.log().split('\n').filter((l) => /amqp|broker|connect|reconnect|declare/i.test(l) && !/DEBUG/.test(l));
    t.diagnostic('relay log (connection lines):');
    for (const l of relayLog.slice(-12)) t.diagnostic(`  ${l}`);

    assert.equal(confirmedChat.length, N, 'every message eventually confirmed (the client republishes unconfirmed ones)');
    assert.deepEqual(failures, [], 'every confirmed message exactly once to every user (by sender, cid), ids increasing, one id per message');
    assert.ok(relay.running, 'relay still running');
    assert.ok(firstDown, '/readyz was not 200 during the outage');
    assert.ok(backUp, '/readyz 200 again after the broker came back');
    assert.ok(reconnects1 >= reconnects0 + 1, `chat_relay_reconnects_total increased (${reconnects0} -> ${reconnects1})`);
    assert.ok(restartOut.includes('up'), `broker restarted: ${restartOut.slice(-300)}`);
  }));
});
