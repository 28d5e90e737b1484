/**
 * What the routes need, built from live connections. Tests build it against real servers; main.ts from the
 * service config.
 */
import type { Pool } from "pg";
import type { Redis, RedisOptions } from "ioredis";
import {
  ChatStore, Delivery, Presence, SendBudget, TokenService, createEmitter, type Emitter, type JobProducer, type JwtKeys,
  type Logger, type Metrics, type Migration,
} from "@chat/shared";
import { Accounts } from "./accounts";
import { Limiter, Lockout } from "./limits";
import type { ApiSettings } from "./config";

export interface ServiceParts {
  pool: Pool;
  redis: Redis;
  keys: JwtKeys;
  settings: ApiSettings;
  producer?: JobProducer;
  pushQueueUrl?: string;
  offlineQueueUrl?: string;
  metrics?: Metrics;
  logger: Logger;
  /** Migrations this build ships (readiness compares the database with them). */
  migrations?: Migration[];
  /** Clock for tokens (tests). */
  now?: () => number;
}

export interface Services extends ServiceParts {
  emitter: Emitter;
  tokens: TokenService;
  store: ChatStore;
  delivery: Delivery;
  accounts: Accounts;
  limiter: Limiter;
  /** Messages per user, shared with the realtime service. */
  sendBudget: SendBudget;
}

/**
 * The api's Redis client options: a frozen Redis (connected, not answering) fails a command after
 * REDIS_COMMAND_TIMEOUT_MS, and while disconnected commands fail at once instead of queueing, so requests
 * answer 503 quickly rather than hang.
 */
export function apiRedisOptions(settings: Pick<ApiSettings, "redisCommandTimeoutMs">): RedisOptions {
  return { commandTimeout: settings.redisCommandTimeoutMs, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
}

export function buildServices(p: ServiceParts): Services {
  const emitter = createEmitter(p.redis, (err) => p.logger.error({ err: err.message }, "broadcast to realtime failed"));
  const tokens = new TokenService({ keys: p.keys, redis: p.redis, pool: p.pool, emitter, accessTtlSeconds: p.settings.accessTtlSeconds, now: p.now });
  const store = new ChatStore(p.pool);
  const presence = new Presence(p.redis);
  const delivery = new Delivery({ store, emitter, presence, producer: p.producer, pushQueueUrl: p.pushQueueUrl, offlineQueueUrl: p.offlineQueueUrl });
  const limiter = new Limiter(p.redis);
  const lockout = new Lockout(p.redis, limiter, p.pool, {
    maxFailures: p.settings.loginMaxFailures,
    failureWindowSeconds: p.settings.loginFailureWindowSeconds,
    lockoutSeconds: p.settings.loginLockoutSeconds,
    slowAfterFailures: p.settings.loginSlowAfterFailures,
    slowIntervalSeconds: p.settings.loginSlowIntervalSeconds,
  });
  const accounts = new Accounts({ pool: p.pool, tokens, lockout, refreshTtlSeconds: p.settings.refreshTtlSeconds });
  const sendBudget = new SendBudget(p.redis, p.settings.sendLimit);
  return { ...p, emitter, tokens, store, delivery, accounts, limiter, sendBudget };
}
