import assert from "node:assert/strict";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { Presence, parseJob } from "@chat/shared";
import { socketRoom } from "../../shared/test/socket-room";
import { startApi, register, type TestApi, type Session } from "./helpers";
import { buildServices } from "../src/services";
import { buildApp } from "../src/app";

let t: TestApi;
let alice: Session, bob: Session, carol: Session, dave: Session;
let roomId: string;

beforeAll(async () => {
  t = await startApi("api_chat", { sqs: true });
  [alice, bob, carol, dave] = [await register(t.app, "alice"), await register(t.app, "bob"), await register(t.app, "carol"), await register(t.app, "dave")];
});
afterAll(async () => {
  await t?.close();
});

const call = (who: Session, method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object) =>
  t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });

async function jobsOn(queueUrl: string): Promise<string[]> {
  const users: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await t.sqs!.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    if (!r.Messages?.length && i >= 2) break;
    for (const m of r.Messages ?? []) {
      const p = parseJob(m.Body);
      assert.ok(p.ok);
      if (p.ok) users.push(p.job.userId);
    }
  }
  return users.sort();
}

test("rooms: create, list, join, members, get, leave", async () => {
  const created = await call(alice, "POST", "/api/rooms", { name: "general" });
  assert.equal(created.statusCode, 201);
  roomId = created.json().room.id;
  for (const u of [bob, carol]) assert.equal((await call(u, "POST", `/api/rooms/${roomId}/join`)).statusCode, 200);
  const members = await call(bob, "GET", `/api/rooms/${roomId}/members`);
  assert.deepEqual(members.json().members.map((m: { username: string }) => m.username).sort(), ["alice", "bob", "carol"]);
  assert.deepEqual((await call(carol, "GET", "/api/rooms")).json().rooms.map((r: { name: string }) => r.name), ["general"]);
  assert.equal((await call(carol, "GET", `/api/rooms/${roomId}`)).json().room.name, "general");
  const outsider = await call(dave, "GET", `/api/rooms/${roomId}/members`);
  assert.deepEqual([outsider.statusCode, outsider.json().error.code], [404, "not_found"], "a non-member is answered as for an unknown room");
  await call(dave, "POST", `/api/rooms/${roomId}/join`);
  assert.equal((await call(dave, "POST", `/api/rooms/${roomId}/leave`)).statusCode, 200);
  assert.equal((await call(dave, "GET", `/api/rooms/${roomId}`)).statusCode, 404);
});

test("a posted message is persisted, reaches a socket in the room through Redis and queues push jobs for offline members", async () => {
  await new Presence(t.redis).markOnline([bob.userId]);
  const socket = await socketRoom(t.redisServer.url, [`room:${roomId}`]);
  try {
    const res = await call(alice, "POST", `/api/rooms/${roomId}/messages`, { body: "hello room", clientMsgId: "c-1" });
    assert.equal(res.statusCode, 201);
    const { message, created } = res.json();
    assert.equal(created, true);
    const row = await t.pool.query("SELECT body, author_id FROM messages WHERE id = $1", [message.id]);
    assert.deepEqual(row.rows[0], { body: "hello room", author_id: alice.userId });
    const [payload] = await socket.next("message:new");
    assert.deepEqual(payload, message);
    assert.deepEqual(await jobsOn(t.pushQueueUrl!), [carol.userId], "bob is online, alice is the author");
    assert.deepEqual(await jobsOn(t.offlineQueueUrl!), [carol.userId]);

    const again = await call(alice, "POST", `/api/rooms/${roomId}/messages`, { body: "hello room", clientMsgId: "c-1" });
    assert.equal(again.statusCode, 200, "a retry returns the same message");
    assert.deepEqual([again.json().created, again.json().message.id], [false, message.id]);
    assert.equal((await t.pool.query("SELECT count(*)::int AS n FROM messages")).rows[0].n, 1);

    const edited = await call(alice, "PATCH", `/api/messages/${message.id}`, { body: "hello, room" });
    assert.equal(edited.json().message.body, "hello, room");
    assert.equal(((await socket.next("message:updated"))[0] as { body: string }).body, "hello, room");
    assert.equal((await call(bob, "PATCH", `/api/messages/${message.id}`, { body: "mine" })).statusCode, 403);
    assert.equal((await call(bob, "DELETE", `/api/messages/${message.id}`)).statusCode, 403);
    const deleted = await call(alice, "DELETE", `/api/messages/${message.id}`);
    assert.deepEqual([deleted.statusCode, deleted.json().message.body], [200, ""]);
    assert.ok(((await socket.next("message:deleted"))[0] as { deletedAt: string }).deletedAt);
  } finally {
    await socket.close();
  }
});

test("history pages with a cursor; unread counts follow the read marker", async () => {
  for (let i = 1; i <= 5; i++) assert.equal((await call(bob, "POST", `/api/rooms/${roomId}/messages`, { body: `m${i}`, clientMsgId: `b-${i}` })).statusCode, 201);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `?limit=2&before=${cursor}` : "?limit=2";
    const page = await call(carol, "GET", `/api/rooms/${roomId}/messages${q}`);
    assert.equal(page.statusCode, 200);
    seen.push(...page.json().messages.map((m: { body: string }) => m.body));
    cursor = page.json().nextCursor;
  } while (cursor);
  assert.deepEqual(seen, ["m5", "m4", "m3", "m2", "m1", ""], "newest first, the deleted message with an empty body");

  const unread = (who: Session) => call(who, "GET", "/api/unread").then((r) => r.json().rooms[0].unread);
  assert.equal(await unread(carol), 5);
  assert.equal(await unread(bob), 0, "own messages do not count");
  const { messages } = (await call(carol, "GET", `/api/rooms/${roomId}/messages?limit=3`)).json();
  assert.equal((await call(carol, "POST", `/api/rooms/${roomId}/read`, { messageId: messages[2].id })).statusCode, 200);
  assert.equal(await unread(carol), 2);
  assert.equal((await call(carol, "GET", "/api/rooms")).json().rooms[0].unread, 2);
});

test("offline digests written by the workers are listed once", async () => {
  const m = await t.pool.query("SELECT id FROM messages ORDER BY id DESC LIMIT 1");
  await t.pool.query("INSERT INTO offline_digests (user_id, room_id, message_id) VALUES ($1, $2, $3)", [carol.userId, roomId, m.rows[0].id]);
  const first = await call(carol, "GET", "/api/me/digest");
  assert.deepEqual(first.json().missed.map((d: { messageId: string }) => d.messageId), [String(m.rows[0].id)]);
  assert.deepEqual((await call(carol, "GET", "/api/me/digest")).json().missed, []);
});

test("when push jobs cannot be queued the post answers 503, and a retry with the same clientMsgId completes delivery", async () => {
  const broken = await buildApp(buildServices({ ...t.s, pushQueueUrl: `${t.sqs!.endpoint}/000000000000/no-such-queue` }));
  await broken.ready();
  await jobsOn(t.pushQueueUrl!); // push jobs left by earlier tests
  try {
    const payload = { body: "important", clientMsgId: "retry-me" };
    const first = await broken.inject({ method: "POST", url: `/api/rooms/${roomId}/messages`, headers: alice.auth, payload });
    assert.deepEqual([first.statusCode, first.json().error.code, first.headers["retry-after"]], [503, "delivery_pending", "1"]);
    await jobsOn(t.offlineQueueUrl!); // jobs of earlier tests, and this post's offline job (sent before the push failure surfaced)
    const retry = await call(alice, "POST", `/api/rooms/${roomId}/messages`, payload);
    assert.deepEqual([retry.statusCode, retry.json().created], [200, false]);
    assert.deepEqual(await jobsOn(t.pushQueueUrl!), [carol.userId], "the retry queued the push job");
    assert.equal((await t.pool.query("SELECT count(*)::int AS n FROM messages WHERE client_msg_id = 'retry-me'")).rows[0].n, 1);
  } finally {
    await broken.close();
  }
});

/** Broadcasts a probe to `room` and reports whether the socket received it within 150 ms. */
async function reaches(socket: Awaited<ReturnType<typeof socketRoom>>, room: string): Promise<boolean> {
  const id = `probe-${Math.random()}`;
  t.s.emitter.to(room).emit("probe", id);
  for (let i = 0; i < 15; i++) {
    if (socket.events.some((e) => e.event === "probe" && e.args[0] === id)) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

/** Probes until the socket's membership of `room` is `expected` (the move travels through Redis). */
async function becomes(socket: Awaited<ReturnType<typeof socketRoom>>, room: string, expected: boolean): Promise<void> {
  let last = !expected;
  for (let i = 0; i < 20 && last !== expected; i++) last = await reaches(socket, room);
  assert.equal(last, expected, `socket ${expected ? "in" : "out of"} ${room}`);
}

test("create, join and leave move the user's open sockets (on any realtime task) in and out of the room", async () => {
  // A socket of dave's on a Socket.IO server with the Redis adapter, in user:<dave> only (as after connecting).
  const socket = await socketRoom(t.redisServer.url, [`user:${dave.userId}`]);
  try {
    const created = await call(dave, "POST", "/api/rooms", { name: "dave's" });
    assert.equal(created.statusCode, 201);
    await becomes(socket, `room:${created.json().room.id}`, true);

    assert.equal((await call(dave, "POST", `/api/rooms/${roomId}/join`)).statusCode, 200);
    await becomes(socket, `room:${roomId}`, true);
    const posted = await call(alice, "POST", `/api/rooms/${roomId}/messages`, { body: "welcome dave", clientMsgId: "join-1" });
    const [live] = await socket.next("message:new");
    assert.equal((live as { id: string }).id, posted.json().message.id);

    assert.equal((await call(dave, "POST", `/api/rooms/${roomId}/leave`)).statusCode, 200);
    await becomes(socket, `room:${roomId}`, false);
    assert.equal(await reaches(socket, `room:${created.json().room.id}`), true, "other rooms are kept");
  } finally {
    await socket.close();
  }
});

test("push and offline jobs carry the request id of the post as correlationId", async () => {
  await jobsOn(t.pushQueueUrl!); // jobs of earlier tests
  await jobsOn(t.offlineQueueUrl!);
  const res = await t.app.inject({
    method: "POST", url: `/api/rooms/${roomId}/messages`, headers: { ...alice.auth, "x-request-id": "req-corr-1" },
    payload: { body: "traced", clientMsgId: "corr-1" },
  });
  assert.equal(res.statusCode, 201);
  for (const queueUrl of [t.pushQueueUrl!, t.offlineQueueUrl!]) {
    const r = await t.sqs!.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    const jobs = (r.Messages ?? []).map((m) => parseJob(m.Body));
    assert.ok(jobs.length >= 1, `a job on ${queueUrl}`);
    for (const j of jobs) {
      assert.ok(j.ok);
      if (j.ok) assert.deepEqual([j.job.messageId, j.job.correlationId], [res.json().message.id, "req-corr-1"]);
    }
  }
});
