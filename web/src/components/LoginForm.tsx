import { useState, type FormEvent } from 'react';
import { parseRooms, validateLogin } from '../client/validate';

export interface LoginFormProps {
  defaultRoom: string;
  busy?: boolean;
  /** an error from the last attempt (relay or connection) */
  error?: string | null;
  onLogin: (name: string, rooms: string[]) => void;
}

export function LoginForm({ defaultRoom, busy, error, onLogin }: LoginFormProps) {
  const [name, setName] = useState('');
  const [rooms, setRooms] = useState('');
  const [touched, setTouched] = useState(false);
  const nameError = validateLogin(name);
  const parsed = parseRooms(rooms, defaultRoom);
  const roomError = 'error' in parsed ? parsed.error : null;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (nameError || 'error' in parsed || busy) return;
    onLogin(name, parsed.rooms);
  };

  return (
    <form className="login card" onSubmit={onSubmit} noValidate data-testid="login-form" aria-label="Log in">
      <h1>Chat</h1>
      <div className="field">
        <label htmlFor="login-name">Name</label>
        <input
          id="login-name"
          name="name"
          autoComplete="username"
          autoFocus
          value={name}
          maxLength={64}
          onChange={(e) => setName(e.target.value)}
          aria-invalid={touched && !!nameError}
          aria-describedby="login-name-help"
          data-testid="login-name"
        />
        <small id="login-name-help" className={touched && nameError ? 'help help-error' : 'help'} data-testid="login-name-error">
          {touched && nameError ? nameError : '1–32 letters, digits, "_", "." or "-".'}
        </small>
      </div>
      <div className="field">
        <label htmlFor="login-rooms">Rooms (optional)</label>
        <input
          id="login-rooms"
          name="rooms"
          value={rooms}
          placeholder={defaultRoom}
          onChange={(e) => setRooms(e.target.value)}
          aria-invalid={!!roomError}
          aria-describedby="login-rooms-help"
          data-testid="login-rooms"
        />
        <small id="login-rooms-help" className={roomError ? 'help help-error' : 'help'}>
          {roomError ?? `Comma-separated; default "${defaultRoom}".`}
        </small>
      </div>
      {error && (
        <p className="help-error" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy} data-testid="login-submit">
        {busy ? 'Connecting…' : 'Enter'}
      </button>
    </form>
  );
}
