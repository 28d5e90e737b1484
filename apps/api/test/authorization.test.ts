// Room data is for members only: history, read markers, members and the room itself are refused to a
// signed-in user who never joined (outsider) and to one who left (ex-member), on REST and on GraphQL. A
// refusal is 403 or 404 (an api may hide that the room exists) and never carries the room's messages or data.
import { startApi, register, type TestApi, type Session } from "./helpers";

let t: TestApi;
let owner: Session, outsider: Session, leaver: Session;
let roomId: string;
let messageId: string;
const SECRET = "the launch code is 0000";

beforeAll(async () => {
  t = await startApi("api_authorization");
  [owner, outsider, leaver] = [await register(t.app, "owner"), await register(t.app, "outsider"), await register(t.app, "leaver")];
  roomId = (await call(owner, "POST", "/api/rooms", { name: "private-plans" })).json().room.id;
  expect((await call(leaver, "POST", `/api/rooms/${roomId}/join`)).statusCode).toBe(200);
  const posted = await call(owner, "POST", `/api/rooms/${roomId}/messages`, { body: SECRET, clientMsgId: "secret-1" });
  expect(posted.statusCode).toBe(201);
  messageId = posted.json().message.id;
  // While a member, the leaver reads the history: the refusals below are about leaving, not about the route.
  const before = await call(leaver, "GET", `/api/rooms/${roomId}/messages`);
  expect(before.statusCode).toBe(200);
  expect(before.json().messages.map((m: { body: string }) => m.body)).toEqual([SECRET]);
  expect((await call(leaver, "POST", `/api/rooms/${roomId}/leave`)).statusCode).toBe(200);
});
afterAll(async () => {
  await t?.close();
});

function call(who: Session, method: "GET" | "POST", url: string, payload?: object) {
  return t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
}
const gql = (who: Session, query: string, variables: object = {}) =>
  t.app.inject({ method: "POST", url: "/graphql", headers: who.auth, payload: { query, variables } });

/** Refused (403 or 404), with an error code and nothing of the room in the body. */
function expectRefused(res: { statusCode: number; body: string }, what: string) {
  expect({ what, refused: [403, 404].includes(res.statusCode) }).toEqual({ what, refused: true });
  expect(res.body).not.toContain(SECRET);
  expect(res.body).not.toContain("private-plans");
  expect(res.body).not.toContain(owner.userId);
}

const who = () => [
  ["outsider", outsider],
  ["ex-member", leaver],
] as const;

test.each(["outsider", "ex-member"])("REST: history, room, members and read markers are refused to an %s", async (name) => {
  const user = who().find(([n]) => n === name)![1];
  expectRefused(await call(user, "GET", `/api/rooms/${roomId}/messages`), "history");
  expectRefused(await call(user, "GET", `/api/rooms/${roomId}/messages?before=${Number(messageId) + 1}&limit=5`), "history page");
  expectRefused(await call(user, "GET", `/api/rooms/${roomId}`), "room");
  expectRefused(await call(user, "GET", `/api/rooms/${roomId}/members`), "members");
  expectRefused(await call(user, "POST", `/api/rooms/${roomId}/read`, { messageId }), "read marker");
  // The marker of the refused call did not move, and the room is not in the user's lists.
  const rooms = await call(user, "GET", "/api/rooms");
  expect(rooms.statusCode).toBe(200);
  expect(rooms.json().rooms).toEqual([]);
  expect((await call(user, "GET", "/api/unread")).json().rooms).toEqual([]);
});

test.each(["outsider", "ex-member"])("GraphQL: messages, room, members and markRead are refused to an %s", async (name) => {
  const user = who().find(([n]) => n === name)![1];
  const cases: [string, string, object][] = [
    ["messages", "query($r: ID!) { messages(roomId: $r) { messages { body } nextCursor } }", { r: roomId }],
    ["messages page", "query($r: ID!, $b: ID) { messages(roomId: $r, before: $b, limit: 5) { messages { body } } }", { r: roomId, b: String(Number(messageId) + 1) }],
    ["room", "query($r: ID!) { room(roomId: $r) { id name } }", { r: roomId }],
    ["members", "query($r: ID!) { members(roomId: $r) { userId username } }", { r: roomId }],
    ["markRead", "mutation($r: ID!, $m: ID!) { markRead(roomId: $r, messageId: $m) }", { r: roomId, m: messageId }],
  ];
  for (const [what, query, variables] of cases) {
    const res = await gql(user, query, variables);
    expectRefused(res, what);
    const body = res.json();
    expect({ what, data: body.data }).toEqual({ what, data: null });
    expect({ what, code: ["forbidden", "not_found"].includes(body.errors[0].extensions.code) }).toEqual({ what, code: true });
  }
});

test("the owner's read marker and the outsiders' refusals leave the owner's view intact", async () => {
  // Positive control on the same room and routes: a member gets the data the others were refused.
  const history = await call(owner, "GET", `/api/rooms/${roomId}/messages`);
  expect(history.statusCode).toBe(200);
  expect(history.json().messages.map((m: { id: string; body: string }) => [m.id, m.body])).toEqual([[messageId, SECRET]]);
  const viaGql = await gql(owner, "query($r: ID!) { messages(roomId: $r) { messages { body } } }", { r: roomId });
  expect(viaGql.json().data.messages.messages).toEqual([{ body: SECRET }]);
  expect((await call(owner, "POST", `/api/rooms/${roomId}/read`, { messageId })).statusCode).toBe(200);
});
