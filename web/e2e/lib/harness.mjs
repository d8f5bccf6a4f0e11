// e2e helpers: start chat-relayd against a running broker, drive Chromium with playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = join(WEB_DIR, 'e2e', 'artifacts');

export const env = {
  amqpUrl: process.env.AMQP_URL || 'amqp://127.0.0.1:5672',
  wsUrl: process.env.WS_URL || 'ws://127.0.0.1:15674/ws',
  relayBin: resolve(WEB_DIR, process.env.RELAY_BIN || '../build/chat-relayd'),
  relayUser: process.env.RELAY_AMQP_USER || 'chat-relay',
  relayPassword: process.env.RELAY_AMQP_PASSWORD || process.env.RELAY_AMQP_USER || 'chat-relay',
  mgmtUrl: process.env.MGMT_URL || 'http://127.0.0.1:15672',
  mgmtUser: process.env.MGMT_USER || 'guest',
  mgmtPassword: process.env.MGMT_PASSWORD || 'guest',
  webUser: process.env.WEB_USER || 'chat-web',
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** builds web/dist when it is missing */
export function ensureBuilt() {
  if (existsSync(join(WEB_DIR, 'dist', 'index.html'))) return;
  const r = spawnSync('npx', ['vite', 'build'], { cwd: WEB_DIR, stdio: 'inherit', timeout: 120000 });
  if (r.status !== 0) throw new Error('vite build failed');
}

function amqpParts(url) {
  const u = new URL(url);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 5672),
    vhost: u.pathname && u.pathname !== '/' ? decodeURIComponent(u.pathname.slice(1)) : '/',
  };
}

/**
 * Starts chat-relayd with a temp INI config (own HTTP port, web-root = web/dist) and waits for /readyz.
 * Returns { url, pid, logs(), stop() }.
 */
export async function startRelay(extra = {}) {
  if (!existsSync(env.relayBin)) throw new Error(`relay binary not found: ${env.relayBin} (set RELAY_BIN)`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chat-e2e-'));
  const a = amqpParts(env.amqpUrl);
  const settings = {
    id: `e2e-${process.pid}`,
    'amqp-host': a.host,
    'amqp-port': a.port,
    'amqp-vhost': a.vhost,
    'amqp-user': env.relayUser,
    'amqp-password': env.relayPassword,
    http: `127.0.0.1:${port}`,
    'web-root': join(WEB_DIR, 'dist'),
    'web-stomp-url': env.wsUrl,
    'web-user': env.webUser,
    'web-password': process.env.WEB_PASSWORD || env.webUser,
    ...extra,
  };
  const ini =
    '[relay]\n' +
    Object.entries(settings)
      .map(([k, v]) => `${k}=${typeof v === 'number' || /^\d+(ms|s|min|h)$/.test(String(v)) ? v : JSON.stringify(String(v))}`)
      .join('\n') +
    '\n';
  const cfg = join(dir, 'relay.ini');
  writeFileSync(cfg, ini);
  const proc = spawn(env.relayBin, [`--config-file=${cfg}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  let exited = null;
  proc.on('exit', (code, sig) => (exited = { code, sig }));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited === null && proc.pid) {
      try {
        process.kill(proc.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 50 && exited === null; i++) await sleep(100);
      if (exited === null) {
        try {
          process.kill(proc.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30000;
  for (;;) {
    if (exited !== null) {
      await stop();
      throw new Error(`chat-relayd exited (${JSON.stringify(exited)}):\n${out}\nconfig:\n${ini}`);
    }
    try {
      const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`chat-relayd not ready within 30 s:\n${out}`);
    }
    await sleep(200);
  }
  return { url, pid: proc.pid, logs: () => out, stop };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: env.chromium,
    timeout: 30000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A page with a name; records dialogs (an alert means an XSS), page errors and WebSockets.
 * `opts`: `viewport`, `colorScheme` ('light' | 'dark'), `permissions` (e.g. ['notifications']),
 * `recordNotifications` (wraps window.Notification: every one shown lands in window.__notifications).
 */
export async function openPage(browser, baseUrl, opts = {}) {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1000, height: 620 },
    colorScheme: opts.colorScheme ?? 'light',
    permissions: opts.permissions ?? [],
    // chat-relayd compresses static files with brotli on every request: 1-2 s for the JS bundle on this
    // machine (curl -H 'Accept-Encoding: br'), against 0.1 s with gzip. Until the relay serves them
    // faster, the pages ask for gzip, or the suite spends half its time loading the page.
    // E2E_BROTLI=1 keeps Chromium's own Accept-Encoding.
    extraHTTPHeaders: process.env.E2E_BROTLI === '1' ? {} : { 'accept-encoding': 'gzip, deflate' },
  });
  if (opts.recordNotifications) await context.addInitScript(recordNotifications);
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const rec = { dialogs: [], errors: [], websockets: 0, console: [] };
  page.on('dialog', (d) => {
    rec.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => rec.errors.push(String(e)));
  page.on('console', (m) => rec.console.push(`${m.type()}: ${m.text()}`));
  page.on('websocket', () => rec.websockets++);
  await page.goto(`${baseUrl}/?debug`);
  return { context, page, rec };
}

export async function login(page, name, rooms = '') {
  await page.getByLabel('Name', { exact: true }).fill(name);
  if (rooms) await page.getByLabel('Rooms (optional)', { exact: true }).fill(rooms);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="state-badge"][data-state="online"]').waitFor({ timeout: 20000 });
}

/** logs `names[i]` in on `pages[i]` (into `rooms`, if given) and waits until every page shows them all */
export async function loginTogether(pages, names, rooms = '') {
  for (let i = 0; i < pages.length; i++) await login(pages[i], names[i], rooms);
  for (const page of pages) await waitForUsers(page, names);
}

export async function send(page, text) {
  const input = page.getByLabel('Message', { exact: true });
  await input.fill(text);
  await input.press('Enter');
}

/** waits until `page` shows exactly the set of users `names` (sorted) */
export async function waitForUsers(page, names, timeout = 15000) {
  const want = [...names].sort();
  await page.waitForFunction(
    (w) => {
      const got = [...document.querySelectorAll('[data-testid="user"]')].map((e) => e.getAttribute('data-user')).sort();
      return JSON.stringify(got) === JSON.stringify(w);
    },
    want,
    { timeout },
  );
}

/** number of message texts equal to `text` */
export async function countMessages(page, text) {
  return page.evaluate(
    (t) => [...document.querySelectorAll('[data-testid="message-text"]')].filter((e) => e.textContent === t).length,
    text,
  );
}

export async function waitForMessage(page, text, timeout = 15000) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('[data-testid="message-text"]')].some((e) => e.textContent === t),
    text,
    { timeout },
  );
}

function mgmtHeaders() {
  return { authorization: 'Basic ' + Buffer.from(`${env.mgmtUser}:${env.mgmtPassword}`).toString('base64') };
}

/** web-stomp connections of the browser user, from the management API */
export async function webStompConnections() {
  const r = await fetch(`${env.mgmtUrl}/api/connections?columns=name,user,protocol`, {
    headers: mgmtHeaders(),
    signal: AbortSignal.timeout(5000),
  });
  if (!r.ok) throw new Error(`management API: HTTP ${r.status}`);
  const list = await r.json();
  return list.filter((c) => c.user === env.webUser && /stomp/i.test(String(c.protocol)));
}

/** closes every web-stomp connection of the browser user (waits until at least `min` are listed) */
export async function closeWebStompConnections(min = 1, timeout = 20000) {
  const deadline = Date.now() + timeout;
  let conns = [];
  for (;;) {
    conns = await webStompConnections();
    if (conns.length >= min) break;
    if (Date.now() > deadline) throw new Error(`only ${conns.length} web-stomp connections listed, wanted ${min}`);
    await sleep(500);
  }
  for (const c of conns) {
    const r = await fetch(`${env.mgmtUrl}/api/connections/${encodeURIComponent(c.name)}`, {
      method: 'DELETE',
      headers: { ...mgmtHeaders(), 'x-reason': 'e2e: drop the WebSocket' },
      signal: AbortSignal.timeout(5000),
    });
    if (!r.ok && r.status !== 404) throw new Error(`DELETE connection ${c.name}: HTTP ${r.status}`);
  }
  return conns.length;
}

export function uniq(prefix) {
  return `${prefix}${Math.random().toString(36).slice(2, 7)}`;
}

/** names of the chat.user.* queues (management API) */
export async function userQueues() {
  const r = await fetch(`${env.mgmtUrl}/api/queues?columns=name`, { headers: mgmtHeaders(), signal: AbortSignal.timeout(5000) });
  if (!r.ok) throw new Error(`management API: HTTP ${r.status}`);
  return (await r.json()).map((q) => q.name).filter((n) => n.startsWith('chat.user.'));
}

export async function deleteQueue(name, vhost = '/') {
  const r = await fetch(`${env.mgmtUrl}/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`, {
    method: 'DELETE',
    headers: mgmtHeaders(),
    signal: AbortSignal.timeout(5000),
  });
  if (!r.ok && r.status !== 404) throw new Error(`DELETE queue ${name}: HTTP ${r.status}`);
}

/** runs in the page: keeps every Notification shown in window.__notifications (and still shows it) */
function recordNotifications() {
  const Real = window.Notification;
  if (!Real) return;
  window.__notifications = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: options?.body ?? '' });
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = (...a) => Real.requestPermission(...a);
  window.Notification = Recorded;
}

/**
 * Puts the page's WebSockets behind a switch (Playwright routes them through itself): `cut()` closes
 * them and refuses new ones until `restore()`, like a network outage the broker does not see coming.
 */
export async function wsSwitch(page) {
  let down = false;
  let holdReceipts = false;
  const sends = [];
  const live = new Set();
  await page.routeWebSocket(
    (url) => url.pathname === new URL(env.wsUrl).pathname,
    (ws) => {
      if (down) {
        ws.close({ code: 1001, reason: 'e2e: network down' }).catch(() => undefined);
        return;
      }
      const server = ws.connectToServer();
      const entry = { ws, server };
      live.add(entry);
      ws.onClose(() => live.delete(entry));
      // forwarded by hand, to count what the page sends and to hold back receipts when asked
      ws.onMessage((m) => {
        if (typeof m === 'string' && m.startsWith('SEND\n')) sends.push(m);
        server.send(m);
      });
      server.onMessage((m) => {
        if (holdReceipts && typeof m === 'string' && /^RECEIPT\n[^]*receipt-id:chat-/.test(m)) return;
        ws.send(m);
      });
    },
  );
  return {
    /** every STOMP SEND frame the page sent so far */
    sends,
    /** from now on the broker's receipts for chat messages never reach the page */
    holdReceipts() {
      holdReceipts = true;
    },
    async cut() {
      down = true;
      for (const { ws, server } of [...live]) {
        await server.close().catch(() => undefined);
        await ws.close({ code: 1001, reason: 'e2e: network down' }).catch(() => undefined);
      }
      live.clear();
    },
    restore() {
      down = false;
      holdReceipts = false;
    },
  };
}

/** the page's conversation list entry for a room (or a direct conversation with `peer`) */
export function roomEntry(page, room) {
  return page.locator(`[data-testid="room"][data-room="${room}"]`);
}
export function dmEntry(page, peer) {
  return page.locator(`[data-testid="dm"][data-peer="${peer}"]`);
}

/** joins `room` from the sidebar and waits until it is the open conversation */
export async function joinRoom(page, room) {
  await page.getByLabel('Room to join', { exact: true }).fill(room);
  await page.getByTestId('join-button').click();
  await page.locator('[data-testid="conv-title"]', { hasText: `#${room}` }).waitFor();
  await roomEntry(page, room).locator('[data-testid="room-button"]:not([disabled])').waitFor({ state: 'attached' }); // a drawer closes
}

/**
 * A browser suite's plumbing, for use inside `describe`: the bundle built, one relay and one
 * Chromium for the suite; `open(opts)` gives a fresh page, whose context `closeAll` (register it
 * with `t.after` in each test) closes.
 */
export function useBrowser() {
  let relay;
  let browser;
  const contexts = [];
  const suite = {
    async open(opts) {
      const p = await openPage(browser, relay.url, opts);
      contexts.push(p.context);
      return p;
    },
    async closeAll() {
      while (contexts.length) await contexts.pop().close().catch(() => undefined);
    },
  };
  before(async () => {
    ensureBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    relay = await startRelay();
    browser = await launchBrowser();
  });
  after(async () => {
    await suite.closeAll();
    await browser?.close().catch(() => undefined);
    await relay?.stop();
  });
  return suite;
}
