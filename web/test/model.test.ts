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
