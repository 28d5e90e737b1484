/**
 * Target-tracking scaling policies for ECS services, as plain specs. The service component turns each spec
 * into an `aws.appautoscaling.Policy`; the functions here only decide the metric and the target, so every
 * policy can be checked without the mock runtime.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Problems } from "./problems";

type Dimension = { name: string; value: pulumi.Input<string> };

/** The metric a policy tracks: one of AWS's predefined ECS metrics, or a customized metric / metric math. */
export type ScalingMetric =
  | { kind: "predefined"; predefinedMetricType: "ECSServiceAverageCPUUtilization" | "ECSServiceAverageMemoryUtilization" | "ALBRequestCountPerTarget"; resourceLabel?: pulumi.Input<string> }
  | { kind: "custom"; namespace: string; metricName: string; dimensions: Dimension[]; statistic: "Average" | "Maximum" | "Sum" }
  | { kind: "math"; metrics: MathMetric[] };

/** One entry of a metric-math expression: a metric (`stat`) or an expression; exactly one returns data. */
export type MathMetric =
  | { id: string; label?: string; stat: { namespace: string; metricName: string; dimensions: Dimension[]; stat: string }; returnData: false }
  | { id: string; label?: string; expression: string; returnData: boolean };

export interface ScalingPolicySpec {
  /** Role in the logical name: `<service>-scale-<role>`. */
  role: string;
  /** Value of the metric autoscaling keeps the service at. */
  targetValue: number;
  /** Seconds after a scale-out before another. @default 60 */
  scaleOutCooldownSeconds?: number;
  /** Seconds after a scale-in before another. @default 300 */
  scaleInCooldownSeconds?: number;
  metric: ScalingMetric;
}

/** Average CPU of the service's tasks, percent. */
export function cpuPolicy(targetPercent: number): ScalingPolicySpec {
  return { role: "cpu", targetValue: targetPercent, metric: { kind: "predefined", predefinedMetricType: "ECSServiceAverageCPUUtilization" } };
}

/**
 * ALB requests per target per minute. `resourceLabel` is `<alb arn suffix>/<target group arn suffix>`
 * (`app/<lb>/<id>/targetgroup/<tg>/<id>`).
 */
export function albRequestsPolicy(requestsPerTargetPerMinute: number, resourceLabel: pulumi.Input<string>): ScalingPolicySpec {
  return {
    role: "requests",
    targetValue: requestsPerTargetPerMinute,
    metric: { kind: "predefined", predefinedMetricType: "ALBRequestCountPerTarget", resourceLabel },
  };
}

/**
 * Open WebSocket connections per task: the `ActiveConnections` metric each realtime task publishes (EMF,
 * namespace `<project>-<env>`, dimension `ServiceName`). Request count would count a WebSocket once, at its
 * upgrade, so it cannot measure how full a task is. Scale-in is slow: every task removed drops its sockets.
 */
export function connectionsPolicy(args: { namespace: string; serviceName: string; connectionsPerTask: number }): ScalingPolicySpec {
  return {
    role: "connections",
    targetValue: args.connectionsPerTask,
    scaleInCooldownSeconds: 600,
    metric: {
      kind: "custom",
      namespace: args.namespace,
      metricName: "ActiveConnections",
      dimensions: [{ name: "ServiceName", value: args.serviceName }],
      statistic: "Average",
    },
  };
}

/**
 * Visible messages of the given queues per running task, by metric math:
 * `(m1 + m2 + ...) / running tasks` (Container Insights' RunningTaskCount; the cluster needs it enabled).
 */
export function backlogPolicy(args: { queueNames: string[]; clusterName: string; serviceName: string; messagesPerTask: number }): ScalingPolicySpec {
  if (args.queueNames.length === 0) throw new Error("backlogPolicy: queueNames is empty; name at least one queue the service consumes");
  const queues: MathMetric[] = args.queueNames.map((queue, i) => ({
    id: `m${i + 1}`,
    label: `${queue} visible messages`,
    stat: { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: [{ name: "QueueName", value: queue }], stat: "Sum" },
    returnData: false,
  }));
  const tasks: MathMetric = {
    id: "tasks",
    label: "running tasks",
    stat: {
      namespace: "ECS/ContainerInsights",
      metricName: "RunningTaskCount",
      dimensions: [{ name: "ClusterName", value: args.clusterName }, { name: "ServiceName", value: args.serviceName }],
      stat: "Average",
    },
    returnData: false,
  };
  const sum = queues.map((q) => q.id).join(" + ");
  const perTask: MathMetric = {
    id: "backlog",
    label: "visible messages per running task",
    // no running task yet: the whole backlog counts against one, so the service still scales out
    expression: `IF(tasks > 0, (${sum}) / tasks, ${sum})`,
    returnData: true,
  };
  return { role: "backlog", targetValue: args.messagesPerTask, metric: { kind: "math", metrics: [...queues, tasks, perTask] } };
}

/** The `targetTrackingScalingPolicyConfiguration` input of an `aws.appautoscaling.Policy`. */
export function targetTrackingConfiguration(spec: ScalingPolicySpec) {
  const base = {
    targetValue: spec.targetValue,
    scaleOutCooldown: spec.scaleOutCooldownSeconds ?? 60,
    scaleInCooldown: spec.scaleInCooldownSeconds ?? 300,
    disableScaleIn: false,
  };
  const m = spec.metric;
  switch (m.kind) {
    case "predefined":
      return { ...base, predefinedMetricSpecification: { predefinedMetricType: m.predefinedMetricType, resourceLabel: m.resourceLabel } };
    case "custom":
      return {
        ...base,
        customizedMetricSpecification: { namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, statistic: m.statistic },
      };
    case "math":
      return {
        ...base,
        customizedMetricSpecification: {
          metrics: m.metrics.map((x) =>
            "expression" in x
              ? { id: x.id, label: x.label, expression: x.expression, returnData: x.returnData }
              : {
                id: x.id,
                label: x.label,
                returnData: false,
                metricStat: { stat: x.stat.stat, metric: { namespace: x.stat.namespace, metricName: x.stat.metricName, dimensions: x.stat.dimensions } },
              }),
        },
      };
  }
}

/** Problems with a policy list, added to `p`: duplicate roles, bad targets, metric math without exactly one result. */
export function scalingPolicyProblems(specs: ScalingPolicySpec[], p: Problems = new Problems("scaling")): Problems {
  const roles = specs.map((s) => s.role);
  const dup = roles.filter((r, i) => roles.indexOf(r) !== i);
  if (dup.length) p.add("scaling.policies", dup[0], "this role is used twice; give each policy its own role");
  for (const s of specs) {
    if (!Number.isFinite(s.targetValue) || s.targetValue <= 0) p.add(`scaling.policies[${s.role}].targetValue`, s.targetValue, "must be a number above 0");
    if (s.metric.kind === "math" && s.metric.metrics.filter((x) => x.returnData).length !== 1) {
      p.add(`scaling.policies[${s.role}].metric`, "math", "metric math needs exactly one entry with returnData true");
    }
    if (s.metric.kind === "predefined" && s.metric.predefinedMetricType === "ALBRequestCountPerTarget" && s.metric.resourceLabel === undefined) {
      p.add(`scaling.policies[${s.role}].metric`, s.metric.predefinedMetricType, "needs resourceLabel <alb arn suffix>/<target group arn suffix>");
    }
  }
  return p;
}
