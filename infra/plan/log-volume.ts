/**
 * Monthly log volume per log group, from the traffic model and the bytes each source writes per unit of work.
 *
 * The services' figures are measured (`npm run bench:logs`, bench/results/logs.md): the api writes one line
 * per request, the workers one per job, the realtime service only its metric flushes (EMF) and nothing per
 * message at `info`. The load balancer's health checks reach the api, which logs them too. WAF and VPC flow
 * logs are written by AWS, so their sizes come from AWS's documented record formats and the assumptions below.
 * Plain functions over plain values: the cost rules (./cost.ts) and the endpoint choice
 * (infra/config/capacity.ts) read the same figures.
 */
import type { Assumptions } from "./assumptions";

export type LogSource = "api" | "realtime" | "workers" | "toolbox" | "waf" | "flow";

/** The traffic figures log volume depends on (the capacity model's, or a stack's `traffic` override). */
export interface LogTraffic {
  messagesPerDauPerDay: number;
  jobsPerMessage: number;
}

/** Tasks running per service (the autoscaling floor), for the per-task metric flushes and health checks. */
export type TaskCounts = Partial<Record<"api" | "realtime" | "workers", number>>;

const DAYS_PER_MONTH = 30;
const HOURS_PER_MONTH = 730;

/**
 * Which source writes to a log group, from the group's name: `/ecs/<project>-<env>/<service>` (the services
 * and the toolbox), `aws-waf-logs-...` (WAF requires that prefix) and `/vpc/<prefix>/flow-logs`.
 */
export function logSourceOf(groupName: unknown): LogSource | undefined {
  if (typeof groupName !== "string") return undefined;
  if (groupName.startsWith("aws-waf-logs-")) return "waf";
  if (groupName.startsWith("/vpc/") && groupName.endsWith("/flow-logs")) return "flow";
  const service = /^\/ecs\/[^/]+\/(api|realtime|workers|toolbox)$/.exec(groupName)?.[1];
  return service as LogSource | undefined;
}

/**
 * GB a month one source writes at `dau` daily active users.
 * - api: every request through the load balancer counted as an api request (an upper bound: Socket.IO
 *   handshakes are among them), plus health checks and metric flushes per task.
 * - realtime: metric values per message plus metric flushes per task.
 * - workers: one line per job plus metric flushes per task.
 * - toolbox: runs only when an operator starts it: nothing month to month.
 * - waf: only requests a rule blocked or counted are logged (the logging filter), one JSON record each.
 * - flow: one record per flow, per direction, per network interface it crosses, per 10-minute aggregation
 *   interval: long-lived Socket.IO connections at the average concurrency, and one short flow per
 *   `requestsPerClientConnection` HTTP requests.
 */
export function logGbPerMonth(source: LogSource, dau: number, a: Assumptions, traffic: LogTraffic, tasks: TaskCounts = {}): number {
  const requests = dau * a.requestsPerDauPerDay * DAYS_PER_MONTH;
  const messages = dau * traffic.messagesPerDauPerDay * DAYS_PER_MONTH;
  const taskHours = (s: keyof TaskCounts) => (tasks[s] ?? 1) * HOURS_PER_MONTH;
  let bytes: number;
  switch (source) {
    case "api":
      bytes = requests * a.apiLogBytesPerRequest +
        taskHours("api") * (a.serviceLogBytesPerTaskHour + a.healthChecksPerTaskHour * a.apiLogBytesPerHealthCheck);
      break;
    case "realtime":
      bytes = messages * a.realtimeLogBytesPerMessage + taskHours("realtime") * a.serviceLogBytesPerTaskHour;
      break;
    case "workers":
      bytes = messages * traffic.jobsPerMessage * a.workersLogBytesPerJob + taskHours("workers") * a.serviceLogBytesPerTaskHour;
      break;
    case "toolbox":
      bytes = 0;
      break;
    case "waf":
      bytes = requests * a.wafLoggedShare * a.wafLogRecordBytes;
      break;
    case "flow": {
      const intervals = (HOURS_PER_MONTH * 60) / 10;
      const longLived = dau * a.averageConcurrencyShare * intervals;
      const shortLived = requests / a.requestsPerClientConnection;
      bytes = (longLived + shortLived) * a.flowRecordsPerConnection * a.flowLogRecordBytes;
      break;
    }
  }
  return bytes / 1e9;
}

/** GB a month the services send to CloudWatch Logs from inside the VPC (what a `logs` endpoint would carry). */
export function serviceLogGbPerMonth(dau: number, a: Assumptions, traffic: LogTraffic, tasks: TaskCounts = {}): number {
  return (["api", "realtime", "workers"] as const).reduce((gb, s) => gb + logGbPerMonth(s, dau, a, traffic, tasks), 0);
}
