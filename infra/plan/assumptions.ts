/**
 * Traffic assumptions behind the usage-based cost lines, per daily active user (DAU) unless the name says
 * otherwise. Fixed-price items (instances, nodes, tasks, hours) do not depend on them.
 *
 * Override any of them on the command line: `npm run plan -- --stack 10k-dau --assume natGbPerDauPerMonth=0.02`.
 * The plan JSON records the values it used (`cost.assumptions`).
 */
export const DEFAULT_ASSUMPTIONS = {
  /** HTTP requests through the ALB and WAF per DAU per day (REST/GraphQL calls, Socket.IO handshakes and polls). */
  requestsPerDauPerDay: 300,
  /** Share of the day's users connected on average (the capacity model's peak share is 0.3). */
  averageConcurrencyShare: 0.1,
  /** GB the ALB processes per DAU per month (requests, responses and WebSocket frames). */
  albGbPerDauPerMonth: 0.03,
  /** GB leaving through NAT per DAU per month (push gateway calls, third-party APIs). */
  natGbPerDauPerMonth: 0.005,
  /** GB through NAT per month whatever the traffic (image pulls and AWS APIs without an endpoint). */
  natGbBaselinePerMonth: 20,
  /** GB through interface endpoints per DAU per month (SQS, Secrets Manager, logs, metrics). */
  endpointGbPerDauPerMonth: 0.005,
  // Log volume (infra/plan/log-volume.ts). Service figures: `npm run bench:logs` (bench/results/logs.md), the
  // real services at LOG_LEVEL=info, bytes as written to stdout (what the awslogs driver sends).
  /** Bytes the api logs per request (one JSON line, plus its metric values): measured 270. */
  apiLogBytesPerRequest: 270,
  /** Bytes the api logs per load-balancer health check (it logs each one): measured 196. */
  apiLogBytesPerHealthCheck: 196,
  /** Health checks per api task per hour: one per load-balancer node (one per zone, 3) every 15 s. */
  healthChecksPerTaskHour: 720,
  /** Bytes the realtime service logs per message (metric values only; nothing per message at info): measured 1.6-1.7. */
  realtimeLogBytesPerMessage: 1.7,
  /** Bytes the workers log per job (one line when it is done): measured 196-198. */
  workersLogBytesPerJob: 198,
  /** Bytes a service task logs per hour with no traffic (metric flushes every 10 s): measured 100,000 (api) and 166,000 (realtime). */
  serviceLogBytesPerTaskHour: 166_000,
  /**
   * Share of requests WAF logs: only those a rule blocked or counted (the logging filter in
   * infra/components/waf.ts). Rate-limited clients, scanners and the count-mode SQL-injection matches on message
   * paths; an assumption, to revisit from the `waf-logs` group's first month.
   */
  wafLoggedShare: 0.01,
  /** Bytes per WAF log record: the records in AWS WAF's log examples (with the request headers) are 1-2 kB. */
  wafLogRecordBytes: 1500,
  /**
   * Bytes per VPC flow log record in CloudWatch Logs: a default-format (version 2) line is about 100 characters,
   * and CloudWatch Logs counts 26 bytes per event on top of its message.
   */
  flowLogRecordBytes: 130,
  /**
   * Flow log records per connection per 10-minute aggregation interval: both directions, seen on the load
   * balancer's interface (client side and target side) and on the task's.
   */
  flowRecordsPerConnection: 6,
  /** HTTP requests a client sends per TCP connection (keep-alive) before it opens another. */
  requestsPerClientConnection: 10,
  /** SQS requests per DAU per month (send + receive + delete of ~20 jobs a day). */
  sqsRequestsPerDauPerMonth: 1800,
  /** Long-poll receives per worker task per month per queue with no traffic (20 s polls). */
  sqsIdlePollsPerTaskPerMonth: 131_400,
  /** Share of the allocated database storage actually used (what snapshots hold). */
  databaseUsedShare: 0.5,
  /** Backup storage as a multiple of the used database size (incremental snapshots over the retention). */
  backupStorageFactor: 1.5,
  /** Share of the used database size that changes per month (what cross-region copies transfer). */
  monthlyChangeShare: 0.3,
  /** GB of ALB access logs kept in S3 per DAU per month. */
  s3LogGbPerDauPerMonth: 0.005,
  /** GB of images kept per ECR repository. */
  ecrGbPerRepository: 1,
};

export type Assumptions = typeof DEFAULT_ASSUMPTIONS;
export type AssumptionName = keyof Assumptions;

/** Parses `name=value` overrides; throws a one-line error naming the bad entry. */
export function parseAssumptions(entries: string[], base: Assumptions = DEFAULT_ASSUMPTIONS): Assumptions {
  const out: Assumptions = { ...base };
  for (const entry of entries) {
    const m = /^([A-Za-z]+)=(.+)$/.exec(entry);
    if (!m) throw new Error(`--assume ${entry}: expected name=value, e.g. --assume natGbPerDauPerMonth=0.02`);
    const [, name, raw] = m as unknown as [string, string, string];
    if (!(name in DEFAULT_ASSUMPTIONS)) throw new Error(`--assume ${name}: unknown assumption; known: ${Object.keys(DEFAULT_ASSUMPTIONS).join(", ")}`);
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--assume ${name}=${raw}: expected a number >= 0`);
    out[name as AssumptionName] = value;
  }
  return out;
}
