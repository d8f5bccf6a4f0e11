/** The tab title: the number of unread messages first, so it shows in a narrow tab. */
export function titleFor(unread: number, me: string): string {
  const base = me ? `Chat · ${me}` : 'Chat';
  return unread > 0 ? `(${unread > 99 ? '99+' : unread}) ${base}` : base;
}

const KEY = 'chat.notify-direct';

/** The user's choice for desktop notifications of direct messages (kept in localStorage). */
export function loadNotifyChoice(): boolean {
  try {
    return globalThis.localStorage?.getItem(KEY) === '1';
  } catch {
    return false;
  }
}

export function saveNotifyChoice(on: boolean): void {
  try {
    globalThis.localStorage?.setItem(KEY, on ? '1' : '0');
  } catch {
    /* private mode: the choice lasts for this page only */
  }
}

type NotificationLike = {
  permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  new (title: string, options?: NotificationOptions): { onclick: ((this: unknown, ev: Event) => unknown) | null; close(): void };
};

function api(): NotificationLike | undefined {
  return (globalThis as { Notification?: NotificationLike }).Notification;
}

export function notificationsSupported(): boolean {
  return api() !== undefined;
}

/** Asks for permission (a user gesture must call this). Resolves true when notifications may be shown. */
export async function askNotifyPermission(): Promise<boolean> {
  const N = api();
  if (!N) return false;
  if (N.permission === 'granted') return true;
  if (N.permission === 'denied') return false;
  return (await N.requestPermission()) === 'granted';
}

export interface DirectNotice {
  sender: string;
  text: string;
  /** the user has the conversation in front of them (tab visible, conversation open) */
  seen: boolean;
}

/** Shows a desktop notification for a direct message when the user opted in and is not looking at it. */
export function notifyDirect(enabled: boolean, n: DirectNotice, onClick: () => void): boolean {
  const N = api();
  if (!enabled || n.seen || !N || N.permission !== 'granted') return false;
  const body = n.text.length > 140 ? `${n.text.slice(0, 139)}…` : n.text;
  // the tag folds several messages of one sender into one notification
  const note = new N(`${n.sender} (direct message)`, { body, tag: `dm:${n.sender}` });
  note.onclick = () => {
    globalThis.focus?.();
    onClick();
    note.close();
  };
  return true;
}
