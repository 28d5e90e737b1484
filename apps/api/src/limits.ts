/**
 * Fixed-window counters in Redis (`INCR` + expiry in one script), shared by every api task:
 *
 * - `ratelimit:ip:<ip>`, `ratelimit:user:<userId>`, `ratelimit:auth:<ip>`: requests per window;
 * - `login-failures:<username>`: failed logins within LOGIN_FAILURE_WINDOW_S;
 * - `lockout:<username>`: present while the username is locked (TTL = LOGIN_LOCKOUT_S);
 * - `ratelimit:send:<userId>`: messages posted, shared with the realtime service (`SendBudget` in @chat/shared).
 *
 * An operator unlocks an account with `DEL lockout:<username> login-failures:<username>`.
 */
import type { Redis } from "ioredis";
import { windowHit, type Hit } from "@chat/shared";
import { tooMany } from "./errors";

export type { Hit };

export class Limiter {
  constructor(private readonly redis: Redis) {}

  hit(key: string, windowSeconds: number): Promise<Hit> {
    return windowHit(this.redis, key, windowSeconds);
  }

  /** Counts a request; throws 429 with Retry-After once `max` is passed within the window. */
  async consume(kind: "ip" | "user" | "auth", id: string, max: number, windowSeconds: number): Promise<void> {
    const { count, resetMs } = await this.hit(`ratelimit:${kind}:${id}`, windowSeconds);
    if (count > max) {
      const who = kind === "user" ? "this account" : "this address";
      throw tooMany("rate_limited", `too many ${kind === "auth" ? "sign-in " : ""}requests from ${who}: retry after the Retry-After delay`, resetMs / 1000);
    }
  }
}

export interface LockoutSettings {
  maxFailures: number;
  failureWindowSeconds: number;
  lockoutSeconds: number;
}

export const lockoutKey = (username: string) => `lockout:${username}`;
export const failuresKey = (username: string) => `login-failures:${username}`;

export class Lockout {
  constructor(private readonly redis: Redis, private readonly limiter: Limiter, private readonly s: LockoutSettings) {}

  /** Throws 429 account_locked while the username is locked. */
  async check(username: string): Promise<void> {
    const ttl = await this.redis.pttl(lockoutKey(username));
    if (ttl > 0) {
      throw tooMany("account_locked", `too many failed logins: this account is locked, retry after the Retry-After delay`, ttl / 1000);
    }
  }

  /** Records a failure; locks the username when it reaches the limit. */
  async failed(username: string): Promise<void> {
    const { count } = await this.limiter.hit(failuresKey(username), this.s.failureWindowSeconds);
    if (count >= this.s.maxFailures) {
      await this.redis.multi().set(lockoutKey(username), "1", "EX", this.s.lockoutSeconds).del(failuresKey(username)).exec();
    }
  }

  async succeeded(username: string): Promise<void> {
    await this.redis.del(failuresKey(username));
  }
}
