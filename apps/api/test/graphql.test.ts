import assert from "node:assert/strict";
import { startApi, type TestApi } from "./helpers";
import { socketRoom } from "../../shared/test/socket-room";

let t: TestApi;
beforeAll(async () => {
  t = await startApi("api_graphql");
});
afterAll(async () => {
  await t?.close();
});

const gql = (query: string, variables: object = {}, token?: string) =>
  t.app.inject({ method: "POST", url: "/graphql", headers: token ? { authorization: `Bearer ${token}` } : {}, payload: { query, variables } });

const AUTH = "accessToken refreshToken user { id username }";

test("register and login mutations; queries need a valid token", async () => {
  const reg = await gql(`mutation { register(username: "alice", password: "correct horse battery") { ${AUTH} } }`);
  assert.equal(reg.statusCode, 200, reg.body);
  assert.equal(reg.json().data.register.user.username, "alice");
  const anon = await gql("{ rooms { id } }");
  assert.equal(anon.statusCode, 401);
  assert.equal(anon.json().errors[0].extensions.code, "token_missing");
  const forged = await gql("{ rooms { id } }", {}, "a.b.c");
  assert.equal(forged.json().errors[0].extensions.code, "token_invalid");
  const login = await gql(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { ${AUTH} } }`, { u: "alice", p: "correct horse battery" });
  const token = login.json().data.login.accessToken;
  const me = await gql("{ me { username isAdmin } }", {}, token);
  assert.deepEqual(me.json().data.me, { username: "alice", isAdmin: false });
  const wrong = await gql(`mutation { login(username: "alice", password: "nope-nope") { accessToken } }`);
  assert.deepEqual([wrong.statusCode, wrong.json().errors[0].extensions.code], [401, "invalid_credentials"]);
  const refreshed = await gql(`mutation($r: String!) { refresh(refreshToken: $r) { accessToken } }`, { r: login.json().data.login.refreshToken });
  assert.ok(refreshed.json().data.refresh.accessToken);
});

test("rooms and messages through GraphQL, with delivery on the Redis channel", async () => {
  const token = (await gql(`mutation { register(username: "bob", password: "correct horse battery") { accessToken } }`)).json().data.register.accessToken;
  const room = (await gql(`mutation { createRoom(name: "gql") { id name role } }`, {}, token)).json().data.createRoom;
  assert.equal(room.name, "gql");
  const socket = await socketRoom(t.redisServer.url, [`room:${room.id}`]);
  try {
    const post = await gql(
      `mutation($r: ID!) { postMessage(roomId: $r, body: "hi from graphql", clientMsgId: "g1") { created message { id body } } }`,
      { r: room.id },
      token,
    );
    assert.equal(post.json().data.postMessage.created, true);
    const [delivered] = await socket.next("message:new");
    assert.equal((delivered as { body: string }).body, "hi from graphql");
  } finally {
    await socket.close();
  }
  const page = await gql(`query($r: ID!) { messages(roomId: $r, limit: 10) { messages { body } nextCursor } rooms { name unread } }`, { r: room.id }, token);
  assert.deepEqual(page.json().data, { messages: { messages: [{ body: "hi from graphql" }], nextCursor: null }, rooms: [{ name: "gql", unread: 0 }] });
  const unknown = await gql(`query { members(roomId: "00000000-0000-0000-0000-000000000000") { userId } }`, {}, token);
  assert.deepEqual([unknown.statusCode, unknown.json().errors[0].extensions.code], [404, "not_found"]);
  const empty = await gql(`mutation($r: ID!) { postMessage(roomId: $r, body: "", clientMsgId: "g2") { created } }`, { r: room.id }, token);
  assert.deepEqual([empty.statusCode, empty.json().errors[0].extensions.code], [400, "bad_request"]);
});

test("malformed queries and wrong variable types are 400s", async () => {
  const syntax = await gql("{ rooms { id ");
  assert.equal(syntax.statusCode, 400);
  assert.match(syntax.json().errors[0].message, /Syntax Error/);
  const field = await gql("{ nope }");
  assert.equal(field.statusCode, 400);
  assert.match(field.json().errors[0].message, /Cannot query field "nope"/);
  const types = await gql(`mutation($u: String!) { login(username: $u, password: "x") { accessToken } }`, { u: 42 });
  assert.equal(types.statusCode, 400);
  assert.match(types.json().errors[0].message, /String cannot represent a non string value/);
});

test("admin revoke and the offline digest through GraphQL", async () => {
  const reg = async (u: string) => (await gql(`mutation { register(username: "${u}", password: "correct horse battery") { accessToken user { id } } }`)).json().data.register;
  const admin = await reg("root");
  const victim = await reg("victim");
  const mutation = `mutation($u: ID!) { revokeUser(userId: $u) { userId revokedSessions } }`;
  const denied = await gql(mutation, { u: victim.user.id }, admin.accessToken);
  assert.deepEqual([denied.statusCode, denied.json().errors[0].extensions.code], [403, "forbidden"]);
  await t.pool.query("UPDATE users SET is_admin = true WHERE id = $1", [admin.user.id]);
  const ok = await gql(mutation, { u: victim.user.id }, admin.accessToken);
  assert.deepEqual(ok.json().data.revokeUser, { userId: victim.user.id, revokedSessions: 1 });
  const after = await gql("{ me { username } }", {}, victim.accessToken);
  assert.deepEqual([after.statusCode, after.json().errors[0].extensions.code], [401, "token_revoked"]);
  assert.deepEqual((await gql("{ digest { messageId } }", {}, admin.accessToken)).json().data.digest, []);
});

test("createRoom, joinRoom and leaveRoom mutations move the user's open sockets in and out of the room", async () => {
  const reg = async (name: string) => (await gql(`mutation { register(username: "${name}", password: "correct horse battery") { accessToken user { id } } }`)).json().data.register;
  const owner = await reg("gowner");
  const guest = await reg("gguest");
  const socket = await socketRoom(t.redisServer.url, [`user:${guest.user.id}`]);
  const probe = async (room: string, expected: boolean) => {
    let got = !expected;
    for (let i = 0; i < 20 && got !== expected; i++) {
      const id = `p-${i}-${Math.random()}`;
      t.s.emitter.to(room).emit("probe", id);
      await new Promise((r) => setTimeout(r, 150));
      got = socket.events.some((e) => e.event === "probe" && e.args[0] === id);
    }
    assert.equal(got, expected, `socket ${expected ? "in" : "out of"} ${room}`);
  };
  try {
    const mine = (await gql(`mutation { createRoom(name: "guest's") { id } }`, {}, guest.accessToken)).json().data.createRoom;
    await probe(`room:${mine.id}`, true);
    const room = (await gql(`mutation { createRoom(name: "owned") { id } }`, {}, owner.accessToken)).json().data.createRoom;
    await probe(`room:${room.id}`, false);
    assert.equal((await gql(`mutation($r: ID!) { joinRoom(roomId: $r) }`, { r: room.id }, guest.accessToken)).json().data.joinRoom, true);
    await probe(`room:${room.id}`, true);
    assert.equal((await gql(`mutation($r: ID!) { leaveRoom(roomId: $r) }`, { r: room.id }, guest.accessToken)).json().data.leaveRoom, true);
    await probe(`room:${room.id}`, false);
  } finally {
    await socket.close();
  }
});

test("room(roomId) query answers as GET /api/rooms/:roomId: the room for a member, 404 for others as for unknown or malformed ids", async () => {
  const reg = async (name: string) => (await gql(`mutation { register(username: "${name}", password: "correct horse battery") { accessToken } }`)).json().data.register.accessToken;
  const owner = await reg("rowner");
  const other = await reg("rother");
  const room = (await gql(`mutation { createRoom(name: "lookup") { id } }`, {}, owner)).json().data.createRoom;
  const q = `query($r: ID!) { room(roomId: $r) { id name createdBy } }`;
  const mine = await gql(q, { r: room.id }, owner);
  assert.equal(mine.statusCode, 200, mine.body);
  assert.deepEqual([mine.json().data.room.id, mine.json().data.room.name], [room.id, "lookup"]);
  const rest = await t.app.inject({ method: "GET", url: `/api/rooms/${room.id}`, headers: { authorization: `Bearer ${owner}` } });
  assert.deepEqual(mine.json().data.room, { id: rest.json().room.id, name: rest.json().room.name, createdBy: rest.json().room.createdBy });
  const outsider = await gql(q, { r: room.id }, other);
  assert.deepEqual([outsider.statusCode, outsider.json().errors[0].extensions.code], [404, "not_found"]);
  const unknown = await gql(q, { r: "00000000-0000-0000-0000-000000000000" }, owner);
  assert.deepEqual([unknown.statusCode, unknown.json().errors[0].extensions.code], [404, "not_found"]);
  // A malformed id is an unknown room, as on the REST route.
  const malformed = await gql(q, { r: "not-a-uuid" }, owner);
  const restMalformed = await t.app.inject({ method: "GET", url: "/api/rooms/not-a-uuid", headers: { authorization: `Bearer ${owner}` } });
  assert.deepEqual([malformed.statusCode, malformed.json().errors[0].extensions.code], [restMalformed.statusCode, restMalformed.json().error.code]);
  assert.equal(malformed.statusCode, 404);
  assert.equal((await gql(q, { r: room.id })).statusCode, 401);
});
