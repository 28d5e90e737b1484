/**
 * Hostile text and ids: NUL bytes, unpaired surrogates and ids above PostgreSQL's bigint get a 400 naming the
 * field (never a 500); database data errors (SQLSTATE class 22) map to 400; the message length is counted in
 * Unicode code points in the api schema, the store and the database alike.
 */
import assert from "node:assert/strict";
import { ChatStore, ChatError, MESSAGE_BODY_MAX, codePoints } from "@chat/shared";
import { startApi, register, type TestApi, type Session } from "./helpers";
import { toHttpError } from "../src/errors";

let t: TestApi;
let ann: Session;
let roomId: string;
let messageId: string;
beforeAll(async () => {
  t = await startApi("api_input");
  ann = await register(t.app, "ann");
  roomId = (await call("POST", "/api/rooms", { name: "text" })).json().room.id;
  messageId = (await call("POST", `/api/rooms/${roomId}/messages`, { body: "first", clientMsgId: "m-1" })).json().message.id;
});
afterAll(async () => {
  await t?.close();
});

function call(method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object | string) {
  const headers: Record<string, string> = { ...ann.auth };
  if (typeof payload === "string") headers["content-type"] = "application/json";
  return t.app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
}
const gql = (query: string, variables: object = {}) => t.app.inject({ method: "POST", url: "/graphql", headers: ann.auth, payload: { query, variables } });
const errorOf = (r: { statusCode: number; json(): { error: { code: string; message: string } } }) => [r.statusCode, r.json().error.code, r.json().error.message] as const;

test("NUL bytes in a message body, a room name or a display name: 400 naming the field, nothing stored", async () => {
  const [status, code, message] = errorOf(await call("POST", `/api/rooms/${roomId}/messages`, { body: "a\u0000b", clientMsgId: "nul-1" }));
  assert.deepEqual([status, code], [400, "bad_request"]);
  assert.match(message, /^body must not contain NUL characters/);
  assert.match(errorOf(await call("POST", "/api/rooms", { name: "x\u0000" }))[2], /^name must not contain NUL/);
  assert.match(errorOf(await call("PATCH", `/api/messages/${messageId}`, { body: "\u0000" }))[2], /^body must not contain NUL/);
  const reg = await t.app.inject({ method: "POST", url: "/api/auth/register", payload: { username: "nul_user", password: "correct horse battery", displayName: "N\u0000" } });
  assert.deepEqual([reg.statusCode, reg.json().error.code], [400, "bad_request"]);
  assert.match(reg.json().error.message, /^displayName must not contain NUL/);
  const g = await gql(`mutation($r: ID!) { postMessage(roomId: $r, body: "x\\u0000y", clientMsgId: "nul-g") { created } }`, { r: roomId });
  assert.deepEqual([g.statusCode, g.json().errors[0].extensions.code], [400, "bad_request"]);
  assert.match(g.json().errors[0].message, /^body must not contain NUL/);
  assert.equal((await t.pool.query("SELECT count(*)::int AS n FROM messages")).rows[0].n, 1);
  assert.equal((await t.pool.query("SELECT count(*)::int AS n FROM users WHERE username = 'nul_user'")).rows[0].n, 0);
});

test("unpaired surrogates are refused, not replaced", async () => {
  // Written as JSON escapes: JSON.parse turns "\ud800" into a lone surrogate, which UTF-8 cannot encode.
  const raw = (body: string) => `{"body":"${body}","clientMsgId":"sur-1"}`;
  const r = await call("POST", `/api/rooms/${roomId}/messages`, raw("hi \\ud800 there"));
  assert.deepEqual(errorOf(r).slice(0, 2), [400, "bad_request"]);
  assert.match(errorOf(r)[2], /^body is not valid Unicode/);
  assert.equal((await t.pool.query("SELECT count(*)::int AS n FROM messages WHERE body LIKE '%' || chr(65533) || '%'")).rows[0].n, 0, "no U+FFFD stored");
  assert.match(errorOf(await call("POST", "/api/rooms", `{"name":"\\udc00room"}`))[2], /^name is not valid Unicode/);
  const pair = await call("POST", `/api/rooms/${roomId}/messages`, raw("ok \\ud83d\\ude00"));
  assert.equal(pair.statusCode, 201, "a well-formed pair (an emoji) is fine");
});

test("19-digit ids above 2^63-1 in before, edit, delete and read markers: 400 naming the field", async () => {
  const huge = "9999999999999999999";
  const before = errorOf(await call("GET", `/api/rooms/${roomId}/messages?before=${huge}`));
  assert.deepEqual(before.slice(0, 2), [400, "bad_request"]);
  assert.match(before[2], /^before .* must be a message id: a positive integer up to 9223372036854775807/);
  for (const [method, payload] of [["PATCH", { body: "x" }], ["DELETE", undefined]] as const) {
    const r = errorOf(await call(method, `/api/messages/${huge}`, payload));
    assert.deepEqual(r.slice(0, 2), [400, "bad_request"], `${method}: ${r[2]}`);
    assert.match(r[2], /^messageId must be a message id/);
  }
  const read = errorOf(await call("POST", `/api/rooms/${roomId}/read`, { messageId: huge }));
  assert.deepEqual(read.slice(0, 2), [400, "bad_request"]);
  assert.match(read[2], /^messageId must be a message id/);
  assert.equal((await call("GET", `/api/rooms/${roomId}/messages?before=9223372036854775807`)).statusCode, 200, "the largest bigint is a valid cursor");
  const g = await gql(`query($r: ID!) { messages(roomId: $r, before: "${huge}") { nextCursor } }`, { r: roomId });
  assert.deepEqual([g.statusCode, g.json().errors[0].extensions.code], [400, "bad_request"]);
  const e = await gql(`mutation { editMessage(messageId: "${huge}", body: "x") { id } }`);
  assert.deepEqual([e.statusCode, e.json().errors[0].extensions.code], [400, "bad_request"]);
  const lines = t.logLines.filter((l) => /"level":\s*"?(error|50)"?/i.test(l) || /"level":"ERROR"/i.test(l));
  assert.deepEqual(lines, [], "no request was logged as an error");
});

test("PostgreSQL data errors (SQLSTATE class 22) that slip past validation answer 400, not 500", async () => {
  const err = await t.pool.query("SELECT $1::bigint", ["9999999999999999999"]).then(() => undefined, (e: unknown) => e);
  assert.equal((err as { code: string }).code, "22003");
  const mapped = toHttpError(err);
  assert.deepEqual([mapped?.status, mapped?.code], [400, "bad_request"]);
  assert.match(mapped!.message, /SQLSTATE 22003/);
  const text = await t.pool.query("SELECT $1::text", ["a\u0000b"]).then(() => undefined, (e: unknown) => e);
  assert.equal(toHttpError(text)?.status, 400, `NUL in a text parameter: ${(text as Error).message}`);
});

test("the message length is counted in code points everywhere: 4000 emoji pass the schema, the store and the database; 4001 fail each", async () => {
  assert.equal(MESSAGE_BODY_MAX, 4000);
  const max = "\u{1F600}".repeat(MESSAGE_BODY_MAX); // 8000 UTF-16 code units, 16000 UTF-8 bytes
  assert.equal(codePoints(max), 4000);
  const ok = await call("POST", `/api/rooms/${roomId}/messages`, { body: max, clientMsgId: "len-1" });
  assert.equal(ok.statusCode, 201, ok.body.slice(0, 200));
  const over = await call("POST", `/api/rooms/${roomId}/messages`, { body: max + "\u{1F600}", clientMsgId: "len-2" });
  assert.equal(over.statusCode, 400);
  assert.match(over.json().error.message, /must NOT have more than 4000 characters/);

  const store = new ChatStore(t.pool);
  await assert.rejects(store.postMessage({ userId: ann.userId, roomId, body: max + "x", clientMsgId: "len-3" }), (e: ChatError) => e.code === "bad_request" && /got 4001/.test(e.message));
  assert.equal((await store.postMessage({ userId: ann.userId, roomId, body: max, clientMsgId: "len-4" })).created, true);

  const db = await t.pool.query("INSERT INTO messages (room_id, author_id, body, client_msg_id) VALUES ($1, $2, $3, 'len-5')", [roomId, ann.userId, max + "x"]).then(() => undefined, (e: unknown) => e);
  assert.equal((db as { constraint?: string }).constraint, "messages_body_length");
  const { rows } = await t.pool.query("SELECT char_length(body) AS n FROM messages WHERE client_msg_id = 'len-1'");
  assert.equal(rows[0].n, 4000);
});
