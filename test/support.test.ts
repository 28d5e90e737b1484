import assert from "node:assert/strict";
import { Client } from "pg";
import Redis from "ioredis";
import { ReceiveMessageCommand, SendMessageCommand, CreateQueueCommand } from "@aws-sdk/client-sqs";
import { createTestDatabase } from "./support/postgres";
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
