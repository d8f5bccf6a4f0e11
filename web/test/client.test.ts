import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient } from '../src/client';
import type { ChatMessage, ClientError, ConnectionState, DirectMessage } from '../src/client/types';
import { CONFIG, FakeBroker, FakeRelay, fakeFetch } from './fake';

async function tick(ms = 1) {
  await vi.advanceTimersByTimeAsync(ms);
}

async function setup(opts: ConstructorParameters<typeof ChatClient>[0] = {}) {
  const broker = new FakeBroker();
  const relay = new FakeRelay(broker);
  const fetch = fakeFetch();
  const client = new ChatClient({ transport: broker.factory, fetch, ...opts });
  const states: ConnectionState[] = [];
  client.on('state', (s) => states.push(s));
  const p = client.connect();
  await tick();
  await p;
  return { broker, relay, client, fetch, states };
}

async function login(client: ChatClient, name: string, rooms?: string[]) {
  const p = client.login(name, rooms);
  await tick(500);
  return p;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ChatClient: connect and login', () => {
  it('loads /config.json and connects with the config credentials and 10 s heart-beats', async () => {
    const { broker, client, fetch } = await setup();
    expect(fetch.calls).toEqual(['/config.json']);
    expect(client.config).toEqual(CONFIG);
    const o = broker.current.opts;
    expect(o.brokerURL).toBe('ws://fake/ws');
    expect(o.login).toBe('chat-web');
    expect(o.passcode).toBe('chat-web');
    expect(o.heartbeatMs).toBe(10000);
    expect(o.reconnectDelayMs).toBe(300);
  });

  it('uses the queue names from the config', async () => {
    const broker = new FakeBroker();
    const client = new ChatClient({ transport: broker.factory });
    const p = client.connect({ ...CONFIG, loginQueue: 'lq', chatQueue: 'cq' });
    await tick();
    await p;
    client.login('alice').catch(() => undefined);
    await tick(1);
    expect(broker.sentTo('/amq/queue/lq')).toHaveLength(1);
    await client.logout();
  });

  it('accepts a config object instead of fetching', async () => {
    const broker = new FakeBroker();
    const fetch = fakeFetch();
    const client = new ChatClient({ transport: broker.factory, fetch });
    const p = client.connect({ ...CONFIG, wsUrl: 'ws://other/ws' });
    await tick();
    await p;
    expect(fetch.calls).toEqual([]);
    expect(broker.current.opts.brokerURL).toBe('ws://other/ws');
  });

  it('sends the login to /amq/queue/login with a receipt, then subscribes to /amq/queue/<Q>', async () => {
    const { broker, client, states } = await setup();
    const w = await login(client, 'alice');
    const sent = broker.sentTo('/amq/queue/login');
    expect(sent).toHaveLength(1);
    expect(sent[0].headers.receipt).toBeTruthy();
    const body = sent[0].json;
    expect(body).toMatchObject({ v: 1, action: 'login', login: 'alice', rooms: ['main'] });
    expect(body.queue).toMatch(/^chat\.user\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.since).toBeUndefined();
    expect(broker.current.subs.size).toBe(1);
    expect([...broker.current.subs.values()][0].destination).toBe(`/amq/queue/${body.queue}`);
    expect(w.token).toBe('tok-1');
    expect(client.token).toBe('tok-1');
    expect(client.state).toBe('online');
    expect(states).toEqual(['connecting', 'online']);
    expect(client.users('main')).toEqual(['alice']);
  });

  it('retries the SUBSCRIBE without a new login when the queue is not there yet', async () => {
    const { broker, relay, client } = await setup();
    relay.enabled = false;
    const p = client.login('alice');
    await tick(5); // receipt, subscribe delay not yet over
    await tick(200); // first SUBSCRIBE -> ERROR not_found -> close
    expect(broker.current.connected).toBe(false);
    await tick(300 + 200); // reconnect, SUBSCRIBE again -> ERROR again
    // now the relay handles the login
    relay.enabled = true;
    relay.handle(broker.sentTo('/amq/queue/login')[0]);
    await tick(2000);
    const w = await p;
    expect(w.login).toBe('alice');
    expect(broker.logins()).toHaveLength(1);
    expect(broker.current.subscribeCount).toBeGreaterThanOrEqual(2);
    expect(client.state).toBe('online');
  });

  it('also copes with an ERROR frame before the close', async () => {
    const { broker, relay, client } = await setup();
    broker.errorOnMissingQueue = true;
    relay.enabled = false;
    const p = client.login('alice');
    await tick(1000);
    relay.enabled = true;
    relay.handle(broker.sentTo('/amq/queue/login')[0]);
    await tick(2000);
    await p;
    expect(broker.logins()).toHaveLength(1);
    expect(client.state).toBe('online');
  });

  it('rejects the login on a relay error', async () => {
    const { broker, relay, client } = await setup();
    relay.enabled = false;
    const p = client.login('alice');
    const errs: ClientError[] = [];
    client.on('error', (e) => errs.push(e));
    p.catch(() => undefined);
    await tick(1);
    const q = String(broker.logins()[0].queue);
    broker.queues.add(q);
    await tick(300);
    broker.deliver(q, { v: 1, type: 'error', code: 'duplicate_login', reason: 'alice is online' });
    await expect(p).rejects.toThrow('alice is online');
    expect(errs[0].code).toBe('duplicate_login');
    expect(client.state).toBe('offline');
  });

  it('rejects the login when no welcome comes', async () => {
    const { relay, client } = await setup({ loginTimeoutMs: 3000 });
    relay.enabled = false;
    const p = client.login('alice');
    p.catch(() => undefined);
    await tick(3500);
    await expect(p).rejects.toThrow(/did not answer/);
  });

  it('validates names and rooms before sending anything', async () => {
    const { broker, client } = await setup();
    await expect(client.login('bad name')).rejects.toThrow();
    await expect(client.login('x'.repeat(33))).rejects.toThrow();
    await expect(client.login('alice', ['bad room'])).rejects.toThrow();
    expect(broker.sent).toHaveLength(0);
  });

  it('sends the login rooms and keeps presence per room', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice', ['main', 'dev']);
    expect(broker.logins()[0].rooms).toEqual(['main', 'dev']);
    expect(client.rooms).toEqual(['main', 'dev']);
    expect(client.users('dev')).toEqual(['alice']);
  });
});

describe('ChatClient: messages', () => {
  it('sends chat to /amq/queue/chat with token, room, cid and a receipt', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    const got: ChatMessage[] = [];
    client.on('message', (m) => got.push(m));
    const cid = client.send('hello');
    await tick(5);
    const chats = broker.sentTo('/amq/queue/chat');
    expect(chats).toHaveLength(1);
    expect(chats[0].json).toEqual({ v: 1, sender: 'alice', message: 'hello', token: 'tok-1', room: 'main', cid });
    expect(chats[0].headers.receipt).toBeTruthy();
    expect(got.map((m) => m.message)).toEqual(['hello']);
    expect(client.pendingCount).toBe(0);
  });

  it('resends with the same cid when no receipt comes within 5 s, and stops after the receipt', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    broker.autoReceipt = false;
    const cid = client.send('hello');
    await tick(4900);
    expect(broker.chats()).toHaveLength(1);
    await tick(200);
    expect(broker.chats()).toHaveLength(2);
    expect(broker.chats()[1].cid).toBe(cid);
    broker.current.ack(broker.sentTo('/amq/queue/chat')[1].headers.receipt);
    await tick(20000);
    expect(broker.chats()).toHaveLength(2);
    expect(client.pendingCount).toBe(0);
  });

  it('drops duplicates by (sender,cid) and by id per room', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice', ['main', 'other']);
    const q = client.queueName;
    const got: ChatMessage[] = [];
    client.on('message', (m) => got.push(m));
    const m = { v: 1, type: 'message', id: 7, ts: 1, room: 'main', sender: 'bob', message: 'x', cid: 'c1' };
    broker.deliver(q, m);
    broker.deliver(q, m);
    broker.deliver(q, { ...m, id: 8 }); // same (sender,cid) after a failover
    broker.deliver(q, { ...m, cid: 'c2' }); // same id
    broker.deliver(q, { ...m, id: 7, room: 'other', cid: undefined }); // same id, other room: new
    broker.deliver(q, { ...m, id: 9, cid: 'c3' });
    expect(got.map((g) => `${g.room}:${g.id}`)).toEqual(['main:7', 'other:7', 'main:9']);
    expect(client.lastIdsByRoom()).toEqual({ main: 9, other: 7 });
  });

  it('ignores frames not from the relay user', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    const got: unknown[] = [];
    client.on('message', (m) => got.push(m));
    client.on('error', (m) => got.push(m));
    const m = { v: 1, type: 'message', id: 1, ts: 1, room: 'main', sender: 'bob', message: 'fake' };
    broker.deliver(client.queueName, m, 'chat-web');
    broker.deliver(client.queueName, m, null);
    broker.deliver(client.queueName, { v: 1, type: 'error', code: 'x', reason: 'y' }, 'guest');
    broker.deliver(client.queueName, 'not json');
    expect(got).toEqual([]);
    broker.deliver(client.queueName, m);
    expect(got).toHaveLength(1);
  });

  it('delivers direct messages and sends `to`', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    const got: DirectMessage[] = [];
    client.on('direct', (m) => got.push(m));
    client.send('psst', { to: 'bob' });
    await tick(5);
    expect(broker.chats()[0]).toMatchObject({ to: 'bob', room: 'main', message: 'psst' });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: 'direct', sender: 'alice', to: 'bob' });
  });

  it('replays welcome history once, and tracks join/leave presence', async () => {
    const { broker, relay, client } = await setup();
    relay.history.set('main', [{ v: 1, type: 'message', id: 1, ts: 1, room: 'main', sender: 'bob', message: 'old' }]);
    relay.users.set('bob', { queue: 'chat.user.bob', token: 't', rooms: ['main'], bound: new Set(['main']) });
    broker.queues.add('chat.user.bob');
    const got: ChatMessage[] = [];
    client.on('message', (m) => got.push(m));
    const presence: string[][] = [];
    client.on('presence', (_r, u) => presence.push(u));
    await login(client, 'alice');
    expect(got.map((m) => m.message)).toEqual(['old']);
    expect(client.users('main')).toEqual(['alice', 'bob']);
    broker.deliver(client.queueName, { v: 1, type: 'join', room: 'main', login: 'carol' });
    expect(client.users('main')).toEqual(['alice', 'bob', 'carol']);
    broker.deliver(client.queueName, { v: 1, type: 'leave', room: 'main', login: 'bob', reason: 'timeout' });
    expect(client.users('main')).toEqual(['alice', 'carol']);
    expect(presence.at(-1)).toEqual(['alice', 'carol']);
  });

  it('refuses messages over maxMessageSize (bytes) and unknown rooms', async () => {
    const { client } = await setup();
    await login(client, 'alice');
    expect(() => client.send('é'.repeat(51))).toThrow(/too long/); // 102 bytes > 100
    expect(() => client.send('é'.repeat(50))).not.toThrow();
    expect(() => client.send('x', { room: 'nope' })).toThrow(/not in room/);
  });

  it('a relay error with a cid stops the resends and is reported', async () => {
    const { broker, relay, client } = await setup();
    await login(client, 'alice');
    relay.enabled = false;
    broker.autoReceipt = false;
    const errs: ClientError[] = [];
    client.on('error', (e) => errs.push(e));
    const cid = client.send('spam');
    broker.deliver(client.queueName, { v: 1, type: 'error', code: 'rate_limited', reason: 'slow down', cid });
    await tick(30000);
    expect(broker.chats()).toHaveLength(1);
    expect(errs).toEqual([{ code: 'rate_limited', reason: 'slow down', cid }]);
  });
});

describe('ChatClient: batches', () => {
  const msg = (id: number, extra: Record<string, unknown> = {}) => ({
    v: 1,
    type: 'message',
    id,
    ts: 1,
    room: 'main',
    sender: 'bob',
    message: `m${id}`,
    cid: `c${id}`,
    ...extra,
  });

  it('asks for batches at login', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    expect(broker.sentTo('/amq/queue/login')[0].json).toMatchObject({ action: 'login', batch: true });
  });

  it('hands on a batch frame as one messages event, in order, with the checks of single messages', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice', ['main', 'other']);
    const q = client.queueName;
    const single: ChatMessage[] = [];
    const batches: ChatMessage[][] = [];
    client.on('message', (m) => single.push(m));
    client.on('messages', (ms, meta) => {
      expect(meta.history).toBe(false);
      batches.push(ms);
    });
    broker.deliver(q, msg(1)); // a single message still works
    broker.deliver(q, {
      v: 1,
      type: 'batch',
      room: 'main',
      messages: [
        msg(1), // seen alone already (same id)
        msg(2),
        msg(3, { id: 30, cid: 'c2' }), // same (sender,cid) as 2: a re-stamped copy
        msg(4),
        msg(5, { room: 'gone' }), // a room we are not in
        msg(6, { message: 7 }), // malformed
        'junk',
        msg(7, { room: 'other' }),
      ],
    });
    expect(single.map((m) => m.id)).toEqual([1]);
    expect(batches).toHaveLength(1);
    expect(batches[0].map((m) => `${m.room}:${m.id}`)).toEqual(['main:2', 'main:4', 'other:7']);
    expect(batches[0][0]).toMatchObject({ type: 'message', sender: 'bob', message: 'm2', cid: 'c2' });
    expect(client.lastIdsByRoom()).toEqual({ main: 4, other: 7 });
    // the same batch again (a redelivery) and a single copy of a batched message add nothing
    broker.deliver(q, { v: 1, type: 'batch', room: 'main', messages: [msg(2), msg(4)] });
    broker.deliver(q, msg(4));
    expect(batches).toHaveLength(1);
    expect(single).toHaveLength(1);
  });

  it('takes the room of the batch for elements without one and ignores a batch without messages', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    const batches: ChatMessage[][] = [];
    client.on('messages', (ms) => batches.push(ms));
    broker.deliver(client.queueName, { v: 1, type: 'batch', room: 'main', messages: [msg(1, { room: undefined })] });
    broker.deliver(client.queueName, { v: 1, type: 'batch', room: 'main' });
    broker.deliver(client.queueName, { v: 1, type: 'batch', room: 'main', messages: [] });
    expect(batches).toHaveLength(1);
    expect(batches[0][0].room).toBe('main');
  });
});

describe('ChatClient: keep-alive, reconnect, resume, logout', () => {
  it('pings every keepaliveMs/3 with login and token', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    await tick(10000 * 3 + 10);
    const pings = broker.sentTo('/amq/queue/login').filter((s) => s.json.action === 'ping');
    expect(pings).toHaveLength(3);
    expect(pings[0].json).toEqual({ v: 1, action: 'ping', login: 'alice', token: 'tok-1' });
  });

  it('resubscribes after the WebSocket drops, without logging in again', async () => {
    const { broker, client, states } = await setup();
    await login(client, 'alice');
    const got: string[] = [];
    client.on('message', (m) => got.push(m.message));
    broker.current.drop();
    expect(client.state).toBe('reconnecting');
    await tick(1000);
    expect(client.state).toBe('online');
    expect(states).toEqual(['connecting', 'online', 'reconnecting', 'online']);
    expect(broker.logins()).toHaveLength(1);
    expect(broker.current.subs.size).toBe(1);
    client.send('after');
    await tick(5);
    expect(got).toEqual(['after']);
  });

  it('queues sends made while reconnecting and sends them once online', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    broker.autoConnect = false;
    broker.current.drop();
    const cid = client.send('later');
    expect(broker.chats()).toHaveLength(0);
    broker.autoConnect = true;
    broker.current.open();
    await tick(10);
    expect(broker.chats()).toHaveLength(1);
    expect(broker.chats()[0].cid).toBe(cid);
  });

  it('logs in again with `since` when the queue is gone, and resends pending messages with the same cid', async () => {
    const { broker, relay, client } = await setup();
    await login(client, 'alice');
    const q = client.queueName;
    client.send('one');
    await tick(5);
    expect(client.lastIdsByRoom()).toEqual({ main: 1 });
    // the relay lost us: queue deleted, connection dropped
    relay.users.delete('alice');
    broker.deleteQueue(q); // subscription cancelled; resubscribing closes the connection
    await tick(1);
    expect(client.state).toBe('online');
    await tick(400);
    expect(client.state).toBe('reconnecting');
    const cid = client.send('two'); // pending while reconnecting
    await tick(5000);
    const logins = broker.logins();
    expect(logins).toHaveLength(2);
    expect(logins[1]).toMatchObject({ action: 'login', login: 'alice', queue: q, since: { main: 1 } });
    expect(client.state).toBe('online');
    expect(client.token).toBe('tok-2');
    const two = broker.chats().filter((c) => c.cid === cid);
    expect(two.length).toBeGreaterThanOrEqual(1);
    expect(two.at(-1)!.token).toBe('tok-2');
  });

  it('logs in again with `since` when the relay answers not_logged_in', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    client.send('one');
    await tick(5);
    broker.deliver(client.queueName, { v: 1, type: 'error', code: 'not_logged_in', reason: 'who are you' });
    await tick(500);
    expect(broker.logins()).toHaveLength(2);
    expect(broker.logins()[1].since).toEqual({ main: 1 });
    expect(client.state).toBe('online');
  });

  it('logout sends the logout with token and goes offline', async () => {
    const { broker, client, states } = await setup();
    await login(client, 'alice');
    await client.logout();
    const lo = broker.sentTo('/amq/queue/login').filter((s) => s.json.action === 'logout');
    expect(lo).toHaveLength(1);
    expect(lo[0].json).toEqual({ v: 1, action: 'logout', login: 'alice', token: 'tok-1' });
    expect(client.state).toBe('offline');
    expect(states.at(-1)).toBe('offline');
    expect(broker.current.active).toBe(false);
    await tick(60000);
    expect(broker.sent.filter((s) => s.json.action === 'ping')).toHaveLength(0);
  });

  it('stops (no resume) when the relay says the session was replaced', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    const errs: ClientError[] = [];
    client.on('error', (e) => errs.push(e));
    broker.deliver(client.queueName, { v: 1, type: 'error', code: 'duplicate_login', reason: 'this session was replaced by a new login' });
    broker.deleteQueue(client.queueName);
    await tick(5000);
    expect(client.state).toBe('offline');
    expect(errs).toEqual([{ code: 'client_replaced', reason: 'this session was replaced by a new login' }]);
    expect(broker.logins()).toHaveLength(1);
  });

  it('gives up after repeated session losses', async () => {
    const { broker, relay, client } = await setup();
    await login(client, 'alice');
    const errs: ClientError[] = [];
    client.on('error', (e) => errs.push(e));
    for (let i = 0; i < 8 && client.state !== 'offline'; i++) {
      relay.users.delete('alice');
      broker.deleteQueue(client.queueName);
      await tick(3000);
    }
    expect(client.state).toBe('offline');
    expect(errs.at(-1)?.code).toBe('client_resume_failed');
    expect(broker.logins()).toHaveLength(6);
  });

  it('stops when another session took the name over', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    const errs: ClientError[] = [];
    client.on('error', (e) => errs.push(e));
    broker.deliver(client.queueName, { v: 1, type: 'leave', room: 'main', login: 'alice', reason: 'replaced' });
    expect(client.state).toBe('offline');
    expect(errs[0].code).toBe('client_replaced');
  });
});

describe('ChatClient: joining and leaving rooms without logging out', () => {
  it('joins a room by logging in again on the same queue: same token, since for the rooms it has seen', async () => {
    const { broker, relay, client } = await setup();
    await login(client, 'alice');
    client.send('one');
    await tick(5);
    const changes: [string[], string[]][] = [];
    client.on('rooms', (r, j) => changes.push([r, j]));
    relay.enabled = false; // hold the relay's answer
    const p = client.joinRoom('dev');
    expect(client.rooms).toEqual(['main', 'dev']);
    expect(client.joining).toEqual(['dev']);
    expect(() => client.send('too early', { room: 'dev' })).toThrow(/joining/);
    relay.enabled = true;
    relay.handle(broker.sentTo('/amq/queue/login').at(-1)!);
    await tick(500);
    await p;
    const logins = broker.logins();
    expect(logins).toHaveLength(2);
    expect(logins[1]).toMatchObject({ login: 'alice', queue: client.queueName, rooms: ['main', 'dev'], since: { main: 1 } });
    expect(client.token).toBe('tok-1');
    expect(client.joining).toEqual([]);
    expect(changes[0]).toEqual([['main', 'dev'], ['dev']]);
    expect(changes.at(-1)).toEqual([['main', 'dev'], []]);
    expect(client.state).toBe('online');
    client.send('in dev', { room: 'dev' });
    await tick(5);
    expect(broker.chats().at(-1)).toMatchObject({ room: 'dev', message: 'in dev', token: 'tok-1' });
  });

  it('leaves a room and ignores what the broker still routes from it (stale binding), including our own leave', async () => {
    const { broker, relay, client } = await setup();
    relay.staleBindings = true;
    const errors: ClientError[] = [];
    const got: string[] = [];
    const presence: string[] = [];
    client.on('error', (e) => errors.push(e));
    client.on('message', (m) => got.push(`${m.room}:${m.message}`));
    client.on('presence', (room) => presence.push(room));
    await login(client, 'alice', ['main', 'dev']);
    const p = client.leaveRoom('dev');
    await tick(500);
    await p;
    expect(client.rooms).toEqual(['main']);
    expect(broker.logins().at(-1)!.rooms).toEqual(['main']);
    // the relay's leave of our own login in dev reached our queue: not a replacement
    expect(client.state).toBe('online');
    expect(errors).toEqual([]);
    // bob still talks in dev; the broker still routes it to us
    relay.users.set('bob', { queue: 'q.bob', token: 't', rooms: ['main', 'dev'], bound: new Set(['main', 'dev']) });
    broker.queues.add('q.bob');
    presence.length = 0;
    broker.deliver(client.queueName, { v: 1, type: 'message', id: 5, ts: 1, room: 'dev', sender: 'bob', message: 'stale' });
    broker.deliver(client.queueName, { v: 1, type: 'join', room: 'dev', login: 'carl' });
    broker.deliver(client.queueName, { v: 1, type: 'message', id: 6, ts: 1, room: 'main', sender: 'bob', message: 'fresh' });
    expect(got).toEqual(['main:fresh']);
    expect(presence).toEqual([]);
    expect(client.users('dev')).toEqual([]);
    expect(() => client.send('x', { room: 'dev' })).toThrow(/not in room/);
  });

  it('refuses to leave the last room and to join an invalid or 17th room', async () => {
    const { client } = await setup();
    await login(client, 'alice');
    await expect(client.leaveRoom('main')).rejects.toThrow(/last room/);
    await expect(client.joinRoom('a/b')).rejects.toThrow(/invalid/);
    const many = Array.from({ length: 15 }, (_, i) => `r${i}`);
    const ps = many.map((r) => client.joinRoom(r));
    await tick(500);
    await Promise.all(ps);
    expect(client.rooms).toHaveLength(16);
    await expect(client.joinRoom('r99')).rejects.toThrow(/at most 16/);
  });

  it('undoes a join the relay refuses', async () => {
    const { broker, relay, client } = await setup();
    await login(client, 'alice');
    relay.enabled = false;
    const p = client.joinRoom('dev');
    broker.deliver(client.queueName, { v: 1, type: 'error', code: 'bad_room', reason: 'no such room' });
    await expect(p).rejects.toThrow(/no such room/);
    expect(client.rooms).toEqual(['main']);
  });

  it('undoes a join the relay never confirms', async () => {
    const { relay, client } = await setup({ loginTimeoutMs: 2000 });
    await login(client, 'alice');
    relay.enabled = false;
    const p = client.joinRoom('dev');
    const r = expect(p).rejects.toThrow(/did not confirm/);
    await tick(2100);
    await r;
    expect(client.rooms).toEqual(['main']);
  });

  it('a room change made while the connection is down goes out on reconnect', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    broker.autoConnect = false;
    broker.current.drop();
    const p = client.joinRoom('dev');
    expect(broker.logins()).toHaveLength(1);
    broker.autoConnect = true;
    broker.current.open();
    await tick(500);
    await p;
    expect(broker.logins()).toHaveLength(2);
    expect(client.state).toBe('online');
    expect(broker.current.subs.size).toBe(1);
  });
});

describe('ChatClient: the outbox', () => {
  it('reports queued while offline, then sending and sent; the message goes out exactly once on reconnect', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    const statuses: string[] = [];
    client.on('outbox', (_cid, s) => statuses.push(s));
    const got: string[] = [];
    client.on('message', (m) => got.push(m.message));
    broker.autoConnect = false;
    broker.current.drop();
    const cid = client.send('while down');
    expect(statuses).toEqual(['queued']);
    await tick(20000); // no connection: nothing to send, nothing given up
    expect(broker.chats()).toHaveLength(0);
    expect(client.pendingCount).toBe(1);
    broker.autoConnect = true;
    broker.current.open();
    await tick(50);
    expect(broker.chats().filter((c) => c.cid === cid)).toHaveLength(1);
    expect(statuses).toEqual(['queued', 'sending', 'sent']);
    expect(got).toEqual(['while down']);
  });

  it('a send whose receipt was lost with the connection is sent again at once, with the same cid, shown once', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    const got: string[] = [];
    client.on('message', (m) => got.push(m.message));
    broker.autoReceipt = false;
    const cid = client.send('in flight');
    await tick(5);
    expect(broker.chats()).toHaveLength(1); // the relay got it and echoed it
    broker.current.drop(); // ... but the receipt never came
    broker.autoReceipt = true;
    await tick(400); // reconnect (300 ms) and resubscribe: well before the 5 s receipt timeout
    const sends = broker.chats().filter((c) => c.cid === cid);
    expect(sends).toHaveLength(2);
    expect(client.pendingCount).toBe(0);
    expect(got).toEqual(['in flight']); // the fake relay stamps it twice; the cid makes it once
  });

  it('reports failed when the relay refuses a message', async () => {
    const { broker, client } = await setup();
    await login(client, 'alice');
    const statuses: [string, string][] = [];
    client.on('outbox', (c, s) => statuses.push([c, s]));
    broker.autoReceipt = false;
    const cid = client.send('too fast');
    broker.deliver(client.queueName, { v: 1, type: 'error', code: 'rate_limited', reason: 'slow down', cid });
    expect(statuses).toEqual([
      [cid, 'sending'],
      [cid, 'failed'],
    ]);
    expect(client.pendingCount).toBe(0);
  });
});

describe('ChatClient: history', () => {
  it('marks the past of a room seen for the first time as history, and what a resume replays as missed', async () => {
    const { broker, relay, client } = await setup();
    relay.history.set('main', [{ v: 1, type: 'message', id: 1, ts: 1, room: 'main', sender: 'bob', message: 'old' }]);
    const got: string[] = [];
    client.on('message', (m, meta) => got.push(`${m.message}:${meta.history}`));
    await login(client, 'alice');
    expect(got).toEqual(['old:true']);
    // the relay lost the session; bob talks meanwhile; the resume replays it as missed
    relay.users.delete('alice');
    relay.history.get('main')!.push({ v: 1, type: 'message', id: 2, ts: 2, room: 'main', sender: 'bob', message: 'missed' });
    broker.deliver(client.queueName, { v: 1, type: 'error', code: 'not_logged_in', reason: 'who are you' });
    await tick(500);
    expect(got).toEqual(['old:true', 'missed:false']);
    // a room joined later shows its past as history too
    relay.history.set('dev', [{ v: 1, type: 'message', id: 1, ts: 1, room: 'dev', sender: 'bob', message: 'dev past' }]);
    const p = client.joinRoom('dev');
    await tick(500);
    await p;
    expect(got).toEqual(['old:true', 'missed:false', 'dev past:true']);
  });
});
