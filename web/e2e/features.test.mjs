// End-to-end, what a person keeps the page open for: rooms and direct conversations with unread counts,
// the tab title, a desktop notification, links, grouping, the "new messages" line, sending through an
// outage, the dark theme at 360 px with the keyboard. Real broker, real chat-relayd, headless Chromium.
// Screenshots of the main screens go to e2e/artifacts/ (copies of some are in docs/screenshots/).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  ARTIFACTS,
  countMessages,
  dmEntry,
  joinRoom,
  login,
  loginTogether,
  roomEntry,
  send,
  sleep,
  uniq,
  useBrowser,
  waitForMessage,
  waitForUsers,
  wsSwitch,
} from './lib/harness.mjs';

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, name) });
const unreadOf = (entry) => entry.locator('[data-testid="unread"]');

describe('chat web client: the features of a chat kept open all day', { timeout: 150000 }, () => {
  const { open, closeAll } = useBrowser();

  test('rooms and direct conversations: join, unread counts, title, notification, links, grouping, leave', { timeout: 60000 }, async (t) => {
    t.after(closeAll);
    const a = uniq('ann');
    const b = uniq('ben');
    const room = uniq('dev');
    const A = await open();
    const B = await open({ permissions: ['notifications'], recordNotifications: true });
    await shot(A.page, 'login.png');
    await loginTogether([A.page, B.page], [a, b]);

    // both join a room without logging out; B goes back to #main
    await joinRoom(A.page, room);
    await joinRoom(B.page, room);
    assert.equal(await A.page.getAttribute('[data-testid="state-badge"]', 'data-state'), 'online');
    await waitForUsers(A.page, [a, b]);
    await roomEntry(B.page, 'main').getByTestId('room-button').click();
    await B.page.getByLabel('Desktop notification for direct messages').check();

    // A writes in the room: two messages form one group; the link is a safe link
    const link = 'https://example.com/docs?page=2';
    const m1 = `the docs are at ${link}, not at javascript:alert(1)`;
    const m2 = `and a second line from ${a}`;
    await send(A.page, m1);
    await send(A.page, m2);
    await waitForMessage(A.page, m2);
    assert.deepEqual(await A.page.getByTestId('message').evaluateAll((els) => els.map((e) => e.dataset.first)), ['true', 'false']);
    assert.equal(await A.page.getByTestId('day-separator').first().textContent(), 'Today');

    // B, in #main, sees the count on the room and in the tab title
    await unreadOf(roomEntry(B.page, room)).filter({ hasText: '2' }).waitFor();
    await B.page.waitForFunction((n) => document.title === `(2) Chat · ${n}`, b);

    // a direct message from A: its own conversation, counted, and a desktop notification for B
    const dm = `psst ${b}, just for you`;
    await A.page.getByRole('button', { name: `Send a direct message to ${b}` }).click();
    await send(A.page, dm);
    await unreadOf(dmEntry(B.page, a)).filter({ hasText: '1' }).waitFor();
    await B.page.waitForFunction((n) => document.title === `(3) Chat · ${n}`, b);
    const notes = await B.page.evaluate(() => window.__notifications);
    assert.deepEqual(notes, [{ title: `${a} (direct message)`, body: dm }]);
    assert.equal(await countMessages(B.page, dm), 0, 'the direct message is not in the room');
    await shot(B.page, 'unread.png');

    // B opens the room: the "New messages" line, the link, the count gone
    await roomEntry(B.page, room).getByTestId('room-button').click();
    await waitForMessage(B.page, m1);
    await B.page.getByTestId('new-marker').waitFor();
    const anchors = await B.page.getByTestId('message-link').evaluateAll((els) =>
      els.map((e) => ({ href: e.getAttribute('href'), rel: e.getAttribute('rel'), target: e.getAttribute('target'), text: e.textContent })),
    );
    assert.deepEqual(anchors, [{ href: link, rel: 'noopener noreferrer', target: '_blank', text: link }]);
    assert.equal(await B.page.locator('#root a[href^="javascript:"]').count(), 0);
    await shot(B.page, 'chat.png');
    await B.page.waitForFunction((n) => document.title === `(1) Chat · ${n}`, b);
    await dmEntry(B.page, a).getByTestId('dm-button').click();
    await waitForMessage(B.page, dm);
    await B.page.waitForFunction((n) => document.title === `Chat · ${n}`, b);
    await B.page.getByRole('button', { name: `Send a direct message to ${a}` }).waitFor();
    await send(B.page, `thanks ${a}`);
    await dmEntry(A.page, b).waitFor();

    await roomEntry(A.page, room).getByTestId('room-button').click();
    await shot(A.page, 'chat-own.png');

    // A leaves the room: still online, and what is said there afterwards never reaches A's page
    await A.page.getByRole('button', { name: `Leave room ${room}` }).click();
    await roomEntry(A.page, room).waitFor({ state: 'detached' });
    await A.page.locator('[data-testid="conv-title"]', { hasText: '#main' }).waitFor();
    await roomEntry(B.page, room).getByTestId('room-button').click();
    await B.page.locator('[data-testid="system-line"]', { hasText: `${a} left` }).waitFor();
    const late = `said in ${room} after ${a} left`;
    await send(B.page, late);
    await waitForMessage(B.page, late);
    await roomEntry(B.page, 'main').getByTestId('room-button').click();
    const inMain = `and one in main from ${b}`;
    await send(B.page, inMain);
    await waitForMessage(A.page, inMain); // A still gets what A is in
    await sleep(1000);
    assert.equal(await A.page.getAttribute('[data-testid="state-badge"]', 'data-state'), 'online');
    assert.equal(await A.page.title(), `Chat · ${a}`, 'no unread count from the room A left');
    assert.equal(await countMessages(A.page, late), 0);
    const dropped = A.rec.console.filter((l) => l.includes(`dropped a message of room ${room}`)).length;
    t.diagnostic(`messages of the left room the broker still delivered to A (dropped by the client): ${dropped}`);
    assert.deepEqual(A.rec.errors, []);
    assert.deepEqual(B.rec.errors, []);
  });

  test('scrolled up: a jump-to-latest button counts what came, after a "New messages" line', { timeout: 40000 }, async (t) => {
    t.after(closeAll);
    const a = uniq('cat');
    const b = uniq('dan');
    const room = uniq('story'); // a room of its own: a clean screenshot
    const A = await open();
    const B = await open();
    await loginTogether([A.page, B.page], [a, b], room);
    for (let i = 1; i <= 16; i++) await send(A.page, `line ${i} of a long story`);
    await waitForMessage(B.page, 'line 16 of a long story');
    await B.page.getByTestId('message-list').evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    await B.page.getByTestId('jump-latest').waitFor();
    await send(A.page, 'news while B reads old lines');
    await send(A.page, 'more news');
    await B.page.locator('[data-testid="jump-latest"]', { hasText: '2 new messages' }).waitFor();
    assert.equal(await B.page.getByTestId('message-list').evaluate((el) => el.scrollTop), 0, 'B stays where B reads');
    await B.page.getByTestId('new-marker').waitFor();
    await B.page.waitForFunction((n) => document.title === `(2) Chat · ${n}`, b);
    await shot(B.page, 'jump-to-latest.png');
    await B.page.getByTestId('jump-latest').click();
    await B.page.getByTestId('jump-latest').waitFor({ state: 'detached' });
    await B.page.waitForFunction((n) => document.title === `Chat · ${n}`, b);
    const gap = await B.page.getByTestId('message-list').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    assert.ok(gap < 40, `at the end after the jump (${gap}px left)`);
  });

  test('written during an outage: shown as waiting, sent exactly once when the connection is back', { timeout: 40000 }, async (t) => {
    t.after(closeAll);
    const a = uniq('eve');
    const b = uniq('fay');
    const room = uniq('net');
    const A = await open();
    const net = await wsSwitch(A.page);
    const B = await open();
    await loginTogether([A.page, B.page], [a, b], room);
    await net.cut();
    await A.page.locator('[data-testid="state-badge"][data-state="reconnecting"]').waitFor();
    const m = `written offline by ${a}`;
    await send(A.page, m);
    const mine = A.page.locator('[data-testid="message"]', { hasText: m });
    await mine.and(A.page.locator('[data-status="queued"]')).waitFor();
    assert.match(await mine.getByTestId('message-status').textContent(), /Waiting for the connection/);
    await shot(A.page, 'offline-queued.png');
    await sleep(1500);
    assert.equal(await countMessages(B.page, m), 0, 'nothing went out while down');
    net.restore();
    await A.page.locator('[data-testid="state-badge"][data-state="online"]').waitFor({ timeout: 20000 });
    await waitForMessage(B.page, m);
    await mine.and(A.page.locator(':not([data-status])')).waitFor();
    await sleep(1500); // a second copy would show up by now
    assert.equal(await countMessages(B.page, m), 1);
    assert.equal(await countMessages(A.page, m), 1);
  });

  test('a message whose receipt was lost with the connection is sent again with its cid, and shown once', { timeout: 40000 }, async (t) => {
    t.after(closeAll);
    const a = uniq('ida');
    const b = uniq('jon');
    const room = uniq('once');
    const A = await open();
    const net = await wsSwitch(A.page);
    const B = await open();
    await loginTogether([A.page, B.page], [a, b], room);
    net.holdReceipts();
    const m = `sent once by ${a}`;
    await send(A.page, m);
    await waitForMessage(B.page, m); // the relay has it; A never hears the broker's receipt
    const mine = A.page.locator('[data-testid="message"]', { hasText: m });
    await net.cut();
    await A.page.locator('[data-testid="state-badge"][data-state="reconnecting"]').waitFor();
    net.restore();
    await A.page.locator('[data-testid="state-badge"][data-state="online"]').waitFor({ timeout: 20000 });
    await mine.and(A.page.locator(':not([data-status])')).waitFor();
    const copies = net.sends.filter((f) => f.includes(JSON.stringify(m).slice(1, -1)));
    const cids = new Set(copies.map((f) => JSON.parse(f.slice(f.indexOf('\n\n') + 2).replace(/\0$/, '')).cid));
    assert.ok(copies.length >= 2, `the page sent it again after the reconnect (${copies.length} SEND frames)`);
    assert.equal(cids.size, 1, 'with the same cid');
    await sleep(1500);
    assert.equal(await countMessages(B.page, m), 1);
    assert.equal(await countMessages(A.page, m), 1);
  });

  test('dark theme from the system, 360 px wide, by keyboard only', { timeout: 40000 }, async (t) => {
    t.after(closeAll);
    const a = uniq('gus');
    const b = uniq('hal');
    const room = uniq('phone');
    const A = await open({ viewport: { width: 360, height: 740 }, colorScheme: 'dark' });
    const B = await open();
    // keyboard: the name field has the focus; Enter logs in
    await A.page.getByLabel('Name', { exact: true }).waitFor();
    assert.equal(await A.page.evaluate(() => document.activeElement?.id), 'login-name');
    await A.page.keyboard.type(a);
    await A.page.keyboard.press('Tab');
    await A.page.keyboard.type(room);
    await shot(A.page, 'login-dark-360.png');
    await A.page.keyboard.press('Enter');
    await A.page.locator('[data-testid="state-badge"][data-state="online"]').waitFor({ timeout: 20000 });
    await login(B.page, b, room);
    const bg = await A.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const [r, g, bl] = bg.match(/\d+/g).map(Number);
    assert.ok(r + g + bl < 3 * 64, `a dark background, got ${bg}`);

    await send(B.page, `hello ${a}, here is a wooooooooooooooooooooooooooooooooooooooooooooooooooooooooong word and https://example.org/a/very/long/path/that/has/to/wrap/somewhere`);
    await A.page.getByTestId('message').first().waitFor();
    // Escape puts the focus in the message box; Enter sends
    await A.page.keyboard.press('Escape');
    assert.equal(await A.page.evaluate(() => document.activeElement?.id), 'composer-input');
    await A.page.keyboard.type(`hi ${b}, from my phone`);
    // Tab reaches the send button, with a visible focus ring
    await A.page.keyboard.press('Tab');
    const ring = await A.page.evaluate(() => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      return { id: el?.getAttribute('data-testid'), style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    });
    assert.deepEqual({ id: ring.id, style: ring.style }, { id: 'composer-send', style: 'solid' });
    assert.ok(ring.width >= 2, `focus ring ${ring.width}px`);
    await A.page.keyboard.press('Shift+Tab');
    await A.page.keyboard.press('Enter');
    await waitForMessage(B.page, `hi ${b}, from my phone`);
    const overflow = await A.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than 360`);
    assert.equal(await A.page.getByTestId('sidebar').isVisible(), false, 'the sidebar is a closed drawer');
    await shot(A.page, 'chat-dark-360.png');

    // the drawer: opened by its button, closed by Escape (focus back on the button)
    await A.page.getByTestId('menu-button').focus();
    await A.page.keyboard.press('Enter');
    await A.page.getByTestId('sidebar').waitFor({ state: 'visible' });
    assert.equal(await A.page.getAttribute('[data-testid="menu-button"]', 'aria-expanded'), 'true');
    assert.equal(await A.page.evaluate(() => document.activeElement?.closest('[data-testid="room"]')?.getAttribute('data-room')), room, 'the focus is on the open room');
    await shot(A.page, 'drawer-dark-360.png');
    await A.page.keyboard.press('Escape');
    await A.page.getByTestId('sidebar').waitFor({ state: 'hidden' });
    assert.equal(await A.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'menu-button');
    assert.deepEqual(A.rec.errors, []);
  });
});
