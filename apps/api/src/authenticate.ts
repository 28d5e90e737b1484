import type { FastifyRequest } from "fastify";
import { AuthError, bearerToken, type Principal } from "@chat/shared";
import type { Services } from "./services";

declare module "fastify" {
  interface FastifyRequest {
    /** Set once the bearer token has been verified. */
    principal?: Principal;
  }
}

/** Verifies the bearer token (signature, expiry, revocation) and applies the per-user limit. */
export async function authenticate(s: Services, request: FastifyRequest): Promise<Principal> {
  if (request.principal) return request.principal;
  const token = bearerToken(request.headers.authorization);
  if (!token) throw new AuthError("token_missing", "an access token is required: send Authorization: Bearer <token>");
  const p = await s.tokens.verify(token);
  await s.limiter.consume("user", p.userId, s.settings.rateLimitUserMax, s.settings.rateLimitWindowSeconds);
  request.principal = p;
  return p;
}
