import assert from "node:assert/strict";
import { startApi, sibling, register, K1, K2, type TestApi } from "./helpers";
import { buildServices } from "../src/services";
import { buildApp } from "../src/app";

let t: TestApi;
beforeAll(async () => {
  t = await startApi("api_auth", { settings: { loginMaxFailures: 3, loginLockoutSeconds: 30 } });
});
afterAll(async () => {
  await t?.close();
});

const me = (token: string, app = t.app) => app.inject({ method: "GET", url: "/api/me", headers: { authorization: `Bearer ${token}` } });

test("register, login, me; wrong passwords are refused and usernames are unique", async () => {
  const alice = await register(t.app, "alice");
  const r = await me(alice.accessToken);
  assert.equal(r.statusCode, 200);
  assert.deepEqual([r.json().user.username, r.json().user.isAdmin], ["alice", false]);
  assert.equal(r.json().user.passwordHash, undefined);
  const dup = await t.app.inject({ method: "POST", url: "/api/auth/register", payload: { username: "Alice", password: "another password" } });
  assert.deepEqual([dup.statusCode, dup.json().error.code], [409, "username_taken"]);
  const ok = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "alice", password: "correct horse battery" } });
  assert.equal(ok.statusCode, 200);
  assert.ok(ok.json().accessToken && ok.json().refreshToken);
  const bad = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "alice", password: "wrong password" } });
  assert.deepEqual([bad.statusCode, bad.json().error.code], [401, "invalid_credentials"]);
  const nobody = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "nobody", password: "wrong password" } });
  assert.deepEqual([nobody.statusCode, nobody.json().error.message], [401, "wrong username or password"], "unknown users look the same");
  const stored = await t.pool.query("SELECT password_hash FROM users WHERE username = 'alice'");
  assert.match(stored.rows[0].password_hash, /^scrypt\$16384\$8\$1\$/);
});

test("failed logins lock the username (429 + Retry-After) even for the right password; success resets the count", async () => {
  await register(t.app, "bob");
  const login = (password: string) => t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "bob", password } });
  assert.equal((await login("wrong-1")).statusCode, 401);
  assert.equal((await login("wrong-2")).statusCode, 401);
  assert.equal((await login("correct horse battery")).statusCode, 200, "two failures, then success resets");
  for (let i = 0; i < 2; i++) assert.equal((await login(`wrong-${i}`)).statusCode, 401);
  assert.equal((await login("wrong-3")).statusCode, 401, "third failure locks");
  const locked = await login("correct horse battery");
  assert.equal(locked.statusCode, 429);
  assert.equal(locked.json().error.code, "account_locked");
  const retry = Number(locked.headers["retry-after"]);
  assert.ok(retry > 0 && retry <= 30, `retry-after ${retry}`);
  await t.pool.query("DELETE FROM login_lockouts WHERE username = 'bob'");
  await t.redis.del("lockout:bob:127.0.0.1");
  assert.equal((await login("correct horse battery")).statusCode, 200, "an operator unlocks by deleting the row and its cached key");
});

test("refresh rotates; reusing a used refresh token revokes the whole session", async () => {
  const carol = await register(t.app, "carol");
  const refresh = (token: string) => t.app.inject({ method: "POST", url: "/api/auth/refresh", payload: { refreshToken: token } });
  const r1 = await refresh(carol.refreshToken);
  assert.equal(r1.statusCode, 200);
  const next = r1.json();
  assert.notEqual(next.refreshToken, carol.refreshToken);
  assert.equal((await me(next.accessToken)).statusCode, 200);

  const reuse = await refresh(carol.refreshToken);
  assert.deepEqual([reuse.statusCode, reuse.json().error.code], [401, "refresh_reused"]);
  // The thief's copy and the legitimate successor both stop working, and so do the session's access tokens.
  assert.deepEqual([(await refresh(next.refreshToken)).statusCode, (await refresh(next.refreshToken)).json().error.code], [401, "refresh_invalid"]);
  const revoked = await me(next.accessToken);
  assert.deepEqual([revoked.statusCode, revoked.json().error.code], [401, "token_revoked"]);
  assert.equal((await refresh("x".repeat(43))).statusCode, 401);
});

test("logout revokes the session's access and refresh tokens only", async () => {
  const dave = await register(t.app, "dave");
  const other = (await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "dave", password: "correct horse battery" } })).json();
  const out = await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: dave.auth });
  assert.equal(out.statusCode, 204);
  assert.equal((await me(dave.accessToken)).statusCode, 401);
  assert.equal((await t.app.inject({ method: "POST", url: "/api/auth/refresh", payload: { refreshToken: dave.refreshToken } })).statusCode, 401);
  assert.equal((await me(other.accessToken)).statusCode, 200, "the other device stays signed in");
});

test("admin revoke ends every session of a user; only admins may call it", async () => {
  const admin = await register(t.app, "admin");
  const erin = await register(t.app, "erin");
  const url = `/api/admin/users/${erin.userId}/revoke`;
  const denied = await t.app.inject({ method: "POST", url, headers: admin.auth });
  assert.deepEqual([denied.statusCode, denied.json().error.code], [403, "forbidden"]);
  await t.pool.query("UPDATE users SET is_admin = true WHERE id = $1", [admin.userId]);
  const ok = await t.app.inject({ method: "POST", url, headers: admin.auth });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { userId: erin.userId, revokedSessions: 1 });
  assert.equal((await me(erin.accessToken)).json().error.code, "token_revoked");
  assert.equal((await t.app.inject({ method: "POST", url: "/api/auth/refresh", payload: { refreshToken: erin.refreshToken } })).statusCode, 401);
  assert.ok(await t.redis.get(`auth:revoked-before:${erin.userId}`), "the contract key is written");
  const unknown = await t.app.inject({ method: "POST", url: "/api/admin/users/00000000-0000-0000-0000-000000000000/revoke", headers: admin.auth });
  assert.equal(unknown.statusCode, 404);
});

test("key rotation: tokens of the previous key keep working, new tokens use the current key", async () => {
  const frank = await register(t.app, "frank"); // signed with k1
  const rotated = await sibling(t, { current: K2, previous: K1 });
  try {
    assert.equal((await me(frank.accessToken, rotated)).statusCode, 200, "k1 token verifies on a task with k2 current");
    const login = await rotated.inject({ method: "POST", url: "/api/auth/login", payload: { username: "frank", password: "correct horse battery" } });
    const header = JSON.parse(Buffer.from(login.json().accessToken.split(".")[0], "base64url").toString());
    assert.equal(header.kid, "k2");
    assert.equal((await me(login.json().accessToken, rotated)).statusCode, 200);
    const onlyNew = await sibling(t, { current: K2 });
    try {
      const r = await me(frank.accessToken, onlyNew);
      assert.deepEqual([r.statusCode, r.json().error.code], [401, "token_invalid"], "after dropping k1 its tokens are refused");
    } finally {
      await onlyNew.close();
    }
  } finally {
    await rotated.close();
  }
});

test("expired and forged tokens get clear 401s", async () => {
  const gina = await register(t.app, "gina");
  const clocked = await startApiClock();
  try {
    const r = await me(gina.accessToken, clocked);
    assert.deepEqual([r.statusCode, r.json().error.code], [401, "token_expired"]);
    assert.match(r.json().error.message, /refresh it with POST \/api\/auth\/refresh/);
  } finally {
    await clocked.close();
  }
  const [h, p] = gina.accessToken.split(".");
  const forged = await me(`${h}.${p}.${"A".repeat(43)}`);
  assert.deepEqual([forged.statusCode, forged.json().error.code], [401, "token_invalid"]);
  const none = await t.app.inject({ method: "GET", url: "/api/me" });
  assert.deepEqual([none.statusCode, none.json().error.code], [401, "token_missing"]);
  const basic = await t.app.inject({ method: "GET", url: "/api/me", headers: { authorization: "Basic abc" } });
  assert.equal(basic.statusCode, 401);
});

/** The same app with a clock one hour ahead. */
async function startApiClock() {
  const app = await buildApp(buildServices({ ...t.s, now: () => Date.now() + 3600_000 }));
  await app.ready();
  return app;
}
