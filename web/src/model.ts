import type { ChatClient, OutboxStatus } from './client';
import type { ChatMessage, ClientError, ConnectionState } from './client/types';

export type ItemKind = 'message' | 'direct' | 'system';

/** A conversation: `#room` or `@peer` (direct messages with one user). */
export type ConvId = string;
export const roomConv = (room: string): ConvId => `#${room}`;
export const dmConv = (peer: string): ConvId => `@${peer}`;
export const isRoomConv = (c: ConvId): boolean => c.startsWith('#');
export const convName = (c: ConvId): string => c.slice(1);

export interface ChatItem {
  key: string;
  kind: ItemKind;
  conv: ConvId;
  /** room of a room message or system line */
  room?: string;
  sender?: string;
  to?: string;
  text: string;
  ts: number;
  own: boolean;
  cid?: string;
  /** set while an own message has not come back from the relay yet */
  status?: OutboxStatus;
}

export interface ShownError extends ClientError {
  key: number;
}

export interface ChatSnapshot {
  me: string;
  state: ConnectionState;
  /** the session's rooms, in order; `joining` the ones the relay has not confirmed yet */
  rooms: string[];
  joining: string[];
  /** peers of direct conversations, most recent first */
  dms: string[];
  active: ConvId;
  users: Record<string, string[]>;
  items: Record<ConvId, ChatItem[]>;
  unread: Record<ConvId, number>;
  /** per conversation: the key of the first message that was new when it came ("New messages" line) */
  markers: Record<ConvId, string>;
  errors: ShownError[];
}

/** items kept per conversation */
export const MAX_ITEMS = 500;

/**
 * Collects a ChatClient's events into an immutable snapshot for React (useSyncExternalStore), and keeps
 * what the user has seen: the active conversation, unread counts, the "new messages" marker.
 */
export class ChatModel {
  private snap: ChatSnapshot;
  private subs = new Set<() => void>();
  private errSeq = 0;
  private itemSeq = 0;
  private off: (() => void)[] = [];
  private visible = true;
  private atBottom = true;
  /** own messages on their way: cid -> conversation, and statuses reported before the item existed */
  private pending = new Map<string, ConvId>();
  private early = new Map<string, OutboxStatus>();
  /** cids of own messages that came back before send() returned (a synchronous transport) */
  private echoed = new Set<string>();
  /** inside together(): updates wait, `changed` says whether one is due */
  private holding = 0;
  private changed = false;

  constructor(private client: ChatClient) {
    const rooms = client.rooms;
    this.snap = {
      me: client.me,
      state: client.state,
      rooms,
      joining: client.joining,
      dms: [],
      active: roomConv(rooms[0] ?? ''),
      users: Object.fromEntries(rooms.map((r) => [r, client.users(r)])),
      items: {},
      unread: {},
      markers: {},
      errors: [],
    };
    this.off.push(
      client.on('state', (state) => this.update({ state })),
      client.on('welcome', () => this.update({ me: this.client.me })),
      client.on('rooms', (rs, joining) => this.onRooms(rs, joining)),
      client.on('presence', (room, users) => this.update({ users: { ...this.snap.users, [room]: users } })),
      client.on('outbox', (cid, status) => this.onOutbox(cid, status)),
      client.on('message', (m, meta) => this.arrive(this.messageItem(m), !meta?.history)),
      // a batch frame: its messages exactly as if they had come alone, shown in one update
      client.on('messages', (ms, meta) =>
        this.together(() => {
          for (const m of ms) this.arrive(this.messageItem(m), !meta?.history);
        }),
      ),
      client.on('direct', (m) => {
        const own = m.sender === this.client.me;
        const peer = own ? m.to : m.sender;
        this.arrive({
          key: `d:${m.id ?? ''}:${m.cid ?? ''}:${++this.itemSeq}`,
          kind: 'direct',
          conv: dmConv(peer),
          sender: m.sender,
          to: m.to,
          text: m.message,
          ts: typeof m.ts === 'number' ? m.ts : Date.now(),
          own,
          cid: m.cid,
        });
      }),
      client.on('join', (e) => {
        if (e.login !== this.client.me) this.system(e.room, `${e.login} joined`);
      }),
      client.on('leave', (e) => this.system(e.room, `${e.login} left${e.reason && e.reason !== 'logout' ? ` (${e.reason})` : ''}`)),
      client.on('error', (e) => this.update({ errors: [...this.snap.errors, { ...e, key: ++this.errSeq }].slice(-5) })),
    );
  }

  subscribe = (fn: () => void): (() => void) => {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  };

  getSnapshot = (): ChatSnapshot => this.snap;

  /** total unread messages over all conversations (the tab title) */
  get unreadTotal(): number {
    return Object.values(this.snap.unread).reduce((a, b) => a + b, 0);
  }

  /** the user is looking at `conv` right now: tab visible, conversation open, scrolled to the end */
  isSeen(conv: ConvId): boolean {
    return this.visible && this.atBottom && this.snap.active === conv;
  }

  // ---------------------------------------------------------------- what the user does

  setActive(conv: ConvId): void {
    if (conv === this.snap.active) return;
    const markers = { ...this.snap.markers };
    delete markers[this.snap.active]; // the conversation we leave was read up to its end
    this.atBottom = true;
    const dms = !isRoomConv(conv) && !this.snap.dms.includes(convName(conv)) ? [convName(conv), ...this.snap.dms] : this.snap.dms;
    this.update({ active: conv, markers, dms, unread: this.visible ? this.without(conv) : this.snap.unread });
  }

  /** the tab became visible or hidden (document.visibilityState) */
  setVisible(visible: boolean): void {
    this.visible = visible;
    this.readActive();
  }

  /** the message list is scrolled to its end (or not) */
  setAtBottom(atBottom: boolean): void {
    this.atBottom = atBottom;
    this.readActive();
  }

  openDm(peer: string): void {
    this.setActive(dmConv(peer));
  }

  closeDm(peer: string): void {
    const conv = dmConv(peer);
    if (this.snap.active === conv) this.setActive(roomConv(this.snap.rooms[0]));
    this.update({ dms: this.snap.dms.filter((p) => p !== peer), unread: this.without(conv) });
  }

  /** Sends `text` to the active conversation. False (and an error shown) when the client refused it. */
  send(text: string): boolean {
    return this.sendTo(this.snap.active, text);
  }

  private sendTo(conv: ConvId, text: string): boolean {
    const target = isRoomConv(conv) ? { room: convName(conv) } : { to: convName(conv) };
    let cid: string;
    try {
      cid = this.client.send(text, target);
    } catch (e) {
      this.addError('client_send', e instanceof Error ? e.message : String(e));
      return false;
    }
    const status = this.early.get(cid) ?? 'sending';
    this.early.delete(cid);
    const markers = { ...this.snap.markers };
    delete markers[conv]; // answering: what came before is read
    this.update({ markers });
    if (this.echoed.delete(cid)) return true;
    this.pending.set(cid, conv);
    this.push({
      key: `p:${cid}`,
      kind: isRoomConv(conv) ? 'message' : 'direct',
      conv,
      room: target.room,
      sender: this.client.me,
      to: target.to,
      text,
      ts: Date.now(),
      own: true,
      cid,
      status,
    });
    return true;
  }

  /** sends a failed message again (a new cid: the relay refused or never got the old one) */
  retry(key: string): void {
    const item = this.find(key);
    if (!item || item.status !== 'failed') return;
    this.remove(item);
    this.sendTo(item.conv, item.text);
  }

  discard(key: string): void {
    const item = this.find(key);
    if (item && item.status === 'failed') this.remove(item);
  }

  async joinRoom(room: string): Promise<boolean> {
    try {
      await this.client.joinRoom(room);
      this.setActive(roomConv(room));
      return true;
    } catch (e) {
      this.addError('client_join', `Could not join #${room}: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  async leaveRoom(room: string): Promise<void> {
    try {
      await this.client.leaveRoom(room);
    } catch (e) {
      this.addError('client_leave', `Could not leave #${room}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  dismissError(key: number): void {
    this.update({ errors: this.snap.errors.filter((e) => e.key !== key) });
  }

  /** shows an error raised by the UI (e.g. a send that threw) */
  addError(code: string, reason: string): void {
    this.update({ errors: [...this.snap.errors, { code, reason, key: ++this.errSeq }].slice(-5) });
  }

  dispose(): void {
    for (const f of this.off) f();
    this.off = [];
  }

  // ---------------------------------------------------------------- events

  private onRooms(rooms: string[], joining: string[]): void {
    const p: Partial<ChatSnapshot> = { rooms, joining };
    const gone = this.snap.rooms.filter((r) => !rooms.includes(r)).map(roomConv);
    if (gone.length > 0) {
      const unread = { ...this.snap.unread };
      for (const c of gone) delete unread[c];
      p.unread = unread;
    }
    // the active room was left (or, before the first welcome, there was none): the first room
    const a = this.snap.active;
    if (isRoomConv(a) && !rooms.includes(convName(a))) p.active = roomConv(rooms.find((r) => !joining.includes(r)) ?? rooms[0]);
    this.update(p);
  }

  private onOutbox(cid: string, status: OutboxStatus): void {
    const conv = this.pending.get(cid);
    if (conv === undefined) {
      this.early.set(cid, status);
      return;
    }
    this.replaceItem(conv, (i) => i.cid === cid && i.status !== undefined, (i) => ({ ...i, status }));
  }

  /** `count`: false for the past of a room shown for the first time (old, not unread) */
  private arrive(item: ChatItem, count = true): void {
    // our own message back from the relay replaces its pending copy
    if (item.own && item.cid && this.pending.has(item.cid)) {
      const conv = this.pending.get(item.cid)!;
      this.pending.delete(item.cid);
      const list = (this.snap.items[conv] ?? []).filter((i) => !(i.cid === item.cid && i.status !== undefined));
      this.update({ items: { ...this.snap.items, [conv]: list } });
    } else if (item.own && item.cid) {
      this.echoed.add(item.cid);
      if (this.echoed.size > 100) this.echoed.delete(this.echoed.values().next().value as string);
    }
    this.push(item);
    if (item.own || !count) return;
    if (item.kind === 'direct' && !this.snap.dms.includes(convName(item.conv))) {
      this.update({ dms: [convName(item.conv), ...this.snap.dms] });
    } else if (item.kind === 'direct' && this.snap.dms[0] !== convName(item.conv)) {
      this.update({ dms: [convName(item.conv), ...this.snap.dms.filter((p) => p !== convName(item.conv))] });
    }
    if (this.isSeen(item.conv)) return;
    const n = this.snap.unread[item.conv] ?? 0;
    const p: Partial<ChatSnapshot> = { unread: { ...this.snap.unread, [item.conv]: n + 1 } };
    if (n === 0) p.markers = { ...this.snap.markers, [item.conv]: item.key };
    this.update(p);
  }

  private messageItem(m: ChatMessage): ChatItem {
    return {
      key: `m:${m.room}:${m.id ?? ''}:${m.cid ?? ''}:${++this.itemSeq}`,
      kind: 'message',
      conv: roomConv(m.room),
      room: m.room,
      sender: m.sender,
      text: m.message,
      ts: typeof m.ts === 'number' ? m.ts : Date.now(),
      own: m.sender === this.client.me,
      cid: m.cid,
    };
  }

  private system(room: string, text: string): void {
    this.push({ key: `s:${++this.itemSeq}`, kind: 'system', conv: roomConv(room), room, text, ts: Date.now(), own: false });
  }

  // ---------------------------------------------------------------- helpers

  private readActive(): void {
    const c = this.snap.active;
    if (this.isSeen(c) && (this.snap.unread[c] ?? 0) > 0) this.update({ unread: this.without(c) });
  }

  private without(conv: ConvId): Record<ConvId, number> {
    if (!(conv in this.snap.unread)) return this.snap.unread;
    const u = { ...this.snap.unread };
    delete u[conv];
    return u;
  }

  private find(key: string): ChatItem | undefined {
    for (const list of Object.values(this.snap.items)) {
      const i = list.find((x) => x.key === key);
      if (i) return i;
    }
    return undefined;
  }

  private remove(item: ChatItem): void {
    if (item.cid) this.pending.delete(item.cid);
    const list = (this.snap.items[item.conv] ?? []).filter((i) => i.key !== item.key);
    this.update({ items: { ...this.snap.items, [item.conv]: list } });
  }

  private replaceItem(conv: ConvId, match: (i: ChatItem) => boolean, f: (i: ChatItem) => ChatItem): void {
    const list = this.snap.items[conv];
    if (!list || !list.some(match)) return;
    this.update({ items: { ...this.snap.items, [conv]: list.map((i) => (match(i) ? f(i) : i)) } });
  }

  private push(item: ChatItem): void {
    const cur = this.snap.items[item.conv] ?? [];
    const list = cur.length >= MAX_ITEMS ? cur.slice(-MAX_ITEMS + 1) : cur.slice();
    list.push(item);
    this.update({ items: { ...this.snap.items, [item.conv]: list } });
  }

  /** runs `f` with the subscribers told once at its end (if anything changed), not at every update */
  private together(f: () => void): void {
    this.holding++;
    try {
      f();
    } finally {
      this.holding--;
    }
    if (this.holding === 0 && this.changed) this.notify();
  }

  private update(p: Partial<ChatSnapshot>): void {
    this.snap = { ...this.snap, ...p };
    if (this.holding > 0) this.changed = true;
    else this.notify();
  }

  private notify(): void {
    this.changed = false;
    for (const fn of [...this.subs]) fn();
  }
}
