import type { FastifyRequest } from "fastify";
import { bearerToken, type Principal } from "@chat/shared";
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
  // An absent token is refused by verify (token_missing) like any other bad token.
  const p = await s.tokens.verify(bearerToken(request.headers.authorization) ?? "");
  await s.limiter.consume("user", p.userId, s.settings.rateLimitUserMax, s.settings.rateLimitWindowSeconds);
  request.principal = p;
  return p;
}
