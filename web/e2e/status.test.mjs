// End-to-end: the daemon's status page (GET /status polling /status.json) in headless Chromium,
// against the real broker and relays: role, peers, users and rooms online, message rates.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARTIFACTS, ensureBuilt, launchBrowser, login, openPage, send, startRelay, uniq, waitForMessage } from './lib/harness.mjs';

/** waits until the status page's cell `testid` shows a value for which `ok(text)` holds */
async function waitForCell(page, testid, ok, what, timeout = 15000) {
  try {
    await page.waitForFunction(
      ([id, src]) => {
        const el = document.querySelector(`[data-testid="${id}"]`);
        // eslint-disable-next-line no-new-func
        return el && new Function('t', `return (${src})(t)`)(el.textContent);
      },
      [testid, ok.toString()],
      { timeout },
    );
  } catch (e) {
    const shown = await page.locator(`[data-testid="${testid}"]`).textContent().catch(() => '?');
    throw new Error(`status page: ${testid} never became ${what} (shows "${shown}"): ${e.message}`);
  }
}

describe('status page of chat-relayd', { timeout: 180000 }, () => {
  let active;
  let standby;
  let browser;

  before(async () => {
    ensureBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    active = await startRelay({ id: uniq('e2e-status-active-') });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await standby?.stop();
    await active?.stop();
  });

  test('shows role, peers, users and rooms online and message rates as they change', { timeout: 120000 }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 900, height: 700 } });
    const status = await ctx.newPage();
    const errors = [];
    status.on('pageerror', (e) => errors.push(String(e)));
    await status.goto(`${active.url}/status`);
    await status.locator('[data-testid="role"][data-role="active"]').waitFor({ timeout: 15000 });
    await waitForCell(status, 'broker', (t) => t.startsWith('connected'), 'connected');
    await waitForCell(status, 'users', (t) => t === '0', '0');
    await waitForCell(status, 'peers', (t) => t === '0', '0');

    // A second relay on the same queues stands by; each sees the other on the events exchange.
    standby = await startRelay({ id: uniq('e2e-status-standby-') });
    await waitForCell(status, 'peers', (t) => t === '1', '1 (the standby)');
    const other = await ctx.newPage();
    await other.goto(`${standby.url}/status`);
    await other.locator('[data-testid="role"][data-role="standby"]').waitFor({ timeout: 15000 });

    // A user logs in through the web client and chats: the page counts them.
    const chat = await openPage(browser, active.url);
    const name = uniq('watcher');
    await login(chat.page, name);
    await waitForCell(status, 'users', (t) => t === '1', '1');
    await waitForCell(status, 'rooms', (t) => t === '1', '1');
    for (let i = 0; i < 5; i++) await send(chat.page, `status check ${i}`);
    await waitForMessage(chat.page, 'status check 4');
    await waitForCell(status, 'in-rate', (t) => Number(t) > 0, '> 0');
    await waitForCell(status, 'out-rate', (t) => Number(t) > 0, '> 0');
    await waitForCell(status, 'totals', (t) => Number(t.split(' / ')[0]) >= 5, 'at least 5 messages in');
    await status.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });

    const json = await (await fetch(`${active.url}/status.json`)).json();
    assert.equal(json.role, 'active');
    assert.equal(json.users_online, 1);
    assert.equal(json.rooms_online, 1);
    assert.equal(json.peers, 1);
    assert.ok(json.messages.in_total >= 5, JSON.stringify(json));
    assert.deepEqual(errors, [], 'no script errors on the status page');
    await chat.context.close();
    await ctx.close();
  });
});
