/**
 * CloudWatch embedded metric format (EMF): one JSON line per flush on stdout, namespace `<project>-<env>`,
 * dimension `ServiceName`. The awslogs driver ships the lines and CloudWatch extracts the metrics; nothing
 * here calls AWS.
 *
 * - counters (`count`) are summed over the interval and reset;
 * - gauges (`gauge`) keep their last value;
 * - timings (`observe`) keep every sample of the interval (CloudWatch computes percentiles from the values);
 * - `trackEventLoopLag(name)` publishes the p95 event-loop delay of the interval in milliseconds.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

const EMF_MAX_VALUES = 100;

export type Unit = "Count" | "Milliseconds" | "Bytes" | "None" | "Percent" | "Count/Second";

export interface MetricsOptions {
  namespace: string;
  serviceName: string;
  /** Flush interval; 0 disables the timer (call flush() yourself). @default 10000 */
  intervalMs?: number;
  /** Line writer; stdout by default. */
  write?: (line: string) => void;
  now?: () => number;
}

interface Series {
  unit: Unit;
  kind: "counter" | "gauge" | "timing";
  values: number[];
  dims: Record<string, string>;
  name: string;
}

export class Metrics {
  private readonly series = new Map<string, Series>();
  private timer?: NodeJS.Timeout;
  private readonly lagHistograms: { name: string; h: IntervalHistogram }[] = [];
  private readonly write: (line: string) => void;
  private readonly now: () => number;

  constructor(private readonly opts: MetricsOptions) {
    this.write = opts.write ?? ((line) => process.stdout.write(line + "\n"));
    this.now = opts.now ?? Date.now;
    const interval = opts.intervalMs ?? 10_000;
    if (interval > 0) {
      this.timer = setInterval(() => this.flush(), interval);
      this.timer.unref();
    }
  }

  private key(name: string, dims: Record<string, string>): string {
    return `${name}|${Object.entries(dims).sort().map(([k, v]) => `${k}=${v}`).join(",")}`;
  }

  private get(name: string, kind: Series["kind"], unit: Unit, dims: Record<string, string>): Series {
    const k = this.key(name, dims);
    let s = this.series.get(k);
    if (!s) {
      s = { name, kind, unit, values: [], dims };
      this.series.set(k, s);
    }
    return s;
  }

  count(name: string, n = 1, dims: Record<string, string> = {}): void {
    const s = this.get(name, "counter", "Count", dims);
    s.values[0] = (s.values[0] ?? 0) + n;
  }

  gauge(name: string, value: number, unit: Unit = "None", dims: Record<string, string> = {}): void {
    this.get(name, "gauge", unit, dims).values = [value];
  }

  observe(name: string, value: number, unit: Unit = "Milliseconds", dims: Record<string, string> = {}): void {
    const s = this.get(name, "timing", unit, dims);
    if (s.values.length < 10_000) s.values.push(value);
  }

  /** Publishes the p95 event-loop delay (ms) of each interval under `name` (e.g. `EventLoopLagMs`). */
  trackEventLoopLag(name = "EventLoopLagMs", resolutionMs = 10): void {
    const h = monitorEventLoopDelay({ resolution: resolutionMs });
    h.enable();
    this.lagHistograms.push({ name, h });
  }

  /** Writes one EMF line per dimension set and resets counters and timings. Returns the lines written. */
  flush(): string[] {
    for (const { name, h } of this.lagHistograms) {
      if (h.count > 0) this.gauge(name, Math.round((h.percentile(95) / 1e6) * 100) / 100, "Milliseconds");
      h.reset();
    }
    const byDims = new Map<string, Series[]>();
    for (const s of this.series.values()) {
      if (s.values.length === 0) continue;
      const k = this.key("", s.dims);
      byDims.set(k, [...(byDims.get(k) ?? []), s]);
    }
    const lines: string[] = [];
    for (const group of byDims.values()) {
      // EMF accepts at most 100 values per metric in one document: longer timing series span several lines.
      const chunks = Math.max(1, ...group.map((s) => Math.ceil(s.values.length / EMF_MAX_VALUES)));
      for (let c = 0; c < chunks; c++) {
        const members = group.filter((s) => (s.kind === "timing" ? s.values.length > c * EMF_MAX_VALUES : c === 0));
        if (members.length === 0) continue;
        const extra = members[0].dims;
        const dimNames = ["ServiceName", ...Object.keys(extra).sort()];
        const doc: Record<string, unknown> = {
          _aws: {
            Timestamp: this.now(),
            CloudWatchMetrics: [
              {
                Namespace: this.opts.namespace,
                Dimensions: [dimNames],
                Metrics: members.map((s) => ({ Name: s.name, Unit: s.unit })),
              },
            ],
          },
          ServiceName: this.opts.serviceName,
          ...extra,
        };
        for (const s of members) {
          doc[s.name] = s.kind === "timing" ? s.values.slice(c * EMF_MAX_VALUES, (c + 1) * EMF_MAX_VALUES) : s.values[0];
        }
        const line = JSON.stringify(doc);
        this.write(line);
        lines.push(line);
      }
    }
    for (const s of this.series.values()) if (s.kind !== "gauge") s.values = [];
    return lines;
  }

  /** Flushes what is pending and stops the timer and the lag monitors. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
    for (const { h } of this.lagHistograms) h.disable();
  }
}

/** The nearest-rank percentile of `values` (p in 0..100); NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function metricsNamespace(project: string, env: string): string {
  return `${project}-${env}`;
}
