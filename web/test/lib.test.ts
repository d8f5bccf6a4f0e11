import { afterEach, describe, expect, it, vi } from 'vitest';
import { notifyDirect, titleFor } from '../src/lib/attention';
import { linkify, safeHref } from '../src/lib/linkify';
import { buildRows, dayLabel, GROUP_GAP_MS, type RowItem } from '../src/lib/rows';

describe('linkify', () => {
  it('links http and https URLs and keeps the rest as text', () => {
    expect(linkify('see https://example.com/a?b=1#c and http://x.org.')).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/a?b=1#c', href: 'https://example.com/a?b=1#c' },
      { text: ' and ' },
      { text: 'http://x.org', href: 'http://x.org/' },
      { text: '.' },
    ]);
    expect(linkify('no links here')).toEqual([{ text: 'no links here' }]);
    expect(linkify('')).toEqual([]);
  });

  it('never links other schemes', () => {
    for (const t of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:x', 'file:///etc/passwd', 'ftp://host/x', '//evil.com']) {
      expect(linkify(t)).toEqual([{ text: t }]);
    }
    expect(linkify('javascript:alert(1)//http://x')).toEqual([{ text: 'javascript:alert(1)//' }, { text: 'http://x', href: 'http://x/' }]);
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('http://')).toBeNull();
  });

  it('stops at quotes, angle brackets and a closing parenthesis it did not open', () => {
    expect(linkify('(see https://en.wikipedia.org/wiki/Foo_(bar))')).toEqual([
      { text: '(see ' },
      { text: 'https://en.wikipedia.org/wiki/Foo_(bar)', href: 'https://en.wikipedia.org/wiki/Foo_(bar)' },
      { text: ')' },
    ]);
    expect(linkify('<a href="https://x.io/">')).toEqual([{ text: '<a href="' }, { text: 'https://x.io/', href: 'https://x.io/' }, { text: '">' }]);
  });
});

describe('message rows', () => {
  const at = (d: string) => new Date(d).getTime();
  const now = at('2026-03-10T15:00:00');
  const item = (key: string, sender: string, ts: number, kind: RowItem['kind'] = 'message'): RowItem => ({ key, sender, ts, kind });

  it('groups consecutive messages of one sender, with a day separator per day', () => {
    const rows = buildRows(
      [
        item('1', 'bob', at('2026-03-09T10:00:00')),
        item('2', 'bob', at('2026-03-09T10:01:00')),
        item('3', 'bob', at('2026-03-10T09:00:00')), // next day: a new group
        item('4', 'ann', at('2026-03-10T09:00:30')),
        item('5', 'ann', at('2026-03-10T09:00:30') + GROUP_GAP_MS + 1), // a long pause: a new group
        item('6', 'ann', at('2026-03-10T09:20:00'), 'system'),
        item('7', 'ann', at('2026-03-10T09:21:00')),
      ],
      undefined,
      now,
    );
    expect(rows.map((r) => (r.type === 'day' ? `day:${r.label}` : r.type === 'item' ? `${r.key}${r.first ? '*' : ''}` : r.type))).toEqual([
      'day:Yesterday',
      '1*',
      '2',
      'day:Today',
      '3*',
      '4*',
      '5*',
      '6*',
      '7*',
    ]);
  });

  it('puts the "new messages" marker before its message, which starts a group', () => {
    const t = at('2026-03-10T10:00:00');
    const rows = buildRows([item('a', 'bob', t), item('b', 'bob', t + 1000), item('c', 'bob', t + 2000)], 'b', now);
    expect(rows.map((r) => (r.type === 'item' ? `${r.key}${r.first ? '*' : ''}` : r.type))).toEqual(['day', 'a*', 'marker', 'b*', 'c']);
  });

  it('labels days: today, yesterday, else the date (with the year when not this one)', () => {
    expect(dayLabel(at('2026-03-10T00:00:01'), now)).toBe('Today');
    expect(dayLabel(at('2026-03-09T23:59:59'), now)).toBe('Yesterday');
    expect(dayLabel(at('2026-03-01T12:00:00'), now)).not.toMatch(/2026/);
    expect(dayLabel(at('2025-12-31T12:00:00'), now)).toMatch(/2025/);
  });
});

describe('attention', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('puts the unread count first in the title', () => {
    expect(titleFor(0, 'alice')).toBe('Chat · alice');
    expect(titleFor(3, 'alice')).toBe('(3) Chat · alice');
    expect(titleFor(250, '')).toBe('(99+) Chat');
  });

  it('notifies a direct message only when enabled, permitted and not seen', () => {
    const shown: { title: string; body?: string }[] = [];
    class FakeNotification {
      static permission: NotificationPermission = 'granted';
      static requestPermission = async () => 'granted' as NotificationPermission;
      onclick: (() => void) | null = null;
      constructor(title: string, o?: NotificationOptions) {
        shown.push({ title, body: o?.body });
      }
      close() {}
    }
    vi.stubGlobal('Notification', FakeNotification);
    const click = vi.fn();
    expect(notifyDirect(false, { sender: 'bob', text: 'hi', seen: false }, click)).toBe(false);
    expect(notifyDirect(true, { sender: 'bob', text: 'hi', seen: true }, click)).toBe(false);
    expect(notifyDirect(true, { sender: 'bob', text: 'x'.repeat(300), seen: false }, click)).toBe(true);
    expect(shown).toEqual([{ title: 'bob (direct message)', body: `${'x'.repeat(139)}…` }]);
    FakeNotification.permission = 'denied';
    expect(notifyDirect(true, { sender: 'bob', text: 'hi', seen: false }, click)).toBe(false);
    expect(shown).toHaveLength(1);
  });
});
