/**
 * The workers end to end: real Postgres (idempotency records, digests), local SQS (queue + DLQ with a redrive
 * policy) and a local HTTP sink playing the push gateway.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import type { TestSqs } from "../../../test/support/sqs";
import { createLogger } from "@chat/shared/src/log";
import { Metrics } from "@chat/shared/src/metrics";
import { loadWorkersConfig } from "../src/config";
import { startWorkers, type Workers } from "../src/app";
import { verifySignature } from "../src/push-gateway";
import {
  GATEWAY_SECRET,
  createQueuePair,
  drain,
  openFixture,
  queueDepth,
  sendBodies,
  sendJobs,
  waitFor,
  workersEnv,
  type Fixture,
  type QueuePair,
  type Seed,
  type Sink,
} from "./helpers";

let databaseUrl: string;
let pool: Pool;
let sqs: TestSqs;
let sink: Sink;
let data: Seed;

let fixture: Fixture;

beforeAll(async () => {
  fixture = await openFixture("workers", { poolMax: 4, messages: 60 });
  ({ databaseUrl, pool, sqs, sink, data } = fixture);
});

afterAll(() => fixture.close());

interface Harness {
  workers: Workers;
  push: QueuePair;
  offline: QueuePair;
  metricLines: string[];
}

async function harness(opts: { maxReceiveCount?: number; env?: Record<string, string>; heartbeatIntervalMs?: number } = {}): Promise<Harness> {
  const id = randomUUID().slice(0, 8);
  const push = await createQueuePair(sqs.client, `push-${id}`, opts.maxReceiveCount ?? 3);
  const offline = await createQueuePair(sqs.client, `offline-${id}`, opts.maxReceiveCount ?? 3);
  const metricLines: string[] = [];
  const config = loadWorkersConfig(workersEnv({ databaseUrl, sqsEndpoint: sqs.endpoint, push, offline, sinkUrl: sink.url }, opts.env));
  const workers = await startWorkers({
    config,
    logger: createLogger({ service: "workers", level: process.env.WORKERS_TEST_LOG ?? "silent" }),
    metrics: new Metrics({ namespace: "chat-test", serviceName: "chat-test-workers", intervalMs: 0, write: (l) => metricLines.push(l) }),
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
  });
  return { workers, push, offline, metricLines };
}

function resetSink() {
  sink.requests.length = 0;
  sink.respond = () => ({ status: 200 });
}

async function outcomes(jobIds: string[]): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ job_id: string; outcome: string }>(
    "SELECT job_id, outcome FROM processed_jobs WHERE job_id = ANY($1)",
    [jobIds],
  );
  return new Map(rows.map((r) => [r.job_id, r.outcome]));
}

test("a push job is delivered to the gateway with a valid signature, recorded once, and acknowledged", async () => {
  resetSink();
  const h = await harness();
  try {
    const job = data.push(0);
    await sendJobs(sqs.client, h.push.url, [job]);
    await waitFor("the gateway request", () => sink.requests.length > 0);
    const req = sink.requests[0];
    assert.equal(verifySignature(GATEWAY_SECRET, req.headers, req.body), true, "signature verifies with the shared secret");
    assert.equal(req.headers["idempotency-key"], job.jobId);
    assert.equal(JSON.parse(req.body).preview, "hello 0");
    await waitFor("the processed record", async () => (await outcomes([job.jobId])).get(job.jobId) === "delivered");
    const delivery = await pool.query("SELECT status, gateway_status, attempts FROM push_deliveries WHERE job_id = $1", [job.jobId]);
    assert.deepEqual(delivery.rows, [{ status: "delivered", gateway_status: 200, attempts: 1 }]);
    await waitFor("the message to be deleted", async () => {
      const d = await queueDepth(sqs.client, h.push.url);
      return d.visible === 0 && d.inFlight === 0;
    });
    const health = await fetch(`http://127.0.0.1:${h.workers.port}/health`);
    assert.equal(health.status, 200);
    const ready = await fetch(`http://127.0.0.1:${h.workers.port}/ready`);
    assert.equal(ready.status, 200, await ready.text());
  } finally {
    await h.workers.stop();
  }
  const emf = h.metricLines.map((l) => JSON.parse(l));
  assert.ok(emf.some((d) => d.JobsProcessed >= 1 && d.ServiceName === "chat-test-workers"), "JobsProcessed is published");
  assert.ok(emf.some((d) => Array.isArray(d.JobDurationMs)), "JobDurationMs is published");
});

test("an offline job records a digest row; a job for a message that no longer exists is skipped", async () => {
  resetSink();
  const h = await harness();
  try {
    const job = data.offline(1);
    const ghost = { ...data.offline(2), messageId: "999999", jobId: `offline:999999:${data.userId}` };
    await sendJobs(sqs.client, h.offline.url, [job, ghost]);
    await waitFor("both jobs", async () => (await outcomes([job.jobId, ghost.jobId])).size === 2);
    const o = await outcomes([job.jobId, ghost.jobId]);
    assert.equal(o.get(job.jobId), "recorded");
    assert.equal(o.get(ghost.jobId), "skipped");
    const rows = await pool.query("SELECT room_id, message_id::text FROM offline_digests WHERE user_id = $1", [data.userId]);
    assert.deepEqual(rows.rows, [{ room_id: data.roomId, message_id: data.messageIds[1] }]);
    assert.equal(sink.requests.length, 0, "offline jobs never call the gateway");
  } finally {
    await h.workers.stop();
  }
});

test("duplicate deliveries of one job are processed once, including copies running at the same time", async () => {
  resetSink();
  // Slow answers keep the first copy in flight while the others arrive.
  sink.respond = () => ({ status: 200, delayMs: 300 });
  const h = await harness();
  try {
    const job = data.push(3);
    const offline = data.offline(3);
    await sendJobs(sqs.client, h.push.url, [job, job, job, job]);
    await sendJobs(sqs.client, h.offline.url, [offline, offline, offline]);
    await waitFor("all copies to be acknowledged", async () => {
      const [a, b] = await Promise.all([queueDepth(sqs.client, h.push.url), queueDepth(sqs.client, h.offline.url)]);
      return a.visible + a.inFlight + b.visible + b.inFlight === 0;
    });
    assert.deepEqual(sink.jobIds(), [job.jobId], "the gateway is called once");
    const digests = await pool.query("SELECT count(*)::int AS n FROM offline_digests WHERE message_id = $1", [data.messageIds[3]]);
    assert.equal(digests.rows[0].n, 1);
  } finally {
    await h.workers.stop();
  }
});

test("poison messages reach the DLQ after maxReceiveCount while good messages keep flowing", async () => {
  resetSink();
  const h = await harness({ maxReceiveCount: 3 });
  try {
    const poison = ["not json", JSON.stringify({ type: "push", version: 1 }), JSON.stringify(data.offline(4))];
    const good = [5, 6, 7, 8, 9, 10].map((i) => data.push(i));
    await sendBodies(sqs.client, h.push.url, [poison[0], ...good.slice(0, 3).map((j) => JSON.stringify(j)), poison[1], poison[2]]);
    await sendJobs(sqs.client, h.push.url, good.slice(3));
    await waitFor("the good jobs", () => good.every((j) => sink.jobIds().includes(j.jobId)), 8000);
    const dead = await waitFor(
      "three messages in the DLQ",
      async () => ((await queueDepth(sqs.client, h.push.dlqUrl)).visible === 3 ? drain(sqs.client, h.push.dlqUrl) : false),
      10_000,
    );
    assert.deepEqual([...dead].sort(), [...poison].sort(), "bodies reach the DLQ untouched");
    assert.equal(sink.requests.length, good.length, "poison never reaches the gateway");
  } finally {
    await h.workers.stop();
  }
  const failed = h.metricLines.map((l) => JSON.parse(l)).reduce((n, d) => n + (d.JobsFailed ?? 0), 0);
  assert.ok(failed >= 3, `JobsFailed counts the poison receives (got ${failed})`);
});

test("a gateway that refuses a notification for good: recorded as rejected and acknowledged, not retried", async () => {
  resetSink();
  sink.respond = () => ({ status: 410 });
  const h = await harness();
  try {
    const job = data.push(11);
    await sendJobs(sqs.client, h.push.url, [job]);
    await waitFor("the rejected record", async () => (await outcomes([job.jobId])).get(job.jobId) === "rejected");
    await waitFor("the ack", async () => (await queueDepth(sqs.client, h.push.url)).inFlight === 0);
    assert.equal(sink.requests.length, 1);
  } finally {
    await h.workers.stop();
  }
});

test("a slow job's visibility is extended: no second copy is received while it runs", async () => {
  resetSink();
  // Visibility 2 s, the gateway answers after 4.5 s, heartbeats every 0.5 s; no redrive policy, because with
  // local SQS every visibility change counts as a receive.
  sink.respond = () => ({ status: 200, delayMs: 4500 });
  const h = await harness({
    maxReceiveCount: 0,
    heartbeatIntervalMs: 500,
    env: { VISIBILITY_TIMEOUT_S: "2", JOB_TIMEOUT_MS: "8000", PUSH_ATTEMPT_TIMEOUT_MS: "6000" },
  });
  try {
    const job = data.push(12);
    await sendJobs(sqs.client, h.push.url, [job]);
    await waitFor("the gateway request", () => sink.requests.length === 1);
    // Past the 2 s visibility timeout the message must still be hidden (in flight), not visible again.
    await new Promise((r) => setTimeout(r, 3000));
    const d = await queueDepth(sqs.client, h.push.url);
    assert.deepEqual(d, { visible: 0, inFlight: 1 });
    assert.equal(h.workers.push!.active, 1, "only one copy is running");
    await waitFor("the delivery", async () => (await outcomes([job.jobId])).get(job.jobId) === "delivered", 6000);
    assert.equal(sink.requests.length, 1);
  } finally {
    await h.workers.stop();
  }
});

test("stop() during work loses nothing: running jobs finish or are released, and a new worker completes them", async () => {
  resetSink();
  sink.respond = () => ({ status: 200, delayMs: 600 });
  const jobs = Array.from({ length: 16 }, (_, i) => data.push(20 + i));
  const first = await harness({ env: { SHUTDOWN_GRACE_MS: "200", WORKER_CONCURRENCY: "4" } });
  await sendJobs(sqs.client, first.push.url, jobs);
  await waitFor("work to be running", () => first.workers.push!.active === 4);
  const stopStarted = Date.now();
  await first.workers.stop();
  assert.ok(Date.now() - stopStarted < 3000, "stop honours the grace period");
  // Released messages are visible again at once (visibility 0), not after the 5 s visibility timeout.
  const depth = await queueDepth(sqs.client, first.push.url);
  assert.equal(depth.inFlight, 0, `nothing is left hidden after stop (${JSON.stringify(depth)})`);

  sink.respond = () => ({ status: 200 });
  const config = loadWorkersConfig(
    workersEnv({ databaseUrl, sqsEndpoint: sqs.endpoint, push: first.push, offline: first.offline, sinkUrl: sink.url }),
  );
  const second = await startWorkers({ config, logger: createLogger({ service: "workers", level: "silent" }) });
  try {
    await waitFor("every job to be delivered", async () => (await outcomes(jobs.map((j) => j.jobId))).size === jobs.length, 10_000);
    const o = await outcomes(jobs.map((j) => j.jobId));
    assert.ok([...o.values()].every((v) => v === "delivered"));
    const rows = await pool.query("SELECT count(*)::int AS n FROM push_deliveries WHERE job_id = ANY($1)", [jobs.map((j) => j.jobId)]);
    assert.equal(rows.rows[0].n, jobs.length);
  } finally {
    await second.stop();
  }
});

test("stop() with enough grace lets running jobs finish and acknowledges them", async () => {
  resetSink();
  sink.respond = () => ({ status: 200, delayMs: 400 });
  const jobs = [40, 41, 42].map((i) => data.push(i));
  const h = await harness({ env: { SHUTDOWN_GRACE_MS: "5000" } });
  await sendJobs(sqs.client, h.push.url, jobs);
  await waitFor("the jobs to be running", () => h.workers.push!.active === 3);
  await h.workers.stop();
  const o = await outcomes(jobs.map((j) => j.jobId));
  assert.equal(o.size, 3, "all three finished before stop resolved");
  const d = await queueDepth(sqs.client, h.push.url);
  assert.deepEqual(d, { visible: 0, inFlight: 0 }, "and were deleted");
});

test("push delivery off: the offline queue is still processed, /ready and metrics work, the push queue is left alone", async () => {
  resetSink();
  const id = randomUUID().slice(0, 8);
  const push = await createQueuePair(sqs.client, `push-off-${id}`, 3);
  const offline = await createQueuePair(sqs.client, `offline-off-${id}`, 3);
  const env = workersEnv(
    { databaseUrl, sqsEndpoint: sqs.endpoint, push, offline, sinkUrl: sink.url },
    { PUSH_QUEUE_URL: "", PUSH_GATEWAY_URL: "", PUSH_GATEWAY_SECRET: "" },
  );
  const config = loadWorkersConfig(env);
  assert.equal(config.push, undefined);
  const logLines: string[] = [];
  const metricLines: string[] = [];
  const workers = await startWorkers({
    config,
    logger: createLogger({ service: "workers", level: "info", destination: { write: (l: string) => void logLines.push(l) } }),
    metrics: new Metrics({ namespace: "chat-test", serviceName: "chat-test-workers", intervalMs: 0, write: (l) => metricLines.push(l) }),
  });
  const pushJob = data.push(50);
  // Jobs queued by the api carry its request id; the worker logs it with the outcome.
  const job = { ...data.offline(51), correlationId: "req-corr-51" };
  try {
    assert.equal(workers.push, undefined, "no push consumer");
    await sendJobs(sqs.client, push.url, [pushJob]);
    await sendJobs(sqs.client, offline.url, [job]);
    await waitFor("the offline job", async () => (await outcomes([job.jobId])).get(job.jobId) === "recorded");
    const digest = await pool.query("SELECT room_id FROM offline_digests WHERE user_id = $1 AND message_id = $2", [data.userId, data.messageIds[51]]);
    assert.deepEqual(digest.rows, [{ room_id: data.roomId }]);
    await waitFor("the offline message to be deleted", async () => {
      const d = await queueDepth(sqs.client, offline.url);
      return d.visible === 0 && d.inFlight === 0;
    });
    const ready = await fetch(`http://127.0.0.1:${workers.port}/ready`);
    assert.equal(ready.status, 200, await ready.text());
    assert.deepEqual(await queueDepth(sqs.client, push.url), { visible: 1, inFlight: 0 }, "nobody receives from the push queue");
    assert.equal((await outcomes([pushJob.jobId])).size, 0);
    assert.equal(sink.requests.length, 0, "the gateway is never called");
  } finally {
    await workers.stop();
  }
  await drain(sqs.client, push.url);
  const logs = logLines.map((l) => JSON.parse(l) as { level: string; msg: string; pushQueue?: unknown });
  const done = logs.filter((l) => l.msg === "offline job done") as unknown as { jobId: string; correlationId?: string; outcome: string }[];
  assert.deepEqual(done.map((l) => [l.jobId, l.correlationId, l.outcome]), [[job.jobId, "req-corr-51", "recorded"]]);
  const disabled = logs.filter((l) => l.msg.startsWith("push delivery disabled: "));
  assert.deepEqual(disabled.map((l) => [l.level, l.msg]), [
    ["WARN", "push delivery disabled: PUSH_QUEUE_URL and PUSH_GATEWAY_URL are unset; only the offline queue is consumed"],
  ]);
  assert.equal(logs.find((l) => l.msg === "workers started")?.pushQueue, null);
  const emf = metricLines.map((l) => JSON.parse(l));
  assert.ok(emf.some((d) => d.JobsProcessed >= 1), "JobsProcessed is published");
});

test("the database pool holds one connection per job the running consumers may hold, plus two", async () => {
  // Push on: both consumers at WORKER_CONCURRENCY 12; the capacity model (infra/config/capacity.ts) counts this.
  const both = await harness({ env: { WORKER_CONCURRENCY: "12" } });
  try {
    expect(both.workers.push).toBeDefined();
    expect((both.workers.pool as unknown as { options: { max: number } }).options.max).toBe(12 * 2 + 2);
  } finally {
    await both.workers.stop();
  }
  // Push off (no gateway): only the offline consumer runs.
  const offlineOnly = await harness({ env: { WORKER_CONCURRENCY: "12", PUSH_QUEUE_URL: "", PUSH_GATEWAY_URL: "", PUSH_GATEWAY_SECRET: "" } });
  try {
    expect(offlineOnly.workers.push).toBeUndefined();
    expect((offlineOnly.workers.pool as unknown as { options: { max: number } }).options.max).toBe(12 + 2);
  } finally {
    await offlineOnly.workers.stop();
  }
});
