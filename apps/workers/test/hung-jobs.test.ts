/**
 * Jobs that hang on a real database call (pg_sleep, a lock wait) against real PostgreSQL and local-aws-sqs:
 * the job timeout gives the slot and the message back, destroys the job's database client (its server process
 * goes too, with its locks), logs `job failed` and counts `JobsFailed`; readiness fails while a consumer makes no
 * progress; a stop does not wait for a hung job.
 */
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { Client, type Pool } from "pg";
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { TestSqs } from "../../../test/support/sqs";
import { createLogger } from "@chat/shared/src/log";
import { Metrics } from "@chat/shared/src/metrics";
import { SqsConsumer, type JobResult } from "../src/consumer";
import { runOnce } from "../src/idempotency";
import { loadWorkersConfig } from "../src/config";
import { startWorkers } from "../src/app";
import { createQueuePair, openFixture, queueDepth, sendBodies, sendJobs, waitFor, workersEnv, type Fixture } from "./helpers";

let fixture: Fixture;
let pool: Pool;
let sqs: TestSqs;

beforeAll(async () => {
  fixture = await openFixture("workers_hung", { poolMax: 4, messages: 6 });
  ({ pool, sqs } = fixture);
});

afterAll(() => fixture.close());

/** A pino logger whose parsed lines land in `lines`. */
function capturingLogger(lines: Array<Record<string, unknown>>) {
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString("utf8").split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return createLogger({ service: "workers", level: "info", destination });
}

/** The SQS client with every command it sends recorded. */
function recording(client: SQSClient) {
  const sent: Array<{ command: string; input: Record<string, unknown> }> = [];
  const wrapped = {
    send(command: { constructor: { name: string }; input: Record<string, unknown> }, opts?: unknown) {
      sent.push({ command: command.constructor.name.replace(/Command$/, ""), input: command.input });
      return client.send(command as never, opts as never);
    },
  } as unknown as SQSClient;
  return { client: wrapped, sent };
}

async function sleepingBackends(marker: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()",
    [`%${marker}%`],
  );
  return rows[0].n;
}

const isError = (l: Record<string, unknown>) => String(l.level).toLowerCase() === "error";

test("a job hung on a database call times out: slot and message released, client destroyed, logged and retried", async () => {
  const id = randomUUID().slice(0, 8);
  // local-aws-sqs counts visibility changes as receives: a generous maxReceiveCount keeps it off the DLQ.
  const { url } = await createQueuePair(sqs.client, `hang-${id}`, 50);
  const jobId = `hang:${id}`;
  const marker = `hung_${id}`;
  await sendBodies(sqs.client, url, [JSON.stringify({ jobId })]);
  const lines: Array<Record<string, unknown>> = [];
  const results: JobResult[] = [];
  let attempts = 0;
  const { client, sent } = recording(sqs.client);
  const consumer = new SqsConsumer({
    client,
    queueUrl: url,
    name: "hang",
    concurrency: 1,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 5,
    jobTimeoutMs: 800,
    logger: capturingLogger(lines),
    onResult: (r) => results.push(r),
    // The first delivery sleeps in PostgreSQL far past the job timeout, holding the processed_jobs row lock;
    // the second finishes at once, which it can only do once that lock is gone.
    handler: async (_m: Message, ctx) => {
      const attempt = ++attempts;
      await runOnce(pool, { jobId, queue: "hang", lockTimeoutMs: 60_000, statementTimeoutMs: 60_000, signal: ctx.signal }, async (tx) => {
        if (attempt === 1) await tx.query(`SELECT pg_sleep(60) AS ${marker}`);
        return "done";
      });
    },
  });
  consumer.start();
  try {
    await waitFor("the retry to be processed", () => results.some((r) => r.outcome === "processed"), 15_000);
    expect(results[0]).toMatchObject({ outcome: "failed", timedOut: true });
    expect(results[0].durationMs).toBeGreaterThanOrEqual(800);
    expect(attempts).toBe(2);
    // The message was handed back at once (visibility 0), not left hidden for the 5 s visibility timeout.
    const releases = sent.filter((s) => s.command === "ChangeMessageVisibilityBatch");
    expect(releases).toHaveLength(1);
    expect(releases[0].input.Entries).toEqual([expect.objectContaining({ VisibilityTimeout: 0 })]);
    // The sleeping statement's server process is gone (terminated with its client), not left running.
    await waitFor("the hung backend to end", async () => (await sleepingBackends(marker)) === 0, 5000);
    const { rows } = await pool.query("SELECT outcome FROM processed_jobs WHERE job_id = $1", [jobId]);
    expect(rows).toEqual([{ outcome: "done" }]);
    const failed = lines.filter((l) => /job failed/.test(String(l.msg)));
    expect(failed).toHaveLength(1);
    expect(isError(failed[0])).toBe(true);
    expect(failed[0]).toMatchObject({ queue: "hang", timeoutMs: 800 });
  } finally {
    await consumer.stop(1000);
  }
  await waitFor("the queue to be empty", async () => {
    const d = await queueDepth(sqs.client, url);
    return d.visible === 0 && d.inFlight === 0;
  });
});

test("stop() does not wait for a job hung on a database call: it releases the message and the pool can close", async () => {
  const { Pool: PgPool } = await import("pg");
  const own = new PgPool({ connectionString: fixture.databaseUrl, max: 2 });
  const id = randomUUID().slice(0, 8);
  const { url } = await createQueuePair(sqs.client, `stop-${id}`, 50);
  await sendBodies(sqs.client, url, [JSON.stringify({ n: 1 })]);
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const consumer = new SqsConsumer({
    client: sqs.client,
    queueUrl: url,
    name: "stop",
    concurrency: 1,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 30,
    jobTimeoutMs: 60_000,
    handler: async (_m, ctx) => {
      await runOnce(own, { jobId: `stop:${id}`, queue: "stop", lockTimeoutMs: 60_000, statementTimeoutMs: 60_000, signal: ctx.signal }, async (tx) => {
        started();
        await tx.query(`SELECT pg_sleep(60) AS stop_${id}`);
        return "done";
      });
    },
  });
  consumer.start();
  await running;
  await consumer.stop(300);
  expect(consumer.active).toBe(0);
  // pool.end() waits for every checked-out client: it returns only because the hung one was destroyed.
  await own.end();
  // Released with visibility 0: visible again at once although the visibility timeout is 30 s.
  await waitFor("the message to be visible again", async () => (await queueDepth(sqs.client, url)).visible === 1, 5000);
  await waitFor("the hung backend to end", async () => (await sleepingBackends(`stop_${id}`)) === 0, 5000);
});

test("the workers with every push job hung on a lock: JobsFailed counted, /ready fails, stop() returns, a new worker finishes the jobs", async () => {
  const id = randomUUID().slice(0, 8);
  const push = await createQueuePair(sqs.client, `push-hung-${id}`, 50);
  const offline = await createQueuePair(sqs.client, `offline-hung-${id}`, 50);
  const env = workersEnv(
    { databaseUrl: fixture.databaseUrl, sqsEndpoint: sqs.endpoint, push, offline, sinkUrl: fixture.sink.url },
    { JOB_TIMEOUT_MS: "1000", PUSH_ATTEMPT_TIMEOUT_MS: "500", SHUTDOWN_GRACE_MS: "300", WORKER_CONCURRENCY: "2" },
  );
  fixture.sink.respond = () => ({ status: 200 });
  // Every push job writes push_deliveries after the gateway call; holding this lock makes each one hang.
  const locker = new Client({ connectionString: fixture.databaseUrl });
  await locker.connect();
  await locker.query("BEGIN; LOCK TABLE push_deliveries IN ACCESS EXCLUSIVE MODE");
  const lines: Array<Record<string, unknown>> = [];
  const metricLines: string[] = [];
  const metrics = new Metrics({ namespace: "chat-test", serviceName: "chat-test-workers", intervalMs: 0, write: (l) => metricLines.push(l) });
  const jobs = [fixture.data.push(0), fixture.data.push(1)];
  const workers = await startWorkers({ config: loadWorkersConfig(env), logger: capturingLogger(lines), metrics });
  try {
    const ready = async () => {
      const r = await fetch(`http://127.0.0.1:${workers.port}/ready`);
      return { status: r.status, body: (await r.json()) as { detail: string } };
    };
    expect((await ready()).status).toBe(200);
    await sendJobs(sqs.client, push.url, jobs);
    const notReady = await waitFor("/ready to fail", async () => {
      const r = await ready();
      return r.status === 503 ? r : undefined;
    }, 10_000);
    expect(notReady.body.detail).toMatch(/no job finished for longer than JOB_TIMEOUT_MS \(1000 ms\) with jobs in flight on the push queue/);
    // Each timed-out job is logged, then released, then counted: wait for the count.
    await waitFor("JobsFailed to be counted", () => {
      metrics.flush();
      return metricLines.map((l) => JSON.parse(l) as Record<string, unknown>).some((d) => Number(d.JobsFailed ?? 0) >= 1);
    }, 10_000);
    const failedLines = lines.filter((l) => /job failed/.test(String(l.msg)));
    expect(failedLines.length).toBeGreaterThanOrEqual(1);
    expect(failedLines.every(isError)).toBe(true);
    // A stop with jobs still hung returns (and closes the pool, which needs the hung clients destroyed).
    await workers.stop();
  } finally {
    await workers.stop();
    await locker.query("COMMIT");
    await locker.end();
  }
  // Nothing was lost: a new worker delivers both jobs once the lock is gone, and is ready.
  const again = await startWorkers({ config: loadWorkersConfig(env), logger: capturingLogger([]), metrics: new Metrics({ namespace: "chat-test", serviceName: "chat-test-workers", intervalMs: 0, write: () => undefined }) });
  try {
    await waitFor("both deliveries", async () => {
      const { rows } = await pool.query("SELECT count(*)::int AS n FROM push_deliveries WHERE job_id = ANY($1)", [jobs.map((j) => j.jobId)]);
      return rows[0].n === 2;
    }, 15_000);
    const r = await fetch(`http://127.0.0.1:${again.port}/ready`);
    expect(r.status).toBe(200);
  } finally {
    await again.stop();
  }
});
