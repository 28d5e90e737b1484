/**
 * The operator-facing rules of the sizing, one row per setting: the path under `realtime-chat:sizing`, what is
 * allowed (a range, a list of values, or a test with its wording) and why. `sizingProblems` runs the table once
 * over the merged sizing (tier defaults + the stack's overrides), from `validateStackConfig`, so every message
 * names `realtime-chat:sizing.<path>`, the value, what is allowed and the reason.
 *
 * AWS's own limits come from `infra/components/aws-limits.ts` (each with its AWS page); the rows add the
 * project's reasons and the relations between settings. Components check only what a caller can get wrong in
 * code; they do not repeat these rules.
 */
import { AWS_LIMITS, ELASTICACHE_OLD_NODE_FAMILIES, FARGATE_TASK_SIZES, fargateMemoryFor, LOG_RETENTION_DAYS, WAF_EVALUATION_WINDOWS } from "../components/aws-limits";
import { instanceMemoryGiB, POSTGRES_MAJORS } from "../components/postgres-limits";
import { SOCKET_IO } from "./capacity";
import { CONFIG_NAMESPACE } from "./schema";
import type { TierSizing } from "./tiers";
import { SOCKET_IO_SILENCE_SECONDS } from "./tiers";

/** Seconds kept between a service's drain and its stop timeout (SIGKILL): the workers' last job, the api's last request. */
export const WORKERS_GRACE_MARGIN_SECONDS = 5;

/**
 * The realtime target group's deregistration delay. ECS stops a task behind a load balancer by deregistering it,
 * waiting out the delay (at its end the load balancer breaks the connections left, WebSockets included) and only
 * then sending SIGTERM. A long delay therefore only postpones the cut; one in-flight long-poll (a ping interval)
 * plus a margin is enough.
 */
export const REALTIME_DEREGISTRATION_DELAY_RANGE = { min: Math.ceil(SOCKET_IO.pingIntervalMs / 1000) + 5, max: 60 } as const;

/** What a setting may be. `whole` (default true) also asks for an integer. */
export type Allowed =
  | { range: { min: number; max: number }; whole?: boolean }
  | { oneOf: readonly (string | number | boolean)[] }
  | { test: (value: unknown) => boolean; text: string };

export interface SizingRule {
  /** Path under `sizing`, e.g. `database.backupRetentionDays`. */
  path: string;
  /** What is allowed, given the whole merged sizing; undefined skips the rule (another rule reports the cause). */
  allowed(s: TierSizing): Allowed | undefined;
  /** Why, in the operator's words (may quote other settings). */
  why(s: TierSizing): string;
}

const SERVICES = ["api", "realtime", "workers"] as const;
const show = (v: unknown) => JSON.stringify(v);
const why = (text: string) => () => text;

/** Memory sizes, compactly: "one of 512, 1024, 2048" or "2048 to 8192 in steps of 1024". */
function listMemory(values: readonly number[]): string {
  return values.length > 4 ? `${values[0]} to ${values[values.length - 1]} in steps of ${values[1]! - values[0]!}` : `one of ${values.join(", ")}`;
}

function knownDbClass(instanceClass: unknown): boolean {
  if (typeof instanceClass !== "string") return false;
  try {
    instanceMemoryGiB(instanceClass);
    return true;
  } catch {
    return false;
  }
}

const perService = (rule: (svc: (typeof SERVICES)[number]) => SizingRule): SizingRule[] => SERVICES.map(rule);
const logRetention = (path: string, what: string): SizingRule => ({
  path,
  allowed: () => ({ oneOf: LOG_RETENTION_DAYS }),
  why: why(`CloudWatch Logs keeps ${what} only for these numbers of days`),
});

/** The rules, in the order their problems are reported. */
export const SIZING_RULES: readonly SizingRule[] = [
  // ---- services ----------------------------------------------------------------------------------------
  ...perService((svc) => ({
    path: `services.${svc}.cpu`,
    allowed: () => ({ oneOf: Object.keys(FARGATE_TASK_SIZES).map(Number) }),
    why: why("the cpu units a Fargate task can have; 256 = 0.25 vCPU"),
  })),
  ...perService((svc) => ({
    path: `services.${svc}.memory`,
    allowed: (s) => {
      const memories = fargateMemoryFor(s.services[svc].cpu);
      return memories && { test: (v) => memories.includes(v as number), text: listMemory(memories) };
    },
    why: (s) => `Fargate accepts only these memory sizes (MiB) with cpu ${s.services[svc].cpu}`,
  })),
  ...perService((svc) => ({
    path: `services.${svc}.min`,
    // a ceiling below 1 is reported by its own rule
    allowed: (s) => (s.services[svc].max >= 1 ? { range: { min: 0, max: s.services[svc].max } } : undefined),
    why: (s) => `the autoscaling floor, also the first desired count, cannot exceed the ceiling services.${svc}.max (${s.services[svc].max})`,
  })),
  ...perService((svc) => ({
    path: `services.${svc}.max`,
    allowed: () => ({ range: { min: 1, max: Number.MAX_SAFE_INTEGER } }),
    why: why("the autoscaling ceiling must let at least one task run"),
  })),
  ...perService((svc) => ({
    path: `services.${svc}.cpuTarget`,
    allowed: () => ({ range: { min: 10, max: 95 }, whole: false }),
    why: why("the average CPU percent scaling keeps: below 10 scales out on noise, above 95 leaves no headroom for a spike"),
  })),
  {
    path: "services.api.requestsPerTargetTarget",
    allowed: () => ({ range: { min: 1, max: Number.MAX_SAFE_INTEGER }, whole: false }),
    why: why("the ALB requests per task per minute scaling aims for; 0 would scale out forever"),
  },
  {
    path: "services.realtime.maxConnectionsPerTask",
    allowed: () => ({ range: { min: 1, max: Number.MAX_SAFE_INTEGER } }),
    why: why("the connections a task accepts (MAX_CONNECTIONS_PER_TASK); the connection alarms divide by it"),
  },
  {
    path: "services.realtime.connectionsPerTaskTarget",
    allowed: (s) => {
      const max = s.services.realtime.maxConnectionsPerTask;
      return Number.isInteger(max) && max >= 1 ? { range: { min: 1, max } } : undefined;
    },
    why: (s) => `the scaling target must sit at or below what a task accepts (services.realtime.maxConnectionsPerTask ${s.services.realtime.maxConnectionsPerTask}), ` +
      "or tasks refuse connections before the service scales out",
  },
  {
    path: "services.workers.backlogPerTaskTarget",
    allowed: () => ({ range: { min: 1, max: Number.MAX_SAFE_INTEGER } }),
    why: why("visible queue messages per running task that scaling aims for; 0 would scale out forever"),
  },
  {
    path: "services.workers.stopTimeoutSeconds",
    allowed: (s) => ({ range: { min: s.queues.consumerTimeoutSeconds + WORKERS_GRACE_MARGIN_SECONDS, max: AWS_LIMITS.ecs.fargateStopTimeoutSeconds.max } }),
    why: (s) => `a job gets queues.consumerTimeoutSeconds (${s.queues.consumerTimeoutSeconds}) + ${WORKERS_GRACE_MARGIN_SECONDS} s to finish after SIGTERM, ` +
      `and Fargate stops waiting after ${AWS_LIMITS.ecs.fargateStopTimeoutSeconds.max} s; lower queues.consumerTimeoutSeconds if a job needs longer`,
  },

  // ---- network -----------------------------------------------------------------------------------------
  {
    path: "network.minZones",
    allowed: () => ({ range: { min: 2, max: Number.MAX_SAFE_INTEGER } }),
    why: why("the load balancer and the database's subnet group need subnets in two zones"),
  },
  { path: "network.natGateways", allowed: () => ({ oneOf: ["single", "perZone"] }), why: why("one NAT gateway for the VPC, or one per zone") },
  logRetention("network.flowLogRetentionDays", "the VPC flow log group"),

  // ---- edge --------------------------------------------------------------------------------------------
  {
    path: "alb.idleTimeoutSeconds",
    allowed: () => ({ range: { min: SOCKET_IO_SILENCE_SECONDS + 1, max: AWS_LIMITS.elb.idleTimeoutSeconds.max } }),
    why: why(`a quiet socket sees up to the Socket.IO ping interval + timeout (${SOCKET_IO_SILENCE_SECONDS} s) without traffic and must not be cut; ` +
      `the load balancer allows at most ${AWS_LIMITS.elb.idleTimeoutSeconds.max}`),
  },
  {
    path: "alb.apiDeregistrationDelaySeconds",
    allowed: () => ({ range: AWS_LIMITS.elb.deregistrationDelaySeconds }),
    why: why("seconds in-flight api requests get when a task leaves (the target group's limits)"),
  },
  {
    path: "alb.realtimeDeregistrationDelaySeconds",
    allowed: () => ({ range: REALTIME_DEREGISTRATION_DELAY_RANGE }),
    why: why(`a long-polling request lasts up to the ${SOCKET_IO.pingIntervalMs / 1000} s ping interval; ECS sends SIGTERM only after the delay and ` +
      "the load balancer cuts the remaining sockets when it ends, so a longer delay only slows deploys"),
  },
  {
    path: "alb.stickinessSeconds",
    allowed: () => ({ range: AWS_LIMITS.elb.stickinessSeconds }),
    why: why("lifetime of the realtime stickiness cookie (long-polling must stay on one task); the load balancer allows 1 s to 7 days"),
  },
  {
    path: "alb.accessLogRetentionDays",
    allowed: () => ({ range: { min: 1, max: 3650 } }),
    why: why("days the access logs stay in S3 (and Athena's partition projection reads); at most ten years"),
  },
  {
    path: "waf.evaluationWindowSeconds",
    allowed: () => ({ oneOf: WAF_EVALUATION_WINDOWS.values }),
    why: why("the windows a WAF rate-based rule can count over"),
  },
  {
    path: "waf.socketIoRateLimit",
    allowed: () => ({ range: AWS_LIMITS.waf.rateLimit }),
    why: why("requests per IP per window a WAF rate-based rule can limit to"),
  },
  {
    path: "waf.generalRateLimit",
    allowed: (s) => ({ range: { min: Math.max(AWS_LIMITS.waf.rateLimit.min, s.waf.socketIoRateLimit), max: AWS_LIMITS.waf.rateLimit.max } }),
    why: (s) => `at least waf.socketIoRateLimit (${s.waf.socketIoRateLimit}): the site-wide rule counts the same /socket.io/ requests and would block ` +
      "the reconnect storm the Socket.IO limit allows (WAF's own range is 10 to 2000000000)",
  },
  logRetention("waf.logRetentionDays", "the WAF log group"),

  // ---- database ----------------------------------------------------------------------------------------
  { path: "database.engineMajor", allowed: () => ({ oneOf: POSTGRES_MAJORS }), why: why("the PostgreSQL majors the database component has a parameter group family for") },
  {
    path: "database.instanceClass",
    allowed: () => ({ test: knownDbClass, text: "an RDS class such as db.t4g.small, db.m6g.large or db.r6g.xlarge" }),
    why: why("max_connections and the connection alarms are derived from the class's memory"),
  },
  {
    path: "database.storageGb",
    allowed: () => ({ range: AWS_LIMITS.rds.gp3StorageGb }),
    why: why("allocated gp3 storage for PostgreSQL on RDS; it can grow but never shrink"),
  },
  {
    path: "database.maxStorageGb",
    allowed: (s) => ({ range: { min: s.database.storageGb, max: AWS_LIMITS.rds.gp3StorageGb.max } }),
    why: (s) => `the storage autoscaling ceiling starts at database.storageGb (${s.database.storageGb}); gp3 ends at ${AWS_LIMITS.rds.gp3StorageGb.max}`,
  },
  {
    path: "database.backupRetentionDays",
    allowed: () => ({ range: { min: 1, max: AWS_LIMITS.rds.backupRetentionDays.max } }),
    why: why(`days of automated backups and point-in-time recovery: 0 would turn both off, RDS keeps at most ${AWS_LIMITS.rds.backupRetentionDays.max}`),
  },
  {
    path: "database.proxyMaxConnectionsPercent",
    allowed: (s) => ({
      range: { min: Math.min(AWS_LIMITS.rds.proxyMaxConnectionsPercent.max, Math.floor(s.observability.alarms.rdsConnectionsPercentOfMax.critical) + 1), max: AWS_LIMITS.rds.proxyMaxConnectionsPercent.max },
    }),
    why: (s) => "the share of max_connections the proxy may open must stay above the critical connections alarm " +
      `(observability.alarms.rdsConnectionsPercentOfMax.critical = ${s.observability.alarms.rdsConnectionsPercentOfMax.critical}), or that alarm can never fire through the proxy`,
  },
  {
    path: "database.proxyIdleClientTimeoutSeconds",
    allowed: () => ({ range: AWS_LIMITS.rds.proxyIdleClientTimeoutSeconds }),
    why: why("seconds RDS Proxy keeps an idle client connection; it allows 1 s to 8 hours"),
  },

  // ---- redis -------------------------------------------------------------------------------------------
  {
    path: "redis.nodeType",
    allowed: () => ({
      test: (v) => {
        const m = typeof v === "string" ? /^cache\.([a-z]+\d+[a-z]*)\.[a-z0-9]+$/.exec(v) : null;
        return m !== null && !ELASTICACHE_OLD_NODE_FAMILIES.includes(m[1]!);
      },
      text: "a current-generation ElastiCache node type such as cache.t4g.small, cache.m7g.large or cache.r7g.large",
    }),
    why: why("a previous-generation node (t2, m3, r3...) cannot do Multi-AZ with automatic failover or encryption in transit"),
  },
  {
    path: "redis.replicas",
    allowed: (s) => ({ range: { min: s.redis.multiAz ? 1 : 0, max: AWS_LIMITS.elasticache.replicas.max } }),
    why: (s) => (s.redis.multiAz
      ? "Multi-AZ with automatic failover (redis.multiAz true) needs a replica in another zone to fail over to; ElastiCache allows at most 5"
      : "replicas of the primary; ElastiCache allows at most 5"),
  },
  {
    path: "redis.snapshotRetentionDays",
    allowed: () => ({ range: AWS_LIMITS.elasticache.snapshotRetentionDays }),
    why: why("days of daily snapshots (0 turns them off); ElastiCache keeps at most 35"),
  },

  // ---- queues ------------------------------------------------------------------------------------------
  {
    path: "queues.maxReceiveCount",
    allowed: () => ({ range: AWS_LIMITS.sqs.maxReceiveCount }),
    why: why("receives before a message moves to its dead-letter queue; 0 would dead-letter nothing and retry forever"),
  },
  {
    path: "queues.consumerTimeoutSeconds",
    allowed: () => ({ range: { min: 1, max: AWS_LIMITS.sqs.visibilityTimeoutSeconds.max - 1 } }),
    why: why("the longest a worker spends on one job (JOB_TIMEOUT_MS); the visibility timeout must exceed it"),
  },
  {
    path: "queues.visibilityTimeoutSeconds",
    allowed: (s) => ({ range: { min: s.queues.consumerTimeoutSeconds + 1, max: AWS_LIMITS.sqs.visibilityTimeoutSeconds.max } }),
    why: (s) => `longer than queues.consumerTimeoutSeconds (${s.queues.consumerTimeoutSeconds}), or a job still running becomes visible and runs twice ` +
      `(e.g. ${s.queues.consumerTimeoutSeconds + 30}); SQS allows at most 12 hours`,
  },
  {
    path: "queues.messageRetentionDays",
    allowed: () => ({ range: { min: 1, max: AWS_LIMITS.sqs.messageRetentionSeconds.max / 86_400 } }),
    why: why("days an unprocessed message waits; SQS keeps a message at most 14 days"),
  },
  {
    path: "queues.dlqRetentionDays",
    allowed: (s) => {
      const max = AWS_LIMITS.sqs.messageRetentionSeconds.max / 86_400;
      return s.queues.messageRetentionDays <= max ? { range: { min: Math.max(1, s.queues.messageRetentionDays), max } } : undefined;
    },
    why: (s) => `at least queues.messageRetentionDays (${s.queues.messageRetentionDays}): a message keeps its original age in the dead-letter queue, so a shorter ` +
      "retention loses it before it can be redriven; SQS keeps at most 14 days",
  },

  // ---- observability -----------------------------------------------------------------------------------
  logRetention("observability.logRetentionDays", "the services' log groups"),
  ...alarmRules(),

  // ---- backup ------------------------------------------------------------------------------------------
  {
    path: "backup.dailyRetentionDays",
    allowed: () => ({ range: { min: 1, max: Number.MAX_SAFE_INTEGER } }),
    why: why("daily recovery points must be kept at least a day"),
  },
  {
    path: "backup.weeklyRetentionDays",
    allowed: () => ({ test: (v) => v === 0 || (Number.isInteger(v) && (v as number) >= 7), text: "0 (no weekly points) or a whole number >= 7" }),
    why: why("a weekly point kept less than a week is gone before the next one"),
  },
  {
    path: "backup.monthlyRetentionDays",
    allowed: () => ({ test: (v) => v === 0 || (Number.isInteger(v) && (v as number) >= 28), text: "0 (no monthly points) or a whole number >= 28" }),
    why: why("a monthly point kept less than a month is gone before the next one"),
  },
  {
    path: "backup.vaultLock",
    allowed: (s) => (s.backup.crossRegionCopy ? undefined : { oneOf: [false] }),
    why: why("a locked vault without a DR copy (backup.crossRegionCopy) keeps everything in one region; enable crossRegionCopy too"),
  },
];

/** Per alarm threshold: the warning at most the critical value, percentages at most 100. */
function alarmRules(): SizingRule[] {
  // the same keys in every tier (TierSizing's type); read from the sizing at check time
  const keys = ["ecsCpuPercent", "ecsMemoryPercent", "rdsConnectionsPercentOfMax", "redisMemoryPercent", "realtimeConnectionsPercentOfMax",
    "eventLoopLagMs", "queueDepth", "dlqMessages", "redisEngineCpuPercent", "alb5xxPercent", "queueMessageAgeSeconds"] as const;
  return keys.flatMap((key): SizingRule[] => [
    {
      path: `observability.alarms.${key}.critical`,
      allowed: () => ({ range: { min: 0, max: key.includes("Percent") ? 100 : Number.MAX_SAFE_INTEGER }, whole: false }),
      why: why(key.includes("Percent") ? "the paging threshold, a percentage" : "the paging threshold"),
    },
    {
      path: `observability.alarms.${key}.warning`,
      allowed: (s) => {
        const critical = s.observability.alarms[key].critical;
        return Number.isFinite(critical) ? { range: { min: 0, max: Math.max(0, critical) }, whole: false } : undefined;
      },
      why: (s) => `the warning fires before the page: at most observability.alarms.${key}.critical (${s.observability.alarms[key].critical})`,
    },
  ]);
}

/** The value at `path` in the sizing. */
function at(s: TierSizing, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), s);
}

function ok(value: unknown, allowed: Allowed): boolean {
  if ("range" in allowed) {
    return typeof value === "number" && Number.isFinite(value) && value >= allowed.range.min && value <= allowed.range.max &&
      (allowed.whole === false || Number.isInteger(value));
  }
  if ("oneOf" in allowed) return allowed.oneOf.includes(value as string | number | boolean);
  return allowed.test(value);
}

/** "a whole number from 1 to 35", "one of 60, 120, 300, 600", or the rule's own wording. */
export function describeAllowed(allowed: Allowed): string {
  if ("range" in allowed) {
    const { min, max } = allowed.range;
    const kind = allowed.whole === false ? "a number" : "a whole number";
    return max >= Number.MAX_SAFE_INTEGER ? `${kind} >= ${min}` : `${kind} from ${min} to ${max}`;
  }
  if ("oneOf" in allowed) return `one of ${allowed.oneOf.map((v) => (typeof v === "string" ? show(v) : String(v))).join(", ")}`;
  return allowed.text;
}

/** Every broken rule of the merged sizing, as `realtime-chat:sizing.<path> = <value>: must be <allowed> (<why>)`. */
export function sizingProblems(s: TierSizing, rules: readonly SizingRule[] = SIZING_RULES): string[] {
  const problems: string[] = [];
  for (const rule of rules) {
    const allowed = rule.allowed(s);
    if (allowed === undefined) continue;
    const value = at(s, rule.path);
    if (!ok(value, allowed)) {
      problems.push(`${CONFIG_NAMESPACE}:sizing.${rule.path} = ${show(value)}: must be ${describeAllowed(allowed)} (${rule.why(s)})`);
    }
  }
  return problems;
}

/** Paths the table covers (for the docs and the test that every sizing leaf has a rule or a reason not to). */
export function ruledPaths(rules: readonly SizingRule[] = SIZING_RULES): string[] {
  return [...new Set(rules.map((r) => r.path))];
}
