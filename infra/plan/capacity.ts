/**
 * The plan's capacity section: the tier's peak load under the capacity model (infra/config/capacity.ts) and each
 * sized resource's utilisation at that peak, so a reviewer sees why each size was chosen. Plain data.
 */
import { CAPACITY, databaseConnections, databaseTasks, databaseVcpuAtPeak, deriveNetwork, estimateTraffic, REDIS_NODES, REQUIRED_ENDPOINTS, REDIS_RESERVED_MEMORY_SHARE, redisThreadAtPeak,
  storedGb, sustainedVcpus, TRAFFIC, withTraffic, workerJobsPerSecondPerTask } from "../config/capacity";
import type { CapacityModel, TrafficEstimate, TrafficModel } from "../config/capacity";
import { postgresMaxConnections } from "../components/postgres-limits";
import { RDS_VCPUS } from "./prices";
import type { TierSizing } from "../config/tiers";

export interface CapacityRow {
  /** What is sized, e.g. "database CPU". */
  resource: string;
  /** The size chosen, e.g. "db.t4g.micro x 2 (Multi-AZ)". */
  size: string;
  /** Load at the peak, in `unit`. */
  load: number;
  /** What the size carries, in `unit`. */
  capacity: number;
  unit: string;
  /** load / capacity (1 = full); the model keeps it at or below 1 / headroom. */
  utilisation: number;
}

export interface CapacitySection {
  /** Traffic assumptions used, with `overridden` naming those the stack's `traffic` key set. */
  traffic: TrafficModel;
  overridden: string[];
  headroom: number;
  peak: TrafficEstimate;
  rows: CapacityRow[];
  /** One line on the NAT strategy and one per interface endpoint candidate. */
  network: string[];
  /** One line: the endpoints chosen and the candidates left on the NAT path. */
  networkSummary: string;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** The capacity section for a stack's sizing under its traffic assumptions. */
export function capacitySection(s: TierSizing, traffic: Partial<TrafficModel> = {}, base: CapacityModel = CAPACITY): CapacitySection {
  const model = withTraffic(traffic, base);
  const peak = estimateTraffic(s.dau, model);
  const svc = s.services;
  const rows: CapacityRow[] = [];
  const row = (resource: string, size: string, load: number, capacity: number, unit: string) =>
    rows.push({ resource, size, load: r3(load), capacity: r3(capacity), unit, utilisation: capacity > 0 ? r3(load / capacity) : Infinity });
  const task = (n: number, cpu: number, memory: number) => `${n} x ${cpu / 1024} vCPU / ${memory / 1024} GB`;
  row("api tasks", task(svc.api.min, svc.api.cpu, svc.api.memory), peak.apiRequestsPerSecond,
    svc.api.min * model.apiRequestsPerSecondPerVcpu * (svc.api.cpu / 1024), "requests/s");
  row("realtime tasks", task(svc.realtime.min, svc.realtime.cpu, svc.realtime.memory), peak.peakConnections,
    svc.realtime.min * svc.realtime.maxConnectionsPerTask, "connections");
  row("workers tasks", task(svc.workers.min, svc.workers.cpu, svc.workers.memory), peak.jobsPerSecond,
    svc.workers.min * workerJobsPerSecondPerTask(svc.workers.cpu, model), "jobs/s");
  const db = s.database;
  const dbSize = `${db.instanceClass}${db.multiAz ? " x 2 (Multi-AZ)" : ""}`;
  row("database CPU", dbSize, databaseVcpuAtPeak(peak, model), sustainedVcpus(db.instanceClass, RDS_VCPUS[db.instanceClass] ?? 0), "vCPU (sustained)");
  row("database connections", `${dbSize}, proxy ${db.proxyMaxConnectionsPercent}% of max_connections`,
    databaseConnections(databaseTasks(svc), model),
    Math.floor((postgresMaxConnections(db.instanceClass) * db.proxyMaxConnectionsPercent) / 100), "connections");
  row("database storage", `${db.storageGb} GB gp3 (autoscaling to ${db.maxStorageGb})`, storedGb(s.dau, model.storageMonths, model), db.storageGb,
    `GB after ${model.storageMonths} months`);
  const node = REDIS_NODES[s.redis.nodeType];
  const redisSize = `${s.redis.nodeType} x ${1 + s.redis.replicas}${s.redis.multiAz ? " (automatic failover)" : ""}`;
  row("Redis engine thread", redisSize, redisThreadAtPeak(peak, model), node ? Math.min(1, sustainedVcpus(s.redis.nodeType, node.vcpus)) : 0, "threads (sustained)");
  row("Redis memory", redisSize, (peak.peakConnections * model.redisBytesPerConnection) / 2 ** 30,
    node ? node.memoryGiB * (1 - REDIS_RESERVED_MEMORY_SHARE) : 0, "GiB");
  const net = deriveNetwork(s.dau, s.network.minZones, { zoneRedundant: s.network.natGateways === "perZone" }, model);
  const network = [
    s.network.natGateways === "perZone"
      ? "NAT gateway per zone: egress survives the loss of a zone"
      : "one NAT gateway: egress depends on its zone (no zone-redundancy promise on this tier)",
    ...net.endpoints.map((e) =>
      `${e.service}: ${e.gbPerMonth} GB/month saves $${e.natSavingUsd} of NAT processing, costs $${e.endpointUsd} in ${s.network.minZones} zones -> ${s.network.interfaceEndpoints.includes(e.service) ? (REQUIRED_ENDPOINTS.includes(e.service) && e.natSavingUsd <= e.endpointUsd ? "endpoint (kept for least privilege)" : "endpoint") : "via NAT"}`),
  ];
  const via = net.endpoints.filter((e) => !s.network.interfaceEndpoints.includes(e.service)).map((e) => e.service);
  const networkSummary = `${network[0]}; interface endpoints: ${s.network.interfaceEndpoints.join(", ") || "none"}` +
    (via.length ? `; via NAT (each saves less NAT processing than its hourly price): ${via.join(", ")}` : "");
  return {
    networkSummary,
    traffic: Object.fromEntries(Object.keys(TRAFFIC).map((k) => [k, model[k as keyof TrafficModel]])) as TrafficModel,
    overridden: Object.keys(traffic),
    headroom: model.headroom,
    peak,
    rows,
    network,
  };
}
