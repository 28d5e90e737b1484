/**
 * Two realtime processes (main.ts as child processes) on one private Redis and one Postgres database:
 * cross-process delivery, delivery from the api path through the Redis emitter, recovery from a Redis
 * restart without losing an acknowledged message, and SIGTERM with clients reconnecting to the other process.
 */
import assert from "node:assert/strict";
import { ChatStore, Delivery, Presence, createEmitter, createRedis, closeRedis } from "@chat/shared";
import { spawn } from "node:child_process";
import { join as joinPath } from "node:path";
import { freePort } from "../../../test/support/redis";
import { fixture, spawnRealtime, connected, client, send, balancer, sleep, type Fixture, type Proc, type Client } from "./helpers";

const ROOT = joinPath(__dirname, "..", "..", "..");
let f: Fixture;
let p1: Proc;
let p2: Proc;
let userIds: string[];
let roomId: string;
const open: Client[] = [];

async function join(proc: Proc | string, userId: string): Promise<Client> {
  const c = await connected(typeof proc === "string" ? proc : proc.url, await f.token(userId));
  open.push(c);
  return c;
}

async function waitReady(p: Proc, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`${p.url}/ready`).catch(() => undefined);
    if (r?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${p.url}/ready not 200 within ${timeoutMs} ms (last ${r?.status}: ${await r?.text()})`);
    await sleep(100);
  }
}

beforeAll(async () => {
  f = await fixture();
  ({ userIds, roomId } = await f.seed(6));
  [p1, p2] = await Promise.all([
    spawnRealtime(f, { SHUTDOWN_GRACE_MS: "3000" }),
    spawnRealtime(f, { SHUTDOWN_GRACE_MS: "3000" }),
  ]);
});

afterAll(async () => {
  for (const c of open) c.close();
  await Promise.all([p1?.stop(), p2?.stop()]);
  await f?.close();
});

test("a message sent through one process reaches clients of both, acknowledged after the commit", async () => {
  const a = await join(p1, userIds[0]);
  const b = await join(p2, userIds[1]);
  const ack = await send(a, { roomId, body: "hello across tasks", clientMsgId: "cross-1" });
  assert.equal(ack.ok, true, JSON.stringify(ack));
  const { rows } = await f.pool.query("SELECT body FROM messages WHERE id = $1", [ack.message.id]);
  assert.equal(rows[0]?.body, "hello across tasks", "acknowledged message is committed");
  for (const c of [a, b]) {
    const m = await c.next("message:new", (x) => x.id === ack.message.id);
    assert.equal(m.body, "hello across tasks");
    assert.equal(m.roomId, roomId);
  }
  // A retry with the same clientMsgId (lost ack) returns the same row and creates no second one.
  const retry = await send(a, { roomId, body: "hello across tasks", clientMsgId: "cross-1" });
  assert.equal(retry.message!.id, ack.message!.id);
  const count = await f.pool.query("SELECT count(*)::int AS n FROM messages WHERE client_msg_id = 'cross-1'");
  assert.equal(count.rows[0].n, 1);
  a.close();
  b.close();
});

test("a message posted through the api path (store + emitter) reaches clients on both processes", async () => {
  const a = await join(p1, userIds[2]);
  const b = await join(p2, userIds[3]);
  const redis = createRedis({ kind: "url", url: f.redis.url });
  try {
    const store = new ChatStore(f.pool);
    const delivery = new Delivery({ store, emitter: createEmitter(redis), presence: new Presence(redis) });
    const { message } = await store.postMessage({ userId: userIds[0], roomId, body: "from the api", clientMsgId: "api-1" });
    await delivery.deliver(message);
    for (const c of [a, b]) assert.equal((await c.next("message:new", (x) => x.id === message.id)).body, "from the api");
  } finally {
    await closeRedis(redis);
    a.close();
    b.close();
  }
});

test("the api process: a message posted over REST reaches clients on both processes; logout drops the socket", async () => {
  const port = await freePort();
  const api = spawn(process.execPath, ["--import", "tsx", joinPath(ROOT, "apps/api/src/main.ts")], {
    cwd: ROOT,
    env: f.env(port, { LOG_LEVEL: "error" }),
    stdio: ["ignore", "ignore", "pipe"],
  });
  let apiErr = "";
  api.stderr!.on("data", (d: Buffer) => (apiErr += d.toString()));
  const base = `http://127.0.0.1:${port}/api`;
  const clients: Client[] = [];
  try {
    for (let i = 0; ; i++) {
      const r = await fetch(`${base}/ready`).catch(() => undefined);
      if (r?.status === 200) break;
      if (i > 200 || api.exitCode !== null) throw new Error(`api not ready: ${apiErr}`);
      await sleep(100);
    }
    const call = async (path: string, body: unknown, token?: string) => {
      const r = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      const text = await r.text();
      const json = (text ? JSON.parse(text) : {}) as any;
      assert.ok(r.status < 300, `${path}: ${r.status} ${JSON.stringify(json)}`);
      return json;
    };
    const alice = await call("/auth/register", { username: `alice_${process.pid}`, password: "correct horse battery" });
    const bob = await call("/auth/register", { username: `bob_${process.pid}`, password: "correct horse battery" });
    const { room } = await call("/rooms", { name: "api to realtime" }, alice.accessToken);
    const apiRoomId: string = room.id;
    await call(`/rooms/${apiRoomId}/join`, {}, bob.accessToken);

    const a = await connected(p1.url, alice.accessToken);
    const b = await connected(p2.url, bob.accessToken);
    clients.push(a, b);
    const posted = await call(`/rooms/${apiRoomId}/messages`, { body: "posted over REST", clientMsgId: "rest-1" }, alice.accessToken);
    for (const c of [a, b]) assert.equal((await c.next("message:new", (m) => m.id === posted.message.id)).body, "posted over REST");

    await call("/auth/logout", {}, bob.accessToken);
    assert.equal(await b.next("disconnect"), "io server disconnect", "the api's revocation reaches the socket on the other process");
    assert.equal(a.socket.connected, true);
  } finally {
    for (const c of clients) c.close();
    api.kill("SIGTERM");
    if (api.exitCode === null) await new Promise((r) => api.once("exit", r));
  }
});

test("Redis restarted mid-stream: both processes recover, delivery resumes, no acknowledged message is lost", async () => {
  const a = await join(p1, userIds[4]);
  const b = await join(p2, userIds[5]);
  const acked = new Set<string>();
  let stop = false;
  let n = 0;
  const sender = (async () => {
    while (!stop) {
      const clientMsgId = `restart-${n++}`;
      // Retry with the same clientMsgId until acknowledged, as a client does after a lost ack.
      for (let attempt = 0; attempt < 50 && !stop; attempt++) {
        const r = await send(a, { roomId, body: `m ${clientMsgId}`, clientMsgId }, 2000).catch(() => undefined);
        if (r?.ok) {
          acked.add(r.message.id);
          break;
        }
        await sleep(100);
      }
      await sleep(40);
    }
  })();
  await sleep(500);
  await f.redis.restart(1000);
  await sleep(500);
  await Promise.all([waitReady(p1), waitReady(p2)]);
  await sleep(500);
  stop = true;
  await sender;
  assert.ok(acked.size >= 10, `only ${acked.size} messages acknowledged`);

  // Delivery resumes: a fresh message reaches both.
  const fresh = await send(b, { roomId, body: "after the restart", clientMsgId: "restart-after" });
  assert.equal(fresh.ok, true);
  acked.add(fresh.message.id);

  // Every acknowledged message reaches both clients (live, or replayed from Postgres after the gap).
  for (const [name, c] of [["sender's process", a], ["other process", b]] as const) {
    const deadline = Date.now() + 8000;
    let missing: string[] = [];
    for (;;) {
      const got = new Set(c.of("message:new").map((m) => m.id));
      missing = [...acked].filter((id) => !got.has(id));
      if (missing.length === 0 || Date.now() > deadline) break;
      await sleep(100);
    }
    assert.deepEqual(missing, [], `${name}: ${missing.length} of ${acked.size} acknowledged messages never arrived`);
  }
  a.close();
  b.close();
});

test("SIGTERM with connected clients: they reconnect to the other process, exit within SHUTDOWN_GRACE_MS", async () => {
  // Start from empty processes, whatever the earlier tests left connected.
  for (const c of open.splice(0)) c.close();
  for (const p of [p1, p2]) {
    for (let i = 0; i < 100; i++) {
      const h = (await (await fetch(`${p.url}/health`)).json()) as { connections: number };
      if (h.connections === 0) break;
      await sleep(50);
    }
  }
  const lb = await balancer([p1.port, p2.port]);
  try {
    const clients: Client[] = [];
    for (let i = 0; i < 4; i++) {
      const c = client(lb.url, await f.token(userIds[i]), { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
      open.push(c);
      await c.next("connect");
      clients.push(c);
    }
    const before = (await (await fetch(`${p1.url}/health`)).json()) as { connections: number };
    assert.equal(before.connections, 2, "the balancer spread the clients over both processes");

    lb.deregister(p1.port);
    const { code, ms } = await p1.signal("SIGTERM");
    assert.equal(code, 0, p1.stderr());
    assert.ok(ms < 3000, `exit took ${ms} ms; SHUTDOWN_GRACE_MS is 3000`);

    // The two clients of the stopped process each see a disconnect (a positive signal, waited for), then a
    // second connect after it, to the remaining process; the other two never disconnect.
    const deadline = Date.now() + 5000;
    while (clients.filter((c) => c.of("disconnect").length > 0).length < 2 && Date.now() < deadline) await sleep(50);
    const dropped = clients.filter((c) => c.of("disconnect").length > 0);
    assert.equal(dropped.length, 2, "the two clients of the stopped process were disconnected");
    for (const c of dropped) {
      const disconnectAt = c.events.findIndex((e) => e.event === "disconnect");
      await c.next("connect", () => true, 5000, disconnectAt + 1);
      assert.equal(c.of("connect").length, 2, `connected, dropped, reconnected: ${c.events.map((e) => e.event).join(", ")}`);
      assert.ok(c.socket.connected);
    }
    for (const c of clients.filter((x) => !dropped.includes(x))) {
      assert.deepEqual([c.of("connect").length, c.of("disconnect").length, c.socket.connected], [1, 0, true]);
    }
    for (const c of dropped) assert.equal(c.of("disconnect")[0], "transport close", "disconnect reason lets the client reconnect");
    const after = (await (await fetch(`${p2.url}/health`)).json()) as { connections: number };
    assert.equal(after.connections, 4, "every client now on the remaining process");

    const ack = await send(clients[0], { roomId, body: "after sigterm", clientMsgId: "sigterm-1" });
    for (const c of clients) await c.next("message:new", (x) => x.id === ack.message!.id);
    for (const c of clients) c.close();
  } finally {
    await lb.close();
  }
});
