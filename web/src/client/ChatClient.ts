import type {
  BatchEvent,
  ChatMessage,
  ClientError,
  ConnectionState,
  DirectMessage,
  JoinEvent,
  LeaveEvent,
  RelayConfig,
  RelayError,
  Welcome,
} from './types';
import { stompjsTransport, type Frame, type StompTransport, type Subscription, type TransportFactory } from './transport';
import { LOGIN_RE, MAX_ROOMS, ROOM_RE, randomId, utf8Length } from './validate';

/** STOMP destinations of the default queue names (the config's loginQueue/chatQueue override them) */
export const LOGIN_DEST = '/amq/queue/login';
export const CHAT_DEST = '/amq/queue/chat';
const QUEUE_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** relay errors that answer a login (docs/protocol.md) */
const LOGIN_ERRORS = new Set(['bad_room', 'bad_value', 'bad_login', 'bad_queue', 'too_large', 'missing_field', 'bad_type']);

export interface ChatEvents {
  welcome: (w: Welcome) => void;
  /** `meta.history`: from a welcome's history of a room seen for the first time (old, not missed) */
  message: (m: ChatMessage, meta: MessageMeta) => void;
  /**
   * The room messages of one `batch` frame that are new (the same checks and de-duplication as for
   * `message`), in order: emitted once per frame instead of one `message` each, so a view updates once.
   */
  messages: (ms: ChatMessage[], meta: MessageMeta) => void;
  direct: (m: DirectMessage) => void;
  join: (e: JoinEvent) => void;
  leave: (e: LeaveEvent) => void;
  error: (e: ClientError) => void;
  state: (s: ConnectionState) => void;
  /** the online users of a room changed (welcome, join, leave) */
  presence: (room: string, users: string[]) => void;
  /** the rooms of the session changed: `rooms` wanted (in order), `joining` not yet confirmed by a welcome */
  rooms: (rooms: string[], joining: string[]) => void;
  /** a chat message's way out: queued (no connection), sending (no RECEIPT yet), sent (the broker has it), failed */
  outbox: (cid: string, status: OutboxStatus) => void;
}

export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed';

export interface MessageMeta {
  history: boolean;
}

interface RoomWaiter {
  /** true when the last welcome shows the change done */
  done: () => boolean;
  /** undoes the change locally when the relay never confirms it */
  undo: () => void;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface ChatClientOptions {
  /** STOMP transport factory (default: @stomp/stompjs over WebSocket); tests inject a fake */
  transport?: TransportFactory;
  /** fetch used to load the config (default: globalThis.fetch) */
  fetch?: (url: string) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;
  /** where connect() loads the config from when not given an object (default `/config.json`) */
  configUrl?: string;
  /** resend a SEND (same cid) when its RECEIPT has not come within this time (default 5000 ms) */
  receiptTimeoutMs?: number;
  /** delay before the transport reconnects (default 300 ms) */
  reconnectDelayMs?: number;
  /** STOMP heart-beats in both directions (default 10000 ms) */
  heartbeatMs?: number;
  /** wait between the login's RECEIPT and the first SUBSCRIBE (default 100 ms) */
  subscribeDelayMs?: number;
  /** after this many failed SUBSCRIBEs of an established session, log in again with `since` (default 3) */
  resumeAfterFailures?: number;
  /** login() rejects when no welcome came within this time (default 15000 ms) */
  loginTimeoutMs?: number;
  /** connect() rejects when the first STOMP connection did not come up within this time (default 10000 ms) */
  connectTimeoutMs?: number;
  /** give up a chat message after this many sends without receipt (default 12) */
  maxSendAttempts?: number;
  /** debug log sink */
  log?: (msg: string) => void;
}

export interface SendOptions {
  room?: string;
  to?: string;
}

interface OutboxEntry {
  cid: string;
  message: string;
  room: string;
  to?: string;
  attempts: number;
  timer?: ReturnType<typeof setTimeout>;
  sentWithToken?: string;
  status?: OutboxStatus;
}

type Phase = 'none' | 'pending' | 'active';

const DEFAULTS = {
  receiptTimeoutMs: 5000,
  reconnectDelayMs: 300,
  heartbeatMs: 10000,
  subscribeDelayMs: 100,
  resumeAfterFailures: 3,
  loginTimeoutMs: 15000,
  connectTimeoutMs: 10000,
  maxSendAttempts: 12,
};

/** Remembers the last `cap` keys (insertion order). */
class BoundedSet {
  private s = new Set<string>();
  constructor(private cap: number) {}
  has(k: string): boolean {
    return this.s.has(k);
  }
  add(k: string): void {
    this.s.add(k);
    if (this.s.size > this.cap) {
      const first = this.s.values().next().value;
      if (first !== undefined) this.s.delete(first);
    }
  }
  clear(): void {
    this.s.clear();
  }
}

function normalizeConfig(c: Partial<RelayConfig>): RelayConfig {
  if (!c || typeof c.wsUrl !== 'string' || c.wsUrl === '') throw new Error('config: wsUrl missing');
  return {
    wsUrl: c.wsUrl,
    login: c.login ?? '',
    passcode: c.passcode ?? '',
    relayUser: c.relayUser ?? '',
    defaultRoom: c.defaultRoom || 'main',
    maxMessageSize: typeof c.maxMessageSize === 'number' && c.maxMessageSize > 0 ? c.maxMessageSize : 16384,
    keepaliveMs: typeof c.keepaliveMs === 'number' && c.keepaliveMs > 0 ? c.keepaliveMs : 60000,
    loginQueue: typeof c.loginQueue === 'string' && QUEUE_RE.test(c.loginQueue) ? c.loginQueue : 'login',
    chatQueue: typeof c.chatQueue === 'string' && QUEUE_RE.test(c.chatQueue) ? c.chatQueue : 'chat',
  };
}

/**
 * Chat relay client: owns the protocol (docs/protocol.md) over STOMP. No UI in here.
 *
 * Usage: `const c = new ChatClient(); await c.connect(); await c.login('alice', ['main']);
 * c.on('message', m => ...); c.send('hi', {room: 'main'}); c.logout();`
 */
export class ChatClient {
  private opts: typeof DEFAULTS & ChatClientOptions;
  private listeners: { [K in keyof ChatEvents]?: Set<ChatEvents[K]> } = {};
  private transport: StompTransport | null = null;
  private _config: RelayConfig | null = null;
  private _state: ConnectionState = 'offline';

  private phase: Phase = 'none';
  private _me = '';
  /** the rooms this session wants (sent with every login); `confirmed`: the ones the last welcome listed */
  private _rooms: string[] = [];
  private confirmed = new Set<string>();
  private roomWaiters: RoomWaiter[] = [];
  private queue = '';
  private _token: string | null = null;
  private loginAcked = false;
  private loginSeq = 0;
  private loginTimer?: ReturnType<typeof setTimeout>;
  private loginReceiptTimer?: ReturnType<typeof setTimeout>;
  private loginDeadline?: ReturnType<typeof setTimeout>;
  private loginWaiter: { resolve: (w: Welcome) => void; reject: (e: Error) => void } | null = null;
  private resuming = false;
  private resumeTimes: number[] = [];

  private sub: Subscription | null = null;
  private subscribed = false;
  private subSeq = 0;
  private subFailures = 0;
  private subTimer?: ReturnType<typeof setTimeout>;

  private outbox = new Map<string, OutboxEntry>();
  /** sends the broker confirmed recently: re-queued if the relay answers not_logged_in for them */
  private recent = new Map<string, OutboxEntry>();
  private pingTimer?: ReturnType<typeof setInterval>;

  private seen = new BoundedSet(5000);
  private lastIds = new Map<string, number>();
  private presence = new Map<string, Set<string>>();

  private connectWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private connectTimer?: ReturnType<typeof setTimeout>;

  constructor(options: ChatClientOptions = {}) {
    this.opts = { ...DEFAULTS, ...options };
  }

  // ---------------------------------------------------------------- public API

  get state(): ConnectionState {
    return this._state;
  }
  get config(): RelayConfig | null {
    return this._config;
  }
  /** the login of this session ('' before login) */
  get me(): string {
    return this._me;
  }
  /** the session's rooms, including the ones being joined (see `joining`) */
  get rooms(): string[] {
    return [...this._rooms];
  }
  /** rooms asked for but not yet confirmed by the relay's welcome */
  get joining(): string[] {
    return this._rooms.filter((r) => !this.confirmed.has(r));
  }
  get token(): string | null {
    return this._token;
  }
  /** the user queue name (chat.user.<uuid>) */
  get queueName(): string {
    return this.queue;
  }
  /** true while the user queue is subscribed (SUBSCRIBE confirmed by a RECEIPT) */
  get isSubscribed(): boolean {
    return this.subscribed;
  }
  /** chat messages sent but not yet confirmed by a broker RECEIPT */
  get pendingCount(): number {
    return this.outbox.size;
  }
  /** online users of `room`, sorted */
  users(room: string): string[] {
    return [...(this.presence.get(room) ?? [])].sort((a, b) => a.localeCompare(b));
  }
  /** highest message id seen per room (what a resume sends as `since`) */
  lastIdsByRoom(): Record<string, number> {
    return Object.fromEntries(this.lastIds);
  }

  on<K extends keyof ChatEvents>(event: K, fn: ChatEvents[K]): () => void {
    let set = this.listeners[event] as Set<ChatEvents[K]> | undefined;
    if (!set) {
      set = new Set();
      (this.listeners as Record<string, Set<unknown>>)[event] = set;
    }
    set.add(fn);
    return () => {
      set!.delete(fn);
    };
  }

  /** Loads the config (from `configUrl` or the URL given, unless an object is given) and opens the STOMP connection. */
  async connect(config?: Partial<RelayConfig> | string): Promise<RelayConfig> {
    if (this.transport) throw new Error('already connected');
    let cfg: RelayConfig;
    if (config && typeof config === 'object') {
      cfg = normalizeConfig(config);
    } else {
      cfg = await ChatClient.loadConfig(typeof config === 'string' ? config : this.opts.configUrl, this.opts.fetch);
    }
    this._config = cfg;
    this.setState('connecting');
    const factory = this.opts.transport ?? stompjsTransport;
    const t = factory({
      brokerURL: cfg.wsUrl,
      login: cfg.login,
      passcode: cfg.passcode,
      heartbeatMs: this.opts.heartbeatMs,
      reconnectDelayMs: this.opts.reconnectDelayMs,
      onConnect: () => this.onConnect(t),
      onStompError: (f) => this.onStompError(t, f),
      onClose: () => this.onClose(t),
    });
    this.transport = t;
    const p = new Promise<void>((resolve, reject) => {
      this.connectWaiter = { resolve, reject };
    });
    this.connectTimer = setTimeout(() => {
      const w = this.connectWaiter;
      if (!w) return;
      this.connectWaiter = null;
      this.shutdown();
      w.reject(new Error(`could not connect to ${cfg.wsUrl}`));
    }, this.opts.connectTimeoutMs);
    t.activate();
    await p;
    return cfg;
  }

  /** Fetches and validates `/config.json`. */
  static async loadConfig(url = '/config.json', fetchFn?: ChatClientOptions['fetch']): Promise<RelayConfig> {
    const f = fetchFn ?? ((u: string) => globalThis.fetch(u, { cache: 'no-store' }));
    const res = await f(url);
    if (!res.ok) throw new Error(`config: HTTP ${res.status} from ${url}`);
    return normalizeConfig((await res.json()) as Partial<RelayConfig>);
  }

  /**
   * Logs in as `name` in `rooms` (default: the config's defaultRoom). Resolves with the relay's welcome,
   * rejects on a relay error (bad_login, duplicate_login, ...) or when no welcome comes in time.
   */
  login(name: string, rooms?: string[]): Promise<Welcome> {
    if (!this._config || !this.transport) return Promise.reject(new Error('connect() first'));
    if (this.phase !== 'none') return Promise.reject(new Error('already logged in'));
    if (!LOGIN_RE.test(name)) return Promise.reject(new Error('invalid login name'));
    const rs = rooms && rooms.length > 0 ? [...new Set(rooms)] : [this._config.defaultRoom];
    if (rs.length > MAX_ROOMS || !rs.every((r) => ROOM_RE.test(r))) return Promise.reject(new Error('invalid room'));
    this._me = name;
    this._rooms = rs;
    this.confirmed.clear();
    this.lastIds.clear();
    this.seen.clear();
    this.queue = `chat.user.${randomId()}`;
    this.phase = 'pending';
    this._token = null;
    this.loginAcked = false;
    this.subFailures = 0;
    this.setState('connecting');
    const p = new Promise<Welcome>((resolve, reject) => {
      this.loginWaiter = { resolve, reject };
    });
    this.loginDeadline = setTimeout(() => {
      this.failLogin({ code: 'client_timeout', reason: 'the relay did not answer the login' });
    }, this.opts.loginTimeoutMs);
    if (this.transport.connected) this.sendLogin();
    return p;
  }

  /**
   * Sends a chat message (to `room`, default the first room; or directly to `to`). Returns its cid.
   * The SEND is repeated with the same cid until the broker confirms it with a RECEIPT.
   */
  send(text: string, opts: SendOptions = {}): string {
    if (this.phase !== 'active' || !this._config) throw new Error('not logged in');
    if (typeof text !== 'string' || text.length === 0) throw new Error('empty message');
    if (utf8Length(text) > this._config.maxMessageSize)
      throw new Error(`message too long (max ${this._config.maxMessageSize} bytes)`);
    // a direct message names a room too: the first one the relay confirmed
    const room = opts.room ?? this._rooms.find((r) => this.confirmed.has(r)) ?? this._rooms[0];
    if (!this._rooms.includes(room)) throw new Error(`not in room ${room}`);
    if (!this.confirmed.has(room)) throw new Error(`still joining room ${room}`);
    if (opts.to !== undefined && !LOGIN_RE.test(opts.to)) throw new Error('invalid recipient');
    const entry: OutboxEntry = { cid: randomId(), message: text, room, to: opts.to, attempts: 0 };
    this.outbox.set(entry.cid, entry);
    this.trySend(entry);
    return entry.cid;
  }

  /**
   * Joins `room` without logging out: a login on the same queue with the longer room list continues
   * the session (same token, a new welcome). Resolves when the relay's welcome lists the room.
   */
  joinRoom(room: string): Promise<void> {
    if (!ROOM_RE.test(room)) return Promise.reject(new Error('invalid room name'));
    if (this._rooms.includes(room)) return Promise.resolve();
    if (this._rooms.length >= MAX_ROOMS) return Promise.reject(new Error(`at most ${MAX_ROOMS} rooms`));
    return this.changeRooms([...this._rooms, room], {
      done: () => this.confirmed.has(room),
      undo: () => {
        this._rooms = this._rooms.filter((r) => r !== room);
      },
    });
  }

  /**
   * Leaves `room` (a login on the same queue without it). From now on nothing of that room is
   * delivered to the listeners, even when the broker still routes it to our queue.
   */
  leaveRoom(room: string): Promise<void> {
    if (!this._rooms.includes(room)) return Promise.resolve();
    if (this._rooms.length === 1) return Promise.reject(new Error('cannot leave the last room'));
    return this.changeRooms(
      this._rooms.filter((r) => r !== room),
      { done: () => !this.confirmed.has(room), undo: () => undefined },
    );
  }

  /** Logs out (tells the relay, when connected) and closes the connection. Safe to call from pagehide. */
  logout(): Promise<void> {
    const t = this.transport;
    if (t && t.connected && this._token && this._me) {
      try {
        t.publish(this.loginDest, JSON.stringify({ v: 1, action: 'logout', login: this._me, token: this._token }), {
          'content-type': 'application/json',
        });
      } catch {
        /* connection gone: the relay's keep-alive timeout logs us out */
      }
    }
    if (this.loginWaiter) {
      const w = this.loginWaiter;
      this.loginWaiter = null;
      w.reject(new Error('logged out'));
    }
    return this.shutdown();
  }

  // ---------------------------------------------------------------- internals

  private changeRooms(next: string[], w: Pick<RoomWaiter, 'done' | 'undo'>): Promise<void> {
    if (this.phase !== 'active') return Promise.reject(new Error('not logged in'));
    for (const r of this._rooms.filter((x) => !next.includes(x))) this.dropRoom(r);
    this._rooms = next;
    this.emitRooms();
    const p = new Promise<void>((resolve, reject) => {
      const waiter: RoomWaiter = {
        ...w,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.roomWaiters = this.roomWaiters.filter((x) => x !== waiter);
          waiter.undo();
          this.emitRooms();
          reject(Object.assign(new Error('the relay did not confirm the room change'), { code: 'client_timeout' }));
        }, this.opts.loginTimeoutMs),
      };
      this.roomWaiters.push(waiter);
    });
    // the login goes out now, or from onConnect when the connection is back
    this.loginAcked = false;
    this.sendLogin();
    return p;
  }

  /** forgets a room we leave: its presence, and the sends still waiting for it (the relay would refuse them) */
  private dropRoom(room: string): void {
    this.confirmed.delete(room);
    this.presence.delete(room);
    for (const e of [...this.outbox.values()]) {
      if (e.room !== room || e.to !== undefined) continue;
      clearTimeout(e.timer);
      this.outbox.delete(e.cid);
      this.emit('outbox', e.cid, 'failed');
    }
  }

  private emitRooms(): void {
    this.emit('rooms', this.rooms, this.joining);
  }

  private settleRoomWaiters(): void {
    const done = this.roomWaiters.filter((w) => w.done());
    this.roomWaiters = this.roomWaiters.filter((w) => !w.done());
    for (const w of done) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  /** a relay error for a room change (e.g. bad_room): undo the changes still waiting */
  private failRoomWaiters(err: ClientError): void {
    const ws = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of ws) {
      clearTimeout(w.timer);
      w.undo();
      w.reject(Object.assign(new Error(err.reason), { code: err.code }));
    }
    this.emitRooms();
  }

  private setOutboxStatus(e: OutboxEntry, status: OutboxStatus): void {
    if (e.status === status) return;
    e.status = status;
    this.emit('outbox', e.cid, status);
  }

  private emit<K extends keyof ChatEvents>(event: K, ...args: Parameters<ChatEvents[K]>): void {
    const set = this.listeners[event] as Set<(...a: Parameters<ChatEvents[K]>) => void> | undefined;
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(...args);
      } catch (e) {
        this.log(`listener for ${event} threw: ${String(e)}`);
      }
    }
  }

  private log(msg: string): void {
    this.opts.log?.(msg);
  }

  private setState(s: ConnectionState): void {
    if (s === this._state) return;
    this._state = s;
    this.emit('state', s);
  }

  private shutdown(): Promise<void> {
    clearTimeout(this.loginTimer);
    clearTimeout(this.loginReceiptTimer);
    clearTimeout(this.loginDeadline);
    clearTimeout(this.subTimer);
    clearTimeout(this.connectTimer);
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    for (const e of this.outbox.values()) clearTimeout(e.timer);
    this.outbox.clear();
    for (const w of this.roomWaiters) {
      clearTimeout(w.timer);
      w.reject(new Error('logged out'));
    }
    this.roomWaiters = [];
    this.recent.clear();
    this.phase = 'none';
    this._token = null;
    this.sub = null;
    this.subscribed = false;
    this.resuming = false;
    const t = this.transport;
    this.transport = null;
    this.setState('offline');
    return t ? t.deactivate().catch(() => undefined) : Promise.resolve();
  }

  private failLogin(err: ClientError): void {
    const w = this.loginWaiter;
    this.loginWaiter = null;
    this.emit('error', err);
    // keep the connection's config but drop the session
    void this.shutdown();
    w?.reject(Object.assign(new Error(err.reason), { code: err.code }));
  }

  private get loginDest(): string {
    return `/amq/queue/${this._config?.loginQueue ?? 'login'}`;
  }
  private get chatDest(): string {
    return `/amq/queue/${this._config?.chatQueue ?? 'chat'}`;
  }

  private onConnect(t: StompTransport): void {
    if (t !== this.transport) return;
    if (this.connectWaiter) {
      clearTimeout(this.connectTimer);
      const w = this.connectWaiter;
      this.connectWaiter = null;
      w.resolve();
    }
    if (this.phase === 'none') return;
    if (!this.loginAcked) this.sendLogin();
    else this.subscribeQueue();
  }

  private onClose(t: StompTransport): void {
    if (t !== this.transport) return;
    // RabbitMQ answers a SUBSCRIBE to a missing /amq/queue/Q by closing the connection, often without
    // an ERROR frame reaching us: a SUBSCRIBE without RECEIPT when the socket closes counts as refused
    const refused = this.sub !== null && !this.subscribed;
    this.sub = null;
    this.subscribed = false;
    clearTimeout(this.subTimer);
    if (refused && this.phase !== 'none') this.subscribeRefused(false);
    if (this.phase === 'active') this.setState('reconnecting');
    // receipts never cross connections: what has none waits for the next one
    for (const e of this.outbox.values()) this.setOutboxStatus(e, 'queued');
  }

  private onStompError(t: StompTransport, f: Frame): void {
    if (t !== this.transport) return;
    const msg = f.headers['message'] ?? '';
    this.log(`STOMP ERROR: ${msg} ${f.body}`);
    // A failed SUBSCRIBE (queue not there yet / deleted), or the broker cancelled our subscription.
    if (this.phase !== 'none' && (this.sub || f.headers['subscription'] !== undefined || /not_found|no queue/i.test(msg + f.body))) {
      this.sub = null;
      this.subscribed = false;
      this.subscribeRefused(true);
    }
  }

  /** the user queue could not be subscribed (missing) or the subscription was cancelled */
  private subscribeRefused(stillOpen: boolean): void {
    this.subFailures++;
    if (this._token && this.subFailures >= this.opts.resumeAfterFailures && !this.resuming) {
      // the queue is gone: log in again with `since`. The login goes out from onConnect after the
      // broker closed the connection, or from here if the connection stayed open.
      this.startResume('user queue missing', false);
      const seq = this.loginSeq;
      clearTimeout(this.subTimer);
      this.subTimer = setTimeout(() => {
        if (this.loginSeq === seq && this.resuming && !this.loginAcked) this.sendLogin();
      }, this.opts.reconnectDelayMs);
    } else if (stillOpen) {
      // a cancelled subscription leaves the connection open: retry after a pause
      clearTimeout(this.subTimer);
      this.subTimer = setTimeout(() => this.subscribeQueue(), this.opts.reconnectDelayMs);
    }
  }

  private loginBody(): string {
    // batch: the relay may group a room's messages into one frame (docs/protocol.md, "Batches")
    const body: Record<string, unknown> = { v: 1, action: 'login', login: this._me, queue: this.queue, rooms: this._rooms, batch: true };
    // a resume or a room change: replay only what we have not seen (rooms we are not asking for are left out)
    const since = [...this.lastIds].filter(([r]) => this._rooms.includes(r));
    if ((this.resuming || this._token) && since.length > 0) body.since = Object.fromEntries(since);
    return JSON.stringify(body);
  }

  private sendLogin(): void {
    const t = this.transport;
    if (!t || !t.connected || this.phase === 'none') return;
    const receipt = `login-${++this.loginSeq}`;
    clearTimeout(this.loginReceiptTimer);
    try {
      t.watchForReceipt(receipt, () => {
        if (receipt !== `login-${this.loginSeq}` || t !== this.transport) return;
        clearTimeout(this.loginReceiptTimer);
        this.loginAcked = true;
        clearTimeout(this.subTimer);
        this.subTimer = setTimeout(() => this.subscribeQueue(), this.opts.subscribeDelayMs);
      });
      t.publish(this.loginDest, this.loginBody(), { 'content-type': 'application/json', persistent: 'true', receipt });
    } catch (e) {
      this.log(`login send failed: ${String(e)}`);
    }
    // no receipt in time: send again (a new connection does it from onConnect)
    this.loginReceiptTimer = setTimeout(() => {
      if (!this.loginAcked && t === this.transport && t.connected) this.sendLogin();
    }, this.opts.receiptTimeoutMs);
  }

  private subscribeQueue(): void {
    const t = this.transport;
    if (!t || !t.connected || this.phase === 'none' || this.sub || !this.loginAcked) return;
    const receipt = `sub-${++this.subSeq}`;
    try {
      t.watchForReceipt(receipt, () => {
        if (t !== this.transport) return;
        this.subscribed = true;
        this.subFailures = 0;
        if (this.phase === 'active' && !this.resuming) this.goOnline();
      });
      this.sub = t.subscribe(`/amq/queue/${this.queue}`, (f) => this.onFrame(f), { ack: 'auto', receipt });
    } catch (e) {
      this.log(`subscribe failed: ${String(e)}`);
      this.sub = null;
    }
  }

  private goOnline(): void {
    this.setState('online');
    this.startPing();
    // a send of a dead connection never gets its receipt: send again now, the same cid makes it once
    for (const e of this.outbox.values()) if (e.timer === undefined || e.status === 'queued') this.trySend(e);
  }

  private startResume(why: string, sendNow = true): void {
    const now = Date.now();
    this.resumeTimes = this.resumeTimes.filter((x) => now - x < 60000);
    if (this.resumeTimes.length >= 5) {
      this.emit('error', { code: 'client_resume_failed', reason: 'lost the session repeatedly; log in again' });
      void this.shutdown();
      return;
    }
    this.resumeTimes.push(now);
    this.log(`resuming session (${why})`);
    this.resuming = true;
    this.loginAcked = false;
    this.subFailures = 0;
    if (this.phase === 'active') this.setState('reconnecting');
    if (sendNow) this.sendLogin();
  }

  private startPing(): void {
    if (this.pingTimer !== undefined || !this._config) return;
    const every = Math.max(1000, Math.floor(this._config.keepaliveMs / 3));
    this.pingTimer = setInterval(() => {
      const t = this.transport;
      if (!t || !t.connected || !this._token) return;
      try {
        t.publish(this.loginDest, JSON.stringify({ v: 1, action: 'ping', login: this._me, token: this._token }), {
          'content-type': 'application/json',
        });
      } catch {
        /* reconnecting */
      }
    }, every);
  }

  private trySend(e: OutboxEntry): void {
    const t = this.transport;
    clearTimeout(e.timer);
    e.timer = undefined;
    if (!t || !t.connected || !this._token || this.resuming) {
      this.setOutboxStatus(e, 'queued'); // flushed when online again
      return;
    }
    e.attempts++;
    this.setOutboxStatus(e, 'sending');
    const receipt = `chat-${e.cid}-${e.attempts}`;
    const body: Record<string, unknown> = {
      v: 1,
      sender: this._me,
      message: e.message,
      token: this._token,
      room: e.room,
      cid: e.cid,
    };
    if (e.to !== undefined) body.to = e.to;
    e.sentWithToken = this._token;
    try {
      t.watchForReceipt(receipt, () => {
        const cur = this.outbox.get(e.cid);
        if (!cur) return;
        clearTimeout(cur.timer);
        cur.timer = undefined;
        this.outbox.delete(e.cid);
        this.setOutboxStatus(cur, 'sent');
        this.recent.set(e.cid, cur);
        if (this.recent.size > 200) this.recent.delete(this.recent.keys().next().value as string);
      });
      t.publish(this.chatDest, JSON.stringify(body), { 'content-type': 'application/json', persistent: 'true', receipt });
    } catch (err) {
      this.log(`send failed: ${String(err)}`);
    }
    e.timer = setTimeout(() => {
      if (!this.outbox.has(e.cid)) return;
      e.timer = undefined;
      if (e.attempts >= this.opts.maxSendAttempts) {
        this.outbox.delete(e.cid);
        this.setOutboxStatus(e, 'failed');
        this.emit('error', { code: 'client_send_failed', reason: 'message could not be sent', cid: e.cid });
        return;
      }
      this.trySend(e);
    }, this.opts.receiptTimeoutMs);
  }

  private onFrame(f: Frame): void {
    const relayUser = this._config?.relayUser ?? '';
    if (f.headers['user-id'] !== relayUser) {
      this.log(`dropped a frame not from the relay (user-id=${f.headers['user-id'] ?? '-'})`);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(f.body);
    } catch {
      this.log('dropped a non-JSON frame');
      return;
    }
    if (!body || typeof body !== 'object') return;
    const b = body as { type?: unknown };
    switch (b.type) {
      case 'welcome':
        return this.onWelcome(body as Welcome);
      case 'message':
        return this.onMessage(body as ChatMessage);
      case 'batch':
        return this.onBatch(body as BatchEvent);
      case 'direct':
        return this.onDirect(body as DirectMessage);
      case 'join':
        return this.onJoin(body as JoinEvent);
      case 'leave':
        return this.onLeave(body as LeaveEvent);
      case 'error':
        return this.onRelayError(body as RelayError);
      default:
        this.log(`ignored a frame of type ${String(b.type)}`);
    }
  }

  private onWelcome(w: Welcome): void {
    if (typeof w.token !== 'string' || this.phase === 'none') return;
    if (w.login !== undefined && w.login !== this._me) return;
    this._token = w.token;
    const listed = Array.isArray(w.rooms) ? w.rooms.filter((r): r is string => typeof r === 'string') : [];
    // the first welcome says which rooms we are in; later ones (room changes, resumes) confirm rooms
    // we asked for. A room it lists that we left since is ignored (an older welcome).
    if (this.phase === 'pending' && listed.length > 0) this._rooms = listed;
    const welcomed = listed.length > 0 ? listed.filter((r) => this._rooms.includes(r)) : [...this._rooms];
    this.confirmed = new Set(welcomed);
    // presence: {room: [users]} (an array means the first room)
    const users: Record<string, unknown> = Array.isArray(w.users)
      ? { [welcomed[0]]: w.users }
      : ((w.users as Record<string, unknown>) ?? {});
    for (const room of welcomed) {
      const list = Array.isArray(users[room]) ? (users[room] as unknown[]).filter((u): u is string => typeof u === 'string') : [];
      const set = new Set(list);
      set.add(this._me);
      this.presence.set(room, set);
    }
    const wasPending = this.phase === 'pending';
    this.phase = 'active';
    this.resuming = false;
    this.subFailures = 0;
    clearTimeout(this.loginDeadline);
    this.emit('welcome', w);
    this.emitRooms();
    this.settleRoomWaiters();
    for (const room of welcomed) this.emit('presence', room, this.users(room));
    const history: Record<string, unknown> = Array.isArray(w.history)
      ? { [welcomed[0]]: w.history }
      : ((w.history as Record<string, unknown>) ?? {});
    for (const room of welcomed) {
      const h = history[room];
      if (!Array.isArray(h)) continue;
      // a room we have seen messages of replays what we missed; a new one shows its past
      const old = !this.lastIds.has(room);
      for (const m of h as ChatMessage[]) if (m && typeof m === 'object') this.onMessage({ ...m, type: 'message', room: m.room ?? room }, old);
    }
    this.goOnline();
    if (wasPending && this.loginWaiter) {
      const lw = this.loginWaiter;
      this.loginWaiter = null;
      lw.resolve(w);
    }
  }

  /** true when this delivery was seen already */
  private duplicate(keys: string[]): boolean {
    const dup = keys.some((k) => this.seen.has(k));
    for (const k of keys) this.seen.add(k);
    return dup;
  }

  private onMessage(m: ChatMessage, history = false): void {
    if (this.accept(m)) this.emit('message', m, { history });
  }

  /** a batch is its messages, one after the other, handed on in one event */
  private onBatch(b: BatchEvent): void {
    if (!Array.isArray(b.messages)) return;
    const fresh: ChatMessage[] = [];
    for (const m of b.messages) {
      if (!m || typeof m !== 'object') continue;
      const msg: ChatMessage = { ...m, type: 'message', room: m.room ?? b.room };
      if (this.accept(msg)) fresh.push(msg);
    }
    if (fresh.length > 0) this.emit('messages', fresh, { history: false });
  }

  /** true when `m` is a well-formed message of one of our rooms, not seen before (then it counts as seen) */
  private accept(m: ChatMessage): boolean {
    if (typeof m.sender !== 'string' || typeof m.message !== 'string' || typeof m.room !== 'string') return false;
    if (!this._rooms.includes(m.room)) {
      // a room we left (or never joined): the broker may still route it to our queue for a moment
      this.log(`dropped a message of room ${m.room}: not in it (id ${m.id}, from ${m.sender})`);
      return false;
    }
    const keys: string[] = [];
    if (typeof m.id === 'number') keys.push(`id\u0000${m.room}\u0000${m.id}`);
    if (typeof m.cid === 'string') keys.push(`cid\u0000${m.sender}\u0000${m.cid}`);
    if (this.duplicate(keys)) return false;
    if (typeof m.id === 'number' && m.id > (this.lastIds.get(m.room) ?? -Infinity)) this.lastIds.set(m.room, m.id);
    return true;
  }

  private onDirect(m: DirectMessage): void {
    if (typeof m.sender !== 'string' || typeof m.message !== 'string') return;
    const keys: string[] = [];
    if (typeof m.id === 'number') keys.push(`dm\u0000${m.sender}\u0000${m.to}\u0000${m.id}`);
    if (typeof m.cid === 'string') keys.push(`cid\u0000${m.sender}\u0000${m.cid}`);
    if (this.duplicate(keys)) return;
    this.emit('direct', m);
  }

  private onJoin(e: JoinEvent): void {
    if (typeof e.login !== 'string') return;
    const room = typeof e.room === 'string' ? e.room : this._rooms[0];
    if (!this._rooms.includes(room)) return; // a room we left
    let set = this.presence.get(room);
    if (!set) this.presence.set(room, (set = new Set()));
    const had = set.has(e.login);
    set.add(e.login);
    this.emit('join', { ...e, room });
    if (!had) this.emit('presence', room, this.users(room));
  }

  private onLeave(e: LeaveEvent): void {
    if (typeof e.login !== 'string') return;
    const room = typeof e.room === 'string' ? e.room : this._rooms[0];
    // a room we left: that includes our own "replaced" leave the relay sends when we drop a room
    if (!this._rooms.includes(room)) return;
    if (e.login === this._me) {
      // our own session ended on the relay's side. "replaced" while we are not resuming means another
      // session took this name over: stop instead of fighting over it.
      if (e.reason === 'replaced' && !this.resuming && this.phase === 'active') {
        this.emit('leave', { ...e, room });
        this.emit('error', { code: 'client_replaced', reason: 'this name logged in somewhere else' });
        void this.shutdown();
      }
      return;
    }
    const set = this.presence.get(room);
    const had = set?.delete(e.login) ?? false;
    this.emit('leave', { ...e, room });
    if (had) this.emit('presence', room, this.users(room));
  }

  private onRelayError(e: RelayError): void {
    const err: ClientError = { code: String(e.code), reason: String(e.reason ?? e.code) };
    if (typeof e.cid === 'string') err.cid = e.cid;
    if (this.phase === 'pending' && this.loginWaiter) {
      this.failLogin(err);
      return;
    }
    if (!err.cid && this.roomWaiters.length > 0 && LOGIN_ERRORS.has(err.code)) {
      // the relay refused the login that changes our rooms; the session goes on as it was
      this.failRoomWaiters(err);
      this.emit('error', err);
      return;
    }
    if (err.code === 'duplicate_login' && this.phase === 'active' && !this.resuming) {
      // another login of this name replaced this session (relay.duplicate-login=replace): stop here,
      // a resume would take the name back and the two sessions would replace each other forever
      this.emit('error', { code: 'client_replaced', reason: err.reason || 'this name logged in somewhere else' });
      void this.shutdown();
      return;
    }
    if (err.code === 'not_logged_in' || (err.code === 'bad_token' && err.cid)) {
      let entry = err.cid ? this.outbox.get(err.cid) : undefined;
      if (!entry && err.cid && err.code === 'not_logged_in' && this.recent.has(err.cid)) {
        entry = this.recent.get(err.cid)!;
        this.recent.delete(err.cid);
        this.outbox.set(err.cid, entry);
      }
      // an answer to a send made with an older token: the resend with the current token decides
      if (err.code === 'bad_token' && entry && entry.sentWithToken !== this._token) return;
      if (err.code === 'not_logged_in') {
        if (entry) {
          clearTimeout(entry.timer);
          entry.timer = undefined; // resent after the resumed welcome
        }
        if (!this.resuming && this.phase === 'active') this.startResume('relay says not_logged_in');
        return;
      }
    }
    if (err.cid) {
      const entry = this.outbox.get(err.cid) ?? this.recent.get(err.cid);
      if (entry) {
        clearTimeout(entry.timer);
        this.outbox.delete(err.cid);
        this.recent.delete(err.cid);
        this.setOutboxStatus(entry, 'failed');
      }
    }
    this.emit('error', err);
  }
}
