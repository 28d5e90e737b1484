/**
 * Exactly-once effects on top of at-least-once delivery.
 *
 * `runOnce` opens a transaction and first inserts the job's `processed_jobs` row. The insert takes the row
 * lock, so a second delivery of the same job running at the same time waits on it; when the first commits the
 * second sees the conflict and skips, when the first rolls back (failure, timeout, shutdown) the second
 * proceeds. The effect runs inside the same transaction: database effects (offline digests) commit together
 * with the record; external effects (the push gateway call) happen before the commit, so a crash between the
 * call and the commit can repeat the call once - the gateway deduplicates on the Idempotency-Key header.
 */
import type { Pool, PoolClient } from "pg";

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

export async function runOnce(pool: Pool, job: RunOnceJob, effect: (tx: PoolClient) => Promise<string>): Promise<RunOnceResult> {
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
  const work = (async (): Promise<RunOnceResult> => {
    // One round trip: open the transaction and cap the wait on a running duplicate at what a job may take (the
    // delivery is retried later instead), and any statement at the backstop.
    const statementTimeout = job.statementTimeoutMs === undefined ? "" : `; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(job.statementTimeoutMs))}`;
    await tx.query(`BEGIN; SET LOCAL lock_timeout = ${Math.max(1, Math.floor(job.lockTimeoutMs))}${statementTimeout}`);
    const claimed = await tx.query(
      "INSERT INTO processed_jobs (job_id, queue, outcome) VALUES ($1, $2, 'pending') ON CONFLICT (job_id) DO NOTHING",
      [job.jobId, job.queue],
    );
    if (claimed.rowCount === 0) {
      await tx.query("ROLLBACK");
      return { status: "duplicate" };
    }
    const outcome = await effect(tx);
    await tx.query("UPDATE processed_jobs SET outcome = $2, processed_at = now() WHERE job_id = $1", [job.jobId, outcome]);
    await tx.query("COMMIT");
    return { status: "done", outcome };
  })();
  try {
    const result = await Promise.race([work, aborted]);
    giveBack(false);
    return result;
  } catch (err) {
    if (!returned) {
      let broken = false;
      try {
        await tx.query("ROLLBACK");
      } catch {
        broken = true;
      }
      giveBack(broken);
    }
    work.catch(() => undefined);
    throw err;
  } finally {
    if (onAbort) job.signal?.removeEventListener("abort", onAbort);
  }
}
