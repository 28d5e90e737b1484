/**
 * The whole path of a message to an offline member, across processes: the api (its real entry point, in a
 * child process) persists the post and queues push + offline jobs on local SQS; the workers deliver the push
 * notification to a local gateway sink (signed) and record the digest, which the member then reads back
 * through the api.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Pool } from "pg";
import { createTestDatabase } from "../../../test/support/postgres";
import { freePort, startRedis, type TestRedis } from "../../../test/support/redis";
import { startSqs, type TestSqs } from "../../../test/support/sqs";
import { createLogger } from "@chat/shared/src/log";
import { migrate } from "@chat/shared/src/migrate";
import { Metrics } from "@chat/shared/src/metrics";
import { loadWorkersConfig } from "../src/config";
import { startWorkers, type Workers } from "../src/app";
import { verifySignature } from "../src/push-gateway";
import { GATEWAY_SECRET, createQueuePair, startSink, waitFor, workersEnv, type QueuePair, type Sink } from "./helpers";

const root = join(__dirname, "..", "..", "..");
let databaseUrl: string;
let pool: Pool;
let redis: TestRedis;
let sqs: TestSqs;
let sink: Sink;
let push: QueuePair;
let offline: QueuePair;
let api: ChildProcess | undefined;
let apiOutput = "";
let apiUrl: string;
let workers: Workers | undefined;

beforeAll(async () => {
  assert.ok(existsSync(join(root, "apps", "api", "src", "main.ts")), "the api entry point exists");
  [databaseUrl, redis, sqs, sink] = await Promise.all([createTestDatabase("pipeline"), startRedis(), startSqs(), startSink()]);
  pool = new Pool({ connectionString: databaseUrl, max: 2 });
  await migrate(pool);
  const id = randomUUID().slice(0, 8);
  push = await createQueuePair(sqs.client, `push-${id}`, 3);
  offline = await createQueuePair(sqs.client, `offline-${id}`, 3);
  const env = workersEnv({ databaseUrl, sqsEndpoint: sqs.endpoint, push, offline, sinkUrl: sink.url });

  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  api = spawn(process.execPath, ["--import", "tsx", "apps/api/src/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      LOG_LEVEL: "warn",
      REDIS_URL: redis.url,
      JWT_KEYS: JSON.stringify({ current: { kid: "k1", secret: "pipeline-test-signing-secret-0123456789" } }),
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  api.stdout!.on("data", (c: Buffer) => (apiOutput += c.toString()));
  api.stderr!.on("data", (c: Buffer) => (apiOutput += c.toString()));
  await waitFor(
    "the api to answer /api/health",
    async () => {
      if (api!.exitCode !== null) throw new Error(`the api exited (${api!.exitCode}):\n${apiOutput}`);
      return fetch(`${apiUrl}/api/health`).then((r) => r.ok, () => false);
    },
    30_000,
  );
  workers = await startWorkers({
    config: loadWorkersConfig(env),
    logger: createLogger({ service: "workers", level: "silent" }),
    metrics: new Metrics({ namespace: "chat-test", serviceName: "chat-test-workers", intervalMs: 0, write: () => {} }),
  });
});

afterAll(async () => {
  await workers?.stop();
  if (api && api.exitCode === null) {
    const exited = new Promise((resolve) => api!.once("exit", resolve));
    api.kill("SIGTERM");
    await exited;
  }
  await sink?.close();
  await Promise.all([redis?.stop(), sqs?.stop(), pool?.end()]);
});

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { ...(body ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

async function register(username: string): Promise<{ token: string; userId: string }> {
  const r = await call("POST", "/api/auth/register", undefined, { username, password: "correct horse battery" });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return { token: r.json.accessToken, userId: r.json.user.id };
}

test("a message posted through the api reaches an offline member as a signed push and as a digest entry", async () => {
  const alice = await register("alice");
  const bob = await register("bob");
  const room = await call("POST", "/api/rooms", alice.token, { name: "pipeline" });
  assert.equal(room.status, 201);
  const roomId: string = room.json.room.id;
  assert.equal((await call("POST", `/api/rooms/${roomId}/join`, bob.token)).status, 200);

  const posted = await call("POST", `/api/rooms/${roomId}/messages`, alice.token, { body: "are you there?", clientMsgId: "pipe-1" });
  assert.equal(posted.status, 201, JSON.stringify(posted.json));
  const messageId = String(posted.json.message.id);

  // bob has no presence key: the api queued a push and an offline job for him (and none for alice).
  const req = await waitFor("the push notification at the gateway", () => sink.requests.find((r) => r.jobId === `push:${messageId}:${bob.userId}`), 15_000);
  assert.equal(verifySignature(GATEWAY_SECRET, req.headers, req.body), true, "signed with the shared secret");
  const notification = JSON.parse(req.body);
  assert.deepEqual(
    { userId: notification.userId, roomId: notification.roomId, messageId: notification.messageId, preview: notification.preview },
    { userId: bob.userId, roomId, messageId, preview: "are you there?" },
  );
  assert.ok(sink.requests.every((r) => !r.jobId.endsWith(`:${alice.userId}`)), "the author gets no push");

  const digest = await waitFor(
    "the digest entry",
    async () => {
      const d = await call("GET", "/api/me/digest", bob.token);
      return d.status === 200 && d.json.missed.length > 0 ? d.json.missed : undefined;
    },
    15_000,
  );
  expect(digest.map((m: { messageId: string }) => String(m.messageId))).toStrictEqual([messageId]);
  const outcomes = await pool.query("SELECT job_id, outcome FROM processed_jobs ORDER BY job_id");
  assert.deepEqual(outcomes.rows, [
    { job_id: `offline:${messageId}:${bob.userId}`, outcome: "recorded" },
    { job_id: `push:${messageId}:${bob.userId}`, outcome: "delivered" },
  ]);
});
