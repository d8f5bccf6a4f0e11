// One worker thread of the browser-path bench: owns a slice of the users (their WebSockets), sends
// for the senders among them and accounts every delivery they receive. Driven by bench.mjs through
// messages: setup -> ready, point -> sent, progress -> progress, collect -> collected, close -> closed.
//
// What each target speaks (the same client logic, three transports):
//   relay: STOMP 1.2 over WebSocket to web-stomp, exactly as web/src/client/ChatClient.ts: login to
//          /amq/queue/login (receipt), SUBSCRIBE /amq/queue/chat.user.<uuid> (receipt, retried while
//          the queue does not exist yet), token from the welcome, chats with token and cid to
//          /amq/queue/chat (receipt), a ping every keepalive/3, logout at the end.
//   topic: STOMP over WebSocket, no relay: SUBSCRIBE /topic/<key>, SEND a relay-shaped `message` there.
//   sio:   Socket.IO 4 (websocket transport): `login` (ack = welcome), `chat` (ack = receipt), `message`.
import { parentPort, workerData } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';
import { io as sioConnect } from 'socket.io-client';

const cfg = workerData;
const now = () => process.hrtime.bigint(); // CLOCK_MONOTONIC: the same clock in every thread
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Growable array of latency samples (ms). */
class Samples {
  constructor() {
    this.a = new Float64Array(1 << 16);
    this.n = 0;
  }
  push(x) {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
  }
  take() {
    return this.a.slice(0, this.n);
  }
}

/** Per receiver and sender: which seqs arrived (bitmap), the highest, and how many. */
class Stream {
  constructor() {
    this.seen = new Uint8Array(1024);
    this.max = 0;
    this.unique = 0;
  }
  /** returns 'ok' | 'dup' | 'reorder' */
  add(seq) {
    if (seq >= this.seen.length) {
      const b = new Uint8Array(Math.max(seq + 1, this.seen.length * 2));
      b.set(this.seen);
      this.seen = b;
    }
    if (this.seen[seq]) return 'dup';
    this.seen[seq] = 1;
    this.unique++;
    if (seq < this.max) return 'reorder';
    this.max = seq;
    return 'ok';
  }
}

// ------------------------------------------------------------------ per point accounting
let point = null; // {id, samples, streams: Map<recv, Map<sender, Stream>>, ...}
function newPoint(id) {
  point = {
    id,
    samples: new Samples(),
    streams: new Map(),
    unique: 0,
    dups: 0,
    reorders: 0,
    stale: 0,
    frames: 0, // frames that carried chat messages (a batch is one frame): deliveries / frames = grouping
    firstSendNs: 0n,
    lastRecvNs: 0n,
    sent: {},
    receiptsMissing: 0,
    maxLagMs: 0,
  };
}
newPoint(-1);
const counters = { joins: 0, leaves: 0, errors: {}, foreign: 0, other: 0, subscribeRetries: 0, reconnects: 0, history: 0 };

const TEXT_RE = /^t=(\d+);s=(\d+);p=(\d+);r=(-?\d+);/;
let chatDeliveries = 0; // every chat delivery, of any point: tells when a backlog has drained
function onChatText(recv, text, recvNs) {
  chatDeliveries++;
  const m = TEXT_RE.exec(text);
  if (!m) {
    counters.other++;
    return;
  }
  const pid = Number(m[4]);
  if (pid !== point.id) {
    point.stale++;
    return;
  }
  const seq = Number(m[2]);
  const sender = Number(m[3]);
  let perRecv = point.streams.get(recv);
  if (!perRecv) point.streams.set(recv, (perRecv = new Map()));
  let st = perRecv.get(sender);
  if (!st) perRecv.set(sender, (st = new Stream()));
  const r = st.add(seq);
  if (r === 'dup') {
    point.dups++;
    return;
  }
  if (r === 'reorder') point.reorders++;
  point.unique++;
  point.samples.push(Number(recvNs - BigInt(m[1])) / 1e6);
  if (recvNs > point.lastRecvNs) point.lastRecvNs = recvNs;
}

function countError(code) {
  counters.errors[code] = (counters.errors[code] ?? 0) + 1;
}

/** A relay/topic/sio event body (already parsed). */
function onEvent(u, body, recvNs) {
  switch (body.type) {
    case 'message':
      point.frames++;
      if (typeof body.message === 'string') onChatText(u.idx, body.message, recvNs);
      return;
    case 'batch':
      // every message of a batch is accounted as one delivery, with the frame's receive time
      point.frames++;
      if (Array.isArray(body.messages)) for (const m of body.messages) if (m && typeof m.message === 'string') onChatText(u.idx, m.message, recvNs);
      return;
    case 'welcome':
      u.onWelcome?.(body);
      if (body.history && typeof body.history === 'object') for (const h of Object.values(body.history)) if (Array.isArray(h)) counters.history += h.length;
      return;
    case 'join':
      counters.joins++;
      return;
    case 'leave':
      counters.leaves++;
      return;
    case 'error':
      countError(String(body.code));
      return;
    default:
      counters.other++;
  }
}

// ------------------------------------------------------------------ users over STOMP (relay, topic)
/** A MESSAGE frame: as the web client, ignore frames not from `fromUser` (when given) and non-JSON bodies. */
function onStompMessage(u, f, fromUser) {
  const recvNs = now();
  if (fromUser !== null && f.headers['user-id'] !== fromUser) {
    counters.foreign++;
    return;
  }
  let b;
  try {
    b = JSON.parse(f.body);
  } catch {
    counters.other++;
    return;
  }
  onEvent(u, b, recvNs);
}

function stompClient(u, onConnect) {
  const c = new Client({
    webSocketFactory: () => new WebSocket(cfg.wsUrl, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
    connectHeaders: { login: cfg.stompLogin, passcode: cfg.stompPasscode },
    heartbeatIncoming: cfg.heartbeatMs,
    heartbeatOutgoing: cfg.heartbeatMs,
    reconnectDelay: 300,
    connectionTimeout: 10000,
    onConnect: () => {
      if (u.connectedOnce) counters.reconnects++;
      u.connectedOnce = true;
      onConnect();
    },
    onStompError: (f) => {
      u.stompErrors = (u.stompErrors ?? 0) + 1;
      u.lastStompError = f.headers.message;
    },
    onWebSocketClose: () => u.onClose?.(),
  });
  return c;
}

/** A relay user: the web client's login / subscribe-with-retry / welcome sequence. */
function relayUser(idx) {
  const u = { idx, login: `${cfg.loginPrefix}${idx}`, queue: `chat.user.${randomUUID()}`, token: null, subscribed: false };
  let loginSeq = 0;
  let subSeq = 0;
  let loginAcked = false;
  let sub = null;
  let ready;
  u.ready = new Promise((r) => (ready = r));
  const loginBody = () => {
    const b = { v: 1, action: 'login', login: u.login, queue: u.queue, rooms: [cfg.room] };
    if (cfg.batch) b.batch = true;
    return JSON.stringify(b);
  };
  const sendLogin = () => {
    if (!u.c.connected) return;
    const receipt = `login-${++loginSeq}`;
    u.c.watchForReceipt(receipt, () => {
      loginAcked = true;
      setTimeout(subscribe, 100); // the web client's subscribeDelayMs
    });
    u.c.publish({ destination: '/amq/queue/login', body: loginBody(), headers: { 'content-type': 'application/json', persistent: 'true', receipt } });
  };
  const subscribe = () => {
    if (!u.c.connected || sub || !loginAcked) return;
    const receipt = `sub-${++subSeq}`;
    u.c.watchForReceipt(receipt, () => {
      u.subscribed = true;
      if (u.token) ready();
    });
    sub = u.c.subscribe(
      `/amq/queue/${u.queue}`,
      (f) => onStompMessage(u, f, cfg.relayUser),
      { ack: 'auto', receipt },
    );
  };
  u.onWelcome = (w) => {
    if (w.login !== undefined && w.login !== u.login) return;
    u.token = w.token;
    if (u.subscribed) ready();
  };
  u.onClose = () => {
    // the broker closes the connection when the queue does not exist yet: retry on the next connect
    if (sub && !u.subscribed) counters.subscribeRetries++;
    sub = null;
    u.subscribed = false;
  };
  u.c = stompClient(u, () => (loginAcked ? subscribe() : sendLogin()));
  u.sendChat = (seq, text, onReceipt) => {
    const cid = `${u.login}-${point.id}-${seq}`;
    const body = JSON.stringify({ v: 1, sender: u.login, message: text, token: u.token, room: cfg.room, cid });
    const headers = { 'content-type': 'application/json', persistent: 'true' };
    if (cfg.receipts) {
      headers.receipt = `chat-${cid}`;
      u.c.watchForReceipt(headers.receipt, onReceipt);
    }
    u.c.publish({ destination: '/amq/queue/chat', body, headers });
    if (!cfg.receipts) setImmediate(onReceipt);
  };
  u.ping = () => {
    if (u.c.connected && u.token)
      u.c.publish({ destination: '/amq/queue/login', body: JSON.stringify({ v: 1, action: 'ping', login: u.login, token: u.token }), headers: { 'content-type': 'application/json' } });
  };
  u.close = async () => {
    if (u.c.connected && u.token)
      u.c.publish({ destination: '/amq/queue/login', body: JSON.stringify({ v: 1, action: 'logout', login: u.login, token: u.token }), headers: { 'content-type': 'application/json' } });
    await sleep(50);
    await u.c.deactivate();
  };
  u.c.activate();
  return u;
}

/** The broker's own fan-out: every user subscribes to one topic; senders SEND relay-shaped messages. */
function topicUser(idx) {
  const u = { idx, login: `${cfg.loginPrefix}${idx}`, subscribed: false };
  let ready;
  u.ready = new Promise((r) => (ready = r));
  let subSeq = 0;
  const dest = `/topic/${cfg.topicKey}`;
  u.c = stompClient(u, () => {
    const receipt = `sub-${++subSeq}`;
    u.c.watchForReceipt(receipt, () => {
      u.subscribed = true;
      ready();
    });
    u.c.subscribe(
      dest,
      (f) => onStompMessage(u, f, null),
      { ack: 'auto', receipt },
    );
  });
  let id = 0;
  u.sendChat = (seq, text, onReceipt) => {
    const cid = `${u.login}-${point.id}-${seq}`;
    const body = JSON.stringify({ v: 1, type: 'message', id: ++id, ts: Date.now(), room: cfg.room, sender: u.login, message: text, cid });
    const headers = { 'content-type': 'application/json' };
    if (cfg.receipts) {
      headers.receipt = `chat-${cid}`;
      u.c.watchForReceipt(headers.receipt, onReceipt);
    }
    u.c.publish({ destination: dest, body, headers });
    if (!cfg.receipts) setImmediate(onReceipt);
  };
  u.ping = () => {};
  u.close = () => u.c.deactivate();
  u.c.activate();
  return u;
}

/** The Socket.IO reference: the same client logic over socket.io-client. */
function sioUser(idx) {
  const u = { idx, login: `${cfg.loginPrefix}${idx}`, token: null };
  u.s = sioConnect(cfg.sioUrl, { transports: ['websocket'], forceNew: true, reconnectionDelay: 300 });
  u.ready = new Promise((resolve) => {
    u.s.on('connect', () => {
      if (u.connectedOnce) counters.reconnects++;
      u.connectedOnce = true;
      u.s.emit('login', { v: 1, action: 'login', login: u.login, rooms: [cfg.room] }, (w) => {
        onEvent(u, w, now());
        u.token = w.token;
        resolve();
      });
    });
  });
  u.s.on('message', (b) => onEvent(u, b, now()));
  u.s.on('batch', (b) => onEvent(u, b, now()));
  u.s.on('join', () => counters.joins++);
  u.sendChat = (seq, text, onReceipt) => {
    const cid = `${u.login}-${point.id}-${seq}`;
    const body = { v: 1, sender: u.login, message: text, token: u.token, room: cfg.room, cid };
    if (cfg.receipts) u.s.emit('chat', body, onReceipt);
    else {
      u.s.emit('chat', body);
      setImmediate(onReceipt);
    }
  };
  u.ping = () => {};
  u.close = async () => {
    u.s.disconnect();
  };
  return u;
}

// ------------------------------------------------------------------ commands
const users = [];
const makeUser = { relay: relayUser, topic: topicUser, sio: sioUser }[cfg.target];
let pingTimer;

async function setup() {
  const t0 = nowMs();
  // connect in waves, like browsers opening a page, not all in one burst
  const wave = cfg.connectWave;
  for (let i = 0; i < cfg.users.length; i += wave) {
    const batch = cfg.users.slice(i, i + wave).map((idx) => makeUser(idx));
    users.push(...batch);
    await Promise.race([Promise.all(batch.map((u) => u.ready)), sleep(cfg.setupTimeoutMs)]);
  }
  const ok = await Promise.race([Promise.all(users.map((u) => u.ready)).then(() => true), sleep(cfg.setupTimeoutMs).then(() => false)]);
  // the web client pings every keepalive/3 so the relay does not log idle users out
  pingTimer = setInterval(() => users.forEach((u) => u.ping()), cfg.pingMs);
  parentPort.postMessage({ type: 'ready', ok, ms: nowMs() - t0, notReady: users.filter((u) => !u.token && !u.subscribed).length, counters });
}

let sending = false;
async function runPoint({ id, ratePerSender, durationMs, window, senders }) {
  newPoint(id);
  const mine = users.filter((u) => senders.includes(u.idx));
  sending = true;
  const start = now();
  point.firstSendNs = start;
  const endNs = start + BigInt(Math.round(durationMs * 1e6));
  const pad = 'x'.repeat(Math.max(0, cfg.size - 48));
  const states = mine.map((u) => ({ u, seq: 0, outstanding: 0, nextDueNs: start, sent: 0, acked: 0 }));
  const send = (st) => {
    st.seq++;
    st.sent++;
    st.outstanding++;
    const text = `t=${now()};s=${st.seq};p=${st.u.idx};r=${id};${pad}`;
    st.u.sendChat(st.seq, text, () => {
      st.outstanding--;
      st.acked++;
      if (ratePerSender === 0) pump();
    });
  };
  let pump;
  if (ratePerSender > 0) {
    // open loop: message k of a sender is due at start + k / rate, whatever the answers
    const intervalNs = BigInt(Math.round(1e9 / ratePerSender));
    // spread the senders' phases so they do not all send in the same millisecond
    states.forEach((st, i) => (st.nextDueNs = start + (intervalNs * BigInt(i)) / BigInt(Math.max(1, states.length))));
    pump = () => {};
    await new Promise((resolve) => {
      const tick = () => {
        const t = now();
        for (const st of states) {
          while (st.nextDueNs <= t && st.nextDueNs < endNs) {
            const lag = Number(t - st.nextDueNs) / 1e6;
            if (lag > point.maxLagMs) point.maxLagMs = lag;
            send(st);
            st.nextDueNs += intervalNs;
          }
        }
        if (t >= endNs) return resolve();
        let next = endNs;
        for (const st of states) if (st.nextDueNs < next) next = st.nextDueNs;
        setTimeout(tick, Math.max(0, Number(next - now()) / 1e6 - 0.5));
      };
      tick();
    });
  } else {
    // flat out: each sender keeps `window` chats without receipt (ack) in flight
    await new Promise((resolve) => {
      let pumping = false;
      pump = () => {
        if (!sending || pumping) return;
        if (now() >= endNs) {
          sending = false;
          return resolve();
        }
        pumping = true;
        for (const st of states) while (st.outstanding < window) send(st);
        pumping = false;
      };
      pump();
      // the window refills from the receipt callbacks; this timer only notices the end
      const iv = setInterval(() => {
        if (!sending) {
          clearInterval(iv);
          return resolve();
        }
        pump();
      }, 20);
    });
  }
  sending = false;
  for (const st of states) point.sent[st.u.idx] = st.sent;
  // receipts still missing 5 s later are reported with the collection
  parentPort.postMessage({ type: 'sent', id, sent: point.sent, maxLagMs: point.maxLagMs });
  point.states = states;
}

function collect() {
  const samples = point.samples.take();
  const streams = {};
  for (const [recv, m] of point.streams) {
    streams[recv] = {};
    for (const [sender, st] of m) streams[recv][sender] = st.unique;
  }
  const receiptsMissing = (point.states ?? []).reduce((a, st) => a + st.outstanding, 0);
  parentPort.postMessage(
    {
      type: 'collected',
      id: point.id,
      samples,
      streams,
      receivers: users.map((u) => u.idx),
      unique: point.unique,
      dups: point.dups,
      reorders: point.reorders,
      stale: point.stale,
      frames: point.frames,
      firstSendNs: String(point.firstSendNs),
      lastRecvNs: String(point.lastRecvNs),
      maxLagMs: point.maxLagMs,
      receiptsMissing,
      counters,
    },
    [samples.buffer],
  );
}

parentPort.on('message', async (m) => {
  switch (m.type) {
    case 'setup':
      return setup();
    case 'point':
      return runPoint(m);
    case 'progress':
      return parentPort.postMessage({ type: 'progress', unique: point.unique, all: chatDeliveries, lastRecvNs: String(point.lastRecvNs) });
    case 'collect':
      return collect();
    case 'close':
      clearInterval(pingTimer);
      await Promise.all(users.map((u) => Promise.resolve(u.close()).catch(() => undefined)));
      parentPort.postMessage({ type: 'closed' });
      return;
  }
});
