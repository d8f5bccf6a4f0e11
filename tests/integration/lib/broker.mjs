// Direct broker access for the suites: an amqplib connection, passive checks, cleanup.
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const AMQP_URL = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
export const WS_URL = process.env.WS_URL || 'ws://127.0.0.1:15674/ws';
export const RMQ_NODE = process.env.RMQ_NODE || 'chatrelay@localhost';
export const RMQ_MGMT_PORT = Number(process.env.RMQ_MGMT_PORT || 15672);
export const AMQP_USER = decodeURIComponent(new URL(AMQP_URL).username || 'guest');
const AMQP_PASS = decodeURIComponent(new URL(AMQP_URL).password || 'guest');

export class Broker {
  constructor() {
    this.conn = null;
    this.pub = null; // confirm channel used for all publishes of the suite
    this.errors = [];
  }

  static async open() {
    const b = new Broker();
    b.conn = await amqp.connect(AMQP_URL);
    b.conn.on('error', (e) => b.errors.push(e));
    b.pub = await b.conn.createConfirmChannel();
    b.pub.on('error', (e) => b.errors.push(e));
    return b;
  }

  /** Publish a body (object -> JSON, string/Buffer raw) to a queue through the default exchange; waits for the confirm. */
  async publish(queue, body, props = {}) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    await new Promise((resolve, reject) => {
      this.pub.sendToQueue(queue, buf, { contentType: 'application/json', ...props }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Publish without waiting for each confirm (fast bursts); call flush() afterwards. */
  publishNoWait(queue, body, props = {}) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return this.pub.sendToQueue(queue, buf, { contentType: 'application/json', ...props });
  }

  async flush() { await this.pub.waitForConfirms(); }

  /** Passive declare on a throwaway channel: {exists, messageCount, consumerCount} or {exists:false, code}. */
  async checkQueue(name) {
    const ch = await this.conn.createChannel();
    ch.on('error', () => {});
    try {
      const ok = await ch.checkQueue(name);
      await ch.close().catch(() => {});
      return { exists: true, ...ok };
    } catch (e) {
      return { exists: false, code: e.code, message: e.message };
    }
  }

  async checkExchange(name) {
    const ch = await this.conn.createChannel();
    ch.on('error', () => {});
    try {
      await ch.checkExchange(name);
      await ch.close().catch(() => {});
      return { exists: true };
    } catch (e) {
      return { exists: false, code: e.code, message: e.message };
    }
  }

  /** Run fn(channel) on a throwaway channel; returns {ok, value} or {ok:false, code, message}. */
  async onChannel(fn) {
    const ch = await this.conn.createChannel();
    ch.on('error', () => {});
    try {
      const value = await fn(ch);
      await ch.close().catch(() => {});
      return { ok: true, value };
    } catch (e) {
      return { ok: false, code: e.code, message: e.message };
    }
  }

  async close() {
    try { await this.conn?.close(); } catch { /* */ }
  }
}

// ---- management / rabbitmqctl ------------------------------------------------------------------

async function mgmt(path, method = 'GET') {
  const res = await fetch(`http://127.0.0.1:${RMQ_MGMT_PORT}/api${path}`, {
    method,
    headers: { authorization: 'Basic ' + Buffer.from(`${AMQP_USER}:${AMQP_PASS}`).toString('base64') },
  });
  if (method === 'GET') {
    if (res.status !== 200) throw new Error(`mgmt ${path}: ${res.status}`);
    return res.json();
  }
  return res.status;
}

/** Queue info (durable, arguments, ...) from the management API, or null if it does not exist. */
export async function queueInfo(name) {
  try {
    return await mgmt(`/queues/%2F/${encodeURIComponent(name)}`);
  } catch {
    return null;
  }
}

export async function listNames(kind /* 'queues' | 'exchanges' */) {
  try {
    const items = await mgmt(`/${kind}/%2F?columns=name`);
    return items.map((x) => x.name);
  } catch {
    // fall back to rabbitmqctl
    const { stdout } = await execFileP('rabbitmqctl', ['-n', RMQ_NODE, '-q', `list_${kind}`, 'name', '--no-table-headers'], { timeout: 20000 });
    return stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  }
}

/**
 * Delete every queue/exchange of a suite: names starting with one of `prefixes`
 * (e.g. `it.<suite>.`, `chat.user.it.`), plus `extraQueues` by exact name.
 */
export async function cleanup(prefixes, { extraQueues = [], extraExchanges = [] } = {}) {
  const conn = await amqp.connect(AMQP_URL);
  conn.on('error', () => {});
  const del = async (kind, name) => {
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    try {
      if (kind === 'queues') await ch.deleteQueue(name);
      else await ch.deleteExchange(name);
      await ch.close().catch(() => {});
    } catch { /* gone already */ }
  };
  try {
    for (const kind of ['queues', 'exchanges']) {
      const names = await listNames(kind).catch(() => []);
      for (const n of names) if (prefixes.some((p) => n.startsWith(p))) await del(kind, n);
    }
    // exact names (e.g. the seed's `login`/`chat`) may belong to someone else's relay: only delete them when
    // nobody consumes them
    for (const q of extraQueues) {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      let busy = false;
      try { busy = (await ch.checkQueue(q)).consumerCount > 0; await ch.close().catch(() => {}); } catch { continue; }
      if (!busy) await del('queues', q);
    }
    for (const x of extraExchanges) await del('exchanges', x);
  } finally {
    await conn.close().catch(() => {});
  }
}

/** {exists, consumerCount} of a queue over a short-lived connection (for skip decisions at load time). */
export async function peekQueue(name) {
  const conn = await amqp.connect(AMQP_URL);
  conn.on('error', () => {});
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    const ok = await ch.checkQueue(name);
    return { exists: true, consumerCount: ok.consumerCount, messageCount: ok.messageCount };
  } catch {
    return { exists: false, consumerCount: 0, messageCount: 0 };
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Bindings of a queue from the management API ([{source, routing_key, ...}]), or null if it does not exist. */
export async function queueBindings(name) {
  try {
    return await mgmt(`/queues/%2F/${encodeURIComponent(name)}/bindings`);
  } catch {
    return null;
  }
}
