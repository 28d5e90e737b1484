// ChatStore on a real PostgreSQL: membership guards every read of a room (outsiders and ex-members are
// refused by the store itself, whatever the api in front of it does), and the data operations keep their
// contracts (idempotent posts, own-message edits, cursors, read markers that only move forward).
import { CLIENT_MSG_ID_MAX } from "../src/socket-events";
import { createTestDatabase } from "../../../test/support/postgres";
import { createPool, type Pool } from "../src/db";
import { migrate } from "../src/migrate";
import { ChatStore, ChatError, toMessage, BODY_MAX } from "../src/chat";

let pool: Pool;
let store: ChatStore;
let owner: string, member: string, outsider: string, leaver: string;
let roomId: string;
const SECRET = "only for members";
const MISSING_ROOM = "00000000-0000-4000-8000-000000000000";

async function user(name: string): Promise<string> {
  const { rows } = await pool.query("INSERT INTO users (username, display_name, password_hash) VALUES ($1, $1, 'x') RETURNING id", [name]);
  return rows[0].id;
}

/** The promise rejects with a ChatError of one of the codes (a refusal, never data). */
async function refused(p: Promise<unknown>, codes: string[] = ["forbidden", "not_found", "not_member"]): Promise<ChatError> {
  const err = await p.then(
    (v) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChatError);
  expect(codes).toContain((err as ChatError).code);
  expect((err as ChatError).message).not.toContain(SECRET);
  return err as ChatError;
}

beforeAll(async () => {
  pool = createPool({ kind: "url", url: await createTestDatabase("shared_chat_store"), poolMax: 4 });
  await migrate(pool);
  store = new ChatStore(pool);
  [owner, member, outsider, leaver] = [await user("owner"), await user("member"), await user("outsider"), await user("leaver")];
  roomId = (await store.createRoom(owner, "  plans  ")).id;
  await store.joinRoom(member, roomId);
  await store.joinRoom(leaver, roomId);
  await store.postMessage({ userId: owner, roomId, body: SECRET, clientMsgId: "s-1" });
  // While a member, the leaver can read: what is refused below is refused because they left.
  expect((await store.history(leaver, roomId)).messages.map((m) => m.body)).toEqual([SECRET]);
  await store.leaveRoom(leaver, roomId);
});
afterAll(async () => {
  await pool?.end();
});

describe("membership guards", () => {
  test.each([
    ["outsider", () => outsider],
    ["ex-member", () => leaver],
  ])("history, members, read markers and posts are refused to an %s", async (_name, who) => {
    const u = who();
    const [latest] = (await store.history(owner, roomId)).messages;
    await refused(store.history(u, roomId));
    await refused(store.history(u, roomId, { before: String(Number(latest.id) + 1), limit: 10 }));
    await refused(store.members(u, roomId));
    await refused(store.markRead({ userId: u, roomId, messageId: latest.id }));
    await refused(store.requireMember(u, roomId));
    await refused(store.leaveRoom(u, roomId));
    // A replay of an old clientMsgId is refused like a new post after leaving.
    await refused(store.postMessage({ userId: u, roomId, body: "hi", clientMsgId: "s-1" }));
    await refused(store.postMessage({ userId: u, roomId, body: "hi", clientMsgId: "new-1" }));
    expect(await store.isMember(u, roomId)).toBe(false);
    expect(await store.roomIdsOf(u)).toEqual([]);
    expect(await store.listRooms(u)).toEqual([]);
    expect(await store.unreadCounts(u)).toEqual([]);
  });

  test("an unknown room is not_found and a room the user is not in is not_member, both 404 (ids do not leak)", async () => {
    expect((await refused(store.requireMember(outsider, MISSING_ROOM), ["not_found"])).statusCode).toBe(404);
    expect((await refused(store.requireMember(outsider, roomId), ["not_member"])).statusCode).toBe(404);
    expect((await refused(store.requireMember(outsider, "not-a-uuid"), ["not_found"])).message).toMatch(/room ids are UUIDs/);
    await refused(store.joinRoom(outsider, MISSING_ROOM), ["not_found"]);
    expect(await store.isMember(owner, "nope")).toBe(false);
    expect(await store.isMember(owner, MISSING_ROOM)).toBe(false);
    expect(await store.getRoom("nope")).toBeNull();
    expect(await store.getRoom(MISSING_ROOM)).toBeNull();
  });

  test("members see the room; the read marker and members list are theirs", async () => {
    await store.requireMember(member, roomId);
    expect(await store.isMember(member, roomId)).toBe(true);
    expect(await store.roomIdsOf(member)).toEqual([roomId]);
    const room = await store.getRoom(roomId);
    expect(room).toMatchObject({ id: roomId, name: "plans", createdBy: owner });
    const members = await store.members(member, roomId);
    expect(members.map((m) => [m.userId, m.username, m.displayName, m.role])).toEqual([
      [owner, "owner", "owner", "owner"],
      [member, "member", "member", "member"],
    ]);
    expect(await store.memberIds(roomId)).toEqual(expect.arrayContaining([owner, member]));
    expect((await store.memberIds(roomId)).length).toBe(2);
  });
});

describe("messages", () => {
  let room: string;
  beforeAll(async () => {
    room = (await store.createRoom(owner, "messages")).id;
    await store.joinRoom(member, room);
  });

  test("a post is idempotent per author, room and clientMsgId, and moves the author's read marker", async () => {
    const first = await store.postMessage({ userId: member, roomId: room, body: "hello", clientMsgId: "m-1" });
    expect(first.created).toBe(true);
    expect(first.message).toMatchObject({ roomId: room, authorId: member, body: "hello", clientMsgId: "m-1", editedAt: null, deletedAt: null });
    const again = await store.postMessage({ userId: member, roomId: room, body: "hello (retry)", clientMsgId: "m-1" });
    expect(again).toEqual({ message: first.message, created: false });
    const otherAuthor = await store.postMessage({ userId: owner, roomId: room, body: "hello", clientMsgId: "m-1" });
    expect(otherAuthor.created).toBe(true);
    expect(otherAuthor.message.id).not.toBe(first.message.id);
    const rooms = await store.listRooms(member);
    const mine = rooms.find((r) => r.id === room)!;
    expect(mine.lastReadMessageId).toBe(first.message.id);
    expect(mine.unread).toBe(1); // the owner's message; own messages never count
    expect(mine.role).toBe("member");
  });

  test("bad posts are refused with the field and the fix", async () => {
    const post = (body: unknown, clientMsgId: unknown, roomId = room) =>
      store.postMessage({ userId: member, roomId, body: body as string, clientMsgId: clientMsgId as string });
    expect((await refused(post("   ", "ok"), ["bad_request"])).message).toBe("body must be a non-empty string");
    expect((await refused(post(42, "ok"), ["bad_request"])).statusCode).toBe(400);
    expect((await refused(post("x".repeat(BODY_MAX + 1), "ok"), ["bad_request"])).message).toBe(`body must be 1 to ${BODY_MAX} characters (Unicode code points; got ${BODY_MAX + 1})`);
    await store.postMessage({ userId: member, roomId: room, body: "x".repeat(BODY_MAX), clientMsgId: "max-len" });
    expect((await refused(post("hi", "has space"), ["bad_request"])).message).toMatch(/clientMsgId must be 1 to 64 characters/);
    await refused(post("hi", "x".repeat(CLIENT_MSG_ID_MAX + 1)), ["bad_request"]);
    expect((await store.postMessage({ userId: member, roomId: room, body: "longest id", clientMsgId: "k".repeat(CLIENT_MSG_ID_MAX) })).created).toBe(true);
    await refused(post("hi", ""), ["bad_request"]);
    await refused(post("hi", 7), ["bad_request"]);
    await refused(post("hi", "ok", "not-a-room"), ["not_found"]);
    await refused(post("hi", "ok", MISSING_ROOM), ["not_found"]);
    await refused(store.createRoom(owner, "   "), ["bad_request"]);
    await refused(store.createRoom(owner, "x".repeat(101)), ["bad_request"]);
    await refused(store.createRoom(owner, 5 as unknown as string), ["bad_request"]);
    expect((await store.createRoom(owner, "x".repeat(100))).name).toHaveLength(100);
  });

  test("only the author edits or deletes; a deleted message keeps its id with an empty body", async () => {
    const { message } = await store.postMessage({ userId: member, roomId: room, body: "draft", clientMsgId: "e-1" });
    expect((await refused(store.editMessage(owner, message.id, "hijack"), ["forbidden"])).message).toBe("you can only change your own messages");
    await refused(store.deleteMessage(owner, message.id), ["forbidden"]);
    await refused(store.editMessage(member, message.id, " "), ["bad_request"]);
    const edited = await store.editMessage(member, message.id, "final");
    expect(edited).toMatchObject({ id: message.id, body: "final", deletedAt: null });
    expect(edited.editedAt).not.toBeNull();
    const deleted = await store.deleteMessage(member, message.id);
    expect(deleted).toMatchObject({ id: message.id, body: "" });
    expect(deleted.deletedAt).not.toBeNull();
    await refused(store.editMessage(member, message.id, "again"), ["not_found"]);
    await refused(store.deleteMessage(member, message.id), ["not_found"]);
    await refused(store.editMessage(member, "999999999", "x"), ["not_found"]);
    expect((await refused(store.editMessage(member, "abc", "x"), ["bad_request"])).message).toMatch(/messageId must be a message id: a positive integer/);
    await refused(store.deleteMessage(member, "0"), ["bad_request"]);
    const page = await store.history(member, room);
    expect(page.messages.find((m) => m.id === message.id)).toMatchObject({ body: "", deletedAt: deleted.deletedAt });
  });

  test("history pages newest first with a cursor; limits are clamped to 1..200", async () => {
    const r = (await store.createRoom(owner, "pages")).id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.postMessage({ userId: owner, roomId: r, body: `m${i}`, clientMsgId: `p-${i}` })).message.id);
    const first = await store.history(owner, r, { limit: 2 });
    expect(first.messages.map((m) => m.id)).toEqual([ids[4], ids[3]]);
    expect(first.nextCursor).toBe(ids[3]);
    const second = await store.history(owner, r, { limit: 2, before: first.nextCursor! });
    expect(second.messages.map((m) => m.id)).toEqual([ids[2], ids[1]]);
    const last = await store.history(owner, r, { limit: 2, before: second.nextCursor! });
    expect(last).toEqual({ messages: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    const exact = await store.history(owner, r, { limit: 5 });
    expect([exact.messages.length, exact.nextCursor]).toEqual([5, null]);
    expect((await store.history(owner, r, { limit: 0 })).messages).toHaveLength(1);
    expect((await store.history(owner, r, { limit: 1000 })).messages).toHaveLength(5);
    expect((await store.history(owner, r)).messages).toHaveLength(5);
    expect((await refused(store.history(owner, r, { before: "abc" }), ["bad_request"])).message).toMatch(/nextCursor/);
  });

  test("history defaults to 50 and never returns more than 200", async () => {
    const r = (await store.createRoom(owner, "many")).id;
    await pool.query(
      "INSERT INTO messages (room_id, author_id, body, client_msg_id) SELECT $1, $2, 'b' || g, 'bulk-' || g FROM generate_series(1, 205) g",
      [r, owner],
    );
    const page = await store.history(owner, r);
    expect(page.messages).toHaveLength(50);
    expect(page.nextCursor).toBe(page.messages[49].id);
    expect((await store.history(owner, r, { limit: 200 })).messages).toHaveLength(200);
    expect((await store.history(owner, r, { limit: 201 })).messages).toHaveLength(200);
  });

  test("read markers move forward only and only to a message of the room", async () => {
    const r = (await store.createRoom(owner, "reads")).id;
    await store.joinRoom(member, r);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await store.postMessage({ userId: owner, roomId: r, body: `r${i}`, clientMsgId: `r-${i}` })).message.id);
    const unread = async () => (await store.unreadCounts(member)).find((c) => c.roomId === r)!;
    expect(await unread()).toEqual({ roomId: r, unread: 3, lastReadMessageId: expect.any(String) });
    await store.markRead({ userId: member, roomId: r, messageId: ids[1] });
    expect(await unread()).toEqual({ roomId: r, unread: 1, lastReadMessageId: ids[1] });
    await store.markRead({ userId: member, roomId: r, messageId: ids[0] });
    expect((await unread()).lastReadMessageId).toBe(ids[1]);
    const elsewhere = (await store.postMessage({ userId: member, roomId: room, body: "other room", clientMsgId: "x-1" })).message.id;
    expect((await refused(store.markRead({ userId: member, roomId: r, messageId: elsewhere }), ["not_found"])).message).toBe(`message ${elsewhere} does not exist or is not in a room you are a member of`);
    await refused(store.markRead({ userId: member, roomId: r, messageId: "-1" }), ["bad_request"]);
    await store.deleteMessage(owner, ids[2]);
    expect((await unread()).unread).toBe(0);
  });

  test("messagesSince returns the rooms' messages from a time on, oldest first, ignoring ids that are not UUIDs", async () => {
    const r = (await store.createRoom(owner, "since")).id;
    const since = new Date(Date.now() - 60_000);
    const a = (await store.postMessage({ userId: owner, roomId: r, body: "a", clientMsgId: "since-a" })).message;
    const b = (await store.postMessage({ userId: owner, roomId: r, body: "b", clientMsgId: "since-b" })).message;
    expect((await store.messagesSince([r, "junk"], since, 10)).map((m) => m.id)).toEqual([a.id, b.id]);
    expect((await store.messagesSince([r], since, 1)).map((m) => m.id)).toEqual([a.id]);
    expect(await store.messagesSince([r], new Date(Date.now() + 60_000), 10)).toEqual([]);
    expect(await store.messagesSince(["junk"], since, 10)).toEqual([]);
  });

  test("joining is idempotent and keeps the owner's role; joining starts with everything before it read", async () => {
    const r = (await store.createRoom(owner, "join")).id;
    await store.postMessage({ userId: owner, roomId: r, body: "before", clientMsgId: "j-1" });
    await store.joinRoom(owner, r);
    await store.joinRoom(member, r);
    await store.joinRoom(member, r);
    const members = await store.members(owner, r);
    expect(members.map((m) => m.role)).toEqual(["owner", "member"]);
    expect((await store.unreadCounts(member)).find((c) => c.roomId === r)!.unread).toBe(0);
  });
});

test("toMessage maps a row and blanks the body of a deleted one", () => {
  const created = new Date("2026-01-02T03:04:05.000Z");
  const row = { id: 7, room_id: "r", author_id: "u", body: "hi", client_msg_id: "c", created_at: created, edited_at: null, deleted_at: undefined };
  expect(toMessage(row)).toEqual({ id: "7", roomId: "r", authorId: "u", body: "hi", clientMsgId: "c", createdAt: "2026-01-02T03:04:05.000Z", editedAt: null, deletedAt: null });
  expect(toMessage({ ...row, edited_at: "2026-01-03", deleted_at: created })).toMatchObject({ body: "", editedAt: "2026-01-03", deletedAt: "2026-01-02T03:04:05.000Z" });
});
