// Hardening (issue 6): bad input at volume. 100,000 generated bad bodies (random bytes, deep
// nesting, huge strings up to the limit, oversize, wrong types, non-UTF-8, unknown actions,
// hostile login and queue names, impersonation attempts) mixed with good chat messages (1 per 100)
// from 3 logged-in users, published through a confirm channel with a bounded window.
// Asserts: the relay never crashes, every good message reaches every user exactly once, the
// relay's RSS after is within a bound of before, no queue leaks; prints the figures.
//
// BV_COUNT (100000) overrides the number of bad bodies, BV_RSS_MB (30) the RSS bound.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { useSuite } from '../lib/harness.mjs';
import { rid } from '../lib/client.mjs';
import { sleep } from '../lib/relay.mjs';
import { listNames, queueInfo } from '../lib/broker.mjs';

const ctx = useSuite('bv');
const BAD = Number(process.env.BV_COUNT || 100000);
const GOOD_EVERY = 100; // one good message per 100 bad ones
const WINDOW = 1000; // outstanding (unconfirmed) publishes at most
const MAX = 16384; // relay.max-message-size (the default)
const ENVELOPE = 1024; // docs/protocol.md: body limit = max-message-size + 1 KiB

/** VmRSS of a process in KiB. */
function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}
/** Is the process built with AddressSanitizer (its allocator keeps a quarantine)? */
function isAsan(pid) {
  try { return /libasan|libclang_rt\.asan/.test(fs.readFileSync(`/proc/${pid}/maps`, 'utf8')); } catch { return false; }
}

// ---- generators of bad bodies -----------------------------------------------------------------
// Deterministic (seeded) so a failure can be reproduced: BV_SEED.
let seed = Number(process.env.BV_SEED || 0x5eed) >>> 0;
function rnd() { // xorshift32
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 0x100000000;
}
const ri = (n) => Math.floor(rnd() * n);
const pick = (a) => a[ri(a.length)];
function randomBytes(n) { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = ri(256); return b; }
const hostileLogins = ['', ' ', 'has space', 'x'.repeat(33), 'y'.repeat(5000), 'ünïcode', 'slash/name', '../../etc/passwd',
  'new\nline', 'semi;colon', 'tab\t', 'null\u0000byte', '<script>alert(1)</script>', '${jndi:ldap://x}', "' OR 1=1 --",
  'a b', 'emoji😀', '%00', 'back\\slash', '"quote'];
const hostileQueues = ['amq.gen-x', 'amq.rabbitmq.reply-to', 'chat.relay.events', 'chat.relay.x', 'login', 'chat',
  '', ' ', 'with space', 'q'.repeat(129), 'q'.repeat(10000), '.leading', '-leading', '_leading', 'tab\tq', 'ünï', 'slash/q',
  'new\nline', '../x', 'null\u0000q', '*', '#', 'amq.default'];

function makeGenerators(users, names, tag) {
  const [a] = users;
  const real = () => pick(users);
  const J = (o) => JSON.stringify(o);
  const chatQ = names.chat;
  const loginQ = names.login;
  // each generator: [category, queue, () => body]
  return [
    ['random-bytes', chatQ, () => randomBytes(ri(300))],
    ['random-bytes', loginQ, () => randomBytes(ri(300))],
    ['random-json-ish', chatQ, () => Buffer.from(Array.from({ length: ri(200) }, () => pick('{}[]":,0123456789.eE+-truefalsnul \\abc')).join(''))],
    ['deep-nesting', chatQ, () => '['.repeat(17 + ri(MAX)) ],
    ['deep-nesting', chatQ, () => { const d = 17 + ri(3000); return '{"a":'.repeat(d) + '1' + '}'.repeat(d); }],
    ['deep-nesting', loginQ, () => { const d = 17 + ri(3000); return '['.repeat(d) + ']'.repeat(d); }],
    ['deep-nesting', chatQ, () => { const u = real(); const d = 17 + ri(2000); return `{"v":1,"sender":"${u.name}","token":"${u.token}","message":"x","extra":${'['.repeat(d)}${']'.repeat(d)}}`; }],
    ['deep-nesting', chatQ, () => ']'.repeat(50) + '['.repeat(5000)], // unbalanced: must not fool a depth pre-scan
    ['huge-string-at-limit', chatQ, () => { const u = real(); return J({ v: 1, sender: u.name, token: 'f'.repeat(32), message: 'H'.repeat(MAX) }); }],
    ['huge-string-at-limit', chatQ, () => { const u = real(); return J({ v: 1, sender: u.name, token: u.token, message: 'H'.repeat(MAX), room: 'nosuchroom' }); }],
    ['huge-string-at-limit', loginQ, () => J({ v: 1, action: 'x'.repeat(MAX), login: a.name })],
    ['too-large', chatQ, () => { const u = real(); return J({ v: 1, sender: u.name, token: u.token, message: `big-${tag}-` + 'Z'.repeat(MAX + ri(ENVELOPE)) }); }],
    ['oversize-body', chatQ, () => Buffer.concat([Buffer.from('{"sender":"x","message":"'), randomBytes(MAX + ENVELOPE + 1 + ri(48 * 1024))])],
    ['oversize-body', loginQ, () => J({ action: 'login', login: 'big', queue: 'chat.user.it.bv.big', pad: 'p'.repeat(MAX + ENVELOPE + ri(8192)) })],
    ['wrong-types', chatQ, () => { const u = real(); return J({ v: 1, sender: u.name, token: u.token, message: pick([1, true, null, [], {}, [`wt-${tag}`], { t: 'x' }]) }); }],
    ['wrong-types', chatQ, () => { const u = real(); return J({ v: 1, sender: u.name, token: u.token, message: `wt-${tag}`, ...pick([{ room: 7 }, { room: ['main'] }, { cid: 5 }, { to: false }, { token: 12 }, { sender: 3 }, { v: '1' }]) }); }],
    ['wrong-types', loginQ, () => J({ v: 1, action: 'login', login: pick([5, null, [], {}, true]), queue: 'chat.user.it.bv.wt' })],
    ['wrong-types', loginQ, () => J({ v: 1, action: 'login', login: `wt${ri(1e6)}`, queue: 'chat.user.it.bv.wt', rooms: pick(['main', 5, [1], [null], {}]) })],
    ['wrong-types', loginQ, () => J({ v: 1, action: pick([1, null, [], {}, true]), login: a.name })],
    ['wrong-types', loginQ, () => J({ v: 1, action: 'login', login: `wt${ri(1e6)}`, queue: 'chat.user.it.bv.wt', since: pick([5, 'x', [], { main: -1 }, { main: 'x' }, { main: 1.5 }]) })],
    ['non-json-object', chatQ, () => pick(['[]', '42', '"str"', 'null', 'true', `[{"sender":"${a.name}","message":"x"}]`, '', ' '])],
    ['non-utf8', chatQ, () => { const u = real(); return Buffer.concat([Buffer.from(`{"v":1,"sender":"${u.name}","token":"${u.token}","message":"nu-${tag}`), Buffer.from(pick([[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3], [0xe2, 0x82], [0x80]])), Buffer.from('"}')]); }],
    ['non-utf8', loginQ, () => Buffer.concat([Buffer.from('{"v":1,"action":"login","login":"nu'), Buffer.from([0xc3, 0x28]), Buffer.from('","queue":"chat.user.it.bv.nu"}')])],
    ['unknown-action', loginQ, () => J({ v: 1, action: pick(['dance', 'LOGIN', 'login ', '', 'delete', 'admin', 'x'.repeat(100)]), login: real().name, token: real().token })],
    ['unsupported-version', chatQ, () => { const u = real(); return J({ v: pick([0, 2, 99, -1, 1.5, 1e300]), sender: u.name, token: u.token, message: `uv-${tag}` }); }],
    ['missing-field', chatQ, () => { const u = real(); return J(pick([{ v: 1, sender: u.name, token: u.token }, { v: 1, message: 'x' }, { v: 1 }, {}])); }],
    ['missing-field', loginQ, () => J(pick([{ v: 1, login: `mf${ri(1e6)}`, queue: 'chat.user.it.bv.mf' }, { v: 1, action: 'login', login: `mf${ri(1e6)}` }, { v: 1, action: 'login', queue: 'chat.user.it.bv.mf' }, {}]))],
    ['hostile-login', loginQ, () => J({ v: 1, action: 'login', login: pick(hostileLogins), queue: `chat.user.it.bv.hl${ri(4)}` })],
    ['hostile-login', chatQ, () => J({ v: 1, sender: pick(hostileLogins), token: 'x', message: `hl-${tag}` })],
    ['hostile-login', loginQ, () => J({ v: 1, action: pick(['logout', 'ping']), login: pick(hostileLogins), token: 'x' })],
    ['hostile-queue', loginQ, () => J({ v: 1, action: 'login', login: `hq${ri(1e6)}`, queue: pick([...hostileQueues, names.login, names.chat, `chat.relay.${ri(1e6)}`]) })],
    ['queue-taken', loginQ, () => J({ v: 1, action: 'login', login: `thief${ri(1e6)}`, queue: real().queue })],
    ['impersonation', chatQ, () => { const u = real(); return J({ v: 1, sender: u.name, message: `imp-${tag}` }); }], // no token
    ['impersonation', chatQ, () => { const u = real(); return J({ v: 1, sender: u.name, token: crypto.randomBytes(16).toString('hex'), message: `imp-${tag}` }); }],
    ['impersonation', chatQ, () => { const [u, v] = [real(), real()]; return u === v ? J({ v: 1, sender: u.name, token: '', message: `imp-${tag}` }) : J({ v: 1, sender: u.name, token: v.token, message: `imp-${tag}` }); }],
    ['impersonation', loginQ, () => { const u = real(); return J({ v: 1, action: 'logout', login: u.name, token: pick(['', 'wrong', 'f'.repeat(32), 'x'.repeat(200)]) }); }],
    ['impersonation', loginQ, () => { const u = real(); return J({ v: 1, action: 'ping', login: u.name, token: 'wrong' }); }],
    ['not-logged-in', chatQ, () => J({ v: 1, sender: `ghost${ri(1e6)}`, token: 'x', message: `ghost-${tag}` })],
    ['bad-cid', chatQ, () => { const u = real(); return J({ v: 1, sender: u.name, token: u.token, message: `cid-${tag}`, cid: pick(['', 'c'.repeat(65), 'c'.repeat(5000)]) }); }],
    ['bad-room', chatQ, () => { const u = real(); return J({ v: 1, sender: u.name, token: u.token, message: `room-${tag}`, room: pick(['dev', 'bad room', 'x'.repeat(33), '../main', 'ünï']) }); }],
    ['bad-room', loginQ, () => J({ v: 1, action: 'login', login: `br${ri(1e6)}`, queue: 'chat.user.it.bv.br', rooms: pick([['bad room'], Array.from({ length: 17 }, (_, i) => `r${i}`), ['main', '']]) })],
    ['unknown-recipient', chatQ, () => { const u = real(); return J({ v: 1, sender: u.name, token: u.token, message: `dm-${tag}`, to: pick([`nobody${ri(1e6)}`, 'bad name', 'x'.repeat(33)]) }); }],
  ];
}

describe('bad input at volume', () => {
  let relay, users, names;

  before(async () => {
    relay = await ctx.start('bv', {
      'require-token': true,
      'max-message-size': MAX,
      'rate-limit': 1000000,
      'rate-burst': 1000000,
      'keepalive-timeout': '600s',
      'log-level': 'info', // debug logs 100k lines
    });
    names = { login: relay.options['login-queue'], chat: relay.options['chat-queue'] };
    users = [];
    for (const n of ['ann', 'ben', 'cat']) {
      const c = ctx.client(relay, `${n}_${rid(2)}`);
      await c.login(c.name);
      users.push(c);
    }
  });

  test(`${BAD} bad bodies mixed with good chat messages: relay up, every good message once to every user, RSS bounded`, { timeout: 360000 }, ctx.it(async (t) => {
    const tag = rid(4);
    const gens = makeGenerators(users, names, tag);
    const pid = relay.pid;
    const asan = isAsan(pid);
    const rssBoundMB = Number(process.env.BV_RSS_MB || (asan ? 300 : 30)); // ASan's quarantine alone is 256 MB
    const queuesBefore0 = new Set(await listNames('queues'));
    const queuesBefore = queuesBefore0.size;
    const errorsBefore = await relay.metric('chat_relay_errors_total');
    // Warm up the relay's allocator with a short burst of the same mix, then measure.
    const ch = ctx.broker.pub;
    let outstanding = 0, confirmed = 0, nacked = 0;
    const waiters = [];
    const pub = async (queue, body) => {
      while (outstanding >= WINDOW) await new Promise((r) => waiters.push(r));
      outstanding++;
      const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
      ch.sendToQueue(queue, buf, { contentType: 'application/json' }, (err) => {
        outstanding--;
        if (err) nacked++; else confirmed++;
        const w = waiters.shift();
        if (w) w();
      });
    };
    const goods = []; // {cid, text}
    const perCat = new Map();
    let bytes = 0;
    const send = async (count, label) => {
      for (let i = 0; i < count; i++) {
        if (i % GOOD_EVERY === GOOD_EVERY / 2) {
          const u = users[goods.length % users.length];
          const n = goods.length;
          const g = { cid: `bv-${tag}-${label}-${n}`, text: `good-${tag}-${label}-${n}` };
          goods.push(g);
          const body = JSON.stringify({ v: 1, sender: u.name, token: u.token, message: g.text, cid: g.cid });
          bytes += body.length;
          await pub(names.chat, body);
        }
        const [cat, queue, gen] = gens[ri(gens.length)];
        const body = gen();
        bytes += body.length;
        perCat.set(cat, (perCat.get(cat) ?? 0) + 1);
        await pub(queue, body);
      }
      while (outstanding > 0) await new Promise((r) => waiters.push(r));
    };
    const isGood = (e) => e?.type === 'message' && typeof e.cid === 'string' && e.cid.startsWith(`bv-${tag}-`);
    const waitGood = async (timeout) => {
      for (const u of users) await u.waitForCount(isGood, goods.length, timeout, 'good messages');
    };

    await send(2000, 'warm');
    await waitGood(30000);
    await sleep(1000);
    const rss0 = rssKiB(pid);

    const t0 = Date.now();
    await send(BAD, 'main');
    const tPublished = Date.now();
    await waitGood(asan ? 180000 : 60000); // the relay drains the backlog of the chat queue
    const tDelivered = Date.now();
    await sleep(1500); // late duplicates, and let the relay settle
    assert.ok(relay.running, `relay still running (exit: ${JSON.stringify(relay.exit)})`);
    const rss1 = rssKiB(pid);
    const h = await relay.healthz();
    const rz = await relay.readyz();
    const errorsAfter = await relay.metric('chat_relay_errors_total');
    const queuesAfterList = await listNames('queues');
    const queuesAfter = queuesAfterList.length;
    const newQueues = queuesAfterList.filter((q) => !queuesBefore0.has(q));

    // every good message once to every user, nothing of the bad ones delivered as a message
    const report = [];
    for (const u of users) {
      const got = u.events.filter(isGood);
      const byCid = new Map();
      for (const e of got) byCid.set(e.cid, (byCid.get(e.cid) ?? 0) + 1);
      const missing = goods.filter((g) => !byCid.has(g.cid));
      const dups = [...byCid].filter(([, n]) => n > 1);
      const wrongText = got.filter((e) => e.message !== `good-${e.cid.slice(3)}`);
      const leaked = u.events.filter((e) => (e?.type === 'message' || e?.type === 'direct') && !isGood(e) && typeof e.message === 'string' && e.message.includes(tag));
      report.push(`${u.name}: ${byCid.size}/${goods.length} good delivered, ${dups.length} duplicated, ${missing.length} missing, ${leaked.length} bad delivered, ${u.errors().length} errors received`);
      assert.equal(missing.length, 0, `${u.name} missing ${missing.length} good messages, e.g. ${JSON.stringify(missing.slice(0, 3))}`);
      assert.deepEqual(dups, [], `${u.name}: duplicates`);
      assert.deepEqual(wrongText.slice(0, 3), [], `${u.name}: text intact`);
      assert.deepEqual(leaked.slice(0, 3), [], `${u.name}: no bad body delivered as a message`);
    }
    const total = BAD + goods.length;
    const secs = (tDelivered - t0) / 1000;
    const figures = [
      `bad bodies sent: ${BAD} (+2000 warm-up), good messages: ${goods.length} (x ${users.length} users), bytes: ${(bytes / 1048576).toFixed(1)} MiB, confirms: ${confirmed} acked, ${nacked} nacked`,
      `by category: ${[...perCat].sort().map(([k, v]) => `${k}=${v}`).join(' ')}`,
      `throughput: ${total} bodies in ${secs.toFixed(1)} s = ${Math.round(total / secs)} msg/s (published in ${((tPublished - t0) / 1000).toFixed(1)} s)`,
      `relay RSS: before ${(rss0 / 1024).toFixed(1)} MiB, after ${(rss1 / 1024).toFixed(1)} MiB, delta ${((rss1 - rss0) / 1024).toFixed(1)} MiB (bound ${rssBoundMB} MiB${asan ? ', ASan build' : ''})`,
      `chat_relay_errors_total grew by ${errorsAfter - errorsBefore} (bad bodies incl. warm-up: ${BAD + 2000})`,
      `broker queues: ${queuesBefore} before, ${queuesAfter} after; new: ${JSON.stringify(newQueues.slice(0, 12))}`,
      `/healthz ${h.status}, /readyz ${rz.status}`,
      ...report,
    ];
    for (const f of figures) t.diagnostic(f);
    assert.equal(nacked, 0, 'no publish nacked by the broker');
    assert.equal(h.status, 200, '/healthz 200');
    assert.equal(rz.status, 200, '/readyz 200');
    assert.ok((rss1 - rss0) / 1024 < rssBoundMB, `RSS grew by ${((rss1 - rss0) / 1024).toFixed(1)} MiB (bound ${rssBoundMB} MiB)`);
    // A refused login still gets its error: the relay declares the named queue (valid name only,
    // with x-expires) to put the error in it. So the only new queues may be the few valid names the
    // generators use (chat.user.it.bv.*), each expiring by itself; nothing else may appear.
    const unexpected = newQueues.filter((q) => !q.startsWith('chat.user.it.bv.') && !q.startsWith('chat.user.it.') && !q.startsWith('it.'));
    assert.deepEqual(unexpected, [], 'no queue named by a hostile body was declared');
    const ours = newQueues.filter((q) => q.startsWith('chat.user.it.bv.'));
    assert.ok(ours.length <= 8, `at most the 8 valid queue names of the generators: ${ours.length}`);
    for (const q of ours) {
      const info = await queueInfo(q);
      if (info) assert.ok(Number(info.arguments?.['x-expires']) > 0, `${q} declared with x-expires (${JSON.stringify(info.arguments)})`);
    }
    assert.ok(errorsAfter - errorsBefore >= BAD + 2000, `every bad body counted in chat_relay_errors_total (grew by ${errorsAfter - errorsBefore}, sent ${BAD + 2000})`);
  }));
});
