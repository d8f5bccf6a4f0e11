export const LOGIN_RE = /^[A-Za-z0-9_.-]{1,32}$/;
export const ROOM_RE = /^[A-Za-z0-9_-]{1,32}$/;
export const MAX_ROOMS = 16;

/** Returns an error text, or null when `name` is a valid login. */
export function validateLogin(name: string): string | null {
  if (name.length === 0) return 'Enter a name.';
  if (name.length > 32) return 'A name has at most 32 characters.';
  if (!LOGIN_RE.test(name)) return 'Use only letters, digits, "_", "." and "-".';
  return null;
}

/** Parses a comma/space separated room list. Returns rooms or an error text. */
export function parseRooms(input: string, defaultRoom: string): { rooms: string[] } | { error: string } {
  const parts = input
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const rooms: string[] = [];
  for (const p of parts) {
    if (!ROOM_RE.test(p)) return { error: `Invalid room "${p}": use 1-32 letters, digits, "_" or "-".` };
    if (!rooms.includes(p)) rooms.push(p);
  }
  if (rooms.length === 0) rooms.push(defaultRoom);
  if (rooms.length > MAX_ROOMS) return { error: `At most ${MAX_ROOMS} rooms.` };
  return { rooms };
}

const encoder = new TextEncoder();
export function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

/** A random UUID; falls back to getRandomValues where randomUUID is missing (non-secure origins). */
export function randomId(): string {
  const c: Crypto | undefined = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
