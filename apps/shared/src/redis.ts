/**
 * ioredis clients from the service config: REDIS_URL locally; in AWS host/port with TLS and the AUTH token
 * (ElastiCache in-transit encryption + AUTH).
 *
 * Failover: ioredis reconnects with the retry strategy below (quick first, capped at 2 s, forever), and
 * `reconnectOnError` reconnects when a command hits a replica that was just demoted (READONLY), which is how
 * an ElastiCache primary failover looks to a client holding the old connection. Offline commands queue
 * until the connection returns. `client.duplicate()` gives a second connection with the same options, which
 * is what a pub/sub subscriber or the Socket.IO adapter's subscriber needs.
 */
import Redis, { type RedisOptions } from "ioredis";
import type { RedisConfig } from "./config";

export type { Redis };

export function retryDelay(times: number): number {
  return Math.min(2000, 50 * 2 ** Math.min(times, 6));
}

export function redisOptions(cfg: RedisConfig, overrides: RedisOptions = {}): RedisOptions {
  const common: RedisOptions = {
    retryStrategy: retryDelay,
    reconnectOnError: (err) => (/READONLY|LOADING/.test(err.message) ? 2 : false),
    maxRetriesPerRequest: 3,
    connectTimeout: 5000,
    enableAutoPipelining: true,
  };
  if (cfg.kind === "url") {
    const u = new URL(cfg.url);
    return {
      ...common,
      host: u.hostname,
      port: Number(u.port || 6379),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
      ...(u.protocol === "rediss:" ? { tls: {} } : {}),
      ...overrides,
    };
  }
  return {
    ...common,
    host: cfg.host,
    port: cfg.port,
    ...(cfg.authToken ? { password: cfg.authToken } : {}),
    ...(cfg.tls ? { tls: { servername: cfg.host } } : {}),
    ...overrides,
  };
}

export function createRedis(cfg: RedisConfig, overrides: RedisOptions = {}): Redis {
  const client = new Redis(redisOptions(cfg, overrides));
  // Connection errors are retried by ioredis; without a listener they would be thrown as unhandled events.
  client.on("error", () => undefined);
  return client;
}

/** Closes a client without waiting on a dead connection forever. */
export async function closeRedis(client: Redis, timeoutMs = 2000): Promise<void> {
  if (client.status === "end") return;
  await Promise.race([
    client.quit().catch(() => undefined),
    new Promise((r) => setTimeout(r, timeoutMs).unref()),
  ]);
  client.disconnect();
}
