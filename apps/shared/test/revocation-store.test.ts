// Revocation read from and written to PostgreSQL (TokenService with a pool): the database answers for sessions
// Redis knows nothing about, in one query, and its answers are cached with their TTLs; cached answers are not
// asked again; ids that are not UUIDs never reach the database; revokers write the database before the keys.
import { startRedis, type TestRedis } from "../../../test/support/redis";
import { createMigratedTestDatabase } from "../../../test/support/postgres";
import { createPool, type Pool } from "../src/db";
import { createRedis, closeRedis, type Redis } from "../src/redis";
import { TokenService, revokedBeforeKey, revokedSessionKey, sessionOkKey } from "../src/auth";

const K1 = { kid: "k1", secret: "1".repeat(32) };
const T0 = 1_800_000_000; // epoch seconds of the fixed clock
const TTL = 600;

let server: TestRedis;
let redis: Redis;
let pool: Pool;

beforeAll(async () => {
  pool = createPool({ kind: "url", url: await createMigratedTestDatabase("shared_revocation"), poolMax: 2 });
  server = await startRedis();
  redis = createRedis({ kind: "url", url: server.url });
});
afterAll(async () => {
  await pool?.end();
  await closeRedis(redis);
  await server?.stop();
});
beforeEach(async () => {
  await redis.flushdb();
});

/** The pool as TokenService sees it, recording the parameters of every query. */
function countingPool() {
  const queries: unknown[][] = [];
  return {
    queries,
    pool: { query: (sql: string, params?: unknown[]) => (queries.push(params ?? []), pool.query(sql, params)) } as unknown as Pick<Pool, "query">,
  };
}

let n = 0;
async function user(revokedBefore?: number): Promise<string> {
  const { rows } = await pool.query(
    "INSERT INTO users (username, display_name, password_hash, tokens_revoked_before) VALUES ($1, $1, 'x', to_timestamp($2)) RETURNING id",
    [`rev_user_${++n}`, revokedBefore ?? null],
  );
  return rows[0].id;
}
async function session(userId: string, revoked = false): Promise<string> {
  const { rows } = await pool.query(
    "INSERT INTO sessions (user_id, expires_at, revoked_at) VALUES ($1, now() + interval '1 day', CASE WHEN $2 THEN now() END) RETURNING id",
    [userId, revoked],
  );
  return rows[0].id;
}
const ttl = (key: string) => redis.ttl(key);

test("with nothing cached the database decides, in one query, and each answer is cached with its TTL", async () => {
  const a = await user();
  const sA = await session(a, true); // logged out
  const b = await user(T0 + 100); // all tokens issued before T0+100 revoked
  const sB1 = await session(b);
  const sB2 = await session(b);
  const c = await user();
  const sC = await session(c);
  const { pool: counted, queries } = countingPool();
  const svc = new TokenService({ keys: { current: K1 }, redis, pool: counted, accessTtlSeconds: TTL, liveCacheSeconds: 45, now: () => T0 * 1000 });

  const principals = [
    { userId: a, sessionId: sA, issuedAt: T0 },
    { userId: b, sessionId: sB1, issuedAt: T0 + 99 }, // one second before the user's revocation
    { userId: b, sessionId: sB2, issuedAt: T0 + 100 }, // issued in the second of the revocation: not refused
    { userId: c, sessionId: sC, issuedAt: T0 },
  ];
  expect(await svc.revokedAmong(principals)).toEqual([true, true, false, false]);
  expect(queries).toEqual([[[0, 1, 2, 3], [sA, sB1, sB2, sC], [a, b, b, c]]]);

  // What the database said is now in Redis: the revoked session, the user's revocation, the live sessions.
  expect(await redis.get(revokedSessionKey(sA))).toBe("1");
  expect(await ttl(revokedSessionKey(sA))).toBeGreaterThan(TTL - 5);
  expect(await ttl(revokedSessionKey(sA))).toBeLessThanOrEqual(TTL);
  expect(await redis.get(revokedBeforeKey(b))).toBe(String(T0 + 100));
  expect(await ttl(revokedBeforeKey(b))).toBeGreaterThan(TTL + 55);
  expect(await ttl(revokedBeforeKey(b))).toBeLessThanOrEqual(TTL + 60);
  for (const live of [sB2, sC]) {
    expect(await redis.get(sessionOkKey(live))).toBe("1");
    expect(await ttl(sessionOkKey(live))).toBeGreaterThan(40);
    expect(await ttl(sessionOkKey(live))).toBeLessThanOrEqual(45);
  }
  // Nothing is cached that the database did not say: no user revocation for a or c, no "live" for the revoked.
  expect(await redis.mget(revokedBeforeKey(a), revokedBeforeKey(c), sessionOkKey(sA), sessionOkKey(sB1), revokedSessionKey(sB1), revokedSessionKey(sC)))
    .toEqual([null, null, null, null, null, null]);

  // Asked again: every answer comes from Redis, and the database is not asked.
  expect(await svc.revokedAmong(principals)).toEqual([true, true, false, false]);
  expect(queries).toHaveLength(1);
});

test("only the principals Redis has no answer for are asked, by their position in the call", async () => {
  const u = await user();
  const cachedRevoked = await session(u); // live in the database, revoked in the cache: the cache decides
  const cachedLive = await session(u, true); // revoked in the database, "live" in the cache (within its TTL)
  const unknownRevoked = await session(u, true);
  const unknownLive = await session(u);
  await redis.set(revokedSessionKey(cachedRevoked), "1");
  await redis.set(sessionOkKey(cachedLive), "1");
  const { pool: counted, queries } = countingPool();
  const svc = new TokenService({ keys: { current: K1 }, redis, pool: counted, now: () => T0 * 1000 });

  const got = await svc.revokedAmong([
    { userId: u, sessionId: unknownRevoked, issuedAt: T0 },
    { userId: u, sessionId: cachedRevoked, issuedAt: T0 },
    { userId: u, sessionId: cachedLive, issuedAt: T0 },
    { userId: u, sessionId: unknownLive, issuedAt: T0 },
  ]);
  expect(got).toEqual([true, true, false, false]);
  expect(queries).toEqual([[[0, 3], [unknownRevoked, unknownLive], [u, u]]]);
  // The default "live" TTL is 30 s; a session the cache already called revoked is not marked live.
  expect(await ttl(sessionOkKey(unknownLive))).toBeGreaterThan(25);
  expect(await ttl(sessionOkKey(unknownLive))).toBeLessThanOrEqual(30);
  expect(await redis.get(sessionOkKey(cachedRevoked))).toBeNull();
  expect(await svc.revokedAmong([])).toEqual([]);
  expect(queries).toHaveLength(1);
});

test("a cached user revocation decides without the database; a token issued after it still asks", async () => {
  const u = await user();
  const s = await session(u, true);
  await redis.set(revokedBeforeKey(u), String(T0 + 10));
  const { pool: counted, queries } = countingPool();
  const svc = new TokenService({ keys: { current: K1 }, redis, pool: counted, now: () => T0 * 1000 });
  expect(await svc.revokedAmong([{ userId: u, sessionId: s, issuedAt: T0 + 9 }])).toEqual([true]);
  expect(queries).toHaveLength(0);
  // Issued after the cached revocation: the session itself is still looked up (and found revoked).
  expect(await svc.revokedAmong([{ userId: u, sessionId: s, issuedAt: T0 + 10 }])).toEqual([true]);
  expect(queries).toEqual([[[0], [s], [u]]]);
});

test("ids that are not UUIDs never reach the database (PostgreSQL would refuse the uuid cast)", async () => {
  const u = await user();
  const s = await session(u);
  const { pool: counted, queries } = countingPool();
  const svc = new TokenService({ keys: { current: K1 }, redis, pool: counted, now: () => T0 * 1000 });
  const odd = [
    { userId: u, sessionId: "s-1", issuedAt: T0 },
    { userId: "u-1", sessionId: s, issuedAt: T0 },
    { userId: u, sessionId: `${s}0`, issuedAt: T0 },
    { userId: u, sessionId: `0${s}`, issuedAt: T0 },
    { userId: `${u}f`, sessionId: s, issuedAt: T0 },
    { userId: `f${u}`, sessionId: s, issuedAt: T0 },
  ];
  expect(await svc.revokedAmong(odd)).toEqual(odd.map(() => false));
  expect(queries).toHaveLength(0);
  // Upper-case hex is a UUID too.
  expect(await svc.revokedAmong([{ userId: u.toUpperCase(), sessionId: s.toUpperCase(), issuedAt: T0 }])).toEqual([false]);
  expect(queries).toHaveLength(1);
  await svc.revokeSession("not-a-uuid");
  await svc.revokeUser("not-a-uuid");
  expect(queries).toHaveLength(1);
  expect(await redis.mget(revokedSessionKey("not-a-uuid"), revokedBeforeKey("not-a-uuid"))).toEqual(["1", String(T0)]);
});

test("revokeSession writes the database first; the cache can be lost and the session stays revoked", async () => {
  const u = await user();
  const s = await session(u);
  const other = await session(u);
  const svc = new TokenService({ keys: { current: K1 }, redis, pool, now: () => T0 * 1000 });
  expect(await svc.revokedAmong([{ userId: u, sessionId: s, issuedAt: T0 }])).toEqual([false]);
  expect(await redis.get(sessionOkKey(s))).toBe("1");

  await svc.revokeSession(s);
  const row = async (id: string) =>
    (await pool.query("SELECT revoked_at IS NOT NULL AS revoked, revoke_reason, revoked_at FROM sessions WHERE id = $1", [id])).rows[0];
  const first = await row(s);
  expect([first.revoked, first.revoke_reason]).toEqual([true, "revoked"]);
  expect((await row(other)).revoked).toBe(false);
  expect(await redis.get(sessionOkKey(s))).toBeNull();

  await redis.flushdb();
  expect(await svc.revokedAmong([{ userId: u, sessionId: s, issuedAt: T0 }, { userId: u, sessionId: other, issuedAt: T0 }])).toEqual([true, false]);

  // A second revocation keeps the first time and reason.
  await pool.query("UPDATE sessions SET revoke_reason = 'logout' WHERE id = $1", [s]);
  await svc.revokeSession(s);
  const again = await row(s);
  expect([again.revoke_reason, again.revoked_at.getTime()]).toEqual(["logout", first.revoked_at.getTime()]);
});

test("revokeUser writes the user's revocation time; an earlier clock never moves it back", async () => {
  const u = await user();
  const s = await session(u);
  const spared = await user();
  let now = (T0 + 50) * 1000 + 999;
  const svc = new TokenService({ keys: { current: K1 }, redis, pool, now: () => now });
  const before = async (id: string) =>
    (await pool.query("SELECT floor(extract(epoch FROM tokens_revoked_before))::bigint::text AS t FROM users WHERE id = $1", [id])).rows[0].t;

  await svc.revokeUser(u, [s]);
  expect(await before(u)).toBe(String(T0 + 50));
  expect(await before(spared)).toBeNull();
  now = T0 * 1000;
  await svc.revokeUser(u);
  expect(await before(u)).toBe(String(T0 + 50));

  await redis.flushdb();
  // From the database alone: issued before the revocation is refused, at or after it is not.
  expect(await svc.revokedAmong([{ userId: u, sessionId: s, issuedAt: T0 + 49 }])).toEqual([true]);
  expect(await svc.revokedAmong([{ userId: u, sessionId: s, issuedAt: T0 + 50 }])).toEqual([false]);
});
