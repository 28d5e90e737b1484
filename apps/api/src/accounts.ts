/**
 * Accounts and sessions.
 *
 * A login creates a `sessions` row and a refresh token (32 random bytes, stored as its SHA-256). Refreshing
 * marks the presented token used and issues its successor in one transaction; presenting a used token again
 * means a copy leaked, so the whole session is revoked (reuse detection). Logout revokes the session; an
 * admin revokes all of a user's sessions. Revoking a session also writes the Redis keys the api and realtime
 * check on every access token (see TokenService), so its access tokens stop working at once.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Pool } from "pg";
import { withTransaction, textProblem, DISPLAY_NAME_MAX, type TokenService } from "@chat/shared";
import { hashPassword, verifyPassword, DUMMY_HASH } from "./passwords";
import { ApiError } from "./errors";
import type { Lockout } from "./limits";

export interface User {
  id: string;
  username: string;
  displayName: string;
  isAdmin: boolean;
  createdAt: string;
}

export interface AuthResult {
  user: User;
  accessToken: string;
  /** Epoch seconds. */
  accessTokenExpiresAt: number;
  refreshToken: string;
  /** Epoch seconds. */
  refreshTokenExpiresAt: number;
  sessionId: string;
}

export const USERNAME = /^[a-z0-9_.-]{3,32}$/;

const sha256 = (s: string) => createHash("sha256").update(s).digest();

function toUser(r: Record<string, unknown>): User {
  return {
    id: String(r.id),
    username: String(r.username),
    displayName: String(r.display_name),
    isAdmin: Boolean(r.is_admin),
    createdAt: r.created_at instanceof Date ? r.created_at.toISOString() : String(r.created_at),
  };
}

const invalidRefresh = () => new ApiError(401, "refresh_invalid", "the refresh token is not valid: log in again");

export interface AccountOptions {
  pool: Pool;
  tokens: TokenService;
  lockout: Lockout;
  refreshTtlSeconds: number;
}

export class Accounts {
  constructor(private readonly o: AccountOptions) {}

  async register(input: { username: string; password: string; displayName?: string }, meta: SessionMeta): Promise<AuthResult> {
    const username = input.username.toLowerCase();
    if (!USERNAME.test(username)) throw new ApiError(400, "bad_request", "username must be 3 to 32 characters of a-z, 0-9, _ . -");
    const nameProblem = input.displayName === undefined ? null : textProblem("displayName", input.displayName, 1, DISPLAY_NAME_MAX);
    if (nameProblem) throw new ApiError(400, "bad_request", nameProblem);
    const hash = await hashPassword(input.password);
    const { rows } = await this.o.pool.query(
      `INSERT INTO users (username, display_name, password_hash) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO NOTHING RETURNING *`,
      [username, input.displayName?.trim() || username, hash],
    );
    if (!rows[0]) throw new ApiError(409, "username_taken", `username "${username}" is taken: choose another`);
    return this.startSession(toUser(rows[0]), meta);
  }

  async login(input: { username: string; password: string }, meta: SessionMeta): Promise<AuthResult> {
    const username = input.username.toLowerCase();
    const ip = meta.ip ?? "unknown";
    await this.o.lockout.check(username, ip);
    const { rows } = await this.o.pool.query("SELECT * FROM users WHERE username = $1", [username]);
    const ok = await verifyPassword(input.password, rows[0] ? String(rows[0].password_hash) : await DUMMY_HASH);
    if (!rows[0] || !ok) {
      await this.o.lockout.failed(username, ip);
      throw new ApiError(401, "invalid_credentials", "wrong username or password");
    }
    await this.o.lockout.succeeded(username, ip);
    return this.startSession(toUser(rows[0]), meta);
  }

  private async startSession(user: User, meta: SessionMeta): Promise<AuthResult> {
    const { rows } = await this.o.pool.query<{ id: string }>(
      `INSERT INTO sessions (user_id, expires_at, user_agent, ip) VALUES ($1, now() + make_interval(secs => $2), $3, $4) RETURNING id`,
      [user.id, this.o.refreshTtlSeconds, meta.userAgent?.slice(0, 256) ?? null, meta.ip ?? null],
    );
    const sessionId = rows[0].id;
    const refresh = await this.issueRefresh(this.o.pool, sessionId);
    const access = await this.o.tokens.sign(user.id, sessionId);
    return { user, sessionId, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, ...refresh };
  }

  private async issueRefresh(db: Pick<Pool, "query">, sessionId: string): Promise<{ refreshToken: string; refreshTokenExpiresAt: number }> {
    const token = randomBytes(32).toString("base64url");
    const { rows } = await db.query<{ exp: string }>(
      `INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
       SELECT $1, id, expires_at FROM sessions WHERE id = $2 RETURNING extract(epoch FROM expires_at)::bigint AS exp`,
      [sha256(token), sessionId],
    );
    return { refreshToken: token, refreshTokenExpiresAt: Number(rows[0].exp) };
  }

  /** Rotates a refresh token. A token used before revokes its session (and this call fails). */
  async refresh(refreshToken: string): Promise<AuthResult> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(refreshToken)) throw invalidRefresh();
    const outcome = await withTransaction(this.o.pool, async (db) => {
      const { rows } = await db.query(
        `SELECT t.used_at, t.expires_at < now() AS expired, s.id AS session_id, s.revoked_at, u.*
           FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
          WHERE t.token_hash = $1 FOR UPDATE OF t, s`,
        [sha256(refreshToken)],
      );
      const r = rows[0];
      if (!r || r.revoked_at || r.expired) return { kind: "invalid" as const };
      if (r.used_at) {
        await db.query("UPDATE sessions SET revoked_at = now(), revoke_reason = 'refresh_reuse' WHERE id = $1", [r.session_id]);
        return { kind: "reused" as const, sessionId: String(r.session_id) };
      }
      await db.query("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1", [sha256(refreshToken)]);
      const next = await this.issueRefresh(db, String(r.session_id));
      return { kind: "ok" as const, user: toUser(r), sessionId: String(r.session_id), ...next };
    });
    if (outcome.kind === "invalid") throw invalidRefresh();
    if (outcome.kind === "reused") {
      await this.o.tokens.revokeSession(outcome.sessionId);
      throw new ApiError(401, "refresh_reused", "this refresh token was already used: the session has been revoked for safety, log in again");
    }
    const access = await this.o.tokens.sign(outcome.user.id, outcome.sessionId);
    return {
      user: outcome.user,
      sessionId: outcome.sessionId,
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: outcome.refreshToken,
      refreshTokenExpiresAt: outcome.refreshTokenExpiresAt,
    };
  }

  /** Ends one session: its refresh tokens stop working and its access tokens are refused. */
  async logout(sessionId: string): Promise<void> {
    await this.o.pool.query("UPDATE sessions SET revoked_at = now(), revoke_reason = 'logout' WHERE id = $1 AND revoked_at IS NULL", [sessionId]);
    await this.o.tokens.revokeSession(sessionId);
  }

  /** Ends every session of a user (admin action). Returns how many sessions were open. */
  async revokeUser(userId: string): Promise<number> {
    const { rows } = await this.o.pool.query<{ id: string }>(
      "UPDATE sessions SET revoked_at = now(), revoke_reason = 'admin' WHERE user_id = $1 AND revoked_at IS NULL RETURNING id",
      [userId],
    );
    await this.o.tokens.revokeUser(userId, rows.map((r) => r.id));
    return rows.length;
  }

  async get(userId: string): Promise<User | null> {
    if (!/^[0-9a-f-]{36}$/i.test(userId)) return null;
    const { rows } = await this.o.pool.query("SELECT * FROM users WHERE id = $1", [userId]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  /** An admin ends every session of another user. 403 for non-admins, 404 for unknown users. */
  async adminRevoke(adminId: string, targetId: string): Promise<{ userId: string; revokedSessions: number }> {
    const admin = await this.get(adminId);
    if (!admin?.isAdmin) throw new ApiError(403, "forbidden", "this action needs an admin account");
    const target = await this.get(targetId);
    if (!target) throw new ApiError(404, "not_found", `user ${targetId} does not exist`);
    return { userId: target.id, revokedSessions: await this.revokeUser(target.id) };
  }

  /** Unfetched offline digest rows of the user (oldest first), marked fetched in the same statement. */
  async takeDigest(userId: string, limit = 100): Promise<{ roomId: string; messageId: string; createdAt: string }[]> {
    const { rows } = await this.o.pool.query(
      `UPDATE offline_digests SET fetched_at = now()
        WHERE id IN (SELECT id FROM offline_digests WHERE user_id = $1 AND fetched_at IS NULL ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING id, room_id, message_id, created_at`,
      [userId, limit],
    );
    return rows
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((r) => ({ roomId: String(r.room_id), messageId: String(r.message_id), createdAt: (r.created_at as Date).toISOString() }));
  }
}

export interface SessionMeta {
  ip?: string;
  userAgent?: string;
}
