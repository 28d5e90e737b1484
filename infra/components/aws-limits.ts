/**
 * Limits AWS's APIs put on the values this stack library sends, each written once with the AWS page that states
 * it. Three readers share them: the stack configuration's sizing rules (`infra/config/sizing-rules.ts`, which
 * adds the project's own reasons), the preflight's constraint table (`./aws-constraints.ts`), and the components
 * where a limit shapes what they build. It also holds what AWS publishes that alarms must match (the AWS Backup
 * job metrics, read by `infra/deploy-readiness.test.ts`). This module imports nothing: `infra/config` may import
 * it, never the reverse (`infra/components/boundary.test.ts`).
 */

/** A closed range of whole numbers AWS accepts, with the page that states it. */
export interface AwsRange {
  readonly min: number;
  readonly max: number;
  readonly source: string;
}

/** An enumeration AWS accepts, with the page that states it. */
export interface AwsValues<T extends number | string = number> {
  readonly values: readonly T[];
  readonly source: string;
}

/** A length limit on a physical name, with the page that states it. */
export interface AwsNameLimit {
  readonly maxLength: number;
  readonly source: string;
}

function steps(from: number, to: number, by: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += by) out.push(v);
  return out;
}

const range = (min: number, max: number, source: string): AwsRange => ({ min, max, source });

/**
 * Fargate task sizes: cpu units -> the memory sizes (MiB) accepted with them. 256: 512, 1024, 2048; 512: 1-4 GiB;
 * 1024: 2-8 GiB; 2048: 4-16 GiB; 4096: 8-30 GiB (1 GiB steps); 8192: 16-60 GiB (4 GiB steps); 16384: 32-120 GiB
 * (8 GiB steps). Amazon ECS Developer Guide, task size:
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size
 */
export const FARGATE_TASK_SIZES: Readonly<Record<string, readonly number[]>> = {
  "256": [512, 1024, 2048],
  "512": steps(1024, 4096, 1024),
  "1024": steps(2048, 8192, 1024),
  "2048": steps(4096, 16384, 1024),
  "4096": steps(8192, 30720, 1024),
  "8192": steps(16384, 61440, 4096),
  "16384": steps(32768, 122880, 8192),
};
export const FARGATE_TASK_SIZES_SOURCE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size";

/**
 * Retention values CloudWatch Logs accepts, days. CloudWatch Logs API reference, PutRetentionPolicy:
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
 */
export const LOG_RETENTION_DAYS: readonly number[] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
export const LOG_RETENTION_SOURCE = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html";

/** Numeric limits, by service. */
export const AWS_LIMITS = {
  ecs: {
    /** ContainerDefinition.stopTimeout on Fargate: at most 120 s (ECS API reference, ContainerDefinition). */
    fargateStopTimeoutSeconds: range(2, 120, "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"),
  },
  elb: {
    /** idle_timeout.timeout_seconds, 1-4000 (ELB API reference, LoadBalancerAttribute). */
    idleTimeoutSeconds: range(1, 4000, "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html"),
    /** deregistration_delay.timeout_seconds, 0-3600 (ELB API reference, TargetGroupAttribute). */
    deregistrationDelaySeconds: range(0, 3600, "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html"),
    /** stickiness.lb_cookie.duration_seconds, 1 s to 7 days (ELB API reference, TargetGroupAttribute). */
    stickinessSeconds: range(1, 604_800, "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html"),
  },
  rds: {
    /** BackupRetentionPeriod, 0-35 days; 0 turns automated backups off (RDS API reference, CreateDBInstance). */
    backupRetentionDays: range(0, 35, "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html"),
    /** AllocatedStorage for PostgreSQL on gp3, 20-65536 GiB (RDS API reference, CreateDBInstance). */
    gp3StorageGb: range(20, 65_536, "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html"),
    /** ConnectionPoolConfiguration.MaxConnectionsPercent, 1-100 (RDS API reference, ConnectionPoolConfiguration). */
    proxyMaxConnectionsPercent: range(1, 100, "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ConnectionPoolConfiguration.html"),
    /** IdleClientTimeout, 1 s to 8 hours (RDS API reference, CreateDBProxy). */
    proxyIdleClientTimeoutSeconds: range(1, 28_800, "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBProxy.html"),
  },
  elasticache: {
    /** ReplicasPerNodeGroup, 0-5 (ElastiCache API reference, CreateReplicationGroup). */
    replicas: range(0, 5, "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html"),
    /** SnapshotRetentionLimit, 0-35 days; 0 turns snapshots off (ElastiCache API reference, CreateReplicationGroup). */
    snapshotRetentionDays: range(0, 35, "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html"),
  },
  sqs: {
    /** RedrivePolicy maxReceiveCount, 1-1000 (SQS API reference, SetQueueAttributes). */
    maxReceiveCount: range(1, 1000, "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html"),
    /** VisibilityTimeout, 0 s to 12 hours (SQS API reference, CreateQueue). */
    visibilityTimeoutSeconds: range(0, 43_200, "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html"),
    /** MessageRetentionPeriod, 60 s to 14 days (SQS API reference, CreateQueue); the stack sets whole days, 1-14. */
    messageRetentionSeconds: range(60, 1_209_600, "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html"),
  },
  waf: {
    /** RateBasedStatement.Limit, 10 to 2,000,000,000 (WAF API reference, RateBasedStatement). */
    rateLimit: range(10, 2_000_000_000, "https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html"),
  },
} as const;

/** RateBasedStatement.EvaluationWindowSec: 60, 120, 300 or 600 s (WAF API reference, RateBasedStatement). */
export const WAF_EVALUATION_WINDOWS: AwsValues = {
  values: [60, 120, 300, 600],
  source: "https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html",
};

/**
 * Previous-generation ElastiCache node families: no Multi-AZ with automatic failover and no encryption in transit
 * or at rest. ElastiCache User Guide, supported node types (previous generation):
 * https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html
 */
export const ELASTICACHE_OLD_NODE_FAMILIES: readonly string[] = ["t1", "t2", "m1", "m2", "m3", "c1", "r3"];

/** Physical name lengths. */
export const AWS_NAME_LIMITS = {
  /** Load balancer Name: at most 32 (ELB API reference, CreateLoadBalancer). */
  loadBalancer: { maxLength: 32, source: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html" },
  /** Target group Name: at most 32 (ELB API reference, CreateTargetGroup). */
  targetGroup: { maxLength: 32, source: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html" },
  /** DBInstanceIdentifier: 1-63 (RDS API reference, CreateDBInstance). */
  dbInstance: { maxLength: 63, source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html" },
  /** DBProxyName: 1-63 (RDS API reference, CreateDBProxy). */
  dbProxy: { maxLength: 63, source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBProxy.html" },
  /** ReplicationGroupId: 1-40 (ElastiCache API reference, CreateReplicationGroup). */
  replicationGroup: { maxLength: 40, source: "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html" },
  /** RoleName: 1-64 (IAM API reference, CreateRole). */
  iamRole: { maxLength: 64, source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html" },
  /** QueueName: 1-80 (SQS API reference, CreateQueue). */
  queue: { maxLength: 80, source: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html" },
} as const satisfies Record<string, AwsNameLimit>;

/** True when `v` is a whole number inside `r`. */
export function inRange(v: number, r: Pick<AwsRange, "min" | "max">): boolean {
  return Number.isInteger(v) && v >= r.min && v <= r.max;
}

/** Memory sizes accepted with `cpu` on Fargate, or undefined when `cpu` is not a Fargate value. */
export function fargateMemoryFor(cpu: number): readonly number[] | undefined {
  return FARGATE_TASK_SIZES[String(cpu)];
}

/**
 * Job metrics AWS Backup publishes in `AWS/Backup` and the dimension sets each accepts (AWS Backup Developer
 * Guide, "Monitoring AWS Backup metrics with CloudWatch", docs.aws.amazon.com/aws-backup/latest/devguide/cloudwatch.html;
 * the same table is in the CloudWatch User Guide's list of metrics per service). Every metric is published per
 * vault (`BackupVaultName`) and per vault and resource type; none has a job, plan or region dimension. An alarm
 * on another name or dimension set watches a metric that never gets data, so it can never fire.
 */
export const AWS_BACKUP_JOB_METRICS: Readonly<Record<string, ReadonlyArray<readonly string[]>>> = Object.fromEntries(
  ["NumberOfBackupJobsCompleted", "NumberOfBackupJobsCreated", "NumberOfBackupJobsExpired", "NumberOfBackupJobsFailed",
    "NumberOfBackupJobsPartial", "NumberOfBackupJobsPending", "NumberOfBackupJobsRunning", "NumberOfCopyJobsCompleted",
    "NumberOfCopyJobsCreated", "NumberOfCopyJobsFailed", "NumberOfCopyJobsRunning", "NumberOfRestoreJobsCompleted",
    "NumberOfRestoreJobsFailed", "NumberOfRestoreJobsPending", "NumberOfRestoreJobsRunning"]
    .map((m) => [m, [["BackupVaultName"], ["BackupVaultName", "ResourceType"]]]),
);
