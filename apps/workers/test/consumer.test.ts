/**
 * The consumer engine against a scripted SQS client: which commands it sends, and in what order. These cover
 * timing details the end-to-end tests cannot pin down (heartbeat cadence, an extension racing a delete).
 */
import assert from "node:assert/strict";
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import { PoisonMessageError, SqsConsumer, type JobResult } from "../src/consumer";

interface Sent {
  command: string;
  input: Record<string, unknown>;
  at: number;
}

/** A fake client: the first receive returns `messages`, later ones wait `waitMs` and return nothing. */
function fakeClient(messages: Message[], opts: { changeDelayMs?: number; waitMs?: number } = {}) {
  const sent: Sent[] = [];
  let handed = false;
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }, o?: { abortSignal?: AbortSignal }) {
      const name = command.constructor.name.replace(/Command$/, "");
      sent.push({ command: name, input: command.input, at: Date.now() });
      if (name === "ReceiveMessage") {
        if (!handed) {
          handed = true;
          return { Messages: messages };
        }
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, opts.waitMs ?? 50);
          o?.abortSignal?.addEventListener("abort", () => {
            clearTimeout(t);
            reject(new Error("aborted"));
          });
        });
        return { Messages: [] };
      }
      if (name === "ChangeMessageVisibility") await new Promise((r) => setTimeout(r, opts.changeDelayMs ?? 0));
      return {};
    },
  };
  return { client: client as unknown as SQSClient, sent };
}

/** Waits for `cond`, polling every 5 ms; fails after `ms` so a broken consumer fails the test instead of hanging it. */
async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `p`, or a failure after `ms`: a stop that never ends fails the test instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const message = (n: number): Message => ({ MessageId: `m${n}`, ReceiptHandle: `rh${n}`, Body: "{}", Attributes: { ApproximateReceiveCount: "1" } });

function consumer(client: SQSClient, handler: (m: Message, ctx: { signal: AbortSignal }) => Promise<void>, extra: Partial<ConstructorParameters<typeof SqsConsumer>[0]> = {}) {
  const results: JobResult[] = [];
  const c = new SqsConsumer({
    client,
    queueUrl: "http://sqs.local/q",
    name: "q",
    handler,
    concurrency: 4,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 10,
    jobTimeoutMs: 5000,
    onResult: (r) => results.push(r),
    ...extra,
  });
  return { c, results };
}

test("without a heartbeat option the interval defaults to half the visibility timeout (no extension in a short job)", async () => {
  const { client, sent } = fakeClient([message(1)]);
  const { c, results } = consumer(client, () => new Promise((r) => setTimeout(r, 150)), { heartbeatIntervalMs: undefined });
  c.start();
  await until("the job result", () => results.length > 0);
  await within(c.stop(1000), 3000, "stop");
  assert.equal(sent.filter((s) => s.command === "ChangeMessageVisibility").length, 0);
  assert.deepEqual(results.map((r) => r.outcome), ["processed"]);
});

test("a heartbeat extends visibility at its interval, one request at a time", async () => {
  // Each extension takes 120 ms to answer while ticks come every 40 ms: overlapping ticks are skipped.
  const { client, sent } = fakeClient([message(1)], { changeDelayMs: 120 });
  const { c, results } = consumer(client, () => new Promise((r) => setTimeout(r, 500)), { heartbeatIntervalMs: 40 });
  c.start();
  await until("the job result", () => results.length > 0);
  await within(c.stop(1000), 3000, "stop");
  const changes = sent.filter((s) => s.command === "ChangeMessageVisibility");
  assert.ok(changes.length >= 2 && changes.length <= 5, `2..5 extensions in 500 ms, got ${changes.length}`);
  assert.ok(changes.every((s) => s.input.VisibilityTimeout === 10 && s.input.ReceiptHandle === "rh1"));
});

test("a delete is sent only after a visibility extension still on its way has been answered", async () => {
  const { client, sent } = fakeClient([message(1)], { changeDelayMs: 200 });
  // The job ends 10 ms after the first heartbeat went out, while that extension is still unanswered.
  const { c, results } = consumer(client, () => new Promise((r) => setTimeout(r, 60)), { heartbeatIntervalMs: 50 });
  c.start();
  await until("the job result", () => results.length > 0);
  await within(c.stop(1000), 3000, "stop");
  const change = sent.find((s) => s.command === "ChangeMessageVisibility");
  const del = sent.find((s) => s.command === "DeleteMessageBatch");
  assert.ok(change && del, "one extension and one delete were sent");
  assert.ok(del.at - change.at >= 190, `delete waited for the extension (${del.at - change.at} ms apart)`);
});

test("poison is released at once (visibility 0); a failure is left for the visibility timeout; successes are deleted in one batch", async () => {
  const { client, sent } = fakeClient([message(1), message(2), message(3), message(4)]);
  const { c, results } = consumer(client, async (m) => {
    if (m.MessageId === "m2") throw new PoisonMessageError("bad body");
    if (m.MessageId === "m3") throw new Error("database down");
  });
  c.start();
  await until("four results", () => results.length === 4);
  await within(c.stop(1000), 3000, "stop");
  assert.deepEqual(results.map((r) => r.outcome).sort(), ["failed", "poison", "processed", "processed"]);
  const deletes = sent.filter((s) => s.command === "DeleteMessageBatch");
  assert.equal(deletes.length, 1);
  assert.deepEqual((deletes[0].input.Entries as { ReceiptHandle: string }[]).map((e) => e.ReceiptHandle).sort(), ["rh1", "rh4"]);
  const releases = sent.filter((s) => s.command === "ChangeMessageVisibilityBatch");
  assert.deepEqual(releases.map((s) => s.input.Entries), [[{ Id: "r0", ReceiptHandle: "rh2", VisibilityTimeout: 0 }]]);
});

test("stop waits for a receive under way and releases what it returns instead of dropping the response", async () => {
  const late = message(9);
  let receives = 0;
  const sent: string[] = [];
  // Positive signals instead of delays: the test learns when the receive is under way, and the receive
  // answers only once stop() has been called.
  let receiving!: () => void;
  const underWay = new Promise<void>((r) => (receiving = r));
  let answer!: () => void;
  const stopCalled = new Promise<void>((r) => (answer = r));
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const name = command.constructor.name.replace(/Command$/, "");
      sent.push(name);
      if (name === "ReceiveMessage") {
        receives++;
        receiving();
        await stopCalled;
        return { Messages: [late] };
      }
      return {};
    },
  } as unknown as SQSClient;
  const handled: string[] = [];
  const { c } = consumer(client, async (m) => void handled.push(m.MessageId ?? ""));
  c.start();
  await within(underWay, 3000, "the receive");
  const stopped = c.stop(2000);
  answer();
  await within(stopped, 4000, "stop");
  assert.equal(receives, 1);
  assert.deepEqual(handled, [], "nothing new starts once stopping");
  assert.deepEqual(sent, ["ReceiveMessage", "ChangeMessageVisibilityBatch"], "the late message is handed back");
});

test("a busy consumer receives in batches, yet a free slot next to slow jobs is refilled after a short wait", async () => {
  const { client, sent } = fakeClient([message(1), message(2), message(3), message(4)], { waitMs: 30 });
  const started = Date.now();
  // m1 ends at once; m2..m4 hold their slots for 400 ms. With concurrency 4 a batch is 2 slots.
  const { c, results } = consumer(client, (m) => new Promise((r) => setTimeout(r, m.MessageId === "m1" ? 5 : 400)));
  c.start();
  await until("four results", () => results.length === 4);
  await within(c.stop(1000), 3000, "stop");
  const receives = sent.filter((s) => s.command === "ReceiveMessage");
  assert.equal(receives[0].input.MaxNumberOfMessages, 4);
  assert.equal(receives[1].input.MaxNumberOfMessages, 1, "the single free slot is offered to the queue");
  const refill = receives[1].at - started;
  assert.ok(refill >= 50 && refill < 350, `after the batch wait, before the slow jobs end (${refill} ms)`);
});

test("health: receives that keep failing turn it false after the window; a working receive turns it back", async () => {
  // Fake timers (Date.now included): the 7 s window and the backoff sleeps pass without waiting.
  jest.useFakeTimers();
  try {
    let failing = true;
    const client = {
      async send(command: { constructor: { name: string } }) {
        if (command.constructor.name === "ReceiveMessageCommand") {
          await new Promise((r) => setTimeout(r, 20));
          if (failing) throw new Error("connect ECONNREFUSED");
          return { Messages: [] };
        }
        return {};
      },
    } as unknown as SQSClient;
    // waitTimeSeconds 1: the window is 2 x 1 s + 5 s = 7 s from the last good receive (here: the start).
    const { c } = consumer(client, async () => {}, { waitTimeSeconds: 1, visibilityTimeoutSeconds: 5 });
    assert.equal(c.healthy, false, "not started");
    c.start();
    await jest.advanceTimersByTimeAsync(300);
    assert.equal(c.healthy, true, "within the window");
    await jest.advanceTimersByTimeAsync(6699);
    assert.equal(c.healthy, true, "1 ms before the window ends");
    await jest.advanceTimersByTimeAsync(1);
    assert.equal(c.healthy, false, "failing for the whole window");
    failing = false;
    await jest.advanceTimersByTimeAsync(5100); // the next attempt comes after the backoff (at most 5 s)
    assert.equal(c.healthy, true, "recovered after a successful receive");
    let stopped = false;
    void c.stop(500).then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(1100);
    assert.equal(stopped, true, "stopped within its grace period");
    assert.equal(c.healthy, false, "stopped");
  } finally {
    jest.useRealTimers();
  }
});

test("bad engine options are refused with the field named", () => {
  const { client } = fakeClient([]);
  assert.throws(() => consumer(client, async () => {}, { concurrency: 0 }), /concurrency must be a positive integer, got 0/);
  assert.throws(() => consumer(client, async () => {}, { waitTimeSeconds: 21 }), /waitTimeSeconds must be 0\.\.20, got 21/);
  assert.throws(() => consumer(client, async () => {}, { visibilityTimeoutSeconds: 1 }), /visibilityTimeoutSeconds \(1\) must be above waitTimeSeconds \(1\)/);
  assert.throws(() => consumer(client, async () => {}, { heartbeatIntervalMs: 0 }), /heartbeatIntervalMs must be at least 10, got 0/);
});
