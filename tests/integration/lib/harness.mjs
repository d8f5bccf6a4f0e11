// Shared suite plumbing: broker connection, relays, clients, cleanup, failure log dumps.
import { before, after } from 'node:test';
import fs from 'node:fs';
import { Broker, cleanup } from './broker.mjs';
import { ChatClient } from './client.mjs';
import { startRelay, withLogs } from './relay.mjs';

/**
 * ctx = useSuite('seed', { prefixes: [...] })
 * - ctx.broker: Broker (opened in before)
 * - ctx.start(suiteKey, options, wait): starts a relay, remembered for cleanup and log dumps
 * - ctx.client(relay, name): a ChatClient bound to that relay's queue names
 * - ctx.it(fn): wraps a test body so failures carry the relays' log tails
 */
export function useSuite(suite, { extraQueues = [], extraExchanges = [] } = {}) {
  const ctx = {
    suite,
    broker: null,
    relays: [],
    clients: [],
    prefixes: [`it.${suite}`, 'chat.user.it.'],
    async start(key, options = {}, wait = 'readyz') {
      const r = await startRelay({ suite: key ?? suite, options, wait });
      ctx.relays.push(r);
      return r;
    },
    client(relay, name) {
      const c = new ChatClient(ctx.broker, relay.options, name);
      ctx.clients.push(c);
      return c;
    },
    it(fn) { return withLogs(() => ctx.relays, fn); },
  };
  before(async () => {
    ctx.broker = await Broker.open();
    await cleanup(ctx.prefixes, { extraQueues, extraExchanges });
  });
  after(async () => {
    for (const c of ctx.clients) await c.close();
    for (const r of ctx.relays) { await r.stop(); fs.rmSync(r.cfgFile, { force: true }); }
    await ctx.broker?.close();
    await cleanup(ctx.prefixes, { extraQueues, extraExchanges });
  });
  return ctx;
}

/** Assert helper: fail with a readable message if the array has duplicates. */
export function dupes(arr) {
  const seen = new Map();
  for (const x of arr) seen.set(x, (seen.get(x) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1);
}
