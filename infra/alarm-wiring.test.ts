/**
 * Alarm wiring: in every stack, each alarm's dimensions name exactly the resource it is meant to watch, read
 * from the resources the stack creates (not from the names the alarms were given): CPU/memory on that
 * service's cluster and service, queue depth and message age on the work queues (those with a redrive
 * policy), DLQ alarms on the queue each work queue redrives to, target-group alarms on the target group the
 * service registers with plus the ALB, Redis on the member clusters of the replication group, RDS on the
 * instance, backup alarms on the vault.
 *
 * CloudWatch dimension values (AWS facts):
 * - ALB metrics: `LoadBalancer` is the final portion of the load balancer ARN (`app/<name>/<id>`) and
 *   `TargetGroup` the final portion of the target group ARN (`targetgroup/<name>/<id>`):
 *   https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html
 * - ECS: `ClusterName` + `ServiceName`; SQS: `QueueName`; RDS: `DBInstanceIdentifier`; ElastiCache:
 *   `CacheClusterId` of each member cluster of the replication group
 *   (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_ReplicationGroup.html, MemberClusters).
 */
import { readdirSync } from "node:fs";
import { byType, REPO_ROOT, synthesize } from "./synth";
import type { SynthResource, SynthResult } from "./synth";
import { SERVICE_NAMES } from "./catalogue";

const STACKS = readdirSync(REPO_ROOT)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();

const runs = new Map<string, SynthResult>();
beforeAll(async () => {
  for (const stack of STACKS) runs.set(stack, await synthesize(stack));
});

interface Dims {
  [k: string]: string;
}
/** Every metric an alarm reads: its own, or each of its metric-math inputs (by id). */
function metricsOf(a: SynthResource): Record<string, { metricName: string; namespace: string; dimensions: Dims }> {
  if (a.inputs.metricName) return { "": { metricName: a.inputs.metricName, namespace: a.inputs.namespace, dimensions: a.inputs.dimensions } };
  return Object.fromEntries((a.inputs.metricQueries as any[]).filter((q) => q.metric).map((q) => [q.id, q.metric]));
}
const arnSuffix = (arn: string, after: string) => {
  const i = arn.indexOf(after);
  if (i < 0) throw new Error(`${arn} has no "${after}"`);
  return arn.slice(i + after.length);
};

/** What the stack created, read from the resources themselves. */
function watched(r: SynthResult) {
  const [cluster] = byType(r, "aws:ecs/cluster:Cluster");
  const services = byType(r, "aws:ecs/service:Service");
  const service = (svc: string) => {
    const s = services.filter((x) => x.name === `${svc}-service`);
    expect(s).toHaveLength(1);
    // The service runs in the stack's cluster (its ARN ends with the cluster's name).
    expect(s[0]!.inputs.cluster).toBe(`arn:aws:ecs:${r.region}:123456789012:cluster/${cluster!.inputs.name}`);
    return s[0]!;
  };
  // The target group each load-balanced service registers with, and the ALB of the listener.
  const targetGroupOf = (svc: string) => {
    const arn = service(svc).inputs.loadBalancers[0].targetGroupArn as string;
    return arn.slice(arn.lastIndexOf(":") + 1);
  };
  const listeners = byType(r, "aws:lb/listener:Listener");
  const lbArns = [...new Set(listeners.map((l) => l.inputs.loadBalancerArn as string))];
  expect(lbArns).toHaveLength(1);
  const queues = byType(r, "aws:sqs/queue:Queue");
  const work = queues.filter((q) => q.inputs.redrivePolicy);
  const dlqOf = (q: SynthResource) => {
    const target = JSON.parse(q.inputs.redrivePolicy).deadLetterTargetArn as string;
    const dlq = queues.filter((x) => target.endsWith(`:${x.inputs.name}`));
    expect(dlq).toHaveLength(1);
    return dlq[0]!.inputs.name as string;
  };
  const [group] = byType(r, "aws:elasticache/replicationGroup:ReplicationGroup");
  const [db] = byType(r, "aws:rds/instance:Instance");
  return {
    clusterName: cluster!.inputs.name as string,
    serviceName: (svc: string) => service(svc).inputs.name as string,
    targetGroupOf,
    loadBalancer: arnSuffix(lbArns[0]!, ":loadbalancer/"),
    workQueues: Object.fromEntries(work.map((q) => [q.name.replace(/^queues-/, ""), { name: q.inputs.name as string, dlq: dlqOf(q) }])),
    // Member clusters of a replication group without cluster mode: <id>-001 ... one per cache cluster.
    redisMembers: Array.from({ length: group!.inputs.numCacheClusters as number }, (_, i) => `${group!.inputs.replicationGroupId}-${String(i + 1).padStart(3, "0")}`),
    dbInstanceId: db!.inputs.identifier as string,
    vaults: byType(r, "aws:backup/vault:Vault").map((v) => v.inputs.name as string),
  };
}

describe.each(STACKS)("%s", (stack) => {
  const alarms = () => new Map(byType(runs.get(stack)!, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.inputs.name as string, a]));
  const prefix = () => runs.get(stack)!.outputs.ecsClusterName as string;
  const alarm = (role: string) => {
    const a = alarms().get(`${prefix()}-${role}`);
    if (!a) throw new Error(`no alarm ${prefix()}-${role}`);
    return a;
  };
  const both = (role: string) => [alarm(`warning-${role}`), alarm(`critical-${role}`)];

  test("ECS CPU and memory alarms watch their own service in the stack's cluster", () => {
    const w = watched(runs.get(stack)!);
    const seen = new Set<string>();
    for (const svc of SERVICE_NAMES) {
      for (const kind of ["high-cpu", "high-memory"]) {
        for (const a of both(`${svc}-${kind}`)) {
          expect({ alarm: a.inputs.name, namespace: a.inputs.namespace, dimensions: a.inputs.dimensions }).toStrictEqual({
            alarm: a.inputs.name, namespace: "AWS/ECS", dimensions: { ClusterName: w.clusterName, ServiceName: w.serviceName(svc) },
          });
        }
      }
      seen.add(w.serviceName(svc));
    }
    expect(seen.size).toBe(3);
  });

  test("queue-depth and message-age alarms watch the work queues; DLQ alarms the queue each one redrives to", () => {
    const w = watched(runs.get(stack)!);
    expect(Object.keys(w.workQueues).sort()).toEqual(["offline", "push"]);
    for (const [q, names] of Object.entries(w.workQueues)) {
      expect(names.dlq).not.toBe(names.name);
      for (const a of both(`sqs-${q}-queue-depth`)) {
        expect([a.inputs.namespace, a.inputs.metricName, a.inputs.dimensions]).toStrictEqual(["AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: names.name }]);
      }
      for (const a of both(`sqs-${q}-dlq`)) {
        const metrics = Object.values(metricsOf(a));
        expect(metrics.length).toBe(3);
        for (const m of metrics) expect(m.dimensions).toStrictEqual({ QueueName: names.dlq });
      }
    }
    for (const a of both("workers-message-age")) {
      const queues = Object.values(metricsOf(a)).map((m) => m.dimensions.QueueName).sort();
      expect(queues).toStrictEqual(Object.values(w.workQueues).map((q) => q.name).sort());
    }
  });

  test("target-group alarms watch the target group the service registers with, on the stack's ALB", () => {
    const w = watched(runs.get(stack)!);
    const realtime = { TargetGroup: w.targetGroupOf("realtime"), LoadBalancer: w.loadBalancer };
    const api = { TargetGroup: w.targetGroupOf("api"), LoadBalancer: w.loadBalancer };
    expect(realtime.TargetGroup).not.toBe(api.TargetGroup);
    expect(realtime.TargetGroup).toMatch(/^targetgroup\/[^/]+\/[^/]+$/);
    expect(w.loadBalancer).toMatch(/^app\/[^/]+\/[^/]+$/);
    for (const a of [...both("realtime-unhealthy-targets"), alarm("deploy-realtime-unhealthy")]) {
      expect([a.inputs.name, a.inputs.dimensions]).toStrictEqual([a.inputs.name, realtime]);
    }
    for (const m of Object.values(metricsOf(alarm("deploy-realtime-5xx")))) expect(m.dimensions).toStrictEqual(realtime);
    for (const m of Object.values(metricsOf(alarm("deploy-api-5xx")))) expect(m.dimensions).toStrictEqual(api);
    for (const a of both("alb-5xx")) {
      for (const m of Object.values(metricsOf(a))) expect(m.dimensions).toStrictEqual({ LoadBalancer: w.loadBalancer });
    }
  });

  test("Redis alarms watch every member cluster of the stack's replication group, and only those", () => {
    const w = watched(runs.get(stack)!);
    for (const a of [...both("redis-high-memory"), ...both("redis-high-cpu")]) {
      const members = Object.values(metricsOf(a)).map((m) => {
        expect(Object.keys(m.dimensions)).toStrictEqual(["CacheClusterId"]);
        return m.dimensions.CacheClusterId;
      });
      expect([a.inputs.name, members]).toStrictEqual([a.inputs.name, w.redisMembers]);
    }
  });

  test("RDS, realtime custom-metric and backup alarms watch the instance, the realtime service and the vault", () => {
    const w = watched(runs.get(stack)!);
    for (const a of both("rds-high-connections")) expect(a.inputs.dimensions).toStrictEqual({ DBInstanceIdentifier: w.dbInstanceId });
    for (const role of ["realtime-high-connections", "realtime-event-loop-lag"]) {
      for (const a of both(role)) {
        expect([a.inputs.namespace, a.inputs.dimensions]).toStrictEqual([prefix(), { ServiceName: w.serviceName("realtime") }]);
      }
    }
    const backupAlarms = [...alarms().values()].filter((a) => a.inputs.namespace === "AWS/Backup");
    expect(backupAlarms.length).toBeGreaterThan(0);
    for (const a of backupAlarms) expect(w.vaults).toContain(a.inputs.dimensions.BackupVaultName);
  });

  test("every alarm of the stack is covered by the checks above", () => {
    const checked = [
      /-(warning|critical)-(api|realtime|workers)-high-(cpu|memory)$/, /-(warning|critical)-sqs-(push|offline)-(queue-depth|dlq)$/,
      /-(warning|critical)-workers-message-age$/, /-(warning|critical)-realtime-unhealthy-targets$/, /-deploy-(api|realtime)-5xx$/,
      /-deploy-realtime-unhealthy$/, /-(warning|critical)-alb-5xx$/, /-(warning|critical)-redis-high-(memory|cpu)$/,
      /-(warning|critical)-rds-high-connections$/, /-(warning|critical)-realtime-(high-connections|event-loop-lag)$/,
      /-warning-backup-(copy-)?jobs-failed$/,
    ];
    const unchecked = [...alarms().keys()].filter((n) => !checked.some((re) => re.test(n)));
    expect(unchecked).toEqual([]);
  });
});
