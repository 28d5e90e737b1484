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
  /** GB of logs (services, WAF, flow logs) per DAU per month. */
  logGbPerDauPerMonth: 0.01,
  /** GB of logs per month whatever the traffic (health checks, idle tasks, flow logs). */
  logGbBaselinePerMonth: 5,
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
