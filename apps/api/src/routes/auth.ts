/** Accounts: register, login, refresh, logout, me, offline digest, admin revoke. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Services } from "../services";
import { authenticate } from "../authenticate";
import type { AuthResult } from "../accounts";
import { obj, username, password, displayName, uuidParam } from "./schemas";
import { ApiError } from "../errors";

export function authBody(r: AuthResult) {
  return {
    user: r.user,
    tokenType: "Bearer",
    accessToken: r.accessToken,
    accessTokenExpiresAt: r.accessTokenExpiresAt,
    refreshToken: r.refreshToken,
    refreshTokenExpiresAt: r.refreshTokenExpiresAt,
  };
}

export const sessionMeta = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers["user-agent"] });

export async function authRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const authLimit = async (request: FastifyRequest) => {
    await s.limiter.consume("auth", request.ip, s.settings.rateLimitAuthMax, s.settings.rateLimitWindowSeconds);
  };
  const auth = async (request: FastifyRequest) => {
    await authenticate(s, request);
  };

  app.post<{ Body: { username: string; password: string; displayName?: string } }>(
    "/auth/register",
    { schema: { body: obj({ username, password, displayName }, ["username", "password"]) }, onRequest: authLimit },
    async (request, reply) => reply.status(201).send(authBody(await s.accounts.register(request.body, sessionMeta(request)))),
  );

  app.post<{ Body: { username: string; password: string } }>(
    "/auth/login",
    { schema: { body: obj({ username, password: { type: "string", minLength: 1, maxLength: 256 } }) }, onRequest: authLimit },
    async (request) => authBody(await s.accounts.login(request.body, sessionMeta(request))),
  );

  app.post<{ Body: { refreshToken: string } }>(
    "/auth/refresh",
    { schema: { body: obj({ refreshToken: { type: "string", minLength: 1, maxLength: 128 } }) }, onRequest: authLimit },
    async (request) => authBody(await s.accounts.refresh(request.body.refreshToken)),
  );

  app.post("/auth/logout", { onRequest: auth }, async (request, reply) => {
    await s.accounts.logout(request.principal!.sessionId);
    return reply.status(204).send();
  });

  app.get("/me", { onRequest: auth }, async (request) => {
    const user = await s.accounts.get(request.principal!.userId);
    if (!user) throw new ApiError(401, "token_invalid", "the account of this token no longer exists");
    return { user };
  });

  app.get("/me/digest", { onRequest: auth }, async (request) => ({ missed: await s.accounts.takeDigest(request.principal!.userId) }));

  app.post<{ Params: { userId: string } }>(
    "/admin/users/:userId/revoke",
    { schema: { params: uuidParam("userId") }, onRequest: auth },
    async (request) => {
      const adminId = request.principal!.userId;
      const result = await s.accounts.adminRevoke(adminId, request.params.userId);
      request.log.warn({ adminId, ...result }, "admin revoked a user's tokens");
      return result;
    },
  );
}
