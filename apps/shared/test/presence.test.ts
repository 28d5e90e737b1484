import assert from "node:assert/strict";
import { startRedis } from "../../../test/support/redis";
import { createRedis, closeRedis } from "../src/redis";
import { Presence, presenceKey } from "../src/presence";

test("presence keys: set with a TTL, refreshed by heartbeat, batch online check, expiry, offline", async () => {
  const server = await startRedis();
  const redis = createRedis({ kind: "url", url: server.url });
  try {
    const presence = new Presence(redis, 1);
    assert.deepEqual(await presence.onlineAmong([]), new Set());
    await presence.markOnline(["a", "b"]);
    assert.equal(await redis.ttl(presenceKey("a")), 1);
    assert.deepEqual(await presence.onlineAmong(["a", "b", "c"]), new Set(["a", "b"]));
    await presence.markOffline("b");
    assert.deepEqual(await presence.onlineAmong(["a", "b"]), new Set(["a"]));
    // "a" keeps heartbeating, "c" connected once and its task died: only "c" expires.
    await presence.markOnline(["c"]);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 450));
      await presence.markOnline(["a"]);
    }
    assert.deepEqual(await presence.onlineAmong(["a", "c"]), new Set(["a"]));
  } finally {
    await closeRedis(redis);
    await server.stop();
  }
});
