import assert from "node:assert/strict";
import { startRedis } from "../../../test/support/redis";
import { createRedis, closeRedis, redisOptions, retryDelay } from "../src/redis";

test("AWS options: TLS with SNI and the AUTH token; URL options keep password and db", () => {
  const aws = redisOptions({ kind: "params", host: "master.example.cache.amazonaws.com", port: 6379, tls: true, authToken: "secret-token" });
  assert.deepEqual(aws.tls, { servername: "master.example.cache.amazonaws.com" });
  assert.equal(aws.password, "secret-token");
  const local = redisOptions({ kind: "url", url: "redis://:p%40ss@127.0.0.1:6380/2" });
  assert.deepEqual([local.host, local.port, local.password, local.db, local.tls], ["127.0.0.1", 6380, "p@ss", 2, undefined]);
  assert.deepEqual(redisOptions({ kind: "url", url: "rediss://h:6379" }).tls, {});
  assert.deepEqual([1, 3, 10, 1000].map(retryDelay), [100, 400, 2000, 2000], "quick first retries, capped at 2 s, never gives up");
});

test("a client survives the server going away and coming back; duplicate() subscribes again after it", async () => {
  const server = await startRedis();
  const client = createRedis({ kind: "url", url: server.url });
  const sub = client.duplicate();
  sub.on("error", () => undefined);
  try {
    await client.set("k", "v");
    const received: string[] = [];
    await sub.subscribe("chan");
    sub.on("message", (_c, m) => received.push(m));
    await server.restart(300);
    // A command issued right after the restart waits for the reconnect instead of failing.
    assert.equal(await client.set("k2", "v2"), "OK");
    assert.equal(await client.get("k"), null, "the restarted test server starts empty");
    const deadline = Date.now() + 5000;
    while (received.length === 0 && Date.now() < deadline) {
      await client.publish("chan", "after-restart");
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(received.includes("after-restart"), "the subscriber re-subscribed after reconnecting");
  } finally {
    await closeRedis(sub);
    await closeRedis(client);
    await server.stop();
  }
});
