/**
 * Per-task metrics of the realtime service, written through the shared EMF `Metrics` writer (namespace
 * `<project>-<env>`, dimension `ServiceName`). Every interval:
 * - `ActiveConnections` (Count): open Socket.IO connections of this task at flush time;
 * - `EventLoopLagMs` (Milliseconds): p95 event-loop delay over the interval;
 * - `MessagesIn` / `MessagesOut` (Count): events received from clients / packets written to clients;
 * - `Rejections` (Count) in total, and again with a `Reason` dimension per reason seen.
 * Zero counts are written too, so alarms see data rather than gaps.
 */
import { Metrics } from "@chat/shared/src/metrics";
import type { RejectionReason } from "./limits";

export class RealtimeMetrics {
  private readonly rejectionsSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /**
   * Plain counters for the per-packet metrics, added to the writer at each flush: MessagesOut is counted once
   * per packet written to a client (hundreds per chat message), where the writer's keyed series would cost
   * a string build and a map lookup each time.
   */
  private messagesIn = 0;
  private messagesOut = 0;

  /**
   * @param emf the shared writer, created with `intervalMs: 0` (this class decides when to flush, so the
   *   connection gauge is current in every line)
   * @param activeConnections read at each flush
   */
  constructor(readonly emf: Metrics, private readonly activeConnections: () => number) {
    emf.trackEventLoopLag("EventLoopLagMs");
  }

  incomingMessage(): void {
    this.messagesIn++;
  }

  outgoingMessage(n = 1): void {
    this.messagesOut += n;
  }

  /** Moves the plain counters into the writer's series (zero counts too, so alarms see data). */
  private drainCounters(): void {
    this.emf.count("MessagesIn", this.messagesIn);
    this.emf.count("MessagesOut", this.messagesOut);
    this.messagesIn = 0;
    this.messagesOut = 0;
  }

  rejection(reason: RejectionReason): void {
    this.emf.count("Rejections");
    this.emf.count("Rejections", 1, { Reason: reason });
    this.rejectionsSeen.set(reason, (this.rejectionsSeen.get(reason) ?? 0) + 1);
  }

  /** Rejections by reason since start (for tests and the shutdown log line). */
  rejectionTotals(): Record<string, number> {
    return Object.fromEntries(this.rejectionsSeen);
  }

  /** Writes the interval's lines and returns them. */
  flush(): string[] {
    this.emf.gauge("ActiveConnections", this.activeConnections(), "Count");
    this.drainCounters();
    this.emf.count("Rejections", 0);
    return this.emf.flush();
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.emf.gauge("ActiveConnections", this.activeConnections(), "Count");
    this.drainCounters();
    this.emf.close();
  }
}
