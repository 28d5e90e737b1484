/**
 * Jest globalSetup of the "services" project: finds the redis-server binary for the run (building it with
 * redis-memory-server when the machine has none) and starts the shared test PostgreSQL cluster once per run.
 * When either cannot be had, the run stops here with what to install, before any test opens a server.
 */
import { chooseRedis } from "../../scripts/local-servers";
import { ensurePostgres, newRunId } from "./postgres";

export default async function globalSetup(): Promise<void> {
  const say = (msg: string) => process.stdout.write(`${msg}\n`);
  if (!process.env.TEST_REDIS_BIN) {
    const redis = await chooseRedis("TEST_REDIS", process.env, say);
    // Inherited by the test processes jest starts after this.
    process.env.TEST_REDIS_BIN = redis.bin;
    say(`\nredis-server (${redis.source}, ${redis.reason}): ${redis.bin}`);
  }
  const url = await ensurePostgres();
  // Names this run's databases, so that globalTeardown drops them (each run gets its own: StrykerJS runs
  // jest many times in one process).
  process.env.TEST_PG_RUN = newRunId();
  say(`postgres ready at ${url}`);
}
