import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { ChatClient } from '../src/client';
import { LoginForm } from '../src/components/LoginForm';
import { CONFIG, FakeBroker, FakeRelay } from './fake';

async function tick(ms = 1) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

function renderApp() {
  const broker = new FakeBroker();
  const relay = new FakeRelay(broker);
  const clients: ChatClient[] = [];
  const createClient = () => {
    const c = new ChatClient({ transport: broker.factory });
    clients.push(c);
    return c;
  };
  const utils = render(<App createClient={createClient} loadConfig={async () => CONFIG} />);
  return { broker, relay, clients, ...utils };
}

async function loginAs(name: string, rooms = '') {
  await tick();
  fireEvent.change(screen.getByLabelText('Name'), { target: { value: name } });
  if (rooms) fireEvent.change(screen.getByLabelText('Rooms (optional)'), { target: { value: rooms } });
  fireEvent.click(screen.getByTestId('login-submit'));
  await tick(500);
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('LoginForm', () => {
  it('validates the name per protocol and shows why', () => {
    const onLogin = vi.fn();
    render(<LoginForm defaultRoom="main" onLogin={onLogin} />);
    const name = screen.getByLabelText('Name');
    fireEvent.change(name, { target: { value: 'bad name!' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect(onLogin).not.toHaveBeenCalled();
    expect(screen.getByTestId('login-name-error').textContent).toMatch(/letters, digits/);
    expect(name.getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(name, { target: { value: 'x'.repeat(33) } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect(onLogin).not.toHaveBeenCalled();
    expect(screen.getByTestId('login-name-error').textContent).toMatch(/at most 32/);
    fireEvent.change(name, { target: { value: 'al.ice_-1' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect(onLogin).toHaveBeenCalledWith('al.ice_-1', ['main']);
  });

  it('parses optional rooms', () => {
    const onLogin = vi.fn();
    render(<LoginForm defaultRoom="main" onLogin={onLogin} />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'bob' } });
    fireEvent.change(screen.getByLabelText('Rooms (optional)'), { target: { value: 'main, dev dev' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect(onLogin).toHaveBeenCalledWith('bob', ['main', 'dev']);
    fireEvent.change(screen.getByLabelText('Rooms (optional)'), { target: { value: 'a/b' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect(onLogin).toHaveBeenCalledTimes(1);
  });
});

describe('App', () => {
  it('logs in and shows the chat with presence and the online badge', async () => {
    const { broker } = renderApp();
    await loginAs('alice');
    expect(screen.getByTestId('chat-view')).toBeTruthy();
    expect(screen.getByTestId('state-badge').dataset.state).toBe('online');
    expect(screen.getByTestId('me-name').textContent).toBe('alice');
    expect(screen.getAllByTestId('user').map((u) => u.dataset.user)).toEqual(['alice']);
    expect(broker.logins()).toHaveLength(1);
  });

  it('renders messages as text, marks own messages and system lines; a direct message is its own conversation', async () => {
    const { broker, clients } = renderApp();
    await loginAs('alice');
    const q = clients[0].queueName;
    await act(async () => {
      broker.deliver(q, { v: 1, type: 'join', room: 'main', login: 'bob' });
      broker.deliver(q, { v: 1, type: 'message', id: 1, ts: Date.now(), room: 'main', sender: 'bob', message: '<script>alert(1)</script><b>x</b>' });
      broker.deliver(q, { v: 1, type: 'direct', id: 2, ts: Date.now(), sender: 'bob', to: 'alice', message: 'secret' });
    });
    const list = screen.getByTestId('message-list');
    expect(list.querySelector('b')).toBeNull();
    expect(list.querySelector('script')).toBeNull();
    let msgs = screen.getAllByTestId('message');
    expect(msgs).toHaveLength(1); // the direct message is not in the room
    expect(within(msgs[0]).getByTestId('message-text').textContent).toBe('<script>alert(1)</script><b>x</b>');
    expect(msgs[0].dataset.own).toBe('false');
    expect(screen.getAllByTestId('system-line').map((s) => s.textContent)).toEqual(['bob joined']);
    expect(screen.getAllByTestId('user').map((u) => u.dataset.user)).toEqual(['alice', 'bob']);
    // the conversation with bob, unread
    const dm = screen.getByTestId('dm');
    expect(dm.dataset.peer).toBe('bob');
    expect(within(dm).getByTestId('unread').textContent).toBe('1');
    fireEvent.click(within(dm).getByTestId('dm-button'));
    expect(screen.getByTestId('conv-title').textContent).toBe('@bob');
    msgs = screen.getAllByTestId('message');
    expect(msgs.map((m) => m.dataset.kind)).toEqual(['direct']);
    expect(within(msgs[0]).getByTestId('message-text').textContent).toBe('secret');
    expect(within(dm).queryByTestId('unread')).toBeNull();
    fireEvent.click(screen.getAllByTestId('room-button')[0]);
    await act(async () => {
      broker.deliver(q, { v: 1, type: 'leave', room: 'main', login: 'bob', reason: 'timeout' });
    });
    expect(screen.getAllByTestId('system-line').map((s) => s.textContent)).toEqual(['bob joined', 'bob left (timeout)']);
    expect(screen.getAllByTestId('user').map((u) => u.dataset.user)).toEqual(['alice']);
  });

  it('sends on Enter, not on Shift+Enter, and shows the own message once', async () => {
    const { broker } = renderApp();
    await loginAs('alice');
    const input = screen.getByLabelText('Message') as HTMLTextAreaElement;
    fireEvent.change(input, { target: { value: 'line1' } });
    fireEvent.keyDown(input, { key: 'Enter', shiftKey: true });
    expect(broker.chats()).toHaveLength(0);
    fireEvent.keyDown(input, { key: 'Enter' });
    await tick(5);
    expect(broker.chats()).toHaveLength(1);
    expect(broker.chats()[0]).toMatchObject({ sender: 'alice', message: 'line1', room: 'main' });
    expect(input.value).toBe('');
    const msgs = screen.getAllByTestId('message');
    expect(msgs).toHaveLength(1);
    expect(msgs[0].dataset.own).toBe('true');
    expect(msgs[0].className).toMatch(/msg-own/);
  });

  it('enforces the max message size from the config', async () => {
    renderApp();
    await loginAs('alice');
    const input = screen.getByLabelText('Message') as HTMLTextAreaElement;
    expect(input.maxLength).toBe(CONFIG.maxMessageSize);
    fireEvent.change(input, { target: { value: 'é'.repeat(60) } }); // 120 bytes
    expect((screen.getByTestId('composer-send') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('composer-count').textContent).toBe('120/100');
  });

  it('sends a direct message to a user picked from the list', async () => {
    const { broker, clients } = renderApp();
    await loginAs('alice');
    await act(async () => {
      broker.deliver(clients[0].queueName, { v: 1, type: 'join', room: 'main', login: 'bob' });
    });
    fireEvent.click(screen.getByRole('button', { name: 'Send a direct message to bob' }));
    expect(screen.getByTestId('conv-title').textContent).toBe('@bob');
    const input = screen.getByLabelText('Message') as HTMLTextAreaElement;
    expect(input.placeholder).toMatch(/@bob/);
    fireEvent.change(input, { target: { value: 'hi bob' } });
    fireEvent.click(screen.getByTestId('composer-send'));
    await tick(5);
    expect(broker.chats()[0]).toMatchObject({ to: 'bob', message: 'hi bob', room: 'main' });
    expect(screen.getAllByTestId('message').map((m) => m.dataset.kind)).toEqual(['direct']);
    expect(screen.getAllByTestId('dm').map((d) => d.dataset.peer)).toEqual(['bob']);
  });

  it('shows relay errors in a dismissible banner', async () => {
    const { broker, clients } = renderApp();
    await loginAs('alice');
    await act(async () => {
      broker.deliver(clients[0].queueName, { v: 1, type: 'error', code: 'rate_limited', reason: 'Too many messages' });
    });
    const banner = screen.getByTestId('error-banner');
    expect(banner.textContent).toMatch(/Too many messages/);
    fireEvent.click(screen.getByLabelText('Dismiss error'));
    expect(screen.queryByTestId('error-banner')).toBeNull();
  });

  it('shows reconnecting while the WebSocket is down', async () => {
    const { broker } = renderApp();
    await loginAs('alice');
    broker.autoConnect = false;
    await act(async () => broker.current.drop());
    expect(screen.getByTestId('state-badge').dataset.state).toBe('reconnecting');
    broker.autoConnect = true;
    await act(async () => broker.current.open());
    await tick(10);
    expect(screen.getByTestId('state-badge').dataset.state).toBe('online');
  });

  it('lists the rooms with unread counts; a room shows only its own messages', async () => {
    const { broker, clients } = renderApp();
    await loginAs('alice', 'main, dev');
    expect(screen.getAllByTestId('room').map((r) => r.dataset.room)).toEqual(['main', 'dev']);
    expect(screen.getByTestId('conv-title').textContent).toBe('#main');
    await act(async () => {
      broker.deliver(clients[0].queueName, { v: 1, type: 'message', id: 1, ts: 1, room: 'dev', sender: 'bob', message: 'in dev' });
      broker.deliver(clients[0].queueName, { v: 1, type: 'message', id: 2, ts: 2, room: 'dev', sender: 'bob', message: 'again' });
    });
    expect(screen.queryAllByTestId('message')).toHaveLength(0);
    const dev = screen.getAllByTestId('room')[1];
    expect(within(dev).getByTestId('unread').textContent).toBe('2');
    expect(within(dev).getByTestId('unread').getAttribute('aria-label')).toBe('2 unread in #dev');
    fireEvent.click(within(dev).getByTestId('room-button'));
    expect(screen.getAllByTestId('message-text').map((m) => m.textContent)).toEqual(['in dev', 'again']);
    expect(within(dev).queryByTestId('unread')).toBeNull();
    // the "New messages" line before the first of them
    expect(screen.getByTestId('new-marker').nextElementSibling?.textContent).toMatch(/in dev/);
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'reply' } });
    fireEvent.click(screen.getByTestId('composer-send'));
    await tick(5);
    expect(broker.chats()[0].room).toBe('dev');
    expect(screen.queryByTestId('new-marker')).toBeNull(); // answered: read
  });

  it('joins and leaves a room from the sidebar without logging out', async () => {
    const { broker, relay, clients } = renderApp();
    relay.staleBindings = true;
    await loginAs('alice');
    fireEvent.change(screen.getByLabelText('Room to join'), { target: { value: 'dev' } });
    fireEvent.click(screen.getByTestId('join-button'));
    await tick(500);
    expect(screen.getAllByTestId('room').map((r) => r.dataset.room)).toEqual(['main', 'dev']);
    expect(screen.getByTestId('conv-title').textContent).toBe('#dev');
    expect(document.activeElement).toBe(screen.getByLabelText('Message'));
    expect(broker.logins()).toHaveLength(2);
    expect(broker.logins()[1]).toMatchObject({ queue: clients[0].queueName, rooms: ['main', 'dev'] });
    screen.getByLabelText('Leave room dev').focus();
    fireEvent.click(screen.getByLabelText('Leave room dev'));
    await tick(500);
    expect(document.activeElement).toBe(screen.getByLabelText('Message'));
    expect(screen.getAllByTestId('room').map((r) => r.dataset.room)).toEqual(['main']);
    expect(screen.getByTestId('conv-title').textContent).toBe('#main');
    expect(screen.getByTestId('state-badge').dataset.state).toBe('online');
    expect(screen.queryByLabelText('Leave room main')).toBeNull(); // the last room stays
    // the broker still routes dev to us (the relay's stale binding): nothing shows
    await act(async () => {
      broker.deliver(clients[0].queueName, { v: 1, type: 'message', id: 9, ts: 1, room: 'dev', sender: 'bob', message: 'stale' });
    });
    expect(screen.queryAllByTestId('message')).toHaveLength(0);
    expect(screen.queryAllByTestId('unread')).toHaveLength(0);
    // an invalid name is explained, nothing is sent
    fireEvent.change(screen.getByLabelText('Room to join'), { target: { value: 'no/slash' } });
    fireEvent.click(screen.getByTestId('join-button'));
    await tick(5);
    expect(broker.logins()).toHaveLength(3);
    expect(screen.getByLabelText('Room to join').getAttribute('aria-invalid')).toBe('true');
  });

  it('logs out with the button and returns to the login form', async () => {
    const { broker } = renderApp();
    await loginAs('alice');
    fireEvent.click(screen.getByLabelText('Log out'));
    await tick(5);
    expect(broker.sentTo('/amq/queue/login').filter((s) => s.json.action === 'logout')).toHaveLength(1);
    expect(screen.getByTestId('login-form')).toBeTruthy();
    expect(screen.queryByTestId('login-error')).toBeNull();
  });

  it('logs out on pagehide', async () => {
    const { broker } = renderApp();
    await loginAs('alice');
    window.dispatchEvent(new Event('pagehide'));
    await tick(5);
    expect(broker.sentTo('/amq/queue/login').filter((s) => s.json.action === 'logout')).toHaveLength(1);
  });

  it('returns to the login form with the reason when the session is replaced', async () => {
    const { broker, clients } = renderApp();
    await loginAs('alice');
    await act(async () => {
      broker.deliver(clients[0].queueName, { v: 1, type: 'error', code: 'duplicate_login', reason: 'this session was replaced by a new login' });
    });
    await tick(5);
    expect(screen.getByTestId('login-form')).toBeTruthy();
    expect(screen.getByTestId('login-error').textContent).toMatch(/replaced/);
  });

  it('shows the relay error when the login is refused', async () => {
    const { broker, relay } = renderApp();
    relay.enabled = false;
    broker.onSend = (s) => {
      if (s.json.action === 'login') {
        broker.queues.add(String(s.json.queue));
        broker.deliver(String(s.json.queue), { v: 1, type: 'error', code: 'duplicate_login', reason: 'alice is already online' });
      }
    };
    await loginAs('alice');
    expect(screen.getByTestId('login-error').textContent).toMatch(/already online/);
  });

  it('renders http(s) links safely and wraps nothing else', async () => {
    const { broker, clients } = renderApp();
    await loginAs('alice');
    await act(async () => {
      broker.deliver(clients[0].queueName, {
        v: 1, type: 'message', id: 1, ts: Date.now(), room: 'main', sender: 'bob',
        message: 'docs at https://example.com/x?a=1, not javascript:alert(1) nor <a href="javascript:alert(2)">y</a>',
      });
    });
    const text = screen.getByTestId('message-text');
    expect(text.textContent).toBe('docs at https://example.com/x?a=1, not javascript:alert(1) nor <a href="javascript:alert(2)">y</a>');
    const links = text.querySelectorAll('a');
    expect(links).toHaveLength(1);
    expect(links[0].getAttribute('href')).toBe('https://example.com/x?a=1');
    expect(links[0].getAttribute('rel')).toBe('noopener noreferrer');
    expect(links[0].getAttribute('target')).toBe('_blank');
  });

  it('groups messages by sender and day, with date separators', async () => {
    const { broker, clients } = renderApp();
    await loginAs('alice');
    const day = 24 * 3600 * 1000;
    const now = Date.now();
    await act(async () => {
      const q = clients[0].queueName;
      broker.deliver(q, { v: 1, type: 'message', id: 1, ts: now - 3 * day, room: 'main', sender: 'bob', message: 'm1' });
      broker.deliver(q, { v: 1, type: 'message', id: 2, ts: now - 3 * day + 1000, room: 'main', sender: 'bob', message: 'm2' });
      broker.deliver(q, { v: 1, type: 'message', id: 3, ts: now, room: 'main', sender: 'bob', message: 'm3' });
      broker.deliver(q, { v: 1, type: 'message', id: 4, ts: now + 1000, room: 'main', sender: 'carl', message: 'm4' });
    });
    expect(screen.getAllByTestId('day-separator').map((d) => d.textContent)).toHaveLength(2);
    expect(screen.getAllByTestId('day-separator')[1].textContent).toBe('Today');
    expect(screen.getAllByTestId('message').map((m) => m.dataset.first)).toEqual(['true', 'false', 'true', 'true']);
    expect(screen.getAllByTestId('message-sender').map((m) => m.textContent)).toEqual(['bob', 'bob', 'carl']);
  });

  it('a message written while the connection is down shows as waiting, then goes out once', async () => {
    const { broker } = renderApp();
    await loginAs('alice');
    broker.autoConnect = false;
    await act(async () => broker.current.drop());
    const input = screen.getByLabelText('Message') as HTMLTextAreaElement;
    expect(input.placeholder).toMatch(/when the connection is back/);
    fireEvent.change(input, { target: { value: 'offline words' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    await tick(5);
    let msg = screen.getByTestId('message');
    expect(msg.dataset.status).toBe('queued');
    expect(within(msg).getByTestId('message-status').textContent).toMatch(/Waiting for the connection/);
    expect(broker.chats()).toHaveLength(0);
    broker.autoConnect = true;
    await act(async () => broker.current.open());
    await tick(20);
    expect(broker.chats()).toHaveLength(1);
    msg = screen.getByTestId('message');
    expect(msg.dataset.status).toBeUndefined();
    expect(screen.getAllByTestId('message')).toHaveLength(1);
  });

  it('a refused message can be retried', async () => {
    const { broker, relay, clients } = renderApp();
    await loginAs('alice');
    relay.enabled = false;
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'too fast' } });
    fireEvent.click(screen.getByTestId('composer-send'));
    await tick(5);
    const cid = String(broker.chats()[0].cid);
    await act(async () => {
      broker.deliver(clients[0].queueName, { v: 1, type: 'error', code: 'rate_limited', reason: 'slow down', cid });
    });
    expect(screen.getByTestId('message').dataset.status).toBe('failed');
    relay.enabled = true;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await tick(5);
    expect(broker.chats()).toHaveLength(2);
    expect(broker.chats()[1].cid).not.toBe(cid);
    const msgs = screen.getAllByTestId('message');
    expect(msgs).toHaveLength(1);
    expect(msgs[0].dataset.status).toBeUndefined();
  });

  it('counts unread messages in the tab title, and while the tab is hidden', async () => {
    const { broker, clients } = renderApp();
    await loginAs('alice', 'main, dev');
    expect(document.title).toBe('Chat · alice');
    const q = clients[0].queueName;
    await act(async () => {
      broker.deliver(q, { v: 1, type: 'message', id: 1, ts: 1, room: 'dev', sender: 'bob', message: 'a' });
      broker.deliver(q, { v: 1, type: 'direct', id: 1, ts: 1, sender: 'bob', to: 'alice', message: 'b' });
    });
    expect(document.title).toBe('(2) Chat · alice');
    // the open room counts too while the tab is hidden
    const vis = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    await act(async () => {
      document.dispatchEvent(new Event('visibilitychange'));
      broker.deliver(q, { v: 1, type: 'message', id: 2, ts: 2, room: 'main', sender: 'bob', message: 'c' });
    });
    expect(document.title).toBe('(3) Chat · alice');
    vis.mockReturnValue('visible');
    await act(async () => {
      document.dispatchEvent(new Event('visibilitychange'));
    });
    expect(document.title).toBe('(2) Chat · alice');
    fireEvent.click(screen.getAllByTestId('room-button')[1]);
    fireEvent.click(screen.getByTestId('dm-button'));
    expect(document.title).toBe('Chat · alice');
  });

  it('scrolled up: new messages show on a jump-to-latest button and after a "New messages" line', async () => {
    const { broker, clients } = renderApp();
    await loginAs('alice');
    const list = screen.getByTestId('message-list');
    // jsdom has no layout: give the list a geometry, scrolled to the top of a long list
    Object.defineProperty(list, 'scrollHeight', { configurable: true, get: () => 2000 });
    Object.defineProperty(list, 'clientHeight', { configurable: true, get: () => 400 });
    list.scrollTop = 0;
    fireEvent.scroll(list);
    expect(screen.getByTestId('jump-latest').textContent).toMatch(/Jump to latest/);
    await act(async () => {
      broker.deliver(clients[0].queueName, { v: 1, type: 'message', id: 1, ts: Date.now(), room: 'main', sender: 'bob', message: 'x' });
      broker.deliver(clients[0].queueName, { v: 1, type: 'message', id: 2, ts: Date.now(), room: 'main', sender: 'bob', message: 'y' });
    });
    expect(screen.getByTestId('jump-latest').textContent).toBe('2 new messages ↓');
    expect(document.title).toBe('(2) Chat · alice');
    expect(screen.getByTestId('new-marker')).toBeTruthy();
    expect(list.scrollTop).toBe(0); // not pulled down while reading older messages
    fireEvent.click(screen.getByTestId('jump-latest'));
    expect(list.scrollTop).toBe(2000);
    expect(screen.queryByTestId('jump-latest')).toBeNull();
    expect(document.title).toBe('Chat · alice');
  });

  it('notifies a direct message on the desktop when the user turned it on', async () => {
    const shown: string[] = [];
    class FakeNotification {
      static permission: NotificationPermission = 'default';
      static requestPermission = vi.fn(async () => {
        FakeNotification.permission = 'granted';
        return 'granted' as NotificationPermission;
      });
      onclick: (() => void) | null = null;
      constructor(title: string, o?: NotificationOptions) {
        shown.push(`${title}: ${o?.body}`);
        notes.push(this);
      }
      close() {}
    }
    const notes: FakeNotification[] = [];
    vi.spyOn(window, 'focus').mockImplementation(() => undefined);
    vi.stubGlobal('Notification', FakeNotification);
    localStorage.clear();
    const { broker, clients } = renderApp();
    await loginAs('alice');
    const q = clients[0].queueName;
    await act(async () => {
      broker.deliver(q, { v: 1, type: 'direct', id: 1, ts: 1, sender: 'bob', to: 'alice', message: 'not yet' });
    });
    expect(shown).toEqual([]);
    const toggle = screen.getByLabelText('Desktop notification for direct messages') as HTMLInputElement;
    expect(toggle.checked).toBe(false);
    await act(async () => {
      fireEvent.click(toggle);
    });
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1);
    expect(toggle.checked).toBe(true);
    expect(localStorage.getItem('chat.notify-direct')).toBe('1');
    await act(async () => {
      broker.deliver(q, { v: 1, type: 'direct', id: 2, ts: 2, sender: 'bob', to: 'alice', message: 'ping' });
      broker.deliver(q, { v: 1, type: 'message', id: 1, ts: 2, room: 'main', sender: 'bob', message: 'room talk' });
    });
    expect(shown).toEqual(['bob (direct message): ping']);
    // a click opens the conversation
    await act(async () => notes[0].onclick?.());
    expect(screen.getByTestId('conv-title').textContent).toBe('@bob');
    await act(async () => {
      broker.deliver(q, { v: 1, type: 'direct', id: 3, ts: 3, sender: 'bob', to: 'alice', message: 'seen' });
    });
    expect(shown).toHaveLength(1); // the conversation is open: no notification
    vi.unstubAllGlobals();
  });

  it('keyboard: Escape goes to the message box, Alt+Down to the next conversation, the drawer closes on Escape', async () => {
    const { broker, clients } = renderApp();
    await loginAs('alice', 'main, dev');
    await act(async () => {
      broker.deliver(clients[0].queueName, { v: 1, type: 'direct', id: 1, ts: 1, sender: 'bob', to: 'alice', message: 'hi' });
    });
    const view = screen.getByTestId('chat-view');
    const logout = screen.getByTestId('logout-button');
    logout.focus();
    fireEvent.keyDown(logout, { key: 'Escape' });
    expect(document.activeElement).toBe(screen.getByLabelText('Message'));
    fireEvent.keyDown(view, { key: 'ArrowDown', altKey: true });
    expect(screen.getByTestId('conv-title').textContent).toBe('#dev');
    fireEvent.keyDown(view, { key: 'ArrowDown', altKey: true });
    expect(screen.getByTestId('conv-title').textContent).toBe('@bob');
    fireEvent.keyDown(view, { key: 'ArrowDown', altKey: true });
    expect(screen.getByTestId('conv-title').textContent).toBe('#main');
    fireEvent.keyDown(view, { key: 'ArrowUp', altKey: true });
    expect(screen.getByTestId('conv-title').textContent).toBe('@bob');
    const menu = screen.getByTestId('menu-button');
    fireEvent.click(menu);
    expect(menu.getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement?.textContent).toMatch(/@bob/); // the open conversation's entry
    fireEvent.keyDown(screen.getAllByTestId('room-button')[0], { key: 'Escape' });
    expect(menu.getAttribute('aria-expanded')).toBe('false');
    expect(document.activeElement).toBe(menu);
    // every control has a name
    for (const b of screen.getAllByRole('button')) expect(b.textContent?.trim() || b.getAttribute('aria-label')).toBeTruthy();
  });
});
