/**
 * `npm run bench:workers`: jobs per second through the workers, end to end. A queue is filled first, then the
 * workers start and the clock runs until every job has its `processed_jobs` row and the queue is empty:
 * receive from local SQS (local-aws-sqs), idempotency record + effect in a real PostgreSQL transaction, push
 * delivery to a local HTTP sink (signed request), batched deletes.
 *
 * Beside each queue's run, the emulator's floor: a bare loop that receives batches of 10 (the workers' largest
 * receive) with the same wait time and deletes each batch with DeleteMessageBatch, doing no work, against the
 * same local-aws-sqs server and an identical fresh queue of the same jobs. `ours / floor` is the share of the
 * queue's own throughput the workers reach; on a loaded machine both move, their ratio much less.
 *
 * Settings (environment): BENCH_JOBS (default 2000 per queue), WORKER_CONCURRENCY (default: the workers' own, 20 per queue),
 * BENCH_GATEWAY_DELAY_MS (sink answer delay, default 0), BENCH_QUEUES ("push,offline" by default).
 * Uses the test PostgreSQL cluster (test/support/postgres; TEST_PG_URL to point elsewhere).
 */
import { randomUUID } from "node:crypto";
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { SQSClient } from "@aws-sdk/client-sqs";
import { cpus } from "node:os";
import { createLogger } from "../apps/shared/src/log";
import { Metrics, percentile } from "../apps/shared/src/metrics";
import { loadWorkersConfig } from "../apps/workers/src/config";
import { startWorkers } from "../apps/workers/src/app";
import { createQueuePair, openFixture, queueDepth, sendJobs, workersEnv } from "../apps/workers/test/helpers";

function intSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${raw}: use a whole number >= 0`);
  return n;
}

/** The emulator's floor: receive (batch of 10) and delete until `jobs` messages are gone; returns jobs per second. */
export async function bareReceiveDelete(client: SQSClient, queueUrl: string, jobs: number, waitTimeSeconds: number): Promise<number> {
  const started = Date.now();
  let deleted = 0;
  while (deleted < jobs) {
    const res = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitTimeSeconds }));
    const messages = res.Messages ?? [];
    if (messages.length === 0) {
      if (Date.now() - started > 300_000) throw new Error(`floor: only ${deleted} of ${jobs} messages received after 300 s`);
      continue;
    }
    const del = await client.send(new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
    }));
    if (del.Failed?.length) throw new Error(`floor: ${del.Failed.length} deletes failed: ${del.Failed[0]!.Message}`);
    deleted += messages.length;
  }
  return jobs / ((Date.now() - started) / 1000);
}

/** SQS requests by command, counted on every client in this process (the workers' own client included). */
const sqsCalls = new Map<string, number>();
const send = SQSClient.prototype.send;
SQSClient.prototype.send = function (this: SQSClient, command: { constructor: { name: string } }, ...rest: unknown[]) {
  const name = command.constructor.name.replace(/Command$/, "");
  sqsCalls.set(name, (sqsCalls.get(name) ?? 0) + 1);
  return (send as (...a: unknown[]) => unknown).call(this, command, ...rest);
} as typeof send;
const callsOf = (name: string) => sqsCalls.get(name) ?? 0;

async function main(): Promise<void> {
  const jobs = intSetting("BENCH_JOBS", 2000);
  // Unset: the workers' own default (apps/workers/src/config.ts).
  const concurrencySetting = process.env.WORKER_CONCURRENCY ? { WORKER_CONCURRENCY: String(intSetting("WORKER_CONCURRENCY", 0)) } : {};
  const gatewayDelayMs = intSetting("BENCH_GATEWAY_DELAY_MS", 0);
  const queues = (process.env.BENCH_QUEUES ?? "push,offline").split(",").map((q) => q.trim());
  for (const q of queues) if (q !== "push" && q !== "offline") throw new Error(`BENCH_QUEUES: unknown queue "${q}": use push and/or offline`);

  const fixture = await openFixture("bench_workers", { poolMax: 4, messages: jobs });
  const { databaseUrl, pool, data, sqs, sink } = fixture;
  sink.respond = () => ({ status: 200, delayMs: gatewayDelayMs });
  const results: Record<string, unknown>[] = [];
  try {
    for (const queue of queues) {
      const id = randomUUID().slice(0, 8);
      const push = await createQueuePair(sqs.client, `bench-push-${id}`, 5, 30);
      const offline = await createQueuePair(sqs.client, `bench-offline-${id}`, 5, 30);
      const target = queue === "push" ? push : offline;
      const list = Array.from({ length: jobs }, (_, i) => (queue === "push" ? data.push(i) : data.offline(i)));
      await sendJobs(sqs.client, target.url, list);

      const durations: number[] = [];
      const lines: string[] = [];
      const env = workersEnv(
        { databaseUrl, sqsEndpoint: sqs.endpoint, push, offline, sinkUrl: sink.url },
        { VISIBILITY_TIMEOUT_S: "30", JOB_TIMEOUT_MS: "20000", SHUTDOWN_GRACE_MS: "5000" },
      );
      // The test environment's small concurrency is dropped: the workers' own default applies unless set here.
      delete env.WORKER_CONCURRENCY;
      const config = loadWorkersConfig({ ...env, ...concurrencySetting });
      const receives0 = callsOf("ReceiveMessage");
      const deletes0 = callsOf("DeleteMessageBatch");
      const started = Date.now();
      const workers = await startWorkers({
        config,
        logger: createLogger({ service: "workers", level: "warn" }),
        metrics: new Metrics({
          namespace: "bench",
          serviceName: "bench-workers",
          intervalMs: 0,
          write: (l) => lines.push(l),
        }),
      });
      // Progress check every 20 ms: a count of this queue's committed rows (a scan of at most 2 x BENCH_JOBS short
      // rows, well under a millisecond), so the watcher takes little from the database the workers are using.
      for (;;) {
        const done = (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM processed_jobs WHERE queue = $1", [queue])).rows[0].n;
        if (done === jobs) {
          const d = await queueDepth(sqs.client, target.url);
          if (d.visible + d.inFlight === 0) break;
        }
        if (Date.now() - started > 300_000) throw new Error(`only ${done} of ${jobs} ${queue} jobs done after 300 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const elapsedMs = Date.now() - started;
      await workers.stop();
      // Receives of both consumers (the idle queue's long polls included) and delete batches, per 10 jobs.
      const receivesPer10 = +((callsOf("ReceiveMessage") - receives0) / (jobs / 10)).toFixed(2);
      const deletesPer10 = +((callsOf("DeleteMessageBatch") - deletes0) / (jobs / 10)).toFixed(2);
      // the floor on an identical fresh queue, right after our run, same server and wait time
      const floorQueue = await createQueuePair(sqs.client, `bench-floor-${id}`, 5, 30);
      await sendJobs(sqs.client, floorQueue.url, list);
      const floorPerSecond = await bareReceiveDelete(sqs.client, floorQueue.url, jobs, config.waitTimeS);
      for (const l of lines) {
        const doc = JSON.parse(l) as { JobDurationMs?: number[] };
        if (doc.JobDurationMs) durations.push(...doc.JobDurationMs);
      }
      results.push({
        queue,
        jobs,
        concurrency: config.concurrency,
        gatewayDelayMs,
        seconds: +(elapsedMs / 1000).toFixed(2),
        jobsPerSecond: Math.round(jobs / (elapsedMs / 1000)),
        floorJobsPerSecond: Math.round(floorPerSecond),
        oursOverFloor: +(jobs / (elapsedMs / 1000) / floorPerSecond).toFixed(2),
        receivesPer10Jobs: receivesPer10,
        deletesPer10Jobs: deletesPer10,
        jobP50Ms: percentile(durations, 50),
        jobP99Ms: percentile(durations, 99),
      });
    }
  } finally {
    await fixture.close();
  }
  console.log(`workers benchmark (${cpus().length} cores, Node ${process.version}; jobs counted from the first receive to the last delete)`);
  console.table(results);
  console.log(JSON.stringify(results));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});
