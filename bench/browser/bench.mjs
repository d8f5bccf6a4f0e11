#!/usr/bin/env node
// Browser-path load client: N users in one room speaking what the web client speaks, open-loop senders,
// per-delivery latency and loss/duplicate/reorder accounting per receiver, CPU per delivery of the
// processes named with --cpu-pid. See bench/README.md ("Browser path").
//
//   node bench.mjs --target relay,topic,sio --users 100 --senders 10 --rates 100,200,400 --flat-sec 5 \
//       --ws-url ws://127.0.0.1:15687/ws --cpu-pid broker:PID --cpu-pid relay:PID --json out.json
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const { values: o } = parseArgs({
  options: {
    target: { type: 'string', default: 'relay' },
    users: { type: 'string', default: '100' },
    senders: { type: 'string', default: '10' },
    workers: { type: 'string', default: '2' },
    rates: { type: 'string', default: '100,200,400,700,1000,1500,2000,3000' },
    'point-sec': { type: 'string', default: '5' },
    'flat-sec': { type: 'string', default: '5' },
    window: { type: 'string', default: '20' },
    'p99-limit-ms': { type: 'string', default: '50' },
    'drain-sec': { type: 'string', default: '10' },
    'warmup-sec': { type: 'string', default: '2' },
    size: { type: 'string', default: '64' },
    'ws-url': { type: 'string', default: 'ws://127.0.0.1:15674/ws' },
    'sio-url': { type: 'string' },
    'sio-port': { type: 'string', default: '18197' },
    'stomp-login': { type: 'string', default: 'chat-web' },
    'stomp-passcode': { type: 'string', default: 'chat-web' },
    'topic-login': { type: 'string', default: 'guest' },
    'topic-passcode': { type: 'string', default: 'guest' },
    'relay-user': { type: 'string', default: 'chat-relay' },
    'heartbeat-ms': { type: 'string', default: '10000' },
    'ping-ms': { type: 'string', default: '20000' },
    'setup-sec': { type: 'string', default: '60' },
    'connect-wave': { type: 'string', default: '25' },
    'cpu-pid': { type: 'string', multiple: true, default: [] },
    batch: { type: 'boolean', default: false },
    'no-receipts': { type: 'boolean', default: false },
    'no-flat': { type: 'boolean', default: false },
    'keep-going': { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (o.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 6).join('\n'));
  process.exit(0);
}
const num = (k) => Number(o[k]);
const N = num('users');
const S = Math.min(num('senders'), N);
const W = Math.max(1, Math.min(num('workers'), N));
const run = Date.now().toString(36);
const log = (...a) => console.error(`[browser-bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ CPU of other processes
const CLK_TCK = 100; // Linux USER_HZ on every architecture Debian ships
const cpuPids = o['cpu-pid'].map((s) => {
  const i = s.lastIndexOf(':');
  return { label: s.slice(0, i), pid: Number(s.slice(i + 1)) };
});
function cpuSeconds(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime (fields 14, 15)
  } catch {
    return null;
  }
}
function cpuSnapshot(extra) {
  const snap = {};
  for (const { label, pid } of [...cpuPids, ...extra]) snap[label] = cpuSeconds(pid);
  const u = process.cpuUsage();
  snap.client = (u.user + u.system) / 1e6;
  return snap;
}

// ------------------------------------------------------------------ statistics
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const round = (x, d = 3) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

// ------------------------------------------------------------------ workers
class Pool {
  constructor(target, extraCfg) {
    this.workers = [];
    this.waiters = [];
    for (let w = 0; w < W; w++) {
      const users = [];
      for (let i = w; i < N; i += W) users.push(i);
      const worker = new Worker(join(here, 'worker.mjs'), {
        workerData: {
          target,
          users,
          wsUrl: o['ws-url'],
          sioUrl: extraCfg.sioUrl,
          stompLogin: target === 'topic' ? o['topic-login'] : o['stomp-login'],
          stompPasscode: target === 'topic' ? o['topic-passcode'] : o['stomp-passcode'],
          relayUser: o['relay-user'],
          heartbeatMs: num('heartbeat-ms'),
          pingMs: num('ping-ms'),
          setupTimeoutMs: num('setup-sec') * 1000,
          connectWave: Math.max(1, Math.ceil(num('connect-wave') / W)),
          room: `b${run}${target}`.slice(0, 32),
          topicKey: `bench.${run}`,
          loginPrefix: `b${run}${target[0]}u`,
          batch: o.batch,
          receipts: !o['no-receipts'],
          size: num('size'),
        },
      });
      worker.on('message', (m) => this.dispatch(w, m));
      worker.on('error', (e) => log(`worker ${w} failed:`, e));
      this.workers.push(worker);
    }
  }
  dispatch(w, m) {
    const i = this.waiters.findIndex((x) => x.type === m.type && !x.got.has(w));
    if (i < 0) return;
    const x = this.waiters[i];
    x.got.set(w, m);
    if (x.got.size === this.workers.length) {
      this.waiters.splice(i, 1);
      x.resolve([...x.got.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]));
    }
  }
  /** sends `msg` to every worker and resolves with their answers of type `reply` */
  all(msg, reply) {
    const p = new Promise((resolve) => this.waiters.push({ type: reply, got: new Map(), resolve }));
    for (const w of this.workers) w.postMessage(msg);
    return p;
  }
  async close() {
    await Promise.race([this.all({ type: 'close' }, 'closed'), sleep(5000)]);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

let setupReconnects = 0;
const senders = Array.from({ length: S }, (_, i) => Math.floor((i * N) / S));

/** Waits until no chat delivery came for 1 s (a failed point's backlog), at most maxMs; returns the wait. */
async function quiesce(pool, maxMs = 30000) {
  const t0 = Date.now();
  let last = -1;
  let since = Date.now();
  while (Date.now() - t0 < maxMs) {
    const pr = await pool.all({ type: 'progress' }, 'progress');
    const all = pr.reduce((a, m) => a + m.all, 0);
    if (all !== last) {
      last = all;
      since = Date.now();
    } else if (Date.now() - since >= 1000) break;
    await sleep(200);
  }
  return Date.now() - t0;
}

async function runPoint(pool, id, rate, durationSec, extraPids) {
  const quiesceMs = await quiesce(pool);
  const load0 = loadavg()[0];
  const cpu0 = cpuSnapshot(extraPids);
  const t0 = process.hrtime.bigint();
  const ratePerSender = rate / S;
  const sentMsgs = await pool.all({ type: 'point', id, ratePerSender, durationMs: durationSec * 1000, window: num('window'), senders }, 'sent');
  const sent = Object.assign({}, ...sentMsgs.map((m) => m.sent));
  const chats = Object.values(sent).reduce((a, b) => a + b, 0);
  const expected = chats * N;
  // drain: until everything arrived, or nothing new for 2 s, or drain-sec
  const drainEnd = Date.now() + num('drain-sec') * 1000;
  let last = -1;
  let lastChange = Date.now();
  let drain = 'complete';
  for (;;) {
    const pr = await pool.all({ type: 'progress' }, 'progress');
    const got = pr.reduce((a, m) => a + m.unique, 0);
    if (got >= expected) break;
    if (got !== last) {
      last = got;
      lastChange = Date.now();
    }
    // stalled: what has not come by now is lost; still arriving at the deadline: late, maybe not lost
    if (Date.now() - lastChange > 2000) {
      drain = 'stalled';
      break;
    }
    if (Date.now() > drainEnd) {
      drain = 'deadline';
      break;
    }
    await sleep(100);
  }
  const cpu1 = cpuSnapshot(extraPids);
  const load1 = loadavg()[0];
  const col = await pool.all({ type: 'collect' }, 'collected');
  // merge
  let n = 0;
  for (const c of col) n += c.samples.length;
  const lat = new Float64Array(n);
  let off = 0;
  for (const c of col) {
    lat.set(c.samples, off);
    off += c.samples.length;
  }
  lat.sort();
  const unique = col.reduce((a, c) => a + c.unique, 0);
  const firsts = col.map((c) => BigInt(c.firstSendNs)).filter((x) => x > 0n);
  const first = firsts.length ? firsts.reduce((a, b) => (b < a ? b : a)) : t0;
  const lastRecv = col.reduce((a, c) => (BigInt(c.lastRecvNs) > a ? BigInt(c.lastRecvNs) : a), 0n);
  // per receiver and sender: anything a receiver lacks is missing
  let missing = 0;
  let receiversShort = 0;
  for (const c of col) {
    for (const recv of c.receivers) {
      const got = c.streams[recv] ?? {};
      let short = 0;
      for (const s of senders) short += (sent[s] ?? 0) - (got[s] ?? 0);
      missing += short;
      if (short > 0) receiversShort++;
    }
  }
  const spanS = lastRecv > first ? Number(lastRecv - first) / 1e9 : null;
  const cpu = {};
  for (const k of Object.keys(cpu1)) {
    if (cpu0[k] == null || cpu1[k] == null) continue;
    const d = cpu1[k] - cpu0[k];
    cpu[k] = { cpu_s: round(d), us_per_delivery: unique ? round((d / unique) * 1e6) : null, us_per_chat: chats ? round((d / chats) * 1e6, 1) : null };
  }
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const k of Object.keys(cpu)) cpu[k].core_share = round(cpu[k].cpu_s / wallS);
  const counters = col.map((c) => c.counters);
  return {
    id,
    rate: rate || 'flat',
    quiesce_ms: quiesceMs,
    duration_s: durationSec,
    chats_sent: chats,
    send_rate: round(chats / durationSec, 1),
    expected,
    deliveries: unique,
    deliveries_per_s: spanS ? Math.round(unique / spanS) : null,
    latency_ms: { p50: round(percentile(lat, 50)), p90: round(percentile(lat, 90)), p99: round(percentile(lat, 99)), max: round(lat.length ? lat[lat.length - 1] : null) },
    missing,
    drain,
    receivers_short: receiversShort,
    duplicates: col.reduce((a, c) => a + c.dups, 0),
    reordered: col.reduce((a, c) => a + c.reorders, 0),
    stale: col.reduce((a, c) => a + c.stale, 0),
    // chat frames received (a batch is one frame): deliveries per frame shows the relay's grouping
    frames: col.reduce((a, c) => a + (c.frames ?? 0), 0),
    receipts_missing: col.reduce((a, c) => a + c.receiptsMissing, 0),
    sender_max_lag_ms: round(Math.max(...sentMsgs.map((m) => m.maxLagMs)), 1),
    cpu,
    loadavg_1m: { before: load0, after: load1 },
    errors: mergeErrors(counters),
    // connections lost during the points (heart-beats missed under load...), not the setup's retries
    reconnects: counters.reduce((a, c) => a + c.reconnects, 0) - setupReconnects,
  };
}

function mergeErrors(counters) {
  const e = {};
  for (const c of counters) for (const [k, v] of Object.entries(c.errors)) e[k] = (e[k] ?? 0) + v;
  return e;
}

// children (the Socket.IO server) die with the bench, also when `timeout` stops it
const children = new Set();
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    for (const c of children) c.kill('SIGTERM');
    process.exit(130);
  });

function startSioServer() {
  const port = o['sio-port'];
  const child = spawn(process.execPath, [join(here, 'sio-server.mjs'), port], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('socket.io server did not start')), 10000);
    child.stdout.on('data', (d) => {
      const m = /listening (\d+)/.exec(String(d));
      if (m) {
        clearTimeout(t);
        resolve({ child, url: `http://127.0.0.1:${m[1]}` });
      }
    });
    child.on('exit', (code) => reject(new Error(`socket.io server exited ${code}`)));
  });
}

async function benchTarget(target) {
  const res = { target, users: N, senders: S, workers: W, batch: o.batch, receipts: !o['no-receipts'], size: num('size'), points: [], flat: null };
  let sio = null;
  const extraPids = [];
  let sioUrl = o['sio-url'];
  if (target === 'sio' && !sioUrl) {
    sio = await startSioServer();
    sioUrl = sio.url;
    extraPids.push({ label: 'sio-server', pid: sio.child.pid });
  }
  const pool = new Pool(target, { sioUrl });
  try {
    const ready = await pool.all({ type: 'setup' }, 'ready');
    res.setup = {
      ok: ready.every((r) => r.ok),
      ms: Math.round(Math.max(...ready.map((r) => r.ms))),
      not_ready: ready.reduce((a, r) => a + r.notReady, 0),
      // the broker closes the connection of a SUBSCRIBE to a queue the relay has not declared yet
      subscribe_retries: ready.reduce((a, r) => a + r.counters.subscribeRetries, 0),
      reconnects: ready.reduce((a, r) => a + r.counters.reconnects, 0),
    };
    setupReconnects = res.setup.reconnects;
    log(`${target}: ${N} users ready=${res.setup.ok} in ${res.setup.ms} ms (${res.setup.not_ready} not ready)`);
    await sleep(1000); // let the joins of the last logins pass
    let id = 0;
    if (num('warmup-sec') > 0) {
      // JIT, TCP windows, the broker's first deliveries to each queue: not recorded
      const w = await runPoint(pool, ++id, Math.min(100, N), num('warmup-sec'), extraPids);
      res.warmup = { missing: w.missing, p99_ms: w.latency_ms.p99 };
    }
    const limit = num('p99-limit-ms');
    res.sustained_rate = 0;
    for (const rate of o.rates.split(',').map(Number).filter((x) => x > 0)) {
      const p = await runPoint(pool, ++id, rate, num('point-sec'), extraPids);
      p.pass = p.missing === 0 && p.duplicates === 0 && p.reordered === 0 && p.latency_ms.p99 != null && p.latency_ms.p99 <= limit;
      res.points.push(p);
      log(`${target} ${rate} msg/s: ${p.deliveries_per_s} deliveries/s p50 ${p.latency_ms.p50} p99 ${p.latency_ms.p99} max ${p.latency_ms.max} ms, missing ${p.missing} dup ${p.duplicates} reorder ${p.reordered}, lag ${p.sender_max_lag_ms} ms, cpu ${JSON.stringify(p.cpu)} load ${p.loadavg_1m.after} -> ${p.pass ? 'PASS' : 'FAIL'}`);
      if (p.pass) res.sustained_rate = rate;
      else if (!o['keep-going']) break;
      await sleep(500);
    }
    if (!o['no-flat']) {
      await sleep(1000);
      const p = await runPoint(pool, ++id, 0, num('flat-sec'), extraPids);
      res.flat = p;
      log(`${target} flat out: ${p.send_rate} msg/s sent, ${p.deliveries_per_s} deliveries/s, p50 ${p.latency_ms.p50} p99 ${p.latency_ms.p99} ms, missing ${p.missing} dup ${p.duplicates} reorder ${p.reordered}, cpu ${JSON.stringify(p.cpu)}`);
    }
  } finally {
    await pool.close();
    if (sio) sio.child.kill('SIGTERM');
  }
  return res;
}

const results = { run, started: new Date().toISOString(), users: N, senders: S, workers: W, p99_limit_ms: num('p99-limit-ms'), targets: [] };
for (const t of o.target.split(',')) {
  results.targets.push(await benchTarget(t));
  await sleep(1000);
}
results.finished = new Date().toISOString();
const out = JSON.stringify(results, null, 1);
if (o.json) writeFileSync(o.json, out + '\n');
else console.log(out);
const bad = results.targets.some((t) => !t.setup?.ok);
process.exit(bad ? 1 : 0);
