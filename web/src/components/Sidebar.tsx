import { useState, type FormEvent } from 'react';
import { ROOM_RE } from '../client/validate';
import { dmConv, roomConv, type ConvId } from '../model';

export interface SidebarProps {
  id: string;
  me: string;
  rooms: string[];
  joining: string[];
  dms: string[];
  active: ConvId;
  unread: Record<ConvId, number>;
  /** online users shown (the active room's) */
  users: string[];
  usersLabel: string;
  notify: boolean;
  notifySupported: boolean;
  onSelect: (conv: ConvId) => void;
  onJoin: (room: string) => Promise<boolean>;
  onLeave: (room: string) => void;
  onCloseDm: (peer: string) => void;
  onNotify: (on: boolean) => void;
}

function Unread({ n, label }: { n: number; label: string }) {
  if (n <= 0) return null;
  return (
    <span className="unread" data-testid="unread" aria-label={`${n} unread in ${label}`}>
      {n > 99 ? '99+' : n}
    </span>
  );
}

/** Rooms (join, leave), direct conversations, who is online, and the notification setting. */
export function Sidebar(p: SidebarProps) {
  const [room, setRoom] = useState('');
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const name = room.trim().replace(/^#/, '');
  const invalid = name !== '' && !ROOM_RE.test(name);

  const onJoin = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (name === '' || invalid || busy) return;
    if (p.rooms.includes(name)) {
      p.onSelect(roomConv(name));
      setRoom('');
      return;
    }
    setBusy(true);
    const ok = await p.onJoin(name);
    setBusy(false);
    if (ok) {
      setRoom('');
      setTouched(false);
    }
  };

  return (
    <nav className="sidebar" id={p.id} aria-label="Conversations" data-testid="sidebar">
      <h2 className="side-title" id="rooms-title">
        Rooms
      </h2>
      <ul className="conv-list" aria-labelledby="rooms-title" data-testid="room-list">
        {p.rooms.map((r) => {
          const conv = roomConv(r);
          const joining = p.joining.includes(r);
          return (
            <li key={r} className="conv-row" data-testid="room" data-room={r}>
              <button
                type="button"
                className={`conv${p.active === conv ? ' conv-active' : ''}${(p.unread[conv] ?? 0) > 0 ? ' conv-unread' : ''}`}
                aria-current={p.active === conv ? 'page' : undefined}
                disabled={joining}
                onClick={() => p.onSelect(conv)}
                data-testid="room-button"
              >
                <span className="conv-name">#{r}</span>
                {joining ? <span className="muted small">joining…</span> : <Unread n={p.unread[conv] ?? 0} label={`#${r}`} />}
              </button>
              {p.rooms.length > 1 && (
                <button type="button" className="icon-button leave" aria-label={`Leave room ${r}`} title={`Leave #${r}`} onClick={() => p.onLeave(r)} data-testid="leave-room">
                  ×
                </button>
              )}
            </li>
          );
        })}
      </ul>
      <form className="join" onSubmit={(e) => void onJoin(e)} data-testid="join-form" aria-label="Join a room">
        <label className="visually-hidden" htmlFor="join-room">
          Room to join
        </label>
        <input
          id="join-room"
          value={room}
          placeholder="Join a room"
          onChange={(e) => setRoom(e.target.value)}
          aria-invalid={touched && invalid}
          aria-describedby="join-room-help"
          maxLength={33}
          data-testid="join-input"
        />
        <button type="submit" disabled={busy} data-testid="join-button">
          {busy ? '…' : 'Join'}
        </button>
        <small id="join-room-help" className={touched && invalid ? 'help help-error' : 'visually-hidden'}>
          {touched && invalid ? 'Use 1–32 letters, digits, "_" or "-".' : 'A room name: 1–32 letters, digits, "_" or "-".'}
        </small>
      </form>

      <h2 className="side-title" id="dms-title">
        Direct messages
      </h2>
      {p.dms.length === 0 ? (
        <p className="muted small side-note">Pick someone below to write to them directly.</p>
      ) : (
        <ul className="conv-list" aria-labelledby="dms-title" data-testid="dm-list">
          {p.dms.map((peer) => {
            const conv = dmConv(peer);
            return (
              <li key={peer} className="conv-row" data-testid="dm" data-peer={peer}>
                <button
                  type="button"
                  className={`conv${p.active === conv ? ' conv-active' : ''}${(p.unread[conv] ?? 0) > 0 ? ' conv-unread' : ''}`}
                  aria-current={p.active === conv ? 'page' : undefined}
                  onClick={() => p.onSelect(conv)}
                  data-testid="dm-button"
                >
                  <span className="conv-name">@{peer}</span>
                  <Unread n={p.unread[conv] ?? 0} label={`the conversation with ${peer}`} />
                </button>
                <button type="button" className="icon-button leave" aria-label={`Close the conversation with ${peer}`} onClick={() => p.onCloseDm(peer)}>
                  ×
                </button>
              </li>
            );
          })}
        </ul>
      )}

      <h2 className="side-title" id="users-title">
        {p.usersLabel} <span className="users-count" data-testid="user-count">{p.users.length}</span>
      </h2>
      <ul className="user-list" aria-labelledby="users-title" data-testid="user-list">
        {p.users.map((u) => (
          <li key={u} data-testid="user" data-user={u} className={u === p.me ? 'user user-me' : 'user'}>
            {u === p.me ? (
              <span className="user-name">{u} (you)</span>
            ) : (
              <button type="button" className="link-button" aria-label={`Send a direct message to ${u}`} onClick={() => p.onSelect(dmConv(u))}>
                {u}
              </button>
            )}
          </li>
        ))}
      </ul>

      {p.notifySupported && (
        <label className="setting">
          <input type="checkbox" checked={p.notify} onChange={(e) => p.onNotify(e.target.checked)} data-testid="notify-toggle" />
          Desktop notification for direct messages
        </label>
      )}
    </nav>
  );
}
