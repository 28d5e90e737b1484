/**
 * The consumer engine on a fake clock against a scripted SQS client: receive sizing and batching, the slot
 * wait, heartbeats, the job timeout, acknowledgement batching, releases, the receive backoff, health and
 * readiness, and every branch of a stop. Jest's fake timers drive setTimeout and Date.now, so each timing is
 * checked to the millisecond without waiting for it.
 */
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import { JobTimeoutError, PoisonMessageError, SqsConsumer, errorMessage, type ConsumerOptions, type JobContext, type JobResult } from "../src/consumer";

interface Sent {
  command: string;
  input: Record<string, unknown>;
  at: number;
}

interface Script {
  /** Successive receive answers; once used up, a receive waits `idleMs` and returns nothing. */
  batches?: Message[][];
  idleMs?: number;
  /** Replaces the receive entirely (n counts receives from 1). */
  receive?: (n: number, signal: AbortSignal | undefined) => Promise<{ Messages?: Message[] }>;
  /** Answers every other command (default `{}` at once). */
  other?: (name: string, input: Record<string, unknown>) => Promise<unknown>;
}

function scripted(script: Script = {}) {
  const sent: Sent[] = [];
  const signals: Array<AbortSignal | undefined> = [];
  let receives = 0;
  const batches = [...(script.batches ?? [])];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }, o?: { abortSignal?: AbortSignal }) {
      const name = command.constructor.name.replace(/Command$/, "");
      sent.push({ command: name, input: command.input, at: Date.now() });
      if (name !== "ReceiveMessage") return script.other ? script.other(name, command.input) : {};
      receives++;
      signals.push(o?.abortSignal);
      if (script.receive) return script.receive(receives, o?.abortSignal);
      const next = batches.shift();
      if (next) return { Messages: next };
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, script.idleMs ?? 1000);
        o?.abortSignal?.addEventListener("abort", () => {
          clearTimeout(t);
          reject(new Error("receive aborted"));
        });
      });
      return {};
    },
  };
  const of = (command: string) => sent.filter((s) => s.command === command);
  return { client: client as unknown as SQSClient, sent, of, signals };
}

interface Log {
  level: "info" | "warn" | "error";
  fields: Record<string, unknown>;
  msg: string;
}

function make(client: SQSClient, handler: ConsumerOptions["handler"], extra: Partial<ConsumerOptions> = {}) {
  const results: JobResult[] = [];
  const logs: Log[] = [];
  const logger = {
    info: (fields: object, msg: string) => void logs.push({ level: "info", fields: fields as Record<string, unknown>, msg }),
    warn: (fields: object, msg: string) => void logs.push({ level: "warn", fields: fields as Record<string, unknown>, msg }),
    error: (fields: object, msg: string) => void logs.push({ level: "error", fields: fields as Record<string, unknown>, msg }),
  };
  const c = new SqsConsumer({
    client,
    queueUrl: "http://sqs.local/q",
    name: "q",
    handler,
    concurrency: 4,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 10,
    jobTimeoutMs: 1000,
    logger,
    onResult: (r) => results.push(r),
    ...extra,
  });
  return { c, results, logs };
}

const msg = (n: number, receiveCount = "1"): Message => ({
  MessageId: `m${n}`,
  ReceiptHandle: `rh${n}`,
  Body: "{}",
  Attributes: { ApproximateReceiveCount: receiveCount },
});

/** A promise the test settles when it wants. */
function gate() {
  let open!: () => void;
  let fail!: (err: unknown) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const tick = (ms: number) => jest.advanceTimersByTimeAsync(ms);
/** Runs the fake clock until `p` settles (at most `ms`), then returns how it settled. */
async function settle<T>(p: Promise<T>, ms = 20_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => (done = true));
  await tick(0);
  for (let t = 0; t < ms && !done; t += 100) await tick(100);
  assert.ok(done, `settled within ${ms} ms of fake time`);
  return watched;
}
const handles = (entries: unknown) => (entries as Array<{ ReceiptHandle: string }>).map((e) => e.ReceiptHandle);

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

describe("options", () => {
  const ok = (extra: Partial<ConsumerOptions>) => make(scripted().client, async () => {}, extra).c;
  const refused = (extra: Partial<ConsumerOptions>, message: string) =>
    assert.throws(() => ok(extra), (err: Error) => err.message === message);

  test("each bound is checked at its edge, with the consumer and the value named", () => {
    refused({ concurrency: 0 }, "SqsConsumer(q): concurrency must be a positive integer, got 0");
    refused({ concurrency: 1.5 }, "SqsConsumer(q): concurrency must be a positive integer, got 1.5");
    assert.equal(ok({ concurrency: 1 }).name, "q");
    refused({ waitTimeSeconds: -1 }, "SqsConsumer(q): waitTimeSeconds must be 0..20, got -1");
    refused({ waitTimeSeconds: 21, visibilityTimeoutSeconds: 30 }, "SqsConsumer(q): waitTimeSeconds must be 0..20, got 21");
    assert.equal(ok({ waitTimeSeconds: 0 }).active, 0);
    assert.equal(ok({ waitTimeSeconds: 20, visibilityTimeoutSeconds: 21 }).active, 0);
    refused({ waitTimeSeconds: 5, visibilityTimeoutSeconds: 5 }, "SqsConsumer(q): visibilityTimeoutSeconds (5) must be above waitTimeSeconds (5)");
    assert.equal(ok({ waitTimeSeconds: 5, visibilityTimeoutSeconds: 6 }).active, 0);
    refused({ heartbeatIntervalMs: 9 }, "SqsConsumer(q): heartbeatIntervalMs must be at least 10, got 9");
    refused({ heartbeatIntervalMs: Number.NaN }, "SqsConsumer(q): heartbeatIntervalMs must be at least 10, got NaN");
    assert.equal(ok({ heartbeatIntervalMs: 10 }).active, 0);
  });

  test("the default heartbeat is half the visibility timeout, and never below 200 ms", async () => {
    for (const [visibility, interval] of [[10, 5000], [0.2, 200]] as const) {
      const job = gate();
      const s = scripted({ batches: [[msg(1)]] });
      const { c } = make(s.client, () => job.promise, { waitTimeSeconds: 0, visibilityTimeoutSeconds: visibility, jobTimeoutMs: 60_000 });
      c.start();
      await tick(interval - 1);
      assert.equal(s.of("ChangeMessageVisibility").length, 0, `no extension before ${interval} ms`);
      await tick(1);
      assert.deepEqual(s.of("ChangeMessageVisibility").map((x) => x.input), [{ QueueUrl: "http://sqs.local/q", ReceiptHandle: "rh1", VisibilityTimeout: visibility }]);
      job.open();
      await settle(c.stop());
    }
  });

  test("without a logger the consumer still handles failures, poison and timeouts", async () => {
    const s = scripted({ batches: [[msg(1), msg(2), msg(3)]] });
    const results: JobResult[] = [];
    const c = new SqsConsumer({
      client: s.client, queueUrl: "http://sqs.local/q", name: "q", concurrency: 4, waitTimeSeconds: 1, visibilityTimeoutSeconds: 10, jobTimeoutMs: 1000,
      handler: async (m) => {
        if (m.MessageId === "m1") throw new Error("down");
        if (m.MessageId === "m2") throw new PoisonMessageError("bad");
        await new Promise(() => undefined);
      },
      onResult: (r) => results.push(r),
    });
    c.start();
    await tick(1000);
    assert.deepEqual(results.map((r) => r.outcome), ["failed", "poison", "failed"]);
    assert.equal(c.active, 0);
    await settle(c.stop());
  });
});

describe("receiving", () => {
  test("a receive asks for the free slots (at most 10), the wait, the visibility and the receive count", async () => {
    const s = scripted();
    const { c } = make(s.client, async () => {}, { concurrency: 25, waitTimeSeconds: 3, visibilityTimeoutSeconds: 7 });
    c.start();
    await tick(0);
    assert.deepEqual(s.of("ReceiveMessage").map((x) => x.input), [
      { QueueUrl: "http://sqs.local/q", MaxNumberOfMessages: 10, WaitTimeSeconds: 3, VisibilityTimeout: 7, MessageSystemAttributeNames: ["ApproximateReceiveCount"] },
    ]);
    assert.ok(s.signals[0] instanceof AbortSignal, "the receive can be aborted");
    await settle(c.stop());
  });

  test("start twice runs one loop", async () => {
    const s = scripted();
    const { c } = make(s.client, async () => {});
    c.start();
    c.start();
    await tick(0);
    assert.equal(s.of("ReceiveMessage").length, 1);
    await settle(c.stop());
  });

  test("the handler gets the receive count (1 when absent), the message id ('' when absent) and a live signal", async () => {
    const seen: Array<Omit<JobContext, "signal"> & { aborted: boolean }> = [];
    const s = scripted({ batches: [[msg(1, "3"), { ReceiptHandle: "rh2", Body: "{}" }]] });
    const { c } = make(s.client, async (_m, ctx) => void seen.push({ receiveCount: ctx.receiveCount, messageId: ctx.messageId, aborted: ctx.signal.aborted }));
    c.start();
    await tick(0);
    assert.deepEqual(seen, [{ receiveCount: 3, messageId: "m1", aborted: false }, { receiveCount: 1, messageId: "", aborted: false }]);
    await settle(c.stop());
  });

  test("a message without a receipt handle is skipped", async () => {
    const handled: string[] = [];
    const s = scripted({ batches: [[{ MessageId: "x", Body: "{}" }, msg(2)]] });
    const { c, results } = make(s.client, async (m) => void handled.push(m.MessageId!));
    c.start();
    await tick(0);
    assert.deepEqual(handled, ["m2"]);
    await settle(c.stop());
    assert.deepEqual(results.map((r) => r.outcome), ["processed"]);
  });

  test("with every slot busy the next receive waits for a job to end, then asks for what is free", async () => {
    const job = gate();
    const s = scripted({ batches: [[msg(1)]] });
    const { c } = make(s.client, () => job.promise, { concurrency: 1, jobTimeoutMs: 60_000 });
    c.start();
    await tick(5000);
    assert.equal(c.active, 1);
    assert.equal(s.of("ReceiveMessage").length, 1, "no receive while the only slot is busy");
    assert.equal(jest.getTimerCount(), 2, "the job's timeout and heartbeat only: the loop waits without polling");
    job.open();
    await tick(0);
    assert.equal(s.of("ReceiveMessage").length, 2, "the slot freed: received at once");
    assert.equal(s.of("ReceiveMessage")[1].input.MaxNumberOfMessages, 1);
    assert.equal(s.of("ReceiveMessage")[1].at, 1_005_000);
    await settle(c.stop());
  });

  test("fewer free slots than half the concurrency: the receive waits 50 ms for a fuller batch", async () => {
    // concurrency 3: a batch is 2 slots (half rounded up). Two jobs hold their slots: one slot free.
    const hold = gate();
    const s = scripted({ batches: [[msg(1), msg(2)]] });
    const { c } = make(s.client, () => hold.promise, { concurrency: 3, jobTimeoutMs: 60_000 });
    c.start();
    await tick(49);
    assert.equal(s.of("ReceiveMessage").length, 1);
    await tick(1);
    assert.deepEqual(s.of("ReceiveMessage").slice(1).map((x) => [x.at, x.input.MaxNumberOfMessages]), [[1_000_050, 1]]);
    hold.open();
    await settle(c.stop());
  });

  test("a job ending during the batch wait ends it early; the receive asks for the slots now free", async () => {
    // concurrency 4 (batch 2): m1 ends at 10 ms (1 free: wait), m2 at 30 ms (2 free: receive at once).
    const hold = gate();
    const s = scripted({ batches: [[msg(1), msg(2), msg(3), msg(4)]] });
    const { c } = make(s.client, (m) => (m.MessageId === "m1" ? new Promise((r) => setTimeout(r, 10)) : m.MessageId === "m2" ? new Promise((r) => setTimeout(r, 30)) : hold.promise), { jobTimeoutMs: 60_000 });
    c.start();
    await tick(100);
    assert.deepEqual(s.of("ReceiveMessage").map((x) => [x.at - 1_000_000, x.input.MaxNumberOfMessages]), [[0, 4], [30, 2]]);
    hold.open();
    await settle(c.stop());
  });

  test("a job ending during the batch wait that still leaves too few free slots starts a new wait", async () => {
    // concurrency 8 (batch 4): seven messages arrive, one slot is free. m1 ends at 10 ms: two free, still
    // fewer than four, so the loop waits again (until 60 ms) and then receives for two.
    const hold = gate();
    const seven = Array.from({ length: 7 }, (_, i) => msg(i + 1));
    const s = scripted({ batches: [seven] });
    const { c } = make(s.client, (m) => (m.MessageId === "m1" ? new Promise((r) => setTimeout(r, 10)) : hold.promise), { concurrency: 8, jobTimeoutMs: 60_000 });
    c.start();
    await tick(100);
    assert.deepEqual(s.of("ReceiveMessage").map((x) => [x.at - 1_000_000, x.input.MaxNumberOfMessages]), [[0, 8], [60, 2]]);
    hold.open();
    await settle(c.stop());
  });

  test("concurrency 1 receives one at a time without a batch wait; a large concurrency waits for 10 free slots", async () => {
    const s1 = scripted({ batches: [[msg(1)], [msg(2)]] });
    const one = make(s1.client, () => new Promise((r) => setTimeout(r, 5)), { concurrency: 1 });
    one.c.start();
    await tick(10);
    assert.deepEqual(s1.of("ReceiveMessage").map((x) => x.at - 1_000_000), [0, 5, 10]);
    await settle(one.c.stop());

    const hold = gate();
    const many = Array.from({ length: 10 }, (_, i) => msg(i + 1));
    const s30 = scripted({ batches: [many, many.map((m) => ({ ...m, ReceiptHandle: `b${m.ReceiptHandle}` })), many.map((m) => ({ ...m, ReceiptHandle: `c${m.ReceiptHandle}` }))] });
    const big = make(s30.client, () => hold.promise, { concurrency: 30, jobTimeoutMs: 60_000 });
    big.c.start();
    await tick(0);
    assert.equal(big.c.active, 30);
    hold.open();
    await tick(0);
    assert.equal(s30.of("ReceiveMessage").length, 4, "30 slots free: received again");
    await settle(big.c.stop());
  });

  test("receive failures back off 500 ms doubling up to 5 s, logged; a success resets the backoff", async () => {
    let n = 0;
    const s = scripted({
      receive: async (i) => {
        n = i;
        if (i <= 6 || i === 8) throw new Error(`refused ${i}`);
        return {};
      },
    });
    const { c, logs } = make(s.client, async () => {}, { waitTimeSeconds: 0, visibilityTimeoutSeconds: 5 });
    c.start();
    await tick(17_499);
    assert.equal(n, 6, "six receives in 17.5 s");
    await tick(1);
    assert.equal(n, 8, "the seventh succeeded, the eighth failed");
    assert.deepEqual(s.of("ReceiveMessage").map((x) => x.at - 1_000_000), [0, 500, 1500, 3500, 7500, 12500, 17500, 17500]);
    const failures = logs.filter((l) => l.msg === "receive failed");
    assert.deepEqual(failures.map((l) => l.fields), [1, 2, 3, 4, 5, 6, 8].map((i, k) => ({ queue: "q", error: `refused ${i}`, retryInMs: [500, 1000, 2000, 4000, 5000, 5000, 500][k] })));
    assert.ok(failures.every((l) => l.level === "error"));
    await settle(c.stop());
  });

  test("backoff sleeps leave no listener behind on the poll's abort signal", async () => {
    const s = scripted({ receive: async () => Promise.reject(new Error("refused")) });
    const { c } = make(s.client, async () => {});
    c.start();
    await tick(60_000);
    assert.ok(s.of("ReceiveMessage").length >= 12, "a dozen failed receives");
    const signal = s.signals.at(-1);
    assert.ok(signal);
    assert.equal(getEventListeners(signal, "abort").length, 1, "only the sleep under way listens");
    await settle(c.stop());
  });

  test("a stop during a backoff sleep ends it at once", async () => {
    const s = scripted({ receive: async () => Promise.reject(new Error("refused")) });
    const { c } = make(s.client, async () => {});
    c.start();
    await tick(100);
    let done = false;
    void c.stop(10_000).then(() => (done = true));
    await tick(1);
    assert.equal(done, true, "stopped within 1 ms of fake time");
    assert.equal(s.of("ReceiveMessage").length, 1);
    assert.equal(jest.getTimerCount(), 0, "the backoff timer is cleared: nothing keeps the process alive");
  });
});

describe("outcomes", () => {
  test("successes are deleted 20 ms after the first one, in one batch", async () => {
    const s = scripted({ batches: [[msg(1)]] });
    const { c, results, logs } = make(s.client, async () => {});
    c.start();
    await tick(19);
    assert.equal(s.of("DeleteMessageBatch").length, 0);
    await tick(1);
    assert.deepEqual(s.of("DeleteMessageBatch").map((x) => x.input), [{ QueueUrl: "http://sqs.local/q", Entries: [{ Id: "a0", ReceiptHandle: "rh1" }] }]);
    assert.deepEqual(results, [{ queue: "q", outcome: "processed", durationMs: 0, error: undefined }]);
    assert.deepEqual(logs, [], "an answer without a Failed list logs nothing");
    await settle(c.stop());
  });

  test("each success waits at most 20 ms for its delete, batch after batch", async () => {
    const s = scripted({
      receive: async (i, signal) => {
        if (i === 1) return { Messages: [msg(1)] };
        if (i === 2) {
          await new Promise((r) => setTimeout(r, 100));
          return { Messages: [msg(2)] };
        }
        await new Promise((_r, reject) => signal?.addEventListener("abort", () => reject(new Error("aborted"))));
        return {};
      },
    });
    const { c } = make(s.client, async () => {});
    c.start();
    await tick(120);
    assert.deepEqual(s.of("DeleteMessageBatch").map((x) => [x.at - 1_000_000, handles(x.input.Entries)]), [[20, ["rh1"]], [120, ["rh2"]]]);
    await settle(c.stop());
  });

  test("stop waits for a delete already being sent", async () => {
    const ten = Array.from({ length: 10 }, (_, i) => msg(i + 1));
    let answered = 0;
    // The receive under way when the stop begins answers after 50 ms; the delete takes 100 ms.
    const s = scripted({
      batches: [ten],
      idleMs: 50,
      other: async (name) => {
        if (name === "DeleteMessageBatch") {
          await new Promise((r) => setTimeout(r, 100));
          answered = Date.now();
        }
        return {};
      },
    });
    const { c } = make(s.client, async () => {}, { concurrency: 10 });
    c.start();
    await tick(0);
    assert.equal(s.of("DeleteMessageBatch").length, 1, "ten acks: sent at once");
    let stoppedAt = 0;
    await settle(c.stop(10_000).then(() => (stoppedAt = Date.now())));
    assert.equal(answered, 1_000_100);
    assert.equal(stoppedAt, 1_000_100);
  });

  test("ten successes are deleted at once; the ids go on counting across batches", async () => {
    const ten = Array.from({ length: 10 }, (_, i) => msg(i + 1));
    const s = scripted({ batches: [ten, [msg(11)]] });
    const { c } = make(s.client, async () => {}, { concurrency: 10 });
    c.start();
    await tick(0);
    const deletes = s.of("DeleteMessageBatch");
    assert.equal(deletes.length, 1);
    assert.deepEqual(deletes[0].input.Entries, ten.map((m, i) => ({ Id: `a${i}`, ReceiptHandle: m.ReceiptHandle })));
    await tick(20);
    assert.deepEqual(s.of("DeleteMessageBatch").slice(1).map((x) => x.input.Entries), [[{ Id: "a10", ReceiptHandle: "rh11" }]]);
    await settle(c.stop());
  });

  test("entries the delete refuses and a delete that fails are logged as errors", async () => {
    let calls = 0;
    const s = scripted({
      receive: async (i, signal) => {
        if (i === 1) return { Messages: [msg(1), msg(2)] };
        if (i === 2) {
          await new Promise((r) => setTimeout(r, 100));
          return { Messages: [msg(3)] };
        }
        await new Promise((_r, reject) => signal?.addEventListener("abort", () => reject(new Error("aborted"))));
        return {};
      },
      other: async (name) => {
        if (name !== "DeleteMessageBatch") return {};
        if (++calls === 1) return { Failed: [{ Id: "a0", Code: "ReceiptHandleIsInvalid", Message: "bad handle", SenderFault: true }] };
        throw new Error("network down");
      },
    });
    const { c, logs } = make(s.client, async () => {});
    c.start();
    await tick(140);
    assert.deepEqual(logs, [
      { level: "error", fields: { queue: "q", code: "ReceiptHandleIsInvalid", error: "bad handle" }, msg: "delete failed: the message may be processed again (idempotent)" },
      { level: "error", fields: { queue: "q", count: 1, error: "network down" }, msg: "delete batch failed: messages may be processed again (idempotent)" },
    ]);
    await settle(c.stop());
  });

  test("poison is released at once with a warning; a failure is left for the visibility timeout with a warning", async () => {
    const s = scripted({ batches: [[msg(1, "2"), msg(2, "4")]] });
    const { c, results, logs } = make(s.client, async (m) => {
      await new Promise((r) => setTimeout(r, 30));
      if (m.MessageId === "m1") throw new PoisonMessageError("bad body");
      throw new Error("database down");
    });
    c.start();
    await tick(30);
    assert.deepEqual(s.of("ChangeMessageVisibilityBatch").map((x) => x.input), [{ QueueUrl: "http://sqs.local/q", Entries: [{ Id: "r0", ReceiptHandle: "rh1", VisibilityTimeout: 0 }] }]);
    assert.deepEqual(logs, [
      { level: "warn", fields: { queue: "q", messageId: "m1", receiveCount: 2, error: "bad body" }, msg: "invalid message: released for redrive to the DLQ" },
      { level: "warn", fields: { queue: "q", messageId: "m2", receiveCount: 4, error: "database down" }, msg: "job failed: message will be retried after its visibility timeout" },
    ]);
    assert.deepEqual(results.map((r) => [r.outcome, r.durationMs, errorMessage(r.error), r.error instanceof Error && r.error.name]), [["poison", 30, "bad body", "PoisonMessageError"], ["failed", 30, "database down", "Error"]]);
    assert.ok(results.every((r) => !("timedOut" in r)));
    await tick(100);
    assert.equal(s.of("DeleteMessageBatch").length, 0, "nothing deleted");
    await settle(c.stop());
    assert.equal(s.of("ChangeMessageVisibilityBatch").length, 1, "the failure was not released");
  });

  test("a release that fails is logged as a warning", async () => {
    const s = scripted({ batches: [[msg(1)]], other: async (name) => { if (name === "ChangeMessageVisibilityBatch") throw new Error("throttled"); return {}; } });
    const { c, logs, results } = make(s.client, async () => { throw new PoisonMessageError("bad"); });
    c.start();
    await tick(0);
    assert.deepEqual(logs.slice(1), [{ level: "warn", fields: { queue: "q", error: "throttled" }, msg: "release failed: messages return after their visibility timeout" }]);
    assert.deepEqual(results.map((r) => r.outcome), ["poison"]);
    await settle(c.stop());
  });

  test("a job still running at its timeout is aborted, released, logged and counted as a timed-out failure", async () => {
    let signal: AbortSignal | undefined;
    const s = scripted({ batches: [[msg(1, "2")]], idleMs: 60_000 });
    const { c, results, logs } = make(s.client, (_m, ctx) => {
      signal = ctx.signal;
      return new Promise(() => undefined); // ignores its signal
    });
    c.start();
    await tick(999);
    assert.equal(signal?.aborted, false);
    assert.equal(c.active, 1);
    await tick(1);
    assert.equal(signal?.aborted, true);
    assert.ok(signal?.reason instanceof JobTimeoutError);
    assert.equal(c.active, 0, "the slot is free");
    assert.deepEqual(s.of("ChangeMessageVisibilityBatch").map((x) => handles(x.input.Entries)), [["rh1"]]);
    assert.deepEqual(logs, [{
      level: "error",
      fields: { queue: "q", messageId: "m1", receiveCount: 2, timeoutMs: 1000, error: "job did not finish within 1000 ms" },
      msg: "job failed: timed out, message released for another attempt",
    }]);
    assert.deepEqual(results.map((r) => [r.outcome, r.durationMs, r.timedOut, errorMessage(r.error)]), [["failed", 1000, true, "job did not finish within 1000 ms"]]);
    assert.equal((results[0].error as Error).name, "JobTimeoutError");
    await settle(c.stop());
  });

  test("a job that ends before its timeout is not aborted and stops its heartbeat", async () => {
    let signal: AbortSignal | undefined;
    const s = scripted({ batches: [[msg(1)]] });
    const { c, results } = make(s.client, (_m, ctx) => {
      signal = ctx.signal;
      return new Promise((r) => setTimeout(r, 150));
    }, { heartbeatIntervalMs: 100 });
    c.start();
    await tick(2000);
    assert.equal(signal?.aborted, false);
    assert.deepEqual(results.map((r) => r.outcome), ["processed"]);
    assert.equal(s.of("ChangeMessageVisibility").length, 1, "one heartbeat, none after the job ended");
    await settle(c.stop());
  });

  test("a failed extension is logged and the next heartbeat tries again", async () => {
    const job = gate();
    let n = 0;
    const s = scripted({ batches: [[msg(1)]], other: async (name) => { if (name === "ChangeMessageVisibility" && ++n === 1) throw new Error("throttled"); return {}; } });
    const { c, logs } = make(s.client, () => job.promise, { heartbeatIntervalMs: 100, jobTimeoutMs: 60_000 });
    c.start();
    await tick(200);
    assert.deepEqual(s.of("ChangeMessageVisibility").map((x) => x.at - 1_000_000), [100, 200]);
    assert.deepEqual(logs, [{ level: "warn", fields: { queue: "q", messageId: "m1", error: "throttled" }, msg: "visibility extension failed" }]);
    job.open();
    await settle(c.stop());
  });

  test("a handler that throws synchronously fails its job like a rejection", async () => {
    const s = scripted({ batches: [[msg(1)]] });
    const { c, results } = make(s.client, () => { throw new Error("sync"); });
    c.start();
    await tick(0);
    assert.deepEqual(results.map((r) => [r.outcome, errorMessage(r.error)]), [["failed", "sync"]]);
    await settle(c.stop());
  });

  test("a handler that throws something other than an Error is logged with it as text", async () => {
    const s = scripted({ batches: [[msg(1)]] });
    const { c, logs } = make(s.client, () => Promise.reject("plain text"));
    c.start();
    await tick(0);
    assert.deepEqual(logs.map((l) => l.fields.error), ["plain text"]);
    assert.equal(errorMessage(new Error("boxed")), "boxed");
    assert.equal(errorMessage(42), "42");
    await settle(c.stop());
  });

  test("a throwing onResult breaks nothing: the delete is sent and the next message handled", async () => {
    const s = scripted({ batches: [[msg(1)], [msg(2)]] });
    const handled: string[] = [];
    const { c } = make(s.client, async (m) => void handled.push(m.MessageId!), { concurrency: 1, onResult: () => { throw new Error("metrics down"); } });
    c.start();
    await tick(20);
    assert.deepEqual(handled, ["m1", "m2"]);
    assert.deepEqual(s.of("DeleteMessageBatch").flatMap((x) => handles(x.input.Entries)), ["rh1", "rh2"]);
    await settle(c.stop());
  });
});

describe("health and readiness", () => {
  test("the health window runs from the last good receive, not from the start", async () => {
    const s = scripted({
      receive: async (i) => {
        await new Promise((r) => setTimeout(r, 1000));
        if (i > 10) throw new Error("refused");
        return {};
      },
    });
    const { c } = make(s.client, async () => {});
    c.start();
    await tick(11_000);
    assert.equal(s.of("ReceiveMessage").length, 11);
    await tick(1);
    assert.equal(c.healthy, true, "the 11th receive failed 1 ms ago; the last good one ended 1 s ago");
    await tick(5998);
    assert.equal(c.healthy, true, "1 ms before the window ends");
    await tick(1);
    assert.equal(c.healthy, false);
    await settle(c.stop());
  });

  test("stalled: after a timed-out job, once longer than the job timeout has passed without progress; a job finishing clears it", async () => {
    // concurrency 1: m1 hangs and times out at 1000; m2, received at once, does not restart the clock and
    // finishes at 1900.
    const s = scripted({ batches: [[msg(1)], [msg(2)]], idleMs: 60_000 });
    const { c } = make(s.client, (m) => (m.MessageId === "m1" ? new Promise(() => undefined) : new Promise((r) => setTimeout(r, 900))), { concurrency: 1 });
    assert.equal(c.stalled, false, "not started");
    c.start();
    await tick(1000);
    assert.equal(c.active, 1, "m2 running");
    assert.equal(c.stalled, false, "exactly the job timeout");
    assert.equal(c.healthy, true);
    await tick(1);
    assert.equal(c.stalled, true);
    assert.equal(c.healthy, false, "a stalled consumer is not healthy");
    await tick(898);
    assert.equal(c.stalled, true, "m2 still running");
    await tick(1);
    assert.equal(c.active, 0, "m2 finished at 1900");
    assert.equal(c.stalled, false, "progress clears it");
    assert.equal(c.healthy, true);
    await settle(c.stop());
  });

  test("a job that fails (without timing out) is progress too", async () => {
    const s = scripted({ batches: [[msg(1)], [msg(2)]], idleMs: 60_000 });
    const { c } = make(s.client, (m) => (m.MessageId === "m1" ? new Promise(() => undefined) : new Promise((_r, reject) => setTimeout(() => reject(new Error("down")), 500))), { concurrency: 1 });
    c.start();
    await tick(1001);
    assert.equal(c.stalled, true, "m1 timed out");
    await tick(499);
    assert.equal(c.active, 0, "m2 failed at 1500");
    assert.equal(c.stalled, false);
    await settle(c.stop());
  });

  test("a receive slower than the health window is not a failure", async () => {
    const s = scripted({ idleMs: 8000 });
    const { c } = make(s.client, async () => {});
    c.start();
    await tick(7500);
    assert.equal(c.healthy, true, "the receive is still under way, none has failed");
    await settle(c.stop());
  });

  test("an idle consumer on a long poll is not stalled; its first job starts the clock afresh", async () => {
    // The first receive answers after 5 s with m1, which hangs until its timeout at 6000.
    const s = scripted({
      receive: async (i, signal) => {
        if (i === 1) {
          await new Promise((r) => setTimeout(r, 5000));
          return { Messages: [msg(1)] };
        }
        await new Promise((_r, reject) => signal?.addEventListener("abort", () => reject(new Error("aborted"))));
        return {};
      },
    });
    const { c } = make(s.client, () => new Promise(() => undefined), { waitTimeSeconds: 20, visibilityTimeoutSeconds: 30 });
    c.start();
    await tick(4999);
    assert.equal(c.stalled, false, "idle: nothing is waiting on it");
    await tick(501);
    assert.equal(c.active, 1);
    assert.equal(c.stalled, false, "m1 started 500 ms ago");
    await tick(501);
    assert.equal(c.active, 0, "m1 timed out at 6000");
    assert.equal(c.stalled, true, "timed out, no progress since 5000");
    await settle(c.stop(100));
  });

  test("an empty receive while a job hangs is no progress: the consumer stays stalled", async () => {
    // concurrency 2: m1 hangs from 0 and times out at 1000; m2 arrives at 500 and hangs; the receives between
    // answer empty every 200 ms. None of them is progress while a job is in flight.
    const s = scripted({
      receive: async (i, signal) => {
        if (i === 1) return { Messages: [msg(1)] };
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, i === 2 ? 500 : 200);
          signal?.addEventListener("abort", () => (clearTimeout(t), reject(new Error("aborted"))));
        });
        return i === 2 ? { Messages: [msg(2)] } : {};
      },
    });
    const { c } = make(s.client, (_m, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))), { concurrency: 2 });
    c.start();
    await tick(1001);
    assert.ok(s.of("ReceiveMessage").length >= 3, "empty receives were answered while m2 ran");
    assert.equal(c.active, 1, "m2 still running");
    assert.equal(c.stalled, true, "m1 timed out and nothing finished since 0");
    await tick(400);
    assert.equal(c.stalled, true, "two more empty receives, still no progress");
    await settle(c.stop(100));
  });

  test("slots busy for longer than the health window are not a receive failure", async () => {
    // waitTimeSeconds 1: the window is 7 s. The only slot is busy for 10 s, so no receive is made meanwhile.
    const job = gate();
    const s = scripted({ batches: [[msg(1)]] });
    const { c } = make(s.client, () => job.promise, { concurrency: 1, jobTimeoutMs: 60_000 });
    c.start();
    await tick(10_000);
    assert.equal(s.of("ReceiveMessage").length, 1);
    assert.equal(c.healthy, true, "no receive has failed");
    job.open();
    await settle(c.stop());
  });

  test("an empty receive with no job running counts as progress", async () => {
    const s = scripted({ batches: [[msg(1)]], idleMs: 200 });
    const { c } = make(s.client, () => new Promise(() => undefined), { concurrency: 1 });
    c.start();
    await tick(1001);
    assert.equal(c.stalled, true, "m1 timed out");
    await tick(198);
    assert.equal(c.stalled, true, "the receive after it is still waiting");
    await tick(1);
    assert.equal(c.stalled, false, "an empty answer while idle");
    await settle(c.stop());
  });
});

describe("stop", () => {
  test("a job given up by a stop is no progress: a consumer whose jobs timed out stays stalled", async () => {
    // m1 hangs and times out at 1000; m2 arrives at 500 and hangs until the stop (grace 100 ms at 1100) aborts it.
    const s = scripted({
      receive: async (i, signal) => {
        if (i === 1) return { Messages: [msg(1)] };
        if (i === 2) {
          await new Promise((r) => setTimeout(r, 500));
          return { Messages: [msg(2)] };
        }
        await new Promise((_r, reject) => signal?.addEventListener("abort", () => reject(new Error("aborted"))));
        return {};
      },
    });
    const { c, results } = make(s.client, (_m, ctx) => new Promise((_r, reject) => {
      if (_m.MessageId === "m2") ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
    }), { concurrency: 2 });
    c.start();
    await tick(1100);
    assert.equal(c.stalled, true);
    await settle(c.stop(100));
    assert.deepEqual(results.map((r) => r.outcome), ["failed", "released"]);
    assert.equal(c.stalled, true, "still no job has finished");
  });

  test("with every slot busy, stop ends the loop at once, waits for the job and flushes its delete before resolving", async () => {
    const s = scripted({ batches: [[msg(1)]] });
    const { c, results } = make(s.client, () => new Promise((r) => setTimeout(r, 300)), { concurrency: 1 });
    c.start();
    await tick(100);
    let stoppedAt = 0;
    const stopped = c.stop(10_000).then(() => (stoppedAt = Date.now()));
    assert.equal(c.healthy, false, "stopping");
    assert.equal(c.stop(), c.stop(10), "one stop");
    await settle(stopped);
    assert.equal(stoppedAt, 1_000_300);
    assert.deepEqual(s.of("DeleteMessageBatch").map((x) => [x.at, handles(x.input.Entries)]), [[1_000_300, ["rh1"]]]);
    assert.equal(s.of("ReceiveMessage").length, 1);
    assert.deepEqual(results.map((r) => r.outcome), ["processed"]);
    assert.equal(jest.getTimerCount(), 0, "no timer left behind (the grace timer included)");
  });

  test("a stop during the batch wait ends it and leaves no timer behind", async () => {
    // concurrency 3 (batch 2): two jobs hold their slots, the loop waits up to 50 ms for a second free slot.
    const hold = gate();
    const s = scripted({ batches: [[msg(1), msg(2)]] });
    const { c, results } = make(s.client, () => hold.promise, { concurrency: 3, jobTimeoutMs: 60_000 });
    c.start();
    await tick(10);
    const stopped = c.stop(10_000);
    hold.open();
    await settle(stopped, 0);
    assert.equal(Date.now(), 1_000_010, "stopped without waiting for the batch wait to end");
    assert.deepEqual(results.map((r) => r.outcome), ["processed", "processed"]);
    assert.equal(s.of("ReceiveMessage").length, 1);
    assert.equal(jest.getTimerCount(), 0);
  });

  test("a job still running when the grace period ends is aborted, released and counted as released", async () => {
    let signal: AbortSignal | undefined;
    // The release takes 50 ms to answer: the stop waits for it.
    const s = scripted({ batches: [[msg(1)]], other: (name) => new Promise((r) => setTimeout(() => r({}), name === "ChangeMessageVisibilityBatch" ? 50 : 0)) });
    const { c, results, logs } = make(s.client, (_m, ctx) => {
      signal = ctx.signal;
      return new Promise(() => undefined);
    }, { concurrency: 1, jobTimeoutMs: 60_000 });
    c.start();
    await tick(100);
    let stoppedAt = 0;
    const stopped = c.stop(200).then(() => (stoppedAt = Date.now()));
    await tick(199);
    assert.equal(signal?.aborted, false, "within the grace period");
    await settle(stopped);
    assert.equal(stoppedAt, 1_000_350);
    assert.equal(errorMessage(signal?.reason), "worker shutting down");
    assert.deepEqual(logs, [{ level: "warn", fields: { queue: "q", jobs: 1 }, msg: "stop grace period over: aborting running jobs" }]);
    assert.deepEqual(s.of("ChangeMessageVisibilityBatch").map((x) => handles(x.input.Entries)), [["rh1"]]);
    assert.deepEqual(results.map((r) => [r.outcome, errorMessage(r.error)]), [["released", "worker shutting down"]]);
  });

  test("a job failing while the consumer stops is released rather than left for the visibility timeout", async () => {
    const s = scripted({ batches: [[msg(1)]] });
    const { c, results, logs } = make(s.client, () => new Promise((_r, reject) => setTimeout(() => reject(new Error("down")), 200)), { concurrency: 1 });
    c.start();
    await tick(100);
    await settle(c.stop(10_000));
    assert.deepEqual(results.map((r) => r.outcome), ["released"]);
    assert.deepEqual(s.of("ChangeMessageVisibilityBatch").map((x) => handles(x.input.Entries)), [["rh1"]]);
    assert.deepEqual(logs, [], "no retry warning");
  });

  test("a receive under way is left to answer until the grace period ends, then aborted", async () => {
    const s = scripted({ idleMs: 60_000 });
    const { c, logs } = make(s.client, async () => {});
    c.start();
    await tick(100);
    let done = false;
    void c.stop(300).then(() => (done = true));
    await tick(299);
    assert.equal(s.signals[0]?.aborted, false);
    assert.equal(done, false);
    await tick(1);
    assert.equal(s.signals[0]?.aborted, true);
    await tick(0);
    assert.equal(done, true);
    assert.equal(jest.getTimerCount(), 0);
    assert.deepEqual(logs.filter((l) => l.msg === "receive failed"), [], "an aborted receive is not a failure");
    assert.ok(logs.length > 0, "the grace period's end was logged");
  });

  test("what a receive under way brings back is released (messages without a receipt handle left out), not handled", async () => {
    const answer = gate();
    const s = scripted({
      receive: async () => {
        await answer.promise;
        return { Messages: [{ MessageId: "x", Body: "{}" }, msg(8), msg(9)] };
      },
    });
    const handled: string[] = [];
    const { c } = make(s.client, async (m) => void handled.push(m.MessageId!));
    c.start();
    await tick(0);
    const stopped = c.stop(1000);
    answer.open();
    await settle(stopped);
    assert.deepEqual(handled, []);
    assert.deepEqual(s.of("ChangeMessageVisibilityBatch").map((x) => x.input), [{
      QueueUrl: "http://sqs.local/q",
      Entries: [{ Id: "r0", ReceiptHandle: "rh8", VisibilityTimeout: 0 }, { Id: "r1", ReceiptHandle: "rh9", VisibilityTimeout: 0 }],
    }]);
  });

  test("stop before start resolves", async () => {
    const { c } = make(scripted().client, async () => {});
    await settle(c.stop());
    assert.equal(c.healthy, false);
  });
});
