/**
 * The Socket.IO contract between the realtime service and its clients: every event each side may emit, its
 * payload, the acknowledgement a client may ask for, and the one set of limits both the realtime service and
 * the api (REST, GraphQL) and the store enforce. The realtime server is a `Server<ClientToServerEvents,
 * ServerToClientEvents>`; clients (the web app, the load bench, the tests) use `Socket<ServerToClientEvents,
 * ClientToServerEvents>` from socket.io-client.
 *
 * The server still validates every payload at run time (a client is not bound by these types); refusals are an
 * `error` event `{ code, message }`, or a failed acknowledgement when the client passed one.
 */
import type { Message } from "./chat";

/**
 * Longest client-generated message id (`clientMsgId`), characters. The same id on a retry makes `message:send`
 * and `POST /api/rooms/:id/messages` idempotent; the store keeps it per (author, room).
 */
export const CLIENT_MSG_ID_MAX = 64;
/** The characters a `clientMsgId` may contain (a regular-expression class body): letters, digits, `_`, `.`, `:`, `-`. */
export const CLIENT_MSG_ID_CHARS = "A-Za-z0-9_.:-";
/** A whole valid `clientMsgId`: 1 to CLIENT_MSG_ID_MAX of CLIENT_MSG_ID_CHARS. */
export const CLIENT_MSG_ID = new RegExp(`^[${CLIENT_MSG_ID_CHARS}]{1,${CLIENT_MSG_ID_MAX}}$`);
/** The rule in words, for error messages. */
export const CLIENT_MSG_ID_RULE = `1 to ${CLIENT_MSG_ID_MAX} characters of letters, digits, _ . : -`;
/** Longest room or message id an event may carry (ids are UUIDs or numbers; longer is refused before any lookup). */
export const EVENT_ID_MAX = 128;
/** Longest access token `auth:refresh` accepts, characters. */
export const REFRESH_TOKEN_MAX = 4096;

/** Why an event was refused. */
export interface EventError {
  code: string;
  message: string;
}

/** `message:send` from a client. */
export interface SendPayload {
  roomId: string;
  /** 1 to MESSAGE_BODY_MAX Unicode code points, not only whitespace. */
  body: string;
  /** Client-generated, reused on retry (see CLIENT_MSG_ID). */
  clientMsgId: string;
}
/**
 * Answer to `message:send`: the stored message, or why not. A message saved whose notifications could not be
 * queued is answered `ok: false` with the `message`: retry with the same clientMsgId.
 */
export type SendAck = { ok: true; message: Message } | { ok: false; error: EventError; message?: Message };

export interface TypingPayload {
  roomId: string;
  isTyping: boolean;
}

export interface ReadPayload {
  roomId: string;
  messageId: string;
}
export type ReadAck = { ok: true } | { ok: false; error: EventError };

export interface RefreshPayload {
  /** A newer access token of the same user and session (POST /api/auth/refresh). */
  token: string;
}
/** `expiresAt`: the new expiry, seconds since the epoch. */
export type RefreshAck = { ok: true; expiresAt?: number } | { ok: false; error: EventError };

/** Events a client emits. */
export interface ClientToServerEvents {
  "message:send": (payload: SendPayload, ack?: (answer: SendAck) => void) => void;
  typing: (payload: TypingPayload) => void;
  read: (payload: ReadPayload, ack?: (answer: ReadAck) => void) => void;
  "auth:refresh": (payload: RefreshPayload, ack?: (answer: RefreshAck) => void) => void;
}

/** `typing` as other members of the room see it. */
export interface TypingEvent {
  roomId: string;
  userId: string;
  isTyping: boolean;
}
/** `read` as other members of the room see it (also published by the api). */
export interface ReadEvent {
  roomId: string;
  userId: string;
  messageId: string;
}
/** `presence`: a user's first socket connected, or the last one went away. */
export interface PresenceEvent {
  userId: string;
  status: "online" | "offline";
}

/** Events the server (realtime tasks, and the api through the Redis emitter) emits to clients. */
export interface ServerToClientEvents {
  "message:new": (message: Message) => void;
  typing: (event: TypingEvent) => void;
  read: (event: ReadEvent) => void;
  presence: (event: PresenceEvent) => void;
  /** A refused event (without an acknowledgement), or why the server is about to disconnect the socket. */
  error: (error: EventError) => void;
}

/** Names of the events a client may emit; the server refuses any other. */
export const CLIENT_EVENTS = ["message:send", "typing", "read", "auth:refresh"] as const satisfies readonly (keyof ClientToServerEvents)[];
