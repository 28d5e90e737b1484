/**
 * Exactly-once effects on top of at-least-once delivery.
 *
 * `runOnce` opens a transaction and first inserts the job's `processed_jobs` row. The insert takes the row
 * lock, so a second delivery of the same job running at the same time waits on it; when the first commits the
 * second sees the conflict and skips, when the first rolls back (failure, timeout, shutdown) the second
 * proceeds. The effect runs inside the same transaction: database effects (offline digests) commit together
 * with the record; external effects (the push gateway call) happen before the commit, so a crash between the
 * call and the commit can repeat the call once - the gateway deduplicates on the Idempotency-Key header.
 * `runOnceStatement` is the same contract for an effect that is a single statement: record and effect in one
 * statement, one round trip.
 *
 * Round trips are what a job costs the database most (bench/results/workers.md): `runOnce` takes two, where it
 * took five (BEGIN, claim, effect, outcome, COMMIT), `runOnceStatement` one.
 */
import { escapeLiteral, type Pool, type PoolClient, type QueryResult } from "pg";

export type RunOnceResult = { status: "done"; outcome: string } | { status: "duplicate" };

export interface RunOnceJob {
  jobId: string;
  queue: string;
  /** Longest wait on a lock (a duplicate delivery still running); PostgreSQL ends the wait after it. */
  lockTimeoutMs: number;
  /** Longest single statement; PostgreSQL cancels it after this (a backstop should the client be gone). */
  statementTimeoutMs?: number;
  /**
   * The job's signal: when it aborts (job timeout, shutdown) the transaction's client is destroyed, not
   * returned to the pool, and its server process is terminated, so a hung statement and its row locks go
   * with it; `runOnce` then rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** `SET LOCAL` lines capping lock waits and (optionally) any statement for the current transaction. */
function timeoutSettings(job: RunOnceJob): string {
  const lock = `SET LOCAL lock_timeout = ${Math.max(1, Math.floor(job.lockTimeoutMs))}`;
  return job.statementTimeoutMs === undefined ? lock : `${lock}; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(job.statementTimeoutMs))}`;
}

/** What an effect may hand back: its outcome, and a statement to send with the outcome update and COMMIT. */
export interface EffectResult {
  outcome: string;
  /** One SQL statement with its values as escaped literals (`escapeLiteral`): it travels in the commit's round trip. */
  write?: string;
}

/**
 * A job with an external effect, in two round trips: (1) `BEGIN`, the timeouts and the claim of the
 * `processed_jobs` row, sent as one simple query; then the effect (which may also run statements of its own on
 * `tx`); (2) the effect's `write`, the outcome and `COMMIT`, again one simple query. Simple queries take no
 * parameters, so every value travels as an escaped literal; a multi-statement simple query stops at its first
 * error, and the open transaction is then rolled back.
 */
export async function runOnce(pool: Pool, job: RunOnceJob, effect: (tx: PoolClient) => Promise<string | EffectResult>): Promise<RunOnceResult> {
  return withJobClient(pool, job, async (tx) => {
    // Cap the wait on a running duplicate at what a job may take (the delivery is retried later instead), and
    // any statement at the backstop, then claim the job.
    const opened = (await tx.query(
      `BEGIN; ${timeoutSettings(job)}; INSERT INTO processed_jobs (job_id, queue, outcome) VALUES (${escapeLiteral(job.jobId)}, ${escapeLiteral(job.queue)}, 'pending') ON CONFLICT (job_id) DO NOTHING`,
    )) as unknown as QueryResult[];
    if (opened[opened.length - 1]!.rowCount === 0) {
      await tx.query("ROLLBACK");
      return { status: "duplicate" };
    }
    const done = await effect(tx);
    const { outcome, write } = typeof done === "string" ? { outcome: done, write: undefined } : done;
    await tx.query(
      `${write ? `${write}; ` : ""}UPDATE processed_jobs SET outcome = ${escapeLiteral(outcome)}, processed_at = now() WHERE job_id = ${escapeLiteral(job.jobId)}; COMMIT`,
    );
    return { status: "done", outcome };
  });
}

/**
 * A job whose whole effect is one database statement, in ONE round trip: the timeouts and `claim` travel in a
 * single simple query, which PostgreSQL runs as one transaction. `claim` is built by the caller from the
 * escaped job id (`jobIdLiteral`); it must insert the `processed_jobs` row with `ON CONFLICT (job_id) DO
 * NOTHING`, make its effect depend on that insert (a data-modifying CTE joined to it), and return one row
 * whose `outcome` column is NULL when the row already existed (a duplicate). The insert's row lock makes a
 * concurrent duplicate wait, as in `runOnce`.
 */
export async function runOnceStatement(pool: Pool, job: RunOnceJob, claim: (jobIdLiteral: string) => string): Promise<RunOnceResult> {
  return withJobClient(pool, job, async (tx) => {
    const results = (await tx.query(`${timeoutSettings(job)}; ${claim(escapeLiteral(job.jobId))}`)) as unknown as QueryResult[];
    const outcome = (results[results.length - 1]!.rows[0] as { outcome?: unknown } | undefined)?.outcome;
    return typeof outcome === "string" ? { status: "done", outcome } : { status: "duplicate" };
  });
}

/**
 * Runs `work` on a client of its own. When the job's signal aborts (job timeout, shutdown) the client is
 * destroyed, not returned to the pool, and its server process is terminated, so a hung statement and its row
 * locks go with it; the call then rejects with the signal's reason. On any other error an open transaction is
 * rolled back (a client that cannot even do that is destroyed).
 */
async function withJobClient<T>(pool: Pool, job: RunOnceJob, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  job.signal?.throwIfAborted();
  const tx = await pool.connect();
  let returned = false;
  const giveBack = (destroy: boolean | Error) => {
    if (returned) return;
    returned = true;
    tx.release(destroy);
  };
  const pid = (tx as unknown as { processID?: number }).processID;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    if (!job.signal) return;
    onAbort = () => {
      const reason = job.signal!.reason instanceof Error ? job.signal!.reason : new Error("job aborted");
      giveBack(reason);
      // Closing the socket does not stop a statement the server is running (it notices only when it next
      // writes): terminate the backend so its locks are freed now.
      if (pid) pool.query("SELECT pg_terminate_backend($1)", [pid]).catch(() => undefined);
      reject(reason);
    };
    if (job.signal.aborted) onAbort();
    else job.signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const running = work(tx);
  try {
    const result = await Promise.race([running, aborted]);
    giveBack(false);
    return result;
  } catch (err) {
    if (!returned) {
      let broken = false;
      try {
        // Outside a transaction (a failed single statement) this is a harmless warning.
        await tx.query("ROLLBACK");
      } catch {
        broken = true;
      }
      giveBack(broken);
    }
    running.catch(() => undefined);
    throw err;
  } finally {
    if (onAbort) job.signal?.removeEventListener("abort", onAbort);
  }
}
