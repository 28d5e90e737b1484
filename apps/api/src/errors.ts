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
