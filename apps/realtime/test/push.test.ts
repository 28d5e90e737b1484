/**
 * Presence and push jobs: connected members hold a `presence:<userId>` key; a message sent over the socket
 * enqueues one push job per offline member (never the sender, never an online member) on a real SQS-compatible
 * queue before it is acknowledged; a retried clientMsgId queues the same job id again (the workers run it
 * once), so a send whose jobs could not be queued is completed by the retry.
 */
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

beforeAll(async () => {
  f = await fixture();
  sqs = await startSqs();
  queueUrl = (await sqs.client.send(new CreateQueueCommand({ QueueName: "chat-test-push" }))).QueueUrl!;
  rt = await startRealtime({
    env: f.env(await freePort(), { PUSH_QUEUE_URL: queueUrl, SQS_ENDPOINT: sqs.endpoint, PRESENCE_MAX_ROOM_SIZE: "2" }),
    host: "127.0.0.1",
    writeMetric: () => undefined,
  });
});

afterAll(async () => {
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

test("online members get presence keys (no presence events past PRESENCE_MAX_ROOM_SIZE); only the offline member gets a push job, the same job id on a retry", async () => {
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
  assert.equal(retry.message!.id, ack.message!.id);

  // Queued before each ack: one job per send, both with the job id the workers deduplicate on.
  const jobs = (await receiveAll(1000)).map((body) => parseJob(body));
  assert.equal(jobs.length, 2, JSON.stringify(jobs));
  for (const job of jobs) {
    assert.ok(job.ok);
    assert.equal(job.job.type, "push");
    assert.equal(job.job.userId, offline);
    assert.equal(job.job.jobId, `push:${ack.message.id}:${offline}`);
  }

  // The room has 3 members, over PRESENCE_MAX_ROOM_SIZE=2: presence lives in the keys only, no events.
  assert.deepEqual(a.of("presence"), []);

  // The last connection of a user clears the presence key.
  b.close();
  for (let i = 0; i < 100 && (await f.kv.exists(presenceKey(online))); i++) await sleep(20);
  assert.equal(await f.kv.exists(presenceKey(online)), 0, "presence cleared on disconnect");
});

test("jobs that cannot be queued: the send is answered delivery_pending (the message is saved), and the retry queues them", async () => {
  // A second service whose push queue does not exist yet: SQS refuses the send.
  const name = "chat-test-push-late";
  const lateUrl = queueUrl.replace(/[^/]+$/, name);
  const late = await startRealtime({
    env: f.env(await freePort(), { PUSH_QUEUE_URL: lateUrl, SQS_ENDPOINT: sqs.endpoint, LOG_LEVEL: "fatal" }),
    host: "127.0.0.1",
    writeMetric: () => undefined,
  });
  try {
    const { userIds, roomId } = await f.seed(2);
    const a = await connected(`http://127.0.0.1:${late.port}`, await f.token(userIds[0]));
    open.push(a);
    const payload = { roomId, body: "please deliver", clientMsgId: "late-1" };
    const first = await send(a, payload);
    assert.equal(first.ok, false, JSON.stringify(first));
    assert.equal(first.error.code, "delivery_pending");
    assert.match(first.error.message, /retry with the same clientMsgId/);
    assert.equal((await a.next("message:new", (m) => m.id === first.message!.id)).body, "please deliver", "saved and broadcast");

    const created = await sqs.client.send(new CreateQueueCommand({ QueueName: name }));
    assert.equal(created.QueueUrl, lateUrl);
    const retry = await send(a, payload);
    assert.equal(retry.ok, true, JSON.stringify(retry));
    assert.equal(retry.message!.id, first.message!.id);
    const out = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: lateUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const jobs = (out.Messages ?? []).map((m) => parseJob(m.Body));
    assert.equal(jobs.length, 1, JSON.stringify(jobs));
    assert.ok(jobs[0].ok);
    assert.equal(jobs[0].job.jobId, `push:${first.message!.id}:${userIds[1]}`);
    assert.equal((await f.pool.query("SELECT count(*)::int AS n FROM messages WHERE client_msg_id = 'late-1'")).rows[0].n, 1);
  } finally {
    await late.stop(500);
  }
});
