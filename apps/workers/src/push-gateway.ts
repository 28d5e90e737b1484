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
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { PushJob } from "@chat/shared/src/jobs";

/** What the gateway receives: the push job without its envelope fields. */
export type PushNotification = Omit<PushJob, "type" | "version">;

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
  /** Source of the full jitter, a number in [0, 1). @default Math.random */
  random?: () => number;
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

interface GatewayAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

class AttemptTimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/**
 * Requests go through node:http(s) with a keep-alive agent of the client's own (connections are reused across
 * jobs and closed by `close()` when the workers stop).
 */
export class PushGatewayClient {
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly url: URL;
  private readonly agent: HttpAgent;

  constructor(private readonly opts: PushGatewayOptions) {
    this.baseDelayMs = opts.baseDelayMs ?? 200;
    this.maxDelayMs = opts.maxDelayMs ?? 5000;
    this.url = new URL(opts.url);
    const agentOpts = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64 };
    this.agent = this.url.protocol === "https:" ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
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
        if (res.status >= 200 && res.status < 300) return { status: res.status, attempts: attempt };
        const text = res.text.slice(0, 200);
        const retryable = !PERMANENT_STATUSES.has(res.status);
        last = new PushGatewayError(`push gateway answered ${res.status}${text ? `: ${text}` : ""}`, retryable, res.status, attempt);
        const retryAfter = res.headers["retry-after"];
        retryAfterMs = parseRetryAfter(typeof retryAfter === "string" ? retryAfter : null);
      } catch (err) {
        if (signal?.aborted) throw signal.reason ?? err;
        const timedOut = err instanceof AttemptTimeoutError;
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
      const backoff = (this.opts.random ?? Math.random)() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
      await delay(Math.min(this.maxDelayMs, retryAfterMs ?? backoff), signal);
    }
    throw last ?? new PushGatewayError("push gateway: no attempt made", true);
  }

  /** One POST; resolves with the answer (any status), rejects on network errors, timeout or abort. */
  private attempt(jobId: string, body: string, signal?: AbortSignal): Promise<GatewayAnswer> {
    const timestamp = Math.floor(Date.now() / 1000);
    const send = this.url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<GatewayAnswer>((resolve, reject) => {
      const req = send(this.url, {
        method: "POST",
        agent: this.agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signBody(this.opts.secret, timestamp, body),
          "idempotency-key": jobId,
        },
      });
      let failure: Error | undefined;
      const fail = (err: Error) => {
        failure ??= err;
        req.destroy(err);
      };
      const timer = setTimeout(() => fail(new AttemptTimeoutError(`no answer within ${this.opts.attemptTimeoutMs} ms`)), this.opts.attemptTimeoutMs);
      const onAbort = () => fail(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      req.once("error", (err) => {
        settle();
        reject(failure ?? err);
      });
      req.once("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          // Only the start of an error body is kept for the log line.
          if (size < 1024) chunks.push(c);
          size += c.length;
        });
        res.once("end", () => {
          settle();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") });
        });
        res.once("error", (err) => {
          settle();
          reject(failure ?? err);
        });
        res.once("close", () => {
          if (res.complete) return;
          settle();
          reject(failure ?? new Error("the connection closed before the answer was complete"));
        });
      });
      req.end(body);
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
