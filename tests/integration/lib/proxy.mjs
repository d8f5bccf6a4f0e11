// A TCP proxy in front of the broker, to simulate "broker down" / "connection lost" without touching
// the shared broker node.
import net from 'node:net';

export class TcpProxy {
  constructor(listenPort, targetPort, targetHost = '127.0.0.1') {
    this.listenPort = listenPort;
    this.targetPort = targetPort;
    this.targetHost = targetHost;
    this.server = null;
    this.sockets = new Set();
    this.accepted = 0;
  }

  start() {
    return new Promise((resolve, reject) => {
      this.server = net.createServer((client) => {
        this.accepted++;
        const upstream = net.connect(this.targetPort, this.targetHost);
        this.sockets.add(client);
        this.sockets.add(upstream);
        const done = () => { client.destroy(); upstream.destroy(); this.sockets.delete(client); this.sockets.delete(upstream); };
        client.on('error', done).on('close', done);
        upstream.on('error', done).on('close', done);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      this.server.on('error', reject);
      this.server.listen(this.listenPort, '127.0.0.1', resolve);
    });
  }

  /** Cut every open connection (the proxy keeps listening). */
  cut() { for (const s of this.sockets) s.destroy(); this.sockets.clear(); }

  /** Stop listening and cut every connection. */
  stop() {
    return new Promise((resolve) => {
      this.cut();
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server = null;
    });
  }
}
