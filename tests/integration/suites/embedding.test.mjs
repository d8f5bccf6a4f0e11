// Suite: the embedding examples (examples/) against the real broker.
//  - embedded_bot: the relay inside another program's actor system; its bot
//    answers "!time", its moderator drops banned words before broadcast.
//  - remote_observer: a separate CAF process subscribed to a daemon's
//    published relay facade (relay.remote-port) prints what a STOMP client sends.
// The examples are looked up next to RELAY_BIN (<build>/examples/), or in
// EXAMPLES_DIR.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';
import { useSuite } from '../lib/harness.mjs';
import { rid, userQueue } from '../lib/client.mjs';
import { AMQP_URL, WS_URL } from '../lib/broker.mjs';
import { RELAY_BIN, LOG_DIR, freePort, sleep, suiteNames } from '../lib/relay.mjs';

const ctx = useSuite('embedding');
const EXAMPLES_DIR = path.resolve(process.env.EXAMPLES_DIR || path.join(path.dirname(RELAY_BIN), 'examples'));

/** A running example program: stdout/stderr lines, waitLine, SIGTERM stop. */
class Program {
  constructor(name, args) {
    const bin = path.join(EXAMPLES_DIR, name);
    if (!fs.existsSync(bin)) throw new Error(`example not built: ${bin} (CHATRELAY_EXAMPLES=ON, or set EXAMPLES_DIR)`);
    fs.mkdirSync(LOG_DIR, { recursive: true });
    this.name = name;
    this.logFile = path.join(LOG_DIR, `embedding-${name}-${rid(3)}.log`);
    this.out = [];
    this.err = [];
    this.waiters = new Set();
    this.proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => { this.exit = { code, signal }; this.notify(); resolve(this.exit); }));
    for (const [stream, lines] of [[this.proc.stdout, this.out], [this.proc.stderr, this.err]]) {
      let buf = '';
      stream.on('data', (chunk) => {
        fs.appendFileSync(this.logFile, chunk);
        buf += chunk.toString('utf8');
        let i;
        while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); }
        this.notify();
      });
    }
    fs.writeFileSync(this.logFile, `===== ${bin} ${args.join(' ')}\n`);
  }

  notify() { for (const w of [...this.waiters]) w(); }

  /** Resolves with the first line of `which` ('out' | 'err') matching re. */
  waitLine(which, re, timeout = 10000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this[which].find((l) => re.test(l));
        if (line !== undefined) { done(); resolve(line); } else if (this.exit) { done(); reject(this.failure(`exited (${JSON.stringify(this.exit)}) before printing ${re}`)); }
      };
      const tm = setTimeout(() => { done(); reject(this.failure(`no line ${re} within ${timeout} ms`)); }, timeout);
      const done = () => { clearTimeout(tm); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves with the first stdout line that is JSON matching pred. */
  async waitJson(pred, timeout = 10000) {
    const line = await this.waitLine('out', { test: (l) => { try { return pred(JSON.parse(l)); } catch { return false; } }, toString: () => pred.toString() }, timeout);
    return JSON.parse(line);
  }

  failure(what) {
    return new Error(`${this.name}: ${what}\n----- ${this.logFile} -----\n${fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-30).join('\n')}`);
  }

  /** SIGTERM, then SIGKILL after `grace` ms; returns {code, signal, ms}. */
  async stop(grace = 3000) {
    if (this.exit) return { ...this.exit, ms: 0 };
    const t0 = Date.now();
    this.proc.kill('SIGTERM');
    const res = await Promise.race([this.exited, sleep(grace).then(() => null)]);
    if (res) return { ...res, ms: Date.now() - t0 };
    this.proc.kill('SIGKILL');
    return { ...(await this.exited), ms: Date.now() - t0, killed: true };
  }
}

const programs = [];
const run = (name, args) => { const p = new Program(name, args); programs.push(p); return p; };
after(async () => { for (const p of programs) await p.stop(); });

function amqpFlags() {
  const u = new URL(AMQP_URL);
  return [
    `--relay.amqp-host=${u.hostname}`,
    `--relay.amqp-port=${u.port || 5672}`,
    `--relay.amqp-user=${decodeURIComponent(u.username || 'guest')}`,
    `--relay.amqp-password=${decodeURIComponent(u.password || 'guest')}`,
  ];
}

describe('embedded_bot: bot and moderator in the embedding program', () => {
  const names = suiteNames('embedding-bot');
  const relayOpts = { ...names, 'queue-expiry': '300s' };
  let bot, alice, bob;

  before(async () => {
    bot = run('embedded_bot', [
      ...amqpFlags(),
      ...Object.entries(names).map(([k, v]) => `--relay.${k}=${v}`),
      '--relay.id=it-embedded-bot',
      '--bot.name=timebot',
      '--bot.banned-words=["spam", "Forbidden"]',
    ]);
    await bot.waitLine('err', /relay active/, 15000);
    alice = ctx.client({ options: relayOpts }, `alice_${rid(2)}`);
    bob = ctx.client({ options: relayOpts }, `bob_${rid(2)}`);
    await alice.login();
    await bob.login();
  });

  test('the bot answers !time in the room, to everyone in it', async () => {
    await alice.send('!time');
    for (const c of [alice, bob]) {
      const answer = await c.waitFor((e) => e?.type === 'message' && e.sender === 'timebot', 5000, { what: 'the bot answer' });
      assert.equal(answer.room, 'main');
      assert.match(answer.message, new RegExp(`^@${alice.name} the time is \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
      assert.ok(answer.id > 0, 'the answer is stamped like any message');
    }
    // The question itself is an ordinary message.
    await bob.waitFor((e) => e?.type === 'message' && e.message === '!time', 5000, { what: '!time itself' });
  });

  test('the moderator drops a message with a banned word; the next one passes', async () => {
    const marker = rid(3);
    await alice.send(`buy SPAM now ${marker}`);
    await alice.send(`this is forbidden ${marker}`);
    await alice.send(`hello ${marker}`);
    // Messages of one sender arrive in order: once "hello" is there, the
    // others would have been too.
    for (const c of [alice, bob]) {
      await c.waitFor((e) => e?.type === 'message' && e.message === `hello ${marker}`, 5000, { what: 'the clean message' });
      const leaked = c.messages().filter((e) => e.message.includes(marker) && !e.message.startsWith('hello'));
      assert.deepEqual(leaked, [], `${c.name} received a moderated message`);
    }
  });

  test('SIGTERM stops the embedding program cleanly', async () => {
    const res = await bot.stop();
    assert.equal(res.code, 0, `exit ${JSON.stringify(res)}`);
    assert.ok(res.ms < 2000, `stopped in ${res.ms} ms`);
    await bot.waitLine('err', /stopped/, 100);
  });
});

describe('remote_observer: a daemon published over the middleman', () => {
  let relay, port, observer, stomp;

  before(async () => {
    port = await freePort();
    relay = await ctx.start('embedding-remote', { 'remote-port': port, 'require-token': false });
    // Ready comes as standby (a first connection waits relay.failover); the observer tests want
    // the relay active, as it is once alone on the broker.
    const deadline = Date.now() + 15000;
    while (!(await relay.isActive()) && Date.now() < deadline) await sleep(100);
  });
  after(async () => { try { await stomp?.deactivate(); } catch { /* */ } });

  test('the daemon logs the published port on loopback', async () => {
    assert.match(relay.log(), new RegExp(`relay published on 127\\.0\\.0\\.1:${port}`));
  });

  test('a second daemon on the same remote port refuses to start', async () => {
    const other = await ctx.start('embedding-remote2', { 'remote-port': port }, false);
    const exit = await Promise.race([other.exitPromise, sleep(10000).then(() => null)]);
    assert.ok(exit, 'the second daemon is still running');
    assert.notEqual(exit.code, 0);
    assert.match(other.log(), /cannot publish the relay on 127\.0\.0\.1:\d+/);
  });

  test('a peer with another app identifier is refused', async () => {
    const p = run('remote_observer', [`--remote.port=${port}`, '--middleman.app-identifiers=["chat-relay-v0"]']);
    const exit = await p.exited;
    assert.equal(exit.code, 1);
    await p.waitLine('err', /cannot reach the relay/, 100);
  });

  test('the remote observer prints a message sent by a STOMP client as JSON', async () => {
    observer = run('remote_observer', ['--remote.host=127.0.0.1', `--remote.port=${port}`]);
    await observer.waitLine('err', /subscribed to 127\.0\.0\.1:\d+ \(relay active\)/);
    stomp = new Client({
      webSocketFactory: () => new WebSocket(WS_URL, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
      connectHeaders: { login: 'guest', passcode: 'guest' },
      reconnectDelay: 0,
      debug: () => {},
    });
    await new Promise((resolve, reject) => {
      const tm = setTimeout(() => reject(new Error('STOMP connect timeout')), 8000);
      stomp.onConnect = () => { clearTimeout(tm); resolve(); };
      stomp.onStompError = (f) => { clearTimeout(tm); reject(new Error(`STOMP ERROR ${f.headers.message}`)); };
      stomp.activate();
    });
    const login = `stomp_${rid(2)}`;
    const text = `hello over the middleman ${rid(3)}`;
    // /amq/queue/NAME: the default exchange, without declaring the queue.
    stomp.publish({ destination: `/amq/queue/${relay.options['login-queue']}`, body: JSON.stringify({ action: 'login', login, queue: userQueue() }) });
    await observer.waitJson((e) => e.type === 'join' && e.login === login);
    stomp.publish({ destination: `/amq/queue/${relay.options['chat-queue']}`, body: JSON.stringify({ sender: login, message: text }) });
    const ev = await observer.waitJson((e) => e.message === text);
    assert.equal(ev.type, 'message');
    assert.equal(ev.sender, login);
    assert.equal(ev.message, text);
    assert.equal(ev.room, 'main');
    assert.ok(ev.id > 0 && ev.ts > 0);
    for (const l of observer.out) assert.doesNotThrow(() => JSON.parse(l), `not one JSON object per line: ${l}`);
  });

  test('the remote observer exits with 1 when the daemon goes away', async () => {
    await relay.stop();
    const exit = await Promise.race([observer.exited, sleep(10000).then(() => null)]);
    assert.ok(exit, 'the observer still runs after the daemon stopped');
    assert.equal(exit.code, 1);
    await observer.waitLine('err', /relay gone/, 100);
  });
});
