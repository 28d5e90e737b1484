import assert from "node:assert/strict";
import { Client } from "pg";
import Redis from "ioredis";
import { ReceiveMessageCommand, SendMessageCommand, CreateQueueCommand } from "@aws-sdk/client-sqs";
import { createMigratedTestDatabase, createTestDatabase, dropTestDatabases, ensurePostgres, newRunId, STALE_RUN_MS } from "./support/postgres";
import { loadMigrations } from "../apps/shared/src/migrate";
import { startRedis } from "./support/redis";
import { startSqs } from "./support/sqs";

test("test support starts a real PostgreSQL, Redis and SQS-compatible server", async () => {
  const url = await createTestDatabase("support");
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const { rows } = await pg.query<{ v: string }>("select current_setting('server_version_num') as v");
  await pg.end();
  assert.ok(Number(rows[0].v) >= 150000, `expected PostgreSQL 15+, got ${rows[0].v}`);

  const redis = await startRedis();
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  await client.set("k", "v");
  assert.equal(await client.get("k"), "v");
  await redis.restart(100);
  assert.equal(await client.get("k"), null, "a restarted test Redis starts empty");
  client.disconnect();
  await redis.stop();

  const sqs = await startSqs();
  const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: "support-check" }));
  await sqs.client.send(new SendMessageCommand({ QueueUrl, MessageBody: "hello" }));
  const got = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));
  assert.equal(got.Messages?.[0]?.Body, "hello");
  await sqs.stop();
});

/** Runs `fn` as if in the jest run `run` (the run id names the databases created). */
async function inRun<T>(run: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.TEST_PG_RUN;
  process.env.TEST_PG_RUN = run;
  try {
    return await fn();
  } finally {
    process.env.TEST_PG_RUN = saved;
  }
}

const nameOf = (url: string) => new URL(url).pathname.slice(1);

async function exists(name: string): Promise<boolean> {
  const admin = new Client({ connectionString: await ensurePostgres() });
  await admin.connect();
  try {
    return (await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1;
  } finally {
    await admin.end();
  }
}

test("a run's databases are dropped at its end, even with a connection left open; a stale run's too; a live run's are kept", async () => {
  const [ours, live, stale] = [newRunId(), newRunId(), newRunId(Date.now() - STALE_RUN_MS - 60_000)];
  const mine = await inRun(ours, () => createTestDatabase("support_drop"));
  const theirs = await inRun(live, () => createMigratedTestDatabase("support_drop"));
  const forgotten = await inRun(stale, () => createTestDatabase("support_drop"));
  const leak = new Client({ connectionString: mine });
  leak.on("error", () => undefined);
  await leak.connect();
  try {
    const dropped = await dropTestDatabases(ours);
    expect(dropped).toEqual(expect.arrayContaining([nameOf(mine), nameOf(forgotten)]));
    expect(dropped).not.toContain(nameOf(theirs));
    expect([await exists(nameOf(mine)), await exists(nameOf(forgotten)), await exists(nameOf(theirs))]).toEqual([false, false, true]);
  } finally {
    await leak.end().catch(() => undefined);
    await dropTestDatabases(live);
  }
  expect(await exists(nameOf(theirs))).toBe(false);
});

test("a migrated test database has every migration applied, as migrate() leaves it", async () => {
  const url = await createMigratedTestDatabase("support_migrated");
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const { rows } = await pg.query<{ version: number; checksum: string }>("SELECT version, checksum FROM schema_migrations ORDER BY version");
    expect(rows).toEqual(loadMigrations().map((m) => ({ version: m.version, checksum: m.checksum })));
    expect((await pg.query("SELECT count(*)::int AS n FROM users")).rows[0].n).toBe(0);
  } finally {
    await pg.end();
  }
});
