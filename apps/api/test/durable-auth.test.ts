/**
 * Revocation and lockout survive a Redis restart or flush (PostgreSQL holds them, Redis caches them); the
 * lockout is per (username, client address) with a username-wide backstop that slows instead of locking.
 */
import assert from "node:assert/strict";
import { io as connect } from "socket.io-client";
import { startApi, register, K1, type TestApi } from "./helpers";
import { startRealtime, type RunningRealtime } from "../../realtime/src/app";
import { freePort } from "../../../test/support/redis";

let t: TestApi;
beforeAll(async () => {
  t = await startApi("api_durable_auth", {
    settings: { loginMaxFailures: 3, loginLockoutSeconds: 600, loginSlowAfterFailures: 8, loginSlowIntervalSeconds: 30 },
  });
});
afterAll(async () => {
  await t?.close();
});

const me = (token: string) => t.app.inject({ method: "GET", url: "/api/me", headers: { authorization: `Bearer ${token}` } });
const login = (username: string, password: string, ip: string) =>
  t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username, password }, remoteAddress: ip });

/** Waits until the api's Redis client is connected again after a restart. */
async function redisBack(): Promise<void> {
  for (let i = 0; i < 100 && t.redis.status !== "ready"; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(t.redis.status, "ready");
}

test("a logged-out token stays refused after Redis restarts empty and after FLUSHALL", async () => {
  const ann = await register(t.app, "ann");
  const kept = await register(t.app, "ann2");
  assert.equal((await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: ann.auth })).statusCode, 204);
  assert.equal((await me(ann.accessToken)).json().error.code, "token_revoked");

  await t.redisServer.restart(100);
  await redisBack();
  assert.equal(await t.redis.dbsize(), 0, "the restarted Redis is empty");
  const after = await me(ann.accessToken);
  assert.deepEqual([after.statusCode, after.json().error.code], [401, "token_revoked"]);
  assert.equal((await me(kept.accessToken)).statusCode, 200, "live sessions still work");

  await t.redis.flushall();
  assert.deepEqual([(await me(ann.accessToken)).statusCode, (await me(ann.accessToken)).json().error.code], [401, "token_revoked"]);
});

test("an admin revoke stays in force after FLUSHALL", async () => {
  const admin = await register(t.app, "boss");
  const bea = await register(t.app, "bea");
  await t.pool.query("UPDATE users SET is_admin = true WHERE id = $1", [admin.userId]);
  assert.equal((await t.app.inject({ method: "POST", url: `/api/admin/users/${bea.userId}/revoke`, headers: admin.auth })).statusCode, 200);
  await t.redis.flushall();
  assert.equal((await me(bea.accessToken)).json().error.code, "token_revoked");
  assert.ok(await t.redis.get(`auth:revoked-before:${bea.userId}`), "the cache is filled again from the database");
});

test("a new socket with a logged-out token is refused by realtime after FLUSHALL", async () => {
  const cy = await register(t.app, "cyd");
  assert.equal((await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: cy.auth })).statusCode, 204);
  await t.redis.flushall();
  let rt: RunningRealtime | undefined;
  try {
    rt = await startRealtime({
      env: {
        PATH: process.env.PATH, NODE_ENV: "test", PORT: String(await freePort()), ENV: "test", LOG_LEVEL: "error",
        DATABASE_URL: t.dbUrl, DB_POOL_MAX: "2", REDIS_URL: t.redisServer.url, JWT_KEYS: JSON.stringify({ current: K1 }),
        METRICS_INTERVAL_MS: "60000",
      },
      host: "127.0.0.1",
      writeMetric: () => undefined,
    });
    const socket = connect(`http://127.0.0.1:${rt.port}`, { transports: ["websocket"], reconnection: false, auth: { token: cy.accessToken } });
    try {
      const err = await new Promise<Error & { data?: { code?: string } }>((resolve, reject) => {
        socket.once("connect_error", resolve);
        socket.once("connect", () => reject(new Error("the revoked token was accepted")));
      });
      assert.match(err.message, /revoked/);
    } finally {
      socket.close();
    }
  } finally {
    await rt?.stop(200);
  }
});

test("failed logins lock the username for that address only; the lock survives FLUSHALL", async () => {
  await register(t.app, "dee");
  const attacker = "198.51.100.66";
  for (let i = 0; i < 3; i++) assert.equal((await login("dee", `wrong-${i}`, attacker)).statusCode, 401);
  const locked = await login("dee", "correct horse battery", attacker);
  assert.deepEqual([locked.statusCode, locked.json().error.code], [429, "account_locked"]);
  const owner = await login("dee", "correct horse battery", "203.0.113.5");
  assert.equal(owner.statusCode, 200, "the owner, from another address, is not locked out");

  await t.redis.flushall();
  const still = await login("dee", "correct horse battery", attacker);
  assert.deepEqual([still.statusCode, still.json().error.code], [429, "account_locked"], "the lock is in PostgreSQL");
  const retry = Number(still.headers["retry-after"]);
  assert.ok(retry > 500 && retry <= 600, `retry-after ${retry}`);
});

test("many failures from many addresses slow the username down instead of locking it", async () => {
  await register(t.app, "eve");
  // 8 failures from 8 addresses: none reaches the per-address lock, together they start the slowdown.
  for (let i = 0; i < 8; i++) assert.equal((await login("eve", "wrong password", `198.51.100.${100 + i}`)).statusCode, 401);
  const first = await login("eve", "correct horse battery", "203.0.113.9");
  assert.equal(first.statusCode, 200, "one attempt per interval still goes through: the owner signs in");
  const second = await login("eve", "correct horse battery", "203.0.113.9");
  assert.deepEqual([second.statusCode, second.json().error.code], [429, "login_slowed"]);
  const retry = Number(second.headers["retry-after"]);
  assert.ok(retry >= 1 && retry <= 30, `retry-after ${retry}`);
  assert.equal((await t.pool.query("SELECT count(*)::int AS n FROM login_lockouts WHERE username = 'eve'")).rows[0].n, 0, "nothing is locked");
});
