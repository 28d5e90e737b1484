/**
 * The workers service: one SQS consumer per queue (push, offline), a Postgres pool for idempotency records and
 * digests, EMF metrics, and a tiny HTTP server for `GET /health` (liveness) and `GET /ready` (Postgres answers,
 * every running consumer is polling, not shutting down). Without push configuration (`config.push` unset) only
 * the offline consumer runs, and the start-up log says so once.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Pool } from "pg";
import { createPool } from "@chat/shared/src/db";
import { createSqsClient } from "@chat/shared/src/jobs";
import { createLogger, type Logger } from "@chat/shared/src/log";
import { Metrics, metricsNamespace } from "@chat/shared/src/metrics";
import type { WorkersConfig } from "./config";
import { SqsConsumer, type JobResult } from "./consumer";
import { offlineHandler, pushHandler } from "./handlers";
import { PushGatewayClient } from "./push-gateway";

export interface WorkersOptions {
  config: WorkersConfig;
  logger?: Logger;
  metrics?: Metrics;
  /** Overrides for tests (e.g. a short heartbeat). */
  heartbeatIntervalMs?: number;
}

export interface Workers {
  /** Port the health server listens on (useful with PORT=0). */
  port: number;
  /** Undefined when push delivery is disabled (no PUSH_QUEUE_URL / PUSH_GATEWAY_URL). */
  push: SqsConsumer | undefined;
  offline: SqsConsumer;
  pool: Pool;
  stop(): Promise<void>;
}

export async function startWorkers(opts: WorkersOptions): Promise<Workers> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger({ service: "workers", level: config.logLevel });
  const metrics =
    opts.metrics ?? new Metrics({ namespace: metricsNamespace(config.project, config.env), serviceName: config.serviceName });
  // Each running job holds one connection for its transaction: size the pool for the consumers that run
  // (push only when a gateway is configured), plus two. infra/config/capacity.ts counts both consumers.
  const consumers = config.push ? 2 : 1;
  const pool = createPool({ ...config.db, poolMax: Math.max(config.db.poolMax, config.concurrency * consumers + 2) }, config.serviceName);
  const sqs = createSqsClient({ region: config.awsRegion, endpoint: config.sqsEndpoint });
  const gateway = config.push
    ? new PushGatewayClient({
        url: config.push.gatewayUrl,
        secret: config.push.gatewaySecret,
        attemptTimeoutMs: config.pushAttemptTimeoutMs,
        maxAttempts: config.pushMaxAttempts,
      })
    : undefined;

  const onResult = (r: JobResult) => {
    if (r.outcome === "processed") metrics.count("JobsProcessed");
    else metrics.count("JobsFailed");
    metrics.observe("JobDurationMs", r.durationMs);
  };
  const common = {
    client: sqs,
    concurrency: config.concurrency,
    waitTimeSeconds: config.waitTimeS,
    visibilityTimeoutSeconds: config.visibilityTimeoutS,
    jobTimeoutMs: config.jobTimeoutMs,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    logger,
    onResult,
  };
  // The job timeout ends a hung job (its client destroyed, its backend terminated); the database's own
  // lock/statement timeouts at twice that are a backstop only.
  const handlerDeps = { pool, lockTimeoutMs: config.jobTimeoutMs * 2, logger };
  const push =
    config.push && gateway
      ? new SqsConsumer({
          ...common,
          name: "push",
          queueUrl: config.push.queueUrl,
          handler: pushHandler({ ...handlerDeps, gateway, onRejected: () => metrics.count("PushRejected") }),
        })
      : undefined;
  const offline = new SqsConsumer({
    ...common,
    name: "offline",
    queueUrl: config.offlineQueueUrl,
    handler: offlineHandler(handlerDeps),
  });

  let stopping = false;
  const server = createHealthServer(async () => {
    if (stopping) return { ok: false, detail: "shutting down" };
    const stalled = [push, offline].filter((c): c is SqsConsumer => c !== undefined && c.stalled);
    if (stalled.length > 0) {
      return {
        ok: false,
        detail: `no job finished for longer than JOB_TIMEOUT_MS (${config.jobTimeoutMs} ms) with jobs in flight on the ${stalled.map((c) => c.name).join(" and ")} queue`,
      };
    }
    if ((push && !push.healthy) || !offline.healthy) return { ok: false, detail: "queue polling is failing" };
    try {
      await pool.query("SELECT 1");
    } catch {
      return { ok: false, detail: "database unreachable" };
    }
    return { ok: true, detail: "ready" };
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, "0.0.0.0", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (!push) {
    logger.warn(
      { offlineQueue: config.offlineQueueUrl },
      "push delivery disabled: PUSH_QUEUE_URL and PUSH_GATEWAY_URL are unset; only the offline queue is consumed",
    );
  }
  push?.start();
  offline.start();
  logger.info(
    { port, pushQueue: config.push?.queueUrl ?? null, offlineQueue: config.offlineQueueUrl, concurrency: config.concurrency },
    "workers started",
  );

  let stopped: Promise<void> | undefined;
  return {
    port,
    push,
    offline,
    pool,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        logger.info({ running: (push?.active ?? 0) + offline.active }, "stopping: finishing or releasing running jobs");
        await Promise.all([push?.stop(config.shutdownGraceMs), offline.stop(config.shutdownGraceMs)]);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        sqs.destroy();
        gateway?.close();
        await pool.end();
        // The last interval's counts must not be lost: flush what is pending (and stop the timer if ours).
        if (opts.metrics) opts.metrics.flush();
        else metrics.close();
        logger.info({}, "workers stopped");
      })();
      return stopped;
    },
  };
}

function createHealthServer(ready: () => Promise<{ ok: boolean; detail: string }>): Server {
  return createServer((req, res) => {
    const send = (status: number, body: object) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, { error: "method not allowed: use GET" });
    if (path === "/health") return send(200, { status: "ok" });
    if (path === "/ready") {
      ready().then(
        (r) => send(r.ok ? 200 : 503, { status: r.ok ? "ready" : "not ready", detail: r.detail }),
        () => send(503, { status: "not ready", detail: "readiness check failed" }),
      );
      return;
    }
    send(404, { error: `no route ${path}: use GET /health or GET /ready` });
  });
}
