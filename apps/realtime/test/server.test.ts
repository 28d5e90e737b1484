/**
 * One realtime service started in-process on real Redis and Postgres: HTTP endpoints, the Engine.IO polling
 * handshake the ALB health check uses, handshake auth, revocation of open sockets, chat events, limits and
 * their error events, metrics and draining.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { ChatStore, Delivery, Presence, TokenService, createEmitter, createRedis, closeRedis, revokedBeforeKey, revokedSessionKey } from "@chat/shared";
import { startRealtime, type RunningRealtime } from "../src/app";
import { CLIENT_MSG_ID_MAX } from "@chat/shared/src/socket-events";
import { fixture, client, connected, send, sleep, untyped, type Fixture, type Client } from "./helpers";
import { freePort } from "../../../test/support/redis";

let f: Fixture;
let rt: RunningRealtime;
let url: string;
let userIds: string[];
let roomId: string;
const metricLines: string[] = [];
const logLines: string[] = [];
const open: Client[] = [];
/** A failure the server's dependencies throw instead of answering, while set. */
const inject: { authenticate?: unknown; roomsOf?: unknown; markRead?: unknown; authGate?: Promise<void>; authDone?: () => void } = {};

/** The log records with this `msg`, parsed. */
const logged = (msg: string) => logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === msg);

async function user(i: number, opts: Parameters<typeof connected>[2] = {}): Promise<Client> {
  const c = await connected(url, await f.token(userIds[i]), opts);
  open.push(c);
  return c;
}

async function refused(token: string | undefined, opts: Parameters<typeof client>[2] = {}, at = url): Promise<{ message: string; data: { code: string; message: string } }> {
  const c = client(at, token, opts);
  open.push(c);
  return (await c.next("connect_error")) as { message: string; data: { code: string; message: string } };
}

beforeAll(async () => {
  f = await fixture();
  ({ userIds, roomId } = await f.seed(8));
  const port = await freePort();
  rt = await startRealtime({
    env: f.env(port, {
      MAX_CONNECTIONS_PER_IP: "6",
      MAX_MESSAGES_PER_10S: "8",
      MAX_PAYLOAD_BYTES: "1024",
      REVOCATION_CHECK_MS: "200",
      SHUTDOWN_GRACE_MS: "1000",
      // The seeded room has 8 members: presence reaches it, and not a room of 9.
      PRESENCE_MAX_ROOM_SIZE: "8",
      LOG_LEVEL: "info",
    }),
    host: "127.0.0.1",
    writeMetric: (line) => metricLines.push(line),
    logDestination: new Writable({ write(chunk, _e, cb) { logLines.push(String(chunk)); cb(); } }) as never,
    wrapDeps: (deps) => ({
      ...deps,
      authenticate: async (token) => {
        if (inject.authenticate !== undefined) throw inject.authenticate;
        if (inject.authGate) await inject.authGate;
        try {
          return await deps.authenticate(token);
        } finally {
          inject.authDone?.();
        }
      },
      roomsOf: async (userId) => {
        if (inject.roomsOf !== undefined) throw inject.roomsOf;
        return deps.roomsOf(userId);
      },
      markRead: async (input) => {
        if (inject.markRead !== undefined) throw inject.markRead;
        return deps.markRead(input);
      },
    }),
  });
  url = `http://127.0.0.1:${rt.port}`;
});

afterAll(async () => {
  for (const c of open) c.close();
  await rt?.stop(1000);
  await f?.close();
});

/** Closes every client opened so far (limits count per IP, so tests start from zero connections). */
async function closeAll(): Promise<void> {
  for (const c of open.splice(0)) c.close();
  for (let i = 0; i < 50 && rt.server.connectionCount > 0; i++) await sleep(20);
  assert.equal(rt.server.connectionCount, 0);
}

test("GET /health, /ready and the Engine.IO polling handshake the load balancer probes", async () => {
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, "ok");
  const ready = await fetch(`${url}/ready`);
  assert.equal(ready.status, 200, await ready.clone().text());
  const poll = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(poll.status, 200);
  const body = await poll.text();
  assert.match(body, /^0\{/, "Engine.IO open packet");
  const open = JSON.parse(body.slice(1)) as { sid: string; upgrades: string[]; pingInterval: number };
  assert.ok(open.sid.length > 0);
  assert.deepEqual(open.upgrades, ["websocket"]);
  assert.equal(open.pingInterval, 1000, "PING_INTERVAL_MS reaches the server");
  assert.equal((await fetch(`${url}/nope`)).status, 404);
});

test("handshake auth: missing, malformed, forged, expired and revoked tokens are refused with a clear reason", async () => {
  const missing = await refused(undefined);
  assert.equal(missing.data.code, "auth_failed");
  assert.match(missing.message, /missing access token/);

  assert.match((await refused("not-a-jwt")).message, /malformed/);

  const forger = new TokenService({ keys: { current: { kid: "t1", secret: "x".repeat(40) } }, redis: f.kv });
  assert.match((await refused((await forger.sign(userIds[0], randomUUID())).token)).message, /not valid/);

  const past = new TokenService({ keys: f.keys, redis: f.kv, accessTtlSeconds: 60, now: () => Date.now() - 3_600_000 });
  const expired = await refused((await past.sign(userIds[0], randomUUID())).token);
  assert.equal(expired.data.code, "auth_failed");
  assert.match(expired.message, /expired/);

  const sid = randomUUID();
  const token = await f.token(userIds[0], sid);
  await f.kv.set(revokedSessionKey(sid), "1", "EX", 60);
  assert.match((await refused(token)).message, /revoked/);

  // The same token is accepted from the Authorization header once the revocation is lifted.
  await f.kv.del(revokedSessionKey(sid));
  const viaHeader = await connected(url, "", { auth: {}, extraHeaders: { authorization: `Bearer ${token}` } });
  open.push(viaHeader);
  assert.equal(viaHeader.socket.connected, true);
  assert.ok((rt.server.metrics.rejectionTotals().auth_failed ?? 0) >= 5);
  await closeAll();
});

test("an open socket is dropped when revoked: by the api's emitter broadcast, and by the periodic re-check", async () => {
  const redis = createRedis({ kind: "url", url: f.redis.url });
  try {
    const sid = randomUUID();
    const a = await connected(url, await f.token(userIds[0], sid));
    open.push(a);
    const revoker = new TokenService({ keys: f.keys, redis, emitter: createEmitter(redis) });
    await revoker.revokeSession(sid);
    assert.equal(await a.next("disconnect"), "io server disconnect");

    // A revocation whose broadcast was missed (key written, no emitter): the timer catches it.
    const b = await user(1);
    await f.kv.set(revokedBeforeKey(userIds[1]), String(Math.floor(Date.now() / 1000) + 1), "EX", 60);
    assert.equal((await b.next("error")).code, "revoked");
    assert.equal(await b.next("disconnect"), "io server disconnect");
    await f.kv.del(revokedBeforeKey(userIds[1]));
  } finally {
    await closeRedis(redis);
    await closeAll();
  }
});

test("message:send is acknowledged with the committed row and broadcast; presence, typing and read reach the room; read persists", async () => {
  const a = await user(0);
  const b = await user(1);
  assert.deepEqual(await a.next("presence", (p) => p.userId === userIds[1]), { userId: userIds[1], status: "online" });
  const ack = await send(a, { roomId, body: "hi", clientMsgId: "srv-1" });
  assert.equal(ack.ok, true);
  assert.equal(ack.message.body, "hi");
  assert.equal(ack.message.authorId, userIds[0]);
  assert.equal((await b.next("message:new", (m) => m.id === ack.message.id)).body, "hi");

  a.socket.emit("typing", { roomId, isTyping: true });
  assert.deepEqual(await b.next("typing"), { roomId, userId: userIds[0], isTyping: true });

  const readAck = await b.socket.timeout(3000).emitWithAck("read", { roomId, messageId: ack.message.id });
  assert.deepEqual(readAck, { ok: true });
  assert.deepEqual(await a.next("read"), { roomId, userId: userIds[1], messageId: ack.message.id });
  const { rows } = await f.pool.query("SELECT last_read_message_id::text AS id FROM room_members WHERE room_id = $1 AND user_id = $2", [roomId, userIds[1]]);
  assert.equal(rows[0].id, ack.message.id);
  b.close();
  assert.deepEqual(await a.next("presence", (p) => p.userId === userIds[1] && p.status === "offline"), { userId: userIds[1], status: "offline" });
  await closeAll();
});

/** Waits until the socket's membership of `room` on this task is `expected`. */
async function inRoom(c: Client, room: string, expected: boolean): Promise<void> {
  const has = () => rt.server.io.of("/").adapter.rooms.get(room)?.has(c.socket.id!) ?? false;
  for (let i = 0; i < 100 && has() !== expected; i++) await sleep(20);
  assert.equal(has(), expected, `socket ${expected ? "in" : "out of"} ${room}`);
}

test("membership changes reach open sockets: a room joined after connecting delivers live, leaving stops delivery, a replay after leaving is not_member", async () => {
  const redis = createRedis({ kind: "url", url: f.redis.url });
  try {
    // What the api does on create/join/leave: commit, then move the user's sockets through the emitter.
    const store = new ChatStore(f.pool);
    const delivery = new Delivery({ store, emitter: createEmitter(redis), presence: new Presence(redis) });
    const a = await user(0);
    const b = await user(1);
    // A positive signal instead of a wait: the broadcast had been written to every socket in the room when `a`
    // received it, so a marker sent to b's own user room afterwards arrives after it would have.
    const markerReaches = async (c: Client, id: string) => {
      createEmitter(redis).to(`user:${userIds[1]}`).emit("marker", id);
      await c.next("marker", (x) => x === id);
    };
    const room = await store.createRoom(userIds[0], "joined later");
    delivery.membershipChanged(userIds[0], room.id, true);
    await store.joinRoom(userIds[1], room.id);
    delivery.membershipChanged(userIds[1], room.id, true);
    await inRoom(b, `room:${room.id}`, true);

    const first = await send(a, { roomId: room.id, body: "after connect", clientMsgId: "mc-1" });
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.equal((await b.next("message:new", (m) => m.id === first.message.id)).body, "after connect");
    const own = await send(b, { roomId: room.id, body: "mine", clientMsgId: "mc-b1" });
    assert.equal(own.ok, true, JSON.stringify(own));

    await store.leaveRoom(userIds[1], room.id);
    delivery.membershipChanged(userIds[1], room.id, false);
    await inRoom(b, `room:${room.id}`, false);
    const second = await send(a, { roomId: room.id, body: "after leaving", clientMsgId: "mc-2" });
    assert.equal(second.ok, true);
    await a.next("message:new", (m) => m.id === second.message.id);
    await markerReaches(b, "after-second");
    assert.equal(b.of("message:new").filter((m) => m.id === second.message.id).length, 0, "no delivery after leaving");

    // The old clientMsgId re-sent after leaving: refused, and the socket is not put back in the room.
    const replay = await send(b, { roomId: room.id, body: "mine", clientMsgId: "mc-b1" });
    assert.equal(replay.ok, false, JSON.stringify(replay));
    assert.equal(replay.error.code, "not_member");
    await inRoom(b, `room:${room.id}`, false);
    const third = await send(a, { roomId: room.id, body: "still private", clientMsgId: "mc-3" });
    await a.next("message:new", (m) => m.id === third.message!.id);
    await markerReaches(b, "after-third");
    assert.equal(b.of("message:new").filter((m) => m.id === third.message!.id).length, 0);
  } finally {
    await closeRedis(redis);
    await closeAll();
  }
});

test("bad events get a clear error: invalid payloads, unknown events, rooms the user is not in", async () => {
  const a = await user(0);
  const bad = await send(a, { roomId, body: "", clientMsgId: "x" });
  assert.deepEqual(bad.ok, false);
  assert.equal(bad.error.code, "invalid_event");
  assert.match(bad.error.message, /body must be a non-empty string/);

  const badId = await send(a, { roomId, body: "x", clientMsgId: "has spaces" });
  assert.ok(!badId.ok);
  assert.equal(badId.error.code, "invalid_event");
  assert.match(badId.error.message, /clientMsgId/);
  // the one clientMsgId limit of the contract (apps/shared/src/socket-events.ts), checked here before the store
  const longId = await send(a, { roomId, body: "x", clientMsgId: "k".repeat(CLIENT_MSG_ID_MAX + 1) });
  assert.ok(!longId.ok);
  assert.equal(longId.error.code, "invalid_event");
  assert.equal(longId.error.message, `message:send: clientMsgId must be 1 to ${CLIENT_MSG_ID_MAX} characters of letters, digits, _ . : - (a client-generated unique id, reused on retry)`);

  const unknownRoom = await send(a, { roomId: randomUUID(), body: "x", clientMsgId: "nm-1" });
  assert.equal(unknownRoom.ok, false);
  assert.match(unknownRoom.error.message, /does not exist|not a member/);

  // A room that exists, with a member online, that this user is not in: every event about it is refused,
  // and nothing reaches the member (checked with a message the member does receive, sent after).
  const other = await f.seed(1);
  const insider = await connected(url, await f.token(other.userIds[0]));
  open.push(insider);
  const outsiderPost = await send(a, { roomId: other.roomId, body: "intrusion", clientMsgId: "nm-2" });
  assert.equal(outsiderPost.ok, false);
  assert.match(outsiderPost.error.code, /^(forbidden|not_found|not_member)$/);
  assert.ok(!JSON.stringify(outsiderPost).includes(other.userIds[0]), "the refusal names no member");
  a.socket.emit("typing", { roomId: other.roomId, isTyping: true });
  assert.equal((await a.next("error", (e) => e.code === "not_member" && e.message.includes(other.roomId))).code, "not_member");
  const outsiderRead = await new Promise<any>((resolve) => a.socket.emit("read", { roomId: other.roomId, messageId: "1" }, resolve));
  assert.deepEqual(outsiderRead, { ok: false, error: { code: "not_member", message: `you are not a member of room ${other.roomId}` } });
  const own = await send(insider, { roomId: other.roomId, body: "members only", clientMsgId: "in-1" });
  assert.equal(own.ok, true);
  await insider.next("message:new", (m) => m.id === own.message.id);
  assert.deepEqual(insider.of("message:new").map((m) => m.body), ["members only"], "the outsider's post never reached the member");
  assert.deepEqual(insider.of("typing"), [], "nor the outsider's typing");
  assert.deepEqual(insider.of("read"), [], "nor the outsider's read marker");

  untyped(a.socket).emit("shout", { hello: 1 });
  const unknown = await a.next("error", (e) => e.code === "invalid_event");
  assert.match(unknown.message, /unknown event "shout"/);

  const notMembers = rt.server.metrics.rejectionTotals().not_member ?? 0;
  const stranger = randomUUID();
  a.socket.emit("typing", { roomId: stranger, isTyping: true });
  assert.equal((await a.next("error", (e) => e.code === "not_member" && e.message.includes(stranger))).code, "not_member");
  assert.equal(rt.server.metrics.rejectionTotals().not_member, notMembers + 1, "not_member counted");
  await closeAll();
});

test("a broadcast to a session's room reaches its open sockets (how the api ends one session at once)", async () => {
  const redis = createRedis({ kind: "url", url: f.redis.url });
  try {
    const sid = randomUUID();
    const a = await connected(url, await f.token(userIds[0], sid));
    open.push(a);
    // No revocation is recorded, so only the broadcast can disconnect the socket.
    createEmitter(redis).in(`session:${sid}`).disconnectSockets(true);
    assert.equal(await a.next("disconnect"), "io server disconnect");
  } finally {
    await closeRedis(redis);
    await closeAll();
  }
});

test("handshake failures of the dependencies: an error without a message, room memberships that cannot be loaded", async () => {
  const token = await f.token(userIds[0]);
  try {
    inject.authenticate = new Error("");
    const blank = await refused(token);
    assert.deepEqual(blank.data, { code: "auth_failed", message: "invalid access token" });
    assert.ok(logged("connection refused").some((r) => r.reason === "auth_failed" && r.ip === "127.0.0.1"), "the refusal is logged with the client address");
    inject.authenticate = undefined;

    inject.roomsOf = new Error("database unreachable");
    const failed = rt.server.metrics.rejectionTotals().auth_failed ?? 0;
    const noRooms = await refused(token);
    assert.deepEqual(noRooms.data, { code: "auth_failed", message: "temporarily unable to load your rooms; retry shortly" });
    assert.equal(rt.server.metrics.rejectionTotals().auth_failed, failed + 1);
    assert.ok(
      logged("could not load room memberships").some((r) => r.userId === userIds[0] && r.error === "database unreachable"),
      "the failure is logged with the user and the error",
    );
    // The refused clients are still open: their slots were given back at the refusal.
    assert.equal(rt.server.connectionCount, 0);
  } finally {
    inject.authenticate = undefined;
    inject.roomsOf = undefined;
  }
  open.push(await connected(url, token));
  await closeAll();
});

test("a client that gives up during a slow handshake gives its connection slot back", async () => {
  let open_gate!: () => void;
  inject.authGate = new Promise<void>((resolve) => (open_gate = resolve));
  const authenticated = new Promise<void>((resolve) => (inject.authDone = resolve));
  try {
    const c = client(url, await f.token(userIds[0]));
    // The slot is taken at the handshake, before the token is checked.
    for (let i = 0; i < 100 && rt.server.connectionCount < 1; i++) await sleep(20);
    assert.equal(rt.server.connectionCount, 1);
    c.close();
    // The transport closed while authentication was still pending: the slot comes back without a disconnect.
    for (let i = 0; i < 100 && rt.server.connectionCount > 0; i++) await sleep(20);
    assert.equal(rt.server.connectionCount, 0, "the abandoned handshake still holds its slot");
    open_gate();
    await authenticated;
  } finally {
    inject.authGate = undefined;
    inject.authDone = undefined;
  }
  open.push(await connected(url, await f.token(userIds[0])));
  assert.equal(rt.server.connectionCount, 1);
  await closeAll();
});

test("read: without an acknowledgement, with an argument that is not one, and a store failure answered as internal_error", async () => {
  const a = await user(0);
  const b = await user(1);
  const { message } = (await send(a, { roomId, body: "to read", clientMsgId: "rd-1" })) as { message: { id: string } };
  b.socket.emit("read", { roomId, messageId: message.id });
  assert.deepEqual(await a.next("read", (r) => r.userId === userIds[1]), { roomId, userId: userIds[1], messageId: message.id });
  const seen = a.events.length;
  untyped(b.socket).emit("read", { roomId, messageId: message.id }, "not a callback");
  await a.next("read", () => true, 5000, seen);
  try {
    inject.markRead = new Error("database unreachable");
    const failed = await b.socket.timeout(3000).emitWithAck("read", { roomId, messageId: message.id });
    assert.deepEqual(failed, {
      ok: false,
      error: { code: "internal_error", message: "read failed on the server; retry (a retried message:send with the same clientMsgId is not duplicated)" },
    });
  } finally {
    inject.markRead = undefined;
  }
  await closeAll();
});

test("presence goes only to rooms up to PRESENCE_MAX_ROOM_SIZE members", async () => {
  const big = await f.seed(9);
  const first = await connected(url, await f.token(big.userIds[0]));
  open.push(first);
  const second = await connected(url, await f.token(big.userIds[1]));
  open.push(second);
  second.socket.emit("typing", { roomId: big.roomId, isTyping: true });
  // The typing event was sent after the second user came online: had presence been sent, it came first.
  await first.next("typing", (t) => t.userId === big.userIds[1]);
  assert.deepEqual(first.of("presence"), []);
  await closeAll();
});

test("limits: connections per IP, events per 10 s and payload size each answer with their error", async () => {
  const six = [];
  for (let i = 0; i < 6; i++) six.push(await user(i));
  const seventh = await refused(await f.token(userIds[6]));
  assert.equal(seventh.data.code, "too_many_connections_from_ip");
  assert.match(seventh.message, /limit 6/);
  // A slot freed is reusable.
  six[5].close();
  for (let i = 0; i < 50 && rt.server.connectionCount > 5; i++) await sleep(20);
  open.push(await connected(url, await f.token(userIds[6])));
  // Closing one socket freed one slot, not two (its close and its disconnect release it once).
  const eighth = await refused(await f.token(userIds[7]));
  assert.equal(eighth.data.code, "too_many_connections_from_ip");
  assert.ok(
    logged("connection refused").some((r) => r.reason === "too_many_connections_from_ip" && r.ip === "127.0.0.1"),
    "the refusal is logged with the client address",
  );
  await closeAll();

  const a = await user(0);
  for (let i = 0; i < 8; i++) a.socket.emit("typing", { roomId, isTyping: i % 2 === 0 });
  a.socket.emit("typing", { roomId, isTyping: true });
  const limited = await a.next("error", (e) => e.code === "rate_limited");
  assert.match(limited.message, /more than 8 events in 10 s/);
  const refusedAck = await send(a, { roomId, body: "one more", clientMsgId: "rl-1" });
  assert.equal(refusedAck.ok, false);
  assert.equal(refusedAck.error.code, "rate_limited");

  const b = await user(1);
  const big = await send(b, { roomId, body: "x".repeat(1500), clientMsgId: "big-1" });
  assert.equal(big.ok, false);
  assert.equal(big.error.code, "payload_too_large");
  assert.match(big.error.message, /limit is 1024 bytes/);
  assert.equal((await b.next("error", (e) => e.code === "payload_too_large")).code, "payload_too_large");
  // A frame past maxHttpBufferSize never reaches the handlers: the transport is closed.
  b.socket.emit("message:send", { roomId, body: "y".repeat(5000), clientMsgId: "huge-1" });
  assert.equal(await b.next("disconnect"), "transport close");

  const totals = rt.server.metrics.rejectionTotals();
  for (const reason of ["too_many_connections_from_ip", "rate_limited", "payload_too_large", "frame_too_large"]) assert.ok((totals[reason] ?? 0) >= 1, reason);
  await closeAll();
});

test("refusals below Socket.IO are counted by reason: an unknown session id, an oversize polling frame", async () => {
  const count = (reason: string) => rt.server.metrics.rejectionTotals()[reason] ?? 0;
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  const handshakes = count("invalid_handshake");
  const unknown = await fetch(`${base}&sid=no-such-session`);
  assert.equal(unknown.status, 400);
  await unknown.text();
  assert.equal(count("invalid_handshake"), handshakes + 1);

  // MAX_PAYLOAD_BYTES=1024 here, so maxHttpBufferSize is 3072 bytes: a 5000-byte POST is refused with 413.
  const session = JSON.parse((await (await fetch(base)).text()).slice(1)) as { sid: string };
  const frames = count("frame_too_large");
  const big = await fetch(`${base}&sid=${session.sid}`, { method: "POST", body: `42${JSON.stringify(["typing", "x".repeat(5000)])}` });
  assert.equal(big.status, 413);
  await big.text();
  for (let i = 0; i < 50 && count("frame_too_large") === frames; i++) await sleep(10);
  assert.equal(count("frame_too_large"), frames + 1);
});

test("slow consumer: a client that stops reading is disconnected once its buffered bytes pass the threshold", async () => {
  // A long-polling client that connects and then never polls again: what the server sends piles up.
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  const open = JSON.parse((await (await fetch(base)).text()).slice(1)) as { sid: string };
  const session = `${base}&sid=${open.sid}`;
  const token = await f.token(userIds[7]);
  assert.equal(await (await fetch(session, { method: "POST", body: `40${JSON.stringify({ token })}` })).text(), "ok");
  assert.match(await (await fetch(session)).text(), /^40/, "namespace connect acknowledged");
  for (let i = 0; i < 50 && rt.server.connectionCount < 1; i++) await sleep(20);
  const before = rt.server.metrics.rejectionTotals().slow_consumer ?? 0;

  const redis = createRedis({ kind: "url", url: f.redis.url });
  try {
    const emitter = createEmitter(redis);
    const body = "z".repeat(64 * 1024);
    for (let i = 0; i < 20; i++) emitter.to(`room:${roomId}`).emit("message:new", { id: String(i), roomId, body });
    const deadline = Date.now() + 1500;
    while ((rt.server.metrics.rejectionTotals().slow_consumer ?? 0) === before && Date.now() < deadline) await sleep(20);
    assert.equal(rt.server.metrics.rejectionTotals().slow_consumer, before + 1, "slow consumer disconnected");
    for (let i = 0; i < 50 && rt.server.connectionCount > 0; i++) await sleep(20);
    assert.equal(rt.server.connectionCount, 0);
  } finally {
    await closeRedis(redis);
  }
});

test("metrics: ActiveConnections, EventLoopLagMs and Rejections by reason in the service's namespace", async () => {
  const a = await user(0);
  metricLines.length = 0;
  rt.server.metrics.flush();
  const docs = metricLines.map((l) => JSON.parse(l) as Record<string, any>);
  const main = docs.find((d) => "ActiveConnections" in d);
  assert.ok(main, metricLines.join("\n"));
  assert.equal(main.ActiveConnections, 1);
  assert.equal(main.ServiceName, "chat-test-realtime");
  assert.equal(main._aws.CloudWatchMetrics[0].Namespace, "chat-test");
  assert.ok(docs.some((d) => "EventLoopLagMs" in d), "EventLoopLagMs written");
  assert.ok(main.Rejections >= 3, "rejections of the earlier tests counted in total");
  const byReason = docs.find((d) => d.Reason === "payload_too_large");
  assert.ok(byReason, "a Rejections line with the Reason dimension");
  assert.ok(byReason.Rejections >= 1);
  assert.deepEqual(byReason._aws.CloudWatchMetrics[0].Dimensions, [["ServiceName", "Reason"]]);
  a.close();
  await closeAll();
});

test("draining: readiness fails, new handshakes are refused, connected clients are told to reconnect", async () => {
  const a = await user(0, { reconnection: true, reconnectionDelay: 5000 });
  const draining = rt.server.drain(2000);
  assert.equal(await a.next("disconnect"), "transport close");
  const ready = await fetch(`${url}/ready`);
  assert.equal(ready.status, 503);
  assert.equal(((await ready.json()) as { status: string }).status, "draining");
  const drained = rt.server.metrics.rejectionTotals().server_draining ?? 0;
  const late = await refused(await f.token(userIds[1]));
  assert.equal(late.data.code, "server_draining");
  assert.equal(rt.server.metrics.rejectionTotals().server_draining, drained + 1, "counted as server_draining");
  assert.match(late.message, /reconnect/);
  await draining;
  // After the drain the listener is gone, so nothing is accepted any more.
  const after = await fetch(`${url}/health`).then(() => "answered", () => "refused");
  assert.equal(after, "refused");
});
