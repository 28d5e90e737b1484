/** Starts the api on real Postgres + Redis (+ local SQS when asked) for one test file. */
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { createPool, createRedis, closeRedis, createLogger, JobProducer, Metrics, type Pool, type Redis, type JwtKeys } from "@chat/shared";
import { createMigratedTestDatabase, createTestDatabase } from "../../../test/support/postgres";
import { startRedis, type TestRedis } from "../../../test/support/redis";
import { startSqs, type TestSqs } from "../../../test/support/sqs";
import { apiRedisOptions, buildServices, type Services } from "../src/services";
import { buildApp } from "../src/app";
import { DEFAULT_SETTINGS, type ApiSettings } from "../src/config";

export const K1 = { kid: "k1", secret: "1".repeat(32) };
export const K2 = { kid: "k2", secret: "2".repeat(32) };

export interface TestApi {
  app: FastifyInstance;
  s: Services;
  /** The test database (for a second service on the same data). */
  dbUrl: string;
  pool: Pool;
  redis: Redis;
  redisServer: TestRedis;
  sqs?: TestSqs;
  pushQueueUrl?: string;
  offlineQueueUrl?: string;
  metricLines: string[];
  logLines: string[];
  close(): Promise<void>;
}

export interface StartOptions {
  settings?: Partial<ApiSettings>;
  keys?: JwtKeys;
  sqs?: boolean;
  migrate?: boolean;
  now?: () => number;
}

export async function startApi(name: string, o: StartOptions = {}): Promise<TestApi> {
  // Migrated unless asked otherwise: a copy of the migrated template (test/support/postgres.ts).
  const dbUrl = o.migrate === false ? await createTestDatabase(name) : await createMigratedTestDatabase(name);
  const pool = createPool({ kind: "url", url: dbUrl, poolMax: 5 });
  const redisServer = await startRedis();
  const settings: ApiSettings = { ...DEFAULT_SETTINGS, trustProxyHops: 0, ...o.settings };
  // The api's own Redis options (command timeout, no offline queue), so tests see what production does.
  const redis = createRedis({ kind: "url", url: redisServer.url }, apiRedisOptions(settings));
  // Connected before the first request, as after a real start-up.
  if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
  let sqs: TestSqs | undefined;
  let pushQueueUrl: string | undefined;
  let offlineQueueUrl: string | undefined;
  if (o.sqs) {
    sqs = await startSqs();
    pushQueueUrl = (await sqs.client.send(new CreateQueueCommand({ QueueName: "chat-test-push" }))).QueueUrl;
    offlineQueueUrl = (await sqs.client.send(new CreateQueueCommand({ QueueName: "chat-test-offline" }))).QueueUrl;
  }
  const metricLines: string[] = [];
  const logLines: string[] = [];
  const logger = createLogger({
    service: "chat-test-api",
    level: "info",
    destination: new Writable({ write(chunk, _e, cb) { logLines.push(String(chunk)); cb(); } }) as never,
  });
  const metrics = new Metrics({ namespace: "chat-test", serviceName: "chat-test-api", intervalMs: 0, write: (l) => metricLines.push(l) });
  const s = buildServices({
    pool, redis, logger, metrics,
    keys: o.keys ?? { current: K1 },
    settings,
    producer: sqs ? new JobProducer(sqs.client) : undefined,
    pushQueueUrl, offlineQueueUrl, now: o.now,
  });
  const app = await buildApp(s);
  await app.ready();
  return {
    app, s, dbUrl, pool, redis, redisServer, sqs, pushQueueUrl, offlineQueueUrl, metricLines, logLines,
    async close() {
      await app.close();
      metrics.close();
      await pool.end();
      await closeRedis(redis);
      await redisServer.stop();
      await sqs?.stop();
    },
  };
}

/** A second app on the same database and Redis (another task, e.g. with rotated keys). */
export async function sibling(t: TestApi, keys: JwtKeys, settings: Partial<ApiSettings> = {}): Promise<FastifyInstance> {
  const s = buildServices({ ...t.s, keys, settings: { ...t.s.settings, ...settings } });
  const app = await buildApp(s);
  await app.ready();
  return app;
}

export interface Session {
  userId: string;
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
}

export async function register(app: FastifyInstance, username: string, password = "correct horse battery"): Promise<Session> {
  const res = await app.inject({ method: "POST", url: "/api/auth/register", payload: { username, password } });
  if (res.statusCode !== 201) throw new Error(`register ${username}: ${res.statusCode} ${res.body}`);
  const b = res.json();
  return { userId: b.user.id, accessToken: b.accessToken, refreshToken: b.refreshToken, auth: { authorization: `Bearer ${b.accessToken}` } };
}
