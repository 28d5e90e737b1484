// Refresh tokens stop working when they or their session expire, and the per-IP sign-in limit
// (RATE_LIMIT_AUTH_MAX) covers register, login and refresh on REST and on GraphQL, with Retry-After.
import { startApi, register, type TestApi } from "./helpers";

let t: TestApi;
const AUTH_MAX = 3;
const WINDOW_S = 40;

beforeAll(async () => {
  // The per-IP limit of every route is far above the sign-in limit, so only the latter can answer 429.
  t = await startApi("api_sign_in", { settings: { rateLimitAuthMax: AUTH_MAX, rateLimitWindowSeconds: WINDOW_S, rateLimitIpMax: 10_000 } });
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  // Each test starts with a fresh sign-in budget for the inject address.
  const keys = await t.redis.keys("ratelimit:auth:*");
  if (keys.length) await t.redis.del(...keys);
});

const post = (url: string, payload: object, ip = "127.0.0.1") => t.app.inject({ method: "POST", url, payload, remoteAddress: ip });
const gql = (query: string, variables: object = {}, ip = "127.0.0.1") =>
  t.app.inject({ method: "POST", url: "/graphql", payload: { query, variables }, remoteAddress: ip });

describe("refresh-token expiry", () => {
  test("a refresh token past its expiry is refused, and a fresh one of the same kind still works", async () => {
    const s = await register(t.app, "expiring-token");
    const other = await register(t.app, "fresh-token");
    await t.pool.query(
      "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE session_id = (SELECT id FROM sessions WHERE user_id = $1)",
      [s.userId],
    );
    const expired = await post("/api/auth/refresh", { refreshToken: s.refreshToken }, "10.9.0.1");
    expect([expired.statusCode, expired.json().error.code]).toEqual([401, "refresh_invalid"]);
    expect(expired.body).not.toContain("accessToken");
    const ok = await post("/api/auth/refresh", { refreshToken: other.refreshToken }, "10.9.0.2");
    expect(ok.statusCode).toBe(200);
    expect(ok.json().refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test("a refresh token of an expired session is refused, even when the token row itself is still valid", async () => {
    const s = await register(t.app, "expiring-session");
    await t.pool.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1", [s.userId]);
    const res = await post("/api/auth/refresh", { refreshToken: s.refreshToken }, "10.9.0.3");
    expect([res.statusCode, res.json().error.code]).toEqual([401, "refresh_invalid"]);
  });

  test("GraphQL refresh with an expired token is refused with refresh_invalid", async () => {
    const s = await register(t.app, "expiring-gql");
    await t.pool.query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)", [s.userId]);
    const res = await gql("mutation($r: String!) { refresh(refreshToken: $r) { accessToken } }", { r: s.refreshToken }, "10.9.0.4");
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ data: null, errors: [{ extensions: { code: "refresh_invalid" } }] });
  });

  test("the refresh token's expiry is the session's: now + REFRESH_TOKEN_TTL_S", async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await post("/api/auth/register", { username: "ttl-check", password: "correct horse battery" });
    const exp = res.json().refreshTokenExpiresAt;
    expect(exp).toBeGreaterThanOrEqual(before + t.s.settings.refreshTtlSeconds - 5);
    expect(exp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + t.s.settings.refreshTtlSeconds + 5);
  });
});

describe("per-IP sign-in limit", () => {
  test.each([
    ["login", "/api/auth/login", { username: "nobody-rest", password: "correct horse battery" }],
    ["register", "/api/auth/register", { username: "", password: "short" }],
    ["refresh", "/api/auth/refresh", { refreshToken: "x".repeat(43) }],
  ])("REST %s: the attempt past RATE_LIMIT_AUTH_MAX answers 429 with Retry-After; another address is not limited", async (_name, url, payload) => {
    for (let i = 0; i < AUTH_MAX; i++) {
      const r = await post(url, payload, "10.1.1.1");
      expect(r.statusCode).not.toBe(429);
    }
    const limited = await post(url, payload, "10.1.1.1");
    expect([limited.statusCode, limited.json().error.code]).toEqual([429, "rate_limited"]);
    expect(limited.json().error.message).toMatch(/sign-in requests from this address/);
    const retryAfter = Number(limited.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);
    const elsewhere = await post(url, payload, "10.1.1.2");
    expect(elsewhere.statusCode).not.toBe(429);
  });

  test("the limit is shared by login, register and refresh (one budget per address)", async () => {
    await post("/api/auth/login", { username: "nobody-shared", password: "correct horse battery" }, "10.2.2.2");
    await post("/api/auth/register", { username: "", password: "short" }, "10.2.2.2");
    await post("/api/auth/refresh", { refreshToken: "x".repeat(43) }, "10.2.2.2");
    expect((await post("/api/auth/login", { username: "nobody-shared", password: "correct horse battery" }, "10.2.2.2")).statusCode).toBe(429);
  });

  test.each([
    ["login", `mutation { login(username: "nobody-gql", password: "correct horse battery") { accessToken } }`],
    ["register", `mutation { register(username: "x", password: "short") { accessToken } }`],
    ["refresh", `mutation { refresh(refreshToken: "${"y".repeat(43)}") { accessToken } }`],
  ])("GraphQL %s: past the limit the status is 429 with Retry-After and extensions.code rate_limited", async (_name, query) => {
    for (let i = 0; i < AUTH_MAX; i++) {
      const r = await gql(query, {}, "10.3.3.3");
      expect(r.statusCode).not.toBe(429);
    }
    const limited = await gql(query, {}, "10.3.3.3");
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ data: null, errors: [{ extensions: { code: "rate_limited" } }] });
    const retryAfter = Number(limited.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);
    expect((await gql(query, {}, "10.3.3.4")).statusCode).not.toBe(429);
  });

  test("signed-in requests are not counted against the sign-in limit", async () => {
    const s = await register(t.app, "reader");
    for (let i = 0; i < AUTH_MAX + 2; i++) {
      const me = await t.app.inject({ method: "GET", url: "/api/me", headers: s.auth });
      expect(me.statusCode).toBe(200);
    }
  });
});
