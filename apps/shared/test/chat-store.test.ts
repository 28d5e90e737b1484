// ChatStore on a real PostgreSQL: membership guards every read of a room (outsiders and ex-members are
// refused by the store itself, whatever the api in front of it does), and the data operations keep their
// contracts (idempotent posts, own-message edits, cursors, read markers that only move forward).
import { CLIENT_MSG_ID_MAX } from "../src/socket-events";
import { createMigratedTestDatabase } from "../../../test/support/postgres";
import { createPool, type Pool } from "../src/db";
import { ChatStore, ChatError, toMessage, BODY_MAX, MESSAGE_BODY_MAX, ROOM_NAME_MAX, codePoints, textProblem, isMessageId, normaliseRoomId } from "../src/chat";

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

/**
 * Fixtures are written with SQL, not through the store: code that runs in a beforeAll counts for mutation
 * testing as run by every test (each of its mutants would run the whole file), and what the store does is
 * checked inside the tests.
 */
async function seedRoom(ownerId: string, name: string, members: string[] = []): Promise<string> {
  const { rows } = await pool.query(
    `WITH r AS (INSERT INTO rooms (name, created_by) VALUES ($1, $2) RETURNING id),
          o AS (INSERT INTO room_members (room_id, user_id, role) SELECT id, $2, 'owner' FROM r)
     SELECT id FROM r`,
    [name, ownerId],
  );
  for (const m of members) await pool.query("INSERT INTO room_members (room_id, user_id) VALUES ($1, $2)", [rows[0].id, m]);
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
  pool = createPool({ kind: "url", url: await createMigratedTestDatabase("shared_chat_store"), poolMax: 4 });
  store = new ChatStore(pool);
  [owner, member, outsider, leaver] = [await user("owner"), await user("member"), await user("outsider"), await user("leaver")];
  roomId = await seedRoom(owner, "plans", [member]);
  await pool.query("INSERT INTO messages (room_id, author_id, body, client_msg_id) VALUES ($1, $2, $3, 's-1')", [roomId, owner, SECRET]);
});
afterAll(async () => {
  await pool?.end();
});

describe("membership guards", () => {
  test.each([
    ["outsider", async () => outsider],
    [
      "ex-member",
      async () => {
        await store.joinRoom(leaver, roomId);
        // While a member, the leaver can read: what is refused below is refused because they left.
        expect((await store.history(leaver, roomId)).messages.map((m) => m.body)).toEqual([SECRET]);
        await store.leaveRoom(leaver, roomId);
        return leaver;
      },
    ],
  ])("history, members, read markers and posts are refused to an %s", async (_name, who) => {
    const u = await who();
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
    room = await seedRoom(owner, "messages", [member]);
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

describe("private rooms, invitations, removals and roles", () => {
  let admin: string, guest: string, bystander: string;
  beforeAll(async () => {
    [admin, guest, bystander] = [await user("room-admin"), await user("guest"), await user("bystander")];
  });

  test("a private room is hidden from the uninvited; an invitation admits once and is used up by the join", async () => {
    const r = await store.createRoom(owner, "secret", "private");
    expect(r).toMatchObject({ visibility: "private", createdBy: owner, name: "secret" });
    expect((await store.getRoom(r.id))!.visibility).toBe("private");
    // Uninvited: the same answer as a room the user is not in (404), never "forbidden".
    expect((await refused(store.joinRoom(guest, r.id), ["not_member"])).message).toBe(`room ${r.id} does not exist or you are not a member`);
    await store.invite(owner, r.id, guest);
    await store.joinRoom(guest, r.id);
    expect(await store.isMember(guest, r.id)).toBe(true);
    await store.leaveRoom(guest, r.id);
    await refused(store.joinRoom(guest, r.id), ["not_member"]);
    // Inviting a member is harmless, and the member stays a member.
    await store.invite(owner, r.id, owner);
    expect((await store.members(owner, r.id)).map((m) => m.role)).toEqual(["owner"]);
  });

  test("a public room admits anyone signed in; visibility must be public or private", async () => {
    const r = await store.createRoom(owner, "open");
    expect(r.visibility).toBe("public");
    await store.joinRoom(bystander, r.id);
    expect(await store.isMember(bystander, r.id)).toBe(true);
    expect((await refused(store.createRoom(owner, "odd", "secret" as never), ["bad_request"])).message).toBe("visibility must be one of public, private");
  });

  test("only owners and admins invite, and only users that exist", async () => {
    const r = (await store.createRoom(owner, "invites", "private")).id;
    await store.invite(owner, r, member);
    await store.joinRoom(member, r);
    expect((await refused(store.invite(member, r, guest), ["forbidden"])).message).toBe("only the room's owners and admins can invite");
    await refused(store.joinRoom(guest, r), ["not_member"]); // the refused invitation was not recorded
    expect((await refused(store.invite(owner, r, "nobody"), ["not_found"])).message).toBe('user "nobody" does not exist');
    expect((await refused(store.invite(owner, r, MISSING_ROOM), ["not_found"])).message).toBe(`user ${MISSING_ROOM} does not exist`);
    await refused(store.invite(outsider, r, guest), ["not_member"]);
    // An admin invites.
    await store.invite(owner, r, admin);
    await store.joinRoom(admin, r);
    await store.setRole(owner, r, admin, "admin");
    await store.invite(admin, r, guest);
    await store.joinRoom(guest, r);
    expect((await store.members(owner, r)).map((m) => [m.userId, m.role])).toEqual([
      [owner, "owner"], [member, "member"], [admin, "admin"], [guest, "member"],
    ]);
  });

  test("the owner removes admins and members, an admin removes members, nobody removes the owner", async () => {
    const r = (await store.createRoom(owner, "removals")).id;
    for (const u of [member, admin, guest, bystander]) await store.joinRoom(u, r);
    await store.setRole(owner, r, admin, "admin");
    await store.setRole(owner, r, bystander, "admin");
    expect((await refused(store.removeMember(member, r, guest), ["forbidden"])).message).toBe("only the room's owners and admins can remove members");
    expect((await refused(store.removeMember(owner, r, owner), ["bad_request"])).message).toBe("userId is you: leave the room with POST /api/rooms/:roomId/leave");
    const ownerOrAdmin = "only the owner can remove an admin, and the owner cannot be removed";
    expect((await refused(store.removeMember(admin, r, owner), ["forbidden"])).message).toBe(ownerOrAdmin);
    expect((await refused(store.removeMember(admin, r, bystander), ["forbidden"])).message).toBe(ownerOrAdmin);
    expect((await refused(store.removeMember(owner, r, outsider), ["not_found"])).message).toBe(`user ${outsider} is not a member of room ${r}`);
    await refused(store.removeMember(owner, r, "not-a-user"), ["not_found"]);
    await refused(store.removeMember(outsider, r, guest), ["not_member"]);
    await store.removeMember(admin, r, guest);
    await store.removeMember(owner, r, bystander);
    expect((await store.members(owner, r)).map((m) => m.userId)).toEqual([owner, member, admin]);
    expect(await store.isMember(guest, r)).toBe(false);
  });

  test("a removed user cannot rejoin a public room until invited again; the new invitation lifts the removal", async () => {
    const r = (await store.createRoom(owner, "bans")).id;
    await store.joinRoom(guest, r);
    await store.joinRoom(bystander, r);
    // An invitation sent while the user was a member is withdrawn by the removal: it does not let them back.
    await store.invite(owner, r, bystander);
    await store.removeMember(owner, r, bystander);
    await refused(store.joinRoom(bystander, r), ["forbidden"]);
    await store.removeMember(owner, r, guest);
    expect((await refused(store.joinRoom(guest, r), ["forbidden"])).message).toBe(`you were removed from room ${r}: an owner or admin must invite you again`);
    expect((await refused(store.joinRoom(guest, r.toUpperCase()), ["forbidden"])).message).toBe(`you were removed from room ${r}: an owner or admin must invite you again`);
    await store.invite(owner, r, guest);
    await store.joinRoom(guest, r);
    // The removal is lifted for good: leaving and joining again needs no invitation.
    await store.leaveRoom(guest, r);
    await store.joinRoom(guest, r);
    expect(await store.isMember(guest, r)).toBe(true);
  });

  test("only the owner changes roles, between admin and member, of a member other than the owner", async () => {
    const r = (await store.createRoom(owner, "roles")).id;
    for (const u of [member, admin]) await store.joinRoom(u, r);
    await store.setRole(owner, r, admin, "admin");
    expect((await refused(store.setRole(admin, r, member, "admin"), ["forbidden"])).message).toBe("only the room's owner can change roles");
    await refused(store.setRole(member, r, member, "admin"), ["forbidden"]);
    expect((await refused(store.setRole(owner, r, member, "owner"), ["bad_request"])).message).toBe("role must be admin or member");
    const notMember = (u: string) => `user ${u} is not a member (other than the owner) of room ${r}`;
    expect((await refused(store.setRole(owner, r, owner, "member"), ["not_found"])).message).toBe(notMember(owner));
    expect((await refused(store.setRole(owner, r.toUpperCase(), outsider, "admin"), ["not_found"])).message).toBe(notMember(outsider));
    expect((await refused(store.setRole(owner, r, "x", "admin"), ["not_found"])).message).toBe(notMember("x"));
    await store.setRole(owner, r, admin, "member");
    expect((await store.members(owner, r)).map((m) => m.role)).toEqual(["owner", "member", "member"]);
    await refused(store.invite(admin, r, guest), ["forbidden"]); // demoted: no longer invites
  });
});

describe("room ids in any case, message ids up to PostgreSQL's bigint, and text PostgreSQL can store", () => {
  let guest: string;
  beforeAll(async () => {
    guest = await user("ex-author");
  });
  test("an upper-case room id reaches the same room, and answers carry the lower-case id", async () => {
    const r = (await store.createRoom(owner, "casing")).id;
    const R = r.toUpperCase();
    await store.joinRoom(member, R);
    expect(await store.isMember(member, R)).toBe(true);
    expect((await store.getRoom(R))!.id).toBe(r);
    expect(await store.requireMember(member, R)).toBe("member");
    const { message } = await store.postMessage({ userId: member, roomId: R, body: "hi", clientMsgId: "case-1" });
    expect(message.roomId).toBe(r);
    expect((await store.history(owner, R)).messages.map((m) => m.id)).toEqual([message.id]);
    await store.markRead({ userId: owner, roomId: R, messageId: message.id });
    expect((await store.unreadCounts(owner)).find((c) => c.roomId === r)).toEqual({ roomId: r, unread: 0, lastReadMessageId: message.id });
    expect((await store.members(owner, R)).map((m) => m.userId)).toEqual([owner, member]);
    expect((await store.memberIds(R)).sort()).toEqual([owner, member].sort());
    await store.leaveRoom(member, R);
    expect(await store.isMember(member, r)).toBe(false);
  });

  test("a room id must be exactly a UUID: text around one is an unknown room, not a database error", async () => {
    for (const id of [`x${roomId}`, `${roomId}x`, ` ${roomId}`, roomId.replace(/-/g, ""), roomId.slice(0, -1), `${roomId.slice(0, -1)}g`]) {
      expect((await refused(store.requireMember(owner, id), ["not_found"])).message).toBe(`room ${JSON.stringify(id)} does not exist: room ids are UUIDs`);
      await refused(store.history(owner, id), ["not_found"]);
      await refused(store.joinRoom(owner, id), ["not_found"]);
      await refused(store.postMessage({ userId: owner, roomId: id, body: "x", clientMsgId: "u-1" }), ["not_found"]);
      expect(await store.getRoom(id)).toBeNull();
      expect(await store.isMember(owner, id)).toBe(false);
      expect(await store.messagesSince([id], new Date(0), 10)).toEqual([]);
    }
    await refused(store.invite(owner, roomId, `${owner}x`), ["not_found"]);
    await refused(store.removeMember(owner, roomId, `x${member}`), ["not_found"]);
    await refused(store.setRole(owner, roomId, `${member} `, "admin"), ["not_found"]);
  });

  test("an id that is not a string is unknown, even one that prints as a UUID (socket payloads are any JSON)", async () => {
    const asArray = (id: string) => [id] as unknown as string;
    expect((await refused(store.requireMember(owner, asArray(roomId)), ["not_found"])).message).toBe(`room ${JSON.stringify([roomId])} does not exist: room ids are UUIDs`);
    expect(await store.getRoom(asArray(roomId))).toBeNull();
    expect(await store.isMember(owner, asArray(roomId))).toBe(false);
    expect((await refused(store.invite(owner, roomId, asArray(guest)), ["not_found"])).message).toBe(`user ${JSON.stringify([guest])} does not exist`);
    await refused(store.removeMember(owner, roomId, asArray(member)), ["not_found"]);
    await refused(store.setRole(owner, roomId, asArray(member), "admin"), ["not_found"]);
    expect(await store.isMember(member, roomId)).toBe(true);
  });

  test("a deleted message is gone for everyone: 404 to other members too, not 403", async () => {
    const r = await seedRoom(owner, "deleted", [member]);
    const { message } = await store.postMessage({ userId: member, roomId: r, body: "oops", clientMsgId: "del-1" });
    await store.deleteMessage(member, message.id);
    const gone = `message ${message.id} does not exist or is not in a room you are a member of`;
    expect((await refused(store.editMessage(owner, message.id, "x"), ["not_found"])).message).toBe(gone);
    expect((await refused(store.deleteMessage(owner, message.id), ["not_found"])).message).toBe(gone);
  });

  test("an ex-member cannot edit or delete what they wrote: 404 like an unknown message; a member re-joining a private room stays", async () => {
    const r = (await store.createRoom(owner, "ex-authors", "private")).id;
    await store.joinRoom(owner, r); // idempotent for a member, even without an invitation
    await store.invite(owner, r, guest);
    await store.joinRoom(guest, r);
    const { message } = await store.postMessage({ userId: guest, roomId: r, body: "mine", clientMsgId: "ex-1" });
    await store.leaveRoom(guest, r);
    const gone = `message ${message.id} does not exist or is not in a room you are a member of`;
    expect((await refused(store.editMessage(guest, message.id, "changed"), ["not_member"])).message).toBe(gone);
    expect((await refused(store.deleteMessage(guest, message.id), ["not_member"])).message).toBe(gone);
    expect((await store.history(owner, r)).messages.map((m) => m.body)).toEqual(["mine"]);
  });

  test("message ids are positive decimal integers up to 9223372036854775807", async () => {
    // A long id is quoted cut to 40 characters.
    expect((await refused(store.deleteMessage(member, "7".repeat(60)), ["bad_request"])).message).toBe(
      `messageId must be a message id: a positive integer up to 9223372036854775807 (got ${JSON.stringify("7".repeat(40))})`,
    );
    const bad = async (id: string) =>
      expect((await refused(store.editMessage(member, id, "x"), ["bad_request"])).message).toBe(
        `messageId must be a message id: a positive integer up to 9223372036854775807 (got ${JSON.stringify(id)})`,
      );
    await refused(store.editMessage(member, "9223372036854775807", "x"), ["not_found"]);
    await bad("9223372036854775808");
    await bad("99999999999999999999");
    await bad("012");
    await bad("1.5");
    await bad("12a");
    await bad("a12");
    await refused(store.history(owner, roomId, { before: "9223372036854775808" }), ["bad_request"]);
  });

  test("NUL characters and unpaired surrogates are refused with the fix; a surrogate pair counts as one character", async () => {
    const r = (await store.createRoom(owner, "text")).id;
    const post = (body: string, id: string) => store.postMessage({ userId: owner, roomId: r, body, clientMsgId: id });
    expect((await refused(post("a\u0000b", "t-1"), ["bad_request"])).message).toBe("body must not contain NUL characters (U+0000): remove them");
    const lone = "body is not valid Unicode (it has an unpaired surrogate): send well-formed text";
    expect((await refused(post("a\uD83D", "t-2"), ["bad_request"])).message).toBe(lone);
    expect((await refused(post("\uDE00a", "t-3"), ["bad_request"])).message).toBe(lone);
    expect((await refused(post("\uDE00\uD83D", "t-4"), ["bad_request"])).message).toBe(lone);
    expect((await refused(store.createRoom(owner, "x\u0000"), ["bad_request"])).message).toBe("name must not contain NUL characters (U+0000): remove them");
    // 4000 emoji are 8000 UTF-16 units but 4000 code points: accepted, and stored as sent.
    const emoji = "\u{1F600}".repeat(MESSAGE_BODY_MAX);
    expect((await post(emoji, "t-5")).message.body).toBe(emoji);
    expect((await refused(post(emoji + "\u{1F600}", "t-6"), ["bad_request"])).message).toBe(`body must be 1 to ${MESSAGE_BODY_MAX} characters (Unicode code points; got ${MESSAGE_BODY_MAX + 1})`);
    // A body is stored as sent (spaces count); a room name is trimmed before it is counted and stored.
    expect((await post(" hi ", "t-7")).message.body).toBe(" hi ");
    await refused(post(" " + "x".repeat(MESSAGE_BODY_MAX), "t-8"), ["bad_request"]);
    expect((await store.createRoom(owner, ` ${"n".repeat(ROOM_NAME_MAX)} `)).name).toBe("n".repeat(ROOM_NAME_MAX));
    expect((await refused(store.createRoom(owner, ""), ["bad_request"])).message).toBe(`name must be 1 to ${ROOM_NAME_MAX} characters (Unicode code points; got 0)`);
    expect((await refused(store.createRoom(owner, 5 as never), ["bad_request"])).message).toBe("name must be a string");
  });

  test("textProblem and codePoints, as the api's validation uses them", () => {
    expect(codePoints("a\u{1F600}b")).toBe(3);
    expect(codePoints("")).toBe(0);
    expect(textProblem("displayName", "  ab  ", 1, 2)).toBeNull();
    expect(textProblem("displayName", "  ab  ", 1, 2, { trim: false })).toBe("displayName must be 1 to 2 characters (Unicode code points; got 6)");
    expect(textProblem("displayName", "   ", 1, 2)).toBe("displayName must be 1 to 2 characters (Unicode code points; got 0)");
    expect(textProblem("displayName", "abc", 4, 9)).toBe("displayName must be 4 to 9 characters (Unicode code points; got 3)");
    expect(textProblem("displayName", "abcd", 4, 4)).toBeNull();
    expect(isMessageId(1)).toBe(false);
    expect(isMessageId("1")).toBe(true);
    expect(normaliseRoomId(7 as never)).toBe(7);
  });

  test("every ChatError code has its HTTP status", () => {
    const status = (code: ConstructorParameters<typeof ChatError>[0]) => new ChatError(code, "m").statusCode;
    expect([status("not_found"), status("not_member"), status("forbidden"), status("conflict"), status("bad_request")]).toEqual([404, 404, 403, 409, 400]);
    expect(new ChatError("conflict", "twice")).toMatchObject({ name: "ChatError", code: "conflict", message: "twice" });
  });
});
