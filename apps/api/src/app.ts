/**
 * Builds the api's Fastify instance (routes, validation, auth, limits, errors, metrics, GraphQL) without
 * listening, so tests can use `inject` or a real port.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type FastifyError } from "fastify";
import { AuthError, ChatError, bearerToken, correlationId, runChecks, checkPostgres, checkRedis, checkSchema, loadMigrations, type Principal } from "@chat/shared";
import { ApiError } from "./errors";
import type { Services } from "./services";
import { authRoutes } from "./routes/auth";
import { chatRoutes } from "./routes/chat";
import { registerGraphql } from "./graphql";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const UNLIMITED = new Set(["/health", "/api/health", "/api/ready"]);

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

/**
 * Redis or PostgreSQL out of reach (failover, restart, network): a 503 the client may retry, not a 500.
 * Token checks need Redis (revocation), so requests fail closed while it is away.
 */
function isUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: string }).code ?? "";
  return (
    e.name === "MaxRetriesPerRequestError" ||
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|57P01|57P02|57P03|53300)$/.test(code) ||
    /Connection is closed|Connection terminated|timeout exceeded when trying to connect|Stream isn't writeable/.test(e.message)
  );
}

/** Maps any error to a status and a body that never carries internals. */
export function toHttpError(err: unknown): { status: number; code: string; message: string; headers: Record<string, string> } | null {
  if (err instanceof ApiError) return { status: err.statusCode, code: err.code, message: err.message, headers: err.headers };
  if (err instanceof AuthError) return { status: 401, code: err.code, message: err.message, headers: { "www-authenticate": 'Bearer error="invalid_token"' } };
  if (err instanceof ChatError) return { status: err.statusCode, code: err.code, message: err.message, headers: {} };
  const e = err as FastifyError;
  if (e && Array.isArray(e.validation) && e.validation.length > 0) {
    const v = e.validation[0] as { instancePath?: string; message?: string; params?: Record<string, unknown> };
    const where = `${e.validationContext ?? "body"}${v.instancePath ? v.instancePath.replace(/\//g, ".") : ""}`;
    const extra = v.params?.additionalProperty ? ` ("${String(v.params.additionalProperty)}" is not accepted)`
      : v.params?.missingProperty ? "" : "";
    return { status: 400, code: "bad_request", message: `${where} ${v.message ?? "is invalid"}${extra}`, headers: {} };
  }
  switch (e?.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, code: "bad_request", message: "the request body is not valid JSON", headers: {} };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, code: "payload_too_large", message: "the request body is larger than the limit (BODY_LIMIT_BYTES)", headers: {} };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 415, code: "unsupported_media_type", message: "send the body as application/json", headers: {} };
  }
  if (e instanceof SyntaxError && (e as FastifyError).statusCode === 400) {
    return { status: 400, code: "bad_request", message: "the request body is not valid JSON", headers: {} };
  }
  if (isUnavailable(e)) {
    return { status: 503, code: "unavailable", message: "a backing service is unavailable: retry shortly", headers: { "retry-after": "1" } };
  }
  if (typeof e?.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: "bad_request", message: e.message, headers: {} };
  }
  return null;
}

export async function buildApp(s: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: s.logger as unknown as FastifyBaseLogger,
    bodyLimit: s.settings.bodyLimitBytes,
    // Trust exactly the proxies in front of us (the ALB): the client address is the entry they appended.
    trustProxy: (_address: string, hop: number) => hop < s.settings.trustProxyHops,
    requestIdHeader: false,
    genReqId: (req) => correlationId(req.headers["x-request-id"]),
    // One line per request is written by the onResponse hook below (with the route, status and user).
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  const migrations = s.migrations ?? loadMigrations();

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    if (UNLIMITED.has(request.url.split("?")[0])) return;
    await s.limiter.consume("ip", request.ip, s.settings.rateLimitIpMax, s.settings.rateLimitWindowSeconds);
  });

  app.addHook("onResponse", async (request, reply) => {
    const status = reply.statusCode;
    s.metrics?.count("RequestCount");
    s.metrics?.count("Errors5xx", status >= 500 ? 1 : 0);
    s.metrics?.observe("RequestLatencyMs", Math.round(reply.elapsedTime * 100) / 100);
    const line = { method: request.method, url: request.routeOptions.url ?? request.url.split("?")[0], status, ms: Math.round(reply.elapsedTime), userId: request.principal?.userId };
    if (status >= 500) request.log.error(line, "request failed");
    else request.log.info(line, "request");
  });

  app.setErrorHandler((err, request, reply) => {
    const mapped = toHttpError(err);
    if (mapped) {
      void reply.status(mapped.status).headers(mapped.headers).send({ error: { code: mapped.code, message: mapped.message } });
      return;
    }
    request.log.error({ err }, "unhandled error");
    void reply.status(500).send({ error: { code: "internal", message: `internal error (request id ${request.id})` } });
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: "not_found", message: `no route ${request.method} ${request.url.split("?")[0]}` } });
  });

  const health = async () => ({ status: "ok" });
  app.get("/health", health);
  app.get("/api/health", health);
  app.get("/api/ready", async (_request, reply) => {
    const r = await runChecks({ postgres: checkPostgres(s.pool), redis: checkRedis(s.redis), schema: checkSchema(s.pool, migrations) });
    return reply.status(r.ok ? 200 : 503).send({ status: r.ok ? "ready" : "not ready", checks: r.checks });
  });

  await app.register(async (api) => {
    await authRoutes(api, s);
    await api.register(async (scope) => chatRoutes(scope, s));
  }, { prefix: "/api" });
  await registerGraphql(app, s);
  return app;
}
