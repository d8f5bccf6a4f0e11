// Login + chat round trip against a running relay, over AMQP as a client
// would (docs/protocol.md), then the relay's /status.json must count it.
// Env: AMQP_URL, NAMES (the relay's queue/exchange prefix: NAMES.login,
// NAMES.chat, NAMES.room.), RELAY_URL (http://host:port).
// Uses the integration suites' client (tests/integration: npm ci first).
// `node roundtrip.mjs cleanup` deletes NAMES.* once the relay has stopped.
import assert from 'node:assert/strict';
import { Broker, cleanup } from '../integration/lib/broker.mjs';
import { ChatClient, rid } from '../integration/lib/client.mjs';

const names = process.env.NAMES;
const relayUrl = process.env.RELAY_URL;
const opts = { 'login-queue': `${names}.login`, 'chat-queue': `${names}.chat` };

if (process.argv[2] === 'cleanup') {
  // After the relay stopped: its queues and exchanges go.
  await cleanup([`${names}.`]);
  process.exit(0);
}

const broker = await Broker.open();
const alice = new ChatClient(broker, opts, `alice${rid(3)}`);
try {
  const welcome = await alice.login(alice.name, { timeout: 15000 });
  assert.ok(welcome.token, 'the welcome carries a session token');
  const text = `hello from the installed relay ${rid(4)}`;
  await alice.send(text);
  const msg = await alice.waitFor((e) => e?.type === 'message' && e.message === text, 10000, { what: 'own message' });
  assert.equal(msg.sender, alice.name);
  assert.ok(msg.id >= 1, 'the relay stamped an id');
  // A wrong token is refused (and counted: chat_relay_errors_total{code}).
  await alice.send('not mine', { token: 'forged' });
  await alice.waitError('bad_token', 10000);
  const status = await (await fetch(`${relayUrl}/status.json`)).json();
  assert.equal(status.role, 'active');
  assert.equal(status.users_online, 1, JSON.stringify(status));
  assert.equal(status.rooms_online, 1, JSON.stringify(status));
  assert.ok(status.messages.in_total >= 1, JSON.stringify(status));
  assert.ok(status.errors.total >= 1, JSON.stringify(status));
  console.log(`ok  login + chat round trip (${alice.name}: message id ${msg.id}), a forged token refused; status.json counts 1 user, 1 room, the error`);
  await alice.logout();
} finally {
  const queue = alice.queue;
  await alice.close();
  await broker.close();
  if (queue) await cleanup([], { extraQueues: [queue] }).catch(() => undefined);
}
