/**
 * Workers configuration, read once at start-up. Every problem is collected and reported together, each naming
 * the variable and the fix. The workers need Postgres and SQS only: no Redis and no JWT keys.
 *
 * Push delivery is optional: `PUSH_QUEUE_URL` and `PUSH_GATEWAY_URL` are set together (push consumer on) or
 * left unset together (push consumer off, only the offline queue is consumed). One without the other is a
 * configuration error. `PUSH_GATEWAY_SECRET` is required only with a gateway URL.
 */
import { Env, parseDbConfig, type DbConfig } from "@chat/shared/src/config";

export interface WorkersConfig {
  project: string;
  env: string;
  serviceName: string;
  port: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  db: DbConfig;
  awsRegion: string;
  sqsEndpoint?: string;
  offlineQueueUrl: string;
  /** Push delivery; undefined when PUSH_QUEUE_URL and PUSH_GATEWAY_URL are both unset (push disabled). */
  push?: PushConfig;
  /**
   * Jobs running at once, per queue. Default 20: two full receive batches of 10, so the next batch is received
   * while the last one runs (bench/results/workers.md: at 10 a consumer receives batches of 5 and waits on them).
   */
  concurrency: number;
  /** Longest time one job may run; the queues' visibility timeout is sized from it. */
  jobTimeoutMs: number;
  visibilityTimeoutS: number;
  /** Long-poll wait (SQS maximum 20). */
  waitTimeS: number;
  pushAttemptTimeoutMs: number;
  pushMaxAttempts: number;
  /** How long SIGTERM waits for running jobs before releasing them. */
  shutdownGraceMs: number;
}

export interface PushConfig {
  queueUrl: string;
  gatewayUrl: string;
  /** HMAC key shared with the gateway (at least 32 characters). */
  gatewaySecret: string;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export function loadWorkersConfig(source: Record<string, string | undefined> = process.env): WorkersConfig {
  const env = new Env(source);
  const project = env.str("PROJECT", { default: "chat" });
  const envName = env.str("ENV", { default: "local" });
  const queueHint = "the SQS queue URL (stack outputs pushQueueUrl / offlineQueueUrl)";
  const jobTimeoutMs = env.int("JOB_TIMEOUT_MS", { default: 30_000, min: 100, max: 900_000 });
  const waitTimeS = env.int("SQS_WAIT_TIME_S", { default: 20, min: 0, max: 20 });
  const visibilityTimeoutS = env.int("VISIBILITY_TIMEOUT_S", {
    default: Math.max(waitTimeS + 1, Math.ceil(jobTimeoutMs / 1000) + 30),
    min: 1,
    max: 43_200,
  });
  if (visibilityTimeoutS <= waitTimeS) {
    env.problem(
      `VISIBILITY_TIMEOUT_S=${visibilityTimeoutS} must be above SQS_WAIT_TIME_S=${waitTimeS}: raise the visibility timeout or shorten the wait`,
    );
  }
  const config: WorkersConfig = {
    project,
    env: envName,
    serviceName: env.str("SERVICE_NAME", { default: `${project}-${envName}-workers` }),
    port: env.int("PORT", { default: 3002, min: 0, max: 65535 }),
    logLevel: env.enum("LOG_LEVEL", LOG_LEVELS, { default: "info" }),
    db: parseDbConfig(env),
    awsRegion: env.str("AWS_REGION", { default: "us-east-1" }),
    sqsEndpoint: env.has("SQS_ENDPOINT") ? env.url("SQS_ENDPOINT", { protocols: ["http", "https"] }) : undefined,
    offlineQueueUrl: env.url("OFFLINE_QUEUE_URL", { protocols: ["http", "https"], hint: queueHint }),
    push: readPush(env, queueHint),
    concurrency: env.int("WORKER_CONCURRENCY", { default: 20, min: 1, max: 200 }),
    jobTimeoutMs,
    visibilityTimeoutS,
    waitTimeS,
    pushAttemptTimeoutMs: env.int("PUSH_ATTEMPT_TIMEOUT_MS", {
      default: Math.max(50, Math.min(5000, Math.floor(jobTimeoutMs / 4))),
      min: 50,
      max: jobTimeoutMs,
    }),
    pushMaxAttempts: env.int("PUSH_MAX_ATTEMPTS", { default: 3, min: 1, max: 10 }),
    shutdownGraceMs: env.int("SHUTDOWN_GRACE_MS", { default: 20_000, min: 0, max: 120_000 }),
  };
  env.done();
  return config;
}

/**
 * PUSH_QUEUE_URL and PUSH_GATEWAY_URL: both set -> push delivery on; both unset -> off; one alone -> a problem
 * naming both. The gateway secret is read (and required) only when the gateway URL is set.
 */
function readPush(env: Env, queueHint: string): PushConfig | undefined {
  const hasQueue = env.has("PUSH_QUEUE_URL");
  const hasGateway = env.has("PUSH_GATEWAY_URL");
  if (hasQueue !== hasGateway) {
    const [set, unset] = hasQueue ? ["PUSH_QUEUE_URL", "PUSH_GATEWAY_URL"] : ["PUSH_GATEWAY_URL", "PUSH_QUEUE_URL"];
    env.problem(
      `PUSH_QUEUE_URL and PUSH_GATEWAY_URL go together: ${set} is set but ${unset} is not; ` +
        "set both to deliver push notifications, or unset both to run without push (offline digests only)",
    );
  }
  const queueUrl = hasQueue ? env.url("PUSH_QUEUE_URL", { protocols: ["http", "https"], hint: queueHint }) : undefined;
  const gatewayUrl = hasGateway
    ? env.url("PUSH_GATEWAY_URL", { protocols: ["http", "https"], hint: "the HTTP endpoint that accepts signed push notifications" })
    : undefined;
  const gatewaySecret = hasGateway
    ? env.str("PUSH_GATEWAY_SECRET", {
        minLength: 32,
        hint: "the HMAC key shared with the push gateway (at least 32 characters, from Secrets Manager)",
      })
    : "";
  return queueUrl && gatewayUrl ? { queueUrl, gatewayUrl, gatewaySecret } : undefined;
}
