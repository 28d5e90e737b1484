/**
 * DAU tiers as plain data. Everything the stacks size lives here, one section per layer; components read
 * their section and never branch on the tier name. Every size (task counts, the database class, storage and
 * proxy, the Redis node type and replicas, the NAT strategy and interface endpoints) comes from the capacity
 * model in `capacity.ts`; what is chosen per tier below is the promise (zone-redundant or not), the task sizes,
 * retention and thresholds. A stack's `traffic` config key re-derives its tier with other traffic assumptions.
 *
 * Rule, enforced by `tiers.test.ts`: a bigger tier never gets less of anything.
 * To add a setting: add the field (with a TSDoc line: it becomes its meaning in docs/CONFIG.md) to the section
 * interface and a value to every tier, then run `npm run docs:config`.
 */
import { CAPACITY, databaseConnections, databaseTasks, deriveDatabase, deriveNetwork, deriveRedis, estimateTraffic, realtimeConnectionsPerTask, SOCKET_IO, taskCounts, workerJobsPerSecondPerTask } from "./capacity";
import type { AvailabilityPromise, CapacityModel } from "./capacity";
import { HOURS_PER_MONTH, PRICES } from "../plan/prices";

export const TIER_NAMES = ["dev", "1k-dau", "10k-dau", "100k-dau"] as const;
export type TierName = (typeof TIER_NAMES)[number];

import type { NatStrategy } from "../components/network";
import { DB_PROXY_DEFAULTS } from "../components/db-proxy-defaults";
export type { NatStrategy };

export interface NetworkSizing {
  /** Fewest availability zones the stack may list (RDS and ALB need two; production tiers spread over three). */
  minZones: number;
  /** One NAT gateway for the whole VPC, or one per zone (no cross-zone dependency). */
  natGateways: NatStrategy;
  /** Interface VPC endpoints (service suffix after `com.amazonaws.<region>.`); S3 always gets a gateway endpoint. */
  interfaceEndpoints: string[];
  /** Retention of the VPC flow log group, in days. */
  flowLogRetentionDays: number;
}

export interface WafSizing {
  /** Requests per IP per evaluation window across the whole site before blocking; at least `socketIoRateLimit` (it counts the same requests). */
  generalRateLimit: number;
  /** Requests per IP per evaluation window to `/socket.io/` before blocking; sized for a reconnect storm after a deploy (users behind one NAT x 14.4, `RECONNECT_STORM` in tiers.ts). */
  socketIoRateLimit: number;
  /** Rate-based rule window, seconds (60, 120, 300 or 600). */
  evaluationWindowSeconds: number;
  /** Retention of the WAF log group, in days. */
  logRetentionDays: number;
}

/**
 * Sizing of the per-IP `/socket.io/` rate limit for a reconnect storm after a deploy: every user behind one
 * NAT address (an office, a campus, a carrier-grade NAT slice) reconnects at once when the realtime tasks roll.
 *
 * - One reconnect costs 4 requests to `/socket.io/`: the polling handshake (GET), the CONNECT packet (POST),
 *   the first poll (GET) and the WebSocket upgrade (GET).
 * - A rolling deploy can move a socket up to 3 times in one 5-minute window: off the first old task, off an
 *   old task it landed on that drains next, and once more if the client's own backoff retry fails.
 * - Users who stay on long-polling (a proxy that blocks WebSockets; 10 % assumed) poll about twice per ping
 *   interval (a GET that the server answers at the ping, and the POST of the pong): 2 x 300 s / 25 s = 24
 *   requests per window even when idle.
 *
 * limit = users x (3 x 4) + users x 10 % x 24 = users x 14.4. With `usersBehindOneNat` = 250 (dev, 1k-dau),
 * 500 (10k-dau) and 1,000 (100k-dau): 3,600, 7,200 and 14,400 per 5 minutes. A single client reaching that
 * alone is a flood. The site-wide limit counts the same requests, so it sits above the Socket.IO one by the
 * tier's api allowance (`generalRateLimit` = Socket.IO limit + api requests per IP).
 */
export const RECONNECT_STORM = {
  requestsPerReconnect: 4,
  reconnectsPerDeploy: 3,
  pollingShare: 0.1,
  pollingRequestsPerWindow: 24,
} as const;

/** `/socket.io/` requests per IP per 5-minute window that `users` behind one address make in a reconnect storm. */
export function socketIoStormLimit(users: number): number {
  const r = RECONNECT_STORM;
  return Math.ceil(users * (r.reconnectsPerDeploy * r.requestsPerReconnect + r.pollingShare * r.pollingRequestsPerWindow));
}

/** WAF sizing: the Socket.IO limit from the storm model, the site-wide one above it by `apiRequests`. */
function waf(usersBehindOneNat: number, apiRequests: number, logRetentionDays: number): WafSizing {
  const socketIoRateLimit = socketIoStormLimit(usersBehindOneNat);
  return { generalRateLimit: socketIoRateLimit + apiRequests, socketIoRateLimit, evaluationWindowSeconds: 300, logRetentionDays };
}

export interface AlbSizing {
  /** Idle timeout; must exceed the Socket.IO ping interval + timeout so idle sockets are not cut. */
  idleTimeoutSeconds: number;
  /** Deregistration delay of the api target group. */
  apiDeregistrationDelaySeconds: number;
  /** Deregistration delay of the realtime target group, 30 to 60 s: ECS sends SIGTERM only after it and the ALB cuts the sockets left when it ends, so one long-poll is enough. */
  realtimeDeregistrationDelaySeconds: number;
  /** Lifetime of the realtime stickiness cookie (long-polling must hit the same task). */
  stickinessSeconds: number;
  /** Days ALB access logs are kept in S3 before expiry. */
  accessLogRetentionDays: number;
  /** Refuse to delete the ALB; off for dev so a throwaway stack tears down in one `pulumi destroy`. */
  deletionProtection: boolean;
}

export interface ServiceSizing {
  /** Fargate cpu units (256 = 0.25 vCPU). */
  cpu: number;
  /** Fargate memory, MiB; must be a valid pair with cpu. */
  memory: number;
  /** Autoscaling floor (also the initial desired count). */
  min: number;
  /** Autoscaling ceiling. */
  max: number;
  /** Target average CPU utilization, percent. */
  cpuTarget: number;
}

export interface ApiSizing extends ServiceSizing {
  /** Target ALB requests per target per minute. */
  requestsPerTargetTarget: number;
}

export interface RealtimeSizing extends ServiceSizing {
  /** Connections a task accepts (MAX_CONNECTIONS_PER_TASK); alarms and scaling use it. */
  maxConnectionsPerTask: number;
  /** Scaling target for the ActiveConnections metric, per task. */
  connectionsPerTaskTarget: number;
}

export interface WorkersSizing extends ServiceSizing {
  /** Scaling target: visible queue messages per running task. */
  backlogPerTaskTarget: number;
  /** Seconds ECS waits after SIGTERM so a batch can finish. */
  stopTimeoutSeconds: number;
}

export interface ServicesSizing {
  api: ApiSizing;
  realtime: RealtimeSizing;
  workers: WorkersSizing;
}

export interface DatabaseSizing {
  /** PostgreSQL major version. */
  engineMajor: string;
  /** RDS instance class (e.g. db.r6g.large). */
  instanceClass: string;
  /** Allocated gp3 storage, GB (20 or more). */
  storageGb: number;
  /** Ceiling for storage autoscaling, GB. */
  maxStorageGb: number;
  /** Standby instance in a second zone with automatic failover. */
  multiAz: boolean;
  /** Days of automated backups (point-in-time recovery window), 1 to 35. */
  backupRetentionDays: number;
  /** Services connect through RDS Proxy (connection pooling, IAM auth, faster failover). */
  proxyEnabled: boolean;
  /**
   * Share of the database's max_connections the proxy may open. Must stay above the critical connections
   * alarm (observability.alarms.rdsConnectionsPercentOfMax) or that alarm could never fire through the proxy.
   */
  proxyMaxConnectionsPercent: number;
  /** Seconds an idle client connection to the proxy is kept. */
  proxyIdleClientTimeoutSeconds: number;
  /** Deletion protection, a final snapshot and Pulumi protect/retainOnDelete on the data; off only where the data is disposable (dev). */
  deletionProtection: boolean;
}

export interface RedisSizing {
  /** ElastiCache node type (e.g. cache.r7g.large). */
  nodeType: string;
  /** Read replicas per shard (0 = primary only). */
  replicas: number;
  /** Automatic failover to a replica in another zone (needs replicas >= 1). */
  multiAz: boolean;
  /** Days of daily snapshots kept. */
  snapshotRetentionDays: number;
}

export interface QueuesSizing {
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  /** Time a worker may spend on one job (JOB_TIMEOUT_MS / 1000); the visibility timeout is sized from it. */
  consumerTimeoutSeconds: number;
  /** Queue visibility timeout (VISIBILITY_TIMEOUT_S): above consumerTimeoutSeconds by enough for the delete call and a slow shutdown (here 30 s). */
  visibilityTimeoutSeconds: number;
  /** Days an unprocessed message stays in the push and offline queues. */
  messageRetentionDays: number;
  /** Days a message stays in a dead-letter queue (longer than the source, so redrive is possible). */
  dlqRetentionDays: number;
}

export interface Threshold {
  warning: number;
  critical: number;
}

export interface ObservabilitySizing {
  /** Retention of the services' log groups (`/ecs/<project>-<env>/<service>`), days. */
  logRetentionDays: number;
  /** From the operators' "Key Metrics" table. Percentages unless the name says otherwise. */
  alarms: {
    ecsCpuPercent: Threshold;
    ecsMemoryPercent: Threshold;
    rdsConnectionsPercentOfMax: Threshold;
    redisMemoryPercent: Threshold;
    realtimeConnectionsPercentOfMax: Threshold;
    eventLoopLagMs: Threshold;
    queueDepth: Threshold;
    dlqMessages: Threshold;
    /** Not in the Key Metrics table; the incidents name these alarms. Redis EngineCPUUtilization (its one thread). */
    redisEngineCpuPercent: Threshold;
    /** ALB 5xx responses (ELB + targets) as a percent of requests. */
    alb5xxPercent: Threshold;
    /** Age of the oldest message in the push/offline queues, seconds. */
    queueMessageAgeSeconds: Threshold;
  };
}

export interface BackupSizing {
  dailyRetentionDays: number;
  weeklyRetentionDays: number;
  monthlyRetentionDays: number;
  /** AWS Backup vault lock (compliance mode): recovery points cannot be deleted early. */
  vaultLock: boolean;
  /** Copy recovery points to the DR region's vault. */
  crossRegionCopy: boolean;
  /** Replicate RDS automated backups (point-in-time recovery) to the DR region. */
  crossRegionPitr: boolean;
}

export interface TierSizing {
  /** Daily active users the tier is sized for. */
  dau: number;
  network: NetworkSizing;
  waf: WafSizing;
  alb: AlbSizing;
  services: ServicesSizing;
  database: DatabaseSizing;
  redis: RedisSizing;
  queues: QueuesSizing;
  observability: ObservabilitySizing;
  backup: BackupSizing;
}

/** Alarm thresholds from the runbook's Key Metrics table (same for every tier). */
const KEY_METRIC_ALARMS: ObservabilitySizing["alarms"] = {
  ecsCpuPercent: { warning: 70, critical: 85 },
  ecsMemoryPercent: { warning: 70, critical: 85 },
  rdsConnectionsPercentOfMax: { warning: 70, critical: 90 },
  redisMemoryPercent: { warning: 70, critical: 85 },
  realtimeConnectionsPercentOfMax: { warning: 80, critical: 95 },
  eventLoopLagMs: { warning: 100, critical: 200 },
  queueDepth: { warning: 1000, critical: 5000 },
  dlqMessages: { warning: 1, critical: 10 },
  redisEngineCpuPercent: { warning: 70, critical: 85 },
  alb5xxPercent: { warning: 1, critical: 5 },
  // push notifications older than a few minutes are stale; 15 minutes means the workers are not keeping up
  queueMessageAgeSeconds: { warning: 300, critical: 900 },
};

interface TaskSize {
  cpu: number;
  memory: number;
}

/**
 * Fargate task sizes the model chooses from (cpu units, memory MiB: the smallest memory Fargate allows with the
 * cpu). Realtime connections grow with the cpu up to CAPACITY.maxMeasuredConnectionsPerTask (at the measured
 * connections per vCPU that cap lies beyond the largest size listed) and the api/worker figures are per vCPU, so
 * beyond 1 vCPU only the task count changes.
 */
export const TASK_SIZES: readonly TaskSize[] = [
  { cpu: 256, memory: 512 },
  { cpu: 512, memory: 1024 },
  { cpu: 1024, memory: 2048 },
];

/** Monthly Fargate price of one task (us-east-1 list prices), to rank task sizes. */
function taskMonthlyUsd(t: TaskSize): number {
  const p = PRICES["us-east-1"]!;
  return ((t.cpu / 1024) * p.fargateVcpuHour.usd + (t.memory / 1024) * p.fargateGbHour.usd) * HOURS_PER_MONTH;
}

/**
 * The task size whose task count costs least at the floor; within 5% of the cheapest, the larger task (fewer,
 * steadier tasks for the same money).
 */
function cheapestTasks<T extends { min: number }>(counts: (size: TaskSize) => T): TaskSize {
  const priced = TASK_SIZES.map((size) => ({ size, usd: counts(size).min * taskMonthlyUsd(size) }));
  const least = Math.min(...priced.map((o) => o.usd));
  return priced.filter((o) => o.usd <= least * 1.05).sort((a, b) => b.size.cpu - a.size.cpu)[0]!.size;
}

/** Derives the three services' task sizes and counts from the DAU through the capacity model. */
function servicesFor(dau: number, floor: number, model: CapacityModel): ServicesSizing {
  const traffic = estimateTraffic(dau, model);
  const vcpu = (t: TaskSize) => t.cpu / 1024;
  const apiCounts = (t: TaskSize) => taskCounts(traffic.apiRequestsPerSecond, model.apiRequestsPerSecondPerVcpu * vcpu(t), floor, model);
  const rtCounts = (t: TaskSize) => taskCounts(traffic.peakConnections, realtimeConnectionsPerTask(t.cpu, model), floor, model);
  const workerCounts = (t: TaskSize) => taskCounts(traffic.jobsPerSecond, workerJobsPerSecondPerTask(t.cpu, model), floor, model);
  const api = cheapestTasks(apiCounts);
  const realtime = cheapestTasks(rtCounts);
  const workers = cheapestTasks(workerCounts);
  const maxConnectionsPerTask = realtimeConnectionsPerTask(realtime.cpu, model);
  return {
    api: {
      ...api,
      ...apiCounts(api),
      cpuTarget: 60,
      // requests per target per minute at the same utilization the headroom leaves
      requestsPerTargetTarget: Math.floor((model.apiRequestsPerSecondPerVcpu * vcpu(api) * 60) / model.headroom),
    },
    realtime: {
      ...realtime,
      ...rtCounts(realtime),
      cpuTarget: 60,
      maxConnectionsPerTask,
      connectionsPerTaskTarget: Math.floor(maxConnectionsPerTask * model.realtimeTargetUtilization),
    },
    workers: {
      ...workers,
      ...workerCounts(workers),
      cpuTarget: 70,
      backlogPerTaskTarget: 100,
      stopTimeoutSeconds: 120,
    },
  };
}

/** What a tier is sized from: its DAU, its promise and the settings chosen by hand (not sizes). */
interface TierBasis {
  dau: number;
  /** Zone-redundant: Multi-AZ database, a Redis replica with automatic failover, NAT per zone, 2+ tasks per service. */
  promise: AvailabilityPromise;
  minZones: number;
}

const PROXY_MAX_CONNECTIONS_PERCENT = DB_PROXY_DEFAULTS.maxConnectionsPercent;

/** The sizes the capacity model derives for a tier: services, database, Redis and network. */
function derived(b: TierBasis, model: CapacityModel) {
  const floor = b.promise.zoneRedundant ? 2 : 1;
  const services = servicesFor(b.dau, floor, model);
  const traffic = estimateTraffic(b.dau, model);
  const connectionsAtPeak = databaseConnections(databaseTasks(services), model);
  const db = deriveDatabase({ ...traffic, connectionsAtPeak }, b.promise, PROXY_MAX_CONNECTIONS_PERCENT, model);
  const redis = deriveRedis(traffic, b.promise, model);
  const net = deriveNetwork(b.dau, b.minZones, b.promise, model);
  return {
    services,
    network: { minZones: b.minZones, natGateways: net.natGateways, interfaceEndpoints: net.interfaceEndpoints },
    database: {
      instanceClass: db.instanceClass,
      storageGb: db.storageGb,
      maxStorageGb: db.maxStorageGb,
      multiAz: db.multiAz,
      // required on every tier: the images carry no RDS CA bundle, the proxy terminates TLS (load.ts)
      proxyEnabled: true,
      proxyMaxConnectionsPercent: PROXY_MAX_CONNECTIONS_PERCENT,
    },
    redis: { nodeType: redis.nodeType, replicas: redis.replicas, multiAz: redis.multiAz },
  };
}

export const TIER_BASIS: Record<TierName, TierBasis> = {
  dev: {
    dau: 100, promise: { zoneRedundant: false }, minZones: 2,
  },
  "1k-dau": {
    dau: 1_000, promise: { zoneRedundant: true }, minZones: 2,
  },
  "10k-dau": {
    dau: 10_000, promise: { zoneRedundant: true }, minZones: 3,
  },
  "100k-dau": {
    dau: 100_000, promise: { zoneRedundant: true }, minZones: 3,
  },
};

const alb = (accessLogRetentionDays: number, deletionProtection = true): AlbSizing => ({
  // Socket.IO: ping every 25 s, give up after 20 s more -> 45 s of silence is normal; allow well over it
  idleTimeoutSeconds: 120,
  apiDeregistrationDelaySeconds: 30,
  // ECS sends SIGTERM only after the delay, and the ALB cuts the sockets left when it ends: keep it short,
  // one long-poll (25 s ping interval) plus a margin (infra/compute.ts, REALTIME_DEREGISTRATION_DELAY_RANGE)
  realtimeDeregistrationDelaySeconds: 30,
  stickinessSeconds: 86_400,
  accessLogRetentionDays,
  deletionProtection,
});

/** The tier table for a capacity model: hand-chosen settings around the sizes the model derives. */
export function buildTier(tier: TierName, model: CapacityModel = CAPACITY): TierSizing {
  const b = TIER_BASIS[tier];
  const d = derived(b, model);
  const queues: QueuesSizing = { maxReceiveCount: 5, consumerTimeoutSeconds: 30, visibilityTimeoutSeconds: 60, messageRetentionDays: 4, dlqRetentionDays: 14 };
  const db = (backupRetentionDays: number, deletionProtection: boolean): DatabaseSizing => ({
    engineMajor: "16", ...d.database, backupRetentionDays, proxyIdleClientTimeoutSeconds: DB_PROXY_DEFAULTS.idleClientTimeoutSeconds, deletionProtection,
  });
  switch (tier) {
    case "dev":
      return {
        dau: b.dau,
        network: { ...d.network, flowLogRetentionDays: 7 },
        waf: waf(250, 2000, 7),
        alb: alb(7, false),
        services: d.services,
        database: db(1, false),
        redis: { ...d.redis, snapshotRetentionDays: 1 },
        queues,
        observability: { logRetentionDays: 7, alarms: KEY_METRIC_ALARMS },
        backup: { dailyRetentionDays: 7, weeklyRetentionDays: 0, monthlyRetentionDays: 0, vaultLock: false, crossRegionCopy: false, crossRegionPitr: false },
      };
    case "1k-dau":
      return {
        dau: b.dau,
        network: { ...d.network, flowLogRetentionDays: 30 },
        waf: waf(250, 2000, 30),
        alb: alb(30),
        services: d.services,
        database: db(7, true),
        redis: { ...d.redis, snapshotRetentionDays: 3 },
        queues,
        observability: { logRetentionDays: 30, alarms: KEY_METRIC_ALARMS },
        backup: { dailyRetentionDays: 14, weeklyRetentionDays: 35, monthlyRetentionDays: 90, vaultLock: false, crossRegionCopy: true, crossRegionPitr: false },
      };
    case "10k-dau":
      return {
        dau: b.dau,
        network: { ...d.network, flowLogRetentionDays: 90 },
        waf: waf(500, 3000, 90),
        alb: alb(90),
        services: d.services,
        database: db(14, true),
        redis: { ...d.redis, snapshotRetentionDays: 7 },
        queues,
        observability: { logRetentionDays: 90, alarms: KEY_METRIC_ALARMS },
        backup: { dailyRetentionDays: 35, weeklyRetentionDays: 90, monthlyRetentionDays: 365, vaultLock: true, crossRegionCopy: true, crossRegionPitr: true },
      };
    case "100k-dau":
      return {
        dau: b.dau,
        network: { ...d.network, flowLogRetentionDays: 365 },
        waf: waf(1000, 5000, 365),
        alb: alb(365),
        services: d.services,
        database: db(35, true),
        redis: { ...d.redis, snapshotRetentionDays: 14 },
        queues,
        observability: { logRetentionDays: 365, alarms: KEY_METRIC_ALARMS },
        backup: { dailyRetentionDays: 35, weeklyRetentionDays: 90, monthlyRetentionDays: 365, vaultLock: true, crossRegionCopy: true, crossRegionPitr: true },
      };
  }
}

export const TIERS: Record<TierName, TierSizing> = Object.fromEntries(TIER_NAMES.map((t) => [t, buildTier(t)])) as Record<TierName, TierSizing>;

/** Ordered smallest to largest: what "bigger tier" means. */
export const TIER_ORDER: readonly TierName[] = TIER_NAMES;

/** Instance size words in increasing order, for comparing `db.r6g.large` with `db.r6g.2xlarge`. */
const SIZE_ORDER = ["nano", "micro", "small", "medium", "large", "xlarge"];

/** Rank of an instance class or node type by its size word (`2xlarge` > `xlarge` > `large`...). */
export function instanceSizeRank(instanceClass: string): number {
  const size = instanceClass.split(".").pop() ?? "";
  const multiple = /^(\d+)xlarge$/.exec(size);
  if (multiple) return SIZE_ORDER.length + Number(multiple[1]);
  return SIZE_ORDER.indexOf(size);
}

/** The Socket.IO silence a connection may see before the client gives up, seconds. */
export const SOCKET_IO_SILENCE_SECONDS = (SOCKET_IO.pingIntervalMs + SOCKET_IO.pingTimeoutMs) / 1000;

/** A deep copy of a tier's sizing (callers may merge overrides into it); with a model, re-derived from it. */
export function tierSizing(tier: TierName, model?: CapacityModel): TierSizing {
  return model ? buildTier(tier, model) : structuredClone(TIERS[tier]);
}
