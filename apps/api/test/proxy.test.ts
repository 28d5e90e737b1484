/**
 * Trusted proxy hops: by default the api believes no X-Forwarded-For entry, so a client cannot pick a fresh
 * address for every request and dodge the per-IP and sign-in limits; the stacks set the ALB's one hop.
 */
import assert from "node:assert/strict";
import { startApi, type TestApi } from "./helpers";
import { DEFAULT_SETTINGS, loadApiConfig } from "../src/config";

const ENV = { DATABASE_URL: "postgres://u@127.0.0.1/db", REDIS_URL: "redis://127.0.0.1:6379", JWT_KEYS: JSON.stringify({ current: { kid: "k", secret: "s".repeat(32) } }) };

test("the defaults trust 0 proxy hops; TRUST_PROXY_HOPS and LISTEN_HOST are read from the environment", () => {
  const d = loadApiConfig(ENV);
  assert.deepEqual([d.trustProxyHops, d.listenHost], [0, "0.0.0.0"]);
  const set = loadApiConfig({ ...ENV, TRUST_PROXY_HOPS: "1", LISTEN_HOST: "127.0.0.1" });
  assert.deepEqual([set.trustProxyHops, set.listenHost], [1, "127.0.0.1"]);
});

describe("with the default settings", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startApi("api_proxy_default", { settings: { trustProxyHops: DEFAULT_SETTINGS.trustProxyHops, rateLimitAuthMax: 2 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  test("spoofed X-Forwarded-For headers share the sender's sign-in bucket", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await t.app.inject({
        method: "POST", url: "/api/auth/login", remoteAddress: "192.0.2.77",
        headers: { "x-forwarded-for": `203.0.113.${i}` }, payload: { username: "nobody", password: "wrong password" },
      });
      statuses.push(r.statusCode);
    }
    assert.deepEqual(statuses, [401, 401, 429], "a new forged address every time earns no new attempts");
    assert.equal(await t.redis.get("ratelimit:auth:192.0.2.77"), "3");
    assert.equal(await t.redis.get("ratelimit:auth:203.0.113.0"), null);
  });
});
