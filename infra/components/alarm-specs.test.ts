/**
 * alarmSpecs as plain data (no synthesis): every alarm's metric, exact dimensions, statistic, period,
 * thresholds, evaluation and missing-data rule, for a fixture whose thresholds are all distinct (so an alarm
 * reading another alarm's threshold shows). infra/alarm-wiring.test.ts checks the same dimensions against the
 * resources of every stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { promiseOf } from "../synth";
import { alarmSpecs, backupAlarmSpecs, deploymentAlarmSpecs, redisNodeIds } from "./alarm-specs";
import type { AlarmSpec, AlarmTargets, AlarmThresholds } from "./alarm-specs";

const P = "chat-x";
const T: AlarmThresholds = {
  ecsCpuPercent: { warning: 61, critical: 81 },
  ecsMemoryPercent: { warning: 62, critical: 82 },
  rdsConnectionsPercentOfMax: { warning: 50, critical: 75 },
  redisMemoryPercent: { warning: 63, critical: 83 },
  realtimeConnectionsPercentOfMax: { warning: 33, critical: 66 },
  eventLoopLagMs: { warning: 101, critical: 201 },
  queueDepth: { warning: 1001, critical: 5001 },
  dlqMessages: { warning: 2, critical: 12 },
  redisEngineCpuPercent: { warning: 64, critical: 84 },
  alb5xxPercent: { warning: 3, critical: 7 },
  queueMessageAgeSeconds: { warning: 301, critical: 901 },
};
const X: AlarmTargets = {
  clusterName: "cluster-c",
  serviceNames: { api: "svc-api", realtime: "svc-rt", workers: "svc-wk" },
  alb: { arnSuffix: "app/lb/1", apiTargetGroupArnSuffix: "targetgroup/api/2", realtimeTargetGroupArnSuffix: "targetgroup/rt/3" },
  deployment: { api: { targetGroupArnSuffix: "targetgroup/api/2", alarms: ["5xx"] }, realtime: { targetGroupArnSuffix: "targetgroup/rt/3", alarms: ["5xx", "unhealthy"] } },
  database: { instanceId: "db-i", maxConnections: 101 },
  redis: { replicationGroupId: "rg", nodeCount: 2 },
  queues: { push: { queueName: "q-push", dlqName: "d-push" }, offline: { queueName: "q-off", dlqName: "d-off" } },
  realtimeMaxConnectionsPerTask: 1000,
};
/** The services the fixture names (every one gets CPU and memory alarms). */
const SERVICES = Object.keys(X.serviceNames);

const specs = alarmSpecs(P, T, X);
const byName = new Map(specs.map((s) => [s.name, s]));
const get = (name: string): AlarmSpec => {
  const s = byName.get(`${P}-${name}`);
  if (!s) throw new Error(`no alarm ${P}-${name}; have ${[...byName.keys()].join(", ")}`);
  return s;
};
const m = (namespace: string, metricName: string, dimensions: object, stat: string, period = 60) => ({ namespace, metricName, dimensions, stat, period });

test("the alarm list: names, severities, prefix length, once each", () => {
  const roles = [
    ...SERVICES.flatMap((s) => [`${s}-high-cpu`, `${s}-high-memory`]),
    "rds-high-connections", "redis-high-memory", "redis-high-cpu", "realtime-high-connections", "realtime-event-loop-lag",
  ];
  const expected = [
    ...roles.flatMap((r) => [`${P}-warning-${r}`, `${P}-critical-${r}`]),
    `${P}-warning-realtime-unhealthy-targets`, `${P}-critical-realtime-unhealthy-targets`,
    `${P}-warning-alb-5xx`, `${P}-critical-alb-5xx`,
    ...["push", "offline"].flatMap((q) => [`${P}-warning-sqs-${q}-queue-depth`, `${P}-critical-sqs-${q}-queue-depth`, `${P}-warning-sqs-${q}-dlq`, `${P}-critical-sqs-${q}-dlq`]),
    `${P}-warning-workers-message-age`, `${P}-critical-workers-message-age`,
  ];
  expect(specs.map((s) => s.name)).toStrictEqual(expected);
  for (const s of specs) {
    expect(s.prefixLength).toBe(P.length);
    expect(s.name.startsWith(`${P}-${s.severity}-`)).toBe(true);
  }
});

test.each(SERVICES)("%s CPU and memory: AWS/ECS on its own cluster and service", (svc) => {
  const dims = { ClusterName: "cluster-c", ServiceName: X.serviceNames[svc] };
  for (const [kind, metricName, t, what] of [["cpu", "CPUUtilization", T.ecsCpuPercent, "CPU"], ["memory", "MemoryUtilization", T.ecsMemoryPercent, "memory"]] as const) {
    for (const sev of ["warning", "critical"] as const) {
      expect(get(`${sev}-${svc}-high-${kind}`)).toStrictEqual({
        name: `${P}-${sev}-${svc}-high-${kind}`, prefixLength: P.length, severity: sev,
        description: `${sev.toUpperCase()}: ${svc} ECS ${what} % (service average, 4 of 5 minutes) at or above ${t[sev]}`,
        threshold: t[sev], comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 5, datapointsToAlarm: 4, treatMissingData: "notBreaching",
        metric: m("AWS/ECS", metricName, dims, "Average"),
      });
    }
  }
});

test("RDS connections: the instance, thresholds as counts of max_connections rounded up", () => {
  expect(get("warning-rds-high-connections")).toStrictEqual({
    name: `${P}-warning-rds-high-connections`, prefixLength: P.length, severity: "warning",
    description: "WARNING: RDS DatabaseConnections (50%/75% of max_connections 101; maximum, 3 of 3 minutes) at or above 51",
    threshold: 51, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "missing",
    metric: m("AWS/RDS", "DatabaseConnections", { DBInstanceIdentifier: "db-i" }, "Maximum"),
  });
  expect(get("critical-rds-high-connections").threshold).toBe(76); // ceil(75.75)
});

test("Redis memory and CPU: the busiest member cluster of the replication group", () => {
  const nodes = (metricName: string, stat: string) => ({
    n1: m("AWS/ElastiCache", metricName, { CacheClusterId: "rg-001" }, stat),
    n2: m("AWS/ElastiCache", metricName, { CacheClusterId: "rg-002" }, stat),
  });
  expect(get("critical-redis-high-memory")).toStrictEqual({
    name: `${P}-critical-redis-high-memory`, prefixLength: P.length, severity: "critical",
    description: "CRITICAL: Redis DatabaseMemoryUsagePercentage (busiest node, 3 of 3 minutes) at or above 83",
    threshold: 83, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "missing",
    expression: "MAX([n1, n2])", inputs: nodes("DatabaseMemoryUsagePercentage", "Maximum"),
  });
  expect(get("warning-redis-high-cpu")).toStrictEqual({
    name: `${P}-warning-redis-high-cpu`, prefixLength: P.length, severity: "warning",
    description: "WARNING: Redis EngineCPUUtilization (busiest node, 5 of 5 minutes) at or above 64",
    threshold: 64, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 5, datapointsToAlarm: 5, treatMissingData: "missing",
    expression: "MAX([n1, n2])", inputs: nodes("EngineCPUUtilization", "Average"),
  });
  expect(get("warning-redis-high-memory").threshold).toBe(63);
  expect(get("critical-redis-high-cpu").threshold).toBe(84);
});

test("redisNodeIds: <group>-001 ... one per node, for plain strings and Outputs", async () => {
  expect(redisNodeIds("g", 3)).toStrictEqual(["g-001", "g-002", "g-003"]);
  expect(redisNodeIds("g", 1)).toStrictEqual(["g-001"]);
  expect(redisNodeIds("g", 0)).toStrictEqual([]);
  expect(redisNodeIds("g", 12)[11]).toBe("g-012");
  const fromOutput = redisNodeIds(pulumi.output("out"), 2);
  expect(await Promise.all(fromOutput.map((id) => promiseOf(pulumi.output(id))))).toStrictEqual(["out-001", "out-002"]);
});

test("realtime connections and event-loop lag: the service's custom metrics, thresholds rounded down", () => {
  expect(get("warning-realtime-high-connections")).toStrictEqual({
    name: `${P}-warning-realtime-high-connections`, prefixLength: P.length, severity: "warning",
    description: "WARNING: realtime ActiveConnections of the busiest task (33%/66% of 1000 per task; 3 of 3 minutes) at or above 330",
    threshold: 330, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
    metric: m(P, "ActiveConnections", { ServiceName: "svc-rt" }, "Maximum"),
  });
  expect(alarmSpecs(P, T, { ...X, realtimeMaxConnectionsPerTask: 999 }).find((s) => s.name === `${P}-critical-realtime-high-connections`)!.threshold).toBe(659); // floor(659.34)
  expect(get("critical-realtime-event-loop-lag")).toStrictEqual({
    name: `${P}-critical-realtime-event-loop-lag`, prefixLength: P.length, severity: "critical",
    description: "CRITICAL: realtime EventLoopLagMs p95, ms (3 of 3 minutes) at or above 201",
    threshold: 201, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
    metric: m(P, "EventLoopLagMs", { ServiceName: "svc-rt" }, "p95"),
  });
});

test("realtime targets: unhealthy (warning) and none healthy (critical) on the realtime target group of the ALB", () => {
  const dims = { TargetGroup: "targetgroup/rt/3", LoadBalancer: "app/lb/1" };
  expect(get("warning-realtime-unhealthy-targets")).toStrictEqual({
    name: `${P}-warning-realtime-unhealthy-targets`, prefixLength: P.length, severity: "warning",
    description: "WARNING: realtime target group has unhealthy targets (3 of 3 minutes)",
    threshold: 1, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
    metric: m("AWS/ApplicationELB", "UnHealthyHostCount", dims, "Maximum"),
  });
  expect(get("critical-realtime-unhealthy-targets")).toStrictEqual({
    name: `${P}-critical-realtime-unhealthy-targets`, prefixLength: P.length, severity: "critical",
    description: "CRITICAL: realtime target group has no healthy target (2 of 2 minutes; no data counts as none)",
    threshold: 1, comparison: "LessThanThreshold", evaluationPeriods: 2, datapointsToAlarm: 2, treatMissingData: "breaching",
    metric: m("AWS/ApplicationELB", "HealthyHostCount", dims, "Minimum"),
  });
});

test("ALB 5xx: a percent of the load balancer's requests, quiet below 20 a minute", () => {
  const lb = { LoadBalancer: "app/lb/1" };
  expect(get("critical-alb-5xx")).toStrictEqual({
    name: `${P}-critical-alb-5xx`, prefixLength: P.length, severity: "critical",
    description: "CRITICAL: ALB 5xx responses, % of requests (3 of 3 minutes) at or above 7",
    threshold: 7, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
    expression: "IF(FILL(req, 0) >= 20, 100 * (FILL(elb, 0) + FILL(tgt, 0)) / req, 0)",
    inputs: {
      req: m("AWS/ApplicationELB", "RequestCount", lb, "Sum"),
      elb: m("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb, "Sum"),
      tgt: m("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb, "Sum"),
    },
  });
  expect(get("warning-alb-5xx").threshold).toBe(3);
});

test.each([["push", "q-push", "d-push"], ["offline", "q-off", "d-off"]])("%s queue: depth on the work queue, DLQ alarm on its DLQ", (q, queueName, dlqName) => {
  expect(get(`warning-sqs-${q}-queue-depth`)).toStrictEqual({
    name: `${P}-warning-sqs-${q}-queue-depth`, prefixLength: P.length, severity: "warning",
    description: `WARNING: ${q} queue ApproximateNumberOfMessagesVisible (5 of 5 minutes) at or above 1001`,
    threshold: 1001, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 5, datapointsToAlarm: 5, treatMissingData: "notBreaching",
    metric: m("AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: queueName }, "Maximum"),
  });
  expect(get(`critical-sqs-${q}-queue-depth`).threshold).toBe(5001);
  const dlq = { QueueName: dlqName };
  expect(get(`critical-sqs-${q}-dlq`)).toStrictEqual({
    name: `${P}-critical-sqs-${q}-dlq`, prefixLength: P.length, severity: "critical",
    description: `CRITICAL: ${q} DLQ messages present or removed in the minute at or above 12`,
    threshold: 12, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData: "notBreaching",
    expression: "FILL(vis, 0) + FILL(inflight, 0) + FILL(deleted, 0)",
    inputs: {
      vis: m("AWS/SQS", "ApproximateNumberOfMessagesVisible", dlq, "Maximum"),
      inflight: m("AWS/SQS", "ApproximateNumberOfMessagesNotVisible", dlq, "Maximum"),
      deleted: m("AWS/SQS", "NumberOfMessagesDeleted", dlq, "Sum"),
    },
  });
  expect(get(`warning-sqs-${q}-dlq`).threshold).toBe(2);
});

test("message age: the oldest message across the work queues (not the DLQs)", () => {
  expect(get("warning-workers-message-age")).toStrictEqual({
    name: `${P}-warning-workers-message-age`, prefixLength: P.length, severity: "warning",
    description: "WARNING: ApproximateAgeOfOldestMessage of the work queues, seconds (3 of 3 minutes) at or above 301",
    threshold: 301, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
    expression: "MAX([agepush, ageoffline])",
    inputs: {
      agepush: m("AWS/SQS", "ApproximateAgeOfOldestMessage", { QueueName: "q-push" }, "Maximum"),
      ageoffline: m("AWS/SQS", "ApproximateAgeOfOldestMessage", { QueueName: "q-off" }, "Maximum"),
    },
  });
  expect(get("critical-workers-message-age").threshold).toBe(901);
});

test("deployment alarms: each service's own target group on the ALB", () => {
  const d = deploymentAlarmSpecs(P, X);
  const rate = (svc: string, tg: string) => {
    const dims = { TargetGroup: tg, LoadBalancer: "app/lb/1" };
    return {
      name: `${P}-deploy-${svc}-5xx`, prefixLength: P.length, severity: "deploy",
      description: `DEPLOY: ${svc} target 5xx at or above 5% of requests in 2 of 3 minutes; ECS rolls the deployment back`,
      threshold: 5, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 2, treatMissingData: "notBreaching",
      expression: "IF(FILL(req, 0) >= 10, 100 * FILL(err, 0) / req, 0)",
      inputs: { req: m("AWS/ApplicationELB", "RequestCount", dims, "Sum"), err: m("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dims, "Sum") },
    };
  };
  expect(d).toStrictEqual({
    api: [rate("api", "targetgroup/api/2")],
    realtime: [
      rate("realtime", "targetgroup/rt/3"),
      {
        name: `${P}-deploy-realtime-unhealthy`, prefixLength: P.length, severity: "deploy",
        description: "DEPLOY: realtime targets unhealthy in 2 of 3 minutes; ECS rolls the deployment back",
        threshold: 1, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 2, treatMissingData: "notBreaching",
        metric: m("AWS/ApplicationELB", "UnHealthyHostCount", { TargetGroup: "targetgroup/rt/3", LoadBalancer: "app/lb/1" }, "Maximum"),
      },
    ],
  });
});

test("deployment alarms: exactly the kinds each listed service asks for, on its own target group", () => {
  const d = deploymentAlarmSpecs(P, { alb: X.alb, deployment: { search: { targetGroupArnSuffix: "targetgroup/search/9", alarms: ["unhealthy"] } } });
  expect(Object.keys(d)).toStrictEqual(["search"]);
  expect(d.search!.map((a) => [a.name, a.metric?.dimensions])).toStrictEqual([
    [`${P}-deploy-search-unhealthy`, { TargetGroup: "targetgroup/search/9", LoadBalancer: "app/lb/1" }],
  ]);
});

test("CPU and memory alarms for every service named, none for others", () => {
  const names = alarmSpecs(P, T, { ...X, serviceNames: { realtime: "svc-rt", search: "svc-search" } }).map((a) => a.name).filter((n) => /-(realtime|search|api|workers)-high-(cpu|memory)$/.test(n));
  expect(names.sort()).toStrictEqual(["realtime", "search"].flatMap((s) => ["critical", "warning"].flatMap((v) => [`${P}-${v}-${s}-high-cpu`, `${P}-${v}-${s}-high-memory`])).sort());
});

test("backup alarms: failed backup jobs always, failed copies only when the plan copies", () => {
  const spec = (role: string, metricName: string, what: string) => ({
    name: `${P}-warning-${role}`, prefixLength: P.length, severity: "warning",
    description: `WARNING: ${what} failed in vault v (any in an hour)`,
    threshold: 1, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData: "notBreaching",
    metric: m("AWS/Backup", metricName, { BackupVaultName: "v" }, "Sum", 3600),
  });
  const jobs = spec("backup-jobs-failed", "NumberOfBackupJobsFailed", "an AWS Backup job");
  expect(backupAlarmSpecs(P, { vaultName: "v", copies: false })).toStrictEqual([jobs]);
  expect(backupAlarmSpecs(P, { vaultName: "v", copies: true })).toStrictEqual([jobs, spec("backup-copy-jobs-failed", "NumberOfCopyJobsFailed", "a copy to the DR region")]);
});
