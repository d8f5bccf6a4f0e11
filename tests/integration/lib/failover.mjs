// Several relays on the same queues: which one is active.
import { sleep } from './relay.mjs';

/** Wait until exactly one running relay of `relays` is active; returns it and the time it took. */
export async function waitActive(relays, timeout = 15000) {
  const t0 = Date.now();
  let act = [];
  while (Date.now() - t0 < timeout) {
    act = [];
    for (const r of relays) if (r.running && (await r.isActive())) act.push(r);
    if (act.length === 1) return { relay: act[0], ms: Date.now() - t0 };
    await sleep(100);
  }
  throw new Error(`expected exactly one active relay, got ${act.map((r) => r.id).join(',') || 'none'}`);
}
