/**
 * What each alarm watches, as plain data (no resources): the `Alarms` component turns these into
 * `aws.cloudwatch.MetricAlarm`s, the dashboard and `docs/RUNBOOK.md` use the same metrics.
 *
 * Missing data, per kind of metric:
 * - ECS CPU/memory, realtime connections and event-loop lag, queue depth, message age, DLQ, 5xx rates:
 *   `notBreaching`. These metrics exist only while tasks run or a queue is active (SQS stops publishing
 *   for a queue idle for hours; the ALB publishes 5xx counts only when there are any). A dead service is
 *   caught by the unhealthy-targets alarm and the ECS circuit breaker, not by a CPU alarm with no data.
 * - RDS connections, Redis memory and CPU: `missing` (keep the current state). The managed services publish
 *   every minute; a gap is a delivery delay, and flipping to OK or ALARM on it would be noise.
 * - Realtime healthy hosts (critical unhealthy-targets alarm): `breaching`. No data means no registered
 *   targets, which is an outage.
 */
import * as pulumi from "@pulumi/pulumi";

export { instanceMemoryGiB, postgresMaxConnections } from "./postgres-limits";

/** A warning and a critical (paging) value for one metric. */
export interface Threshold {
  warning: number;
  critical: number;
}

/** Thresholds per metric (the tier's `observability.alarms` has this shape). Percentages unless the name says otherwise. */
export interface AlarmThresholds {
  ecsCpuPercent: Threshold;
  ecsMemoryPercent: Threshold;
  rdsConnectionsPercentOfMax: Threshold;
  redisMemoryPercent: Threshold;
  realtimeConnectionsPercentOfMax: Threshold;
  eventLoopLagMs: Threshold;
  queueDepth: Threshold;
  dlqMessages: Threshold;
  redisEngineCpuPercent: Threshold;
  alb5xxPercent: Threshold;
  queueMessageAgeSeconds: Threshold;
}

export type Severity = "warning" | "critical" | "deploy";
export type MissingData = "missing" | "notBreaching" | "breaching" | "ignore";
export type Comparison = "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold" | "LessThanThreshold";

export interface MetricRef {
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  /** `Average`, `Maximum`, `Sum`... or a percentile such as `p95`. */
  stat: string;
  /** Seconds. */
  period: number;
}

export interface AlarmSpec {
  /** Physical alarm name. */
  name: string;
  /** Length of `<project>-<env>`, to derive the logical name. */
  prefixLength: number;
  severity: Severity;
  description: string;
  threshold: number;
  comparison: Comparison;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: MissingData;
  /** A single metric... */
  metric?: MetricRef;
  /** ...or a metric-math expression over `inputs` (ids are lowercase letters and digits). */
  expression?: string;
  inputs?: Record<string, MetricRef>;
}

/** Alarms that can roll a deployment back. */
export type DeploymentAlarmKind = "5xx" | "unhealthy";

/** Identifiers of what the alarms watch. */
export interface AlarmTargets {
  /** ECS cluster name (`<project>-<env>`). */
  clusterName: pulumi.Input<string>;
  /**
   * ECS service names by service (every service gets CPU and memory alarms), e.g. `chat-dev-api`; also the
   * `ServiceName` dimension of the custom metrics. The realtime service's connection alarms need `realtime`.
   */
  serviceNames: Record<string, pulumi.Input<string>> & { realtime: pulumi.Input<string> };
  /**
   * Services whose deployments roll back on alarms: the target group they are behind (ARN suffix) and which
   * alarms (`5xx`: target 5xx rate; `unhealthy`: unhealthy targets). Services not listed get none.
   */
  deployment: Record<string, { targetGroupArnSuffix: pulumi.Input<string>; alarms: readonly DeploymentAlarmKind[] }>;
  /** ALB and target group ARN suffixes (the CloudWatch dimensions). */
  alb: {
    arnSuffix: pulumi.Input<string>;
    apiTargetGroupArnSuffix: pulumi.Input<string>;
    realtimeTargetGroupArnSuffix: pulumi.Input<string>;
  };
  /** DB instance identifier and its max_connections (see `postgresMaxConnections`). */
  database: { instanceId: pulumi.Input<string>; maxConnections: number };
  /** Replication group id and node count (primary + replicas); nodes are `<id>-001`, `<id>-002`... */
  redis: { replicationGroupId: pulumi.Input<string>; nodeCount: number };
  /** Queues by short name (`push`, `offline`): the work queue and its dead-letter queue names. */
  queues: Record<string, { queueName: pulumi.Input<string>; dlqName: pulumi.Input<string> }>;
  /** MAX_CONNECTIONS_PER_TASK of the realtime service. */
  realtimeMaxConnectionsPerTask: number;
  /**
   * The stack's AWS Backup vault (plain name, `<project>-<env>-backup`) and whether its plan copies to the DR
   * region: adds the backup and copy job failure alarms. @default none
   */
  backup?: { vaultName: string; copies: boolean };
}

/** Redis member cluster ids of a replication group without cluster mode. */
export function redisNodeIds(replicationGroupId: pulumi.Input<string>, nodeCount: number): pulumi.Input<string>[] {
  return Array.from({ length: nodeCount }, (_, i) => {
    const suffix = `-${String(i + 1).padStart(3, "0")}`;
    return typeof replicationGroupId === "string" ? replicationGroupId + suffix : pulumi.interpolate`${replicationGroupId}${suffix}`;
  });
}

/** The warning + critical alarms for the runbook's Key Metrics and incident procedures. */
export function alarmSpecs(prefix: string, t: AlarmThresholds, x: AlarmTargets): AlarmSpec[] {
  const out: AlarmSpec[] = [];
  const both = (
    role: string,
    thresholds: Threshold,
    what: string,
    rest: Omit<AlarmSpec, "name" | "prefixLength" | "severity" | "description" | "threshold">,
  ) => {
    for (const severity of ["warning", "critical"] as const) {
      out.push({
        name: `${prefix}-${severity}-${role}`,
        prefixLength: prefix.length,
        severity,
        description: `${severity.toUpperCase()}: ${what} at or above ${thresholds[severity]}`,
        threshold: thresholds[severity],
        ...rest,
      });
    }
  };
  const minute = 60;

  for (const [svc, serviceName] of Object.entries(x.serviceNames)) {
    const dims = { ClusterName: x.clusterName, ServiceName: serviceName };
    both(`${svc}-high-cpu`, t.ecsCpuPercent, `${svc} ECS CPU % (service average, 4 of 5 minutes)`, {
      comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 5, datapointsToAlarm: 4, treatMissingData: "notBreaching",
      metric: { namespace: "AWS/ECS", metricName: "CPUUtilization", dimensions: dims, stat: "Average", period: minute },
    });
    both(`${svc}-high-memory`, t.ecsMemoryPercent, `${svc} ECS memory % (service average, 4 of 5 minutes)`, {
      comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 5, datapointsToAlarm: 4, treatMissingData: "notBreaching",
      metric: { namespace: "AWS/ECS", metricName: "MemoryUtilization", dimensions: dims, stat: "Average", period: minute },
    });
  }

  // RDS connections: the share of max_connections, as an absolute count.
  const maxConn = x.database.maxConnections;
  const connThresholds = {
    warning: Math.ceil((maxConn * t.rdsConnectionsPercentOfMax.warning) / 100),
    critical: Math.ceil((maxConn * t.rdsConnectionsPercentOfMax.critical) / 100),
  };
  both("rds-high-connections", connThresholds,
    `RDS DatabaseConnections (${t.rdsConnectionsPercentOfMax.warning}%/${t.rdsConnectionsPercentOfMax.critical}% of max_connections ${maxConn}; maximum, 3 of 3 minutes)`, {
      comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "missing",
      metric: { namespace: "AWS/RDS", metricName: "DatabaseConnections", dimensions: { DBInstanceIdentifier: x.database.instanceId }, stat: "Maximum", period: minute },
    });

  // Redis: the busiest node decides.
  const nodes = redisNodeIds(x.redis.replicationGroupId, x.redis.nodeCount);
  const perNode = (metricName: string, stat: string) =>
    Object.fromEntries(nodes.map((id, i) => [`n${i + 1}`, { namespace: "AWS/ElastiCache", metricName, dimensions: { CacheClusterId: id }, stat, period: minute }]));
  const maxOfNodes = `MAX([${nodes.map((_, i) => `n${i + 1}`).join(", ")}])`;
  both("redis-high-memory", t.redisMemoryPercent, "Redis DatabaseMemoryUsagePercentage (busiest node, 3 of 3 minutes)", {
    comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "missing",
    expression: maxOfNodes, inputs: perNode("DatabaseMemoryUsagePercentage", "Maximum"),
  });
  both("redis-high-cpu", t.redisEngineCpuPercent, "Redis EngineCPUUtilization (busiest node, 5 of 5 minutes)", {
    comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 5, datapointsToAlarm: 5, treatMissingData: "missing",
    expression: maxOfNodes, inputs: perNode("EngineCPUUtilization", "Average"),
  });

  // Realtime: connections of the busiest task against MAX_CONNECTIONS_PER_TASK, and event-loop lag.
  const perTask = x.realtimeMaxConnectionsPerTask;
  const rtDims = { ServiceName: x.serviceNames.realtime };
  both("realtime-high-connections", {
    warning: Math.floor((perTask * t.realtimeConnectionsPercentOfMax.warning) / 100),
    critical: Math.floor((perTask * t.realtimeConnectionsPercentOfMax.critical) / 100),
  }, `realtime ActiveConnections of the busiest task (${t.realtimeConnectionsPercentOfMax.warning}%/${t.realtimeConnectionsPercentOfMax.critical}% of ${perTask} per task; 3 of 3 minutes)`, {
    comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
    metric: { namespace: prefix, metricName: "ActiveConnections", dimensions: rtDims, stat: "Maximum", period: minute },
  });
  both("realtime-event-loop-lag", t.eventLoopLagMs, "realtime EventLoopLagMs p95, ms (3 of 3 minutes)", {
    comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
    metric: { namespace: prefix, metricName: "EventLoopLagMs", dimensions: rtDims, stat: "p95", period: minute },
  });

  // Realtime targets: warning on any unhealthy target, critical when none is healthy (or none registered).
  const tgDims = { TargetGroup: x.alb.realtimeTargetGroupArnSuffix, LoadBalancer: x.alb.arnSuffix };
  out.push({
    name: `${prefix}-warning-realtime-unhealthy-targets`, prefixLength: prefix.length, severity: "warning",
    description: "WARNING: realtime target group has unhealthy targets (3 of 3 minutes)",
    threshold: 1, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
    metric: { namespace: "AWS/ApplicationELB", metricName: "UnHealthyHostCount", dimensions: tgDims, stat: "Maximum", period: minute },
  });
  out.push({
    name: `${prefix}-critical-realtime-unhealthy-targets`, prefixLength: prefix.length, severity: "critical",
    description: "CRITICAL: realtime target group has no healthy target (2 of 2 minutes; no data counts as none)",
    threshold: 1, comparison: "LessThanThreshold", evaluationPeriods: 2, datapointsToAlarm: 2, treatMissingData: "breaching",
    metric: { namespace: "AWS/ApplicationELB", metricName: "HealthyHostCount", dimensions: tgDims, stat: "Minimum", period: minute },
  });

  // ALB 5xx (load balancer + targets) as a percent of requests; quiet below 20 requests a minute.
  const lb = { LoadBalancer: x.alb.arnSuffix };
  both("alb-5xx", t.alb5xxPercent, "ALB 5xx responses, % of requests (3 of 3 minutes)", {
    comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
    expression: "IF(FILL(req, 0) >= 20, 100 * (FILL(elb, 0) + FILL(tgt, 0)) / req, 0)",
    inputs: {
      req: { namespace: "AWS/ApplicationELB", metricName: "RequestCount", dimensions: lb, stat: "Sum", period: minute },
      elb: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_ELB_5XX_Count", dimensions: lb, stat: "Sum", period: minute },
      tgt: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", dimensions: lb, stat: "Sum", period: minute },
    },
  });

  // Queues: depth per work queue; messages per DLQ; age of the oldest message across work queues.
  for (const [q, names] of Object.entries(x.queues)) {
    both(`sqs-${q}-queue-depth`, t.queueDepth, `${q} queue ApproximateNumberOfMessagesVisible (5 of 5 minutes)`, {
      comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 5, datapointsToAlarm: 5, treatMissingData: "notBreaching",
      metric: { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: names.queueName }, stat: "Maximum", period: minute },
    });
    // A message dead-lettered and drained within the same minute never shows in the visible count, and
    // SQS does not count redriven messages in NumberOfMessagesSent. So the alarm adds what is in the DLQ
    // (visible + in flight, maximum) to what was deleted from it in the minute (sum): a message that lands
    // in the DLQ counts while it sits there and again in the minute someone removes it. One minute is
    // enough to alarm; the alarm returns to OK once the DLQ is empty and untouched.
    const dlq = { QueueName: names.dlqName };
    both(`sqs-${q}-dlq`, t.dlqMessages, `${q} DLQ messages present or removed in the minute`, {
      comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData: "notBreaching",
      expression: "FILL(vis, 0) + FILL(inflight, 0) + FILL(deleted, 0)",
      inputs: {
        vis: { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: dlq, stat: "Maximum", period: minute },
        inflight: { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesNotVisible", dimensions: dlq, stat: "Maximum", period: minute },
        deleted: { namespace: "AWS/SQS", metricName: "NumberOfMessagesDeleted", dimensions: dlq, stat: "Sum", period: minute },
      },
    });
  }
  const queueIds = Object.keys(x.queues);
  both("workers-message-age", t.queueMessageAgeSeconds, "ApproximateAgeOfOldestMessage of the work queues, seconds (3 of 3 minutes)", {
    comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
    expression: `MAX([${queueIds.map((q) => `age${q}`).join(", ")}])`,
    inputs: Object.fromEntries(queueIds.map((q) => [`age${q}`, {
      namespace: "AWS/SQS", metricName: "ApproximateAgeOfOldestMessage", dimensions: { QueueName: x.queues[q]!.queueName }, stat: "Maximum", period: minute,
    }])),
  });
  return out;
}

/**
 * Deployment alarms ECS watches during a rollout (`alarms: { enable, rollback }` on the service): the 5xx
 * rate of the service's target group, so a release that starts but answers with errors rolls back even
 * though its tasks stay up; `unhealthy` also rolls back when its targets turn unhealthy. Per service of
 * `x.deployment`, in its order.
 */
export function deploymentAlarmSpecs(prefix: string, x: Pick<AlarmTargets, "alb" | "deployment">): Record<string, AlarmSpec[]> {
  const rate = (svc: string, tg: pulumi.Input<string>): AlarmSpec => {
    const dims = { TargetGroup: tg, LoadBalancer: x.alb.arnSuffix };
    return {
      name: `${prefix}-deploy-${svc}-5xx`, prefixLength: prefix.length, severity: "deploy",
      description: `DEPLOY: ${svc} target 5xx at or above 5% of requests in 2 of 3 minutes; ECS rolls the deployment back`,
      threshold: 5, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 2, treatMissingData: "notBreaching",
      expression: "IF(FILL(req, 0) >= 10, 100 * FILL(err, 0) / req, 0)",
      inputs: {
        req: { namespace: "AWS/ApplicationELB", metricName: "RequestCount", dimensions: dims, stat: "Sum", period: 60 },
        err: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", dimensions: dims, stat: "Sum", period: 60 },
      },
    };
  };
  const unhealthy = (svc: string, tg: pulumi.Input<string>): AlarmSpec => ({
    name: `${prefix}-deploy-${svc}-unhealthy`, prefixLength: prefix.length, severity: "deploy",
    description: `DEPLOY: ${svc} targets unhealthy in 2 of 3 minutes; ECS rolls the deployment back`,
    threshold: 1, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 3, datapointsToAlarm: 2, treatMissingData: "notBreaching",
    metric: {
      namespace: "AWS/ApplicationELB", metricName: "UnHealthyHostCount",
      dimensions: { TargetGroup: tg, LoadBalancer: x.alb.arnSuffix }, stat: "Maximum", period: 60,
    },
  });
  const build = { "5xx": rate, unhealthy } as const;
  return Object.fromEntries(Object.entries(x.deployment).map(([svc, d]) => [svc, d.alarms.map((kind) => build[kind](svc, d.targetGroupArnSuffix))]));
}

/**
 * AWS Backup job failures (namespace AWS/Backup, dimension BackupVaultName: backup jobs count in the vault
 * they write to; copy jobs run in the source region and count in the source vault). A failed nightly backup
 * or copy is not an outage, so these are warnings: the next scheduled job usually succeeds, and the runbook
 * says how to re-run one. Sum over an hour, any failure alarms; no data (no jobs that hour) is not breaching.
 */
export function backupAlarmSpecs(prefix: string, backup: NonNullable<AlarmTargets["backup"]>): AlarmSpec[] {
  const spec = (role: string, metricName: string, what: string): AlarmSpec => ({
    name: `${prefix}-warning-${role}`, prefixLength: prefix.length, severity: "warning",
    description: `WARNING: ${what} failed in vault ${backup.vaultName} (any in an hour)`,
    threshold: 1, comparison: "GreaterThanOrEqualToThreshold", evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData: "notBreaching",
    metric: { namespace: "AWS/Backup", metricName, dimensions: { BackupVaultName: backup.vaultName }, stat: "Sum", period: 3600 },
  });
  const out = [spec("backup-jobs-failed", "NumberOfBackupJobsFailed", "an AWS Backup job")];
  if (backup.copies) out.push(spec("backup-copy-jobs-failed", "NumberOfCopyJobsFailed", "a copy to the DR region"));
  return out;
}
