/**
 * The two job handlers. Each one validates the body (anything invalid is poison: released at once and
 * redriven to the DLQ untouched), then runs its effect exactly once per job id (see idempotency.ts).
 */
import type { Message } from "@aws-sdk/client-sqs";
import type { Pool } from "pg";
import { PoisonMessageError, errorMessage, type ConsumerLogger, type JobContext } from "./consumer";
import { PushGatewayError, type PushGatewayClient } from "./push-gateway";
import { escapeLiteral } from "pg";
import { runOnce, runOnceStatement } from "./idempotency";
import { parseJob, type OfflineJob, type PushJob } from "@chat/shared/src/jobs";

export interface HandlerDeps {
  pool: Pool;
  /**
   * Database backstop: PostgreSQL ends a lock wait or statement running longer than this. Above the job
   * timeout, which normally ends a hung job first (and destroys its client).
   */
  lockTimeoutMs: number;
  logger: ConsumerLogger;
  /** Called when the gateway refuses a notification for good (metrics). */
  onRejected?: () => void;
}

type Handler = (message: Message, ctx: JobContext) => Promise<void>;

function parseAs<T extends PushJob | OfflineJob>(message: Message, type: T["type"]): T {
  const parsed = parseJob(message.Body);
  if (!parsed.ok) throw new PoisonMessageError(`invalid ${type} job: ${parsed.error}`);
  if (parsed.job.type !== type) throw new PoisonMessageError(`a "${parsed.job.type}" job arrived on the ${type} queue`);
  return parsed.job as T;
}

/** A value the database refuses to store (bad id format, out of range) can never succeed: poison. */
function poisonOnDataError(err: unknown): never {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("22")) {
    throw new PoisonMessageError(`job data refused by the database: ${errorMessage(err)}`);
  }
  throw err;
}

export function pushHandler(deps: HandlerDeps & { gateway: PushGatewayClient }): Handler {
  return async (message, ctx) => {
    const job = parseAs<PushJob>(message, "push");
    const result = await runOnce(deps.pool, { jobId: job.jobId, queue: "push", lockTimeoutMs: deps.lockTimeoutMs, statementTimeoutMs: deps.lockTimeoutMs, signal: ctx.signal }, async (tx) => {
      let status: "delivered" | "rejected";
      let gatewayStatus: number | undefined;
      let attempts: number;
      try {
        const sent = await deps.gateway.send(
          {
            jobId: job.jobId,
            userId: job.userId,
            roomId: job.roomId,
            messageId: job.messageId,
            preview: job.preview,
            createdAt: job.createdAt,
          },
          ctx.signal,
        );
        status = "delivered";
        gatewayStatus = sent.status;
        attempts = sent.attempts;
      } catch (err) {
        if (!(err instanceof PushGatewayError) || err.retryable) throw err;
        deps.logger.warn({ jobId: job.jobId, correlationId: job.correlationId, status: err.status, error: err.message }, "push gateway refused the notification");
        deps.onRejected?.();
        status = "rejected";
        gatewayStatus = err.status;
        attempts = err.attempts;
      }
      // A user deleted meanwhile has no delivery row to keep (the row would cascade away anyway). Sent with the
      // outcome and COMMIT in one round trip; the values are the validated job's, escaped.
      const lit = (v: string | number | undefined) => (v === undefined ? "NULL" : escapeLiteral(String(v)));
      return {
        outcome: status,
        write: `INSERT INTO push_deliveries (job_id, user_id, message_id, status, gateway_status, attempts)
         SELECT ${lit(job.jobId)}, u.id, ${lit(job.messageId)}::bigint, ${lit(status)}, ${lit(gatewayStatus)}::integer, ${lit(attempts)}::integer
           FROM users u WHERE u.id = ${lit(job.userId)}
         ON CONFLICT (job_id) DO NOTHING`,
      };
    }).catch(poisonOnDataError);
    if (result.status === "duplicate") deps.logger.info({ jobId: job.jobId, correlationId: job.correlationId }, "duplicate push job skipped");
    else deps.logger.info({ jobId: job.jobId, correlationId: job.correlationId, outcome: result.outcome }, "push job done");
  };
}

/**
 * Adds the message to the user's digest of messages missed while offline (`offline_digests`, one row per user
 * and message; the api lists the unfetched rows and marks them fetched). A user, room or message deleted in
 * the meantime leaves nothing to record: the job ends as "skipped".
 */
export function offlineHandler(deps: HandlerDeps): Handler {
  return async (message, ctx) => {
    const job = parseAs<OfflineJob>(message, "offline");
    // One round trip: the processed_jobs row and the digest row in one statement. The digest insert joins the
    // claim, so a duplicate (claim conflict) writes nothing; the outcome is decided from the same lookup.
    const ids = [job.userId, job.roomId, job.messageId].map(escapeLiteral);
    const [userId, roomId, messageId] = ids as [string, string, string];
    const result = await runOnceStatement(deps.pool, { jobId: job.jobId, queue: "offline", lockTimeoutMs: deps.lockTimeoutMs, statementTimeoutMs: deps.lockTimeoutMs, signal: ctx.signal }, (jobId) =>
      `WITH target AS (
         SELECT u.id AS user_id, m.room_id, m.id AS message_id
           FROM users u, messages m
          WHERE u.id = ${userId} AND m.id = ${messageId} AND m.room_id = ${roomId}
       ), claim AS (
         INSERT INTO processed_jobs (job_id, queue, outcome)
         SELECT ${jobId}, 'offline', CASE WHEN EXISTS (SELECT 1 FROM target) THEN 'recorded' ELSE 'skipped' END
         ON CONFLICT (job_id) DO NOTHING
         RETURNING outcome
       ), digest AS (
         INSERT INTO offline_digests (user_id, room_id, message_id)
         SELECT t.user_id, t.room_id, t.message_id FROM target t, claim
         ON CONFLICT (user_id, message_id) DO NOTHING
       )
       SELECT (SELECT outcome FROM claim) AS outcome`,
    ).catch(poisonOnDataError);
    if (result.status === "duplicate") deps.logger.info({ jobId: job.jobId, correlationId: job.correlationId }, "duplicate offline job skipped");
    else deps.logger.info({ jobId: job.jobId, correlationId: job.correlationId, outcome: result.outcome }, "offline job done");
  };
}
