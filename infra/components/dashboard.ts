/**
 * One CloudWatch dashboard per stack (`<project>-<env>`) with the metrics the operators watch. Each graph
 * is drawn from the same definition as the critical alarm on that metric (`alarm-specs.ts`), with the
 * warning and critical thresholds as horizontal lines, so what the dashboard shows is what pages.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alarmSpecs, redisNodeIds } from "./alarm-specs";
import type { AlarmSpec, AlarmTargets, AlarmThresholds, MetricRef } from "./alarm-specs";

export interface DashboardArgs extends AlarmTargets {
  /** `<project>-<env>`: the dashboard name and the services' metrics namespace. */
  namePrefix: string;
  /** Region the metrics live in. */
  region: string;
  thresholds: AlarmThresholds;
}

/**
 * Dashboard widget order: the runbook's Key Metrics first (each service's CPU, then each one's memory, in the
 * order of `serviceNames`), then the incident metrics.
 */
const order = (services: string[]) => [
  ...services.map((svc) => `${svc}-high-cpu`),
  ...services.map((svc) => `${svc}-high-memory`),
  "rds-high-connections", "redis-high-memory", "redis-high-cpu",
  "realtime-high-connections", "realtime-event-loop-lag", "realtime-unhealthy-targets",
  "alb-5xx", "workers-message-age",
];

type MetricLine = unknown[];

function metricLine(m: MetricRef, extra: Record<string, unknown>): MetricLine {
  const dims = Object.entries(m.dimensions).flatMap(([k, v]) => [k, v]);
  return [m.namespace, m.metricName, ...dims, { stat: m.stat, period: m.period, ...extra }];
}

/** The lines of one graph for an alarm spec. */
export function widgetMetrics(spec: AlarmSpec): MetricLine[] {
  if (spec.metric) return [metricLine(spec.metric, { label: spec.metric.metricName })];
  const hidden = Object.entries(spec.inputs!).map(([id, m]) => metricLine(m, { id, visible: false }));
  return [[{ expression: spec.expression, label: spec.description.replace(/^CRITICAL: /, "").replace(/ at or above .*$/, ""), id: "e" }], ...hidden];
}

/** The dashboard body (widgets as plain data with Inputs inside). */
export function dashboardBody(args: DashboardArgs): Record<string, unknown> {
  const specs = alarmSpecs(args.namePrefix, args.thresholds, args);
  const critical = new Map(specs.filter((s) => s.severity === "critical").map((s) => [s.name.slice(`${args.namePrefix}-critical-`.length), s]));
  const warning = new Map(specs.filter((s) => s.severity === "warning").map((s) => [s.name.slice(`${args.namePrefix}-warning-`.length), s]));
  const queueRoles = Object.keys(args.queues).flatMap((q) => [`sqs-${q}-queue-depth`, `sqs-${q}-dlq`]);
  const roles = [...order(Object.keys(args.serviceNames)), ...queueRoles];
  const widgets = roles.map((role, i) => {
    const spec = critical.get(role);
    if (!spec) throw new Error(`Dashboard: no alarm definition for ${role}`);
    const warn = warning.get(role);
    const usesThresholdLines = spec.comparison !== "LessThanThreshold";
    return {
      type: "metric",
      x: (i % 3) * 8,
      y: Math.floor(i / 3) * 6,
      width: 8,
      height: 6,
      properties: {
        title: role,
        region: args.region,
        view: "timeSeries",
        stacked: false,
        metrics: widgetMetrics(spec),
        annotations: {
          horizontal: usesThresholdLines
            ? [
                ...(warn ? [{ label: "warning", value: warn.threshold, color: "#ff7f0e" }] : []),
                { label: "critical", value: spec.threshold, color: "#d62728" },
              ]
            : [{ label: "critical below", value: spec.threshold, color: "#d62728" }],
        },
      },
    };
  });
  // Context graphs without alarms: Redis client connections per node, ALB traffic.
  const minute = 60;
  const context = [
    {
      title: "redis-connections",
      metrics: redisNodeIds(args.redis.replicationGroupId, args.redis.nodeCount).map((id) =>
        metricLine({ namespace: "AWS/ElastiCache", metricName: "CurrConnections", dimensions: { CacheClusterId: id }, stat: "Maximum", period: minute }, {})),
    },
    {
      title: "alb-requests",
      metrics: [metricLine({ namespace: "AWS/ApplicationELB", metricName: "RequestCount", dimensions: { LoadBalancer: args.alb.arnSuffix }, stat: "Sum", period: minute }, {})],
    },
  ].map((w, j) => {
    const i = widgets.length + j;
    return { type: "metric", x: (i % 3) * 8, y: Math.floor(i / 3) * 6, width: 8, height: 6, properties: { ...w, region: args.region, view: "timeSeries", stacked: false } };
  });
  return { widgets: [...widgets, ...context] };
}

export class Dashboard extends pulumi.ComponentResource {
  readonly dashboardName: pulumi.Output<string>;

  constructor(name: string, args: DashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:dashboard:Dashboard", name, {}, opts);
    const dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, {
      dashboardName: args.namePrefix,
      dashboardBody: pulumi.jsonStringify(dashboardBody(args)),
    }, { parent: this });
    this.dashboardName = dashboard.dashboardName;
    this.registerOutputs({ dashboardName: this.dashboardName });
  }
}
