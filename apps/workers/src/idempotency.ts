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

export async function runOnce(
  pool: Pool,
  job: { jobId: string; queue: string; lockTimeoutMs: number },
  effect: (tx: PoolClient) => Promise<string>,
): Promise<RunOnceResult> {
  const tx = await pool.connect();
  let broken = false;
  try {
    // One round trip: open the transaction and cap the wait on a running duplicate at what a job may take (the
    // delivery is retried later instead).
    await tx.query(`BEGIN; SET LOCAL lock_timeout = ${Math.max(1, Math.floor(job.lockTimeoutMs))}`);
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
  } catch (err) {
    try {
      await tx.query("ROLLBACK");
    } catch {
      broken = true;
    }
    throw err;
  } finally {
    tx.release(broken);
  }
}
