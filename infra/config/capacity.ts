/**
 * Capacity model: how daily active users (DAU) turn into load, and how much load one task carries.
 *
 * The tier table (`tiers.ts`) derives its task counts from these numbers, so a benchmark that measures a
 * better (or worse) per-task figure updates ONE constant here and every tier follows.
 *
 *   peak concurrent connections = DAU x peakConcurrencyShare
 *   peak messages/s             = connections x messagesPerConnectionPerMinute / 60
 *   peak api requests/s         = connections x apiRequestsPerConnectionPerMinute / 60
 *   peak worker jobs/s          = messages/s x jobsPerMessage
 *   tasks needed                = ceil(load x headroom / per-task capacity at the tier's task size)
 *   min tasks                   = max(tasks needed, floor)   (floor: 1 for dev, 2 elsewhere, for zone redundancy)
 *   max tasks                   = max(ceil(min x burstFactor), min + 1)
 */
export const CAPACITY = {
  /** Share of the day's users connected at the busiest minute. */
  peakConcurrencyShare: 0.3,
  /** Chat messages sent per connected user per minute at peak. */
  messagesPerConnectionPerMinute: 2,
  /** REST/GraphQL requests per connected user per minute at peak (history, rooms, receipts...). */
  apiRequestsPerConnectionPerMinute: 6,
  /** Queue jobs (push + offline delivery) produced per chat message. */
  jobsPerMessage: 0.5,

  /**
   * WebSocket connections one realtime task holds per vCPU (1024 cpu units). Measured 2026-11-23 with
   * `npm run bench:realtime -- --clients 300 --messages 200 --window 1` (and `--clients 5000`): the lowest
   * bound of the runs was 15,000 per vCPU (server CPU 0.025 ms per delivery, 0.017 ms/s per idle connection,
   * 2 messages/connection/minute into rooms of 20, half a vCPU used; memory bound 49,000). Halved because
   * Node runs the JavaScript on one thread. Capped per task by `maxMeasuredConnectionsPerTask`.
   */
  realtimeConnectionsPerVcpu: 7500,
  /**
   * The most connections one realtime process has held under the benchmark: 2,500. The run
   * `npm run bench:realtime -- --clients 5000 --messages 30 --window 1` (2026-11-23, bench/results/realtime.md)
   * connected 5,000 clients spread over the TWO realtime processes it starts, every message acknowledged and
   * delivered. No tier puts more on one task, whatever its CPU: beyond this nothing has been measured. Raise it
   * only with a run that holds more per process.
   */
  maxMeasuredConnectionsPerTask: 2500,
  /** API requests per second one api task serves per vCPU at the latency target. */
  apiRequestsPerSecondPerVcpu: 400,
  /** Queue jobs per second one worker task completes per vCPU. */
  workerJobsPerSecondPerVcpu: 100,

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
export function realtimeConnectionsPerTask(cpu: number, model: CapacityModel = CAPACITY): number {
  return Math.min(Math.floor((model.realtimeConnectionsPerVcpu * cpu) / 1024), model.maxMeasuredConnectionsPerTask);
}
