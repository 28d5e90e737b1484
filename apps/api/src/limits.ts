/**
 * Fixed-window counters in Redis (`INCR` + expiry in one script), shared by every api task:
 *
 * - `ratelimit:ip:<ip>`, `ratelimit:user:<userId>`, `ratelimit:auth:<ip>`: requests per window;
 * - `login-failures:<username>:<ip>` and `login-failures:<username>`: failed logins within LOGIN_FAILURE_WINDOW_S,
 *   from one address and from all;
 * - `lockout:<username>:<ip>`: cache of a `login_lockouts` row (TTL = the time left);
 * - `login-slow:<username>`: the one attempt allowed per LOGIN_SLOW_INTERVAL_S during the slowdown;
 * - `ratelimit:send:<userId>`: messages posted, shared with the realtime service (`SendBudget` in @chat/shared).
 *
 * An operator unlocks an account with `DELETE FROM login_lockouts WHERE username = '<username>'` and
 * `DEL lockout:<username>:<ip> login-failures:<username>:<ip>`.
 */
import type { Redis } from "ioredis";
import { windowHit, type Hit } from "@chat/shared";
import type { Pool } from "pg";
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
  /** Failed logins of one username from all addresses, within the failure window, that start the slowdown. */
  slowAfterFailures: number;
  /** During the slowdown, one login attempt per this many seconds for the username (from any address). */
  slowIntervalSeconds: number;
}

export const lockoutKey = (username: string, ip: string) => `lockout:${username}:${ip}`;
export const failuresKey = (username: string, ip: string) => `login-failures:${username}:${ip}`;
export const userFailuresKey = (username: string) => `login-failures:${username}`;
export const slowKey = (username: string) => `login-slow:${username}`;

/**
 * Failed-login defences. A username is locked for one client address (LOGIN_MAX_FAILURES failures from that
 * address lock it there for LOGIN_LOCKOUT_S), so a stranger cannot lock someone else out. Across addresses a
 * backstop slows rather than locks: past LOGIN_SLOW_AFTER_FAILURES failures of the username within the window,
 * it accepts one attempt per LOGIN_SLOW_INTERVAL_S from anywhere (429 login_slowed otherwise).
 *
 * Locks are written to PostgreSQL (`login_lockouts`, the source of truth) and cached in Redis, so a Redis
 * restart or flush does not lift them. The failure counters live in Redis only.
 */
export class Lockout {
  constructor(
    private readonly redis: Redis,
    private readonly limiter: Limiter,
    private readonly pool: Pick<Pool, "query">,
    private readonly s: LockoutSettings,
  ) {}

  /** Throws 429 account_locked while the username is locked for this address, login_slowed during the slowdown. */
  async check(username: string, ip: string): Promise<void> {
    const locked = (ms: number) =>
      tooMany("account_locked", "too many failed logins for this account from your address: it is locked here, retry after the Retry-After delay", ms / 1000);
    const ttl = await this.redis.pttl(lockoutKey(username, ip));
    if (ttl > 0) throw locked(ttl);
    const { rows } = await this.pool.query<{ ms: string }>(
      "SELECT ceil(extract(epoch FROM locked_until - now()) * 1000)::bigint AS ms FROM login_lockouts WHERE username = $1 AND client_ip = $2 AND locked_until > now()",
      [username, ip],
    );
    if (rows[0]) {
      const ms = Math.max(1, Number(rows[0].ms));
      await this.redis.set(lockoutKey(username, ip), "1", "PX", ms);
      throw locked(ms);
    }
    const all = Number((await this.redis.get(userFailuresKey(username))) ?? 0);
    if (all >= this.s.slowAfterFailures) {
      const slot = await this.redis.set(slowKey(username), "1", "EX", this.s.slowIntervalSeconds, "NX");
      if (slot === null) {
        const wait = await this.redis.pttl(slowKey(username));
        throw tooMany("login_slowed", "many failed logins for this account: attempts are slowed down, retry after the Retry-After delay", Math.max(wait, 1) / 1000);
      }
    }
  }

  /** Records a failure; locks the username for this address when the address reaches the limit. */
  async failed(username: string, ip: string): Promise<void> {
    const [{ count }] = await Promise.all([
      this.limiter.hit(failuresKey(username, ip), this.s.failureWindowSeconds),
      this.limiter.hit(userFailuresKey(username), this.s.failureWindowSeconds),
    ]);
    if (count >= this.s.maxFailures) {
      await this.pool.query(
        `INSERT INTO login_lockouts (username, client_ip, locked_until) VALUES ($1, $2, now() + make_interval(secs => $3))
         ON CONFLICT (username, client_ip) DO UPDATE SET locked_until = EXCLUDED.locked_until`,
        [username, ip, this.s.lockoutSeconds],
      );
      await this.redis.multi().set(lockoutKey(username, ip), "1", "EX", this.s.lockoutSeconds).del(failuresKey(username, ip)).exec();
    }
  }

  async succeeded(username: string, ip: string): Promise<void> {
    await this.redis.del(failuresKey(username, ip));
  }
}
