import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { createPool, migrate } from "@chat/shared";
import { createTestDatabase } from "../../../test/support/postgres";
import { startRedis } from "../../../test/support/redis";

const root = join(__dirname, "..", "..", "..");
const KEYS = JSON.stringify({ current: { kid: "k1", secret: "s".repeat(32) } });

test("bad configuration stops the start with every problem named", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "apps/api/src/main.ts"], {
    cwd: root, encoding: "utf8", env: { PATH: process.env.PATH ?? "", REDIS_URL: "redis://127.0.0.1:6379", PORT: "http", JWT_KEYS: '{"current":{"kid":"k1","secret":"short"}}' },
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /PORT="http" is not an integer/);
  assert.match(r.stderr, /DB_HOST is required: set DATABASE_URL/);
  assert.match(r.stderr, /JWT_KEYS\.current\.secret must be a string of at least 32 characters/);
});

test("the process serves, reports ready, writes JSON logs and EMF metrics, and exits 0 on SIGTERM", async () => {
  const DATABASE_URL = await createTestDatabase("api_main");
  const pool = createPool({ kind: "url", url: DATABASE_URL, poolMax: 1 });
  await migrate(pool);
  await pool.end();
  const redis = await startRedis();
  const child = spawn(process.execPath, ["--import", "tsx", "apps/api/src/main.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", DATABASE_URL, REDIS_URL: redis.url, JWT_KEYS: KEYS, PORT: "0", ENV: "test", SHUTDOWN_GRACE_MS: "5000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  try {
    let address: string | undefined;
    for (let i = 0; i < 150 && !address; i++) {
      address = /"address":"(http:\/\/[^"]+)"/.exec(out)?.[1];
      if (!address) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(address, `no listening line in: ${out}`);
    const port = new URL(address).port;
    const ready = await fetch(`http://127.0.0.1:${port}/api/ready`);
    assert.equal(ready.status, 200, await ready.text());
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out);
    const lines = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.msg === "api listening" && l.service === "chat-test-api" && l.level === "INFO"));
    assert.ok(lines.some((l) => l.msg === "shutdown complete"));
    const emf = lines.find((l) => l._aws && "RequestCount" in l);
    assert.ok(emf, "metrics are flushed on shutdown");
    assert.equal(emf._aws.CloudWatchMetrics[0].Namespace, "chat-test");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await redis.stop();
  }
});
