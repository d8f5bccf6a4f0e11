export { ChatClient, CHAT_DEST, LOGIN_DEST } from './ChatClient';
export type { ChatClientOptions, ChatEvents, MessageMeta, OutboxStatus, SendOptions } from './ChatClient';
export { stompjsTransport } from './transport';
export type { Frame, StompTransport, Subscription, TransportFactory, TransportOptions } from './transport';
export * from './types';
export { LOGIN_RE, ROOM_RE, MAX_ROOMS, validateLogin, parseRooms, utf8Length, randomId } from './validate';
