import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { startRedis, type TestRedis } from "../../../test/support/redis";
import { createRedis, closeRedis, type Redis } from "../src/redis";
import { TokenService, AuthError, bearerToken, revokedBeforeKey, revokedSessionKey } from "../src/auth";

const K1 = { kid: "k1", secret: "1".repeat(32) };
const K2 = { kid: "k2", secret: "2".repeat(32) };
const USER = "6f1c2f7e-8d43-4a8b-9d8e-0a4f5b6c7d8e";
const SID = "0b7a6c5d-4e3f-4a2b-8c1d-9e8f7a6b5c4d";

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = createRedis({ kind: "url", url: server.url });
});
afterAll(async () => {
  await closeRedis(redis);
  await server.stop();
});

const code = (c: string) => (e: unknown) => e instanceof AuthError && e.code === c && e.statusCode === 401;

test("current key signs with its kid; after a rotation tokens of the previous key still verify", async () => {
  const before = new TokenService({ keys: { current: K1 }, redis });
  const old = await before.sign(USER, SID);
  const rotated = new TokenService({ keys: { current: K2, previous: K1 }, redis });
  const fresh = await rotated.sign(USER, SID);
  assert.equal(JSON.parse(Buffer.from(fresh.token.split(".")[0], "base64url").toString()).kid, "k2");
  assert.equal((await rotated.verify(old.token)).userId, USER, "previous key verifies");
  const p = await rotated.verify(fresh.token);
  assert.deepEqual([p.userId, p.sessionId, p.expiresAt - p.issuedAt], [USER, SID, 900]);
  // Once the previous key is dropped its tokens are refused; the old task set cannot read new tokens either.
  const dropped = new TokenService({ keys: { current: K2 }, redis });
  await assert.rejects(dropped.verify(old.token), code("token_invalid"));
  await assert.rejects(before.verify(fresh.token), code("token_invalid"));
});

test("expired, forged, malformed and claim-less tokens are refused with their code", async () => {
  let now = Date.now();
  const svc = new TokenService({ keys: { current: K2 }, redis, accessTtlSeconds: 60, now: () => now });
  const { token } = await svc.sign(USER, SID);
  now += 61_000;
  await assert.rejects(svc.verify(token), code("token_expired"));
  now = Date.now();
  const forged = await new SignJWT({ sid: SID }).setProtectedHeader({ alg: "HS256", kid: "k2" }).setSubject(USER)
    .setIssuedAt().setExpirationTime("5m").sign(new TextEncoder().encode("x".repeat(32)));
  await assert.rejects(svc.verify(forged), code("token_invalid"));
  await assert.rejects(svc.verify("not.a.jwt"), code("token_invalid"));
  await assert.rejects(svc.verify(""), code("token_missing"));
  const noSid = await new SignJWT({}).setProtectedHeader({ alg: "HS256", kid: "k2" }).setSubject(USER)
    .setIssuedAt().setExpirationTime("5m").sign(new TextEncoder().encode(K2.secret));
  await assert.rejects(svc.verify(noSid), code("token_invalid"));
  const none = `${Buffer.from(JSON.stringify({ alg: "none", kid: "k2" })).toString("base64url")}.${Buffer.from(JSON.stringify({ sub: USER, sid: SID })).toString("base64url")}.`;
  await assert.rejects(svc.verify(none), code("token_invalid"));
});

test("revoking a session refuses its tokens (TTL = token lifetime) and not others", async () => {
  const svc = new TokenService({ keys: { current: K2 }, redis, accessTtlSeconds: 120 });
  const other = "1b7a6c5d-4e3f-4a2b-8c1d-9e8f7a6b5c4d";
  const a = await svc.sign(USER, SID);
  const b = await svc.sign(USER, other);
  await svc.revokeSession(SID);
  await assert.rejects(svc.verify(a.token), code("token_revoked"));
  assert.equal((await svc.verify(b.token)).sessionId, other);
  const ttl = await redis.ttl(revokedSessionKey(SID));
  assert.ok(ttl > 100 && ttl <= 120, `ttl ${ttl}`);
});

test("revoking a user refuses every token issued before, accepts tokens issued later", async () => {
  let now = Date.now();
  const user = "2b7a6c5d-4e3f-4a2b-8c1d-9e8f7a6b5c4d";
  const svc = new TokenService({ keys: { current: K2 }, redis, now: () => now });
  const oldToken = await svc.sign(user, SID);
  now += 2000;
  await svc.revokeUser(user);
  assert.ok(Number(await redis.get(revokedBeforeKey(user))) > 0);
  await assert.rejects(svc.verify(oldToken.token), code("token_revoked"));
  now += 1000;
  const later = await svc.sign(user, "3b7a6c5d-4e3f-4a2b-8c1d-9e8f7a6b5c4d");
  assert.equal((await svc.verify(later.token)).userId, user);
  const flags = await svc.revokedAmong([
    { userId: user, sessionId: "4b7a6c5d", issuedAt: Math.floor(now / 1000) - 10 },
    { userId: user, sessionId: "4b7a6c5d", issuedAt: Math.floor(now / 1000) },
  ]);
  assert.deepEqual(flags, [true, false]);
});

test("bearer header parsing", () => {
  assert.equal(bearerToken(undefined), undefined);
  assert.equal(bearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
  assert.throws(() => bearerToken("Basic dXNlcg=="), /Bearer <access token>/);
});
