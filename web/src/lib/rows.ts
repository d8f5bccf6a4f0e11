/** Turns a conversation's items into what the list shows: day separators, sender groups, the "new" marker. */
export interface RowItem {
  key: string;
  kind: 'message' | 'direct' | 'system';
  sender?: string;
  ts: number;
}

export type Row<T extends RowItem> =
  | { type: 'day'; key: string; label: string }
  | { type: 'marker'; key: string }
  | { type: 'item'; key: string; item: T; /** starts a group: show the sender and time */ first: boolean };

/** messages of one sender closer than this (and on the same day) form one group */
export const GROUP_GAP_MS = 5 * 60 * 1000;

function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/** "Today", "Yesterday", or the date in the user's locale */
export function dayLabel(ts: number, now: number): string {
  const k = dayKey(ts);
  if (k === dayKey(now)) return 'Today';
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (k === dayKey(y.getTime())) return 'Yesterday';
  const d = new Date(ts);
  return d.toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(d.getFullYear() !== new Date(now).getFullYear() ? { year: 'numeric' } : {}),
  });
}

export function buildRows<T extends RowItem>(items: T[], markerKey: string | undefined, now: number): Row<T>[] {
  const rows: Row<T>[] = [];
  let prev: T | undefined;
  for (const it of items) {
    const newDay = !prev || dayKey(prev.ts) !== dayKey(it.ts);
    if (newDay) rows.push({ type: 'day', key: `day:${dayKey(it.ts)}:${it.key}`, label: dayLabel(it.ts, now) });
    const marker = it.key === markerKey;
    if (marker) rows.push({ type: 'marker', key: 'marker' });
    const first =
      newDay ||
      marker ||
      it.kind === 'system' ||
      !prev ||
      prev.kind === 'system' ||
      prev.kind !== it.kind ||
      prev.sender !== it.sender ||
      it.ts - prev.ts > GROUP_GAP_MS;
    rows.push({ type: 'item', key: it.key, item: it, first });
    prev = it;
  }
  return rows;
}
