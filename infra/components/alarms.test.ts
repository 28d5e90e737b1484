/**
 * Alarms: every Key Metrics row has a warning and a critical alarm at the runbook's thresholds for every
 * tier, with its severity's topic (critical: the paging topic; warning: the warning topic) as alarm and OK
 * action; the incident alarms match the runbook's name patterns; the DLQ alarm counts drained messages; the
 * connection limits follow the instance class; backup job failures warn.
 */
import assert from "node:assert/strict";
import { TIER_NAMES, TIERS } from "../config/tiers";
import type { TierName } from "../config/tiers";
import { byType, synthesize } from "../synth";
import type { SynthResource, SynthResult } from "../synth";
import { alarmSpecs, instanceMemoryGiB, postgresMaxConnections } from "./alarm-specs";
import { Alarms, validateAlarmsArgs } from "./alarms";
import { Dashboard } from "./dashboard";
import type { AlarmsArgs } from "./alarms";

const PREFIX = "chat-test";

function argsFor(tier: TierName, extra: Partial<AlarmsArgs> = {}): AlarmsArgs {
  const s = TIERS[tier];
  return {
    namePrefix: PREFIX,
    thresholds: s.observability.alarms,
    accountId: "123456789012",
    clusterName: PREFIX,
    serviceNames: { api: `${PREFIX}-api`, realtime: `${PREFIX}-realtime`, workers: `${PREFIX}-workers` },
    alb: { arnSuffix: "app/chat-test/abc", apiTargetGroupArnSuffix: "targetgroup/api/1", realtimeTargetGroupArnSuffix: "targetgroup/rt/2" },
    deployment: { api: { targetGroupArnSuffix: "targetgroup/api/1", alarms: ["5xx"] }, realtime: { targetGroupArnSuffix: "targetgroup/rt/2", alarms: ["5xx", "unhealthy"] } },
    database: { instanceId: `${PREFIX}-db`, maxConnections: postgresMaxConnections(s.database.instanceClass) },
    redis: { replicationGroupId: `${PREFIX}-redis`, nodeCount: s.redis.replicas + 1 },
    queues: { push: { queueName: `${PREFIX}-push`, dlqName: `${PREFIX}-push-dlq` }, offline: { queueName: `${PREFIX}-offline`, dlqName: `${PREFIX}-offline-dlq` } },
    realtimeMaxConnectionsPerTask: s.services.realtime.maxConnectionsPerTask,
    ...extra,
  };
}

const runs = new Map<TierName, { result: SynthResult; component: Alarms }>();
let withEmail: SynthResult;
const withBackup = {} as { copies: SynthResult; local: SynthResult };

beforeAll(async () => {
  for (const tier of TIER_NAMES) {
    let component: Alarms | undefined;
    const result = await synthesize("dev", {
      program: () => {
        component = new Alarms("alarms", argsFor(tier));
        const dashboard = new Dashboard("dashboard", { ...argsFor(tier), region: "us-east-1" });
        return { topicArn: component.topicArn, dashboardName: dashboard.dashboardName };
      },
    });
    runs.set(tier, { result, component: component! });
  }
  withEmail = await synthesize("dev", { program: () => { new Alarms("alarms", argsFor("dev", { alarmEmail: "oncall@example.com" })); return {}; } });
  for (const copies of [true, false]) {
    withBackup[copies ? "copies" : "local"] = await synthesize("dev", {
      program: () => { new Alarms("alarms", argsFor("dev", { backup: { vaultName: `${PREFIX}-backup`, copies } })); return {}; },
    });
  }
});

const alarmsOf = (r: SynthResult) => new Map(byType(r, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.inputs.name as string, a]));
const glob = (pattern: string) => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);

/** Key Metrics rows -> alarm roles, the metric each must watch, and the threshold each severity must use. */
function keyMetricRows(tier: TierName): { role: string; metric: string; warning: number; critical: number }[] {
  const s = TIERS[tier];
  const t = s.observability.alarms;
  const maxConn = postgresMaxConnections(s.database.instanceClass);
  const perTask = s.services.realtime.maxConnectionsPerTask;
  const rows = [];
  for (const svc of Object.keys(argsFor("dev").serviceNames)) {
    rows.push({ role: `${svc}-high-cpu`, metric: "CPUUtilization", ...t.ecsCpuPercent });
    rows.push({ role: `${svc}-high-memory`, metric: "MemoryUtilization", ...t.ecsMemoryPercent });
  }
  rows.push({ role: "rds-high-connections", metric: "DatabaseConnections", warning: Math.ceil(maxConn * 0.7), critical: Math.ceil(maxConn * 0.9) });
  rows.push({ role: "redis-high-memory", metric: "DatabaseMemoryUsagePercentage", warning: 70, critical: 85 });
  rows.push({ role: "realtime-high-connections", metric: "ActiveConnections", warning: Math.floor(perTask * 0.8), critical: Math.floor(perTask * 0.95) });
  rows.push({ role: "realtime-event-loop-lag", metric: "EventLoopLagMs", warning: 100, critical: 200 });
  for (const q of ["push", "offline"]) {
    rows.push({ role: `sqs-${q}-queue-depth`, metric: "ApproximateNumberOfMessagesVisible", warning: 1000, critical: 5000 });
    rows.push({ role: `sqs-${q}-dlq`, metric: "NumberOfMessagesDeleted", warning: 1, critical: 10 });
  }
  return rows;
}

function metricNames(a: SynthResource): string[] {
  if (a.inputs.metricName) return [a.inputs.metricName];
  return (a.inputs.metricQueries as any[]).filter((q) => q.metric).map((q) => q.metric.metricName);
}

describe("alarms per tier", () => {
  for (const tier of TIER_NAMES) {
    describe(tier, () => {
      const get = () => runs.get(tier)!;

      it("has a warning and a critical alarm for every Key Metrics row, at the runbook thresholds", () => {
        const alarms = alarmsOf(get().result);
        for (const row of keyMetricRows(tier)) {
          for (const sev of ["warning", "critical"] as const) {
            const a = alarms.get(`${PREFIX}-${sev}-${row.role}`);
            assert.ok(a, `missing ${sev} alarm for ${row.role}`);
            assert.equal(a.inputs.threshold, row[sev], `${a.inputs.name} threshold`);
            assert.ok(metricNames(a).includes(row.metric), `${a.inputs.name} watches ${metricNames(a)}, expected ${row.metric}`);
            assert.equal(a.inputs.comparisonOperator, "GreaterThanOrEqualToThreshold");
          }
        }
      });

      it("sends critical alarms to the paging topic, warning and deployment alarms to the warning topic; both encrypted", () => {
        const r = get().result;
        const topics = byType(r, "aws:sns/topic:Topic");
        assert.deepEqual(topics.map((t) => t.inputs.name), [`${PREFIX}-alarms`, `${PREFIX}-alarms-warning`]);
        for (const topic of topics) assert.ok(topic.inputs.kmsMasterKeyId, "topic must be encrypted with a customer key CloudWatch may use");
        const key = byType(r, "aws:kms/key:Key")[0]!;
        const policy = JSON.parse(key.inputs.policy);
        assert.ok(policy.Statement.some((s: any) => s.Principal.Service === "cloudwatch.amazonaws.com"), "CloudWatch must be allowed to use the topic key");
        assert.equal(key.inputs.enableKeyRotation, true);
        let critical = 0;
        for (const a of alarmsOf(r).values()) {
          const isCritical = a.inputs.name.startsWith(`${PREFIX}-critical-`);
          critical += isCritical ? 1 : 0;
          const topicArn = `arn:aws:sns:us-east-1:123456789012:${PREFIX}-alarms${isCritical ? "" : "-warning"}`;
          assert.deepEqual(a.inputs.alarmActions, [topicArn], `${a.inputs.name} alarm actions`);
          assert.deepEqual(a.inputs.okActions, [topicArn], `${a.inputs.name} OK actions`);
          assert.ok(["missing", "notBreaching", "breaching"].includes(a.inputs.treatMissingData), `${a.inputs.name} missing data`);
        }
        assert.ok(critical >= 10 && critical < alarmsOf(r).size, "both topics are used");
        assert.equal(byType(r, "aws:sns/topicSubscription:TopicSubscription").length, 0, "no subscription without alarmEmail");
      });

      it("creates the alarms the incident procedures name, for both severities", () => {
        const names = [...alarmsOf(get().result).keys()];
        const patterns = ["*-high-cpu", "*-rds-high-connections", "*-redis-high-*", "*-realtime-unhealthy-targets", "*-alb-5xx", "*-sqs-*-dlq", "*-workers-message-age"];
        for (const p of patterns) {
          for (const sev of ["warning", "critical"]) {
            assert.ok(names.some((n) => glob(p).test(n) && n.startsWith(`${PREFIX}-${sev}-`)), `no ${sev} alarm matches ${p}`);
          }
        }
        assert.ok(names.includes(`${PREFIX}-critical-redis-high-cpu`));
        // a DLQ alarm per queue
        assert.ok(names.includes(`${PREFIX}-critical-sqs-push-dlq`) && names.includes(`${PREFIX}-critical-sqs-offline-dlq`));
        assert.equal(new Set(names).size, names.length, "alarm names are unique");
        for (const n of names) assert.ok(n.startsWith(`${PREFIX}-`), `${n} must start with <project>-<env>-`);
      });

      it("alarms on the busiest Redis node of the replication group", () => {
        const a = alarmsOf(get().result).get(`${PREFIX}-critical-redis-high-memory`)!;
        const nodes = (a.inputs.metricQueries as any[]).filter((q) => q.metric).map((q) => q.metric.dimensions.CacheClusterId);
        const expected = Array.from({ length: TIERS[tier].redis.replicas + 1 }, (_, i) => `${PREFIX}-redis-00${i + 1}`);
        assert.deepEqual(nodes, expected);
      });

      it("gives api and realtime deployment alarms (target 5xx rate) as Outputs for the ECS services", async () => {
        const { component, result } = get();
        const alarms = alarmsOf(result);
        const api = alarms.get(`${PREFIX}-deploy-api-5xx`)!;
        assert.ok(api);
        const api5xx = (api.inputs.metricQueries as any[]).find((q) => q.id === "err");
        assert.equal(api5xx.metric.metricName, "HTTPCode_Target_5XX_Count");
        assert.equal(api5xx.metric.dimensions.TargetGroup, "targetgroup/api/1");
        assert.ok(alarms.get(`${PREFIX}-deploy-realtime-5xx`));
        assert.ok(alarms.get(`${PREFIX}-deploy-realtime-unhealthy`));
        assert.equal(component.deploymentAlarmNames.api.length, 1);
        assert.equal(component.deploymentAlarmNames.realtime.length, 2);
      });
    });
  }
});

describe("dashboard", () => {
  it("graphs every Key Metrics row with its warning and critical lines", () => {
    const r = runs.get("10k-dau")!.result;
    const [d] = byType(r, "aws:cloudwatch/dashboard:Dashboard");
    assert.equal(d!.inputs.dashboardName, PREFIX);
    assert.equal(r.outputs.dashboardName, PREFIX);
    const body = JSON.parse(d!.inputs.dashboardBody);
    const byTitle = new Map<string, any>(body.widgets.map((w: any) => [w.properties.title, w.properties]));
    for (const row of keyMetricRows("10k-dau")) {
      const w = byTitle.get(row.role);
      assert.ok(w, `no graph for ${row.role}`);
      const lines = JSON.stringify(w.metrics);
      assert.ok(lines.includes(`"${row.metric}"`), `${row.role} graph lacks ${row.metric}`);
      assert.deepEqual(w.annotations.horizontal.map((h: any) => h.value), [row.warning, row.critical], `${row.role} threshold lines`);
    }
    const lag = byTitle.get("realtime-event-loop-lag");
    assert.deepEqual(lag.metrics[0], [PREFIX, "EventLoopLagMs", "ServiceName", `${PREFIX}-realtime`, { stat: "p95", period: 60, label: "EventLoopLagMs" }]);
    for (const w of body.widgets) assert.equal(w.properties.region, "us-east-1");
  });
});

describe("alarm details", () => {
  it("DLQ alarm adds what sits in the DLQ to what was deleted from it, in one-minute periods", () => {
    const a = alarmsOf(runs.get("dev")!.result).get(`${PREFIX}-warning-sqs-push-dlq`)!;
    const queries = a.inputs.metricQueries as any[];
    assert.equal(queries.find((q) => q.returnData).expression, "FILL(vis, 0) + FILL(inflight, 0) + FILL(deleted, 0)");
    const deleted = queries.find((q) => q.id === "deleted").metric;
    assert.deepEqual([deleted.metricName, deleted.stat, deleted.period, deleted.dimensions.QueueName], ["NumberOfMessagesDeleted", "Sum", 60, `${PREFIX}-push-dlq`]);
    assert.equal(queries.find((q) => q.id === "vis").metric.stat, "Maximum");
    assert.deepEqual([a.inputs.evaluationPeriods, a.inputs.datapointsToAlarm, a.inputs.threshold], [1, 1, 1]);
    assert.equal(a.inputs.treatMissingData, "notBreaching");
  });

  it("critical unhealthy-targets treats no data as breaching (no targets registered)", () => {
    const a = alarmsOf(runs.get("dev")!.result).get(`${PREFIX}-critical-realtime-unhealthy-targets`)!;
    assert.deepEqual([a.inputs.metricName, a.inputs.comparisonOperator, a.inputs.threshold, a.inputs.treatMissingData], ["HealthyHostCount", "LessThanThreshold", 1, "breaching"]);
  });

  it("event-loop lag uses the p95 statistic on the services' namespace and dimension", () => {
    const a = alarmsOf(runs.get("dev")!.result).get(`${PREFIX}-critical-realtime-event-loop-lag`)!;
    assert.equal(a.inputs.extendedStatistic, "p95");
    assert.equal(a.inputs.statistic, undefined);
    assert.equal(a.inputs.namespace, PREFIX);
    assert.deepEqual(a.inputs.dimensions, { ServiceName: `${PREFIX}-realtime` });
  });

  it("subscribes alarmEmail to the critical topic only", () => {
    const subs = byType(withEmail, "aws:sns/topicSubscription:TopicSubscription");
    assert.equal(subs.length, 1);
    assert.equal(subs[0]!.inputs.protocol, "email");
    assert.equal(subs[0]!.inputs.endpoint, "oncall@example.com");
    assert.equal(subs[0]!.inputs.topic, `arn:aws:sns:us-east-1:123456789012:${PREFIX}-alarms`);
  });

  it("warns on failed AWS Backup jobs in the vault, and on failed DR copies only where the plan copies", () => {
    const backupAlarms = (r: SynthResult) => [...alarmsOf(r).values()].filter((a) => a.inputs.namespace === "AWS/Backup").map((a) => a.inputs);
    assert.deepEqual(backupAlarms(runs.get("dev")!.result), [], "no backup alarms without a vault");
    const withCopy = backupAlarms(withBackup.copies);
    assert.deepEqual(withCopy.map((a) => [a.name, a.metricName, a.dimensions, a.statistic, a.period, a.threshold, a.alarmActions]), [
      [`${PREFIX}-warning-backup-jobs-failed`, "NumberOfBackupJobsFailed", { BackupVaultName: `${PREFIX}-backup` }, "Sum", 3600, 1, [`arn:aws:sns:us-east-1:123456789012:${PREFIX}-alarms-warning`]],
      [`${PREFIX}-warning-backup-copy-jobs-failed`, "NumberOfCopyJobsFailed", { BackupVaultName: `${PREFIX}-backup` }, "Sum", 3600, 1, [`arn:aws:sns:us-east-1:123456789012:${PREFIX}-alarms-warning`]],
    ]);
    for (const a of withCopy) assert.deepEqual([a.comparisonOperator, a.treatMissingData], ["GreaterThanOrEqualToThreshold", "notBreaching"]);
    assert.deepEqual(backupAlarms(withBackup.local).map((a) => a.name), [`${PREFIX}-warning-backup-jobs-failed`]);
  });

  it("computes max_connections from the instance class memory (LEAST(memory/9531392, 5000))", () => {
    assert.equal(instanceMemoryGiB("db.t4g.micro"), 1);
    assert.equal(instanceMemoryGiB("db.r6g.large"), 16);
    assert.equal(instanceMemoryGiB("db.r6g.2xlarge"), 64);
    assert.equal(instanceMemoryGiB("db.m7g.xlarge"), 16);
    assert.equal(postgresMaxConnections("db.t4g.micro"), 112);
    assert.equal(postgresMaxConnections("db.t4g.small"), 225);
    assert.equal(postgresMaxConnections("db.r6g.large"), 1802);
    assert.equal(postgresMaxConnections("db.r6g.2xlarge"), 5000);
    assert.throws(() => postgresMaxConnections("db.z9.huge"), /database\.instanceClass = "db\.z9\.huge"/);
  });

  it("rejects bad arguments with the field and the fix", () => {
    const base = argsFor("dev");
    assert.throws(() => validateAlarmsArgs({ ...base, database: { instanceId: "x", maxConnections: 0 } }), /Alarms: invalid arguments:\n  - database\.maxConnections 0: expected/);
    assert.throws(() => validateAlarmsArgs({ ...base, redis: { replicationGroupId: "x", nodeCount: 9 } }), /  - redis\.nodeCount 9: expected the primary plus replicas/);
    assert.throws(() => validateAlarmsArgs({ ...base, thresholds: { ...base.thresholds, ecsCpuPercent: { warning: 90, critical: 80 } } }),
      /  - thresholds\.ecsCpuPercent \{"warning":90,"critical":80\}: warning must not exceed critical/);
    assert.throws(() => validateAlarmsArgs({ ...base, queues: {} }), /  - queues \{\}: list at least one queue/);
    assert.doesNotThrow(() => validateAlarmsArgs(base));
  });

  it("specs are pure data: same names for the same input", () => {
    const a = alarmSpecs(PREFIX, TIERS.dev.observability.alarms, argsFor("dev")).map((s) => s.name).sort();
    assert.deepEqual(a, [...alarmsOf(runs.get("dev")!.result).keys()].filter((n) => !n.includes("-deploy-")).sort());
  });
});
