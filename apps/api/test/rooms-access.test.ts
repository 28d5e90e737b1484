/**
 * Room access control: public and private rooms, invitations from owners and admins, removal, the socket room
 * following membership at once (ids in any case), ex-members unable to change their old messages, and one 404
 * for unknown ids and ids the caller may not see.
 */
import assert from "node:assert/strict";
import { socketRoom, type SocketRoom } from "../../shared/test/socket-room";
import { startApi, register, type TestApi, type Session } from "./helpers";

let t: TestApi;
let owner: Session, admin: Session, member: Session, outsider: Session;
beforeAll(async () => {
  t = await startApi("api_rooms_access");
  [owner, admin, member, outsider] = [await register(t.app, "owner"), await register(t.app, "admin"), await register(t.app, "member"), await register(t.app, "outsider")];
});
afterAll(async () => {
  await t?.close();
});

const call = (who: Session, method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT", url: string, payload?: object) =>
  t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
const gql = (who: Session, query: string, variables: object = {}) => t.app.inject({ method: "POST", url: "/graphql", headers: who.auth, payload: { query, variables } });
const UNKNOWN_ROOM = "00000000-0000-4000-8000-000000000000";

/** Broadcasts probes to `room` until the socket's membership of it is `expected`. */
async function becomes(socket: SocketRoom, room: string, expected: boolean): Promise<void> {
  let last = !expected;
  for (let i = 0; i < 20 && last !== expected; i++) {
    const id = `probe-${Math.random()}`;
    t.s.emitter.to(room).emit("probe", id);
    last = false;
    for (let j = 0; j < 15 && !last; j++) {
      last = socket.events.some((e) => e.event === "probe" && e.args[0] === id);
      if (!last) await new Promise((r) => setTimeout(r, 10));
    }
  }
  assert.equal(last, expected, `socket ${expected ? "in" : "out of"} ${room}`);
}

test("a private room is joined only by invitation from an owner or admin", async () => {
  const created = await call(owner, "POST", "/api/rooms", { name: "secret", visibility: "private" });
  assert.equal(created.statusCode, 201);
  assert.equal(created.json().room.visibility, "private");
  const roomId = created.json().room.id;

  const uninvited = await call(outsider, "POST", `/api/rooms/${roomId}/join`);
  assert.deepEqual([uninvited.statusCode, uninvited.json().error.code], [404, "not_found"], "a private room is not revealed");
  assert.equal((await call(outsider, "GET", `/api/rooms/${roomId}/messages`)).statusCode, 404);

  assert.equal((await call(owner, "POST", `/api/rooms/${roomId}/invitations`, { userId: member.userId })).statusCode, 201);
  assert.equal((await call(member, "POST", `/api/rooms/${roomId}/join`)).statusCode, 200);
  const byMember = await call(member, "POST", `/api/rooms/${roomId}/invitations`, { userId: outsider.userId });
  assert.deepEqual([byMember.statusCode, byMember.json().error.code], [403, "forbidden"], "a plain member cannot invite");

  // The owner names an admin; the admin may invite.
  assert.equal((await call(owner, "POST", `/api/rooms/${roomId}/invitations`, { userId: admin.userId })).statusCode, 201);
  assert.equal((await call(admin, "POST", `/api/rooms/${roomId}/join`)).statusCode, 200);
  assert.equal((await call(member, "PUT", `/api/rooms/${roomId}/members/${admin.userId}/role`, { role: "admin" })).statusCode, 403);
  assert.equal((await call(owner, "PUT", `/api/rooms/${roomId}/members/${admin.userId}/role`, { role: "admin" })).statusCode, 200);
  assert.equal((await call(admin, "POST", `/api/rooms/${roomId}/invitations`, { userId: outsider.userId })).statusCode, 201);
  assert.equal((await call(outsider, "POST", `/api/rooms/${roomId}/join`)).statusCode, 200);
  const roles = (await call(owner, "GET", `/api/rooms/${roomId}/members`)).json().members.map((m: { username: string; role: string }) => `${m.username}:${m.role}`);
  assert.deepEqual(roles.sort(), ["admin:admin", "member:member", "outsider:member", "owner:owner"]);

  // Leaving a private room ends access; the invitation was used up.
  assert.equal((await call(outsider, "POST", `/api/rooms/${roomId}/leave`)).statusCode, 200);
  assert.equal((await call(outsider, "POST", `/api/rooms/${roomId}/join`)).statusCode, 404, "no rejoin without a new invitation");
});

test("GraphQL: private rooms, invitations and removal as on REST", async () => {
  const created = await gql(owner, `mutation { createRoom(name: "gql-secret", visibility: "private") { id visibility } }`);
  const room = created.json().data.createRoom;
  assert.equal(room.visibility, "private");
  const join = await gql(outsider, `mutation($r: ID!) { joinRoom(roomId: $r) }`, { r: room.id });
  assert.deepEqual([join.statusCode, join.json().errors[0].extensions.code], [404, "not_found"]);
  const bad = await gql(owner, `mutation { createRoom(name: "x", visibility: "secret") { id } }`);
  assert.match(bad.json().errors[0].message, /visibility must be one of public, private/);
  assert.equal((await gql(owner, `mutation($r: ID!, $u: ID!) { inviteToRoom(roomId: $r, userId: $u) }`, { r: room.id, u: outsider.userId })).json().data.inviteToRoom, true);
  assert.equal((await gql(outsider, `mutation($r: ID!) { joinRoom(roomId: $r) }`, { r: room.id })).json().data.joinRoom, true);
  const removed = await gql(owner, `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`, { r: room.id, u: outsider.userId });
  assert.equal(removed.json().data.removeMember, true);
  const after = await gql(outsider, `query($r: ID!) { room(roomId: $r) { id } }`, { r: room.id });
  assert.deepEqual([after.statusCode, after.json().errors[0].extensions.code], [404, "not_found"]);
});

test("owners remove members; a removed member leaves the socket room at once and cannot rejoin a public room uninvited", async () => {
  const roomId = (await call(owner, "POST", "/api/rooms", { name: "open" })).json().room.id;
  assert.equal((await call(member, "POST", `/api/rooms/${roomId}/join`)).statusCode, 200);
  const socket = await socketRoom(t.redisServer.url, [`user:${member.userId}`, `room:${roomId}`]);
  try {
    await becomes(socket, `room:${roomId}`, true);
    const byMember = await call(admin, "DELETE", `/api/rooms/${roomId}/members/${member.userId}`);
    assert.deepEqual([byMember.statusCode, byMember.json().error.code], [404, "not_found"], "a non-member cannot remove anyone");
    const removed = await call(owner, "DELETE", `/api/rooms/${roomId}/members/${member.userId}`);
    assert.equal(removed.statusCode, 200, removed.body);
    await becomes(socket, `room:${roomId}`, false);
    assert.equal((await call(member, "GET", `/api/rooms/${roomId}/messages`)).statusCode, 404);
    const rejoin = await call(member, "POST", `/api/rooms/${roomId}/join`);
    assert.deepEqual([rejoin.statusCode, rejoin.json().error.code], [403, "forbidden"]);
    assert.match(rejoin.json().error.message, /removed from room .*invite you again/);
    assert.equal((await call(owner, "DELETE", `/api/rooms/${roomId}/members/${owner.userId}`)).statusCode, 400, "the owner leaves, not removes self");
    assert.equal((await call(owner, "POST", `/api/rooms/${roomId}/invitations`, { userId: member.userId })).statusCode, 201);
    assert.equal((await call(member, "POST", `/api/rooms/${roomId}/join`)).statusCode, 200, "an invitation lifts the removal");
  } finally {
    await socket.close();
  }
});

test("leave and join with the room id in upper case move the socket as with the canonical id", async () => {
  const roomId: string = (await call(owner, "POST", "/api/rooms", { name: "case" })).json().room.id;
  const upper = roomId.toUpperCase();
  const socket = await socketRoom(t.redisServer.url, [`user:${member.userId}`]);
  try {
    assert.equal((await call(member, "POST", `/api/rooms/${upper}/join`)).statusCode, 200);
    await becomes(socket, `room:${roomId}`, true);
    const left = await call(member, "POST", `/api/rooms/${upper}/leave`);
    assert.deepEqual([left.statusCode, left.json().roomId], [200, roomId]);
    await becomes(socket, `room:${roomId}`, false);
    assert.equal((await gql(member, `mutation($r: ID!) { joinRoom(roomId: $r) }`, { r: upper })).json().data.joinRoom, true);
    await becomes(socket, `room:${roomId}`, true);
    assert.equal((await gql(member, `mutation($r: ID!) { leaveRoom(roomId: $r) }`, { r: upper })).json().data.leaveRoom, true);
    await becomes(socket, `room:${roomId}`, false);
  } finally {
    await socket.close();
  }
});

test("an ex-member cannot edit or delete messages in a room they left", async () => {
  const roomId = (await call(owner, "POST", "/api/rooms", { name: "left" })).json().room.id;
  assert.equal((await call(member, "POST", `/api/rooms/${roomId}/join`)).statusCode, 200);
  const id = (await call(member, "POST", `/api/rooms/${roomId}/messages`, { body: "before leaving", clientMsgId: "l-1" })).json().message.id;
  assert.equal((await call(member, "POST", `/api/rooms/${roomId}/leave`)).statusCode, 200);
  const edit = await call(member, "PATCH", `/api/messages/${id}`, { body: "edited after leaving" });
  assert.deepEqual([edit.statusCode, edit.json().error.code], [404, "not_found"]);
  assert.equal((await call(member, "DELETE", `/api/messages/${id}`)).statusCode, 404);
  const g = await gql(member, `mutation($m: ID!) { editMessage(messageId: $m, body: "x") { id } }`, { m: id });
  assert.equal(g.statusCode, 404);
  const row = (await t.pool.query("SELECT body, deleted_at FROM messages WHERE id = $1", [id])).rows[0];
  assert.deepEqual([row.body, row.deleted_at], ["before leaving", null]);
});

test("a non-member gets the same 404 as for unknown room and message ids", async () => {
  const roomId = (await call(owner, "POST", "/api/rooms", { name: "probe", visibility: "private" })).json().room.id;
  const messageId = (await call(owner, "POST", `/api/rooms/${roomId}/messages`, { body: "hidden", clientMsgId: "p-1" })).json().message.id;
  const unknownMessage = String(Number(messageId) + 100000);
  const pairs: [string, "GET" | "POST" | "PATCH" | "DELETE", (room: string, msg: string) => string, object?][] = [
    ["room", "GET", (r) => `/api/rooms/${r}`],
    ["members", "GET", (r) => `/api/rooms/${r}/members`],
    ["history", "GET", (r) => `/api/rooms/${r}/messages`],
    ["post", "POST", (r) => `/api/rooms/${r}/messages`, { body: "hi", clientMsgId: "p-2" }],
    ["read", "POST", (r, m) => `/api/rooms/${r}/read`, { messageId: messageId }],
    ["leave", "POST", (r) => `/api/rooms/${r}/leave`],
    ["edit", "PATCH", (_r, m) => `/api/messages/${m}`, { body: "x" }],
    ["delete", "DELETE", (_r, m) => `/api/messages/${m}`],
  ];
  for (const [what, method, url, payload] of pairs) {
    const real = await call(outsider, method, url(roomId, messageId), payload);
    const unknown = await call(outsider, method, url(UNKNOWN_ROOM, unknownMessage), payload);
    const norm = (r: typeof real) => [r.statusCode, r.json().error.code, r.json().error.message.replace(roomId, "<id>").replace(UNKNOWN_ROOM, "<id>").replace(unknownMessage, "<m>").replace(messageId, "<m>")];
    assert.deepEqual(norm(real), norm(unknown), `${what}: the answer tells nothing`);
    assert.equal(real.statusCode, 404, `${what}: ${real.body}`);
  }
  const q = `query($r: ID!) { members(roomId: $r) { userId } }`;
  const [real, unknown] = [await gql(outsider, q, { r: roomId }), await gql(outsider, q, { r: UNKNOWN_ROOM })];
  assert.deepEqual([real.statusCode, real.json().errors[0].extensions.code], [unknown.statusCode, unknown.json().errors[0].extensions.code]);
  assert.equal(real.statusCode, 404);
});
