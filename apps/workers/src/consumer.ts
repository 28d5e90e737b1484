/**
 * A small SQS consumer engine: long-poll batch receive, bounded concurrency, visibility heartbeats for slow
 * jobs, per-job timeout, partial-batch acknowledgement (only successes are deleted) and a graceful stop that
 * finishes in-flight work or hands it back to the queue (visibility 0).
 *
 * Outcomes of a handler call:
 * - resolves                 -> the message is deleted (batched DeleteMessageBatch).
 * - throws PoisonMessageError -> the message is released at once (visibility 0) so the queue's redrive policy
 *                                moves it to the DLQ after maxReceiveCount receives, without waiting.
 * - throws anything else     -> the message is left alone and comes back after its visibility timeout
 *                                (SQS's own retry); during shutdown it is released instead.
 * - still running at jobTimeoutMs -> abandoned: its signal is aborted, the consumer stops waiting for it (the
 *                                slot is reused), the message is released at once and `job failed` is logged
 *                                at error level. The handler must let go of what it holds when its signal
 *                                aborts (runOnce destroys its database client).
 *
 * `stalled` (readiness) is true while jobs are in flight, or keep timing out, and none has finished for longer
 * than the job timeout.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/** Thrown by a handler for a message that can never succeed (bad JSON, wrong schema). */
export class PoisonMessageError extends Error {
  override readonly name = "PoisonMessageError";
}

/** The subset of a pino logger the consumer uses. */
export interface ConsumerLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export interface JobContext {
  /** Aborted when the job times out or the consumer is stopped hard. */
  signal: AbortSignal;
  /** ApproximateReceiveCount of this delivery (1 on the first). */
  receiveCount: number;
  messageId: string;
}

export type JobOutcome = "processed" | "failed" | "poison" | "released";

export interface JobResult {
  queue: string;
  outcome: JobOutcome;
  durationMs: number;
  error?: unknown;
  /** The handler was still running at `jobTimeoutMs` and was abandoned (outcome "failed"). */
  timedOut?: boolean;
}

export interface ConsumerOptions {
  client: SQSClient;
  queueUrl: string;
  /** Short label for logs and metrics, e.g. "push". */
  name: string;
  handler: (message: Message, ctx: JobContext) => Promise<void>;
  /** Jobs running at once (and the most messages held at once). */
  concurrency: number;
  /** Long-poll wait, 0..20 s. */
  waitTimeSeconds: number;
  /** Visibility timeout asked for on receive and on every heartbeat. */
  visibilityTimeoutSeconds: number;
  /** A job still running after this long is abandoned: aborted through its signal, released, counted as failed. */
  jobTimeoutMs: number;
  /** How often a running job's visibility is extended. @default half the visibility timeout */
  heartbeatIntervalMs?: number;
  logger?: ConsumerLogger;
  /** Called once per settled job (metrics). */
  onResult?: (result: JobResult) => void;
}

interface InFlight {
  message: Message;
  controller: AbortController;
  startedAt: number;
  heartbeat: NodeJS.Timeout;
  /** The visibility extension being sent now, if any (at most one per job at a time). */
  extending: Promise<void> | undefined;
  /** Set when the handler has settled: no further extension may be sent. */
  settled: boolean;
  done: Promise<void>;
}

const silent: ConsumerLogger = { info() {}, warn() {}, error() {} };

/** Longest wait for a fuller receive batch while some slots are already free. */
const BATCH_WAIT_MS = 50;

export class SqsConsumer {
  private readonly opts: Required<Omit<ConsumerOptions, "onResult">> & Pick<ConsumerOptions, "onResult">;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly acks: { Id: string; ReceiptHandle: string }[] = [];
  private ackTimer: NodeJS.Timeout | undefined;
  private readonly flushes = new Set<Promise<void>>();
  private slotWaiter: (() => void) | undefined;
  private pollAbort = new AbortController();
  private polling: Promise<unknown> | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private lastPollOkAt = 0;
  private receiveFailing = false;
  private ackSeq = 0;
  /** Last time a job finished (other than by timing out) or the consumer was found idle. */
  private lastProgressAt = 0;
  private timedOutSinceProgress = false;

  constructor(options: ConsumerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`SqsConsumer(${options.name}): concurrency must be a positive integer, got ${options.concurrency}`);
    }
    if (options.waitTimeSeconds < 0 || options.waitTimeSeconds > 20) {
      throw new Error(`SqsConsumer(${options.name}): waitTimeSeconds must be 0..20, got ${options.waitTimeSeconds}`);
    }
    if (options.visibilityTimeoutSeconds <= options.waitTimeSeconds) {
      throw new Error(
        `SqsConsumer(${options.name}): visibilityTimeoutSeconds (${options.visibilityTimeoutSeconds}) must be above waitTimeSeconds (${options.waitTimeSeconds})`,
      );
    }
    if (options.heartbeatIntervalMs !== undefined && !(options.heartbeatIntervalMs >= 10)) {
      throw new Error(`SqsConsumer(${options.name}): heartbeatIntervalMs must be at least 10, got ${options.heartbeatIntervalMs}`);
    }
    // `??` per field: a caller passing `heartbeatIntervalMs: undefined` must get the default, not a 1 ms timer.
    this.opts = {
      ...options,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? Math.max(200, (options.visibilityTimeoutSeconds * 1000) / 2),
      logger: options.logger ?? silent,
    };
  }

  /** The queue label given at construction. */
  get name(): string {
    return this.opts.name;
  }

  /** Number of jobs running now. */
  get active(): number {
    return this.inFlight.size;
  }

  /**
   * False once receives have kept failing for two wait periods + 5 s (or while stopping). A consumer that is
   * not receiving because every slot is busy is healthy.
   */
  get healthy(): boolean {
    if (this.stopping || !this.loop) return false;
    if (this.stalled) return false;
    return !this.receiveFailing || Date.now() - this.lastPollOkAt < this.opts.waitTimeSeconds * 2000 + 5000;
  }

  /**
   * True while jobs are (or were, until they timed out) in flight and none has finished for longer than the job
   * timeout: every job hangs, or a handler ignores its timeout. Readiness reports it.
   */
  get stalled(): boolean {
    if (!this.loop || (this.inFlight.size === 0 && !this.timedOutSinceProgress)) return false;
    return Date.now() - this.lastProgressAt > this.opts.jobTimeoutMs;
  }

  start(): void {
    if (this.loop) return;
    this.lastPollOkAt = Date.now();
    this.progressed();
    this.loop = this.pollLoop();
  }

  /**
   * Stops receiving, lets running jobs finish for up to `graceMs`, then aborts the rest and releases their
   * messages (visibility 0) so another worker takes them at once. A receive already under way is allowed to
   * return (at most the long-poll wait) and what it brings is released too: aborting it on the client would not
   * stop the server from handing messages to the dropped request, which would then stay hidden for a whole
   * visibility timeout. Only when the grace period runs out first is the receive aborted. Pending deletes are
   * flushed before it resolves.
   */
  stop(graceMs = 10_000): Promise<void> {
    this.stopped ??= this.shutdown(graceMs);
    return this.stopped;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    this.slotWaiter?.();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)));
    // Backoff sleeps end at once; a receive in progress is aborted only if the grace period ends first.
    if (!this.polling) this.pollAbort.abort();
    const loop = this.loop ?? Promise.resolve();
    if ((await Promise.race([loop.then(() => false as const), graceOver])) === true) {
      this.pollAbort.abort();
      await loop;
    }
    const drained = Promise.all([...this.inFlight.values()].map((j) => j.done));
    const timedOut = await Promise.race([drained.then(() => false), graceOver]);
    clearTimeout(timer);
    if (timedOut) {
      this.opts.logger.warn({ queue: this.opts.name, jobs: this.inFlight.size }, "stop grace period over: aborting running jobs");
      for (const job of this.inFlight.values()) job.controller.abort(new Error("worker shutting down"));
      await Promise.all([...this.inFlight.values()].map((j) => j.done));
    }
    await this.flushAcks();
    await Promise.all([...this.flushes]);
  }

  private async pollLoop(): Promise<void> {
    const { client, queueUrl, concurrency, waitTimeSeconds, visibilityTimeoutSeconds, logger, name } = this.opts;
    let failures = 0;
    // A busy consumer does not receive for every single finished job: it waits up to BATCH_WAIT_MS for enough
    // free slots to make a worthwhile batch (half the concurrency, at most 10), then receives for whatever is
    // free, so slow jobs holding the other slots never leave free ones idle for long.
    const minBatch = Math.min(10, Math.max(1, Math.ceil(concurrency / 2)));
    while (!this.stopping) {
      const free = concurrency - this.inFlight.size;
      if (free < minBatch) {
        const freed = await this.waitForSlot(free === 0 ? undefined : BATCH_WAIT_MS);
        if (free === 0 || freed) continue;
      }
      let messages: Message[];
      try {
        const receiving = client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, concurrency - this.inFlight.size),
            WaitTimeSeconds: waitTimeSeconds,
            VisibilityTimeout: visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
          { abortSignal: this.pollAbort.signal },
        );
        this.polling = receiving;
        const res = await receiving.finally(() => (this.polling = undefined));
        messages = res.Messages ?? [];
        this.lastPollOkAt = Date.now();
        // An empty queue and no job running: nothing is waiting on this consumer.
        if (messages.length === 0 && this.inFlight.size === 0) this.progressed();
        this.receiveFailing = false;
        failures = 0;
      } catch (err) {
        if (this.stopping) break;
        failures++;
        this.receiveFailing = true;
        const delay = Math.min(5000, 250 * 2 ** Math.min(failures, 5));
        logger.error({ queue: name, error: errorMessage(err), retryInMs: delay }, "receive failed");
        await sleep(delay, this.pollAbort.signal);
        continue;
      }
      if (this.stopping) {
        // Received while the stop began: hand them straight back.
        await this.release(messages);
        break;
      }
      for (const message of messages) this.run(message);
    }
  }

  /** Resolves true when a running job ends (or the consumer stops), false after `timeoutMs`. */
  private waitForSlot(timeoutMs?: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => done(false), timeoutMs);
      const done = (freed: boolean) => {
        clearTimeout(timer);
        if (this.slotWaiter === wake) this.slotWaiter = undefined;
        resolve(freed);
      };
      const wake = () => done(true);
      this.slotWaiter = wake;
    });
  }

  private run(message: Message): void {
    const { handler, jobTimeoutMs, heartbeatIntervalMs, name, logger, onResult } = this.opts;
    const receipt = message.ReceiptHandle;
    if (!receipt) return;
    const controller = new AbortController();
    const startedAt = Date.now();
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    const timeout = setTimeout(() => controller.abort(new JobTimeoutError(jobTimeoutMs)), jobTimeoutMs);
    const job: InFlight = {
      message,
      controller,
      startedAt,
      heartbeat: setInterval(() => this.extend(job), heartbeatIntervalMs),
      extending: undefined,
      settled: false,
      done: Promise.resolve(),
    };
    // A consumer going from idle to busy starts its progress clock now, unless its jobs have been timing out.
    if (this.inFlight.size === 0 && !this.timedOutSinceProgress) this.lastProgressAt = startedAt;
    this.inFlight.set(receipt, job);
    // The handler is raced against its signal: a handler stuck on a call that ignores the signal (a database
    // query, a lock wait) still gives its slot and its message back at the timeout or when a stop gives up.
    const abandoned = new Promise<never>((_, reject) => {
      const onAbort = () => reject(controller.signal.reason);
      if (controller.signal.aborted) onAbort();
      else controller.signal.addEventListener("abort", onAbort, { once: true });
    });
    abandoned.catch(() => undefined);
    job.done = (async () => {
      let outcome: JobOutcome;
      let error: unknown;
      const running = Promise.resolve().then(() => handler(message, { signal: controller.signal, receiveCount, messageId: message.MessageId ?? "" }));
      // A handler that settles after being abandoned must not surface as an unhandled rejection.
      running.catch(() => undefined);
      try {
        await Promise.race([running, abandoned]);
        outcome = "processed";
      } catch (err) {
        error = err;
        outcome = err instanceof PoisonMessageError ? "poison" : "failed";
      } finally {
        clearTimeout(timeout);
        clearInterval(job.heartbeat);
        job.settled = true;
      }
      const timedOut = error instanceof JobTimeoutError;
      const abandonedJob = controller.signal.aborted && outcome !== "processed" && outcome !== "poison";
      // An extension still on its way could land after the delete/release below and hide the message again
      // for a whole visibility timeout: wait for it first.
      await job.extending;
      const durationMs = Date.now() - startedAt;
      if (outcome === "processed") {
        this.ack(receipt);
      } else if (outcome === "poison") {
        logger.warn({
          queue: name, messageId: message.MessageId, receiveCount, error: errorMessage(error),
        }, "invalid message: released for redrive to the DLQ");
        await this.release([message]);
      } else if (timedOut) {
        // The handler was given up on: the message goes back to the queue at once (its receive count grows,
        // so a job that always hangs ends in the DLQ after maxReceiveCount).
        logger.error({
          queue: name, messageId: message.MessageId, receiveCount, timeoutMs: jobTimeoutMs, error: errorMessage(error),
        }, "job failed: timed out, message released for another attempt");
        await this.release([message]);
      } else if (this.stopping) {
        outcome = "released";
        await this.release([message]);
      } else {
        logger.warn({
          queue: name, messageId: message.MessageId, receiveCount, error: errorMessage(error),
        }, "job failed: message will be retried after its visibility timeout");
      }
      if (timedOut) this.timedOutSinceProgress = true;
      else if (!abandonedJob) this.progressed();
      this.inFlight.delete(receipt);
      this.slotWaiter?.();
      try {
        onResult?.({ queue: name, outcome, durationMs, error, ...(timedOut ? { timedOut: true } : {}) });
      } catch {
        /* metrics must never break the consumer */
      }
    })();
  }

  private progressed(): void {
    this.lastProgressAt = Date.now();
    this.timedOutSinceProgress = false;
  }

  /** Extends a running job's visibility; skipped while the previous extension is still being sent. */
  private extend(job: InFlight): void {
    if (job.settled || job.extending) return;
    const { message } = job;
    job.extending = this.opts.client
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.opts.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: this.opts.visibilityTimeoutSeconds,
        }),
      )
      .then(
        () => undefined,
        (err: unknown) => {
          this.opts.logger.warn({ queue: this.opts.name, messageId: message.MessageId, error: errorMessage(err) }, "visibility extension failed");
        },
      )
      .finally(() => (job.extending = undefined));
  }

  private ack(receiptHandle: string): void {
    this.acks.push({ Id: `a${this.ackSeq++}`, ReceiptHandle: receiptHandle });
    if (this.acks.length >= 10) void this.flushAcks();
    else if (!this.ackTimer) this.ackTimer = setTimeout(() => void this.flushAcks(), 20);
  }

  private flushAcks(): Promise<void> {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.acks.length === 0) return Promise.resolve();
    const entries = this.acks.splice(0, this.acks.length);
    const work = (async () => {
      for (let i = 0; i < entries.length; i += 10) {
        const chunk = entries.slice(i, i + 10);
        try {
          const res = await this.opts.client.send(new DeleteMessageBatchCommand({ QueueUrl: this.opts.queueUrl, Entries: chunk }));
          for (const f of res.Failed ?? []) {
            this.opts.logger.error({
              queue: this.opts.name, code: f.Code, error: f.Message,
            }, "delete failed: the message may be processed again (idempotent)");
          }
        } catch (err) {
          this.opts.logger.error({
            queue: this.opts.name, count: chunk.length, error: errorMessage(err),
          }, "delete batch failed: messages may be processed again (idempotent)");
        }
      }
    })();
    this.flushes.add(work);
    void work.finally(() => this.flushes.delete(work));
    return work;
  }

  private async release(messages: Message[]): Promise<void> {
    const entries = messages
      .filter((m) => m.ReceiptHandle)
      .map((m, i) => ({ Id: `r${i}`, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
    for (let i = 0; i < entries.length; i += 10) {
      try {
        await this.opts.client.send(
          new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.opts.queueUrl, Entries: entries.slice(i, i + 10) }),
        );
      } catch (err) {
        this.opts.logger.warn({
          queue: this.opts.name, error: errorMessage(err),
        }, "release failed: messages return after their visibility timeout");
      }
    }
  }
}

export class JobTimeoutError extends Error {
  override readonly name = "JobTimeoutError";
  constructor(ms: number) {
    super(`job did not finish within ${ms} ms`);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
