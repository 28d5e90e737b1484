/**
 * Chat data operations shared by the api and the realtime service, and delivery of a persisted message:
 * Socket.IO room `room:<roomId>` through the Redis emitter (reaches clients on every realtime task), then
 * push/offline jobs for members without a presence key.
 */
import type { Pool } from "pg";
import type { Emitter } from "@socket.io/redis-emitter";
import type { Presence } from "./presence";
import { pushJob, offlineJob, type JobProducer } from "./jobs";

export interface Message {
  id: string;
  roomId: string;
  authorId: string;
  body: string;
  clientMsgId: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
}

export interface Room {
  id: string;
  name: string;
  createdBy: string;
  createdAt: string;
}

export interface Member {
  userId: string;
  username: string;
  displayName: string;
  role: "owner" | "member";
  joinedAt: string;
  lastReadMessageId: string;
}

export type ChatErrorCode = "not_found" | "forbidden" | "conflict" | "bad_request";

/** A failure the caller caused; `statusCode` maps it to HTTP, `code` to socket error events. */
export class ChatError extends Error {
  readonly statusCode: number;
  constructor(readonly code: ChatErrorCode, message: string) {
    super(message);
    this.name = "ChatError";
    this.statusCode = { not_found: 404, forbidden: 403, conflict: 409, bad_request: 400 }[code];
  }
}

export const BODY_MAX = 4000;
export const CLIENT_MSG_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIGINT = /^[1-9]\d{0,18}$/;

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}
function isoOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : iso(v);
}

type Row = Record<string, unknown>;

export function toMessage(r: Row): Message {
  return {
    id: String(r.id),
    roomId: String(r.room_id),
    authorId: String(r.author_id),
    body: r.deleted_at ? "" : String(r.body),
    clientMsgId: String(r.client_msg_id),
    createdAt: iso(r.created_at),
    editedAt: isoOrNull(r.edited_at),
    deletedAt: isoOrNull(r.deleted_at),
  };
}

function toRoom(r: Row): Room {
  return { id: String(r.id), name: String(r.name), createdBy: String(r.created_by), createdAt: iso(r.created_at) };
}

const MESSAGE_COLS = "id, room_id, author_id, body, client_msg_id, created_at, edited_at, deleted_at";

function checkRoomId(roomId: string): void {
  if (!UUID.test(roomId)) throw new ChatError("not_found", `room ${JSON.stringify(roomId)} does not exist: room ids are UUIDs`);
}
function checkMessageId(messageId: string): void {
  if (!BIGINT.test(messageId)) throw new ChatError("not_found", `message ${JSON.stringify(messageId)} does not exist: message ids are positive integers`);
}
function checkBody(body: string): void {
  if (typeof body !== "string" || body.trim() === "") throw new ChatError("bad_request", "body must be a non-empty string");
  if (body.length > BODY_MAX) throw new ChatError("bad_request", `body must be at most ${BODY_MAX} characters (got ${body.length})`);
}

export class ChatStore {
  constructor(private readonly pool: Pool) {}

  async createRoom(userId: string, name: string): Promise<Room> {
    const trimmed = typeof name === "string" ? name.trim() : "";
    if (trimmed.length < 1 || trimmed.length > 100) throw new ChatError("bad_request", "name must be 1 to 100 characters");
    const { rows } = await this.pool.query(
      `WITH r AS (INSERT INTO rooms (name, created_by) VALUES ($1, $2) RETURNING *),
            m AS (INSERT INTO room_members (room_id, user_id, role) SELECT id, $2, 'owner' FROM r)
       SELECT * FROM r`,
      [trimmed, userId],
    );
    return toRoom(rows[0]);
  }

  async getRoom(roomId: string): Promise<Room | null> {
    if (!UUID.test(roomId)) return null;
    const { rows } = await this.pool.query("SELECT * FROM rooms WHERE id = $1", [roomId]);
    return rows[0] ? toRoom(rows[0]) : null;
  }

  /** Rooms the user belongs to, with unread counts. */
  async listRooms(userId: string): Promise<(Room & { role: string; unread: number; lastReadMessageId: string })[]> {
    const { rows } = await this.pool.query(
      `SELECT r.*, m.role, m.last_read_message_id,
              (SELECT count(*) FROM messages x
                WHERE x.room_id = r.id AND x.id > m.last_read_message_id AND x.author_id <> $1 AND x.deleted_at IS NULL)::int AS unread
         FROM room_members m JOIN rooms r ON r.id = m.room_id
        WHERE m.user_id = $1
        ORDER BY r.created_at, r.id`,
      [userId],
    );
    return rows.map((r) => ({ ...toRoom(r), role: String(r.role), unread: Number(r.unread), lastReadMessageId: String(r.last_read_message_id) }));
  }

  async roomIdsOf(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ room_id: string }>("SELECT room_id FROM room_members WHERE user_id = $1", [userId]);
    return rows.map((r) => r.room_id);
  }

  async isMember(userId: string, roomId: string): Promise<boolean> {
    if (!UUID.test(roomId)) return false;
    const { rowCount } = await this.pool.query("SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2", [roomId, userId]);
    return (rowCount ?? 0) > 0;
  }

  /** Throws not_found for an unknown room and forbidden for a room the user is not in. */
  async requireMember(userId: string, roomId: string): Promise<void> {
    checkRoomId(roomId);
    const { rows } = await this.pool.query<{ member: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2) AS member FROM rooms WHERE id = $1",
      [roomId, userId],
    );
    if (rows.length === 0) throw new ChatError("not_found", `room ${roomId} does not exist`);
    if (!rows[0].member) throw new ChatError("forbidden", `you are not a member of room ${roomId}: join it first`);
  }

  /** Joins the room (idempotent). */
  async joinRoom(userId: string, roomId: string): Promise<void> {
    checkRoomId(roomId);
    const { rowCount } = await this.pool.query(
      `INSERT INTO room_members (room_id, user_id, last_read_message_id)
       SELECT id, $2, COALESCE((SELECT max(id) FROM messages WHERE room_id = $1), 0) FROM rooms WHERE id = $1
       ON CONFLICT (room_id, user_id) DO UPDATE SET role = room_members.role`,
      [roomId, userId],
    );
    if (!rowCount) throw new ChatError("not_found", `room ${roomId} does not exist`);
  }

  async leaveRoom(userId: string, roomId: string): Promise<void> {
    await this.requireMember(userId, roomId);
    await this.pool.query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2", [roomId, userId]);
  }

  async members(userId: string, roomId: string): Promise<Member[]> {
    await this.requireMember(userId, roomId);
    const { rows } = await this.pool.query(
      `SELECT m.user_id, u.username, u.display_name, m.role, m.joined_at, m.last_read_message_id
         FROM room_members m JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 ORDER BY m.joined_at, u.username`,
      [roomId],
    );
    return rows.map((r) => ({
      userId: String(r.user_id),
      username: String(r.username),
      displayName: String(r.display_name),
      role: r.role as Member["role"],
      joinedAt: iso(r.joined_at),
      lastReadMessageId: String(r.last_read_message_id),
    }));
  }

  /** User ids of a room's members (no membership check; for delivery). */
  async memberIds(roomId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>("SELECT user_id FROM room_members WHERE room_id = $1", [roomId]);
    return rows.map((r) => r.user_id);
  }

  /**
   * Persists a message. The same (author, room, clientMsgId) returns the existing row with `created: false`,
   * so a client retrying after a lost response never creates a duplicate.
   */
  async postMessage(input: { userId: string; roomId: string; body: string; clientMsgId: string }): Promise<{ message: Message; created: boolean }> {
    const { userId, roomId, body, clientMsgId } = input;
    checkRoomId(roomId);
    checkBody(body);
    if (typeof clientMsgId !== "string" || !CLIENT_MSG_ID.test(clientMsgId)) {
      throw new ChatError("bad_request", "clientMsgId must be 1 to 64 characters of letters, digits, _ . : -");
    }
    const { rows } = await this.pool.query(
      `WITH ins AS (
         INSERT INTO messages (room_id, author_id, body, client_msg_id)
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2)
         ON CONFLICT (author_id, room_id, client_msg_id) DO NOTHING
         RETURNING ${MESSAGE_COLS}),
       upd AS (
         UPDATE room_members SET last_read_message_id = GREATEST(last_read_message_id, (SELECT id FROM ins))
          WHERE room_id = $1 AND user_id = $2 AND EXISTS (SELECT 1 FROM ins))
       SELECT * FROM ins`,
      [roomId, userId, body, clientMsgId],
    );
    if (rows[0]) return { message: toMessage(rows[0]), created: true };
    // A replay is answered only while the author is still a member: after leaving, an old clientMsgId is
    // refused like a new message, so it cannot be used to learn about (or re-join) the room.
    const existing = await this.pool.query(
      `SELECT ${MESSAGE_COLS} FROM messages
        WHERE author_id = $1 AND room_id = $2 AND client_msg_id = $3
          AND EXISTS (SELECT 1 FROM room_members WHERE room_id = $2 AND user_id = $1)`,
      [userId, roomId, clientMsgId],
    );
    if (existing.rows[0]) return { message: toMessage(existing.rows[0]), created: false };
    await this.requireMember(userId, roomId);
    throw new Error("message insert returned no row"); // unreachable unless the membership changed mid-call
  }

  private async ownMessage(userId: string, messageId: string): Promise<Row> {
    checkMessageId(messageId);
    const { rows } = await this.pool.query(`SELECT ${MESSAGE_COLS} FROM messages WHERE id = $1`, [messageId]);
    const row = rows[0];
    if (!row || row.deleted_at) throw new ChatError("not_found", `message ${messageId} does not exist`);
    if (row.author_id !== userId) throw new ChatError("forbidden", "you can only change your own messages");
    return row;
  }

  async editMessage(userId: string, messageId: string, body: string): Promise<Message> {
    checkBody(body);
    await this.ownMessage(userId, messageId);
    const { rows } = await this.pool.query(
      `UPDATE messages SET body = $3, edited_at = now() WHERE id = $1 AND author_id = $2 AND deleted_at IS NULL RETURNING ${MESSAGE_COLS}`,
      [messageId, userId, body],
    );
    if (!rows[0]) throw new ChatError("not_found", `message ${messageId} does not exist`);
    return toMessage(rows[0]);
  }

  /** Soft delete: the row stays (ids and cursors remain stable), its body is erased. */
  async deleteMessage(userId: string, messageId: string): Promise<Message> {
    await this.ownMessage(userId, messageId);
    const { rows } = await this.pool.query(
      `UPDATE messages SET body = '', deleted_at = now() WHERE id = $1 AND author_id = $2 AND deleted_at IS NULL RETURNING ${MESSAGE_COLS}`,
      [messageId, userId],
    );
    if (!rows[0]) throw new ChatError("not_found", `message ${messageId} does not exist`);
    return toMessage(rows[0]);
  }

  /**
   * History, newest first. `before` is the cursor returned as `nextCursor` by the previous page (a message
   * id); `nextCursor` is null on the last page. Deleted messages are included with an empty body so clients
   * can remove them.
   */
  async history(userId: string, roomId: string, opts: { before?: string; limit?: number } = {}): Promise<{ messages: Message[]; nextCursor: string | null }> {
    await this.requireMember(userId, roomId);
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
    if (opts.before !== undefined && !BIGINT.test(opts.before)) {
      throw new ChatError("bad_request", "before must be the nextCursor of a previous page (a message id)");
    }
    const { rows } = await this.pool.query(
      `SELECT ${MESSAGE_COLS} FROM messages WHERE room_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3`,
      [roomId, opts.before ?? null, limit + 1],
    );
    const page = rows.slice(0, limit).map(toMessage);
    return { messages: page, nextCursor: rows.length > limit ? page[page.length - 1].id : null };
  }

  /** Moves the user's read marker forward to `messageId` (never back). */
  async markRead(input: { userId: string; roomId: string; messageId: string }): Promise<void> {
    await this.requireMember(input.userId, input.roomId);
    checkMessageId(input.messageId);
    const { rowCount } = await this.pool.query(
      `UPDATE room_members SET last_read_message_id = GREATEST(last_read_message_id, $3::bigint)
        WHERE room_id = $1 AND user_id = $2 AND EXISTS (SELECT 1 FROM messages WHERE id = $3::bigint AND room_id = $1)`,
      [input.roomId, input.userId, input.messageId],
    );
    if (!rowCount) throw new ChatError("not_found", `message ${input.messageId} is not in room ${input.roomId}`);
  }

  /** Unread messages per room the user belongs to (others' messages after the read marker, not deleted). */
  async unreadCounts(userId: string): Promise<{ roomId: string; unread: number; lastReadMessageId: string }[]> {
    const rooms = await this.listRooms(userId);
    return rooms.map((r) => ({ roomId: r.id, unread: r.unread, lastReadMessageId: r.lastReadMessageId }));
  }

  /** Messages of the rooms created at or after `since`, oldest first (realtime catch-up after a reconnect). */
  async messagesSince(roomIds: readonly string[], since: Date, limit: number): Promise<Message[]> {
    const ids = roomIds.filter((id) => UUID.test(id));
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query(
      `SELECT ${MESSAGE_COLS} FROM messages WHERE room_id = ANY($1::uuid[]) AND created_at >= $2 ORDER BY id ASC LIMIT $3`,
      [ids, since, limit],
    );
    return rows.map(toMessage);
  }
}

export type MessageEvent = "message:new" | "message:updated" | "message:deleted";

export interface DeliveryOptions {
  store: ChatStore;
  emitter: Emitter;
  presence: Presence;
  producer?: JobProducer;
  pushQueueUrl?: string;
  offlineQueueUrl?: string;
}

export class Delivery {
  constructor(private readonly opts: DeliveryOptions) {}

  /**
   * Keeps open sockets in step with a membership change: every socket of `user:<userId>`, on every realtime
   * task, joins or leaves `room:<roomId>` (the Redis adapter carries the request). Call it after the change
   * is committed; a socket that connects later reads its rooms from the database.
   */
  membershipChanged(userId: string, roomId: string, member: boolean): void {
    const sockets = this.opts.emitter.in(`user:${userId}`);
    if (member) sockets.socketsJoin(`room:${roomId}`);
    else sockets.socketsLeave(`room:${roomId}`);
  }

  /** Broadcasts the event to `room:<roomId>` on every realtime task. */
  broadcast(event: MessageEvent, message: Message): void {
    this.opts.emitter.to(`room:${message.roomId}`).emit(event, message);
  }

  /**
   * Delivers a newly persisted message: broadcast, then push (and offline digest) jobs for the members other
   * than the author who have no presence key. Returns the user ids that were queued.
   */
  async deliver(message: Message, correlationId?: string): Promise<string[]> {
    this.broadcast("message:new", message);
    return this.notifyOffline(message, message.authorId, correlationId);
  }

  /** `correlationId` (the caller's request id) is carried in the jobs for the workers' logs. */
  async notifyOffline(message: Message, senderId: string, correlationId?: string): Promise<string[]> {
    const { producer, pushQueueUrl, offlineQueueUrl } = this.opts;
    if (!producer || (!pushQueueUrl && !offlineQueueUrl)) return [];
    const members = (await this.opts.store.memberIds(message.roomId)).filter((id) => id !== senderId);
    const online = await this.opts.presence.onlineAmong(members);
    const offline = members.filter((id) => !online.has(id));
    if (offline.length === 0) return [];
    await Promise.all([
      pushQueueUrl ? producer.send(pushQueueUrl, offline.map((u) => pushJob(message, u, correlationId))) : undefined,
      offlineQueueUrl ? producer.send(offlineQueueUrl, offline.map((u) => offlineJob(message, u, correlationId))) : undefined,
    ]);
    return offline;
  }
}
