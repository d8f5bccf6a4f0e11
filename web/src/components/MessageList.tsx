import { useLayoutEffect, useRef } from 'react';
import type { ChatItem } from '../model';

function time(ts: number): string {
  return new Date(ts).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function MessageList({ items }: { items: ChatItem[] }) {
  const ref = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const last = items.length > 0 ? items[items.length - 1] : undefined;

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (stick.current || last?.own) el.scrollTop = el.scrollHeight;
  }, [items.length, last?.key, last?.own]);

  const onScroll = () => {
    const el = ref.current;
    if (el) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };

  return (
    <ol className="messages" ref={ref} onScroll={onScroll} data-testid="message-list" aria-label="Messages" aria-live="polite">
      {items.map((it) =>
        it.kind === 'system' ? (
          <li key={it.key} className="system" data-testid="system-line">
            {it.text}
          </li>
        ) : (
          <li
            key={it.key}
            className={`msg${it.own ? ' msg-own' : ''}${it.kind === 'direct' ? ' msg-direct' : ''}`}
            data-testid="message"
            data-kind={it.kind}
            data-sender={it.sender}
            data-own={it.own ? 'true' : 'false'}
          >
            <div className="msg-meta">
              <span className="msg-sender" data-testid="message-sender">
                {it.sender}
              </span>
              {it.kind === 'direct' && (
                <span className="msg-dm" data-testid="message-direct">
                  {it.own ? `direct to ${it.to}` : 'direct to you'}
                </span>
              )}
              <time className="msg-time" dateTime={new Date(it.ts).toISOString()}>
                {time(it.ts)}
              </time>
            </div>
            <div className="msg-text" data-testid="message-text">
              {it.text}
            </div>
          </li>
        ),
      )}
    </ol>
  );
}
