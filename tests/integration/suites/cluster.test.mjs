// Suite 7: two relays on a 3-node RabbitMQ cluster; a broker node goes down during traffic
// (issue 5, DESIGN section 4). Starts its own cluster with scripts/cluster.sh (nodes
// clu1..clu3@localhost, AMQP 5701..5703, management 15801..15803) and always stops it.
//
// Topology of the run, chosen so that the stopped node hurts:
//   relay B  addresses clu2, clu3, clu1  -> started first: ACTIVE on clu2, so `login`, `chat` and
//            every user queue it declares have their master on clu2 (queue-master-locator
//            client-local)
//   relay A  addresses clu1, clu2, clu3  -> stand-by on clu1
//   users    consume through clu1 (half) and clu3 (half); logins are published through them
//   sender   a confirm channel on clu3 publishes CHAT_N chats with cids (mandatory; a nacked or
//            returned chat is sent again with the same cid, as a client would)
// During the stream clu2 crashes (`kill -9` of its VM) and takes away the active relay's node and
// all queue masters at once (issue 15). The stream is longer than the relays' max-in-flight, so a
// confirm that never comes would stall the relay. Checked for EVERY user, as a web client sees the
// stream (it drops a delivery whose id or whose sender+cid it has seen): every confirmed chat
// exactly once, ids increasing as received; across users one id is never two chats; deliveries
// keep flowing (largest pause after the crash below STALL_MS); afterwards both relays are alive
// (/readyz 200) and exactly one is active. Figures (takeover, pause, duplicates, re-stamped copies,
// confirm timeouts) are printed on a `[cluster] FIGURES` line.
//
// Env: CLUSTER_FAULT=kill (default) | stop_app (graceful: hands the masters over first),
//      CHAT_N (2000), STREAM_MS (13000: ~150 chats/s), MAX_IN_FLIGHT (256), STALL_MS (15000),
//      USER_QUEUE_TYPE (classic), CLU_HA_POLICY=0 to run without the mirroring policy
//      (expected to lose messages).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import fs from 'node:fs';
import amqp from 'amqplib';
import { Broker } from '../lib/broker.mjs';
import { ChatClient, rid } from '../lib/client.mjs';
import { startRelay, sleep, ROOT } from '../lib/relay.mjs';

const execFileP = promisify(execFile);
const CLUSTER_SH = path.resolve(ROOT, '../../scripts/cluster.sh');
const N_NODES = 3;
const CHAT_N = Number(process.env.CHAT_N || 2000);
const FAULT = process.env.CLUSTER_FAULT || 'kill';
const FAULT_AT = Math.floor(CHAT_N * 0.2);
const STREAM_MS = Number(process.env.STREAM_MS || 13000); // spread the chats over this long
const MAX_IN_FLIGHT = Number(process.env.MAX_IN_FLIGHT || 256); // well below CHAT_N
const STALL_MS = Number(process.env.STALL_MS || 15000); // largest pause allowed after the crash
const N_USERS = 8;
const amqpPort = (i) => 5700 + i;
const mgmtPort = (i) => 15800 + i;
const amqpUrl = (i) => `amqp://guest:guest@127.0.0.1:${amqpPort(i)}`;
const node = (i) => `clu${i}@localhost`;
// The seed's names: the mirroring policy of cluster.sh matches ^(login|chat)$ and ^chat\.user\.
const NAMES = {
  'login-queue': 'login',
  'chat-queue': 'chat',
  'events-exchange': 'chat.relay.events',
  'room-exchange-prefix': 'chat.room.',
};
const ctlEnv = { ...process.env, ERL_EPMD_PORT: process.env.CLU_EPMD_PORT || '4369' };

const say = (line) => console.log(`[cluster] ${line}`);
const RUN = rid(2); // relay ids (and so config and log files) unique per run

// The cluster has fixed node names and ports: two runs at once (two checkouts, a developer and CI)
// would stop each other's nodes. Hold an exclusive flock(1) for the whole suite: the shell holding
// it exits when its stdin (a pipe from this process) closes, also when this process dies.
const LOCK_FILE = `${process.env.CLU_BASE || '/tmp/chatrelay-rmq-cluster'}.lock`;
function takeLock(waitS = 150) {
  return new Promise((resolve, reject) => {
    const p = spawn('flock', ['-x', '-w', String(waitS), LOCK_FILE, '-c', 'echo locked; read _'],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    p.stdout.once('data', () => resolve(p));
    p.once('exit', (code) => reject(new Error(`could not lock ${LOCK_FILE} within ${waitS} s (exit ${code}): another cluster run is going on`)));
  });
}

async function cluster(...args) {
  const t0 = Date.now();
  // Fresh state every time; a loaded 2-core CI machine needs more than the default 60 s per node.
  const env = { ...process.env, RMQ_FRESH: '1', RMQ_START_TIMEOUT: process.env.RMQ_START_TIMEOUT || '120' };
  try {
    const { stdout, stderr } = await execFileP('bash', [CLUSTER_SH, ...args], { env, timeout: 200000, maxBuffer: 1 << 22 });
    return { ok: true, ms: Date.now() - t0, out: stdout + stderr };
  } catch (e) {
    return { ok: false, ms: Date.now() - t0, out: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

async function ctl(i, ...args) {
  const { stdout } = await execFileP('rabbitmqctl', ['-n', node(i), ...args], { env: ctlEnv, timeout: 60000 });
  return stdout;
}

/** Management API of node i (guest, loopback). */
async function mgmt(i, p) {
  const res = await fetch(`http://127.0.0.1:${mgmtPort(i)}/api${p}`, {
    headers: { authorization: 'Basic ' + Buffer.from('guest:guest').toString('base64') },
    signal: AbortSignal.timeout(5000),
  });
  if (res.status !== 200) throw new Error(`mgmt ${p} on clu${i}: ${res.status}`);
  return res.json();
}

/** A Broker (lib/broker.mjs) connected to node i. */
async function brokerOn(i) {
  const b = new Broker();
  b.conn = await amqp.connect(amqpUrl(i));
  b.conn.on('error', (e) => b.errors.push(e));
  b.pub = await b.conn.createConfirmChannel();
  b.pub.on('error', (e) => b.errors.push(e));
  return b;
}

const queueNode = (q) => q?.node?.replace('@localhost', '');
const mirrors = (q) => (q?.synchronised_slave_nodes ?? []).map((n) => n.replace('@localhost', '')).sort().join(',');

describe('two relays on a 3-node RabbitMQ cluster, a node stops during traffic', () => {
  let clusterUp = false;
  const relays = {}; // A, B
  const brokers = []; // test connections (clu1, clu3)
  const users = [];
  let sender = null; // {conn, ch}
  let lock = null;

  // The runner SIGTERMs a file that overruns --test-timeout, and after() does not run then: take the
  // relays down (they would otherwise live on and grab `chat` on the next run's cluster) and
  // leave the cluster stopping in the background.
  const onSignal = (sig) => {
    for (const r of Object.values(relays)) { try { r.proc?.kill('SIGKILL'); } catch { /* */ } }
    if (clusterUp) spawn('bash', [CLUSTER_SH, 'stop'], { detached: true, stdio: 'ignore' }).unref();
    lock?.stdin.end();
    console.error(`[cluster] ${sig}: relays killed, cluster stopping in the background`);
    process.exit(1);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  before(async () => {
    const tl = Date.now();
    lock = await takeLock();
    if (Date.now() - tl > 1000) say(`waited ${Date.now() - tl} ms for ${LOCK_FILE}`);
    const st = await cluster('status');
    if (st.ok) {
      say('a test cluster is already running: stopping it for a fresh start');
      await cluster('stop');
    }
    const up = await cluster('start', String(N_NODES));
    clusterUp = true; // a half-started cluster is stopped in after() too
    assert.ok(up.ok, `scripts/cluster.sh start ${N_NODES} failed (${up.ms} ms):\n${up.out.slice(-3000)}`);
    say(`cluster of ${N_NODES} started in ${up.ms} ms`);
    const pol = await ctl(1, '-q', 'list_policies', '--no-table-headers');
    if (process.env.CLU_HA_POLICY !== '0') assert.match(pol, /chat-relay-ha/, `the mirroring policy is set:\n${pol}`);
  }, { timeout: 230000 });

  after(async () => {
    try { await sender?.conn.close(); } catch { /* */ }
    for (const c of users) await c.close();
    for (const b of brokers) await b.close();
    for (const r of Object.values(relays)) { await r.stop(); fs.rmSync(r.cfgFile, { force: true }); }
    if (clusterUp) {
      const down = await cluster('stop');
      say(`cluster stopped in ${down.ms} ms${down.ok ? '' : `: ${down.out.slice(-500)}`}`);
    }
    lock?.stdin.end(); // releases the lock
  }, { timeout: 120000 });

  const relayOpts = (id, order) => ({
    ...NAMES,
    id,
    'amqp-addresses': order.map((i) => `127.0.0.1:${amqpPort(i)}`),
    'amqp-user': 'chat-relay',
    'amqp-password': 'chat-relay',
    failover: '1s',
    'history-size': 100,
    'max-in-flight': MAX_IN_FLIGHT,
    'user-queue-type': process.env.USER_QUEUE_TYPE || 'classic',
  });

  /** Node a relay's connection is on (management API, by connection_name = relay id). */
  async function relayNode(relay, via = 1) {
    for (let i = 0; i < 30; i++) { // the management API lists a new connection within a few seconds
      const conns = await mgmt(via, '/connections?columns=name,node,client_properties');
      const c = conns.find((x) => x.client_properties?.connection_name === relay.id);
      if (c) return c.node.replace('@localhost', '');
      await sleep(250);
    }
    return '?';
  }

  async function metric(r, name) { try { return await r.metric(name); } catch { return NaN; } }

  test('B active on clu2, A stand-by on clu1; users through clu1 and clu3; mirrors in place', async (t) => {
    relays.B = await startRelay({ suite: 'cluster', options: relayOpts(`it-cluster-B-${RUN}`, [2, 3, 1]) });
    for (let i = 0; i < 100 && (await metric(relays.B, 'chat_relay_active')) !== 1; i++) await sleep(100);
    if ((await metric(relays.B, 'chat_relay_active')) !== 1) {
      const cons = await mgmt(2, '/consumers/%2F').catch(() => []);
      const holders = cons.filter((c) => c.queue?.name === 'chat').map((c) => c.channel_details?.connection_name);
      assert.fail(`B is not active; consumers of chat on the fresh cluster: ${JSON.stringify(holders)} ` +
        '(a relay left over from an earlier, killed run? they connect to 5701-5703)');
    }
    relays.A = await startRelay({ suite: 'cluster', options: relayOpts(`it-cluster-A-${RUN}`, [1, 2, 3]), wait: 'healthz' });
    for (let i = 0; i < 100 && (await metric(relays.A, 'chat_relay_connected')) !== 1; i++) await sleep(100);
    assert.equal(await metric(relays.A, 'chat_relay_active'), 0, 'A is a stand-by');

    brokers.push(await brokerOn(1), await brokerOn(3));
    for (let k = 0; k < N_USERS; k++) {
      const b = brokers[k % 2];
      const c = new ChatClient(b, relays.B.options, `cu${k}_${rid(2)}`);
      c.via = k % 2 ? 'clu3' : 'clu1';
      users.push(c);
      // A loaded 2-core CI machine: the first mirrored declares can take many seconds.
      const w = await c.login(c.name, { timeout: 30000, consumeTimeout: 30000 });
      assert.deepEqual([...w.users.main].sort(), users.map((u) => u.name).sort(), `welcome of ${c.name}`);
    }
    const s = await amqp.connect(amqpUrl(3));
    s.on('error', () => {});
    sender = { conn: s, ch: await s.createConfirmChannel() };
    sender.ch.on('error', () => {});

    // The policy applies and the mirrors are synchronised before the fault.
    const noHa = process.env.CLU_HA_POLICY === '0';
    const want = ['login', 'chat', ...users.map((u) => u.queue)];
    let qs = [];
    for (let i = 0; i < 100; i++) {
      const all = await mgmt(1, '/queues/%2F?columns=name,node,type,slave_nodes,synchronised_slave_nodes,arguments');
      qs = want.map((n) => all.find((q) => q.name === n));
      if (qs.every((q) => q && (noHa || q.type === 'quorum' || (q.synchronised_slave_nodes ?? []).length === N_NODES - 1))) break;
      await sleep(200);
    }
    const table = qs.map((q, k) => `${want[k]}: master ${queueNode(q)}, synced mirrors ${mirrors(q) || '-'}`);
    say(`queues before the fault:\n[cluster]   ${table.join('\n[cluster]   ')}`);
    t.diagnostic(table.join('; '));
    const listed = JSON.parse(await ctl(1, '-q', 'list_queues', 'name', 'policy', 'slave_pids', '--formatter', 'json'));
    say(`rabbitmqctl list_queues name policy slave_pids:\n[cluster]   ${listed.map((q) => `${q.name} ${q.policy || '-'} ${JSON.stringify(q.slave_pids)}`).join('\n[cluster]   ')}`);
    const policyOf = (n) => listed.find((q) => q.name === n)?.policy;
    say(`relay B on ${await relayNode(relays.B)}, relay A on ${await relayNode(relays.A)}`);
    for (const [k, q] of qs.entries()) {
      assert.ok(q, `queue ${want[k]} exists`);
      if (want[k] === 'login' || want[k] === 'chat') assert.deepEqual(q.arguments ?? {}, {}, `${want[k]} has no arguments`);
      if (!noHa && q.type !== 'quorum') {
        assert.equal(policyOf(want[k]), 'chat-relay-ha', `${want[k]}: policy`);
        assert.equal(q.synchronised_slave_nodes.length, N_NODES - 1, `${want[k]}: synchronised mirrors`);
      }
    }
  });

  test(`${CHAT_N} confirmed chats while ${FAULT} takes clu2 (active relay + queue masters) away: none lost`, async (t) => {
    assert.ok(sender && users.length === N_USERS, 'set-up of the previous test');
    const tag = rid(3);
    const cidOf = (i) => `cl${tag}-${i}`;
    const state = new Map(); // cid -> {sends, confirmed, returned}
    let returned = 0;
    let nacked = 0;
    sender.ch.on('return', (m) => {
      returned++;
      const s = state.get(m.properties.messageId);
      if (s) s.returned = true;
    });

    // Watch the relays during the fault (100 ms polls).
    const timeline = [];
    let watching = true;
    const watch = (async () => {
      const last = {};
      while (watching) {
        for (const [name, r] of Object.entries(relays)) {
          const cur = `${await metric(r, 'chat_relay_connected')}/${await metric(r, 'chat_relay_active')}`;
          if (last[name] !== cur) { timeline.push({ at: Date.now(), what: `${name} connected/active ${cur}` }); last[name] = cur; }
        }
        // a user whose consumer the broker cancelled consumes again (noAck: nothing to redeliver)
        for (const u of users) {
          if (u.cancelled && u.queue) {
            timeline.push({ at: Date.now(), what: `${u.name} consumer cancelled; consuming again` });
            const q = u.queue;
            u.cancelled = false;
            await u.close();
            u.consume(q, { timeout: 20000 }).catch((e) => timeline.push({ at: Date.now(), what: `${u.name}: ${e.message}` }));
          }
        }
        await sleep(100);
      }
    })();

    const publishOnce = (i) => new Promise((resolve) => {
      const u = users[i % 2 ? 1 : 2]; // one sender consuming through clu3, one through clu1
      const cid = cidOf(i);
      const body = { v: 1, sender: u.name, token: u.token, message: `cl-${tag}-${i}`, cid };
      const s = state.get(cid) ?? { sends: 0, confirmed: false, returned: false };
      state.set(cid, s);
      s.sends++;
      s.returned = false;
      sender.ch.sendToQueue('chat', Buffer.from(JSON.stringify(body)),
        { contentType: 'application/json', messageId: cid, mandatory: true },
        (err) => {
          if (err) nacked++;
          else if (!s.returned) s.confirmed = true;
          resolve();
        });
    });

    let faultAt = 0;
    let faultDone = null;
    const t0 = Date.now();
    const inflight = new Set();
    for (let i = 0; i < CHAT_N; i++) {
      if (i === FAULT_AT) {
        faultAt = Date.now();
        timeline.push({ at: faultAt, what: `${FAULT} clu2` });
        faultDone = (FAULT === 'kill' ? cluster('kill-node', '2') : ctl(2, '-q', 'stop_app').then(() => ({ ok: true })))
          .then((r) => { timeline.push({ at: Date.now(), what: `${FAULT} clu2 returned` }); return r; });
      }
      const p = publishOnce(i).then(() => inflight.delete(p));
      inflight.add(p);
      while (inflight.size >= 32) await Promise.race(inflight);
      // ~150 chats/s: the stream lasts ~13 s. stop_app closes clu2's connections only after ~3 s
      // (it first hands the queue masters over), so the fault lands in the middle of the traffic.
      if (i % 10 === 9) await sleep(Math.max(0, t0 + ((i + 1) * STREAM_MS) / CHAT_N - Date.now()));
    }
    await Promise.all(inflight);
    // Chats the broker refused (nack) or could not route (return) are sent again, same cid.
    let resends = 0;
    for (let round = 0; round < 20; round++) {
      const again = [...state].filter(([, s]) => !s.confirmed).map(([cid]) => Number(cid.split('-').pop()));
      if (!again.length) break;
      resends += again.length;
      await sleep(500);
      await Promise.all(again.map((i) => publishOnce(i)));
    }
    const sendMs = Date.now() - t0;
    const fr = await faultDone;
    assert.ok(fr?.ok !== false, `${FAULT} clu2 failed: ${fr?.out}`);
    const confirmed = [...state].filter(([, s]) => s.confirmed).map(([cid]) => cid);

    // Wait for the deliveries, then listen on for late copies.
    const isMine = (e) => e?.type === 'message' && typeof e.cid === 'string' && e.cid.startsWith(`cl${tag}-`);
    const deadline = Date.now() + 45000;
    for (const u of users) {
      while (Date.now() < deadline && new Set(u.events.filter(isMine).map((e) => e.cid)).size < confirmed.length) await sleep(200);
    }
    const allIn = Date.now();
    await sleep(Number(process.env.LATE_MS || 3000));
    watching = false;
    await watch;

    // Each user's stream as a web client shows it (web/src/client/ChatClient.ts drops a delivery
    // whose room+id or sender+cid it has seen already).
    const report = [];
    const failures = [];
    const idOwner = new Map(); // id -> cid, across users: one id is never two chats (15.3)
    let dupTotal = 0;
    let restampTotal = 0;
    let worstGap = 0;
    for (const u of users) {
      const evs = u.events.filter(isMine);
      const seen = new Set();
      const shown = [];
      let dup = 0;
      const idsOfCid = new Map();
      for (const e of evs) {
        (idsOfCid.get(e.cid) ?? idsOfCid.set(e.cid, new Set()).get(e.cid)).add(e.id);
        const owner = idOwner.get(e.id);
        if (owner === undefined) idOwner.set(e.id, e.cid);
        else if (owner !== e.cid) failures.push(`${u.name}: id ${e.id} carries ${owner} and ${e.cid}`);
        const keys = [`id ${e.room} ${e.id}`, `cid ${e.sender} ${e.cid}`];
        if (keys.some((k) => seen.has(k))) { dup++; for (const k of keys) seen.add(k); continue; }
        for (const k of keys) seen.add(k);
        shown.push(e);
      }
      const restamped = [...idsOfCid.values()].filter((ids) => ids.size > 1).length;
      const shownCids = new Set(shown.map((e) => e.cid));
      const missing = confirmed.filter((c) => !shownCids.has(c));
      const twice = shown.length - shownCids.size; // cannot happen after the cid check: asserted anyway
      let backwards = 0;
      let firstBack = '';
      for (let k = 1; k < shown.length; k++) {
        if (shown[k].id <= shown[k - 1].id) {
          if (!backwards) firstBack = `${shown[k].id} after ${shown[k - 1].id}`;
          backwards++;
        }
      }
      const times = evs.map((e) => e._at).filter((a) => a >= faultAt);
      let gap = 0;
      for (let k = 1; k < times.length; k++) gap = Math.max(gap, times[k] - times[k - 1]);
      if (times.length) gap = Math.max(gap, times[0] - faultAt);
      worstGap = Math.max(worstGap, gap);
      dupTotal += dup;
      restampTotal += restamped;
      report.push(`${u.name} (via ${u.via}): ${shownCids.size} chats shown / ${confirmed.length} confirmed, ${evs.length} deliveries, ` +
        `missing ${missing.length}${missing.length ? ` [${missing.slice(0, 8).map((c) => c.split('-').pop()).join(',')}...]` : ''}, ` +
        `copies dropped ${dup}, re-stamped cids ${restamped}, ids backwards ${backwards}${firstBack ? ` (first: ${firstBack})` : ''}, ` +
        `largest pause after the crash ${gap} ms`);
      if (missing.length) failures.push(`${u.name}: ${missing.length} confirmed chats missing`);
      if (twice) failures.push(`${u.name}: ${twice} chats shown twice`);
      if (backwards) failures.push(`${u.name}: ${backwards} ids not increasing as received (first: ${firstBack})`);
      if (gap > STALL_MS) failures.push(`${u.name}: a pause of ${gap} ms after the crash (bound ${STALL_MS} ms)`);
    }
    const rel = (ms) => `+${ms - faultAt} ms`;
    say(`${FAULT} clu2 at chat ${FAULT_AT}; sending ${CHAT_N} chats took ${sendMs} ms; confirmed ${confirmed.length}/${CHAT_N} ` +
      `(${resends} resent after ${nacked} nacks and ${returned} returns); all in ${rel(allIn)}`);
    for (const e of timeline) say(`  ${rel(e.at)}  ${e.what}`);
    for (const r of report) say(r);
    const figures = {};
    for (const [name, r] of Object.entries(relays)) {
      const m = {};
      for (const k of ['active', 'takeovers_total', 'reconnects_total', 'redeliveries_total', 'messages_out_total',
        'users_online', 'confirm_timeouts_total', 'republished_total', 'restamped_total']) m[k] = await metric(r, `chat_relay_${k}`);
      figures[name] = m;
      say(`relay ${name}: on ${await relayNode(r, 1).catch(() => '?')}, ${Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    }
    // Takeover: from the moment the fault is done (the kill command returned; for stop_app, when
    // it returned) to the first poll (every 100 ms) that sees a relay active again.
    const done = timeline.find((e) => e.what === `${FAULT} clu2 returned`)?.at ?? faultAt;
    const takeover = timeline.find((e) => e.at >= done && /connected\/active 1\/1/.test(e.what));
    say(`FIGURES fault=${FAULT} takeover_ms=${takeover ? takeover.at - done : 'none'} largest_pause_ms=${worstGap} ` +
      `copies_dropped=${dupTotal} restamped_cids=${restampTotal} ` +
      `confirm_timeouts=${(figures.A?.confirm_timeouts_total || 0) + (figures.B?.confirm_timeouts_total || 0)} ` +
      `republished=${(figures.A?.republished_total || 0) + (figures.B?.republished_total || 0)} resends=${resends} nacks=${nacked} returns=${returned}`);
    t.diagnostic(report.join('; '));

    assert.equal(confirmed.length, CHAT_N, 'every chat was eventually confirmed by the broker');
    assert.deepEqual(failures, [], 'every user: every confirmed chat exactly once, ids unique and increasing, no stall');

    // Both relays alive and connected, exactly one active (/readyz); presence agrees.
    let roles = {};
    for (let i = 0; i < 200; i++) {
      roles = {};
      for (const [name, r] of Object.entries(relays)) {
        const rz = await r.readyz();
        roles[name] = `${rz.status} ${rz.json?.role}`;
      }
      const vals = Object.values(roles);
      if (vals.every((v) => v.startsWith('200')) && vals.filter((v) => v === '200 active').length === 1) break;
      await sleep(100);
    }
    const vals = Object.values(roles);
    assert.ok(vals.every((v) => v.startsWith('200 ')), `both relays ready: ${JSON.stringify(roles)}`);
    assert.equal(vals.filter((v) => v === '200 active').length, 1, `exactly one active relay: ${JSON.stringify(roles)}`);
    assert.equal(vals.filter((v) => v === '200 standby').length, 1, `the other is a stand-by: ${JSON.stringify(roles)}`);
    for (const [name, r] of Object.entries(relays)) {
      assert.equal(await metric(r, 'chat_relay_users_online'), users.length, `relay ${name} knows every user`);
    }
    const late = new ChatClient(brokers[1], relays.A.options, `cl_late_${rid(2)}`);
    late.via = 'clu3';
    const w = await late.login(late.name, { timeout: 30000, consumeTimeout: 30000 });
    users.push(late);
    assert.deepEqual([...w.users.main].sort(), users.map((u) => u.name).sort(), 'a login after the fault sees everyone');
    const text = `after-${tag}`;
    await users[0].send(text, { cid: `after-${tag}` });
    for (const u of users) await u.waitFor((e) => e?.message === text, 10000, { what: `${text} at ${u.name}` });
  }, { timeout: 200000 });
});
