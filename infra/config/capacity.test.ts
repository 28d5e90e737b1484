import { CAPACITY, databaseConnections, databaseTasks, deriveDatabase, deriveNetwork, deriveRedis, estimateTraffic, withTraffic, workerJobsPerSecondPerTask } from "./capacity";
import type { CapacityModel } from "./capacity";
import { buildTier, TIER_NAMES, TIERS } from "./tiers";
import { validateStackConfig } from "./load";
import { HOURS_PER_MONTH, PRICES, RDS_VCPUS } from "../plan/prices";
import { postgresMaxConnections } from "../components/postgres-limits";
import { capacitySection } from "../plan/capacity";
import { renderMarkdown, renderText } from "../plan/render";

const prices = PRICES["us-east-1"]!;
const HA = { zoneRedundant: true };
const peakOf = (dau: number, model: CapacityModel = CAPACITY, connectionsAtPeak = 60) => ({ ...estimateTraffic(dau, model), connectionsAtPeak });

/** Monthly price of a database choice, computed here independently of the model's ranking. */
const dbMonthly = (cls: string, copies: number) =>
  (copies * prices.rdsInstanceHour[cls]!.usd + Math.max(2, RDS_VCPUS[cls]!) * prices.rdsProxyVcpuHour.usd) * HOURS_PER_MONTH;

describe("database class: the cheapest that carries the peak", () => {
  test.each(TIER_NAMES)("%s: no cheaper priced class carries the tier's need", (tier) => {
    const t = TIERS[tier];
    const model = CAPACITY;
    const traffic = estimateTraffic(t.dau, model);
    // Written out here rather than through databaseConnections: api and realtime open DB_POOL_MAX (10), a
    // workers task 2 x WORKER_CONCURRENCY (20) + 2.
    const connections = (t.services.api.min + t.services.realtime.min) * 10 + t.services.workers.min * (2 * 20 + 2);
    const choice = deriveDatabase({ ...traffic, connectionsAtPeak: connections }, { zoneRedundant: t.database.multiAz }, 95, model);
    expect(choice.instanceClass).toBe(t.database.instanceClass);
    expect(choice.cpu.haveVcpu).toBeGreaterThanOrEqual(choice.cpu.needVcpu);
    expect(choice.connections.have).toBeGreaterThanOrEqual(choice.connections.need);
    const copies = t.database.multiAz ? 2 : 1;
    for (const cls of Object.keys(prices.rdsInstanceHour)) {
      if (dbMonthly(cls, copies) >= dbMonthly(t.database.instanceClass, copies) * 0.99) continue;
      // every cheaper class must fail the CPU or the connections test
      const burst: Record<string, number> = { micro: 0.1, small: 0.2, medium: 0.2, large: 0.3, xlarge: 0.4 };
      const size = cls.split(".").pop()!;
      const vcpu = cls.startsWith("db.t") ? RDS_VCPUS[cls]! * burst[size]! : RDS_VCPUS[cls]!;
      const conns = Math.floor(postgresMaxConnections(cls) * 0.95);
      expect(vcpu < choice.cpu.needVcpu || conns < choice.connections.need).toBe(true);
    }
  });

  it("a tier whose peak grows picks the next class", () => {
    const small = deriveDatabase(peakOf(10_000), HA, 95);
    const grown = deriveDatabase(peakOf(20_000), HA, 95);
    expect(small.instanceClass).toBe("db.t4g.small");
    expect(grown.instanceClass).not.toBe(small.instanceClass);
    expect(dbMonthly(grown.instanceClass, 2)).toBeGreaterThan(dbMonthly(small.instanceClass, 2));
  });

  it("more connections than the proxy share of max_connections holds moves to a class with more memory", () => {
    // 1k DAU needs almost no CPU; db.t4g.micro's proxy share at 95% is 106 connections
    expect(deriveDatabase(peakOf(1_000, CAPACITY, 106), HA, 95).instanceClass).toBe("db.t4g.micro");
    expect(deriveDatabase(peakOf(1_000, CAPACITY, 107), HA, 95).instanceClass).toBe("db.t4g.small");
  });

  it("a queue consumer's task counts its job pool (WORKER_CONCURRENCY per queue + 2), any other task DB_POOL_MAX", () => {
    expect(databaseConnections([{ count: 3, queuesConsumed: 0 }])).toBe(30);
    expect(databaseConnections([{ count: 1, queuesConsumed: 2 }])).toBe(42);
    expect(databaseConnections([{ count: 2, queuesConsumed: 1 }])).toBe(44);
    expect(databaseConnections([{ count: 2, queuesConsumed: 0 }, { count: 4, queuesConsumed: 2 }])).toBe(20 + 4 * 42);
    // The catalogue's services: api and realtime at DB_POOL_MAX, workers consuming the push and offline queues.
    expect(databaseTasks({ api: { min: 2 }, realtime: { min: 3 }, workers: { min: 4 } })).toStrictEqual([
      { service: "api", count: 2, queuesConsumed: 0 },
      { service: "realtime", count: 3, queuesConsumed: 0 },
      { service: "workers", count: 4, queuesConsumed: 2 },
    ]);
  });

  it("storage holds storageMonths of messages with headroom, at least 20 GB", () => {
    expect(deriveDatabase(peakOf(100), { zoneRedundant: false }, 95).storageGb).toBe(20);
    const gb = (100_000 * CAPACITY.messagesPerDauPerDay * 30 * CAPACITY.storageMonths * CAPACITY.dbBytesPerStoredMessage) / 1e9;
    expect(deriveDatabase(peakOf(100_000, CAPACITY, 60), HA, 95).storageGb).toBe(Math.ceil(gb * CAPACITY.headroom));
  });
});

describe("Redis node: the cheapest that carries the peak, with a replica where zone-redundant", () => {
  it("keeps one replica with failover on zone-redundant tiers and none on dev", () => {
    expect(deriveRedis(peakOf(100), { zoneRedundant: false })).toMatchObject({ replicas: 0, multiAz: false });
    for (const tier of TIER_NAMES.slice(1)) expect(TIERS[tier].redis).toMatchObject({ replicas: 1, multiAz: true });
  });

  it("a peak beyond a burstable node's baseline picks a non-burstable node", () => {
    expect(deriveRedis(peakOf(10_000), HA).nodeType).toBe("cache.t4g.micro");
    const big = deriveRedis(peakOf(100_000), HA);
    expect(big.nodeType).toBe("cache.m7g.large");
    expect(big.cpu.haveThread).toBeGreaterThanOrEqual(big.cpu.needThread);
  });
});

describe("network: NAT per zone where zone-redundant; endpoints where they pay for themselves", () => {
  it("dev has one NAT and no endpoints; production tiers have NAT per zone and the Secrets Manager endpoint", () => {
    expect(deriveNetwork(100, 2, { zoneRedundant: false })).toMatchObject({ natGateways: "single", interfaceEndpoints: [] });
    expect(deriveNetwork(1_000, 2, HA)).toMatchObject({ natGateways: "perZone", interfaceEndpoints: ["secretsmanager"] });
  });

  it("the logs endpoint appears once its NAT saving exceeds its hourly price in every zone", () => {
    // The services log about 2.5 GB a month per 1,000 DAU (api request lines, measured by bench:logs): the
    // endpoint's $21.90 a month in 3 zones pays off above about 250,000 DAU.
    expect(deriveNetwork(100_000, 3, HA).interfaceEndpoints).not.toContain("logs");
    const at100k = deriveNetwork(100_000, 3, HA).endpoints.find((e) => e.service === "logs")!;
    expect(at100k.gbPerMonth).toBeGreaterThan(200);
    expect(at100k.gbPerMonth).toBeLessThan(300);
    expect(deriveNetwork(300_000, 3, HA).interfaceEndpoints).toContain("logs");
    const logs = deriveNetwork(300_000, 3, HA).endpoints.find((e) => e.service === "logs")!;
    expect(logs.natSavingUsd).toBeGreaterThan(logs.endpointUsd);
  });
});

describe("availability promise on every production tier", () => {
  test.each(TIER_NAMES.slice(1))("%s: Multi-AZ database, Redis failover, NAT per zone, 2+ tasks per service", (tier) => {
    const t = TIERS[tier];
    expect(t.database.multiAz).toBe(true);
    expect(t.redis.replicas).toBeGreaterThanOrEqual(1);
    expect(t.network.natGateways).toBe("perZone");
    for (const s of Object.values(t.services)) expect(s.min).toBeGreaterThanOrEqual(2);
  });
});

describe("traffic overrides", () => {
  const raw = (traffic?: unknown) => ({
    "aws:region": "us-east-1",
    "realtime-chat:tier": "10k-dau",
    "realtime-chat:availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"],
    // production tiers require TLS and a critical-alarm subscription
    "realtime-chat:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001",
    "realtime-chat:alarmEmail": "oncall@example.com",
    ...(traffic === undefined ? {} : { "realtime-chat:traffic": traffic }),
  });

  it("a stack's traffic key re-derives its tier", () => {
    const plain = validateStackConfig(raw(), "10k-dau").sizing;
    const busy = validateStackConfig(raw({ peakConcurrencyShare: 0.9, messagesPerConnectionPerMinute: 6 }), "10k-dau").sizing;
    expect(plain.database.instanceClass).toBe(TIERS["10k-dau"].database.instanceClass);
    expect(busy.database.instanceClass).toBe(buildTier("10k-dau", withTraffic({ peakConcurrencyShare: 0.9, messagesPerConnectionPerMinute: 6 })).database.instanceClass);
    expect(busy.database.instanceClass).not.toBe(plain.database.instanceClass);
    // More connections at peak: the realtime service carries more (more tasks, or larger ones).
    const carried = (s: typeof plain) => s.services.realtime.min * s.services.realtime.maxConnectionsPerTask;
    expect(carried(busy)).toBeGreaterThan(carried(plain));
  });

  it("rejects an unknown assumption and a value out of range, naming the key and the range", () => {
    expect(() => validateStackConfig(raw({ peakShare: 0.5 }), "10k-dau")).toThrow(
      /realtime-chat:traffic = \{"peakShare":0\.5\}: peakShare: unknown assumption \(keys: peakConcurrencyShare,/);
    expect(() => validateStackConfig(raw({ peakConcurrencyShare: 2 }), "10k-dau")).toThrow(
      /peakConcurrencyShare = 2: expected a number from 0\.001 to 1/);
    expect(() => validateStackConfig(raw("[1]"), "10k-dau")).toThrow(/expected an object of traffic assumptions/);
  });
});

describe("plan capacity section", () => {
  it("shows the peak and each resource's utilisation, within 1 / headroom", () => {
    const c = capacitySection(TIERS["100k-dau"]);
    expect(c.peak).toMatchObject({ peakConnections: 30_000, messagesPerSecond: 1000, apiRequestsPerSecond: 3000, jobsPerSecond: 500 });
    expect(c.rows.map((r) => r.resource)).toEqual([
      "api tasks", "realtime tasks", "workers tasks", "database CPU", "database connections", "database storage", "Redis engine thread", "Redis memory",
    ]);
    for (const r of c.rows) expect(r.utilisation).toBeLessThanOrEqual(1 / CAPACITY.headroom + 1e-3);
    const db = c.rows.find((r) => r.resource === "database CPU")!;
    expect(db).toMatchObject({ size: "db.m6g.xlarge x 2 (Multi-AZ)", capacity: 4 });
    expect(db.load).toBeCloseTo((1000 * 391 + 500 * 457 + 3000 * 452) / 1e6, 3);
  });

  it("reports overridden assumptions and an undersized override as utilisation above 100%", () => {
    const s = buildTier("1k-dau");
    s.services.realtime.min = 1;
    s.services.realtime.maxConnectionsPerTask = 500;
    const c = capacitySection(s, { peakConcurrencyShare: 1 });
    expect(c.overridden).toEqual(["peakConcurrencyShare"]);
    expect(c.rows.find((r) => r.resource === "realtime tasks")).toMatchObject({ load: 1000, capacity: 500, utilisation: 2 });
  });

  it("renders in text and Markdown", () => {
    const capacity = capacitySection(TIERS["1k-dau"]);
    const doc: any = {
      stack: "1k-dau", project: "p", region: "us-east-1", tier: "1k-dau", dau: 1000, resources: [], outputs: {},
      cost: { monthlyUsd: 0, byType: {}, items: [], unpricedTypes: [] },
      policy: { violations: [], mandatory: 0, advisory: 0, rules: [] },
      preflight: { errors: 0, findings: [], rules: { types: 0, fieldRules: 0, combinationRules: 0 } },
      quotas: { stack: { stacks: ["1k-dau"], region: "us-east-1", rows: [], warnings: [] }, counts: {} },
      capacity, warnings: [],
    };
    const text = renderText(doc);
    expect(text).toContain("Capacity at the model's peak");
    expect(text).toMatch(/ database CPU: [\d.]+ of 0\.4 vCPU \(sustained\) \[db\.t4g\.small x 2 \(Multi-AZ\)\]/);
    // 2 api + 2 realtime tasks x 10 connections, 2 workers tasks x 42
    expect(text).toMatch(/ database connections: 124 of 213 connections \[db\.t4g\.small x 2 \(Multi-AZ\), proxy 95% of max_connections\]/);
    expect(text).toMatch(/secretsmanager: 1 GB\/month saves \$0\.0\d of NAT processing, costs \$14\.6 in 2 zones -> endpoint \(kept for least privilege\)/);
    const md = renderMarkdown(doc);
    expect(md).toMatch(/\| database CPU \| db\.t4g\.small x 2 \(Multi-AZ\) \| [\d.]+ vCPU \(sustained\) \| 0\.4 \| \d+% \|/);
  });
});

describe("worker task throughput", () => {
  it("is CPU-bound on small tasks and capped by the slow-gateway bound on large ones", () => {
    const model = { ...CAPACITY, workerJobsPerSecondPerVcpu: 290, workerJobsPerSecondPerTaskIoBound: 157 };
    expect(workerJobsPerSecondPerTask(256, model)).toBeCloseTo(72.5, 6);
    expect(workerJobsPerSecondPerTask(512, model)).toBeCloseTo(145, 6);
    expect(workerJobsPerSecondPerTask(1024, model)).toBe(157);
    expect(workerJobsPerSecondPerTask(4096, model)).toBe(157);
  });

  it("sizes 100k-dau's workers so the peak's jobs stay within the headroom", () => {
    const t = TIERS["100k-dau"];
    const peak = estimateTraffic(t.dau);
    const carried = t.services.workers.min * workerJobsPerSecondPerTask(t.services.workers.cpu);
    expect(carried).toBeGreaterThanOrEqual(peak.jobsPerSecond * CAPACITY.headroom);
  });
});
