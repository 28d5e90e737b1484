/** Test fixtures for the workers: a push-gateway sink, queue pairs with a redrive policy, seeded rows. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { Pool } from "pg";
import { migrate } from "@chat/shared/src/migrate";
import { pushJob, offlineJob, type Job } from "@chat/shared/src/jobs";
import { createTestDatabase } from "../../../test/support/postgres";
import { startSqs, type TestSqs } from "../../../test/support/sqs";

export const GATEWAY_SECRET = "test-push-gateway-secret-0123456789abcdef";

export interface SinkRequest {
  headers: IncomingHttpHeaders;
  body: string;
  jobId: string;
  at: number;
}

export interface Sink {
  url: string;
  requests: SinkRequest[];
  /** Decides the answer per request (default 200 at once). */
  respond: (req: SinkRequest) => Promise<{ status: number; delayMs?: number; headers?: Record<string, string> }> | { status: number; delayMs?: number; headers?: Record<string, string> };
  jobIds(): string[];
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const sink: Sink = {
    url: "",
    requests: [],
    respond: () => ({ status: 200 }),
    jobIds: () => sink.requests.map((r) => r.jobId),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let jobId = "";
      try {
        jobId = String((JSON.parse(body) as { jobId?: unknown }).jobId ?? "");
      } catch {
        /* recorded as is */
      }
      const entry = { headers: req.headers, body, jobId, at: Date.now() };
      sink.requests.push(entry);
      const answer = await sink.respond(entry);
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      if (res.destroyed) return;
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(JSON.stringify({ ok: answer.status < 300 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
  return sink;
}

export interface QueuePair {
  url: string;
  dlqUrl: string;
}

/** A queue and its DLQ, with `maxReceiveCount` (0 = no redrive policy). */
export async function createQueuePair(sqs: SQSClient, name: string, maxReceiveCount: number, visibilityTimeoutS = 5): Promise<QueuePair> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))
  ).Attributes!.QueueArn!;
  const attributes: Record<string, string> = { VisibilityTimeout: String(visibilityTimeoutS) };
  if (maxReceiveCount > 0) {
    attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount });
  }
  const q = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return { url: q.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

export async function sendBodies(sqs: SQSClient, queueUrl: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(i, i + 10).map((b, n) => ({ Id: String(n), MessageBody: b })),
      }),
    );
    if (out.Failed?.length) throw new Error(`send failed: ${JSON.stringify(out.Failed)}`);
  }
}

export async function sendJobs(sqs: SQSClient, queueUrl: string, jobs: Job[]): Promise<void> {
  await sendBodies(sqs, queueUrl, jobs.map((j) => JSON.stringify(j)));
}

/**
 * Visible and in-flight message counts on `local-aws-sqs`. That server counts every stored message (in flight
 * included) in ApproximateNumberOfMessages, unlike SQS, so the visible count is the difference.
 */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const stored = Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  return { visible: stored - inFlight, inFlight };
}

/** Drains a queue (e.g. a DLQ) and returns the bodies. */
export async function drain(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    if (!out.Messages?.length) return bodies;
    bodies.push(...out.Messages.map((m) => m.Body ?? ""));
  }
}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Seed {
  userId: string;
  roomId: string;
  messageIds: string[];
  push(messageIndex: number): Job;
  offline(messageIndex: number): Job;
}

/** Migrates the database and inserts one user, one room and `messages` messages. */
export async function seed(pool: Pool, messages: number): Promise<Seed> {
  await migrate(pool);
  const suffix = randomUUID().slice(0, 8);
  const user = await pool.query<{ id: string }>(
    "INSERT INTO users (username, display_name, password_hash) VALUES ($1, $1, 'x') RETURNING id",
    [`u-${suffix}`],
  );
  const userId = user.rows[0].id;
  const room = await pool.query<{ id: string }>("INSERT INTO rooms (name, created_by) VALUES ('r', $1) RETURNING id", [userId]);
  const roomId = room.rows[0].id;
  const msgs = await pool.query<{ id: string; created_at: Date }>(
    `INSERT INTO messages (room_id, author_id, body, client_msg_id)
     SELECT $1, $2, 'hello ' || g, $3 || g FROM generate_series(1, $4::int) g RETURNING id::text, created_at`,
    [roomId, userId, `c-${suffix}-`, messages],
  );
  const rows = msgs.rows;
  const m = (i: number) => ({ id: rows[i].id, roomId, body: `hello ${i}`, createdAt: rows[i].created_at.toISOString() });
  return {
    userId,
    roomId,
    messageIds: rows.map((r) => r.id),
    push: (i) => pushJob(m(i), userId),
    offline: (i) => offlineJob(m(i), userId),
  };
}

/** Environment for the workers in tests: short polls, short visibility, no port clash. */
export function workersEnv(o: { databaseUrl: string; sqsEndpoint: string; push: QueuePair; offline: QueuePair; sinkUrl: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PROJECT: "chat",
    ENV: "test",
    PORT: "0",
    LOG_LEVEL: "silent",
    DATABASE_URL: o.databaseUrl,
    SQS_ENDPOINT: o.sqsEndpoint,
    AWS_REGION: "us-east-1",
    PUSH_QUEUE_URL: o.push.url,
    OFFLINE_QUEUE_URL: o.offline.url,
    PUSH_GATEWAY_URL: o.sinkUrl,
    PUSH_GATEWAY_SECRET: GATEWAY_SECRET,
    WORKER_CONCURRENCY: "4",
    JOB_TIMEOUT_MS: "4000",
    VISIBILITY_TIMEOUT_S: "5",
    SQS_WAIT_TIME_S: "1",
    PUSH_ATTEMPT_TIMEOUT_MS: "1500",
    PUSH_MAX_ATTEMPTS: "3",
    SHUTDOWN_GRACE_MS: "3000",
    ...extra,
  };
}

export interface Fixture {
  databaseUrl: string;
  pool: Pool;
  sqs: TestSqs;
  sink: Sink;
  data: Seed;
  close(): Promise<void>;
}

/** A fresh database seeded with `messages` messages, a local SQS and a push-gateway sink; `close` stops them all. */
export async function openFixture(name: string, o: { poolMax: number; messages: number }): Promise<Fixture> {
  const databaseUrl = await createTestDatabase(name);
  const pool = new Pool({ connectionString: databaseUrl, max: o.poolMax });
  const data = await seed(pool, o.messages);
  const sqs = await startSqs();
  const sink = await startSink();
  return {
    databaseUrl,
    pool,
    sqs,
    sink,
    data,
    async close() {
      await sink.close();
      await sqs.stop();
      await pool.end();
    },
  };
}
