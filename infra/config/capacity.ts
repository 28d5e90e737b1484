/**
 * Capacity model: how daily active users (DAU) turn into load, how much load one task, one database class and
 * one Redis node carry, and which size of each a tier therefore gets. This file is the single source of every
 * size in the tier table (`tiers.ts`): a benchmark that measures a better (or worse) figure updates ONE constant
 * here and every tier follows; `npm run plan` shows each resource's utilisation at the tier's peak.
 *
 *   peak concurrent connections = DAU x peakConcurrencyShare
 *   peak messages/s             = connections x messagesPerConnectionPerMinute / 60
 *   peak api requests/s         = connections x apiRequestsPerConnectionPerMinute / 60
 *   peak worker jobs/s          = messages/s x jobsPerMessage
 *   tasks needed                = ceil(load x headroom / per-task capacity at the tier's task size)
 *   min tasks                   = max(tasks needed, floor)   (floor: 1 for dev, 2 elsewhere, for zone redundancy)
 *   max tasks                   = max(ceil(min x burstFactor), min + 1)
 *   database vCPU needed        = (messages/s x cpu/message + jobs/s x cpu/job + api requests/s x cpu/request) x headroom
 *   database connections        = tasks at peak x DB_POOL_MAX, within the proxy's share of max_connections
 *   Redis engine thread needed  = (messages/s + api requests/s) x cpu/message x headroom (Redis runs commands on one thread)
 *   Redis memory needed         = connections x bytes/connection x headroom, within the node's memory less the reserve
 *
 * Each class or node is the cheapest (on-demand, `infra/plan/prices.ts`) that carries its need and keeps the
 * tier's availability promise (`deriveDatabase`, `deriveRedis`, `deriveNetwork`).
 */
import { DEFAULT_ASSUMPTIONS } from "../plan/assumptions";
import { serviceLogGbPerMonth } from "../plan/log-volume";
import { SERVICE_CATALOGUE, SERVICE_NAMES, type ServiceName } from "../catalogue";
import { HOURS_PER_MONTH, PRICES, RDS_VCPUS } from "../plan/prices";
import { instanceMemoryGiB, postgresMaxConnections } from "../components/postgres-limits";

/**
 * The traffic assumptions: what a stack may override with the `traffic` config key (docs/CONFIG.md). There is
 * no production traffic to fit them to yet; each line says what the number rests on.
 */
export const TRAFFIC = {
  /**
   * Share of the day's users connected at the busiest minute. Planning assumption: workplace-style chat keeps a
   * client open through the working day, so the busiest minute sees a large share of the day's users; 0.3 sits
   * below that and above consumer apps that are opened in short sessions. Replace with the ratio of
   * peak ActiveConnections to DAU once a stack runs.
   */
  peakConcurrencyShare: 0.3,
  /**
   * Chat messages sent per connected user per minute at peak. Planning assumption: one message every 30 s from
   * every connected user at the busiest minute (most connected users are idle readers, a few converse quickly).
   * The realtime benchmark drives this rate (bench/realtime.ts reads it).
   */
  messagesPerConnectionPerMinute: 2,
  /**
   * REST/GraphQL requests per connected user per minute at peak (history pages, room lists, read receipts).
   * Planning assumption: three reads per message sent.
   */
  apiRequestsPerConnectionPerMinute: 6,
  /**
   * Queue jobs (push + offline delivery) produced per chat message. Planning assumption: about half of the
   * messages reach a member who is offline or has the app in the background.
   */
  jobsPerMessage: 0.5,
  /**
   * Messages stored per DAU per day: what the database's storage grows by. Planning assumption (20 minutes of
   * peak-rate chatting a day).
   */
  messagesPerDauPerDay: 40,
} as const;

export type TrafficModel = { -readonly [K in keyof typeof TRAFFIC]: number };

/** Allowed range of each traffic assumption (the `traffic` config key is checked against it). */
export const TRAFFIC_LIMITS: Record<keyof TrafficModel, { min: number; max: number }> = {
  peakConcurrencyShare: { min: 0.001, max: 1 },
  messagesPerConnectionPerMinute: { min: 0, max: 600 },
  apiRequestsPerConnectionPerMinute: { min: 0, max: 600 },
  jobsPerMessage: { min: 0, max: 100 },
  messagesPerDauPerDay: { min: 0, max: 100_000 },
};

export const CAPACITY = {
  ...TRAFFIC,

  /**
   * WebSocket connections one realtime task holds per vCPU (1024 cpu units). Measured 2026-11-23 with
   * `npm run bench:realtime -- --clients 300 --messages 200 --window 1` (and `--clients 5000`): the lowest
   * bound of the runs was 15,000 per vCPU (server CPU 0.025 ms per delivery, 0.017 ms/s per idle connection,
   * 2 messages/connection/minute into rooms of 20, half a vCPU used; memory bound 49,000). Halved because
   * Node runs the JavaScript on one thread. Capped per task by `maxMeasuredConnectionsPerTask`.
   */
  realtimeConnectionsPerVcpu: 7500,
  /**
   * The most connections one realtime process has held under the benchmark: 10,000. The run
   * `npm run bench:realtime -- --clients 10000 --processes 1 --workers 4 --model 30 --fanout 20 --idle 30 --baselines 0`
   * (2026-12-01, bench/results/realtime.md) held 10,000 clients on ONE realtime process (clients in four
   * load-generator processes), idle for 30 s and then for 30 s at this model's message rate (2 per connection
   * per minute into rooms of 20): every message acknowledged and delivered to every member, 25-31 KiB RSS per
   * connection, 0.005 ms CPU per idle connection per second, a quarter of one core at the message rate. No tier
   * puts more on one task, whatever its CPU: beyond this nothing has been measured. Raise it only with a run
   * that holds more on one process.
   */
  maxMeasuredConnectionsPerTask: 10_000,
  /** API requests per second one api task serves per vCPU at the latency target. */
  apiRequestsPerSecondPerVcpu: 400,
  /**
   * Queue jobs per second one worker task completes per vCPU while CPU-bound. `npm run bench:workers`
   * (2026-12-01, quiet machine, load 1.0, bench/results/workers.md): one workers process completed 579 push and
   * 645 offline jobs/s (0.87 and 0.90 of the SQS emulator's bare receive-delete floor), with PostgreSQL and the
   * emulator on the same 2 cores. Halved, as for connections: a Fargate vCPU is not this host's core, and the
   * process shares it with the AWS SDK's TLS.
   */
  workerJobsPerSecondPerVcpu: 290,
  /**
   * Jobs per second one worker task completes when the push gateway is slow, whatever its CPU: at the default
   * `WORKER_CONCURRENCY` (20) and a gateway answering in 100 ms, `BENCH_GATEWAY_DELAY_MS=100 npm run bench:workers`
   * (2026-12-01) completed 157 push jobs/s (20 in flight / 0.108 s a job = 185 at most). Planning assumption:
   * 100 ms for APNs/FCM-style gateways; a slower gateway needs a higher `WORKER_CONCURRENCY` or more tasks.
   */
  workerJobsPerSecondPerTaskIoBound: 157,

  /**
   * PostgreSQL CPU per posted message, microseconds: 391. Measured 2026-12-01 05:00 UTC with `npm run bench:pg`
   * (bench/pg-capacity.sh, 30 s, 8 clients; bench/results/pg-capacity.md): pgbench running the statement the api
   * sends (bench/pg/message.sql: the insert guarded by the membership check, with two foreign-key checks inside
   * PostgreSQL) against a private durable PostgreSQL 15, CPU time of the whole cluster (backends, WAL writer,
   * checkpointer) divided by the transactions: 2,555 messages per second per vCPU, 1.5 kB of WAL each. This is
   * the cost at the database's own saturation, which is what sizing is about; a lightly loaded database spends
   * more per message (fixed background work, no group commit): 704 us at 300 messages/s
   * (`PG_RATE=300 PG_SCRIPTS=message sh bench/pg-capacity.sh 20 8`), and 967 us through the whole api at
   * ~300 messages/s (`sh bench/per-message.sh 15`, bench/results/per-message.md). The machine was shared (load
   * average 14-19), which inflates CPU time a little (cache misses), never deflates it.
   */
  dbCpuMicrosecondsPerMessage: 391,
  /**
   * PostgreSQL CPU per worker job, microseconds: 457, the dearer of the two jobs in the same `npm run bench:pg`
   * run: a push job (its record, delivery row, outcome and COMMIT: bench/pg/job-push.sql) 457 us, an offline job
   * (record and digest row in one statement: bench/pg/job-offline.sql) 445 us.
   */
  dbCpuMicrosecondsPerJob: 457,
  /**
   * PostgreSQL CPU per other api request (history pages, room lists: indexed reads without WAL): an estimate,
   * not measured: half of the message figure measured through the whole api (967 us, bench/per-message.sh),
   * kept at the earlier 452 us until a read benchmark replaces it.
   */
  dbCpuMicrosecondsPerApiRequest: 452,
  /**
   * Bytes one stored message takes with its indexes: 380 to 460 measured by `sh bench/per-message.sh 15` and
   * `5` (bench/results/per-message.md); rounded up for longer bodies.
   */
  dbBytesPerStoredMessage: 600,
  /** Months of messages the allocated storage holds; storage autoscaling grows it beyond, up to maxStorageMonths. */
  storageMonths: 3,
  /** Months of messages the storage autoscaling ceiling holds. */
  maxStorageMonths: 36,
  /**
   * Database connections one api or realtime task opens: the services' DB_POOL_MAX default
   * (apps/shared/src/config.ts). The connections go to RDS Proxy, which opens at most
   * proxyMaxConnectionsPercent of max_connections; a connection in a transaction holds one of those.
   */
  dbPoolPerTask: 10,
  /**
   * Jobs one queue consumer runs at once: the workers' WORKER_CONCURRENCY default (apps/workers/src/config.ts).
   * Each running job holds a database connection for its transaction, so a task that consumes queues opens
   * this many per queue it consumes, plus 2 (apps/workers/src/app.ts).
   */
  workerConcurrency: 20,
  /**
   * Redis CPU per posted message, microseconds: 98 (`sh bench/per-message.sh 15`, 2026-12-01 04:55 UTC, load
   * average 15-17, bench/results/per-message.md: used_cpu_user + used_cpu_sys of redis-server over the run
   * divided by the messages: 3 EVAL rate-limit scripts, 1 MGET revocation check and 1 PUBLISH per message; the
   * health-check phase is included, so it is an upper bound). An api request takes the same auth and rate-limit
   * path, so it is counted at the same cost.
   */
  redisCpuMicrosecondsPerMessage: 98,
  /**
   * Redis memory per connected client, bytes: 2048. Estimate, not measured: a presence entry, the Socket.IO
   * adapter's room memberships and two rate-limit counters are each well under 200 bytes; the rest is
   * allowance for pub/sub output buffers. The 10,000-connection realtime run is what should replace it.
   */
  redisBytesPerConnection: 2048,

  /** Spare capacity kept at peak: 1.5 means tasks run at two thirds of what they can carry. */
  headroom: 1.5,
  /** How far autoscaling may grow above the minimum for spikes. */
  burstFactor: 3,
  /** Realtime scaling target, as a share of maxConnectionsPerTask (the alarms warn at 80%). */
  realtimeTargetUtilization: 0.6,
} as const;

/** Socket.IO heartbeat settings the realtime service uses by default (PING_INTERVAL_MS / PING_TIMEOUT_MS). */
export const SOCKET_IO = {
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
} as const;

export type CapacityModel = { -readonly [K in keyof typeof CAPACITY]: number };

export interface TrafficEstimate {
  dau: number;
  peakConnections: number;
  messagesPerSecond: number;
  apiRequestsPerSecond: number;
  jobsPerSecond: number;
}

/** Peak traffic for a number of daily active users. */
export function estimateTraffic(dau: number, model: CapacityModel = CAPACITY): TrafficEstimate {
  const peakConnections = Math.ceil(dau * model.peakConcurrencyShare);
  const messagesPerSecond = (peakConnections * model.messagesPerConnectionPerMinute) / 60;
  return {
    dau,
    peakConnections,
    messagesPerSecond,
    apiRequestsPerSecond: (peakConnections * model.apiRequestsPerConnectionPerMinute) / 60,
    jobsPerSecond: messagesPerSecond * model.jobsPerMessage,
  };
}

/** Task count bounds for a load, given what one task carries. */
export function taskCounts(
  load: number,
  perTask: number,
  floor: number,
  model: CapacityModel = CAPACITY,
): { min: number; max: number } {
  const needed = Math.ceil((load * model.headroom) / perTask);
  const min = Math.max(needed, floor);
  return { min, max: Math.max(Math.ceil(min * model.burstFactor), min + 1) };
}

/** Connections one realtime task may hold at a given task size (cpu units), never more than was measured. */
/** Jobs per second one worker task of `cpu` units completes: CPU-bound, capped by the slow-gateway bound. */
export function workerJobsPerSecondPerTask(cpu: number, model: CapacityModel = CAPACITY): number {
  return Math.min((model.workerJobsPerSecondPerVcpu * cpu) / 1024, model.workerJobsPerSecondPerTaskIoBound);
}

export function realtimeConnectionsPerTask(cpu: number, model: CapacityModel = CAPACITY): number {
  return Math.min(Math.floor((model.realtimeConnectionsPerVcpu * cpu) / 1024), model.maxMeasuredConnectionsPerTask);
}

// ---------------------------------------------------------------------------------------------------------
// Database, Redis and network: the cheapest option that carries the peak and keeps the availability promise
// ---------------------------------------------------------------------------------------------------------

/**
 * Sustained share of each vCPU a burstable (T4g) instance may use without spending credits: the baseline
 * performance of https://aws.amazon.com/ec2/instance-types/t4/ (RDS and ElastiCache T4g run on the same
 * instances). Sizing a burstable class by its baseline keeps the peak from draining credits. Other classes: 1.
 */
export const BURSTABLE_BASELINE: Record<string, number> = { micro: 0.1, small: 0.2, medium: 0.2, large: 0.3, xlarge: 0.4, "2xlarge": 0.4 };

/** Memory (GiB) and vCPUs of the ElastiCache node types the price table lists (ElastiCache pricing page, node specs). */
export const REDIS_NODES: Record<string, { memoryGiB: number; vcpus: number }> = {
  "cache.t4g.micro": { memoryGiB: 0.5, vcpus: 2 },
  "cache.t4g.small": { memoryGiB: 1.37, vcpus: 2 },
  "cache.t4g.medium": { memoryGiB: 3.09, vcpus: 2 },
  "cache.m7g.large": { memoryGiB: 6.38, vcpus: 2 },
  "cache.m7g.xlarge": { memoryGiB: 12.93, vcpus: 4 },
  "cache.r6g.large": { memoryGiB: 13.07, vcpus: 2 },
  "cache.r6g.xlarge": { memoryGiB: 26.32, vcpus: 4 },
  "cache.r7g.large": { memoryGiB: 13.07, vcpus: 2 },
  "cache.r7g.xlarge": { memoryGiB: 26.32, vcpus: 4 },
  "cache.r7g.2xlarge": { memoryGiB: 52.82, vcpus: 8 },
};

/** ElastiCache's default reserved-memory-percent (memory kept for replication and snapshots). */
export const REDIS_RESERVED_MEMORY_SHARE = 0.25;

/** Region whose price table ranks the options (the stacks' primary region). */
const PRICE_REGION = "us-east-1";

const sizeWord = (cls: string) => cls.split(".").pop() ?? "";
const isBurstable = (cls: string) => /^(db|cache)\.t\d/.test(cls);

/** vCPUs a class may use at peak without draining burst credits. */
export function sustainedVcpus(cls: string, vcpus: number): number {
  return isBurstable(cls) ? vcpus * (BURSTABLE_BASELINE[sizeWord(cls)] ?? 0) : vcpus;
}

/** What the tier promises to survive; production tiers survive the loss of one zone. */
export interface AvailabilityPromise {
  /** Database standby in a second zone, Redis replica with automatic failover, NAT per zone. */
  zoneRedundant: boolean;
}

export interface Peak extends TrafficEstimate {
  /** Database connections the tasks at the autoscaling floor (what carries the peak) open. */
  connectionsAtPeak: number;
}

/**
 * The catalogue's services that use the database, each with its task count at the autoscaling floor and how many queues
 * it consumes (a consumer's pool follows its job concurrency): what `databaseConnections` counts.
 */
export function databaseTasks(services: Partial<Record<ServiceName, { min: number }>>): Array<{ service: ServiceName; count: number; queuesConsumed: number }> {
  // A service the model does not size (one added by hand to the tiers) counts where its sizing is given.
  return SERVICE_NAMES.filter((n) => SERVICE_CATALOGUE[n].uses.database && services[n]).map((n) => {
    const q = SERVICE_CATALOGUE[n].uses.queues;
    return { service: n, count: services[n]!.min, queuesConsumed: q?.role === "consumer" ? q.kinds.length : 0 };
  });
}

/**
 * Database connections the tasks open: a task that consumes queues holds one per running job (workerConcurrency
 * per queue, plus 2), any other task its DB_POOL_MAX. `databaseTasks` lists the catalogue's services.
 */
export function databaseConnections(tasks: ReadonlyArray<{ count: number; queuesConsumed: number }>, model: CapacityModel = CAPACITY): number {
  return tasks.reduce((sum, t) => sum + t.count * (t.queuesConsumed > 0 ? t.queuesConsumed * model.workerConcurrency + 2 : model.dbPoolPerTask), 0);
}

export interface DatabaseChoice {
  instanceClass: string;
  multiAz: boolean;
  storageGb: number;
  maxStorageGb: number;
  /** Monthly price of the instance(s) and the proxy, for the record. */
  monthlyUsd: number;
  cpu: { needVcpu: number; haveVcpu: number };
  connections: { need: number; have: number };
  storage: { needGb: number };
}

/** Database vCPU the peak needs, before headroom. */
export function databaseVcpuAtPeak(p: TrafficEstimate, model: CapacityModel = CAPACITY): number {
  return (p.messagesPerSecond * model.dbCpuMicrosecondsPerMessage + p.jobsPerSecond * model.dbCpuMicrosecondsPerJob +
    p.apiRequestsPerSecond * model.dbCpuMicrosecondsPerApiRequest) / 1e6;
}

/** GB of messages the database holds after some months. */
export function storedGb(dau: number, months: number, model: CapacityModel = CAPACITY): number {
  return (dau * model.messagesPerDauPerDay * 30 * months * model.dbBytesPerStoredMessage) / 1e9;
}

/**
 * The cheapest RDS class (Multi-AZ when zone-redundant, plus RDS Proxy billed per database vCPU) whose sustained
 * vCPUs carry the peak with headroom and whose proxy share of max_connections holds every task's pool.
 */
export function deriveDatabase(p: Peak, promise: AvailabilityPromise, proxyMaxConnectionsPercent: number, model: CapacityModel = CAPACITY): DatabaseChoice {
  const prices = PRICES[PRICE_REGION]!;
  const copies = promise.zoneRedundant ? 2 : 1;
  const needVcpu = databaseVcpuAtPeak(p, model) * model.headroom;
  const needConnections = p.connectionsAtPeak;
  const storageGb = Math.max(20, Math.ceil(storedGb(p.dau, model.storageMonths, model) * model.headroom));
  const maxStorageGb = Math.max(storageGb * 2, Math.ceil(storedGb(p.dau, model.maxStorageMonths, model) * model.headroom));
  const options = Object.entries(prices.rdsInstanceHour).flatMap(([cls, price]) => {
    const vcpus = RDS_VCPUS[cls];
    if (vcpus === undefined) return [];
    const haveVcpu = sustainedVcpus(cls, vcpus);
    const haveConnections = Math.floor((postgresMaxConnections(cls) * proxyMaxConnectionsPercent) / 100);
    if (haveVcpu < needVcpu || haveConnections < needConnections) return [];
    const monthlyUsd = (copies * price.usd + Math.max(2, vcpus) * prices.rdsProxyVcpuHour.usd) * HOURS_PER_MONTH;
    return [{ cls, haveVcpu, haveConnections, monthlyUsd }];
  });
  const best = cheapest(options, (o) => o.monthlyUsd, (o) => instanceMemoryGiB(o.cls));
  if (!best) {
    throw new Error(`capacity: no RDS class in infra/plan/prices.ts carries ${needVcpu.toFixed(2)} vCPU and ${needConnections} connections at ${p.dau} DAU; add a bigger class to rdsInstanceHour and RDS_VCPUS`);
  }
  return {
    instanceClass: best.cls, multiAz: promise.zoneRedundant, storageGb, maxStorageGb, monthlyUsd: round2(best.monthlyUsd),
    cpu: { needVcpu, haveVcpu: best.haveVcpu }, connections: { need: needConnections, have: best.haveConnections },
    storage: { needGb: storedGb(p.dau, model.storageMonths, model) },
  };
}

export interface RedisChoice {
  nodeType: string;
  replicas: number;
  multiAz: boolean;
  monthlyUsd: number;
  cpu: { needThread: number; haveThread: number };
  memory: { needGiB: number; haveGiB: number };
}

/** Share of Redis's one engine thread the peak needs, before headroom. */
export function redisThreadAtPeak(p: TrafficEstimate, model: CapacityModel = CAPACITY): number {
  return ((p.messagesPerSecond + p.apiRequestsPerSecond) * model.redisCpuMicrosecondsPerMessage) / 1e6;
}

/** The cheapest node type (times primary + replicas) whose engine thread and memory carry the peak with headroom. */
export function deriveRedis(p: TrafficEstimate, promise: AvailabilityPromise, model: CapacityModel = CAPACITY): RedisChoice {
  const prices = PRICES[PRICE_REGION]!;
  const replicas = promise.zoneRedundant ? 1 : 0;
  const needThread = redisThreadAtPeak(p, model) * model.headroom;
  const needGiB = (p.peakConnections * model.redisBytesPerConnection * model.headroom) / 2 ** 30;
  const options = Object.entries(prices.elasticacheNodeHour).flatMap(([type, price]) => {
    const node = REDIS_NODES[type];
    if (!node) return [];
    const haveThread = Math.min(1, sustainedVcpus(type, node.vcpus));
    const haveGiB = node.memoryGiB * (1 - REDIS_RESERVED_MEMORY_SHARE);
    if (haveThread < needThread || haveGiB < needGiB) return [];
    return [{ type, haveThread, haveGiB, monthlyUsd: (1 + replicas) * price.usd * HOURS_PER_MONTH }];
  });
  const best = cheapest(options, (o) => o.monthlyUsd, (o) => o.haveGiB);
  if (!best) throw new Error(`capacity: no ElastiCache node type in infra/plan/prices.ts carries ${needThread.toFixed(2)} of a thread and ${needGiB.toFixed(2)} GiB; add one to elasticacheNodeHour and REDIS_NODES`);
  return {
    nodeType: best.type, replicas, multiAz: promise.zoneRedundant, monthlyUsd: round2(best.monthlyUsd),
    cpu: { needThread, haveThread: best.haveThread }, memory: { needGiB, haveGiB: best.haveGiB },
  };
}

/** Interface endpoints the services can use instead of the NAT path (suffix after `com.amazonaws.<region>.`). */
export const ENDPOINT_CANDIDATES = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sqs", "kms", "sts", "monitoring"] as const;

export interface NetworkChoice {
  natGateways: "single" | "perZone";
  interfaceEndpoints: string[];
  /** Per candidate endpoint: GB a month it would carry, what it would save on NAT processing and what it costs. */
  endpoints: Array<{ service: string; gbPerMonth: number; natSavingUsd: number; endpointUsd: number; chosen: boolean }>;
}

/** GB a month each AWS API would carry at a DAU (usage assumptions of infra/plan/assumptions.ts). */
function endpointTrafficGb(service: string, dau: number, model: CapacityModel): number {
  const a = DEFAULT_ASSUMPTIONS;
  // the services' own logs and metric lines (WAF and flow logs are delivered by AWS, not from the VPC)
  if (service === "logs") return serviceLogGbPerMonth(dau, a, model);
  // three SQS calls (send, receive, delete) of about 2 kB per job
  if (service === "sqs") return (dau * model.messagesPerDauPerDay * model.jobsPerMessage * 30 * 3 * 2048) / 1e9;
  // image layers come from S3 through the free gateway endpoint; the rest are small API calls
  return 1;
}

/**
 * Endpoints a zone-redundant tier keeps whatever their traffic: Secrets Manager, so the RDS Proxy's and the
 * tasks' secret reads stay inside the VPC and the proxy's egress is scoped to the endpoint's security group
 * instead of 443 to the internet through NAT (least privilege is worth $7.30 per zone a month).
 */
export const REQUIRED_ENDPOINTS: readonly string[] = ["secretsmanager"];

/**
 * NAT strategy and interface endpoints. Zone-redundant tiers get a NAT gateway per zone: with a single one, the
 * loss of its zone cuts every task's egress (push gateway calls, AWS APIs without an endpoint). An interface
 * endpoint is chosen only where the NAT processing it saves pays for its hourly price in every zone: egress does
 * not need it for availability once NAT is per zone, and traffic to AWS APIs is TLS either way.
 */
export function deriveNetwork(dau: number, zones: number, promise: AvailabilityPromise, model: CapacityModel = CAPACITY): NetworkChoice {
  const prices = PRICES[PRICE_REGION]!;
  const endpoints = ENDPOINT_CANDIDATES.map((service) => {
    const gbPerMonth = endpointTrafficGb(service, dau, model);
    const natSavingUsd = gbPerMonth * (prices.natGb.usd - prices.interfaceEndpointGb.usd);
    const endpointUsd = zones * prices.interfaceEndpointAzHour.usd * HOURS_PER_MONTH;
    return { service, gbPerMonth: round2(gbPerMonth), natSavingUsd: round2(natSavingUsd), endpointUsd: round2(endpointUsd), chosen: promise.zoneRedundant && (REQUIRED_ENDPOINTS.includes(service) || natSavingUsd > endpointUsd) };
  });
  return {
    natGateways: promise.zoneRedundant ? "perZone" : "single",
    interfaceEndpoints: endpoints.filter((e) => e.chosen).map((e) => e.service),
    endpoints,
  };
}

/** Cheapest option; among options within 1% of it, the one with more of `more` (a free margin). */
function cheapest<T>(options: T[], cost: (o: T) => number, more: (o: T) => number): T | undefined {
  const sorted = [...options].sort((a, b) => cost(a) - cost(b));
  const min = sorted[0] ? cost(sorted[0]) : 0;
  return sorted.filter((o) => cost(o) <= min * 1.01).sort((a, b) => more(b) - more(a))[0];
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The capacity model with a stack's traffic overrides applied. */
export function withTraffic(overrides: Partial<TrafficModel> | undefined, model: CapacityModel = CAPACITY): CapacityModel {
  return { ...model, ...(overrides ?? {}) };
}
