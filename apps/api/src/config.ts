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
  /** Failed logins for one username within LOGIN_FAILURE_WINDOW_S that lock it (LOGIN_MAX_FAILURES). */
  loginMaxFailures: number;
  loginFailureWindowSeconds: number;
  /** How long a locked username refuses logins (LOGIN_LOCKOUT_S). */
  loginLockoutSeconds: number;
  /** Largest accepted request body (BODY_LIMIT_BYTES). */
  bodyLimitBytes: number;
  /** Proxies in front of the api whose X-Forwarded-For entries are trusted (TRUST_PROXY_HOPS; the ALB is 1). */
  trustProxyHops: number;
  /** Seconds a shutdown may take before the process exits anyway (SHUTDOWN_GRACE_MS). */
  shutdownGraceMs: number;
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
  bodyLimitBytes: 64 * 1024,
  trustProxyHops: 1,
  shutdownGraceMs: 25_000,
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
    bodyLimitBytes: env.int("BODY_LIMIT_BYTES", { default: d.bodyLimitBytes, min: 1024, max: 10 * 1024 * 1024 }),
    trustProxyHops: env.int("TRUST_PROXY_HOPS", { default: d.trustProxyHops, min: 0, max: 5 }),
    shutdownGraceMs: env.int("SHUTDOWN_GRACE_MS", { default: d.shutdownGraceMs, min: 1000, max: 120_000 }),
    sendLimit: readSendLimit(env),
  };
}

export function loadApiConfig(source: Record<string, string | undefined> = process.env): ApiConfig {
  return loadServiceConfig("api", source, 3000, readApiSettings);
}
