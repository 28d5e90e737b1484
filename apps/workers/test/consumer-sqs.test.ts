/**
 * The consumer engine against a real SQS-compatible server (local-aws-sqs): a success is deleted, poison goes
 * to the DLQ through the queue's redrive policy, and a stop hands a running job's message back at once.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { startSqs, type TestSqs } from "../../../test/support/sqs";
import { PoisonMessageError, SqsConsumer, type ConsumerOptions, type JobResult } from "../src/consumer";
import { createQueuePair, drain, queueDepth, sendBodies, waitFor } from "./helpers";

let sqs: TestSqs;
beforeAll(async () => {
  sqs = await startSqs();
});
afterAll(() => sqs.stop());

/** `p`, or a failure after `ms`: a stop that never ends fails the test instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function consumer(queueUrl: string, handler: ConsumerOptions["handler"], concurrency = 4) {
  const results: JobResult[] = [];
  const c = new SqsConsumer({
    client: sqs.client,
    queueUrl,
    name: "real",
    handler,
    concurrency,
    // No long poll: local-aws-sqs holds a receive for the whole wait even when messages are there.
    waitTimeSeconds: 0,
    visibilityTimeoutSeconds: 30,
    jobTimeoutMs: 5000,
    onResult: (r) => results.push(r),
  });
  return { c, results };
}

test("a success is deleted and poison reaches the DLQ", async () => {
  // maxReceiveCount 1: a released poison message moves to the DLQ on its next receive.
  const { url, dlqUrl } = await createQueuePair(sqs.client, `engine-${randomUUID().slice(0, 8)}`, 1, 30);
  await sendBodies(sqs.client, url, ["ok", "poison"]);
  const { c, results } = consumer(url, async (m) => {
    if (m.Body === "poison") throw new PoisonMessageError("not JSON");
  });
  c.start();
  try {
    await waitFor("both results", () => results.length === 2);
    assert.deepEqual(results.map((r) => r.outcome).sort(), ["poison", "processed"]);
    const dlq = await waitFor("the poison message in the DLQ", async () => {
      const bodies = await drain(sqs.client, dlqUrl);
      return bodies.length ? bodies : undefined;
    });
    assert.deepEqual(dlq, ["poison"]);
    await waitFor("the queue to be empty", async () => {
      const d = await queueDepth(sqs.client, url);
      return d.visible === 0 && d.inFlight === 0;
    });
  } finally {
    await within(c.stop(2000), 5000, "stop");

  }
});

test("a stop whose grace period ends hands the running job's message back at once", async () => {
  // concurrency 1: with the only slot busy no receive is under way, so none can pick the message up again.
  const { url } = await createQueuePair(sqs.client, `engine-stop-${randomUUID().slice(0, 8)}`, 0, 30);
  await sendBodies(sqs.client, url, ["slow"]);
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const { c, results } = consumer(url, (_m, ctx) => {
    started();
    return new Promise((_r, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
  }, 1);
  c.start();
  await within(running, 5000, "the job");
  await within(c.stop(200), 3000, "stop");
  assert.deepEqual(results.map((r) => r.outcome), ["released"]);
  const d = await queueDepth(sqs.client, url);
  assert.deepEqual(d, { visible: 1, inFlight: 0 }, "visible again well before its 30 s visibility timeout");
});
