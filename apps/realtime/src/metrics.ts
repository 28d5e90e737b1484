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
   * @param emf the shared writer, created with `intervalMs: 0` (this class decides when to flush, so the
   *   connection gauge is current in every line)
   * @param activeConnections read at each flush
   */
  constructor(readonly emf: Metrics, private readonly activeConnections: () => number) {
    emf.trackEventLoopLag("EventLoopLagMs");
  }

  incomingMessage(): void {
    this.emf.count("MessagesIn");
  }

  outgoingMessage(n = 1): void {
    this.emf.count("MessagesOut", n);
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
    for (const name of ["MessagesIn", "MessagesOut", "Rejections"]) this.emf.count(name, 0);
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
    this.emf.close();
  }
}
