/**
 * Structured JSON logs (pino, the logger Fastify uses). Every line carries `level`, `time`, `service` and,
 * inside a request, `reqId` (Fastify) or a `correlationId` given to `child()`.
 *
 * `level` is written in capitals (`"level":"ERROR"`, `"WARN"`, `"INFO"`...): the operators' searches filter on
 * `ERROR` (docs/RUNBOOK.md), and CloudWatch Logs filter patterns match case-sensitively. The `level` option
 * still takes pino's lowercase names (`LOG_LEVEL=info`).
 */
import pino, { type Logger, type DestinationStream } from "pino";
import { randomUUID } from "node:crypto";

export type { Logger };

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level ?? "info",
      base: { service: opts.service },
      formatters: { level: (label) => ({ level: levelLabel(label) }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          "password",
          "*.password",
          "req.headers.authorization",
          "req.headers.cookie",
          "refreshToken",
          "*.refreshToken",
          "accessToken",
          "*.accessToken",
        ],
        censor: "[redacted]",
      },
    },
    opts.destination,
  );
}

/** The label written for a pino level name: `error` -> `ERROR`. */
export function levelLabel(pinoLevel: string): string {
  return pinoLevel.toUpperCase();
}

/** A correlation id: the caller's (when it looks sane) or a new one. */
export function correlationId(incoming?: unknown): string {
  if (typeof incoming === "string" && /^[A-Za-z0-9._:-]{1,128}$/.test(incoming)) return incoming;
  return randomUUID();
}
