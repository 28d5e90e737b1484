/**
 * The api's configuration: the common service variables (docs/CONTRACTS.md) plus the api's own limits.
 * Every problem is reported at start-up in one error naming the variable and the fix.
 */
import { loadServiceConfig, readSendLimit, DEFAULT_SEND_LIMIT, type Env, type SendLimit, type ServiceConfig } from "@chat/shared";

export interface ApiSettings {
  /** Access-token lifetime (ACCESS_TOKEN_TTL_S). Also the TTL of session revocation keys. */
  accessTtlSeconds: number;
  /** Refresh-token and session lifetime (REFRESH_TOKEN_TTL_S). */
  refreshTtlSeconds: number;
  /** Requests allowed per client IP per window, every route but health (RATE_LIMIT_IP_MAX). */
  rateLimitIpMax: number;
  /** Requests allowed per signed-in user per window (RATE_LIMIT_USER_MAX). */
  rateLimitUserMax: number;
  /** Register/login/refresh attempts allowed per client IP per window (RATE_LIMIT_AUTH_MAX). */
  rateLimitAuthMax: number;
  /** Window length of the three limits above (RATE_LIMIT_WINDOW_S). */
  rateLimitWindowSeconds: number;
  /** Failed logins for one username from one client address within LOGIN_FAILURE_WINDOW_S that lock it there (LOGIN_MAX_FAILURES). */
  loginMaxFailures: number;
  loginFailureWindowSeconds: number;
  /** How long a username locked for one client address refuses logins from it (LOGIN_LOCKOUT_S). */
  loginLockoutSeconds: number;
  /** Failed logins of one username from all addresses within the window that start the slowdown (LOGIN_SLOW_AFTER_FAILURES). */
  loginSlowAfterFailures: number;
  /** During the slowdown, one attempt per this many seconds for the username (LOGIN_SLOW_INTERVAL_S). */
  loginSlowIntervalSeconds: number;
  /** Largest accepted request body (BODY_LIMIT_BYTES). */
  bodyLimitBytes: number;
  /**
   * Proxies in front of the api whose X-Forwarded-For entries are trusted (TRUST_PROXY_HOPS). 0 by default, so
   * a client cannot choose its own address for the per-IP limits; the stacks set 1 (the ALB).
   */
  trustProxyHops: number;
  /** Interface the HTTP server binds (LISTEN_HOST); `npm run dev` sets 127.0.0.1. */
  listenHost: string;
  /** Seconds a shutdown may take before the process exits anyway (SHUTDOWN_GRACE_MS). */
  shutdownGraceMs: number;
  /** Largest GraphQL operation cost (fields x list limits, see graphql-cost.ts) run (GRAPHQL_MAX_COST). */
  graphqlMaxCost: number;
  /** Most root fields (aliases count) in one GraphQL operation (GRAPHQL_MAX_ROOT_FIELDS). */
  graphqlMaxRootFields: number;
  /** Largest GraphQL response sent; larger answers are replaced by a 400 (GRAPHQL_MAX_RESPONSE_BYTES). */
  graphqlMaxResponseBytes: number;
  /** A Redis command on a request path fails (503) after this long, e.g. when Redis is frozen (REDIS_COMMAND_TIMEOUT_MS). */
  redisCommandTimeoutMs: number;
  /** Messages per user per window over REST, GraphQL and every socket (SEND_LIMIT_MAX, SEND_LIMIT_WINDOW_S). */
  sendLimit: SendLimit;
}

export type ApiConfig = ServiceConfig & ApiSettings;

export const DEFAULT_SETTINGS: ApiSettings = {
  accessTtlSeconds: 900,
  refreshTtlSeconds: 30 * 24 * 3600,
  rateLimitIpMax: 600,
  rateLimitUserMax: 300,
  rateLimitAuthMax: 30,
  rateLimitWindowSeconds: 60,
  loginMaxFailures: 5,
  loginFailureWindowSeconds: 900,
  loginLockoutSeconds: 900,
  loginSlowAfterFailures: 50,
  loginSlowIntervalSeconds: 2,
  bodyLimitBytes: 64 * 1024,
  trustProxyHops: 0,
  listenHost: "0.0.0.0",
  shutdownGraceMs: 25_000,
  graphqlMaxCost: 5_000,
  graphqlMaxRootFields: 20,
  graphqlMaxResponseBytes: 4 * 1024 * 1024,
  redisCommandTimeoutMs: 1_000,
  sendLimit: DEFAULT_SEND_LIMIT,
};

export function readApiSettings(env: Env): ApiSettings {
  const d = DEFAULT_SETTINGS;
  return {
    accessTtlSeconds: env.int("ACCESS_TOKEN_TTL_S", { default: d.accessTtlSeconds, min: 60, max: 3600 }),
    refreshTtlSeconds: env.int("REFRESH_TOKEN_TTL_S", { default: d.refreshTtlSeconds, min: 3600, max: 90 * 24 * 3600 }),
    rateLimitIpMax: env.int("RATE_LIMIT_IP_MAX", { default: d.rateLimitIpMax, min: 1 }),
    rateLimitUserMax: env.int("RATE_LIMIT_USER_MAX", { default: d.rateLimitUserMax, min: 1 }),
    rateLimitAuthMax: env.int("RATE_LIMIT_AUTH_MAX", { default: d.rateLimitAuthMax, min: 1 }),
    rateLimitWindowSeconds: env.int("RATE_LIMIT_WINDOW_S", { default: d.rateLimitWindowSeconds, min: 1, max: 3600 }),
    loginMaxFailures: env.int("LOGIN_MAX_FAILURES", { default: d.loginMaxFailures, min: 1, max: 100 }),
    loginFailureWindowSeconds: env.int("LOGIN_FAILURE_WINDOW_S", { default: d.loginFailureWindowSeconds, min: 10 }),
    loginLockoutSeconds: env.int("LOGIN_LOCKOUT_S", { default: d.loginLockoutSeconds, min: 1 }),
    loginSlowAfterFailures: env.int("LOGIN_SLOW_AFTER_FAILURES", { default: d.loginSlowAfterFailures, min: 1 }),
    loginSlowIntervalSeconds: env.int("LOGIN_SLOW_INTERVAL_S", { default: d.loginSlowIntervalSeconds, min: 1, max: 60 }),
    bodyLimitBytes: env.int("BODY_LIMIT_BYTES", { default: d.bodyLimitBytes, min: 1024, max: 10 * 1024 * 1024 }),
    trustProxyHops: env.int("TRUST_PROXY_HOPS", { default: d.trustProxyHops, min: 0, max: 5 }),
    listenHost: env.str("LISTEN_HOST", { default: d.listenHost }),
    shutdownGraceMs: env.int("SHUTDOWN_GRACE_MS", { default: d.shutdownGraceMs, min: 1000, max: 120_000 }),
    graphqlMaxCost: env.int("GRAPHQL_MAX_COST", { default: d.graphqlMaxCost, min: 10, max: 1_000_000 }),
    graphqlMaxRootFields: env.int("GRAPHQL_MAX_ROOT_FIELDS", { default: d.graphqlMaxRootFields, min: 1, max: 1000 }),
    graphqlMaxResponseBytes: env.int("GRAPHQL_MAX_RESPONSE_BYTES", { default: d.graphqlMaxResponseBytes, min: 1024, max: 256 * 1024 * 1024 }),
    redisCommandTimeoutMs: env.int("REDIS_COMMAND_TIMEOUT_MS", { default: d.redisCommandTimeoutMs, min: 50, max: 60_000 }),
    sendLimit: readSendLimit(env),
  };
}

export function loadApiConfig(source: Record<string, string | undefined> = process.env): ApiConfig {
  return loadServiceConfig("api", source, 3000, readApiSettings);
}
