/**
 * Presence and push jobs: connected members hold a `presence:<userId>` key; a message sent over the socket
 * enqueues one push job per offline member (never the sender, never an online member, never twice for a
 * retried clientMsgId) on a real SQS-compatible queue.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CreateQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { presenceKey, parseJob } from "@chat/shared";
import { startRealtime, type RunningRealtime } from "../src/app";
import { fixture, connected, send, sleep, type Fixture, type Client } from "./helpers";
import { freePort } from "../../../test/support/redis";
import { startSqs, type TestSqs } from "../../../test/support/sqs";

let f: Fixture;
let sqs: TestSqs;
let rt: RunningRealtime;
let queueUrl: string;
const open: Client[] = [];

before(async () => {
  f = await fixture();
  sqs = await startSqs();
  queueUrl = (await sqs.client.send(new CreateQueueCommand({ QueueName: "chat-test-push" }))).QueueUrl!;
  rt = await startRealtime({
    env: f.env(await freePort(), { PUSH_QUEUE_URL: queueUrl, SQS_ENDPOINT: sqs.endpoint, PRESENCE_MAX_ROOM_SIZE: "2" }),
    host: "127.0.0.1",
    writeMetric: () => undefined,
  });
});

after(async () => {
  for (const c of open) c.close();
  await rt?.stop(1000);
  await sqs?.stop();
  await f?.close();
});

async function receiveAll(waitMs: number): Promise<string[]> {
  const bodies: string[] = [];
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const out = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    for (const m of out.Messages ?? []) bodies.push(m.Body!);
    await sleep(100);
  }
  return bodies;
}

test("online members get presence keys (no presence events past PRESENCE_MAX_ROOM_SIZE); only the offline member gets a push job, once", async () => {
  const { userIds, roomId } = await f.seed(3);
  const [sender, online, offline] = userIds;
  const a = await connected(`http://127.0.0.1:${rt.port}`, await f.token(sender));
  const b = await connected(`http://127.0.0.1:${rt.port}`, await f.token(online));
  open.push(a, b);
  for (let i = 0; i < 50 && !(await f.kv.exists(presenceKey(online))); i++) await sleep(20);
  assert.equal(await f.kv.exists(presenceKey(online)), 1, "presence key of a connected user");
  assert.equal(await f.kv.exists(presenceKey(offline)), 0);

  const ack = await send(a, { roomId, body: "are you there?", clientMsgId: "push-1" });
  assert.equal(ack.ok, true);
  const retry = await send(a, { roomId, body: "are you there?", clientMsgId: "push-1" });
  assert.equal(retry.message.id, ack.message.id);

  const jobs = (await receiveAll(1500)).map((body) => parseJob(body));
  assert.equal(jobs.length, 1, JSON.stringify(jobs));
  const job = jobs[0];
  assert.ok(job.ok);
  assert.equal(job.job.type, "push");
  assert.equal(job.job.userId, offline);
  assert.equal(job.job.jobId, `push:${ack.message.id}:${offline}`);

  // The room has 3 members, over PRESENCE_MAX_ROOM_SIZE=2: presence lives in the keys only, no events.
  assert.deepEqual(a.of("presence"), []);

  // The last connection of a user clears the presence key.
  b.close();
  for (let i = 0; i < 100 && (await f.kv.exists(presenceKey(online))); i++) await sleep(20);
  assert.equal(await f.kv.exists(presenceKey(online)), 0, "presence cleared on disconnect");
});
