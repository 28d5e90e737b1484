/**
 * Per-task metrics of the realtime service. Counters accumulate between flushes; every interval one snapshot
 * is handed to a sink (the shared EMF writer in production, a recorder in tests):
 * - `ActiveConnections` (Count): open Socket.IO connections of this task at flush time;
 * - `EventLoopLagMs` (Milliseconds): p95 event-loop delay over the interval;
 * - `MessagesIn` / `MessagesOut` (Count): events received from clients / packets written to clients;
 * - `Rejections` (Count) once in total and once per `Reason`.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import type { RejectionReason } from "./limits";

export interface MetricPoint {
  name: "ActiveConnections" | "EventLoopLagMs" | "MessagesIn" | "MessagesOut" | "Rejections";
  value: number;
  unit: "Count" | "Milliseconds";
  /** Extra dimensions beyond `ServiceName` (only `Reason` for rejections). */
  dimensions?: Record<string, string>;
}

export type MetricSink = (points: MetricPoint[]) => void;

export class RealtimeMetrics {
  private messagesIn = 0;
  private messagesOut = 0;
  private readonly rejections = new Map<RejectionReason, number>();
  private readonly lag: IntervalHistogram;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sink: MetricSink, private readonly activeConnections: () => number) {
    this.lag = monitorEventLoopDelay({ resolution: 10 });
    this.lag.enable();
  }

  incomingMessage(): void {
    this.messagesIn++;
  }

  outgoingMessage(n = 1): void {
    this.messagesOut += n;
  }

  rejection(reason: RejectionReason): void {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
  }

  /** Rejections counted since the last flush, by reason (for tests and logs). */
  pendingRejections(): Record<string, number> {
    return Object.fromEntries(this.rejections);
  }

  /** Builds the snapshot of the interval that just ended and resets the counters. */
  snapshot(): MetricPoint[] {
    const lagMs = this.lag.count > 0 ? this.lag.percentile(95) / 1e6 : 0;
    this.lag.reset();
    const points: MetricPoint[] = [
      { name: "ActiveConnections", value: this.activeConnections(), unit: "Count" },
      { name: "EventLoopLagMs", value: Math.round(lagMs * 100) / 100, unit: "Milliseconds" },
      { name: "MessagesIn", value: this.messagesIn, unit: "Count" },
      { name: "MessagesOut", value: this.messagesOut, unit: "Count" },
    ];
    let total = 0;
    for (const [reason, n] of this.rejections) {
      total += n;
      points.push({ name: "Rejections", value: n, unit: "Count", dimensions: { Reason: reason } });
    }
    points.push({ name: "Rejections", value: total, unit: "Count" });
    this.messagesIn = 0;
    this.messagesOut = 0;
    this.rejections.clear();
    return points;
  }

  flush(): void {
    this.sink(this.snapshot());
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
    this.lag.disable();
  }
}
