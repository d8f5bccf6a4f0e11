import { Client, type IFrame, type IMessage } from '@stomp/stompjs';

/** A received STOMP frame (MESSAGE, RECEIPT or ERROR). */
export interface Frame {
  headers: Record<string, string>;
  body: string;
}

export interface TransportOptions {
  brokerURL: string;
  login: string;
  passcode: string;
  heartbeatMs: number;
  reconnectDelayMs: number;
  /** called after every (re)connect once the STOMP CONNECTED frame arrived */
  onConnect: () => void;
  /** a STOMP ERROR frame (the broker closes the connection after it) */
  onStompError: (frame: Frame) => void;
  /** the WebSocket closed (the transport reconnects by itself until deactivated) */
  onClose: () => void;
}

export interface Subscription {
  unsubscribe(): void;
}

/**
 * The part of a STOMP client ChatClient uses. The default implementation wraps
 * @stomp/stompjs; tests inject a fake.
 */
export interface StompTransport {
  readonly connected: boolean;
  activate(): void;
  deactivate(): Promise<void>;
  /** throws when not connected */
  publish(destination: string, body: string, headers?: Record<string, string>): void;
  /** throws when not connected */
  subscribe(destination: string, onMessage: (frame: Frame) => void, headers?: Record<string, string>): Subscription;
  /** throws when not connected; callback fires when the RECEIPT with this id arrives on the current connection */
  watchForReceipt(receiptId: string, callback: (frame: Frame) => void): void;
}

export type TransportFactory = (opts: TransportOptions) => StompTransport;

function toFrame(f: IFrame | IMessage): Frame {
  return { headers: { ...f.headers }, body: f.body };
}

/** Transport over @stomp/stompjs (STOMP 1.2 over WebSocket). */
export const stompjsTransport: TransportFactory = (opts) => {
  const client = new Client({
    brokerURL: opts.brokerURL,
    connectHeaders: { login: opts.login, passcode: opts.passcode },
    heartbeatIncoming: opts.heartbeatMs,
    heartbeatOutgoing: opts.heartbeatMs,
    reconnectDelay: opts.reconnectDelayMs,
    onConnect: () => opts.onConnect(),
    onStompError: (f) => opts.onStompError(toFrame(f)),
    onWebSocketClose: () => opts.onClose(),
  });
  return {
    get connected() {
      return client.connected;
    },
    activate: () => client.activate(),
    deactivate: () => client.deactivate(),
    publish: (destination, body, headers) => client.publish({ destination, body, headers }),
    subscribe: (destination, onMessage, headers) => client.subscribe(destination, (m) => onMessage(toFrame(m)), headers),
    watchForReceipt: (id, cb) => client.watchForReceipt(id, (f) => cb(toFrame(f))),
  };
};
