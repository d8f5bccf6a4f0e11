import type { ChatClient } from './client';
import type { ClientError, ConnectionState } from './client/types';

export type ItemKind = 'message' | 'direct' | 'system';

export interface ChatItem {
  key: string;
  kind: ItemKind;
  /** room of a message or system line; undefined for direct messages (shown in every room) */
  room?: string;
  sender?: string;
  to?: string;
  text: string;
  ts: number;
  own: boolean;
}

export interface ShownError extends ClientError {
  key: number;
}

export interface ChatSnapshot {
  me: string;
  state: ConnectionState;
  rooms: string[];
  users: Record<string, string[]>;
  items: ChatItem[];
  errors: ShownError[];
}

const MAX_ITEMS = 1000;

/** Collects a ChatClient's events into an immutable snapshot for React (useSyncExternalStore). */
export class ChatModel {
  private snap: ChatSnapshot;
  private subs = new Set<() => void>();
  private errSeq = 0;
  private itemSeq = 0;
  private off: (() => void)[] = [];

  constructor(private client: ChatClient) {
    this.snap = { me: client.me, state: client.state, rooms: client.rooms, users: {}, items: [], errors: [] };
    this.off.push(
      client.on('state', (state) => this.update({ state })),
      client.on('welcome', () => this.update({ me: this.client.me, rooms: this.client.rooms })),
      client.on('presence', (room, users) => this.update({ users: { ...this.snap.users, [room]: users } })),
      client.on('message', (m) =>
        this.push({
          key: `m:${m.room}:${m.id ?? ''}:${m.cid ?? ''}:${++this.itemSeq}`,
          kind: 'message',
          room: m.room,
          sender: m.sender,
          text: m.message,
          ts: typeof m.ts === 'number' ? m.ts : Date.now(),
          own: m.sender === this.client.me,
        }),
      ),
      client.on('direct', (m) =>
        this.push({
          key: `d:${m.id ?? ''}:${m.cid ?? ''}:${++this.itemSeq}`,
          kind: 'direct',
          sender: m.sender,
          to: m.to,
          text: m.message,
          ts: typeof m.ts === 'number' ? m.ts : Date.now(),
          own: m.sender === this.client.me,
        }),
      ),
      client.on('join', (e) =>
        e.login !== this.client.me &&
        this.push({ key: `s:${++this.itemSeq}`, kind: 'system', room: e.room, text: `${e.login} joined`, ts: Date.now(), own: false }),
      ),
      client.on('leave', (e) =>
        this.push({
          key: `s:${++this.itemSeq}`,
          kind: 'system',
          room: e.room,
          text: `${e.login} left${e.reason && e.reason !== 'logout' ? ` (${e.reason})` : ''}`,
          ts: Date.now(),
          own: false,
        }),
      ),
      client.on('error', (e) => this.update({ errors: [...this.snap.errors, { ...e, key: ++this.errSeq }].slice(-5) })),
    );
  }

  subscribe = (fn: () => void): (() => void) => {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  };

  getSnapshot = (): ChatSnapshot => this.snap;

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

  private push(item: ChatItem): void {
    const items = this.snap.items.length >= MAX_ITEMS ? this.snap.items.slice(-MAX_ITEMS + 1) : this.snap.items.slice();
    items.push(item);
    this.update({ items });
  }

  private update(p: Partial<ChatSnapshot>): void {
    this.snap = { ...this.snap, ...p };
    for (const fn of [...this.subs]) fn();
  }
}
