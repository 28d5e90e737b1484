/**
 * Client for the HTTP push gateway (the service that turns a notification into APNs/FCM/web-push sends).
 *
 * Request: `POST <PUSH_GATEWAY_URL>` with a JSON body and
 *   - `X-Chat-Timestamp`: unix seconds when the request was signed,
 *   - `X-Chat-Signature`: `v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>" keyed with PUSH_GATEWAY_SECRET>`,
 *   - `Idempotency-Key`: the job id, so the gateway can drop a repeat of a send it already made.
 * The gateway checks the signature and refuses timestamps older than a few minutes (see `verifySignature`).
 *
 * Retry policy: each attempt has its own timeout; network errors, timeouts, 408, 429 and 5xx are retried with
 * exponential backoff and full jitter (a Retry-After header is honoured up to the cap), up to `maxAttempts`.
 * 400, 404, 410 and 422 mean the notification itself cannot be delivered and are not retried. Other 4xx
 * (401/403 = a wrong secret or URL) are reported as retryable: the job stays in the queue and ends in the DLQ
 * if the configuration is not fixed, instead of silently dropping every notification.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export interface PushNotification {
  jobId: string;
  userId: string;
  roomId: string;
  messageId: string;
  preview: string;
  createdAt: string;
}

export interface PushGatewayOptions {
  url: string;
  secret: string;
  /** Timeout of one HTTP attempt. */
  attemptTimeoutMs: number;
  /** Attempts per job delivery (1 = no in-process retry). */
  maxAttempts: number;
  /** First backoff step; doubles per attempt. */
  baseDelayMs?: number;
  /** Longest single backoff wait. */
  maxDelayMs?: number;
}

export class PushGatewayError extends Error {
  override readonly name = "PushGatewayError";
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly attempts = 1,
  ) {
    super(message);
  }
}

export const SIGNATURE_HEADER = "x-chat-signature";
export const TIMESTAMP_HEADER = "x-chat-timestamp";

const PERMANENT_STATUSES = new Set([400, 404, 410, 422]);

export function signBody(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** What a gateway runs on each request. Returns false for a bad, missing or stale signature. */
export function verifySignature(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  opts: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const sig = headers[SIGNATURE_HEADER];
  const ts = Number(headers[TIMESTAMP_HEADER]);
  if (typeof sig !== "string" || !Number.isInteger(ts)) return false;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signBody(secret, ts, body));
  const got = Buffer.from(sig);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

export class PushGatewayClient {
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly opts: PushGatewayOptions) {
    this.baseDelayMs = opts.baseDelayMs ?? 200;
    this.maxDelayMs = opts.maxDelayMs ?? 5000;
  }

  /** Delivers one notification, retrying transient failures. Throws PushGatewayError when it gives up. */
  async send(notification: PushNotification, signal?: AbortSignal): Promise<{ status: number; attempts: number }> {
    const body = JSON.stringify(notification);
    let last: PushGatewayError | undefined;
    for (let attempt = 1; attempt <= this.opts.maxAttempts; attempt++) {
      signal?.throwIfAborted();
      let retryAfterMs: number | undefined;
      try {
        const res = await this.attempt(notification.jobId, body, signal);
        if (res.ok) {
          await res.body?.cancel();
          return { status: res.status, attempts: attempt };
        }
        const text = (await res.text().catch(() => "")).slice(0, 200);
        const retryable = !PERMANENT_STATUSES.has(res.status);
        last = new PushGatewayError(`push gateway answered ${res.status}${text ? `: ${text}` : ""}`, retryable, res.status, attempt);
        retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
      } catch (err) {
        if (signal?.aborted) throw signal.reason ?? err;
        const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
        last = new PushGatewayError(
          timedOut
            ? `push gateway did not answer within ${this.opts.attemptTimeoutMs} ms`
            : `push gateway unreachable: ${err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : String(err)}`,
          true,
          undefined,
          attempt,
        );
      }
      if (!last.retryable || attempt === this.opts.maxAttempts) break;
      const backoff = Math.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
      await delay(Math.min(this.maxDelayMs, retryAfterMs ?? backoff), signal);
    }
    throw last ?? new PushGatewayError("push gateway: no attempt made", true);
  }

  private attempt(jobId: string, body: string, signal?: AbortSignal): Promise<Response> {
    const timestamp = Math.floor(Date.now() / 1000);
    const timeout = AbortSignal.timeout(this.opts.attemptTimeoutMs);
    return fetch(this.opts.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signBody(this.opts.secret, timestamp, body),
        "idempotency-key": jobId,
      },
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  }
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
