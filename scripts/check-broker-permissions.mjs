#!/usr/bin/env node
// Checks that the private broker gives the browsers' user (chat-web) exactly what DESIGN.md asks:
// publish to the relay's queues through the default exchange, consume its own chat.user.* queue,
// and nothing else (no reading the `chat` queue, no declaring queues, no posing as the relay).
// Usage: node scripts/check-broker-permissions.mjs   (needs `npm ci --prefix scripts` once)
// Env: WS_URL (ws://127.0.0.1:15674/ws), STOMP_PORT (61613), MGMT_URL (http://127.0.0.1:15672), WEB_USER/WEB_PASSWORD.
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';
import net from 'node:net';

const WS_URL = process.env.WS_URL ?? `ws://127.0.0.1:${process.env.RMQ_WS_PORT ?? 15674}/ws`;
const MGMT_URL = process.env.MGMT_URL ?? `http://127.0.0.1:${process.env.RMQ_MGMT_PORT ?? 15672}`;
const STOMP_PORT = Number(process.env.STOMP_PORT ?? process.env.RMQ_STOMP_PORT ?? 61613);
const WEB_USER = process.env.WEB_USER ?? 'chat-web';
const WEB_PASSWORD = process.env.WEB_PASSWORD ?? 'chat-web';
const TIMEOUT_MS = 5000;
const userQueue = `chat.user.permcheck-${process.pid}`;
const guestAuth = 'Basic ' + Buffer.from('guest:guest').toString('base64');

let failed = 0;
let passed = 0;
function result(ok, name, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}

// Management HTTP API as guest (allowed from loopback only).
async function api(method, path, body) {
  const res = await fetch(`${MGMT_URL}/api/${path}`, {
    method,
    headers: { authorization: guestAuth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok && res.status !== 404) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// One STOMP session as chat-web; resolves once connected, rejects on ERROR/close before that.
function connect() {
  return new Promise((resolve, reject) => {
    const errors = [];
    const client = new Client({
      webSocketFactory: () => new WebSocket(WS_URL, ['v12.stomp', 'v11.stomp']),
      connectHeaders: { login: WEB_USER, passcode: WEB_PASSWORD, host: '/' },
      reconnectDelay: 0,
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
      debug: () => {},
    });
    client.errors = errors;
    client.onStompError = (frame) => errors.push(`${frame.headers.message ?? ''} ${frame.body ?? ''}`.trim());
    client.onConnect = () => resolve(client);
    client.onWebSocketClose = () => reject(new Error(`closed before CONNECTED: ${errors.join('; ') || 'no ERROR frame'}`));
    client.activate();
  });
}

// One frame over plain STOMP (TCP) as chat-web: 'RECEIPT' or '<ERROR message>: <body>'.
function tcpStomp(lines, body = '{}') {
  return new Promise((resolve) => {
    let buf = '';
    let done = false;
    const finish = (v) => { if (!done) { done = true; sock.destroy(); resolve(v); } };
    const sock = net.connect(STOMP_PORT, '127.0.0.1', () => {
      sock.write(`CONNECT\naccept-version:1.2\nhost:/\nlogin:${WEB_USER}\npasscode:${WEB_PASSWORD}\n\n\0`);
    });
    sock.setTimeout(TIMEOUT_MS, () => finish('timeout'));
    sock.on('error', (e) => finish(`socket error ${e.message}`));
    sock.on('close', () => finish(buf.includes('RECEIPT') ? 'RECEIPT' : 'closed without ERROR'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.startsWith('CONNECTED') && !sock.sentFrame) {
        sock.sentFrame = true;
        sock.write(`${lines.join('\n')}\ncontent-type:application/json\n\n${body}\0`);
      }
      const err = buf.match(/ERROR\n(?:[^\n]*\n)*?message:([^\n]*)\n[\s\S]*?\n\n([^\0]*)\0/);
      if (err) finish(`${err[1]}: ${err[2]}`.slice(0, 160));
      else if (/\nRECEIPT\n|^RECEIPT\n/.test(buf.replace(/^CONNECTED[^\0]*\0\n*/, '\n'))) finish('RECEIPT');
    });
  });
}

function waitFor(pred, ms = TIMEOUT_MS) {
  return new Promise((resolve) => {
    const start = Date.now();
    const tick = () => {
      const v = pred();
      if (v || Date.now() - start > ms) resolve(v);
      else setTimeout(tick, 50);
    };
    tick();
  });
}

// SEND with a receipt: true when the broker confirmed it, else the ERROR text.
async function sendWithReceipt(client, destination, body, headers = {}) {
  let receipted = false;
  const receipt = `r-${Math.random().toString(36).slice(2)}`;
  client.watchForReceipt(receipt, () => { receipted = true; });
  client.publish({ destination, body, headers: { ...headers, receipt, 'content-type': 'application/json' } });
  await waitFor(() => receipted || client.errors.length > 0);
  return receipted ? true : client.errors.join('; ') || 'no receipt';
}

async function main() {
  console.log(`broker permission check: ${WEB_USER} on ${WS_URL}`);
  // The relay declares these (durable, no arguments); make sure they exist for the check.
  const chatExisted = (await api('GET', 'queues/%2F/chat')).error === undefined;
  await api('PUT', 'queues/%2F/chat', { durable: true, auto_delete: false, arguments: {} });
  await api('PUT', `queues/%2F/${encodeURIComponent(userQueue)}`, { durable: false, auto_delete: false, arguments: {} });

  try {
    // 1. SEND to /amq/queue/chat (default exchange, routing key chat) is allowed.
    {
      const c = await connect();
      const r = await sendWithReceipt(c, '/amq/queue/chat', JSON.stringify({ check: 'broker-permissions' }));
      result(r === true, 'chat-web SEND /amq/queue/chat is accepted', r === true ? 'receipt' : r);
      await c.deactivate();
    }

    // 2. SUBSCRIBE to its own /amq/queue/chat.user.* works and receives what is published there.
    {
      const c = await connect();
      const got = [];
      c.subscribe(`/amq/queue/${userQueue}`, (m) => got.push(m.body), { ack: 'auto' });
      await new Promise((r) => setTimeout(r, 300));
      await api('POST', 'exchanges/%2F/amq.default/publish', {
        properties: {}, routing_key: userQueue, payload: '{"type":"permcheck"}', payload_encoding: 'string',
      });
      await waitFor(() => got.length > 0 || c.errors.length > 0);
      result(got.length === 1 && c.errors.length === 0, `chat-web SUBSCRIBE /amq/queue/${userQueue} receives`,
        c.errors.join('; ') || `${got.length} message(s)`);
      await c.deactivate();
    }

    // Refusals. Over web-stomp, RabbitMQ 3.10 closes the WebSocket (code 1000, "STOMP died") and
    // the ERROR frame it logs never reaches the client; plain STOMP over TCP does deliver it, so
    // the reason is checked there.
    // 3. Reading the relay's `chat` queue is refused.
    {
      const c = await connect();
      const got = [];
      let closed = false;
      c.onWebSocketClose = () => { closed = true; };
      c.subscribe('/amq/queue/chat', (m) => got.push(m.body));
      await waitFor(() => closed || c.errors.length > 0);
      result((closed || c.errors.length > 0) && got.length === 0, 'chat-web SUBSCRIBE /amq/queue/chat is refused (web-stomp)',
        c.errors.join('; ').slice(0, 120) || (closed ? 'connection closed' : 'still open'));
      await c.deactivate();
      const r = await tcpStomp(['SUBSCRIBE', 'id:1', 'destination:/amq/queue/chat', 'receipt:s1']);
      result(/^access_refused/.test(r), 'chat-web SUBSCRIBE /amq/queue/chat is refused (STOMP)', r);
    }
    // 4. Declaring queues is refused: chat-web has no configure permission. An unprefixed or
    //    /queue/ destination declares (even an existing queue), so browsers must SEND to
    //    /amq/queue/login and /amq/queue/chat and subscribe through /amq/queue/<their queue>.
    {
      const r = await tcpStomp(['SEND', `destination:/queue/chat.user.declared-${process.pid}`, 'receipt:s2']);
      result(/^access_refused/.test(r), 'chat-web SEND /queue/<new> (declares) is refused', r);
      const r2 = await tcpStomp(['SEND', 'destination:chat', 'receipt:s3']);
      result(/^access_refused/.test(r2), 'chat-web SEND chat (unprefixed, declares) is refused', r2);
    }
    // 5. A user-id header naming another user (the relay) is refused: nobody can pose as the relay.
    {
      const r = await tcpStomp(['SEND', 'destination:/amq/queue/chat', 'user-id:chat-relay', 'receipt:s4']);
      result(/^precondition_failed/.test(r), 'chat-web SEND with user-id:chat-relay is refused', r);
    }
    // 6. Publishing to any other exchange is refused.
    {
      const r = await tcpStomp(['SEND', 'destination:/exchange/amq.fanout/x', 'receipt:s5']);
      result(/^access_refused/.test(r), 'chat-web SEND /exchange/amq.fanout is refused', r);
    }
  } finally {
    // Leave the broker as found: a `chat` queue the check created is deleted; in an existing one
    // the probe is purged only when nothing else is queued there and nobody consumes.
    await api('DELETE', `queues/%2F/${encodeURIComponent(userQueue)}`).catch(() => {});
    const q = await api('GET', 'queues/%2F/chat').catch(() => null);
    if (q && q.consumers === 0) {
      if (!chatExisted) {
        await api('DELETE', 'queues/%2F/chat').catch(() => {});
      } else {
        const msgs = await api('POST', 'queues/%2F/chat/get', { count: 100, ackmode: 'ack_requeue_true', encoding: 'auto' })
          .catch(() => null);
        if (msgs && msgs.length > 0 && msgs.every((m) => m.payload.includes('"check":"broker-permissions"'))) {
          await api('DELETE', 'queues/%2F/chat/contents').catch(() => {});
        }
      }
    }
  }
  console.log(`permissions: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`broker permission check failed: ${e.message}`);
  process.exit(1);
});
