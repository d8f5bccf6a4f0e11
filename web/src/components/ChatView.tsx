import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { ChatClient } from '../client';
import {
  askNotifyPermission,
  loadNotifyChoice,
  notificationsSupported,
  notifyDirect,
  saveNotifyChoice,
  titleFor,
} from '../lib/attention';
import { convName, dmConv, isRoomConv, type ChatModel, type ConvId } from '../model';
import { Composer } from './Composer';
import { ErrorBanner } from './ErrorBanner';
import { MessageList } from './MessageList';
import { Sidebar } from './Sidebar';
import { StateBadge } from './StateBadge';

const SIDEBAR_ID = 'sidebar';

export function ChatView({ client, model, onLogout }: { client: ChatClient; model: ChatModel; onLogout: () => void }) {
  const snap = useSyncExternalStore(model.subscribe, model.getSnapshot);
  const [drawer, setDrawer] = useState(false);
  const [notify, setNotify] = useState(loadNotifyChoice);
  const notifyRef = useRef(notify);
  notifyRef.current = notify;
  const composer = useRef<HTMLTextAreaElement>(null);
  const menu = useRef<HTMLButtonElement>(null);
  const active = snap.active;
  const room = isRoomConv(active) ? convName(active) : undefined;
  const total = Object.values(snap.unread).reduce((a, b) => a + b, 0);
  const users = useMemo(
    () => (room !== undefined ? (snap.users[room] ?? []) : [...new Set(snap.rooms.flatMap((r) => snap.users[r] ?? []))].sort()),
    [room, snap.users, snap.rooms],
  );
  const maxBytes = client.config?.maxMessageSize ?? 16384;
  const convs: ConvId[] = [...snap.rooms.filter((r) => !snap.joining.includes(r)).map((r) => `#${r}`), ...snap.dms.map(dmConv)];

  // the tab title carries the unread count
  useEffect(() => {
    document.title = titleFor(total, snap.me);
  }, [total, snap.me]);
  useEffect(() => () => void (document.title = titleFor(0, '')), []);

  // unread counts keep counting while the tab is hidden
  useEffect(() => {
    const on = () => model.setVisible(document.visibilityState !== 'hidden');
    on();
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, [model]);

  // a desktop notification for a direct message the user is not looking at (when they opted in)
  useEffect(
    () =>
      client.on('direct', (m) => {
        if (m.sender === client.me) return;
        const seen = model.isSeen(dmConv(m.sender)) && document.visibilityState !== 'hidden';
        notifyDirect(notifyRef.current, { sender: m.sender, text: m.message, seen }, () => model.openDm(m.sender));
      }),
    [client, model],
  );

  const onNotify = async (on: boolean) => {
    if (on && !(await askNotifyPermission())) {
      model.addError('client_notify', 'The browser does not allow notifications for this page.');
      on = false;
    }
    setNotify(on);
    saveNotifyChoice(on);
  };

  const select = (conv: ConvId) => {
    model.setActive(conv);
    if (drawer) {
      setDrawer(false);
      composer.current?.focus();
    }
  };

  // the drawer (narrow screens) takes the focus to the open conversation's entry
  useEffect(() => {
    if (!drawer) return;
    const side = document.getElementById(SIDEBAR_ID);
    (side?.querySelector<HTMLElement>('[aria-current="page"]') ?? side?.querySelector<HTMLElement>('button'))?.focus();
  }, [drawer]);

  // keys work wherever the focus is (also on the page itself, after the login form went away)
  const keys = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keys.current = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      if (drawer) {
        setDrawer(false);
        menu.current?.focus();
      } else {
        composer.current?.focus();
      }
      e.preventDefault();
    } else if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown') && convs.length > 1) {
      // Alt+Up / Alt+Down: previous / next conversation
      const i = convs.indexOf(active);
      const next = convs[(i + (e.key === 'ArrowUp' ? -1 : 1) + convs.length) % convs.length];
      model.setActive(next);
      e.preventDefault();
    }
  };
  useEffect(() => {
    const on = (e: KeyboardEvent) => keys.current(e);
    document.addEventListener('keydown', on);
    return () => document.removeEventListener('keydown', on);
  }, []);

  return (
    <div className="chat" data-testid="chat-view">
      <a className="skip-link" href="#composer-input">
        Skip to the message box
      </a>
      <header className="topbar">
        <button
          type="button"
          ref={menu}
          className="menu-button"
          aria-label={total > 0 ? `Conversations, ${total} unread` : 'Conversations'}
          aria-expanded={drawer}
          aria-controls={SIDEBAR_ID}
          onClick={() => setDrawer((d) => !d)}
          data-testid="menu-button"
        >
          ☰{total > 0 && <span className="unread">{total > 99 ? '99+' : total}</span>}
        </button>
        <h1 className="conv-title" data-testid="conv-title">
          {active}
        </h1>
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
      <div className={`body${drawer ? ' drawer-open' : ''}`}>
        <Sidebar
          id={SIDEBAR_ID}
          me={snap.me}
          rooms={snap.rooms}
          joining={snap.joining}
          dms={snap.dms}
          active={active}
          unread={snap.unread}
          users={users}
          usersLabel={room !== undefined ? `Online in #${room}` : 'Online'}
          notify={notify}
          notifySupported={notificationsSupported()}
          onSelect={select}
          onJoin={async (r) => {
            const ok = await model.joinRoom(r);
            if (ok) {
              setDrawer(false);
              composer.current?.focus(); // ready to write in the room
            }
            return ok;
          }}
          onLeave={(r) => {
            void model.leaveRoom(r);
            composer.current?.focus(); // the focused × goes away with the room
          }}
          onCloseDm={(p) => model.closeDm(p)}
          onNotify={(on) => void onNotify(on)}
        />
        {drawer && <div className="scrim" onClick={() => setDrawer(false)} aria-hidden="true" />}
        <main className="main">
          <MessageList
            key={active}
            items={snap.items[active] ?? []}
            marker={snap.markers[active]}
            unread={snap.unread[active] ?? 0}
            conv={active}
            onAtBottom={(b) => model.setAtBottom(b)}
            onRetry={(k) => model.retry(k)}
            onDiscard={(k) => model.discard(k)}
          />
          <Composer
            ref={composer}
            maxBytes={maxBytes}
            target={active}
            disabled={snap.state === 'offline'}
            queued={snap.state !== 'online'}
            onSend={(text) => model.send(text)}
          />
        </main>
      </div>
    </div>
  );
}
