/** Wire protocol v1 types (see docs/protocol.md). */

/** What `/config.json` (served by chat-relayd) tells the browser. */
export interface RelayConfig {
  /** web-stomp endpoint, e.g. ws://127.0.0.1:15674/ws */
  wsUrl: string;
  /** STOMP CONNECT login/passcode (the broker's browser user, e.g. chat-web) */
  login: string;
  passcode: string;
  /** broker user of the relay: only frames whose `user-id` header equals it are trusted */
  relayUser: string;
  defaultRoom: string;
  /** max size in bytes (UTF-8) of a chat message text */
  maxMessageSize: number;
  /** relay keep-alive timeout in ms; the client pings every keepaliveMs/3 */
  keepaliveMs: number;
  /** the relay's login queue (relay.login-queue, default "login") */
  loginQueue: string;
  /** the relay's chat queue (relay.chat-queue, default "chat") */
  chatQueue: string;
}

export interface ChatMessage {
  v?: number;
  type: 'message';
  id: number;
  ts: number;
  room: string;
  sender: string;
  message: string;
  cid?: string;
}

/** Several room messages in one frame: only to a login that sent `"batch": true`. */
export interface BatchEvent {
  v?: number;
  type: 'batch';
  room: string;
  /** each exactly the `message` event it stands for, in order */
  messages: ChatMessage[];
}

export interface DirectMessage {
  v?: number;
  type: 'direct';
  id: number;
  ts: number;
  sender: string;
  to: string;
  message: string;
  cid?: string;
}

export interface Welcome {
  v?: number;
  type: 'welcome';
  login: string;
  token: string;
  rooms: string[];
  users: Record<string, string[]>;
  history: Record<string, ChatMessage[]>;
  resumed: boolean;
}

export interface JoinEvent {
  v?: number;
  type: 'join';
  room: string;
  login: string;
}

export interface LeaveEvent {
  v?: number;
  type: 'leave';
  room: string;
  login: string;
  reason?: 'logout' | 'timeout' | 'replaced' | string;
}

export interface RelayError {
  v?: number;
  type: 'error';
  code: string;
  reason: string;
  cid?: string;
}

export type RelayBody = Welcome | ChatMessage | BatchEvent | DirectMessage | JoinEvent | LeaveEvent | RelayError;

export type ConnectionState = 'offline' | 'connecting' | 'online' | 'reconnecting';

/** Errors raised by the client itself (not by the relay) use codes starting with `client_`. */
export interface ClientError {
  code: string;
  reason: string;
  cid?: string;
}
