import { forwardRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { utf8Length } from '../client/validate';

export interface ComposerProps {
  maxBytes: number;
  /** "#main" or "@bob": where the message goes */
  target: string;
  disabled?: boolean;
  /** true while offline: what is sent now waits for the connection */
  queued?: boolean;
  /** returns false when the message was not accepted (the text stays) */
  onSend: (text: string) => boolean;
}

export const Composer = forwardRef<HTMLTextAreaElement, ComposerProps>(function Composer({ maxBytes, target, disabled, queued, onSend }, ref) {
  const [text, setText] = useState('');
  const bytes = utf8Length(text);
  const tooLong = bytes > maxBytes;
  const canSend = !disabled && !tooLong && text.trim().length > 0;

  const submit = () => {
    if (!canSend) return;
    if (onSend(text)) setText('');
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
      <label className="visually-hidden" htmlFor="composer-input">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={ref}
        autoFocus
        value={text}
        rows={2}
        placeholder={`Message ${target}${queued ? ' (sent when the connection is back)' : ''}`}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        maxLength={maxBytes}
        aria-invalid={tooLong}
        aria-describedby="composer-count composer-help"
        data-testid="composer-input"
      />
      <span id="composer-help" className="visually-hidden">
        Enter sends, Shift+Enter starts a new line.
      </span>
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
});
