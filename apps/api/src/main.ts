/**
 * Starts the api: config (all problems reported at once), connections, HTTP server on PORT, EMF metrics,
 * graceful shutdown on SIGTERM/SIGINT (stop accepting and drain in-flight requests, then close the pools).
 */
import {
  ConfigError, createLogger, createPool, createRedis, closeRedis, createSqsClient, JobProducer, Metrics,
  metricsNamespace, gracefulShutdown,
} from "@chat/shared";
import { loadApiConfig } from "./config";
import { apiRedisOptions, buildServices } from "./services";
import { buildApp } from "./app";

async function main(): Promise<void> {
  let config;
  try {
    config = loadApiConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`api: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ service: config.serviceName, level: config.logLevel });
  const pool = createPool(config.db, config.serviceName);
  const redis = createRedis(config.redis, apiRedisOptions(config));
  const metrics = new Metrics({ namespace: metricsNamespace(config.project, config.env), serviceName: config.serviceName });
  metrics.trackEventLoopLag();
  const sqs = config.pushQueueUrl || config.offlineQueueUrl ? createSqsClient({ region: config.awsRegion, endpoint: config.sqsEndpoint }) : undefined;
  if (!sqs) logger.warn("PUSH_QUEUE_URL and OFFLINE_QUEUE_URL are unset: offline members get no push notifications");
  else if (!config.pushQueueUrl) logger.info("PUSH_QUEUE_URL is unset: push notifications are off; offline members still get offline digests");
  const services = buildServices({
    pool, redis, keys: config.jwtKeys, settings: config, logger, metrics,
    producer: sqs ? new JobProducer(sqs) : undefined,
    pushQueueUrl: config.pushQueueUrl,
    offlineQueueUrl: config.offlineQueueUrl,
  });
  const app = await buildApp(services);
  gracefulShutdown({
    timeoutMs: config.shutdownGraceMs,
    log: logger,
    steps: [
      { name: "http", run: () => app.close() },
      { name: "metrics", run: () => metrics.close() },
      { name: "postgres", run: () => pool.end() },
      { name: "redis", run: () => closeRedis(redis) },
      { name: "sqs", run: () => sqs?.destroy() },
    ],
  });
  const address = await app.listen({ host: config.listenHost, port: config.port });
  logger.info({ address, serviceName: config.serviceName }, "api listening");
}

main().catch((err: Error) => {
  process.stderr.write(`api: failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
