/**
 * A frozen Redis (connected, not answering: SIGSTOP, as a hung node or a long `DEBUG SLEEP` looks) fails api
 * requests fast with 503 instead of letting them wait; requests are served again once it answers.
 */
import assert from "node:assert/strict";
import { startApi, register, type TestApi } from "./helpers";

let t: TestApi;
beforeAll(async () => {
  t = await startApi("api_redis_frozen", { settings: { redisCommandTimeoutMs: 300 } });
});
afterAll(async () => {
  t?.redisServer.thaw();
  await t?.close();
});

test("with Redis frozen, signed-in and anonymous requests answer 503 within the command timeout", async () => {
  const ann = await register(t.app, "ann");
  assert.equal((await t.app.inject({ method: "GET", url: "/api/rooms", headers: ann.auth })).statusCode, 200);
  t.redisServer.freeze();
  try {
    for (const req of [
      { method: "GET" as const, url: "/api/rooms", headers: ann.auth },
      { method: "POST" as const, url: "/api/auth/login", payload: { username: "ann", password: "correct horse battery" } },
      { method: "GET" as const, url: "/api/nope" },
    ]) {
      const started = Date.now();
      const res = await t.app.inject(req);
      const ms = Date.now() - started;
      assert.deepEqual([res.statusCode, res.json().error.code, res.headers["retry-after"]], [503, "unavailable", "1"], `${req.url}: ${res.body}`);
      assert.ok(ms < 2000, `${req.url} answered after ${ms} ms (the command timeout is 300 ms)`);
    }
  } finally {
    t.redisServer.thaw();
  }
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = (await t.app.inject({ method: "GET", url: "/api/rooms", headers: ann.auth })).statusCode;
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 200, "served again once Redis answers");
});
