/**
 * Health, readiness and graceful shutdown.
 *
 * Liveness (`/health`) answers without touching dependencies. Readiness runs named checks with a timeout
 * each and reports every result, so an operator sees which dependency is down.
 *
 * Shutdown on SIGTERM/SIGINT: run the steps in order (stop accepting, drain, close pools), each awaited,
 * and exit 0; if the whole sequence passes `timeoutMs`, exit 1 anyway so ECS never has to SIGKILL us
 * mid-write. A second signal exits at once.
 */
import type { Pool } from "pg";
import type { Redis } from "ioredis";
import { schemaStatus, type Migration } from "./migrate";

export type Check = () => Promise<void>;

export interface Readiness {
  ok: boolean;
  checks: Record<string, "ok" | string>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function runChecks(checks: Record<string, Check>, timeoutMs = 2000): Promise<Readiness> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(names.map((n) => withTimeout(checks[n](), timeoutMs, n)));
  const out: Record<string, string> = {};
  results.forEach((r, i) => {
    out[names[i]] = r.status === "fulfilled" ? "ok" : (r.reason as Error).message;
  });
  return { ok: results.every((r) => r.status === "fulfilled"), checks: out };
}

export const checkPostgres = (pool: Pool): Check => async () => {
  await pool.query("SELECT 1");
};

export const checkRedis = (redis: Redis): Check => async () => {
  if (redis.status !== "ready") throw new Error(`redis connection is ${redis.status}`);
  await redis.ping();
};

export const checkSchema = (pool: Pool, migrations: Migration[]): Check => async () => {
  const s = await schemaStatus(pool, migrations);
  if (!s.current) throw new Error(`schema is behind: pending migrations ${s.pending.join(", ")}; run the migrate command`);
};

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown> | unknown;
}

export interface ShutdownOptions {
  steps: ShutdownStep[];
  /** Deadline for all steps. @default 20000 */
  timeoutMs?: number;
  log?: { info(o: object, msg: string): void; error(o: object, msg: string): void };
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}

/** Installs the signal handlers; returns `shutdown(reason)` for callers that want to stop programmatically. */
export function gracefulShutdown(opts: ShutdownOptions): { shutdown(reason: string): Promise<number>; dispose(): void } {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const signals = opts.signals ?? ["SIGTERM", "SIGINT"];
  let running: Promise<number> | undefined;

  const shutdown = (reason: string): Promise<number> => {
    if (running) return running;
    running = (async () => {
      const started = Date.now();
      opts.log?.info({ reason }, "shutting down");
      const steps = (async () => {
        for (const step of opts.steps) {
          try {
            await step.run();
          } catch (err) {
            opts.log?.error({ step: step.name, err: (err as Error).message }, "shutdown step failed");
          }
        }
      })();
      let code = 0;
      try {
        await withTimeout(steps, opts.timeoutMs ?? 20_000, "shutdown");
      } catch (err) {
        opts.log?.error({ err: (err as Error).message }, "shutdown deadline passed; exiting");
        code = 1;
      }
      opts.log?.info({ ms: Date.now() - started, code }, "shutdown complete");
      exit(code);
      return code;
    })();
    return running;
  };

  const handler = (signal: NodeJS.Signals) => {
    if (running) {
      exit(1);
      return;
    }
    void shutdown(signal);
  };
  for (const s of signals) process.on(s, handler);
  return {
    shutdown,
    dispose: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}
