import assert from "node:assert/strict";
import { CreateQueueCommand, ReceiveMessageCommand, DeleteMessageBatchCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { startSqs } from "../../../test/support/sqs";
import { parseJob, pushJob, offlineJob, JobProducer, PREVIEW_MAX, type Job } from "../src/jobs";

const MSG = { id: "42", roomId: "6f1c2f7e-8d43-4a8b-9d8e-0a4f5b6c7d8e", body: "hello", createdAt: "2026-01-01T00:00:00.000Z" };
const USER = "0b7a6c5d-4e3f-4a2b-8c1d-9e8f7a6b5c4d";

test("builders produce the contract shapes and the parser accepts them", () => {
  const p = pushJob(MSG, USER);
  assert.deepEqual(p, { type: "push", version: 1, jobId: `push:42:${USER}`, userId: USER, roomId: MSG.roomId, messageId: "42", preview: "hello", createdAt: MSG.createdAt });
  assert.deepEqual(parseJob(JSON.stringify(p)), { ok: true, job: p });
  const o = offlineJob(MSG, USER);
  assert.equal(o.jobId, `offline:42:${USER}`);
  assert.deepEqual(parseJob(JSON.stringify(o)), { ok: true, job: o });
  const long = pushJob({ ...MSG, body: "x".repeat(500) }, USER);
  assert.equal(long.preview.length, PREVIEW_MAX);
  assert.equal(parseJob(JSON.stringify(long)).ok, true);
  // The optional correlation id (the api request id) survives the round trip; without it the field is absent.
  const traced = pushJob(MSG, USER, "req-7f3a");
  assert.equal(traced.correlationId, "req-7f3a");
  assert.deepEqual(parseJob(JSON.stringify(traced)), { ok: true, job: traced });
  assert.deepEqual(parseJob(JSON.stringify(offlineJob(MSG, USER, "req-7f3a"))), { ok: true, job: offlineJob(MSG, USER, "req-7f3a") });
  assert.equal("correlationId" in p, false);
});

test("the parser names what is wrong with a poison message", () => {
  const good = pushJob(MSG, USER) as unknown as Record<string, unknown>;
  const cases: [string | undefined, RegExp][] = [
    [undefined, /empty message body/],
    ["{", /not JSON/],
    ["[1]", /JSON object/],
    [JSON.stringify({ ...good, type: "email" }), /type must be "push" or "offline"/],
    [JSON.stringify({ ...good, version: 2 }), /version must be 1/],
    [JSON.stringify({ ...good, userId: 7 }), /userId must be an id string/],
    [JSON.stringify({ ...good, roomId: "a b" }), /roomId must be an id string/],
    [JSON.stringify({ ...good, messageId: "0" }), /messageId must be a positive integer/],
    [JSON.stringify({ ...good, createdAt: "yesterday" }), /createdAt must be an ISO-8601/],
    [JSON.stringify({ ...good, jobId: "push:1:x" }), /jobId must be "push:42:/],
    [JSON.stringify({ ...good, preview: "x".repeat(PREVIEW_MAX + 1) }), /preview must be a string of at most/],
    [JSON.stringify({ ...good, correlationId: "has spaces" }), /^correlationId, when present, must be 1 to 128 characters of letters, digits, \. _ : -$/],
    [JSON.stringify({ ...good, correlationId: 5 }), /^correlationId, when present, must be/],
  ];
  for (const [body, re] of cases) {
    const r = parseJob(body);
    assert.equal(r.ok, false, String(body));
    if (!r.ok) assert.match(r.error, re);
  }
});

test("the producer sends in batches of 10 and every job arrives once on a real SQS endpoint", async () => {
  const sqs = await startSqs();
  try {
    const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: "chat-test-push" }));
    const jobs: Job[] = Array.from({ length: 23 }, (_, i) => pushJob({ ...MSG, id: String(i + 1) }, USER));
    const sent: number[] = [];
    const original = sqs.client.send.bind(sqs.client);
    const counting = { send: (cmd: { input: { Entries?: unknown[] } }) => { sent.push(cmd.input.Entries?.length ?? 0); return original(cmd as never); } };
    await new JobProducer(counting as never).send(QueueUrl!, jobs);
    assert.deepEqual(sent, [10, 10, 3]);
    const got = new Set<string>();
    for (let i = 0; i < 10 && got.size < 23; i++) {
      const r = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
      for (const m of r.Messages ?? []) {
        const parsed = parseJob(m.Body);
        assert.equal(parsed.ok, true);
        if (parsed.ok) got.add(parsed.job.jobId);
      }
      if (r.Messages?.length) {
        await sqs.client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: r.Messages.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle })) }));
      }
    }
    assert.equal(got.size, 23);
  } finally {
    await sqs.stop();
  }
});

test("the producer retries exactly the entries SQS reports as failed, so every job arrives once; sender faults are not retried", async () => {
  const sqs = await startSqs();
  try {
    const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: "chat-test-partial" }));
    const jobs: Job[] = Array.from({ length: 12 }, (_, i) => pushJob({ ...MSG, id: String(i + 1) }, USER));
    const calls: string[][] = [];
    // An odd-numbered entry fails the first time it is offered (a transient server-side failure, as SQS
    // reports under throttling) and is stored when offered again.
    const offered = new Set<string>();
    const flaky = {
      send: async (cmd: { input: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] } }) => {
        const entries = cmd.input.Entries;
        calls.push(entries.map((e) => e.Id));
        const dropped = entries.filter((e) => Number(e.Id) % 2 === 1 && !offered.has(e.MessageBody));
        for (const e of entries) offered.add(e.MessageBody);
        const keep = entries.filter((e) => !dropped.includes(e));
        const out = await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: cmd.input.QueueUrl, Entries: keep }));
        return {
          Successful: out.Successful,
          Failed: dropped.map((e) => ({ Id: e.Id, Code: "InternalError", Message: "try again", SenderFault: false })),
        };
      },
    };
    await new JobProducer(flaky as never).send(QueueUrl!, jobs);
    expect(calls).toEqual([
      ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
      ["1", "3", "5", "7", "9"],
      ["0", "1"],
      ["1"],
    ]);
    const got: string[] = [];
    for (let i = 0; i < 10 && got.length < 12; i++) {
      const r = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
      for (const m of r.Messages ?? []) {
        const parsed = parseJob(m.Body);
        if (parsed.ok) got.push(parsed.job.jobId);
      }
    }
    expect(got.sort()).toEqual(jobs.map((j) => j.jobId).sort());

    // A sender fault (a malformed entry) cannot succeed on retry: refused at once, naming the count and code.
    const senderFault = {
      send: async (cmd: { input: { Entries: { Id: string }[] } }) => {
        calls.push(cmd.input.Entries.map((e) => e.Id));
        return { Failed: [{ Id: "0", Code: "InvalidMessageContents", Message: "bad", SenderFault: true }] };
      },
    };
    calls.length = 0;
    await expect(new JobProducer(senderFault as never).send(QueueUrl!, jobs.slice(0, 1))).rejects.toThrow(/could not enqueue 1 job\(s\) .*InvalidMessageContents/);
    expect(calls).toHaveLength(1);
  } finally {
    await sqs.stop();
  }
});
