/**
 * Alarms for one stack: two encrypted SNS topics, `<project>-<env>-alarms` for critical alarms (the one that
 * pages; the optional e-mail subscription goes here) and `<project>-<env>-alarms-warning` for warnings and
 * deployment alarms; a warning and a critical alarm for every metric the operators watch, the alarms their
 * incident procedures name, AWS Backup job failure warnings, and the deployment alarms ECS watches to roll
 * back a bad release.
 *
 * Alarm names: `<project>-<env>-<severity>-<role>`, e.g. `chat-dev-critical-api-high-cpu`, so the runbook's
 * patterns (`*-high-cpu`, `*-rds-high-connections`, `*-redis-high-*`, `*-realtime-unhealthy-targets`,
 * `*-alb-5xx`, `*-sqs-*-dlq`, `*-workers-message-age`) match both severities, and filtering on
 * `<project>-<env>-critical-` lists what pages. Deployment alarms are `<project>-<env>-deploy-<service>-<what>`.
 *
 * Every identifier comes in as a plain value or an Output of another component; nothing is looked up.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountAdministersKey } from "./policy";
import { alarmSpecs, backupAlarmSpecs, deploymentAlarmSpecs } from "./alarm-specs";
import type { AlarmSpec, AlarmTargets, AlarmThresholds, Threshold } from "./alarm-specs";
import { Problems } from "./problems";

export type { AlarmThresholds };

export interface AlarmsArgs extends AlarmTargets {
  /** `<project>-<env>`: prefix of every alarm name, and the namespace the services publish metrics in. */
  namePrefix: string;
  /** Thresholds per metric (the tier's `observability.alarms`). */
  thresholds: AlarmThresholds;
  /** Account id, for the key policy that lets CloudWatch publish to the encrypted topic. */
  accountId: pulumi.Input<string>;
  /** E-mail address subscribed to the critical topic only (the recipient must confirm it). @default none */
  alarmEmail?: string;
  /**
   * HTTPS endpoint (a paging service's SNS integration URL) subscribed to the critical topic; the endpoint
   * confirms the subscription itself. @default none
   */
  alarmHttpsEndpoint?: string;
}

const PREFIX = /^[a-z][a-z0-9-]{2,40}$/;

type AlarmsCheckedArgs = Pick<AlarmsArgs, "namePrefix" | "thresholds" | "database" | "redis" | "realtimeMaxConnectionsPerTask" | "queues">;

/** Every problem with the plain values that shape the alarms (field, value, fix). */
export function alarmsProblems(args: AlarmsCheckedArgs): Problems {
  const p = new Problems("Alarms");
  if (!PREFIX.test(args.namePrefix)) p.add("namePrefix", args.namePrefix, "expected `<project>-<env>` in lowercase letters, digits and '-'");
  for (const [key, t] of Object.entries(args.thresholds) as [string, Threshold][]) {
    if (!(Number.isFinite(t.warning) && Number.isFinite(t.critical)) || t.warning < 0) {
      p.add(`thresholds.${key}`, t, "warning and critical must be numbers >= 0");
    } else if (t.warning > t.critical) {
      p.add(`thresholds.${key}`, t, "warning must not exceed critical; swap or lower the warning value");
    }
  }
  for (const key of ["ecsCpuPercent", "ecsMemoryPercent", "rdsConnectionsPercentOfMax", "redisMemoryPercent", "realtimeConnectionsPercentOfMax", "redisEngineCpuPercent", "alb5xxPercent"] as const) {
    if (args.thresholds[key].critical > 100) p.add(`thresholds.${key}.critical`, args.thresholds[key].critical, "a percentage must be at most 100");
  }
  if (!Number.isInteger(args.database.maxConnections) || args.database.maxConnections < 1) {
    p.add("database.maxConnections", args.database.maxConnections, "expected the instance's max_connections as a whole number >= 1 (see postgresMaxConnections)");
  }
  if (!Number.isInteger(args.redis.nodeCount) || args.redis.nodeCount < 1 || args.redis.nodeCount > 6) {
    p.add("redis.nodeCount", args.redis.nodeCount, "expected the primary plus replicas: a whole number from 1 to 6");
  }
  if (!Number.isInteger(args.realtimeMaxConnectionsPerTask) || args.realtimeMaxConnectionsPerTask < 1) {
    p.add("realtimeMaxConnectionsPerTask", args.realtimeMaxConnectionsPerTask, "expected MAX_CONNECTIONS_PER_TASK as a whole number >= 1");
  }
  const names = Object.keys(args.queues);
  if (names.length === 0) p.add("queues", args.queues, "list at least one queue, e.g. { push: { queueName, dlqName } }");
  for (const q of names) if (!/^[a-z][a-z0-9]*$/.test(q)) p.add(`queues.${q}`, q, "queue keys are short lowercase words such as push or offline");
  return p;
}

/** Throws one error listing every problem, each naming the field, the value and the fix. */
export function validateAlarmsArgs(args: AlarmsCheckedArgs): void {
  alarmsProblems(args).check();
}

/**
 * The alarms and their topic. `alarmNames` lists every alarm name (plain strings, known before deploy);
 * `deploymentAlarmNames` are Outputs per service for the ECS `alarms` setting, so a service is created after
 * the alarms it watches.
 */
export class Alarms extends pulumi.ComponentResource {
  /** Critical alarms: the topic that pages. */
  readonly topicArn: pulumi.Output<string>;
  readonly topicName: string;
  /** Warning and deployment alarms: for a chat channel or a daytime mailbox, not a pager. */
  readonly warningTopicArn: pulumi.Output<string>;
  readonly warningTopicName: string;
  readonly alarmNames: string[];
  readonly deploymentAlarmNames: { api: pulumi.Output<string>[]; realtime: pulumi.Output<string>[] };
  readonly alarms: aws.cloudwatch.MetricAlarm[];

  constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:alarms:Alarms", name, {}, opts);
    validateAlarmsArgs(args);
    const { critical, warning } = this.createTopics(name, args);
    this.topicArn = critical.arn;
    this.topicName = `${args.namePrefix}-alarms`;
    this.warningTopicArn = warning.arn;
    this.warningTopicName = `${args.namePrefix}-alarms-warning`;

    const specs = [...alarmSpecs(args.namePrefix, args.thresholds, args), ...(args.backup ? backupAlarmSpecs(args.namePrefix, args.backup) : [])];
    const deploy = deploymentAlarmSpecs(args.namePrefix, args);
    const create = (s: AlarmSpec) => this.createAlarm(name, s, s.severity === "critical" ? critical.arn : warning.arn);
    this.alarms = specs.map(create);
    const deployAlarms = { api: deploy.api.map(create), realtime: deploy.realtime.map(create) };
    this.alarms.push(...deployAlarms.api, ...deployAlarms.realtime);
    this.alarmNames = [...specs, ...deploy.api, ...deploy.realtime].map((s) => s.name);
    this.deploymentAlarmNames = {
      api: deployAlarms.api.map((a) => a.name),
      realtime: deployAlarms.realtime.map((a) => a.name),
    };
    this.registerOutputs({ topicArn: this.topicArn, warningTopicArn: this.warningTopicArn, alarmNames: this.alarmNames });
  }

  /** Both topics, encrypted with one key; the key policy lets CloudWatch (this account only) use it. */
  private createTopics(name: string, args: AlarmsArgs): { critical: aws.sns.Topic; warning: aws.sns.Topic } {
    const child = { parent: this };
    const key = new aws.kms.Key(`${name}-topic-key`, {
      description: `${args.namePrefix} alarm notifications`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          accountAdministersKey(args.accountId),
          {
            Sid: "CloudWatchPublishesEncrypted",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
            Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
          },
        ],
      }),
    }, child);
    // The critical topic keeps the original logical and physical name, so existing subscriptions stay on it.
    const critical = new aws.sns.Topic(`${name}-topic`, { name: `${args.namePrefix}-alarms`, kmsMasterKeyId: key.arn }, child);
    const warning = new aws.sns.Topic(`${name}-warning-topic`, { name: `${args.namePrefix}-alarms-warning`, kmsMasterKeyId: key.arn }, child);
    if (args.alarmEmail !== undefined) {
      new aws.sns.TopicSubscription(`${name}-email`, { topic: critical.arn, protocol: "email", endpoint: args.alarmEmail }, child);
    }
    if (args.alarmHttpsEndpoint !== undefined) {
      new aws.sns.TopicSubscription(`${name}-https`, {
        topic: critical.arn, protocol: "https", endpoint: args.alarmHttpsEndpoint, endpointAutoConfirms: true,
      }, child);
    }
    return { critical, warning };
  }

  private createAlarm(name: string, s: AlarmSpec, topicArn: pulumi.Output<string>): aws.cloudwatch.MetricAlarm {
    const base = {
      name: s.name,
      alarmDescription: s.description,
      comparisonOperator: s.comparison,
      threshold: s.threshold,
      evaluationPeriods: s.evaluationPeriods,
      datapointsToAlarm: s.datapointsToAlarm,
      treatMissingData: s.treatMissingData,
      alarmActions: [topicArn],
      okActions: [topicArn],
      tags: { Severity: s.severity },
    };
    const metric = s.metric;
    const args: aws.cloudwatch.MetricAlarmArgs = metric
      ? {
          ...base,
          namespace: metric.namespace,
          metricName: metric.metricName,
          dimensions: metric.dimensions,
          period: metric.period,
          ...(STANDARD_STATS.has(metric.stat) ? { statistic: metric.stat } : { extendedStatistic: metric.stat }),
        }
      : {
          ...base,
          metricQueries: [
            { id: "e", expression: s.expression!, label: s.description, returnData: true },
            ...Object.entries(s.inputs!).map(([id, m]) => ({
              id,
              returnData: false,
              metric: { namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, period: m.period, stat: m.stat },
            })),
          ],
        };
    return new aws.cloudwatch.MetricAlarm(`${name}-${s.name.slice(s.prefixLength + 1)}`, args, { parent: this });
  }
}

const STANDARD_STATS = new Set(["Average", "Maximum", "Minimum", "Sum", "SampleCount"]);
