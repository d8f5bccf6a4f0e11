import { useLayoutEffect, useMemo, useRef, useState } from 'react';
import { buildRows } from '../lib/rows';
import type { ChatItem } from '../model';
import { MessageText } from './MessageText';

function time(ts: number): string {
  return new Date(ts).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

const STATUS: Record<string, string> = {
  queued: 'Waiting for the connection…',
  sending: 'Sending…',
  sent: 'Sending…',
  failed: 'Not sent',
};

/** how close to the end (px) still counts as "at the end" */
const NEAR_END = 40;

export interface MessageListProps {
  items: ChatItem[];
  /** key of the first new message: a "New messages" line goes before it */
  marker?: string;
  /** unread messages of this conversation (on the jump button) */
  unread: number;
  /** the conversation's name, "#main" or "@bob" */
  conv: string;
  onAtBottom: (atBottom: boolean) => void;
  onRetry: (key: string) => void;
  onDiscard: (key: string) => void;
}

/** The messages of one conversation (mount it with key=conversation: it starts at the marker or the end). */
export function MessageList({ items, marker, unread, conv, onAtBottom, onRetry, onDiscard }: MessageListProps) {
  const ref = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const [atEnd, setAtEnd] = useState(true);
  const first = useRef(true);
  const rows = useMemo(() => buildRows(items, marker, Date.now()), [items, marker]);
  const last = items.length > 0 ? items[items.length - 1] : undefined;

  const toEnd = () => {
    const el = ref.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (first.current) {
      // opening a conversation: start at its "New messages" line when there is one
      first.current = false;
      const m = el.querySelector<HTMLElement>('[data-testid="new-marker"]');
      if (m && typeof m.scrollIntoView === 'function') m.scrollIntoView({ block: 'start' });
      else toEnd();
      onScroll();
      return;
    }
    if (stick.current || (last?.own && last.status !== undefined)) toEnd();
    onScroll();
  }, [items.length, last?.key]);

  function onScroll() {
    const el = ref.current;
    if (!el) return;
    const near = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_END;
    if (near !== stick.current) onAtBottom(near);
    stick.current = near;
    setAtEnd(near);
  }

  return (
    <div className="messages-wrap">
      {items.length === 0 && (
        <p className="empty muted" data-testid="empty">
          No messages in {conv} yet. Say hello!
        </p>
      )}
      <ol className="messages" ref={ref} onScroll={onScroll} tabIndex={0} data-testid="message-list" aria-label={`Messages in ${conv}`} aria-live="polite">
        {rows.map((r) => {
          if (r.type === 'day')
            return (
              <li key={r.key} className="day" role="separator" data-testid="day-separator">
                <span>{r.label}</span>
              </li>
            );
          if (r.type === 'marker')
            return (
              <li key={r.key} className="new-marker" role="separator" data-testid="new-marker">
                <span>New messages</span>
              </li>
            );
          const it = r.item;
          if (it.kind === 'system')
            return (
              <li key={r.key} className="system" data-testid="system-line">
                {it.text}
              </li>
            );
          return (
            <li
              key={r.key}
              className={`msg${it.own ? ' msg-own' : ''}${it.kind === 'direct' ? ' msg-direct' : ''}${r.first ? ' msg-first' : ''}${
                it.status ? ` msg-${it.status}` : ''
              }`}
              data-testid="message"
              data-kind={it.kind}
              data-sender={it.sender}
              data-own={it.own ? 'true' : 'false'}
              data-first={r.first ? 'true' : 'false'}
              data-status={it.status}
            >
              {r.first ? (
                <div className="msg-meta">
                  <span className="msg-sender" data-testid="message-sender">
                    {it.sender}
                  </span>
                  <time className="msg-time" dateTime={new Date(it.ts).toISOString()}>
                    {time(it.ts)}
                  </time>
                </div>
              ) : (
                <span className="visually-hidden">{it.sender}: </span>
              )}
              <div className="msg-text" data-testid="message-text">
                <MessageText text={it.text} />
              </div>
              {it.status && (
                <div className="msg-status" data-testid="message-status">
                  <span>{STATUS[it.status]}</span>
                  {it.status === 'failed' && (
                    <>
                      <button type="button" className="small-button" onClick={() => onRetry(it.key)}>
                        Retry
                      </button>
                      <button type="button" className="small-button secondary" onClick={() => onDiscard(it.key)}>
                        Discard
                      </button>
                    </>
                  )}
                </div>
              )}
            </li>
          );
        })}
      </ol>
      {!atEnd && (
        <button
          type="button"
          className="jump"
          data-testid="jump-latest"
          onClick={() => {
            toEnd();
            onScroll();
          }}
        >
          {unread > 0 ? `${unread} new message${unread === 1 ? '' : 's'} ↓` : 'Jump to latest ↓'}
        </button>
      )}
    </div>
  );
}
