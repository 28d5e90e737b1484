import type { FastifyRequest } from "fastify";
import { bearerToken, type Principal } from "@chat/shared";
import type { Services } from "./services";

declare module "fastify" {
  interface FastifyRequest {
    /** Set once the bearer token has been verified. */
    principal?: Principal;
  }
}

/** The verification under way per request: GraphQL resolves a query's fields concurrently. */
const inFlight = new WeakMap<FastifyRequest, Promise<Principal>>();

/**
 * Verifies the bearer token (signature, expiry, revocation) and applies the per-user limit, once per request:
 * fields of one GraphQL query that each need the user share one verification and count as one request.
 */
export function authenticate(s: Services, request: FastifyRequest): Promise<Principal> {
  if (request.principal) return Promise.resolve(request.principal);
  let p = inFlight.get(request);
  if (!p) {
    p = verifyOnce(s, request);
    inFlight.set(request, p);
  }
  return p;
}

async function verifyOnce(s: Services, request: FastifyRequest): Promise<Principal> {
  // An absent token is refused by verify (token_missing) like any other bad token.
  const p = await s.tokens.verify(bearerToken(request.headers.authorization) ?? "");
  await s.limiter.consume("user", p.userId, s.settings.rateLimitUserMax, s.settings.rateLimitWindowSeconds);
  request.principal = p;
  return p;
}
