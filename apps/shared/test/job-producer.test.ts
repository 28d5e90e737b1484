// JobProducer against a scripted SQS client (what SendMessageBatch answers is chosen per call): batches of at
// most 10 and never an empty one, entries SQS reports as failed are retried alone with a growing backoff,
// sender faults and the last attempt fail with a message naming the count, the code and the queue. Also the
// parser's answers for bodies that are not job objects, and the local-endpoint SQS client.
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { JobProducer, createSqsClient, offlineJob, parseJob, pushJob, PREVIEW_MAX, type Job } from "../src/jobs";

type Entry = { Id: string; MessageBody: string };
type Answer = { Failed?: { Id: string; SenderFault: boolean; Code?: string; Message?: string }[] };

/** Records each batch; `answers` decides the reply to the n-th call (default: all sent). */
function scripted(answers: ((entries: Entry[]) => Answer)[] = []) {
  const batches: Entry[][] = [];
  const client = {
    async send(command: SendMessageBatchCommand) {
      expect(command).toBeInstanceOf(SendMessageBatchCommand);
      expect(command.input.QueueUrl).toBe("http://sqs.local/q");
      const entries = command.input.Entries as Entry[];
      batches.push(entries);
      return (answers[batches.length - 1] ?? (() => ({})))(entries);
    },
  } as unknown as SQSClient;
  return { client, batches };
}

const MSG = { id: "42", roomId: "room-1", body: "hello", createdAt: "2026-01-01T00:00:00.000Z" };
const jobs = (n: number): Job[] => Array.from({ length: n }, (_, i) => offlineJob(MSG, `user-${i}`));
const ids = (batch: Entry[]) => batch.map((e) => JSON.parse(e.MessageBody).userId);

afterEach(() => {
  jest.useRealTimers();
});

test("batches of 10 with ids 0..9, the last one partial, never an empty batch", async () => {
  for (const [n, sizes] of [[0, []], [1, [1]], [10, [10]], [11, [10, 1]], [25, [10, 10, 5]]] as const) {
    const { client, batches } = scripted();
    await new JobProducer(client).send("http://sqs.local/q", jobs(n));
    expect([n, batches.map((b) => b.length)]).toEqual([n, sizes]);
    for (const b of batches) expect(b.map((e) => e.Id)).toEqual(b.map((_, i) => String(i)));
    expect(batches.flat().map((e) => JSON.parse(e.MessageBody))).toEqual(jobs(n));
  }
});

test("entries SQS reports as failed (not sender faults) are retried alone, after 50 ms, then 100 ms", async () => {
  jest.useFakeTimers();
  const { client, batches } = scripted([
    () => ({ Failed: [{ Id: "1", SenderFault: false, Code: "InternalError" }, { Id: "3", SenderFault: false }] }),
    () => ({ Failed: [{ Id: "3", SenderFault: false }] }),
  ]);
  const sending = new JobProducer(client).send("http://sqs.local/q", jobs(4));
  let settled = false;
  void sending.then(() => (settled = true));
  await jest.advanceTimersByTimeAsync(0);
  expect(batches.length).toBe(1);
  await jest.advanceTimersByTimeAsync(49);
  expect(batches.length).toBe(1); // the first backoff is 50 ms
  await jest.advanceTimersByTimeAsync(1);
  expect(batches.length).toBe(2);
  expect(batches[1].map((e) => e.Id)).toEqual(["1", "3"]);
  expect(ids(batches[1])).toEqual(["user-1", "user-3"]);
  await jest.advanceTimersByTimeAsync(99);
  expect(batches.length).toBe(2); // the second is 100 ms
  await jest.advanceTimersByTimeAsync(1);
  expect(batches.length).toBe(3);
  expect(batches[2].map((e) => e.Id)).toEqual(["3"]);
  await sending;
  expect(settled).toBe(true);
});

test("after the last attempt the send fails naming the count, the code, the message and the queue", async () => {
  jest.useFakeTimers();
  const fail = () => ({ Failed: [{ Id: "0", SenderFault: false, Code: "ServiceUnavailable", Message: "try later" }, { Id: "1", SenderFault: false }] });
  const { client, batches } = scripted([fail, fail, fail, fail]);
  const sending = new JobProducer(client).send("http://sqs.local/q", jobs(2)).then(() => undefined, (e: Error) => e);
  await jest.advanceTimersByTimeAsync(1000);
  const err = await sending;
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toBe("could not enqueue 2 job(s) on http://sqs.local/q: ServiceUnavailable try later");
  expect(batches.length).toBe(3); // the default: 3 attempts
  const two = scripted([fail, fail, fail]);
  const withTwo = new JobProducer(two.client, 2).send("http://sqs.local/q", jobs(2)).then(() => undefined, (e: Error) => e);
  await jest.advanceTimersByTimeAsync(1000);
  expect(await withTwo).toBeInstanceOf(Error);
  expect(two.batches.length).toBe(2);
});

test("a sender fault is not retried, and a failure without code or message still says what happened", async () => {
  const { client, batches } = scripted([() => ({ Failed: [{ Id: "0", SenderFault: true }] })]);
  const err = await new JobProducer(client).send("http://sqs.local/q", jobs(3)).then(() => undefined, (e: Error) => e);
  expect((err as Error).message).toBe("could not enqueue 1 job(s) on http://sqs.local/q: error");
  expect(batches.length).toBe(1);
  const mixed = scripted([() => ({ Failed: [{ Id: "0", SenderFault: false }, { Id: "1", SenderFault: true, Code: "InvalidParameterValue" }] })]);
  const e2 = await new JobProducer(mixed.client).send("http://sqs.local/q", jobs(2)).then(() => undefined, (e: Error) => e);
  expect((e2 as Error).message).toBe("could not enqueue 2 job(s) on http://sqs.local/q: error");
  expect(mixed.batches.length).toBe(1);
});

test("the parser answers bodies that are not job objects without throwing", () => {
  const good = pushJob(MSG, "user-1") as unknown as Record<string, unknown>;
  const cases: [string | undefined, string][] = [
    ["", "empty message body"],
    [undefined, "empty message body"],
    ["5", "body must be a JSON object"],
    ["null", "body must be a JSON object"],
    ['"push"', "body must be a JSON object"],
    ["[]", "body must be a JSON object"],
    [JSON.stringify({ ...good, preview: undefined }), `preview must be a string of at most ${PREVIEW_MAX} characters`],
    [JSON.stringify({ ...good, preview: 5 }), `preview must be a string of at most ${PREVIEW_MAX} characters`],
    [JSON.stringify({ ...good, messageId: "x42" }), "messageId must be a positive integer string"],
    [JSON.stringify({ ...good, messageId: "42x" }), "messageId must be a positive integer string"],
    [JSON.stringify({ ...good, createdAt: undefined }), "createdAt must be an ISO-8601 timestamp"],
  ];
  for (const [body, error] of cases) expect([body, parseJob(body)]).toEqual([body, { ok: false, error }]);
  const exact = pushJob({ ...MSG, body: "y".repeat(PREVIEW_MAX) }, "user-1");
  expect(exact.preview).toBe("y".repeat(PREVIEW_MAX)); // exactly the limit: not cut
  const cut = pushJob({ ...MSG, body: "y".repeat(PREVIEW_MAX + 1) }, "user-1");
  expect(cut.preview).toBe(`${"y".repeat(PREVIEW_MAX - 1)}…`);
});

test("createSqsClient: a local endpoint gets placeholder credentials; AWS uses the default chain", async () => {
  const local = createSqsClient({ region: "us-east-1", endpoint: "http://127.0.0.1:9324" });
  expect(await local.config.region()).toBe("us-east-1");
  const endpoint = await local.config.endpoint!();
  expect([endpoint.protocol, endpoint.hostname, endpoint.port]).toEqual(["http:", "127.0.0.1", 9324]);
  expect(await local.config.credentials()).toMatchObject({ accessKeyId: "local", secretAccessKey: "local" });
  const aws = createSqsClient({ region: "eu-west-1" });
  expect(await aws.config.region()).toBe("eu-west-1");
  expect(aws.config.endpoint).toBeUndefined();
});
