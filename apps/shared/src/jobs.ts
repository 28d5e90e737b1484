/**
 * Queue messages (docs/CONTRACTS.md) and the producer side.
 *
 * push:    { type: "push", version: 1, jobId: "push:<messageId>:<userId>", userId, roomId, messageId, preview, createdAt, correlationId? }
 * offline: { type: "offline", version: 1, jobId: "offline:<messageId>:<userId>", userId, roomId, messageId, createdAt, correlationId? }
 *
 * `correlationId` (optional) is the id of the api request that queued the job, so the workers' log lines
 * can be matched with the api's.
 *
 * `parseJob` is what the workers run on every body: anything that fails it is a poison message.
 */
import { SQSClient, SendMessageBatchCommand } from "@aws-sdk/client-sqs";

export interface PushJob {
  type: "push";
  version: 1;
  jobId: string;
  userId: string;
  roomId: string;
  messageId: string;
  preview: string;
  createdAt: string;
  /** The api request id that queued the job (its `reqId` log field); absent for jobs from the realtime service. */
  correlationId?: string;
}

export interface OfflineJob {
  type: "offline";
  version: 1;
  jobId: string;
  userId: string;
  roomId: string;
  messageId: string;
  createdAt: string;
  /** The api request id that queued the job (its `reqId` log field); absent for jobs from the realtime service. */
  correlationId?: string;
}

export type Job = PushJob | OfflineJob;

export const PREVIEW_MAX = 140;

/** Letters, digits and `. _ : -`, 1 to 128 characters (what the services accept as a request id). */
export const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const withCorrelation = (correlationId: string | undefined) => (correlationId !== undefined ? { correlationId } : {});

export function pushJob(m: { id: string; roomId: string; body: string; createdAt: string }, userId: string, correlationId?: string): PushJob {
  const preview = m.body.length > PREVIEW_MAX ? `${m.body.slice(0, PREVIEW_MAX - 1)}…` : m.body;
  return {
    type: "push", version: 1, jobId: `push:${m.id}:${userId}`, userId, roomId: m.roomId, messageId: m.id, preview, createdAt: m.createdAt,
    ...withCorrelation(correlationId),
  };
}

export function offlineJob(m: { id: string; roomId: string; createdAt: string }, userId: string, correlationId?: string): OfflineJob {
  return {
    type: "offline", version: 1, jobId: `offline:${m.id}:${userId}`, userId, roomId: m.roomId, messageId: m.id, createdAt: m.createdAt,
    ...withCorrelation(correlationId),
  };
}

export type ParseResult = { ok: true; job: Job } | { ok: false; error: string };

const ID = /^[A-Za-z0-9-]{1,64}$/;
const MESSAGE_ID = /^[1-9]\d{0,18}$/;

/** Validates a queue message body. Never throws. */
export function parseJob(body: string | undefined): ParseResult {
  if (body === undefined || body === "") return { ok: false, error: "empty message body" };
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return { ok: false, error: "body is not JSON" };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { ok: false, error: "body must be a JSON object" };
  const o = v as Record<string, unknown>;
  if (o.type !== "push" && o.type !== "offline") return { ok: false, error: `type must be "push" or "offline" (got ${JSON.stringify(o.type)})` };
  if (o.version !== 1) return { ok: false, error: `version must be 1 (got ${JSON.stringify(o.version)})` };
  const str = (f: string, re?: RegExp): string | undefined => {
    const x = o[f];
    return typeof x === "string" && (!re || re.test(x)) ? x : undefined;
  };
  const userId = str("userId", ID);
  const roomId = str("roomId", ID);
  const messageId = str("messageId", MESSAGE_ID);
  const createdAt = str("createdAt");
  if (!userId) return { ok: false, error: "userId must be an id string" };
  if (!roomId) return { ok: false, error: "roomId must be an id string" };
  if (!messageId) return { ok: false, error: "messageId must be a positive integer string" };
  if (!createdAt || Number.isNaN(Date.parse(createdAt))) return { ok: false, error: "createdAt must be an ISO-8601 timestamp" };
  const expectedJobId = `${o.type}:${messageId}:${userId}`;
  if (o.jobId !== expectedJobId) return { ok: false, error: `jobId must be "${expectedJobId}"` };
  const correlationId = o.correlationId === undefined ? undefined : str("correlationId", CORRELATION_ID);
  if (o.correlationId !== undefined && correlationId === undefined) {
    return { ok: false, error: "correlationId, when present, must be 1 to 128 characters of letters, digits, . _ : -" };
  }
  if (o.type === "push") {
    const preview = str("preview");
    if (preview === undefined || preview.length > PREVIEW_MAX) return { ok: false, error: `preview must be a string of at most ${PREVIEW_MAX} characters` };
    return { ok: true, job: { type: "push", version: 1, jobId: expectedJobId, userId, roomId, messageId, preview, createdAt, ...withCorrelation(correlationId) } };
  }
  return { ok: true, job: { type: "offline", version: 1, jobId: expectedJobId, userId, roomId, messageId, createdAt, ...withCorrelation(correlationId) } };
}

export function createSqsClient(opts: { region: string; endpoint?: string }): SQSClient {
  return new SQSClient({
    region: opts.region,
    ...(opts.endpoint
      ? { endpoint: opts.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
  });
}

export class JobProducer {
  constructor(private readonly sqs: SQSClient, private readonly maxAttempts = 3) {}

  /**
   * Sends jobs in SendMessageBatch calls of 10. Entries SQS reports as failed are retried (sender faults
   * are not); throws when any job could not be sent, naming how many.
   */
  async send(queueUrl: string, jobs: readonly Job[]): Promise<void> {
    for (let i = 0; i < jobs.length; i += 10) {
      let pending = jobs.slice(i, i + 10).map((job, n) => ({ Id: String(n), MessageBody: JSON.stringify(job) }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
        const failed = out.Failed ?? [];
        if (failed.length === 0) break;
        const fatal = failed.filter((f) => f.SenderFault);
        if (fatal.length > 0 || attempt >= this.maxAttempts) {
          throw new Error(`could not enqueue ${failed.length} job(s) on ${queueUrl}: ${failed[0].Code ?? "error"} ${failed[0].Message ?? ""}`.trim());
        }
        const retry = new Set(failed.map((f) => f.Id));
        pending = pending.filter((e) => retry.has(e.Id));
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }
}
