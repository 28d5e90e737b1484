/**
 * The real entry point in a child process: SIGTERM while jobs are running. Whatever the process does not
 * finish within its grace period it hands back, so nothing is lost and nothing stays hidden.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import type { TestSqs } from "../../../test/support/sqs";
import { createLogger } from "@chat/shared/src/log";
import { Metrics } from "@chat/shared/src/metrics";
import { loadWorkersConfig } from "../src/config";
import { startWorkers } from "../src/app";
import { createQueuePair, openFixture, queueDepth, sendJobs, waitFor, workersEnv, type Fixture, type Seed, type Sink } from "./helpers";

const root = join(__dirname, "..", "..", "..");
let databaseUrl: string;
let pool: Pool;
let sqs: TestSqs;
let sink: Sink;
let data: Seed;

let fixture: Fixture;

beforeAll(async () => {
  fixture = await openFixture("workers_sigterm", { poolMax: 2, messages: 12 });
  ({ databaseUrl, pool, sqs, sink, data } = fixture);
});

afterAll(() => fixture.close());

test("SIGTERM to the workers process during work: it exits 0, finishes or releases every job, and nothing is lost", async () => {
  const id = randomUUID().slice(0, 8);
  const push = await createQueuePair(sqs.client, `push-${id}`, 5);
  const offline = await createQueuePair(sqs.client, `offline-${id}`, 5);
  const env = workersEnv({ databaseUrl, sqsEndpoint: sqs.endpoint, push, offline, sinkUrl: sink.url });
  // Two jobs may finish inside the 700 ms grace period (gateway answers after 500 ms); the rest are released.
  sink.respond = (req) => ({ status: 200, delayMs: sink.requests.indexOf(req) < 2 ? 500 : 3000 });
  const jobs = Array.from({ length: 10 }, (_, i) => data.push(i));

  const child = spawn(process.execPath, ["--import", "tsx", "apps/workers/src/main.ts"], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: "info", SHUTDOWN_GRACE_MS: "700", WORKER_CONCURRENCY: "4" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    await waitFor("the workers to start", () => output.includes('"workers started"'), 15_000);
    await sendJobs(sqs.client, push.url, jobs);
    await waitFor("four jobs at the gateway", () => sink.requests.length >= 4, 8000);
    child.kill("SIGTERM");
    const code = await exited;
    assert.equal(code, 0, `clean exit after SIGTERM; output:\n${output.slice(-2000)}`);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  assert.match(output, /"shutdown requested"/);
  assert.match(output, /"workers stopped"/);
  const depth = await queueDepth(sqs.client, push.url);
  assert.equal(depth.inFlight, 0, `the stopped process left nothing hidden (${JSON.stringify(depth)})`);

  const done = async () =>
    (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM processed_jobs WHERE job_id = ANY($1) AND outcome = 'delivered'", [jobs.map((j) => j.jobId)])).rows[0].n;
  const finishedBefore = await done();
  assert.ok(finishedBefore <= 2, `only jobs that could finish in the grace period did (${finishedBefore})`);

  sink.respond = () => ({ status: 200 });
  const second = await startWorkers({
    config: loadWorkersConfig(env),
    logger: createLogger({ service: "workers", level: "silent" }),
    metrics: new Metrics({ namespace: "chat-test", serviceName: "chat-test-workers", intervalMs: 0, write: () => {} }),
  });
  try {
    await waitFor("every job to be delivered", async () => (await done()) === jobs.length, 10_000);
    await waitFor("the queue to be empty", async () => {
      const d = await queueDepth(sqs.client, push.url);
      return d.visible + d.inFlight === 0;
    });
  } finally {
    await second.stop();
  }
  const deliveries = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM push_deliveries WHERE job_id = ANY($1)", [jobs.map((j) => j.jobId)]);
  assert.equal(deliveries.rows[0].n, jobs.length, "one delivery row per job");
});
