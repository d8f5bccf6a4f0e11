import type { Frame, StompTransport, Subscription, TransportFactory, TransportOptions } from '../src/client/transport';
import type { RelayConfig } from '../src/client/types';

export const CONFIG: RelayConfig = {
  wsUrl: 'ws://fake/ws',
  login: 'chat-web',
  passcode: 'chat-web',
  relayUser: 'chat-relay',
  defaultRoom: 'main',
  maxMessageSize: 100,
  keepaliveMs: 30000,
  loginQueue: 'login',
  chatQueue: 'chat',
};

export interface Sent {
  destination: string;
  body: string;
  headers: Record<string, string>;
  json: Record<string, unknown>;
}

/**
 * An in-memory stand-in for RabbitMQ's web-stomp: queues that exist, receipts, SUBSCRIBE to a missing
 * /amq/queue/Q answered with ERROR + close, and stompjs-like reconnects.
 */
export class FakeBroker {
  readonly queues = new Set<string>();
  readonly sent: Sent[] = [];
  readonly transports: FakeTransport[] = [];
  /** answer receipts automatically */
  autoReceipt = true;
  /** open the connection automatically on activate / after a close */
  autoConnect = true;
  /** send an ERROR frame before closing on a SUBSCRIBE to a missing queue (RabbitMQ mostly just closes) */
  errorOnMissingQueue = false;
  /** called for every SEND (after it was recorded) */
  onSend?: (s: Sent) => void;

  factory: TransportFactory = (opts) => {
    const t = new FakeTransport(this, opts);
    this.transports.push(t);
    return t;
  };

  get current(): FakeTransport {
    return this.transports[this.transports.length - 1];
  }

  sentTo(dest: string): Sent[] {
    return this.sent.filter((s) => s.destination === dest);
  }

  logins(): Record<string, unknown>[] {
    return this.sentTo('/amq/queue/login')
      .map((s) => s.json)
      .filter((j) => j.action === 'login');
  }

  chats(): Record<string, unknown>[] {
    return this.sentTo('/amq/queue/chat').map((s) => s.json);
  }

  /** messages waiting in a queue nobody consumes */
  readonly buffers = new Map<string, { body: unknown; userId: string | null }[]>();

  /** pushes a body into queue Q as user `userId` (the relay by default); buffered while nobody consumes */
  deliver(queue: string, body: unknown, userId: string | null = 'chat-relay'): void {
    if (!this.queues.has(queue)) return; // unroutable: dropped
    let n = 0;
    for (const t of this.transports) n += t.deliver(queue, body, userId);
    if (n === 0) {
      const b = this.buffers.get(queue) ?? [];
      b.push({ body, userId });
      this.buffers.set(queue, b);
    }
  }

  /** deletes a queue; its consumers get RabbitMQ's 'Server cancelled subscription' ERROR (connection stays open) */
  deleteQueue(queue: string): void {
    this.queues.delete(queue);
    this.buffers.delete(queue);
    for (const t of this.transports) t.cancel(queue);
  }
}

export class FakeTransport implements StompTransport {
  connected = false;
  active = false;
  subs = new Map<string, { destination: string; cb: (f: Frame) => void }>();
  receipts = new Map<string, (f: Frame) => void>();
  subscribeCount = 0;
  private seq = 0;

  constructor(
    private broker: FakeBroker,
    readonly opts: TransportOptions,
  ) {}

  activate(): void {
    this.active = true;
    if (this.broker.autoConnect) setTimeout(() => this.open(), 0);
  }

  async deactivate(): Promise<void> {
    this.active = false;
    if (this.connected) this.drop(false);
  }

  open(): void {
    if (!this.active || this.connected) return;
    this.connected = true;
    this.opts.onConnect();
  }

  /** the WebSocket closes (stompjs reconnects after reconnectDelay) */
  drop(reconnect = true): void {
    if (!this.connected) return;
    this.connected = false;
    this.subs.clear();
    this.receipts.clear();
    this.opts.onClose();
    if (reconnect && this.active && this.broker.autoConnect) setTimeout(() => this.open(), this.opts.reconnectDelayMs);
  }

  publish(destination: string, body: string, headers: Record<string, string> = {}): void {
    if (!this.connected) throw new Error('There is no underlying STOMP connection');
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(body);
    } catch {
      /* not JSON */
    }
    const s: Sent = { destination, body, headers, json };
    this.broker.sent.push(s);
    this.receipt(headers.receipt);
    this.broker.onSend?.(s);
  }

  subscribe(destination: string, cb: (f: Frame) => void, headers: Record<string, string> = {}): Subscription {
    if (!this.connected) throw new Error('There is no underlying STOMP connection');
    this.subscribeCount++;
    const id = `sub-${this.seq++}`;
    const q = destination.replace(/^\/amq\/queue\//, '');
    if (!this.broker.queues.has(q)) {
      // RabbitMQ: ERROR not_found, then the connection is closed
      setTimeout(() => {
        if (!this.connected) return;
        if (this.broker.errorOnMissingQueue)
          this.opts.onStompError({ headers: { message: 'not_found' }, body: `NOT_FOUND - no queue '${q}' in vhost '/'` });
        this.drop();
      }, 0);
    } else {
      this.subs.set(id, { destination, cb });
      this.receipt(headers.receipt);
      setTimeout(() => {
        const b = this.broker.buffers.get(q);
        if (!b || !this.subs.has(id)) return;
        this.broker.buffers.delete(q);
        for (const m of b) this.deliver(q, m.body, m.userId);
      }, 0);
    }
    return { unsubscribe: () => this.subs.delete(id) };
  }

  watchForReceipt(id: string, cb: (f: Frame) => void): void {
    if (!this.connected) throw new Error('There is no underlying STOMP connection');
    this.receipts.set(id, cb);
  }

  deliver(queue: string, body: unknown, userId: string | null): number {
    if (!this.connected) return 0;
    for (const s of this.subs.values()) {
      if (s.destination !== `/amq/queue/${queue}`) continue;
      const headers: Record<string, string> = { destination: s.destination };
      if (userId !== null) headers['user-id'] = userId;
      s.cb({ headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
      return 1;
    }
    return 0;
  }

  private receipt(id: string | undefined): void {
    if (!id || !this.broker.autoReceipt) return;
    setTimeout(() => {
      const cb = this.receipts.get(id);
      if (!cb || !this.connected) return;
      this.receipts.delete(id);
      cb({ headers: { 'receipt-id': id }, body: '' });
    }, 0);
  }

  cancel(queue: string): void {
    for (const [id, s] of [...this.subs]) {
      if (s.destination !== `/amq/queue/${queue}`) continue;
      this.subs.delete(id);
      this.opts.onStompError({
        headers: { message: 'Server cancelled subscription', subscription: id },
        body: 'The server has canceled a subscription.',
      });
    }
  }

  /** answers a receipt by hand (autoReceipt off) */
  ack(id: string): void {
    const cb = this.receipts.get(id);
    this.receipts.delete(id);
    cb?.({ headers: { 'receipt-id': id }, body: '' });
  }
}

/**
 * A scripted relay on top of FakeBroker: answers logins (declares Q, sends welcome), echoes chats to
 * every logged-in queue of the room, answers pings.
 */
export class FakeRelay {
  users = new Map<string, { queue: string; token: string; rooms: string[]; bound: Set<string> }>();
  /** like the relay before its fix: a queue stays bound to the rooms a re-login dropped */
  staleBindings = false;
  ids = new Map<string, number>();
  history = new Map<string, Record<string, unknown>[]>();
  /** declare Q only after this many SUBSCRIBE attempts were refused (the login race) */
  enabled = true;
  tokenSeq = 0;

  constructor(private broker: FakeBroker) {
    broker.onSend = (s) => {
      if (this.enabled) this.handle(s);
    };
  }

  handle(s: Sent): void {
    const j = s.json;
    if (s.destination === '/amq/queue/login' && j.action === 'login') {
      const login = String(j.login);
      const queue = String(j.queue);
      const rooms = (j.rooms as string[]) ?? ['main'];
      const old = this.users.get(login);
      // a login on the same queue continues the session: same token; rooms it drops are left
      const same = old !== undefined && old.queue === queue;
      const token = same ? old.token : `tok-${++this.tokenSeq}`;
      const fresh = !this.users.has(login);
      const bound = new Set(this.staleBindings && same ? [...old.bound, ...rooms] : rooms);
      if (same)
        for (const r of old.rooms.filter((x) => !rooms.includes(x)))
          for (const [, u] of this.users) if (u.bound.has(r)) this.broker.deliver(u.queue, { v: 1, type: 'leave', room: r, login, reason: 'replaced' });
      this.users.set(login, { queue, token, rooms, bound });
      this.broker.queues.add(queue);
      const users: Record<string, string[]> = {};
      const history: Record<string, unknown[]> = {};
      const since = (j.since as Record<string, number>) ?? {};
      for (const r of rooms) {
        users[r] = [...this.users.entries()].filter(([, u]) => u.rooms.includes(r)).map(([l]) => l);
        history[r] = (this.history.get(r) ?? []).filter((m) => (m.id as number) > (since[r] ?? 0));
      }
      this.broker.deliver(queue, { v: 1, type: 'welcome', login, token, rooms, users, history, resumed: j.since !== undefined });
      if (fresh)
        for (const [l, u] of this.users) if (l !== login) for (const r of rooms) if (u.rooms.includes(r)) this.broker.deliver(u.queue, { v: 1, type: 'join', room: r, login });
    } else if (s.destination === '/amq/queue/login' && j.action === 'logout') {
      const u = this.users.get(String(j.login));
      if (!u || u.token !== j.token) return;
      this.users.delete(String(j.login));
      this.broker.deleteQueue(u.queue);
      for (const [, o] of this.users) for (const r of u.rooms) if (o.rooms.includes(r)) this.broker.deliver(o.queue, { v: 1, type: 'leave', room: r, login: j.login, reason: 'logout' });
    } else if (s.destination === '/amq/queue/chat') {
      const u = this.users.get(String(j.sender));
      if (!u) return;
      if (u.token !== j.token) {
        this.broker.deliver(u.queue, { v: 1, type: 'error', code: 'bad_token', reason: 'bad token', cid: j.cid });
        return;
      }
      const room = String(j.room ?? u.rooms[0]);
      const id = (this.ids.get(room) ?? 0) + 1;
      this.ids.set(room, id);
      if (j.to) {
        const m = { v: 1, type: 'direct', id, ts: 1700000000000, sender: j.sender, to: j.to, message: j.message, cid: j.cid };
        const t = this.users.get(String(j.to));
        if (t) this.broker.deliver(t.queue, m);
        this.broker.deliver(u.queue, m);
        return;
      }
      const m = { v: 1, type: 'message', id, ts: 1700000000000, room, sender: j.sender, message: j.message, cid: j.cid };
      const h = this.history.get(room) ?? [];
      h.push(m);
      this.history.set(room, h);
      for (const [, o] of this.users) if (o.bound.has(room)) this.broker.deliver(o.queue, m);
    }
  }
}

export function fakeFetch(config: RelayConfig = CONFIG) {
  const calls: string[] = [];
  const f = async (url: string) => {
    calls.push(url);
    return { ok: true, status: 200, json: async () => config };
  };
  return Object.assign(f, { calls });
}
