import type { FastifyError } from "fastify";
import { AuthError, ChatError } from "@chat/shared";

/** Errors the api answers with a 4xx: `{ error: { code, message } }`, optional headers (Retry-After). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const tooMany = (code: string, message: string, retryAfterSeconds: number) =>
  new ApiError(429, code, message, { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) });

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
    /Connection is closed|Connection terminated|timeout exceeded when trying to connect|Stream isn't writeable|Command timed out/.test(e.message)
  );
}

/** Maps any error to a status and a body that never carries internals. */
export function toHttpError(err: unknown): { status: number; code: string; message: string; headers: Record<string, string> } | null {
  if (err instanceof ApiError) return { status: err.statusCode, code: err.code, message: err.message, headers: err.headers };
  if (err instanceof AuthError) return { status: 401, code: err.code, message: err.message, headers: { "www-authenticate": 'Bearer error="invalid_token"' } };
  // not_member answers exactly as not_found: an outsider cannot tell which ids exist.
  if (err instanceof ChatError) return { status: err.statusCode, code: err.code === "not_member" ? "not_found" : err.code, message: err.message, headers: {} };
  const e = err as FastifyError;
  if (e && Array.isArray(e.validation) && e.validation.length > 0) {
    const v = e.validation[0] as { instancePath?: string; message?: string; params?: Record<string, unknown> };
    const where = `${e.validationContext ?? "body"}${v.instancePath ? v.instancePath.replace(/\//g, ".") : ""}`;
    const extra = v.params?.additionalProperty ? ` ("${String(v.params.additionalProperty)}" is not accepted)` : "";
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
  // SQLSTATE class 22 (data exception: a value out of range, bad encoding, invalid text for a type): the input
  // was at fault. Validation should catch these first; this keeps one that slips through out of the 5xx.
  if (typeof (e as { code?: unknown })?.code === "string" && /^22[0-9A-Z]{3}$/.test((e as { code: string }).code) && typeof (e as { severity?: unknown }).severity === "string") {
    return { status: 400, code: "bad_request", message: `a value in the request cannot be stored (SQLSTATE ${(e as { code: string }).code}): check numbers are in range and text is valid Unicode without NUL characters`, headers: {} };
  }
  if (isUnavailable(e)) {
    return { status: 503, code: "unavailable", message: "a backing service is unavailable: retry shortly", headers: { "retry-after": "1" } };
  }
  if (typeof e?.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: "bad_request", message: e.message, headers: {} };
  }
  return null;
}
