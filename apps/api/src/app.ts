/**
 * Builds the api's Fastify instance (routes, validation, auth, limits, errors, metrics, GraphQL) without
 * listening, so tests can use `inject` or a real port.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { correlationId, runChecks, checkPostgres, checkRedis, checkSchema, loadMigrations } from "@chat/shared";
import { toHttpError } from "./errors";
import type { Services } from "./services";
import { authRoutes } from "./routes/auth";
import { chatRoutes } from "./routes/chat";
import { registerGraphql } from "./graphql";

const UNLIMITED = new Set(["/health", "/api/health", "/api/ready"]);

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
