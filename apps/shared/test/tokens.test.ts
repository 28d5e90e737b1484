// TokenService details that other services and operators rely on: the Redis key names (docs/CONTRACTS.md),
// the JWT header, each refusal's code and message, revocation boundaries (a token issued in the second of the
// revocation), the TTLs written, the sockets disconnected, and the Authorization header parser.
import { SignJWT } from "jose";
import { startRedis, type TestRedis } from "../../../test/support/redis";
import { createRedis, closeRedis, type Redis } from "../src/redis";
import { TokenService, AuthError, bearerToken, revokedBeforeKey, revokedSessionKey } from "../src/auth";

const K1 = { kid: "k1", secret: "1".repeat(32) };
const USER = "6f1c2f7e-8d43-4a8b-9d8e-0a4f5b6c7d8e";
const SID = "0b7a6c5d-4e3f-4a2b-8c1d-9e8f7a6b5c4d";
const T0 = 1_800_000_000_000; // a fixed clock, ms

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
beforeEach(async () => {
  await redis.flushdb();
});

/** The AuthError a promise rejects with. */
async function refusal(p: Promise<unknown>): Promise<AuthError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AuthError);
  return err as AuthError;
}

/** An emitter double that records which room's sockets were disconnected. */
function recordingEmitter() {
  const calls: [string, boolean][] = [];
  return { calls, emitter: { in: (room: string) => ({ disconnectSockets: (close: boolean) => void calls.push([room, close]) }) } as never };
}

test("revocation keys and the error type are a contract", () => {
  expect(revokedSessionKey("s-1")).toBe("auth:revoked-session:s-1");
  expect(revokedBeforeKey("u-1")).toBe("auth:revoked-before:u-1");
  const e = new AuthError("token_revoked", "gone");
  expect([e.name, e.code, e.message, e.statusCode, e instanceof Error]).toEqual(["AuthError", "token_revoked", "gone", 401, true]);
});

test("a signed token carries alg, kid and typ in its header and sub, sid, iat, exp as claims", async () => {
  const svc = new TokenService({ keys: { current: K1 }, redis, accessTtlSeconds: 120, now: () => T0 + 999 });
  const { token, expiresAt } = await svc.sign(USER, SID);
  const [header, payload] = token.split(".").slice(0, 2).map((p) => JSON.parse(Buffer.from(p, "base64url").toString()));
  expect(header).toEqual({ alg: "HS256", kid: "k1", typ: "JWT" });
  expect(payload).toEqual({ sid: SID, sub: USER, iat: T0 / 1000, exp: T0 / 1000 + 120 });
  expect(expiresAt).toBe(T0 / 1000 + 120);
  expect(new TokenService({ keys: { current: K1 }, redis }).accessTtlSeconds).toBe(900);
});

test("each refusal has its code and a message saying what to do", async () => {
  const svc = new TokenService({ keys: { current: K1 }, redis, now: () => T0 });
  const missing = await refusal(svc.verifySignature(""));
  expect([missing.code, missing.message]).toEqual(["token_missing", "an access token is required: send Authorization: Bearer <token>"]);
  const malformed = await refusal(svc.verifySignature("not-a-jwt"));
  expect([malformed.code, malformed.message]).toEqual(["token_invalid", "the access token is malformed"]);
  const sign = (header: Record<string, unknown>, claims: Record<string, unknown>, secret = K1.secret) =>
    new SignJWT(claims).setProtectedHeader({ alg: "HS256", ...header }).sign(new TextEncoder().encode(secret));
  const noKid = await refusal(svc.verifySignature(await sign({}, { sub: USER, sid: SID, iat: T0 / 1000, exp: T0 / 1000 + 60 })));
  expect([noKid.code, noKid.message]).toEqual(["token_invalid", "the access token was signed with an unknown key: log in again"]);
  const unknownKid = await refusal(svc.verifySignature(await sign({ kid: "k9" }, { sub: USER, sid: SID, iat: T0 / 1000, exp: T0 / 1000 + 60 })));
  expect(unknownKid.message).toBe("the access token was signed with an unknown key: log in again");
  const forged = await refusal(svc.verifySignature(await sign({ kid: "k1" }, { sub: USER, sid: SID, iat: T0 / 1000, exp: T0 / 1000 + 60 }, "x".repeat(32))));
  expect([forged.code, forged.message]).toEqual(["token_invalid", "the access token is not valid"]);
  const noIat = await refusal(svc.verifySignature(await sign({ kid: "k1" }, { sub: USER, sid: SID, exp: T0 / 1000 + 60 })));
  expect(noIat.code).toBe("token_invalid");
  const expired = await refusal(svc.verifySignature(await sign({ kid: "k1" }, { sub: USER, sid: SID, iat: T0 / 1000 - 120, exp: T0 / 1000 - 60 })));
  expect([expired.code, expired.message]).toEqual(["token_expired", "the access token has expired: refresh it with POST /api/auth/refresh"]);
  for (const [what, claims] of [
    ["no session", { sub: USER }],
    ["a numeric session", { sub: USER, sid: 7 }],
    ["a session with spaces", { sub: USER, sid: "a b" }],
    ["a session with a prefix of junk", { sub: USER, sid: `!${SID}` }],
    ["a session with a suffix of junk", { sub: USER, sid: `${SID}!` }],
    ["a subject with junk", { sub: `${USER}!`, sid: SID }],
    ["a subject with leading junk", { sub: `!${USER}`, sid: SID }],
    ["a subject too long", { sub: "a".repeat(65), sid: SID }],
  ] as const) {
    const token = await sign({ kid: "k1" }, { ...claims, iat: T0 / 1000, exp: T0 / 1000 + 60 });
    const e = await refusal(svc.verifySignature(token));
    expect([what, e.code, e.message]).toEqual([what, "token_invalid", "the access token lacks a valid subject or session"]);
  }
  const longest = await sign({ kid: "k1" }, { sub: "a".repeat(64), sid: "b".repeat(64), iat: T0 / 1000, exp: T0 / 1000 + 60 });
  expect((await svc.verifySignature(longest)).userId).toBe("a".repeat(64));
});

test("a revoked session or user is refused with token_revoked; a user revocation spares tokens issued after it", async () => {
  let now = T0;
  const svc = new TokenService({ keys: { current: K1 }, redis, accessTtlSeconds: 300, now: () => now });
  const { token } = await svc.sign(USER, SID);
  expect((await svc.verify(token)).sessionId).toBe(SID);
  await redis.set(revokedSessionKey(SID), "1");
  const revoked = await refusal(svc.verify(token));
  expect([revoked.code, revoked.message]).toEqual(["token_revoked", "this session has been revoked: log in again"]);
  await redis.del(revokedSessionKey(SID));

  // revoked-before = the token's own second: issued at T, revoked "before T" spares it; "before T+1" refuses it.
  const iat = T0 / 1000;
  await redis.set(revokedBeforeKey(USER), String(iat));
  expect((await svc.verify(token)).userId).toBe(USER);
  await redis.set(revokedBeforeKey(USER), String(iat + 1));
  expect((await refusal(svc.verify(token))).code).toBe("token_revoked");
  now = T0 + 2000;
  const later = await svc.sign(USER, "another-session");
  expect((await svc.verify(later.token)).sessionId).toBe("another-session");
  expect(await svc.revokedAmong([])).toEqual([]);
  expect(await svc.revokedAmong([
    { userId: USER, sessionId: SID, issuedAt: iat },
    { userId: "other-user", sessionId: "s2", issuedAt: iat },
    { userId: USER, sessionId: "s3", issuedAt: iat + 1 },
  ])).toEqual([true, false, false]);
});

test("revokeSession and revokeUser write their keys with their TTLs and disconnect the sockets", async () => {
  const { calls, emitter } = recordingEmitter();
  const svc = new TokenService({ keys: { current: K1 }, redis, accessTtlSeconds: 300, now: () => T0 + 1500, emitter });
  await svc.revokeSession("s-a");
  expect(await redis.get(revokedSessionKey("s-a"))).toBe("1");
  expect(await redis.ttl(revokedSessionKey("s-a"))).toBeGreaterThan(290);
  expect(await redis.ttl(revokedSessionKey("s-a"))).toBeLessThanOrEqual(300);
  await svc.revokeUser("u-a", ["s-b", "s-c"]);
  expect(await redis.get(revokedBeforeKey("u-a"))).toBe(String(Math.floor((T0 + 1500) / 1000)));
  const userTtl = await redis.ttl(revokedBeforeKey("u-a"));
  expect(userTtl).toBeGreaterThan(350); // the access-token lifetime + 60 s
  expect(userTtl).toBeLessThanOrEqual(360);
  for (const s of ["s-b", "s-c"]) {
    expect(await redis.get(revokedSessionKey(s))).toBe("1");
    expect(await redis.ttl(revokedSessionKey(s))).toBeLessThanOrEqual(300);
  }
  await svc.revokeUser("u-b");
  expect(await redis.keys("auth:revoked-session:*")).toHaveLength(3);
  expect(calls).toEqual([["session:s-a", true], ["user:u-a", true], ["user:u-b", true]]);
  // Without an emitter, revocation still works.
  await new TokenService({ keys: { current: K1 }, redis }).revokeSession("s-d");
  expect(await redis.get(revokedSessionKey("s-d"))).toBe("1");
});

test("bearerToken accepts exactly `Bearer <token>` (any case, spaces around) and refuses anything else", () => {
  expect(bearerToken(undefined)).toBeUndefined();
  expect(bearerToken("")).toBeUndefined();
  expect(bearerToken("Bearer abc.def")).toBe("abc.def");
  expect(bearerToken("bearer   abc  ")).toBe("abc");
  for (const bad of ["Basic abc", "Bearer", "Bearer ", "xBearer abc", "Bearer abc def", "Bearer abc x", "Bearerabc", "Token Bearer abc"]) {
    expect(() => bearerToken(bad)).toThrow(new AuthError("token_invalid", 'the Authorization header must be "Bearer <access token>"'));
  }
  const e = (() => {
    try {
      bearerToken("Basic abc");
    } catch (err) {
      return err as AuthError;
    }
  })();
  expect([e?.code, e?.message]).toEqual(["token_invalid", 'the Authorization header must be "Bearer <access token>"']);
});
