/**
 * What the realtime server needs from the rest of the system. `main.ts` wires these to the shared library
 * (Postgres, Redis, auth, SQS); keeping them behind one interface keeps the server free of connection set-up.
 */

/** The identity behind one socket, from its verified access token. */
export interface Principal {
  userId: string;
  sessionId: string;
  /** Token issue time, epoch seconds (compared with `auth:revoked-before:<userId>`). */
  issuedAt: number;
  /** Token expiry, epoch seconds: the socket is disconnected then unless `auth:refresh` brought a newer token. */
  expiresAt?: number;
}

/** A persisted chat message as clients receive it (the shared store's row shape). */
import type { Message } from "@chat/shared";
export type ChatMessage = Message;

/** An error the client may see: `code` is stable, `message` says what to fix. */
export class ClientError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = "ClientError";
  }
}

export interface RealtimeDeps {
  /** Verifies an access token (signature, expiry, revocation); throws with a client-readable message. */
  authenticate(token: string): Promise<Principal>;
  /** For each principal, whether its session or user has been revoked since its token was issued. */
  revokedAmong(principals: Principal[]): Promise<boolean[]>;
  /** The rooms the user belongs to, with each room's member count. */
  roomsOf(userId: string): Promise<Array<{ roomId: string; members: number }>>;
  /**
   * Counts one message against the user's send budget, shared with the api and every realtime task
   * (`ratelimit:send:<userId>`). Resolves with the refusal when the budget is spent.
   */
  takeSend(userId: string): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number; message: string }>;
  /** Persists a message idempotently by (sender, clientMsgId); `created` is false for a retry. */
  postMessage(input: { userId: string; roomId: string; body: string; clientMsgId: string }): Promise<{ message: ChatMessage; created: boolean }>;
  /** Records that the user has read the room up to `messageId`. */
  markRead(input: { userId: string; roomId: string; messageId: string }): Promise<void>;
  /** Enqueues push jobs for the room's members who are offline (not the sender). */
  notifyOffline(message: ChatMessage, senderId: string): Promise<void>;
  /** Sets / refreshes `presence:<userId>` for each user. */
  markOnline(userIds: string[]): Promise<void>;
  /** Clears `presence:<userId>`. */
  markOffline(userId: string): Promise<void>;
  /** Messages of the given rooms created at or after `since`, oldest first, at most `limit`. */
  messagesSince(roomIds: string[], since: Date, limit: number): Promise<ChatMessage[]>;
  /** Throws when a dependency (DB, Redis) is not usable; the message names it. */
  ready(): Promise<void>;
}
