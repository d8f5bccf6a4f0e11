import { useMemo, useState, useSyncExternalStore } from 'react';
import type { ChatClient } from '../client';
import type { ChatModel } from '../model';
import { Composer } from './Composer';
import { ErrorBanner } from './ErrorBanner';
import { MessageList } from './MessageList';
import { StateBadge } from './StateBadge';
import { UserList } from './UserList';

export function ChatView({ client, model, onLogout }: { client: ChatClient; model: ChatModel; onLogout: () => void }) {
  const snap = useSyncExternalStore(model.subscribe, model.getSnapshot);
  const [room, setRoom] = useState(snap.rooms[0] ?? '');
  const [to, setTo] = useState('');
  const current = snap.rooms.includes(room) ? room : (snap.rooms[0] ?? '');
  const users = snap.users[current] ?? [];
  const items = useMemo(() => snap.items.filter((i) => i.room === undefined || i.room === current), [snap.items, current]);
  const maxBytes = client.config?.maxMessageSize ?? 16384;

  const onSend = (text: string, recipient: string): boolean => {
    try {
      client.send(text, recipient ? { room: current, to: recipient } : { room: current });
      return true;
    } catch (e) {
      model.addError('client_send', e instanceof Error ? e.message : String(e));
      return false;
    }
  };

  return (
    <div className="chat" data-testid="chat-view">
      <header className="topbar">
        <span className="brand">Chat</span>
        {snap.rooms.length > 1 ? (
          <select value={current} onChange={(e) => setRoom(e.target.value)} aria-label="Room" data-testid="room-select">
            {snap.rooms.map((r) => (
              <option key={r} value={r}>
                #{r}
              </option>
            ))}
          </select>
        ) : (
          <span className="room" data-testid="room-name">
            #{current}
          </span>
        )}
        <span className="spacer" />
        <StateBadge state={snap.state} />
        <span className="me" data-testid="me-name" aria-label="Logged in as">
          {snap.me}
        </span>
        <button type="button" onClick={onLogout} data-testid="logout-button" aria-label="Log out">
          Log out
        </button>
      </header>
      <ErrorBanner errors={snap.errors} onDismiss={(k) => model.dismissError(k)} />
      <div className="body">
        <main className="main">
          <MessageList items={items} />
          <Composer
            maxBytes={maxBytes}
            recipients={users.filter((u) => u !== snap.me)}
            to={to}
            onToChange={setTo}
            disabled={snap.state === 'offline'}
            onSend={onSend}
          />
        </main>
        <UserList users={users} me={snap.me} onPick={setTo} />
      </div>
    </div>
  );
}
