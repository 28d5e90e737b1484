/**
 * Access tokens: HS256 JWTs with a `kid` header, claims `sub` (user id), `sid` (session id), `iat`, `exp`.
 *
 * Key rotation (JWT_KEYS): `current` signs; `current` and `previous` both verify, chosen by `kid`. Rotating is
 * "new key becomes current, old current becomes previous"; after one access-token lifetime `previous` can be
 * dropped. No downtime: tasks on either key set accept each other's tokens.
 *
 * Revocation (docs/CONTRACTS.md): `auth:revoked-session:<sid>` (TTL = access-token lifetime) refuses one
 * session's tokens; `auth:revoked-before:<userId>` (epoch seconds) refuses the user's tokens issued before it.
 * Revokers also disconnect `session:<sid>` / `user:<uid>` sockets through the Socket.IO emitter.
 */
import { SignJWT, jwtVerify, decodeProtectedHeader, errors as joseErrors } from "jose";
import type { Redis } from "ioredis";
import type { Emitter } from "@socket.io/redis-emitter";
import type { JwtKeys } from "./config";

export const revokedSessionKey = (sessionId: string) => `auth:revoked-session:${sessionId}`;
export const revokedBeforeKey = (userId: string) => `auth:revoked-before:${userId}`;

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
}

const UUIDISH = /^[A-Za-z0-9-]{1,64}$/;

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

  /** For each principal, whether its session or its user was revoked after the token was issued. */
  async revokedAmong(principals: Pick<Principal, "userId" | "sessionId" | "issuedAt">[]): Promise<boolean[]> {
    if (principals.length === 0) return [];
    const keys = principals.flatMap((p) => [revokedSessionKey(p.sessionId), revokedBeforeKey(p.userId)]);
    const values = await this.opts.redis.mget(...keys);
    return principals.map((p, i) => {
      if (values[2 * i] !== null) return true;
      const before = values[2 * i + 1];
      return before !== null && p.issuedAt < Number(before);
    });
  }

  /** Refuses the session's access tokens from now on and disconnects its sockets. */
  async revokeSession(sessionId: string): Promise<void> {
    await this.opts.redis.set(revokedSessionKey(sessionId), "1", "EX", this.accessTtlSeconds);
    this.opts.emitter?.in(`session:${sessionId}`).disconnectSockets(true);
  }

  /**
   * Refuses every access token of the user issued before this second and disconnects the user's sockets.
   * Tokens issued within the current second are covered by revoking their sessions (the caller passes them).
   */
  async revokeUser(userId: string, sessionIds: string[] = []): Promise<void> {
    const at = Math.floor(this.now() / 1000);
    const pipeline = this.opts.redis.multi();
    // Kept a little longer than any token it can refuse; a later revocation only moves it forward.
    pipeline.set(revokedBeforeKey(userId), String(at), "EX", this.accessTtlSeconds + 60);
    for (const sid of sessionIds) pipeline.set(revokedSessionKey(sid), "1", "EX", this.accessTtlSeconds);
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
