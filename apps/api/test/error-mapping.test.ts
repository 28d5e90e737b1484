// The error mapping: a PostgreSQL outage (connection refused, administrator shutdown, server starting,
// too many connections, pool exhausted) answers 503 + Retry-After like a Redis outage, never 500; other
// database errors stay internal (500, no details); client errors keep their 4xx.
import { createServer, type AddressInfo } from "node:net";
import { Client } from "pg";
import { AuthError, ChatError, createPool } from "@chat/shared";
import { ensurePostgres } from "../../../test/support/postgres";
import { toHttpError, tooMany, ApiError } from "../src/errors";
import type { TestApi, Session } from "./helpers";

const UNAVAILABLE = { status: 503, code: "unavailable", message: "a backing service is unavailable: retry shortly", headers: { "retry-after": "1" } };

const withCode = (code: string, message = "failed") => Object.assign(new Error(message), { code });

describe("toHttpError", () => {
  test.each([
    ["connection refused", withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432")],
    ["connection reset", withCode("ECONNRESET")],
    ["timed out", withCode("ETIMEDOUT")],
    ["broken pipe", withCode("EPIPE")],
    ["DNS: no such host", withCode("ENOTFOUND")],
    ["DNS: try again", withCode("EAI_AGAIN")],
    ["admin_shutdown 57P01", withCode("57P01", "terminating connection due to administrator command")],
    ["crash_shutdown 57P02", withCode("57P02")],
    ["cannot_connect_now 57P03 (starting up or failing over)", withCode("57P03", "the database system is starting up")],
    ["too_many_connections 53300", withCode("53300", "sorry, too many clients already")],
    ["pool timeout", new Error("timeout exceeded when trying to connect")],
    ["connection terminated", new Error("Connection terminated unexpectedly")],
    ["Redis connection closed", new Error("Connection is closed.")],
    ["Redis stream not writeable", new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ["a socket error from another realm (not instanceof Error)", { name: "Error", code: "ECONNREFUSED", message: "connect ECONNREFUSED" }],
    ["Redis retries exhausted", Object.assign(new Error("Reached the max retries per request limit"), { name: "MaxRetriesPerRequestError" })],
    ["Redis command timeout (REDIS_COMMAND_TIMEOUT_MS)", new Error("Command timed out")],
  ])("%s -> 503 unavailable with Retry-After", (_name, err) => {
    expect(toHttpError(err)).toEqual(UNAVAILABLE);
  });

  test.each([
    ["unique violation", withCode("23505", "duplicate key value violates unique constraint")],
    ["undefined table", withCode("42P01", 'relation "room_members" does not exist')],
    ["a code that only contains an outage code", withCode("XECONNREFUSED")],
    ["an outage code with a suffix", withCode("57P01X")],
    ["a plain error", new Error("boom")],
    ["an outage code that is not a string", { code: 57, message: 57 }],
    ["an outage code and message that are not strings (arrays that print as one)", { code: ["ECONNREFUSED"], message: ["Connection is closed."] }],
    ["a class 22 SQLSTATE on an error that is not PostgreSQL's (no severity)", withCode("22003")],
    ["a SQLSTATE too short to be class 22", Object.assign(withCode("2200"), { severity: "ERROR" })],
    ["a SQLSTATE with a suffix", Object.assign(withCode("22003X"), { severity: "ERROR" })],
    ["a SQLSTATE of class 22 behind a prefix", Object.assign(withCode("X22003"), { severity: "ERROR" })],
    ["a syntax error of the api's own (no 400 status)", new SyntaxError("Unexpected token } in JSON")],
    ["a 500 status", Object.assign(new Error("internal"), { statusCode: 500 })],
    ["a number", 503],
    ["a string", "ECONNREFUSED"],
    ["undefined", undefined],
    ["null", null],
    ["a 5xx status", Object.assign(new Error("upstream"), { statusCode: 502 })],
    ["a 3xx status", Object.assign(new Error("moved"), { statusCode: 399 })],
  ])("%s -> null (a 500 with no details)", (_name, err) => {
    expect(toHttpError(err)).toBeNull();
  });

  test("api, auth and chat errors keep their status, code and headers", () => {
    expect(toHttpError(new ApiError(409, "username_taken", "taken", { x: "1" }))).toEqual({ status: 409, code: "username_taken", message: "taken", headers: { x: "1" } });
    expect(toHttpError(new ApiError(400, "bad_request", "bad"))).toEqual({ status: 400, code: "bad_request", message: "bad", headers: {} });
    expect(toHttpError(new AuthError("token_expired", "expired"))).toEqual({
      status: 401, code: "token_expired", message: "expired", headers: { "www-authenticate": 'Bearer error="invalid_token"' },
    });
    expect(toHttpError(new ChatError("forbidden", "not yours"))).toEqual({ status: 403, code: "forbidden", message: "not yours", headers: {} });
    expect(toHttpError(new ChatError("not_found", "gone"))!.status).toBe(404);
    expect(toHttpError(new ChatError("conflict", "twice"))!.status).toBe(409);
    expect(toHttpError(new ChatError("bad_request", "bad"))!.status).toBe(400);
  });

  test("a room or message the user is not a member of answers exactly like one that does not exist", () => {
    const message = "room r does not exist or you are not a member";
    const notFound = { status: 404, code: "not_found", message, headers: {} };
    expect(toHttpError(new ChatError("not_found", message))).toEqual(notFound);
    expect(toHttpError(new ChatError("not_member", message))).toEqual(notFound);
  });

  test("tooMany rounds Retry-After up to whole seconds, at least 1", () => {
    expect(tooMany("rate_limited", "slow down", 2.1)).toMatchObject({ statusCode: 429, code: "rate_limited", message: "slow down", headers: { "retry-after": "3" } });
    expect(tooMany("rate_limited", "m", 0.2).headers).toEqual({ "retry-after": "1" });
    expect(tooMany("rate_limited", "m", 0).headers).toEqual({ "retry-after": "1" });
    expect(tooMany("rate_limited", "m", 5).headers).toEqual({ "retry-after": "5" });
    expect(new ApiError(400, "c", "m")).toMatchObject({ name: "ApiError", headers: {} });
  });

  test("validation errors name where and what, and the property that is not accepted", () => {
    const v = (validation: object[], validationContext?: string) => Object.assign(new Error("invalid"), { validation, validationContext });
    expect(toHttpError(v([{ instancePath: "/body/x", message: "must be string" }], "body"))).toEqual({
      status: 400, code: "bad_request", message: "body.body.x must be string", headers: {},
    });
    expect(toHttpError(v([{ instancePath: "", message: "must NOT have additional properties", params: { additionalProperty: "extra" } }], "querystring"))!.message).toBe(
      'querystring must NOT have additional properties ("extra" is not accepted)',
    );
    expect(toHttpError(v([{}]))!.message).toBe("body is invalid");
    expect(toHttpError(v([]))).toBeNull();
  });

  test.each([
    ["FST_ERR_CTP_INVALID_JSON_BODY", 400, "bad_request", "the request body is not valid JSON"],
    ["FST_ERR_CTP_EMPTY_JSON_BODY", 400, "bad_request", "the request body is not valid JSON"],
    ["FST_ERR_CTP_BODY_TOO_LARGE", 413, "payload_too_large", "the request body is larger than the limit (BODY_LIMIT_BYTES)"],
    ["FST_ERR_CTP_INVALID_MEDIA_TYPE", 415, "unsupported_media_type", "send the body as application/json"],
  ])("fastify %s -> %d %s, with the fix in the message", (code, status, mapped, message) => {
    expect(toHttpError(withCode(code, "fastify's own wording"))).toEqual({ status, code: mapped, message, headers: {} });
  });

  test.each([
    ["22003 numeric_value_out_of_range", "22003"],
    ["22P02 invalid_text_representation", "22P02"],
    ["22021 character_not_in_repertoire", "22021"],
  ])("a PostgreSQL data exception %s -> 400 naming the SQLSTATE and the fix", (_name, code) => {
    expect(toHttpError(Object.assign(withCode(code, "internal detail"), { severity: "ERROR" }))).toEqual({
      status: 400, code: "bad_request", headers: {},
      message: `a value in the request cannot be stored (SQLSTATE ${code}): check numbers are in range and text is valid Unicode without NUL characters`,
    });
  });

  test("a JSON syntax error with status 400 is bad_request; other 4xx keep their status", () => {
    expect(toHttpError(Object.assign(new SyntaxError("Unexpected token"), { statusCode: 400 }))).toEqual({
      status: 400, code: "bad_request", message: "the request body is not valid JSON", headers: {},
    });
    expect(toHttpError(Object.assign(new Error("too many parts"), { statusCode: 413 }))).toEqual({ status: 413, code: "bad_request", message: "too many parts", headers: {} });
    expect(toHttpError(Object.assign(new Error("bad"), { statusCode: 400 }))).toEqual({ status: 400, code: "bad_request", message: "bad", headers: {} });
    expect(toHttpError(Object.assign(new Error("last 4xx"), { statusCode: 499 }))!.status).toBe(499);
  });
});

describe("real PostgreSQL failures", () => {
  test("a query on a connection the administrator terminates fails with 57P01, mapped to 503", async () => {
    const admin = new Client({ connectionString: await ensurePostgres() });
    const victim = new Client({ connectionString: await ensurePostgres() });
    victim.on("error", () => undefined);
    await admin.connect();
    await victim.connect();
    try {
      const pid = (await victim.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      const running = victim.query("SELECT pg_sleep(30)").then(
        () => undefined,
        (e: unknown) => e,
      );
      // Terminate once the sleep is visibly running on the server (a positive signal, not a delay).
      for (;;) {
        const { rows } = await admin.query("SELECT state FROM pg_stat_activity WHERE pid = $1", [pid]);
        if (rows[0]?.state === "active") break;
        await new Promise((r) => setImmediate(r));
      }
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      const err = await running;
      expect((err as { code?: string }).code).toBe("57P01");
      expect(toHttpError(err)).toEqual(UNAVAILABLE);
    } finally {
      await admin.end();
      await victim.end().catch(() => undefined);
    }
  });

  describe("through the api", () => {
    let t: TestApi;
    let bob: Session;
    let appWithPool: (pool: ReturnType<typeof createPool>) => Promise<Awaited<ReturnType<typeof import("../src/app").buildApp>>>;
    // The api's modules are loaded here, not at the top of the file: a mutation run that selects only the
    // pure checks above then never loads them.
    beforeAll(async () => {
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { startApi, register }: typeof import("./helpers") = require("./helpers");
      const { buildServices }: typeof import("../src/services") = require("../src/services");
      const { buildApp }: typeof import("../src/app") = require("../src/app");
      /* eslint-enable @typescript-eslint/no-require-imports */
      appWithPool = async (pool) => {
        const app = await buildApp(buildServices({ ...t.s, pool }));
        await app.ready();
        return app;
      };
      t = await startApi("api_error_mapping");
      bob = await register(t.app, "bob");
    });
    afterAll(async () => {
      await t?.close();
    });

    test("PostgreSQL refusing connections answers 503 with Retry-After, not 500", async () => {
      // A port that was just free: nothing listens there, so connecting is refused.
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
      const port = (probe.address() as AddressInfo).port;
      await new Promise((r) => probe.close(r));
      const pool = createPool({ kind: "url", url: `postgres://postgres@127.0.0.1:${port}/none`, poolMax: 1 });
      const app = await appWithPool(pool);
      try {
        const res = await app.inject({ method: "GET", url: "/api/rooms", headers: bob.auth });
        expect([res.statusCode, res.headers["retry-after"], res.json().error.code]).toEqual([503, "1", "unavailable"]);
        expect(res.body).not.toContain(String(port));
        // (GraphQL is checked with the pool timeout below: under jest, Node's socket errors belong to another
        // realm, and graphql-js replaces a thrown value that is not `instanceof Error` before the formatter.)
      } finally {
        await app.close();
        await pool.end();
      }
    });

    test("a pool with no free connection within its timeout answers 503, not 500", async () => {
      const pool = createPool({ kind: "url", url: (t.pool as unknown as { options: { connectionString: string } }).options.connectionString, poolMax: 1 });
      (pool as unknown as { options: { connectionTimeoutMillis: number } }).options.connectionTimeoutMillis = 200;
      const held = await pool.connect(); // the only connection, held by "another request"
      const app = await appWithPool(pool);
      try {
        const res = await app.inject({ method: "GET", url: "/api/rooms", headers: bob.auth });
        expect([res.statusCode, res.headers["retry-after"], res.json().error.code]).toEqual([503, "1", "unavailable"]);
        const gql = await app.inject({ method: "POST", url: "/graphql", headers: bob.auth, payload: { query: "{ rooms { id } }" } });
        expect([gql.statusCode, gql.headers["retry-after"], gql.json().errors[0].extensions.code]).toEqual([503, "1", "unavailable"]);
        expect(gql.json().data).toBeNull();
      } finally {
        held.release();
        await app.close();
        await pool.end();
      }
      // The same routes answer 200 on the healthy pool: the 503 was the outage, not the route.
      expect((await t.app.inject({ method: "GET", url: "/api/rooms", headers: bob.auth })).statusCode).toBe(200);
    });
  });
});
