/**
 * Access tokens: HS256 JWTs with a `kid` header, claims `sub` (user id), `sid` (session id), `iat`, `exp`.
 *
 * Key rotation (JWT_KEYS): `current` signs; `current` and `previous` both verify, chosen by `kid`. Rotating is
 * "new key becomes current, old current becomes previous"; after one access-token lifetime `previous` can be
 * dropped. No downtime: tasks on either key set accept each other's tokens.
 *
 * Revocation (docs/CONTRACTS.md): PostgreSQL is the source of truth (`sessions.revoked_at`,
 * `users.tokens_revoked_before`); Redis caches it. `auth:revoked-session:<sid>` (TTL = access-token lifetime)
 * refuses one session's tokens; `auth:revoked-before:<userId>` (epoch seconds) refuses the user's tokens issued
 * before it; `auth:session-ok:<sid>` (short TTL) records that the database was asked and found the session
 * live. With none of the three keys (a Redis restart, failover or flush) the database is asked again, so a lost
 * cache never brings a revoked session back. Revokers write the database first, then the keys, and disconnect
 * `session:<sid>` / `user:<uid>` sockets through the Socket.IO emitter.
 */
import { SignJWT, jwtVerify, decodeProtectedHeader, errors as joseErrors } from "jose";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Emitter } from "@socket.io/redis-emitter";
import type { JwtKeys } from "./config";

export const revokedSessionKey = (sessionId: string) => `auth:revoked-session:${sessionId}`;
export const revokedBeforeKey = (userId: string) => `auth:revoked-before:${userId}`;
export const sessionOkKey = (sessionId: string) => `auth:session-ok:${sessionId}`;

export type AuthErrorCode = "token_missing" | "token_invalid" | "token_expired" | "token_revoked";

export class AuthError extends Error {
  readonly statusCode = 401;
  constructor(readonly code: AuthErrorCode, message: string) {
    super(message);
    this.name = "AuthError";
  }
}

export interface Principal {
  userId: string;
  sessionId: string;
  /** Epoch seconds. */
  issuedAt: number;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface TokenServiceOptions {
  keys: JwtKeys;
  redis: Redis;
  /** Access-token lifetime. @default 900 */
  accessTtlSeconds?: number;
  /** Used to disconnect the sockets of revoked sessions/users; optional. */
  emitter?: Emitter;
  /** Clock, epoch ms (tests). */
  now?: () => number;
  /**
   * The database holding sessions and users: revocation is read from it when Redis has no answer cached, and
   * written to it by revokeSession/revokeUser. Without it Redis alone decides (tests of the token format).
   */
  pool?: Pick<Pool, "query">;
  /** How long a "session live" answer from the database is cached in Redis. @default 30 */
  liveCacheSeconds?: number;
}

const UUIDISH = /^[A-Za-z0-9-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class TokenService {
  readonly accessTtlSeconds: number;
  private readonly secrets: Map<string, Uint8Array>;
  private readonly now: () => number;

  constructor(private readonly opts: TokenServiceOptions) {
    this.accessTtlSeconds = opts.accessTtlSeconds ?? 900;
    this.now = opts.now ?? Date.now;
    const enc = new TextEncoder();
    this.secrets = new Map([[opts.keys.current.kid, enc.encode(opts.keys.current.secret)]]);
    if (opts.keys.previous) this.secrets.set(opts.keys.previous.kid, enc.encode(opts.keys.previous.secret));
  }

  /** Signs an access token with the current key. */
  async sign(userId: string, sessionId: string): Promise<{ token: string; expiresAt: number }> {
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + this.accessTtlSeconds;
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: "HS256", kid: this.opts.keys.current.kid, typ: "JWT" })
      .setSubject(userId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.secrets.get(this.opts.keys.current.kid)!);
    return { token, expiresAt: exp };
  }

  /** Checks signature, expiry and claims only (no Redis). Throws AuthError. */
  async verifySignature(token: string): Promise<Principal> {
    if (!token) throw new AuthError("token_missing", "an access token is required: send Authorization: Bearer <token>");
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new AuthError("token_invalid", "the access token is malformed");
    }
    const secret = kid ? this.secrets.get(kid) : undefined;
    if (!secret) throw new AuthError("token_invalid", "the access token was signed with an unknown key: log in again");
    try {
      const { payload } = await jwtVerify(token, secret, {
        algorithms: ["HS256"],
        currentDate: new Date(this.now()),
        requiredClaims: ["sub", "iat", "exp"],
      });
      const sid = payload.sid;
      if (typeof sid !== "string" || !UUIDISH.test(sid) || !payload.sub || !UUIDISH.test(payload.sub)) {
        throw new AuthError("token_invalid", "the access token lacks a valid subject or session");
      }
      return { userId: payload.sub, sessionId: sid, issuedAt: payload.iat!, expiresAt: payload.exp! };
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (err instanceof joseErrors.JWTExpired) {
        throw new AuthError("token_expired", "the access token has expired: refresh it with POST /api/auth/refresh");
      }
      throw new AuthError("token_invalid", "the access token is not valid");
    }
  }

  /** Full verification: signature, expiry, then the Redis revocation keys. */
  async verify(token: string): Promise<Principal> {
    const p = await this.verifySignature(token);
    const [revoked] = await this.revokedAmong([p]);
    if (revoked) throw new AuthError("token_revoked", "this session has been revoked: log in again");
    return p;
  }

  /**
   * For each principal, whether its session or its user was revoked after the token was issued: from the Redis
   * cache, and from the database for sessions the cache knows nothing about (one query for all of them).
   */
  async revokedAmong(principals: Pick<Principal, "userId" | "sessionId" | "issuedAt">[]): Promise<boolean[]> {
    if (principals.length === 0) return [];
    const keys = principals.flatMap((p) => [revokedSessionKey(p.sessionId), revokedBeforeKey(p.userId), sessionOkKey(p.sessionId)]);
    const values = await this.opts.redis.mget(...keys);
    const result = principals.map((p, i) => {
      if (values[3 * i] !== null) return true;
      const before = values[3 * i + 1];
      return before !== null && p.issuedAt < Number(before);
    });
    const pool = this.opts.pool;
    if (!pool) return result;
    const unknown = principals.map((p, i) => i).filter((i) => !result[i] && values[3 * i + 2] === null && UUID.test(principals[i].sessionId) && UUID.test(principals[i].userId));
    if (unknown.length === 0) return result;
    const { rows } = await pool.query<{ i: number; session_revoked: boolean | null; revoked_before: string | null }>(
      `SELECT q.i,
              (SELECT s.revoked_at IS NOT NULL FROM sessions s WHERE s.id = q.sid) AS session_revoked,
              (SELECT floor(extract(epoch FROM u.tokens_revoked_before))::bigint FROM users u WHERE u.id = q.uid) AS revoked_before
         FROM unnest($1::int[], $2::uuid[], $3::uuid[]) AS q(i, sid, uid)`,
      [unknown, unknown.map((i) => principals[i].sessionId), unknown.map((i) => principals[i].userId)],
    );
    const cache = this.opts.redis.multi();
    for (const r of rows) {
      const p = principals[r.i];
      const before = r.revoked_before === null ? null : Number(r.revoked_before);
      if (before !== null) cache.set(revokedBeforeKey(p.userId), String(before), "EX", this.accessTtlSeconds + 60);
      if (r.session_revoked) {
        result[r.i] = true;
        cache.set(revokedSessionKey(p.sessionId), "1", "EX", this.accessTtlSeconds);
      } else if (before !== null && p.issuedAt < before) {
        result[r.i] = true;
      } else {
        // A session with no row was never issued by this system's login: only our keys sign tokens, so it is
        // not a revocation (token format tests sign such tokens); a revoked row always has one.
        cache.set(sessionOkKey(p.sessionId), "1", "EX", this.opts.liveCacheSeconds ?? 30);
      }
    }
    await cache.exec();
    return result;
  }

  /** Refuses the session's access tokens from now on and disconnects its sockets. */
  async revokeSession(sessionId: string): Promise<void> {
    if (this.opts.pool && UUID.test(sessionId)) {
      await this.opts.pool.query("UPDATE sessions SET revoked_at = now(), revoke_reason = COALESCE(revoke_reason, 'revoked') WHERE id = $1 AND revoked_at IS NULL", [sessionId]);
    }
    await this.opts.redis.multi().set(revokedSessionKey(sessionId), "1", "EX", this.accessTtlSeconds).del(sessionOkKey(sessionId)).exec();
    this.opts.emitter?.in(`session:${sessionId}`).disconnectSockets(true);
  }

  /**
   * Refuses every access token of the user issued before this second and disconnects the user's sockets.
   * Tokens issued within the current second are covered by revoking their sessions (the caller passes them).
   */
  async revokeUser(userId: string, sessionIds: string[] = []): Promise<void> {
    const at = Math.floor(this.now() / 1000);
    if (this.opts.pool && UUID.test(userId)) {
      await this.opts.pool.query(
        "UPDATE users SET tokens_revoked_before = GREATEST(COALESCE(tokens_revoked_before, to_timestamp(0)), to_timestamp($2)) WHERE id = $1",
        [userId, at],
      );
    }
    const pipeline = this.opts.redis.multi();
    // Kept a little longer than any token it can refuse; a later revocation only moves it forward.
    pipeline.set(revokedBeforeKey(userId), String(at), "EX", this.accessTtlSeconds + 60);
    for (const sid of sessionIds) pipeline.set(revokedSessionKey(sid), "1", "EX", this.accessTtlSeconds).del(sessionOkKey(sid));
    await pipeline.exec();
    this.opts.emitter?.in(`user:${userId}`).disconnectSockets(true);
  }
}

/** Extracts the token from an `Authorization: Bearer <token>` header; undefined when absent. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new AuthError("token_invalid", 'the Authorization header must be "Bearer <access token>"');
  return m[1];
}
