/**
 * The sizing rules table: every stack file passes it; every rule, broken once through a stack override, is
 * reported by `validateStackConfig` under `realtime-chat:sizing.<path>` with what is allowed and why; and every
 * rule of the table is exercised here (a rule added without a case fails the last test).
 */
import { StackConfigError, validateStackConfig } from "./load";
import { describeAllowed, ruledPaths, SIZING_RULES, sizingProblems } from "./sizing-rules";
import { TIERS } from "./tiers";
import { stackConfigWithExamples } from "../synth";
import { stackNames } from "../plan/sources";

/** The problems `validateStackConfig` reports for `stack` with these sizing overrides (none: []). */
function problemsWith(sizing: object, stack = "dev"): string[] {
  try {
    validateStackConfig({ ...stackConfigWithExamples(stack), "realtime-chat:sizing": sizing }, stack);
    return [];
  } catch (err) {
    if (!(err instanceof StackConfigError)) throw err;
    return err.problems;
  }
}

/** `{a: {b: v}}` from "a.b". */
function override(path: string, value: unknown): object {
  return path.split(".").reduceRight<unknown>((inner, k) => ({ [k]: inner }), value) as object;
}

describe("sizing rules", () => {
  it("every stack file's merged sizing passes", () => {
    const stacks = stackNames();
    expect(stacks).toEqual(expect.arrayContaining(["dev", "1k-dau", "10k-dau", "100k-dau", "10k-dau-dr"]));
    for (const stack of stacks) {
      const cfg = validateStackConfig(stackConfigWithExamples(stack), stack);
      expect([stack, sizingProblems(cfg.sizing)]).toEqual([stack, []]);
    }
  });

  // [path, bad value on the dev stack, the exact message]
  const exact: Array<[string, unknown, string]> = [
    ["database.backupRetentionDays", 40,
      "realtime-chat:sizing.database.backupRetentionDays = 40: must be a whole number from 1 to 35 (days of automated backups and point-in-time recovery: 0 would turn both off, RDS keeps at most 35)"],
    ["database.backupRetentionDays", 0,
      "realtime-chat:sizing.database.backupRetentionDays = 0: must be a whole number from 1 to 35 (days of automated backups and point-in-time recovery: 0 would turn both off, RDS keeps at most 35)"],
    ["redis.nodeType", "cache.t2.medium",
      'realtime-chat:sizing.redis.nodeType = "cache.t2.medium": must be a current-generation ElastiCache node type such as cache.t4g.small, cache.m7g.large or cache.r7g.large (a previous-generation node (t2, m3, r3...) cannot do Multi-AZ with automatic failover or encryption in transit)'],
    ["queues.maxReceiveCount", 0,
      "realtime-chat:sizing.queues.maxReceiveCount = 0: must be a whole number from 1 to 1000 (receives before a message moves to its dead-letter queue; 0 would dead-letter nothing and retry forever)"],
    ["queues.visibilityTimeoutSeconds", 10,
      "realtime-chat:sizing.queues.visibilityTimeoutSeconds = 10: must be a whole number from 31 to 43200 (longer than queues.consumerTimeoutSeconds (30), or a job still running becomes visible and runs twice (e.g. 60); SQS allows at most 12 hours)"],
    ["services.workers.stopTimeoutSeconds", 20,
      "realtime-chat:sizing.services.workers.stopTimeoutSeconds = 20: must be a whole number from 35 to 120 (a job gets queues.consumerTimeoutSeconds (30) + 5 s to finish after SIGTERM, and Fargate stops waiting after 120 s; lower queues.consumerTimeoutSeconds if a job needs longer)"],
    ["alb.realtimeDeregistrationDelaySeconds", 120,
      "realtime-chat:sizing.alb.realtimeDeregistrationDelaySeconds = 120: must be a whole number from 30 to 60 (a long-polling request lasts up to the 25 s ping interval; ECS sends SIGTERM only after the delay and the load balancer cuts the remaining sockets when it ends, so a longer delay only slows deploys)"],
    ["database.proxyMaxConnectionsPercent", 90,
      "realtime-chat:sizing.database.proxyMaxConnectionsPercent = 90: must be a whole number from 91 to 100 (the share of max_connections the proxy may open must stay above the critical connections alarm (observability.alarms.rdsConnectionsPercentOfMax.critical = 90), or that alarm can never fire through the proxy)"],
    ["waf.generalRateLimit", 3000,
      "realtime-chat:sizing.waf.generalRateLimit = 3000: must be a whole number from 3600 to 2000000000 (at least waf.socketIoRateLimit (3600): the site-wide rule counts the same /socket.io/ requests and would block the reconnect storm the Socket.IO limit allows (WAF's own range is 10 to 2000000000))"],
    ["queues.dlqRetentionDays", 2,
      "realtime-chat:sizing.queues.dlqRetentionDays = 2: must be a whole number from 4 to 14 (at least queues.messageRetentionDays (4): a message keeps its original age in the dead-letter queue, so a shorter retention loses it before it can be redriven; SQS keeps at most 14 days)"],
  ];
  it.each(exact)("%s = %p: names the key, what is allowed and why", (path, value, message) => {
    expect(problemsWith(override(path, value))).toEqual([message]);
  });

  // [path, bad value on the dev stack]: one problem, under that key, and nothing else
  const broken: Array<[string, unknown]> = [
    ["services.api.cpu", 300], ["services.realtime.cpu", 100], ["services.workers.cpu", 3000],
    ["services.api.memory", 4096], ["services.realtime.memory", 8192], ["services.workers.memory", 100],
    ["services.api.min", 50], ["services.realtime.min", 4], ["services.workers.min", 1.5],
    ["services.api.max", 0], ["services.realtime.max", 0], ["services.workers.max", 0],
    ["services.api.cpuTarget", 5], ["services.realtime.cpuTarget", 99], ["services.workers.cpuTarget", 96],
    ["services.api.requestsPerTargetTarget", 0],
    ["services.realtime.maxConnectionsPerTask", 0.5],
    ["services.realtime.connectionsPerTaskTarget", 5000],
    ["services.workers.backlogPerTaskTarget", 0],
    ["services.workers.stopTimeoutSeconds", 150],
    ["network.minZones", 1], ["network.natGateways", "none"], ["network.flowLogRetentionDays", 2],
    ["alb.idleTimeoutSeconds", 45], ["alb.idleTimeoutSeconds", 4001],
    ["alb.apiDeregistrationDelaySeconds", 3601], ["alb.realtimeDeregistrationDelaySeconds", 10],
    ["alb.stickinessSeconds", 0], ["alb.accessLogRetentionDays", 0],
    ["waf.evaluationWindowSeconds", 30], ["waf.socketIoRateLimit", 5], ["waf.logRetentionDays", 10],
    ["database.engineMajor", "12"], ["database.instanceClass", "db.q9.huge"], ["database.storageGb", 10],
    ["database.maxStorageGb", 10], ["database.proxyMaxConnectionsPercent", 101], ["database.proxyIdleClientTimeoutSeconds", 28_801],
    ["redis.replicas", 6], ["redis.snapshotRetentionDays", 36],
    ["queues.consumerTimeoutSeconds", 0], ["queues.messageRetentionDays", 15],
    ["observability.logRetentionDays", 10],
    ["observability.alarms.ecsCpuPercent.critical", 101], ["observability.alarms.queueDepth.warning", 1e9],
    ["backup.dailyRetentionDays", 0], ["backup.weeklyRetentionDays", 3], ["backup.monthlyRetentionDays", 20], ["backup.vaultLock", true],
  ];
  it.each(broken)("%s = %p is refused under its key", (path, value) => {
    const problems = problemsWith(override(path, value));
    expect(problems).toHaveLength(1);
    const head = `realtime-chat:sizing.${path} = ${JSON.stringify(value)}: must be `;
    expect(problems[0]!.slice(0, head.length)).toBe(head);
    expect(problems[0]).toMatch(/ \(.+\)$/);
  });

  it("checks relations against the other setting's merged value", () => {
    // Multi-AZ Redis needs a replica: the rule on redis.replicas reads redis.multiAz
    expect(problemsWith({ redis: { multiAz: true, replicas: 0 } })).toEqual([
      "realtime-chat:sizing.redis.replicas = 0: must be a whole number from 1 to 5 (Multi-AZ with automatic failover (redis.multiAz true) needs a replica in another zone to fail over to; ElastiCache allows at most 5)",
    ]);
    // raising the consumer timeout moves the bounds of the visibility timeout and the workers' stop timeout
    expect(problemsWith({ queues: { consumerTimeoutSeconds: 116 } }).map((p) => p.split(":")[1]!.split(" =")[0])).toEqual([
      "sizing.services.workers.stopTimeoutSeconds", "sizing.queues.visibilityTimeoutSeconds",
    ]);
  });

  it("reports every broken rule at once, in table order", () => {
    const problems = problemsWith({ database: { backupRetentionDays: 0 }, services: { api: { cpu: 300 } }, queues: { maxReceiveCount: 0 } });
    expect(problems.map((p) => p.split(" =")[0])).toEqual([
      "realtime-chat:sizing.services.api.cpu", "realtime-chat:sizing.database.backupRetentionDays", "realtime-chat:sizing.queues.maxReceiveCount",
    ]);
  });

  it("words what is allowed", () => {
    expect(describeAllowed({ range: { min: 1, max: 35 } })).toBe("a whole number from 1 to 35");
    expect(describeAllowed({ range: { min: 0, max: 100 }, whole: false })).toBe("a number from 0 to 100");
    expect(describeAllowed({ range: { min: 1, max: Number.MAX_SAFE_INTEGER } })).toBe("a whole number >= 1");
    expect(describeAllowed({ oneOf: ["single", "perZone"] })).toBe('one of "single", "perZone"');
  });

  it("has a case above for every rule of the table", () => {
    const tested = new Set([...exact.map(([p]) => p), ...broken.map(([p]) => p), "redis.replicas"]);
    const alarmPaths = ruledPaths().filter((p) => p.startsWith("observability.alarms."));
    // the alarm rules are one pair per threshold, built by one function: two of them are broken above
    const untested = ruledPaths().filter((p) => !tested.has(p) && !alarmPaths.includes(p));
    expect(untested).toEqual([]);
    expect(alarmPaths).toHaveLength(2 * Object.keys(TIERS.dev.observability.alarms).length);
    expect(SIZING_RULES.length).toBeGreaterThan(40);
  });
});
