/**
 * Builds a running realtime service from the environment: the common service config (docs/CONTRACTS.md) and
 * the realtime limits (settings.ts), the Postgres pool, the Redis clients (publisher, adapter subscriber),
 * the Socket.IO emitter, token verification, presence, the optional SQS producer, EMF metrics and the
 * server itself. `main.ts` adds the signal handling; tests start it in-process with their own environment.
 */
import {
  closeRedis, createEmitter, createLogger, createPool, createRedis, createSqsClient, JobProducer, loadServiceConfig,
  Metrics, metricsNamespace, Presence, TokenService, type Logger, type ServiceConfig,
} from "@chat/shared";
import type { Pool } from "pg";
import type { Redis } from "ioredis";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DestinationStream } from "pino";
import { sharedDeps } from "./deps";
import type { RealtimeDeps } from "./ports";
import { RealtimeServer } from "./server";
import { loadRealtimeSettings, type RealtimeSettings } from "./settings";

export interface RealtimeConfig {
  service: ServiceConfig;
  settings: RealtimeSettings;
}

/**
 * Reads and validates every variable. Throws `ConfigError` (common variables, all problems at once) or
 * `SettingsError` (realtime limits); both messages name the variable and the fix.
 */
export function loadRealtimeConfig(env: NodeJS.ProcessEnv = process.env): RealtimeConfig {
  const service = loadServiceConfig("realtime", env, 3001);
  const settings = loadRealtimeSettings(env);
  return { service, settings };
}

export interface RunningRealtime {
  server: RealtimeServer;
  port: number;
  log: Logger;
  config: RealtimeConfig;
  /** Drains (clients told to reconnect elsewhere) within `graceMs`, then closes pools and clients. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Log destination (tests); stdout by default. */
  logDestination?: DestinationStream;
  /** EMF line writer (tests); stdout by default. */
  writeMetric?: (line: string) => void;
  host?: string;
  /** Wraps the dependencies the server gets (tests stand in for a misbehaving store this way). */
  wrapDeps?: (deps: RealtimeDeps) => RealtimeDeps;
}

export async function startRealtime(opts: StartOptions = {}): Promise<RunningRealtime> {
  const config = loadRealtimeConfig(opts.env ?? process.env);
  const { service, settings } = config;
  const log = createLogger({ service: service.serviceName, level: service.logLevel, destination: opts.logDestination });
  const pool: Pool = createPool(service.db, service.serviceName);
  pool.on("error", (err) => log.warn({ error: err.message }, "idle postgres connection failed"));
  const pubClient: Redis = createRedis(service.redis);
  // The adapter's subscriber: a second connection with the same options. ioredis re-subscribes after a
  // reconnect (autoResubscribe), which is how cross-task delivery resumes after a Redis restart or failover.
  const subClient: Redis = pubClient.duplicate();
  subClient.on("error", () => undefined);
  const emitter = createEmitter(pubClient, (err) => log.warn({ error: err.message }, "redis publish failed"));
  const tokens = new TokenService({ keys: service.jwtKeys, redis: pubClient, pool, emitter });
  const presence = new Presence(pubClient, Math.max(30, Math.ceil((settings.presenceRefreshMs * 3) / 1000)));
  let sqs: SQSClient | undefined;
  if (service.pushQueueUrl || service.offlineQueueUrl) {
    sqs = createSqsClient({ region: service.awsRegion, endpoint: service.sqsEndpoint });
    if (!service.pushQueueUrl) log.info({}, "PUSH_QUEUE_URL is unset: push notifications are off; offline members still get offline digests");
  } else {
    log.warn({}, "PUSH_QUEUE_URL and OFFLINE_QUEUE_URL are unset: offline members get no push notifications");
  }
  const emf = new Metrics({
    namespace: metricsNamespace(service.project, service.env),
    serviceName: service.serviceName,
    intervalMs: 0,
    write: opts.writeMetric,
  });
  const shared = sharedDeps({
    pool,
    redis: pubClient,
    subClient,
    tokens,
    presence,
    emitter,
    producer: sqs ? new JobProducer(sqs) : undefined,
    pushQueueUrl: service.pushQueueUrl,
    offlineQueueUrl: service.offlineQueueUrl,
    sendLimit: settings.sendLimit,
  });
  const deps = opts.wrapDeps ? opts.wrapDeps(shared) : shared;
  const server = new RealtimeServer({ settings, deps, pubClient, subClient, log, emf });
  const closeClients = async () => {
    await Promise.allSettled([pool.end(), closeRedis(subClient), closeRedis(pubClient)]);
    sqs?.destroy();
  };
  // Start with Redis connected when it is reachable (readiness would fail until then); a Redis that stays
  // away does not block the start: /ready reports it and the clients keep retrying.
  await Promise.all([readyWithin(pubClient, 5000), readyWithin(subClient, 5000)]);
  let port: number;
  try {
    port = await server.listen(settings.port, opts.host ?? "0.0.0.0");
  } catch (err) {
    await server.close().catch(() => undefined);
    await closeClients();
    throw err;
  }
  log.info({ port, serviceName: service.serviceName, maxConnectionsPerTask: settings.maxConnectionsPerTask }, "realtime listening");
  let stopping: Promise<void> | undefined;
  return {
    server,
    port,
    log,
    config,
    stop(graceMs = settings.shutdownGraceMs) {
      stopping ??= (async () => {
        // Leave time for the pools to close inside the grace period.
        await server.drain(Math.max(100, graceMs - 1000));
        log.info({ rejections: server.metrics.rejectionTotals() }, "realtime drained");
        await closeClients();
      })();
      return stopping;
    },
  };
}

function readyWithin(client: Redis, ms: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off("ready", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    client.once("ready", done);
  });
}
