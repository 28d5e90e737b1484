/**
 * Fixed-window counters in Redis (`INCR` + expiry in one script), shared by every api and realtime task, and
 * the per-user message budget both services draw from: `ratelimit:send:<userId>` counts the messages a user
 * posts over REST, GraphQL and `message:send` on any socket, so opening more sockets or switching transport
 * buys no extra sends.
 */
import type { Redis } from "ioredis";
import type { Env } from "./config";

const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

export interface Hit {
  count: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** Counts one event against `key` in a window of `windowSeconds`. */
export async function windowHit(redis: Redis, key: string, windowSeconds: number): Promise<Hit> {
  const [count, resetMs] = (await redis.eval(HIT, 1, key, String(windowSeconds * 1000))) as [number, number];
  return { count, resetMs };
}

export interface SendLimit {
  /** Messages one user may post per window, over every transport and task (SEND_LIMIT_MAX). */
  max: number;
  /** Window length in seconds (SEND_LIMIT_WINDOW_S). */
  windowSeconds: number;
}

export const DEFAULT_SEND_LIMIT: SendLimit = { max: 120, windowSeconds: 60 };

/** Reads SEND_LIMIT_MAX and SEND_LIMIT_WINDOW_S (the api and realtime must be given the same values). */
export function readSendLimit(env: Env): SendLimit {
  return {
    max: env.int("SEND_LIMIT_MAX", { default: DEFAULT_SEND_LIMIT.max, min: 1, max: 100_000, hint: "messages per user per window" }),
    windowSeconds: env.int("SEND_LIMIT_WINDOW_S", { default: DEFAULT_SEND_LIMIT.windowSeconds, min: 1, max: 3600, hint: "seconds" }),
  };
}

export const sendLimitKey = (userId: string) => `ratelimit:send:${userId}`;

export type SendVerdict = { ok: true } | { ok: false; retryAfterSeconds: number; message: string };

export class SendBudget {
  constructor(private readonly redis: Redis, readonly limit: SendLimit) {}

  /** Counts one message of `userId`; refused once the user passed `max` in the current window. */
  async take(userId: string): Promise<SendVerdict> {
    const { count, resetMs } = await windowHit(this.redis, sendLimitKey(userId), this.limit.windowSeconds);
    if (count <= this.limit.max) return { ok: true };
    const retryAfterSeconds = Math.max(1, Math.ceil(resetMs / 1000));
    return {
      ok: false,
      retryAfterSeconds,
      message: `more than ${this.limit.max} messages in ${this.limit.windowSeconds} s from this account (all connections and the api together): retry in ${retryAfterSeconds} s`,
    };
  }
}
