// The Socket.IO 4 reference server: what a web developer would write instead of the relay. Same
// protocol shape as the relay (docs/protocol.md): `login` {login, rooms} answered (ack) with a welcome
// carrying a token; `chat` {sender, message, token, room, cid} checked against the token, stamped with
// a per-room id and ts and broadcast to the room as a relay-shaped `message` (the sender included);
// the ack is the receipt.
//
//   node sio-server.mjs PORT [HOST]     prints "listening PORT" when ready
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? 18197);
const host = process.argv[3] ?? '127.0.0.1';
const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
const nextId = new Map(); // room -> last id

io.on('connection', (s) => {
  let me = null;
  s.on('login', (b, ack) => {
    const rooms = Array.isArray(b?.rooms) && b.rooms.length > 0 ? b.rooms.map(String) : ['main'];
    me = { login: String(b?.login ?? ''), token: randomUUID(), rooms };
    for (const r of rooms) {
      s.join(r);
      s.to(r).emit('join', { v: 1, type: 'join', room: r, login: me.login });
    }
    if (typeof ack === 'function') ack({ v: 1, type: 'welcome', login: me.login, token: me.token, rooms, resumed: false });
  });
  s.on('chat', (b, ack) => {
    if (!me || b?.token !== me.token || b?.sender !== me.login) {
      if (typeof ack === 'function') ack({ v: 1, type: 'error', code: me ? 'bad_token' : 'not_logged_in', cid: b?.cid });
      return;
    }
    const room = typeof b.room === 'string' ? b.room : me.rooms[0];
    if (!me.rooms.includes(room)) {
      if (typeof ack === 'function') ack({ v: 1, type: 'error', code: 'not_in_room', cid: b.cid });
      return;
    }
    const id = (nextId.get(room) ?? 0) + 1;
    nextId.set(room, id);
    const m = { v: 1, type: 'message', id, ts: Date.now(), room, sender: me.login, message: String(b.message) };
    if (typeof b.cid === 'string') m.cid = b.cid;
    io.to(room).emit('message', m);
    if (typeof ack === 'function') ack({ ok: true });
  });
});

http.listen(port, host, () => console.log(`listening ${http.address().port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => io.close(() => process.exit(0)));
