/**
 * Chat data operations shared by the api and the realtime service, and delivery of a persisted message:
 * Socket.IO room `room:<roomId>` through the Redis emitter (reaches clients on every realtime task), then
 * push/offline jobs for members without a presence key.
 */
import type { Pool } from "pg";
import type { Emitter } from "@socket.io/redis-emitter";
import type { Presence } from "./presence";
import { pushJob, offlineJob, type JobProducer } from "./jobs";
import { withTransaction } from "./db";
import { CLIENT_MSG_ID, CLIENT_MSG_ID_RULE } from "./socket-events";

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

export type RoomVisibility = "public" | "private";
export type RoomRole = "owner" | "admin" | "member";
export const ROOM_VISIBILITIES: readonly RoomVisibility[] = ["public", "private"];

export interface Room {
  id: string;
  name: string;
  /** public: anyone signed in may join; private: only users invited by an owner or admin. */
  visibility: RoomVisibility;
  createdBy: string;
  createdAt: string;
}

export interface Member {
  userId: string;
  username: string;
  displayName: string;
  role: RoomRole;
  joinedAt: string;
  lastReadMessageId: string;
}

/**
 * `not_member` is answered over HTTP exactly like `not_found` (404, same message), so an outsider cannot tell
 * which room and message ids exist; sockets keep the distinct code.
 */
export type ChatErrorCode = "not_found" | "not_member" | "forbidden" | "conflict" | "bad_request";

/** A failure the caller caused; `statusCode` maps it to HTTP, `code` to socket error events. */
export class ChatError extends Error {
  readonly statusCode: number;
  constructor(readonly code: ChatErrorCode, message: string) {
    super(message);
    this.name = "ChatError";
    this.statusCode = { not_found: 404, not_member: 404, forbidden: 403, conflict: 409, bad_request: 400 }[code];
  }
}

/**
 * Longest message body, in Unicode code points: what JSON Schema's maxLength (the api's validation),
 * `codePoints` (store, realtime) and PostgreSQL's char_length (the messages_body_length constraint) count.
 */
export const MESSAGE_BODY_MAX = 4000;
/** @deprecated the same limit as MESSAGE_BODY_MAX. */
export const BODY_MAX = MESSAGE_BODY_MAX;
export const ROOM_NAME_MAX = 100;
export const DISPLAY_NAME_MAX = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIGINT = /^[1-9]\d{0,18}$/;
/** PostgreSQL's bigint maximum (2^63 - 1): message ids and cursors above it cannot exist. */
const BIGINT_MAX = 9223372036854775807n;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Length in Unicode code points (a surrogate pair is one). */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Whether `v` is a message id PostgreSQL can hold: a positive integer up to 2^63 - 1, in decimal. */
export function isMessageId(v: unknown): v is string {
  return typeof v === "string" && BIGINT.test(v) && BigInt(v) <= BIGINT_MAX;
}

/**
 * Why `value` cannot be stored as the text field `field`, or null when it can: NUL characters (PostgreSQL text
 * cannot hold them) and unpaired surrogates (not Unicode; they would be replaced silently) are refused, and
 * the length (after trimming, in code points) must be within [min, max].
 */
export function textProblem(field: string, value: unknown, min: number, max: number, opts: { trim?: boolean } = {}): string | null {
  if (typeof value !== "string") return `${field} must be a string`;
  if (value.includes("\u0000")) return `${field} must not contain NUL characters (U+0000): remove them`;
  if (LONE_SURROGATE.test(value)) return `${field} is not valid Unicode (it has an unpaired surrogate): send well-formed text`;
  const n = codePoints(opts.trim === false ? value : value.trim());
  if (n < min || n > max) return `${field} must be ${min} to ${max} characters (Unicode code points; got ${n})`;
  return null;
}

/** Room ids are UUIDs; clients may send them in upper case. One spelling everywhere (database, socket rooms). */
export function normaliseRoomId(roomId: string): string {
  return typeof roomId === "string" ? roomId.toLowerCase() : roomId;
}

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
  return {
    id: String(r.id), name: String(r.name), visibility: (r.visibility ?? "public") as RoomVisibility,
    createdBy: String(r.created_by), createdAt: iso(r.created_at),
  };
}

const MESSAGE_COLS = "id, room_id, author_id, body, client_msg_id, created_at, edited_at, deleted_at";

/** One answer for an unknown room and a room the caller is not in, so room ids cannot be probed. */
const noRoom = (roomId: string, code: "not_found" | "not_member" = "not_found") =>
  new ChatError(code, `room ${roomId} does not exist or you are not a member`);
const noMessage = (messageId: string, code: "not_found" | "not_member" = "not_found") =>
  new ChatError(code, `message ${messageId} does not exist or is not in a room you are a member of`);

function checkRoomId(roomId: string): void {
  if (typeof roomId !== "string" || !UUID.test(roomId)) throw new ChatError("not_found", `room ${JSON.stringify(roomId)} does not exist: room ids are UUIDs`);
}
function checkMessageId(messageId: string, field = "messageId"): void {
  if (!isMessageId(messageId)) {
    throw new ChatError("bad_request", `${field} must be a message id: a positive integer up to 9223372036854775807 (got ${JSON.stringify(String(messageId).slice(0, 40))})`);
  }
}
function checkBody(body: string): void {
  if (typeof body !== "string" || body.trim() === "") throw new ChatError("bad_request", "body must be a non-empty string");
  // Stored as sent (not trimmed), so counted as sent: the database constraint sees the same string.
  const problem = textProblem("body", body, 1, MESSAGE_BODY_MAX, { trim: false });
  if (problem) throw new ChatError("bad_request", problem);
}

/** One message to post: the author, the room, the text, and the client's id for the send (reused on retry). */
export interface PostInput {
  userId: string;
  roomId: string;
  body: string;
  clientMsgId: string;
}

/** Checks a send's fields; returns the room id as stored. */
function checkPost(input: PostInput): string {
  checkRoomId(input.roomId);
  checkBody(input.body);
  if (typeof input.clientMsgId !== "string" || !CLIENT_MSG_ID.test(input.clientMsgId)) {
    throw new ChatError("bad_request", `clientMsgId must be ${CLIENT_MSG_ID_RULE}`);
  }
  return normaliseRoomId(input.roomId);
}

export class ChatStore {
  constructor(private readonly pool: Pool) {}

  async createRoom(userId: string, name: string, visibility: RoomVisibility = "public"): Promise<Room> {
    const problem = textProblem("name", name, 1, ROOM_NAME_MAX);
    if (problem) throw new ChatError("bad_request", problem);
    if (!ROOM_VISIBILITIES.includes(visibility)) throw new ChatError("bad_request", `visibility must be one of ${ROOM_VISIBILITIES.join(", ")}`);
    const { rows } = await this.pool.query(
      `WITH r AS (INSERT INTO rooms (name, created_by, visibility) VALUES ($1, $2, $3) RETURNING *),
            m AS (INSERT INTO room_members (room_id, user_id, role) SELECT id, $2, 'owner' FROM r)
       SELECT * FROM r`,
      [name.trim(), userId, visibility],
    );
    return toRoom(rows[0]);
  }

  async getRoom(roomId: string): Promise<Room | null> {
    if (typeof roomId !== "string" || !UUID.test(roomId)) return null;
    const { rows } = await this.pool.query("SELECT * FROM rooms WHERE id = $1", [normaliseRoomId(roomId)]);
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
    if (typeof roomId !== "string" || !UUID.test(roomId)) return false;
    const { rowCount } = await this.pool.query("SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2", [normaliseRoomId(roomId), userId]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * The user's role in the room. An unknown room (not_found) and a room the user is not in (not_member) get
   * the same 404 answer over HTTP.
   */
  async requireMember(userId: string, roomId: string): Promise<RoomRole> {
    checkRoomId(roomId);
    const { rows } = await this.pool.query<{ role: RoomRole | null }>(
      "SELECT (SELECT role FROM room_members WHERE room_id = r.id AND user_id = $2) AS role FROM rooms r WHERE r.id = $1",
      [normaliseRoomId(roomId), userId],
    );
    if (rows.length === 0) throw noRoom(roomId);
    if (!rows[0].role) throw noRoom(roomId, "not_member");
    return rows[0].role;
  }

  /**
   * Joins the room (idempotent for a member). A public room admits anyone not removed from it; a private room
   * (and a public one the user was removed from) only a user with an invitation, which the join uses up.
   */
  async joinRoom(userId: string, roomId: string): Promise<void> {
    checkRoomId(roomId);
    const id = normaliseRoomId(roomId);
    await withTransaction(this.pool, async (db) => {
      const { rows } = await db.query<{ visibility: RoomVisibility; member: boolean; invited: boolean; banned: boolean }>(
        `SELECT r.visibility,
                EXISTS (SELECT 1 FROM room_members WHERE room_id = r.id AND user_id = $2) AS member,
                EXISTS (SELECT 1 FROM room_invitations WHERE room_id = r.id AND user_id = $2) AS invited,
                EXISTS (SELECT 1 FROM room_bans WHERE room_id = r.id AND user_id = $2) AS banned
           FROM rooms r WHERE r.id = $1 FOR SHARE`,
        [id, userId],
      );
      const r = rows[0];
      if (!r) throw noRoom(roomId);
      if (r.member) return;
      // A private room is not revealed to a user without an invitation.
      if (r.visibility === "private" && !r.invited) throw noRoom(roomId, "not_member");
      if (r.banned && !r.invited) throw new ChatError("forbidden", `you were removed from room ${id}: an owner or admin must invite you again`);
      await db.query(
        `INSERT INTO room_members (room_id, user_id, last_read_message_id)
         VALUES ($1, $2, COALESCE((SELECT max(id) FROM messages WHERE room_id = $1), 0)) ON CONFLICT (room_id, user_id) DO NOTHING`,
        [id, userId],
      );
      await db.query("DELETE FROM room_invitations WHERE room_id = $1 AND user_id = $2", [id, userId]);
      await db.query("DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2", [id, userId]);
    });
  }

  async leaveRoom(userId: string, roomId: string): Promise<void> {
    await this.requireMember(userId, roomId);
    await this.pool.query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2", [normaliseRoomId(roomId), userId]);
  }

  /** Owners and admins invite; the invited user joins with joinRoom. Inviting a member is a no-op. */
  async invite(actorId: string, roomId: string, targetId: string): Promise<void> {
    const role = await this.requireMember(actorId, roomId);
    if (role === "member") throw new ChatError("forbidden", "only the room's owners and admins can invite");
    if (typeof targetId !== "string" || !UUID.test(targetId)) throw new ChatError("not_found", `user ${JSON.stringify(targetId)} does not exist`);
    const { rowCount } = await this.pool.query(
      `INSERT INTO room_invitations (room_id, user_id, invited_by) SELECT $1, id, $3 FROM users WHERE id = $2
       ON CONFLICT (room_id, user_id) DO UPDATE SET invited_by = EXCLUDED.invited_by, created_at = now()`,
      [normaliseRoomId(roomId), targetId, actorId],
    );
    if (!rowCount) throw new ChatError("not_found", `user ${targetId} does not exist`);
  }

  /**
   * Removes a member: the owner removes admins and members, an admin removes members; nobody removes the owner
   * (members leave with leaveRoom). The removed user cannot join again without a new invitation.
   */
  async removeMember(actorId: string, roomId: string, targetId: string): Promise<void> {
    const role = await this.requireMember(actorId, roomId);
    const id = normaliseRoomId(roomId);
    if (role === "member") throw new ChatError("forbidden", "only the room's owners and admins can remove members");
    if (targetId === actorId) throw new ChatError("bad_request", "userId is you: leave the room with POST /api/rooms/:roomId/leave");
    const target = typeof targetId === "string" && UUID.test(targetId)
      ? (await this.pool.query<{ role: RoomRole }>("SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2", [id, targetId])).rows[0]
      : undefined;
    if (!target) throw new ChatError("not_found", `user ${targetId} is not a member of room ${id}`);
    if (target.role === "owner" || (target.role === "admin" && role !== "owner")) {
      throw new ChatError("forbidden", `only the owner can remove an admin, and the owner cannot be removed`);
    }
    await withTransaction(this.pool, async (db) => {
      await db.query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2", [id, targetId]);
      await db.query("DELETE FROM room_invitations WHERE room_id = $1 AND user_id = $2", [id, targetId]);
      await db.query(
        "INSERT INTO room_bans (room_id, user_id, banned_by) VALUES ($1, $2, $3) ON CONFLICT (room_id, user_id) DO NOTHING",
        [id, targetId, actorId],
      );
    });
  }

  /** The owner makes a member an admin or an admin a member. */
  async setRole(actorId: string, roomId: string, targetId: string, newRole: RoomRole): Promise<void> {
    const role = await this.requireMember(actorId, roomId);
    if (role !== "owner") throw new ChatError("forbidden", "only the room's owner can change roles");
    if (newRole !== "admin" && newRole !== "member") throw new ChatError("bad_request", "role must be admin or member");
    const { rowCount } = typeof targetId === "string" && UUID.test(targetId)
      ? await this.pool.query("UPDATE room_members SET role = $3 WHERE room_id = $1 AND user_id = $2 AND role <> 'owner'", [normaliseRoomId(roomId), targetId, newRole])
      : { rowCount: 0 };
    if (!rowCount) throw new ChatError("not_found", `user ${targetId} is not a member (other than the owner) of room ${normaliseRoomId(roomId)}`);
  }

  async members(userId: string, roomId: string): Promise<Member[]> {
    await this.requireMember(userId, roomId);
    const { rows } = await this.pool.query(
      `SELECT m.user_id, u.username, u.display_name, m.role, m.joined_at, m.last_read_message_id
         FROM room_members m JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 ORDER BY m.joined_at, u.username`,
      [normaliseRoomId(roomId)],
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
    const { rows } = await this.pool.query<{ user_id: string }>("SELECT user_id FROM room_members WHERE room_id = $1", [normaliseRoomId(roomId)]);
    return rows.map((r) => r.user_id);
  }

  /**
   * Persists a message. The same (author, room, clientMsgId) returns the existing row with `created: false`,
   * so a client retrying after a lost response never creates a duplicate.
   */
  async postMessage(input: PostInput): Promise<{ message: Message; created: boolean }> {
    const { userId, body, clientMsgId } = input;
    const roomId = checkPost(input);
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

  /**
   * Several sends in one statement and one commit: what `postMessage` does for each input, with each input's
   * own outcome (a rejection for an invalid input or a non-member, never one for the whole batch). New rows
   * get ids in input order. Inputs the insert did not take (a replay, a refusal) and every input of a batch
   * whose statement failed go through `postMessage` one by one, so a batch never answers differently from
   * single sends. A batch of one takes `postMessage`'s single-row statement.
   */
  async postMessages(inputs: readonly PostInput[]): Promise<Array<PromiseSettledResult<{ message: Message; created: boolean }>>> {
    if (inputs.length === 1) return Promise.allSettled([this.postMessage(inputs[0])]);
    const out: Array<PromiseSettledResult<{ message: Message; created: boolean }> | undefined> = new Array(inputs.length);
    const valid: number[] = [];
    const roomIds: string[] = [];
    inputs.forEach((input, i) => {
      try {
        roomIds[i] = checkPost(input);
        valid.push(i);
      } catch (reason) {
        out[i] = { status: "rejected", reason };
      }
    });
    if (valid.length > 0) {
      let rows: Row[] = [];
      try {
        ({ rows } = await this.pool.query(
          `WITH input AS (
             SELECT * FROM unnest($1::int[], $2::uuid[], $3::uuid[], $4::text[], $5::text[]) AS t(ord, room_id, author_id, body, client_msg_id)),
           ins AS (
             INSERT INTO messages (room_id, author_id, body, client_msg_id)
             SELECT i.room_id, i.author_id, i.body, i.client_msg_id FROM input i
              WHERE EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = i.room_id AND m.user_id = i.author_id)
              ORDER BY i.ord
             ON CONFLICT (author_id, room_id, client_msg_id) DO NOTHING
             RETURNING ${MESSAGE_COLS}),
           upd AS (
             UPDATE room_members m SET last_read_message_id = GREATEST(m.last_read_message_id, x.last_id)
               FROM (SELECT room_id, author_id, max(id) AS last_id FROM ins GROUP BY room_id, author_id) x
              WHERE m.room_id = x.room_id AND m.user_id = x.author_id)
           SELECT * FROM ins`,
          [valid, valid.map((i) => roomIds[i]), valid.map((i) => inputs[i].userId), valid.map((i) => inputs[i].body), valid.map((i) => inputs[i].clientMsgId)],
        ));
      } catch {
        rows = [];
      }
      // Match returned rows to inputs by (author, room, clientMsgId): the statement's key.
      const key = (author: string, room: string, clientMsgId: string) => `${author.toLowerCase()} ${room} ${clientMsgId}`;
      const created = new Map(rows.map((r) => [key(String(r.author_id), String(r.room_id), String(r.client_msg_id)), r]));
      const claimed = new Set<string>();
      await Promise.all(valid.map(async (i) => {
        const k = key(inputs[i].userId, roomIds[i], inputs[i].clientMsgId);
        const row = created.get(k);
        if (row && !claimed.has(k)) {
          claimed.add(k);
          out[i] = { status: "fulfilled", value: { message: toMessage(row), created: true } };
          return;
        }
        try {
          out[i] = { status: "fulfilled", value: await this.postMessage(inputs[i]) };
        } catch (reason) {
          out[i] = { status: "rejected", reason };
        }
      }));
    }
    return out as Array<PromiseSettledResult<{ message: Message; created: boolean }>>;
  }

  /**
   * The message, when the user may change it: it exists, is not deleted, the user is a member of its room now
   * (404 otherwise, as for an unknown id, so ids cannot be probed and ex-members change nothing), and wrote it
   * (403 for another member's message).
   */
  private async ownMessage(userId: string, messageId: string): Promise<Row> {
    checkMessageId(messageId);
    const { rows } = await this.pool.query(
      `SELECT ${MESSAGE_COLS}, EXISTS (SELECT 1 FROM room_members x WHERE x.room_id = messages.room_id AND x.user_id = $2) AS member
         FROM messages WHERE id = $1`,
      [messageId, userId],
    );
    const row = rows[0];
    if (!row) throw noMessage(messageId);
    if (!row.member) throw noMessage(messageId, "not_member");
    if (row.deleted_at) throw noMessage(messageId);
    if (row.author_id !== userId) throw new ChatError("forbidden", "you can only change your own messages");
    return row;
  }

  async editMessage(userId: string, messageId: string, body: string): Promise<Message> {
    checkBody(body);
    await this.ownMessage(userId, messageId);
    const { rows } = await this.pool.query(
      `UPDATE messages SET body = $3, edited_at = now()
        WHERE id = $1 AND author_id = $2 AND deleted_at IS NULL
          AND EXISTS (SELECT 1 FROM room_members x WHERE x.room_id = messages.room_id AND x.user_id = $2)
        RETURNING ${MESSAGE_COLS}`,
      [messageId, userId, body],
    );
    if (!rows[0]) throw noMessage(messageId);
    return toMessage(rows[0]);
  }

  /** Soft delete: the row stays (ids and cursors remain stable), its body is erased. */
  async deleteMessage(userId: string, messageId: string): Promise<Message> {
    await this.ownMessage(userId, messageId);
    const { rows } = await this.pool.query(
      `UPDATE messages SET body = '', deleted_at = now()
        WHERE id = $1 AND author_id = $2 AND deleted_at IS NULL
          AND EXISTS (SELECT 1 FROM room_members x WHERE x.room_id = messages.room_id AND x.user_id = $2)
        RETURNING ${MESSAGE_COLS}`,
      [messageId, userId],
    );
    if (!rows[0]) throw noMessage(messageId);
    return toMessage(rows[0]);
  }

  /**
   * History, newest first. `before` is the cursor returned as `nextCursor` by the previous page (a message
   * id); `nextCursor` is null on the last page. Deleted messages are included with an empty body so clients
   * can remove them.
   */
  async history(userId: string, roomId: string, opts: { before?: string; limit?: number } = {}): Promise<{ messages: Message[]; nextCursor: string | null }> {
    if (opts.before !== undefined) checkMessageId(opts.before, "before (the nextCursor of a previous page)");
    await this.requireMember(userId, roomId);
    roomId = normaliseRoomId(roomId);
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
    const { rows } = await this.pool.query(
      `SELECT ${MESSAGE_COLS} FROM messages WHERE room_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3`,
      [roomId, opts.before ?? null, limit + 1],
    );
    const page = rows.slice(0, limit).map(toMessage);
    return { messages: page, nextCursor: rows.length > limit ? page[page.length - 1].id : null };
  }

  /** Moves the user's read marker forward to `messageId` (never back). */
  async markRead(input: { userId: string; roomId: string; messageId: string }): Promise<void> {
    checkMessageId(input.messageId);
    await this.requireMember(input.userId, input.roomId);
    const { rowCount } = await this.pool.query(
      `UPDATE room_members SET last_read_message_id = GREATEST(last_read_message_id, $3::bigint)
        WHERE room_id = $1 AND user_id = $2 AND EXISTS (SELECT 1 FROM messages WHERE id = $3::bigint AND room_id = $1)`,
      [normaliseRoomId(input.roomId), input.userId, input.messageId],
    );
    if (!rowCount) throw noMessage(input.messageId);
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
    const room = `room:${normaliseRoomId(roomId)}`;
    if (member) sockets.socketsJoin(room);
    else sockets.socketsLeave(room);
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
