// authenticate(): the token is verified once per request (a GraphQL query with several fields counts once
// against the per-user limit), a missing or malformed Authorization header is refused with its code, and the
// per-user limit counts per user, not per session or address.
import type { TestApi } from "./helpers";

let t: TestApi;
let register: typeof import("./helpers").register;
const USER_MAX = 3;

// The api's modules are loaded here, not at the top: a mutation run that selects none of these tests (only
// error-mapping.test.ts's pure checks) then never loads them.
beforeAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const helpers: typeof import("./helpers") = require("./helpers");
  register = helpers.register;
  t = await helpers.startApi("api_authenticate", { settings: { rateLimitUserMax: USER_MAX, rateLimitWindowSeconds: 60, rateLimitIpMax: 10_000 } });
});
afterAll(async () => {
  await t?.close();
});

test("a GraphQL query whose fields each need the user is one request for the per-user limit", async () => {
  const s = await register(t.app, "many-fields");
  const query = "{ me { id } rooms { id } unread { roomId } digest { messageId } }";
  for (let i = 0; i < USER_MAX; i++) {
    const res = await t.app.inject({ method: "POST", url: "/graphql", headers: s.auth, payload: { query } });
    expect([i, res.statusCode, res.json().errors]).toEqual([i, 200, undefined]);
  }
  const over = await t.app.inject({ method: "POST", url: "/graphql", headers: s.auth, payload: { query } });
  expect(over.statusCode).toBe(429);
  expect(over.json().errors[0].extensions.code).toBe("rate_limited");
});

test("the per-user limit is per user: a second session of the same user shares it, another user does not", async () => {
  const first = await register(t.app, "limited");
  const second = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "limited", password: "correct horse battery" } });
  const secondAuth = { authorization: `Bearer ${second.json().accessToken}` };
  const other = await register(t.app, "unlimited");
  for (let i = 0; i < USER_MAX; i++) expect((await t.app.inject({ method: "GET", url: "/api/rooms", headers: i % 2 ? first.auth : secondAuth })).statusCode).toBe(200);
  const over = await t.app.inject({ method: "GET", url: "/api/rooms", headers: first.auth });
  expect([over.statusCode, over.json().error.code]).toEqual([429, "rate_limited"]);
  expect(over.json().error.message).toBe("too many requests from this account: retry after the Retry-After delay");
  expect(Number(over.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  expect((await t.app.inject({ method: "GET", url: "/api/rooms", headers: other.auth })).statusCode).toBe(200);
});

test("no token, a malformed header and a bad token are refused with their code and the WWW-Authenticate header", async () => {
  const cases: [Record<string, string>, string][] = [
    [{}, "token_missing"],
    [{ authorization: "Basic abc" }, "token_invalid"],
    [{ authorization: "Bearer not.a.jwt" }, "token_invalid"],
  ];
  for (const [headers, code] of cases) {
    const res = await t.app.inject({ method: "GET", url: "/api/rooms", headers });
    expect([res.statusCode, res.json().error.code, res.headers["www-authenticate"]]).toEqual([401, code, 'Bearer error="invalid_token"']);
  }
});
