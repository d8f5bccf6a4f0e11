import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { utf8Length } from '../client/validate';

export interface ComposerProps {
  maxBytes: number;
  /** other online users of the room (direct message recipients) */
  recipients: string[];
  to: string;
  onToChange: (to: string) => void;
  disabled?: boolean;
  /** returns false when the message was not accepted (the text stays) */
  onSend: (text: string, to: string) => boolean;
}

export function Composer({ maxBytes, recipients, to, onToChange, disabled, onSend }: ComposerProps) {
  const [text, setText] = useState('');
  const bytes = utf8Length(text);
  const tooLong = bytes > maxBytes;
  const canSend = !disabled && !tooLong && text.trim().length > 0;

  const submit = () => {
    if (!canSend) return;
    if (onSend(text, to)) setText('');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit();
  };

  return (
    <form className="composer" onSubmit={onSubmit} data-testid="composer" aria-label="Send a message">
      <label className="visually-hidden" htmlFor="composer-to">
        Recipient
      </label>
      <select id="composer-to" value={to} onChange={(e) => onToChange(e.target.value)} data-testid="composer-to" aria-label="Recipient">
        <option value="">Everyone</option>
        {recipients.map((u) => (
          <option key={u} value={u}>
            {u} (direct)
          </option>
        ))}
        {to !== '' && !recipients.includes(to) && <option value={to}>{to} (offline)</option>}
      </select>
      <label className="visually-hidden" htmlFor="composer-input">
        Message
      </label>
      <textarea
        id="composer-input"
        value={text}
        rows={2}
        placeholder={to ? `Direct message to ${to}` : 'Write a message (Enter to send, Shift+Enter for a new line)'}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        maxLength={maxBytes}
        aria-invalid={tooLong}
        aria-describedby="composer-count"
        data-testid="composer-input"
      />
      <div className="composer-side">
        <button type="submit" disabled={!canSend} data-testid="composer-send" aria-label="Send">
          Send
        </button>
        <span id="composer-count" className={tooLong ? 'count count-over' : 'count'} data-testid="composer-count">
          {bytes > maxBytes * 0.8 ? `${bytes}/${maxBytes}` : ''}
        </span>
      </div>
    </form>
  );
}
