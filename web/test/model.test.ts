import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient } from '../src/client';
import { ChatModel, dmConv, roomConv } from '../src/model';
import { FakeBroker, FakeRelay, fakeFetch } from './fake';

async function tick(ms = 1) {
  await vi.advanceTimersByTimeAsync(ms);
}

async function setup(rooms = ['main', 'dev']) {
  const broker = new FakeBroker();
  const relay = new FakeRelay(broker);
  const client = new ChatClient({ transport: broker.factory, fetch: fakeFetch() });
  const model = new ChatModel(client);
  const p = client.connect();
  await tick();
  await p;
  const l = client.login('alice', rooms);
  await tick(500);
  await l;
  const q = client.queueName;
  let id = 0;
  const say = (room: string, sender = 'bob', message = 'x') =>
    broker.deliver(q, { v: 1, type: 'message', id: ++id, ts: Date.now(), room, sender, message });
  const dm = (sender: string, message = 'psst') => broker.deliver(q, { v: 1, type: 'direct', id: ++id, ts: Date.now(), sender, to: 'alice', message });
  return { broker, relay, client, model, say, dm };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ChatModel: what the user has seen', () => {
  it('counts messages of others in conversations not in view; own messages and join/leave lines never count', async () => {
    const { broker, client, model, say } = await setup();
    expect(model.getSnapshot().active).toBe(roomConv('main'));
    say('main'); // in view
    say('dev');
    say('dev');
    broker.deliver(client.queueName, { v: 1, type: 'join', room: 'dev', login: 'carl' });
    say('dev', 'alice'); // own (another tab)
    const s = model.getSnapshot();
    expect(s.unread).toEqual({ [roomConv('dev')]: 2 });
    expect(model.unreadTotal).toBe(2);
    // the marker sits on the first unread one
    expect(s.markers[roomConv('dev')]).toBe(s.items[roomConv('dev')][0].key);
    model.setActive(roomConv('dev'));
    expect(model.getSnapshot().unread).toEqual({});
    expect(model.getSnapshot().markers[roomConv('dev')]).toBeDefined(); // still shown while there
    model.setActive(roomConv('main'));
    expect(model.getSnapshot().markers[roomConv('dev')]).toBeUndefined(); // read when left
  });

  it('counts in the open conversation while the tab is hidden or the list is scrolled up', async () => {
    const { model, say } = await setup();
    model.setVisible(false);
    say('main');
    expect(model.getSnapshot().unread).toEqual({ [roomConv('main')]: 1 });
    model.setVisible(true);
    expect(model.getSnapshot().unread).toEqual({});
    model.setAtBottom(false);
    say('main');
    say('main');
    expect(model.getSnapshot().unread).toEqual({ [roomConv('main')]: 2 });
    model.setAtBottom(true);
    expect(model.getSnapshot().unread).toEqual({});
  });

  it('direct messages: one conversation per peer, most recent first, unread until opened', async () => {
    const { model, dm } = await setup();
    dm('bob');
    dm('carl');
    dm('bob');
    const s = model.getSnapshot();
    expect(s.dms).toEqual(['bob', 'carl']);
    expect(s.unread).toEqual({ [dmConv('bob')]: 2, [dmConv('carl')]: 1 });
    expect(s.items[dmConv('bob')].map((i) => i.kind)).toEqual(['direct', 'direct']);
    model.openDm('carl');
    expect(model.getSnapshot().unread).toEqual({ [dmConv('bob')]: 2 });
    model.closeDm('carl');
    expect(model.getSnapshot().dms).toEqual(['bob']);
    expect(model.getSnapshot().active).toBe(roomConv('main'));
  });

  it('leaving a room drops its count and moves away from it; the room is no longer listed', async () => {
    const { model, say } = await setup(['main', 'dev', 'ops']);
    say('ops');
    model.setActive(roomConv('dev'));
    void model.leaveRoom('dev');
    void model.leaveRoom('ops');
    await tick(500);
    const s = model.getSnapshot();
    expect(s.rooms).toEqual(['main']);
    expect(s.active).toBe(roomConv('main'));
    expect(s.unread).toEqual({});
  });

  it('an own message shows at once and is replaced by the relay copy (one item)', async () => {
    const { broker, model } = await setup();
    broker.autoReceipt = false;
    const relay = broker.onSend;
    broker.onSend = undefined; // hold the relay's copy
    expect(model.send('hello')).toBe(true);
    const pending = model.getSnapshot().items[roomConv('main')];
    expect(pending.map((i) => [i.text, i.status])).toEqual([['hello', 'sending']]);
    broker.onSend = relay;
    relay!(broker.sent.at(-1)!);
    const items = model.getSnapshot().items[roomConv('main')];
    expect(items.map((i) => [i.text, i.status, i.own])).toEqual([['hello', undefined, true]]);
  });

  it('the past of a room shown for the first time is not unread', async () => {
    const { relay, client, model, say } = await setup(['main']);
    relay.history.set('dev', [{ v: 1, type: 'message', id: 100, ts: 1, room: 'dev', sender: 'bob', message: 'dev past' }]);
    const p = client.joinRoom('dev'); // #main stays open
    await tick(500);
    await p;
    expect(model.getSnapshot().active).toBe(roomConv('main'));
    expect(model.getSnapshot().items[roomConv('dev')].map((i) => i.text)).toEqual(['dev past']);
    expect(model.getSnapshot().unread).toEqual({});
    say('dev');
    expect(model.getSnapshot().unread).toEqual({ [roomConv('dev')]: 1 });
  });
});

describe('ChatModel: batches', () => {
  const frames = (ms: Record<string, unknown>[]) => ms.map((m, i) => ({ v: 1, type: 'message', id: 50 + i, ts: 1000 + i, sender: 'bob', message: `b${i}`, ...m }));

  it('a batch shows its messages in one update, exactly as the same messages arriving alone', async () => {
    const msgs = frames([{ room: 'main' }, { room: 'dev' }, { room: 'dev', sender: 'alice', cid: 'own-1' }, { room: 'dev' }, { room: 'main', id: 50 }]);
    const alone = await setup();
    const together = await setup();
    let aloneUpdates = 0;
    let togetherUpdates = 0;
    alone.model.subscribe(() => aloneUpdates++);
    together.model.subscribe(() => togetherUpdates++);
    for (const m of msgs) alone.broker.deliver(alone.client.queueName, m);
    together.broker.deliver(together.client.queueName, { v: 1, type: 'batch', room: 'main', messages: msgs });
    expect(togetherUpdates).toBe(1);
    expect(aloneUpdates).toBeGreaterThan(1);
    const a = alone.model.getSnapshot();
    const t = together.model.getSnapshot();
    expect(t.items).toEqual(a.items);
    expect(t.unread).toEqual(a.unread);
    expect(t.markers).toEqual(a.markers);
    // and what they are: the duplicate (main, 50) dropped, own messages not unread
    expect(t.items[roomConv('dev')].map((i) => i.text)).toEqual(['b1', 'b2', 'b3']);
    expect(t.items[roomConv('main')].map((i) => i.text)).toEqual(['b0']);
    expect(t.unread).toEqual({ [roomConv('dev')]: 2 });
  });

  it('a batch of nothing new does not update the view', async () => {
    const { broker, client, model } = await setup();
    const m = frames([{ room: 'main' }]);
    broker.deliver(client.queueName, m[0]);
    let updates = 0;
    model.subscribe(() => updates++);
    broker.deliver(client.queueName, { v: 1, type: 'batch', room: 'main', messages: m });
    expect(updates).toBe(0);
  });

  it('an own message coming back in a batch replaces its pending copy', async () => {
    const { broker, client, model } = await setup();
    broker.autoReceipt = false;
    const relay = broker.onSend;
    broker.onSend = undefined; // the relay's copy comes as a batch below
    expect(model.send('hello')).toBe(true);
    const cid = broker.sent.at(-1)!.json.cid as string;
    broker.onSend = relay;
    broker.deliver(client.queueName, { v: 1, type: 'batch', room: 'main', messages: frames([{ room: 'main', sender: 'alice', message: 'hello', cid }, { room: 'main' }]) });
    const items = model.getSnapshot().items[roomConv('main')];
    expect(items.map((i) => [i.text, i.status, i.own])).toEqual([
      ['hello', undefined, true],
      ['b1', undefined, false],
    ]);
  });
});
