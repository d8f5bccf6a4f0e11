// End-to-end: real broker (AMQP_URL, WS_URL), real chat-relayd (RELAY_BIN), Chromium via playwright-core.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  ARTIFACTS,
  closeWebStompConnections,
  countMessages,
  deleteQueue,
  dmEntry,
  login,
  loginTogether,
  roomEntry,
  send,
  sleep,
  uniq,
  useBrowser,
  userQueues,
  waitForMessage,
  waitForUsers,
} from './lib/harness.mjs';

describe('chat web client against chat-relayd', { timeout: 240000 }, () => {
  const { open, closeAll } = useBrowser();

  test('two users: messages exactly once, presence, leave on logout', { timeout: 90000 }, async (t) => {
    t.after(closeAll);
    const a = uniq('alice');
    const b = uniq('bob');
    const A = await open();
    const B = await open();
    await loginTogether([A.page, B.page], [a, b]);

    const fromA = `hello from ${a}`;
    const fromB = `hi ${a}, this is ${b} with a looooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooong word`;
    await send(A.page, fromA);
    await waitForMessage(B.page, fromA);
    await send(B.page, fromB);
    await waitForMessage(A.page, fromB);
    await sleep(1500); // give duplicates a chance to show up
    for (const p of [A.page, B.page]) {
      assert.equal(await countMessages(p, fromA), 1, 'A message shown once');
      assert.equal(await countMessages(p, fromB), 1, 'B message shown once');
    }
    // own messages are marked
    const own = await A.page.locator('[data-testid="message"][data-own="true"] [data-testid="message-text"]').allTextContents();
    assert.deepEqual(own, [fromA]);
    // the long word wraps: no horizontal overflow of the list
    const overflow = await A.page.$eval('[data-testid="message-list"]', (e) => e.scrollWidth - e.clientWidth);
    assert.ok(overflow <= 1, `message list overflows horizontally by ${overflow}px`);

    // a direct message: its own conversation on both sides, marked as direct
    const dm = `psst ${a}, direct from ${b}`;
    await B.page.getByRole('button', { name: `Send a direct message to ${a}` }).click();
    await send(B.page, dm);
    await dmEntry(A.page, b).locator('[data-testid="unread"]', { hasText: '1' }).waitFor();
    assert.equal(await countMessages(A.page, dm), 0, 'not in the room');
    await dmEntry(A.page, b).getByTestId('dm-button').click();
    await waitForMessage(A.page, dm);
    for (const p of [A.page, B.page]) {
      const kinds = await p
        .locator('[data-testid="message"]', { hasText: dm })
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
      assert.deepEqual(kinds, ['direct']);
    }
    await roomEntry(A.page, 'main').getByTestId('room-button').click();

    await A.page.screenshot({ path: join(ARTIFACTS, 'two-users.png') });

    await B.page.getByTestId('logout-button').click();
    await B.page.getByTestId('login-form').waitFor();
    await waitForUsers(A.page, [a]);
    await A.page
      .locator('[data-testid="system-line"]', { hasText: `${b} left` })
      .first()
      .waitFor();
    assert.deepEqual(A.rec.errors, []);
    assert.deepEqual(B.rec.errors, []);
  });

  test('markup in a message is shown as text', { timeout: 60000 }, async (t) => {
    t.after(closeAll);
    const a = uniq('carol');
    const b = uniq('dave');
    const A = await open();
    const B = await open();
    await loginTogether([A.page, B.page], [a, b]);
    const evil = '<script>alert(1)</script><b>x</b>';
    await send(A.page, evil);
    for (const p of [A.page, B.page]) {
      await waitForMessage(p, evil);
      const found = await p.evaluate((t) => {
        const el = [...document.querySelectorAll('[data-testid="message-text"]')].find((e) => e.textContent === t);
        return { text: el?.textContent, children: el?.children.length, b: document.querySelectorAll('#root b').length, scripts: document.querySelectorAll('#root script').length };
      }, evil);
      assert.deepEqual(found, { text: evil, children: 0, b: 0, scripts: 0 });
    }
    await sleep(500);
    assert.deepEqual(A.rec.dialogs, []);
    assert.deepEqual(B.rec.dialogs, []);
  });

  test('resumes the session when its queue is gone', { timeout: 90000 }, async (t) => {
    t.after(closeAll);
    const a = uniq('gina');
    const b = uniq('hank');
    const B = await open();
    await login(B.page, b);
    const known = new Set(await userQueues());
    const A = await open();
    await login(A.page, a);
    // the browser's queue: chat.user.<uuid v4>, new since A logged in (the stats DB may lag a few s)
    const uuidQ = /^chat\.user\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    let mine = [];
    for (let i = 0; i < 40 && mine.length !== 1; i++) {
      mine = (await userQueues()).filter((q) => uuidQ.test(q) && !known.has(q));
      if (mine.length !== 1) await sleep(250);
    }
    assert.equal(mine.length, 1, `one new user queue, got ${mine}`);
    await waitForUsers(A.page, [a, b]);
    const m1 = `before the queue loss ${b}`;
    await send(B.page, m1);
    await waitForMessage(A.page, m1);
    await deleteQueue(mine[0]);
    // what B says while A has no queue comes back through the resume (`since`)
    const m2 = `while ${a} had no queue`;
    await sleep(200);
    await send(B.page, m2);
    await waitForMessage(A.page, m2, 30000).catch((e) => {
      throw new Error(`${e.message}\nconsole of ${a}:\n${A.rec.console.join('\n')}`);
    });
    await A.page.locator('[data-testid="state-badge"][data-state="online"]').waitFor({ timeout: 20000 });
    const m3 = `after the resume ${a}`;
    await send(A.page, m3);
    await waitForMessage(B.page, m3);
    await sleep(1000);
    for (const m of [m1, m2]) assert.equal(await countMessages(A.page, m), 1, m);
    assert.equal(await countMessages(B.page, m3), 1);
    await waitForUsers(B.page, [a, b]);
  });

  test('a second login of the same name replaces the first, which stops', { timeout: 60000 }, async (t) => {
    t.after(closeAll);
    const a = uniq('ivy');
    const A = await open();
    await login(A.page, a);
    const B = await open();
    await login(B.page, a);
    await A.page.getByTestId('login-form').waitFor({ timeout: 15000 });
    assert.match(await A.page.getByTestId('login-error').textContent(), /replaced|elsewhere/);
    await sleep(3000); // no ping-pong: B stays online
    assert.equal(await B.page.getAttribute('[data-testid="state-badge"]', 'data-state'), 'online');
    assert.equal(await A.page.getByTestId('login-form').count(), 1);
    const m = `still here ${a}`;
    await send(B.page, m);
    await waitForMessage(B.page, m);
  });

  test('reconnects after the WebSocket drops and keeps chatting', { timeout: 90000 }, async (t) => {
    t.after(closeAll);
    const a = uniq('erin');
    const b = uniq('frank');
    const A = await open();
    const B = await open();
    await loginTogether([A.page, B.page], [a, b]);
    const before = { a: A.rec.websockets, b: B.rec.websockets };
    const closed = await closeWebStompConnections(2);
    assert.ok(closed >= 2, `closed ${closed} connections`);
    // a new WebSocket per page, then online again
    for (const [P, n] of [
      [A, before.a],
      [B, before.b],
    ]) {
      const deadline = Date.now() + 20000;
      while (P.rec.websockets <= n && Date.now() < deadline) await sleep(100);
      assert.ok(P.rec.websockets > n, 'the page opened a new WebSocket');
      await P.page.locator('[data-testid="state-badge"][data-state="online"]').waitFor({ timeout: 20000 });
    }
    await waitForUsers(A.page, [a, b]);
    await waitForUsers(B.page, [a, b]);
    const m1 = `after reconnect from ${a}`;
    const m2 = `after reconnect from ${b}`;
    await send(A.page, m1);
    await send(B.page, m2);
    for (const p of [A.page, B.page]) {
      await waitForMessage(p, m1);
      await waitForMessage(p, m2);
    }
    await sleep(1000);
    for (const p of [A.page, B.page]) {
      assert.equal(await countMessages(p, m1), 1);
      assert.equal(await countMessages(p, m2), 1);
    }
  });
});
