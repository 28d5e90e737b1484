/**
 * The idempotency record against real PostgreSQL: `runOnce` (claim, effect, write + outcome + COMMIT in two
 * round trips) and `runOnceStatement` (claim and effect in one statement).
 */
import { Pool } from "pg";
import { migrate } from "@chat/shared/src/migrate";
import { createTestDatabase } from "../../../test/support/postgres";
import { runOnce, runOnceStatement } from "../src/idempotency";

let pool: Pool;

beforeAll(async () => {
  pool = new Pool({ connectionString: await createTestDatabase("workers_idem"), max: 4 });
  await migrate(pool);
  await pool.query("CREATE TABLE effects (job_id text PRIMARY KEY, note text NOT NULL)");
});

afterAll(() => pool.end());

const job = (jobId: string) => ({ jobId, queue: "test", lockTimeoutMs: 5000, statementTimeoutMs: 5000 });

/** A one-statement job in the shape the offline handler uses: the effect joins the claim. */
const claimAndWrite = (note: string) => (jobId: string) =>
  `WITH claim AS (
     INSERT INTO processed_jobs (job_id, queue, outcome) VALUES (${jobId}, 'test', 'written') ON CONFLICT (job_id) DO NOTHING RETURNING outcome
   ), effect AS (
     INSERT INTO effects (job_id, note) SELECT ${jobId}, '${note}' FROM claim
   )
   SELECT (SELECT outcome FROM claim) AS outcome`;

test("runOnceStatement: the first delivery is done, a second one of the same job is a duplicate and writes nothing", async () => {
  await expect(runOnceStatement(pool, job("stmt:1"), claimAndWrite("first"))).resolves.toEqual({ status: "done", outcome: "written" });
  await expect(runOnceStatement(pool, job("stmt:1"), claimAndWrite("second"))).resolves.toEqual({ status: "duplicate" });
  const { rows } = await pool.query("SELECT note FROM effects WHERE job_id = 'stmt:1'");
  expect(rows).toEqual([{ note: "first" }]);
});

test("runOnceStatement: a job id with quotes and backslashes is stored as given (escaped, not spliced)", async () => {
  const jobId = String.raw`stmt:'; DROP TABLE effects; --\x`;
  await expect(runOnceStatement(pool, job(jobId), claimAndWrite("odd"))).resolves.toEqual({ status: "done", outcome: "written" });
  const { rows } = await pool.query("SELECT job_id FROM processed_jobs WHERE job_id = $1", [jobId]);
  expect(rows).toEqual([{ job_id: jobId }]);
});

test("runOnce: the effect's write lands with the outcome; a duplicate never runs the effect", async () => {
  let calls = 0;
  const effect = async () => {
    calls++;
    return { outcome: "sent", write: "INSERT INTO effects (job_id, note) VALUES ('once:1', 'it''s written')" };
  };
  await expect(runOnce(pool, job("once:1"), effect)).resolves.toEqual({ status: "done", outcome: "sent" });
  await expect(runOnce(pool, job("once:1"), effect)).resolves.toEqual({ status: "duplicate" });
  expect(calls).toBe(1);
  const rows = await pool.query("SELECT p.outcome, e.note FROM processed_jobs p JOIN effects e USING (job_id) WHERE job_id = 'once:1'");
  expect(rows.rows).toEqual([{ outcome: "sent", note: "it's written" }]);
});

test("runOnce: a write that fails rolls the claim back, so the next delivery runs the job", async () => {
  await expect(runOnce(pool, job("once:2"), async () => ({ outcome: "sent", write: "SELECT 1 / 0" }))).rejects.toThrow(/division by zero/);
  expect((await pool.query("SELECT 1 FROM processed_jobs WHERE job_id = 'once:2'")).rowCount).toBe(0);
  await expect(runOnce(pool, job("once:2"), async () => "sent")).resolves.toEqual({ status: "done", outcome: "sent" });
});
