import assert from "node:assert/strict";
import { startApi, register, type TestApi, type Session } from "./helpers";

let t: TestApi;
let alice: Session;
let roomId: string;

beforeAll(async () => {
  t = await startApi("api_errors", { settings: { bodyLimitBytes: 8192 } });
  alice = await register(t.app, "alice");
  roomId = (await t.app.inject({ method: "POST", url: "/api/rooms", headers: alice.auth, payload: { name: "r" } })).json().room.id;
});
afterAll(async () => {
  await t?.close();
});

const post = (url: string, payload: string | object, headers: Record<string, string> = {}) =>
  t.app.inject({ method: "POST", url, headers: { ...alice.auth, "content-type": "application/json", ...headers }, payload: typeof payload === "string" ? payload : JSON.stringify(payload) });

test("bad input gets a clear 4xx naming the problem", async () => {
  const cases: [string, string | object, number, RegExp][] = [
    [`/api/rooms/${roomId}/messages`, "{not json", 400, /not valid JSON/],
    [`/api/rooms/${roomId}/messages`, { body: 42, clientMsgId: "a" }, 400, /body\.body must be string/],
    [`/api/rooms/${roomId}/messages`, { body: "hi" }, 400, /must have required property 'clientMsgId'/],
    [`/api/rooms/${roomId}/messages`, { body: "hi", clientMsgId: "a", extra: 1 }, 400, /"extra" is not accepted/],
    [`/api/rooms/${roomId}/messages`, { body: "", clientMsgId: "a" }, 400, /body\.body must NOT have fewer than 1 characters/],
    [`/api/rooms/${roomId}/messages`, { body: "x".repeat(4001), clientMsgId: "a" }, 400, /must NOT have more than 4000/],
    [`/api/rooms/${roomId}/messages`, { body: "hi", clientMsgId: "has spaces" }, 400, /clientMsgId must match pattern/],
    [`/api/rooms/${roomId}/messages`, { body: "x".repeat(9000), clientMsgId: "a" }, 413, /larger than the limit/],
    ["/api/rooms/00000000-0000-0000-0000-000000000000/messages", { body: "hi", clientMsgId: "a" }, 404, /does not exist/],
    ["/api/rooms/not-a-room/messages", { body: "hi", clientMsgId: "a" }, 404, /room ids are UUIDs/],
    [`/api/rooms/${roomId}/read`, { messageId: "abc" }, 400, /messageId must match pattern/],
    [`/api/rooms/${roomId}/read`, { messageId: "999" }, 404, /does not exist or is not in a room you are a member of/],
    ["/api/auth/register", { username: "x", password: "short" }, 400, /username must NOT have fewer than 3/],
    ["/api/auth/register", { username: "valid_name", password: "short" }, 400, /password must NOT have fewer than 8/],
  ];
  for (const [url, body, status, re] of cases) {
    const r = await post(url, body);
    assert.equal(r.statusCode, status, `${url} ${JSON.stringify(body).slice(0, 60)} -> ${r.body}`);
    assert.match(r.json().error.message, re);
  }
  const xml = await post(`/api/rooms/${roomId}/messages`, "<m/>", { "content-type": "application/xml" });
  assert.deepEqual([xml.statusCode, xml.json().error.message], [415, "send the body as application/json"]);
  const text = await post(`/api/rooms/${roomId}/messages`, "hello", { "content-type": "text/plain" });
  assert.deepEqual([text.statusCode, text.json().error.message], [400, "body must be object"]);
  const q = await t.app.inject({ method: "GET", url: `/api/rooms/${roomId}/messages?limit=abc`, headers: alice.auth });
  assert.deepEqual([q.statusCode, q.json().error.code], [400, "bad_request"]);
  assert.match(q.json().error.message, /querystring\.limit/);
  const route = await t.app.inject({ method: "GET", url: "/api/nope" });
  assert.deepEqual([route.statusCode, route.json().error.message], [404, "no route GET /api/nope"]);
  const health = await t.app.inject({ method: "GET", url: "/api/health" });
  assert.equal(health.statusCode, 200, "the service is still up");
});

test("a 5xx never leaks internals and is counted", async () => {
  const broken = await startApi("api_errors_broken");
  try {
    const bob = await register(broken.app, "bob");
    await broken.pool.query("DROP TABLE room_members CASCADE");
    const r = await broken.app.inject({ method: "GET", url: "/api/rooms", headers: bob.auth });
    assert.equal(r.statusCode, 500);
    assert.deepEqual(Object.keys(r.json().error), ["code", "message"]);
    assert.match(r.json().error.message, /^internal error \(request id [0-9a-f-]+\)$/);
    assert.doesNotMatch(r.body, /room_members|relation|stack/);
    assert.ok(broken.logLines.some((l) => l.includes("room_members")), "the cause is in the log");
    const lines = broken.s.metrics!.flush().map((l) => JSON.parse(l));
    const doc = lines.find((l) => "Errors5xx" in l);
    assert.equal(doc.Errors5xx, 1);
    assert.equal(doc.ServiceName, "chat-test-api");
    assert.deepEqual(doc._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name).sort(), ["Errors5xx", "RequestCount", "RequestLatencyMs"]);
    assert.ok(doc.RequestCount >= 2);
  } finally {
    await broken.close();
  }
});

test("per-IP and per-user limits answer 429 with Retry-After; health is never limited", async () => {
  const limited = await startApi("api_errors_limits", { settings: { rateLimitIpMax: 5, rateLimitUserMax: 3, rateLimitWindowSeconds: 30 } });
  try {
    const bob = await register(limited.app, "bob"); // 1 request from the inject address
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await limited.app.inject({ method: "GET", url: "/api/rooms", headers: bob.auth, remoteAddress: `10.0.0.${i + 1}` })).statusCode);
    assert.deepEqual(statuses, [200, 200, 200, 429], "user limit of 3 across addresses");
    const userLimited = await limited.app.inject({ method: "GET", url: "/api/rooms", headers: bob.auth, remoteAddress: "10.0.0.9" });
    assert.equal(userLimited.json().error.code, "rate_limited");
    assert.match(userLimited.json().error.message, /this account/);
    const ip: number[] = [];
    for (let i = 0; i < 6; i++) ip.push((await limited.app.inject({ method: "GET", url: "/api/nope", remoteAddress: "10.1.1.1" })).statusCode);
    assert.deepEqual(ip, [404, 404, 404, 404, 404, 429]);
    const r = await limited.app.inject({ method: "GET", url: "/api/nope", remoteAddress: "10.1.1.1" });
    const retry = Number(r.headers["retry-after"]);
    assert.ok(retry >= 1 && retry <= 30, `retry-after ${retry}`);
    for (let i = 0; i < 10; i++) assert.equal((await limited.app.inject({ method: "GET", url: "/api/health", remoteAddress: "10.1.1.1" })).statusCode, 200);
  } finally {
    await limited.close();
  }
});

test("readiness fails while the schema is behind and passes once migrated", async () => {
  const fresh = await startApi("api_errors_ready", { migrate: false });
  try {
    const r = await fresh.app.inject({ method: "GET", url: "/api/ready" });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().checks.postgres, "ok");
    assert.equal(r.json().checks.redis, "ok");
    assert.match(r.json().checks.schema, /schema is behind: pending migrations 1, 2.*run the migrate command/);
    const { migrate } = await import("@chat/shared");
    await migrate(fresh.pool);
    const ok = await fresh.app.inject({ method: "GET", url: "/api/ready" });
    assert.deepEqual([ok.statusCode, ok.json().status], [200, "ready"]);
    assert.equal((await fresh.app.inject({ method: "GET", url: "/health" })).statusCode, 200);
  } finally {
    await fresh.close();
  }
});

test("real listening: request ids are echoed or generated", async () => {
  const address = await t.app.listen({ host: "127.0.0.1", port: 0 });
  const given = await fetch(`${address}/api/health`, { headers: { "x-request-id": "trace-abc" } });
  assert.equal(given.headers.get("x-request-id"), "trace-abc");
  assert.deepEqual(await given.json(), { status: "ok" });
  const made = await fetch(`${address}/api/health`, { headers: { "x-request-id": "bad id!" } });
  assert.match(made.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  const big = await fetch(`${address}/api/rooms/${roomId}/messages`, { method: "POST", headers: { ...alice.auth, "content-type": "application/json" }, body: JSON.stringify({ body: "x".repeat(9000), clientMsgId: "big" }) });
  assert.equal(big.status, 413);
});

test("while Redis restarts requests get 503 with Retry-After, and the api recovers by itself", async () => {
  const r = await startApi("api_errors_redis");
  try {
    const bob = await register(r.app, "bob");
    const restarting = r.redisServer.restart(2500);
    await new Promise((res) => setTimeout(res, 100));
    const down = await r.app.inject({ method: "GET", url: "/api/rooms", headers: bob.auth });
    assert.equal(down.statusCode, 503, down.body);
    assert.deepEqual([down.json().error.code, down.headers["retry-after"]], ["unavailable", "1"]);
    const ready = await r.app.inject({ method: "GET", url: "/api/ready" });
    assert.equal(ready.statusCode, 503);
    assert.notEqual(ready.json().checks.redis, "ok");
    await restarting;
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await r.app.inject({ method: "GET", url: "/api/rooms", headers: bob.auth })).statusCode;
      if (status !== 200) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(status, 200, "served again once Redis is back (the restarted Redis is empty, the token still verifies)");
  } finally {
    await r.close();
  }
});

test("behind the ALB the client address is the one the ALB appended; entries a client adds are ignored", async () => {
  const behind = await startApi("api_errors_proxy", { settings: { trustProxyHops: 1, rateLimitIpMax: 2 } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await behind.app.inject({ method: "GET", url: "/api/nope", remoteAddress: "10.0.0.2", headers: { "x-forwarded-for": `203.0.113.${i}, 198.51.100.7` } });
      statuses.push(r.statusCode);
    }
    assert.deepEqual(statuses, [404, 404, 429], "a forged first entry does not earn a fresh bucket");
    assert.equal(await behind.redis.get("ratelimit:ip:198.51.100.7"), "3");
    const other = await behind.app.inject({ method: "GET", url: "/api/nope", remoteAddress: "10.0.0.2", headers: { "x-forwarded-for": "198.51.100.8" } });
    assert.equal(other.statusCode, 404, "another client has its own bucket");
  } finally {
    await behind.close();
  }
});
