/**
 * What AWS's APIs accept, as plain data: resource type -> input field -> constraint, each with the AWS page it
 * comes from. Pulumi's mock runtime accepts any value; a real `pulumi up` sends these fields to AWS, which
 * refuses a bad one with `InvalidParameterValue` (or similar) half-way through a deployment. The preflight
 * (`./preflight.ts`) checks every synthesized resource against this table, plus the few rules that join
 * fields or resources (also listed here, as data, in `COMBINATION_RULES`).
 *
 * Field paths: `name`, `healthCheck.interval`, `rules[].visibilityConfig.metricName` (`[]` walks every array
 * element). A field absent from the inputs is not checked, except the physical name of an auto-named type
 * (`AUTO_NAMED`): Pulumi then names the resource `<logical name>-<7 random characters>`, and that name is
 * checked instead.
 */

import { AWS_LIMITS, AWS_NAME_LIMITS, FARGATE_TASK_SIZES, LOG_RETENTION_DAYS, WAF_EVALUATION_WINDOWS } from "./aws-limits";
import type { AwsRange } from "./aws-limits";

/** A string field: length, characters and the shape rules AWS states for it. */
export interface TextConstraint {
  kind: "text";
  /** Human name of the field as AWS calls it (used in messages). */
  label: string;
  minLength?: number;
  maxLength: number;
  /** One character class (without brackets' anchors): every character must match it. */
  allowedChars?: { pattern: string; text: string };
  /** Whole-value pattern (anchored), with the wording used in messages. */
  pattern?: { pattern: string; text: string };
  firstChar?: "letter" | "letter-or-digit";
  lastChar?: "letter-or-digit" | "not-hyphen";
  noConsecutiveHyphens?: boolean;
  forbiddenPrefixes?: string[];
  requiredPrefix?: string;
  forbiddenSuffixes?: string[];
  /** Values AWS reserves (compared case-insensitively). */
  reservedValues?: string[];
  /** Length counts JSON without whitespace (IAM policy documents). */
  countWithoutWhitespace?: boolean;
  source: string;
}

/** A number field: a closed range, optionally a step or "multiple of" rule. */
export interface RangeConstraint {
  kind: "range";
  label: string;
  min: number;
  max: number;
  source: string;
}

/** A field with an enumerated set of accepted values. */
export interface EnumConstraint {
  kind: "enum";
  label: string;
  values: ReadonlyArray<number | string>;
  source: string;
}

export type Constraint = TextConstraint | RangeConstraint | EnumConstraint;

// ---------------------------------------------------------------------------------------------------------
// Sources (AWS API reference and user guide pages)
// ---------------------------------------------------------------------------------------------------------
export const SOURCES = {
  ec2SecurityGroup: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
  ec2SgRule: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html",
  elbLoadBalancer: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
  elbTargetGroup: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
  elbListener: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html",
  elbAttributes: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html",
  elbTgAttributes: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html",
  rdsInstance: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
  rdsParameterGroup: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBParameterGroup.html",
  rdsSubnetGroup: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html",
  rdsProxy: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBProxy.html",
  cacheReplicationGroup: "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html",
  cacheParameterGroup: "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheParameterGroup.html",
  cacheSubnetGroup: "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheSubnetGroup.html",
  iamQuotas: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
  iamRole: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
  iamPutRolePolicy: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html",
  sqsCreateQueue: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html",
  logsCreateLogGroup: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
  logsPutRetentionPolicy: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html",
  cwPutMetricAlarm: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
  cwPutDashboard: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
  secretsCreateSecret: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
  wafCreateWebAcl: "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html",
  wafRule: "https://docs.aws.amazon.com/waf/latest/APIReference/API_Rule.html",
  wafVisibilityConfig: "https://docs.aws.amazon.com/waf/latest/APIReference/API_VisibilityConfig.html",
  wafRateBased: "https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html",
  wafLogging: "https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html",
  kmsCreateAlias: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
  kmsCreateKey: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html",
  kmsScheduleKeyDeletion: "https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html",
  ecsCluster: "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html",
  ecsService: "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html",
  ecsTaskDefinition: "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
  ecsTaskSize: "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size",
  ecrRepository: "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
  backupVault: "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupVault.html",
  backupPlan: "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupPlanInput.html",
  backupRule: "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRuleInput.html",
  backupSelection: "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupSelection.html",
  snsCreateTopic: "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
  s3BucketNaming: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
  tagging: "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html",
  autoscalingPolicy: "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html",
  acmRequestCertificate: "https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html",
  acmDomainValidationOption: "https://docs.aws.amazon.com/acm/latest/APIReference/API_DomainValidationOption.html",
  route53RecordSet: "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html",
  route53ResourceRecord: "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecord.html",
  route53NameFormat: "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html",
  glueDatabaseInput: "https://docs.aws.amazon.com/glue/latest/webapi/API_DatabaseInput.html",
  glueTableInput: "https://docs.aws.amazon.com/glue/latest/webapi/API_TableInput.html",
  glueColumn: "https://docs.aws.amazon.com/glue/latest/webapi/API_Column.html",
  athenaCreateWorkGroup: "https://docs.aws.amazon.com/athena/latest/APIReference/API_CreateWorkGroup.html",
  ec2CreateVpc: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html",
  ec2CreateSubnet: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html",
} as const;

// ---------------------------------------------------------------------------------------------------------
// Reusable constraint shapes
// ---------------------------------------------------------------------------------------------------------

/** A range constraint from a limit of ./aws-limits.ts. */
const fromLimit = (label: string, r: AwsRange): RangeConstraint => ({ kind: "range", label, min: r.min, max: r.max, source: r.source });

/** EC2 security-group and rule descriptions (and group names in a VPC). */
const EC2_TEXT = { pattern: "a-zA-Z0-9. _\\-:/()#,@\\[\\]+=&;{}!$*", text: "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*" };

const sgDescription = (source: string): TextConstraint => ({ kind: "text", label: "description", maxLength: 255, allowedChars: EC2_TEXT, source });

/** ELB load balancer / target group names: 32, alphanumerics and hyphens, no hyphen at either end. */
const elbName = (source: string, extraForbidden: string[] = []): TextConstraint => ({
  kind: "text",
  label: "name",
  minLength: 1,
  maxLength: AWS_NAME_LIMITS.loadBalancer.maxLength,
  allowedChars: { pattern: "a-zA-Z0-9\\-", text: "letters, digits and hyphens" },
  firstChar: "letter-or-digit",
  lastChar: "not-hyphen",
  forbiddenPrefixes: extraForbidden,
  source,
});

/** RDS / ElastiCache identifier rule: first a letter, letters digits hyphens, no trailing or double hyphen. */
const dbIdentifier = (label: string, maxLength: number, source: string, extra: Partial<TextConstraint> = {}): TextConstraint => ({
  kind: "text",
  label,
  minLength: 1,
  maxLength,
  allowedChars: { pattern: "a-zA-Z0-9\\-", text: "letters, digits and hyphens" },
  firstChar: "letter",
  lastChar: "not-hyphen",
  noConsecutiveHyphens: true,
  source,
  ...extra,
});

/** ECS cluster, service and task family names. */
const ecsName = (label: string, source: string): TextConstraint => ({
  kind: "text",
  label,
  minLength: 1,
  maxLength: 255,
  allowedChars: { pattern: "a-zA-Z0-9_\\-", text: "letters, digits, underscores and hyphens" },
  source,
});

/** Glue "single-line string": any character but line breaks and other control characters (tab allowed). */
const glueName = (label: string, source: string): TextConstraint => ({
  kind: "text",
  label,
  minLength: 1,
  maxLength: 255,
  allowedChars: { pattern: "\\t\\u0020-\\uD7FF\\uE000-\\uFFFD\\u{10000}-\\u{10FFFF}", text: "characters of a single line (no line breaks or control characters)" },
  source,
});

/** IPv4 CIDR with a /16../28 netmask (VPCs and subnets). */
const ipv4Cidr = (label: string, source: string): TextConstraint => ({
  kind: "text",
  label,
  maxLength: 18,
  pattern: { pattern: "^(?:(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)/(?:1[6-9]|2[0-8])$", text: "an IPv4 CIDR block with a netmask from /16 to /28" },
  source,
});

const IAM_NAME_CHARS = { pattern: "\\w+=,.@\\-", text: "letters, digits and +=,.@_-" };

// Values shared with the stack configuration's sizing rules live in ./aws-limits.ts (each written once).
export { FARGATE_TASK_SIZES, LOG_RETENTION_DAYS };

function steps(from: number, to: number, by: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += by) out.push(v);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Tags (every resource with a `tags` map)
// ---------------------------------------------------------------------------------------------------------
export const TAG_RULES = {
  maxTags: 50,
  key: { kind: "text", label: "tag key", minLength: 1, maxLength: 128, allowedChars: { pattern: "\\p{L}\\p{Z}\\p{N}_.:/=+\\-@", text: "letters, digits, spaces and _.:/=+-@" }, forbiddenPrefixes: ["aws:"], source: SOURCES.tagging } as TextConstraint,
  value: { kind: "text", label: "tag value", minLength: 0, maxLength: 256, allowedChars: { pattern: "\\p{L}\\p{Z}\\p{N}_.:/=+\\-@", text: "letters, digits, spaces and _.:/=+-@" }, source: SOURCES.tagging } as TextConstraint,
  source: SOURCES.tagging,
} as const;

// ---------------------------------------------------------------------------------------------------------
// Field constraints per resource type
// ---------------------------------------------------------------------------------------------------------
export const CONSTRAINTS: Readonly<Record<string, Readonly<Record<string, Constraint>>>> = {
  "aws:ec2/securityGroup:SecurityGroup": {
    name: { kind: "text", label: "group name", minLength: 1, maxLength: 255, allowedChars: EC2_TEXT, forbiddenPrefixes: ["sg-"], source: SOURCES.ec2SecurityGroup },
    description: sgDescription(SOURCES.ec2SecurityGroup),
    "ingress[].description": sgDescription(SOURCES.ec2SgRule),
    "egress[].description": sgDescription(SOURCES.ec2SgRule),
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": { description: sgDescription(SOURCES.ec2SgRule) },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": { description: sgDescription(SOURCES.ec2SgRule) },
  "aws:ec2/securityGroupRule:SecurityGroupRule": { description: sgDescription(SOURCES.ec2SgRule) },

  "aws:lb/loadBalancer:LoadBalancer": {
    name: elbName(SOURCES.elbLoadBalancer, ["internal-"]),
    idleTimeout: fromLimit("idle timeout (seconds)", AWS_LIMITS.elb.idleTimeoutSeconds),
  },
  "aws:lb/targetGroup:TargetGroup": {
    name: elbName(SOURCES.elbTargetGroup),
    deregistrationDelay: fromLimit("deregistration delay (seconds)", AWS_LIMITS.elb.deregistrationDelaySeconds),
    "healthCheck.interval": { kind: "range", label: "health check interval (seconds)", min: 5, max: 300, source: SOURCES.elbTargetGroup },
    "healthCheck.timeout": { kind: "range", label: "health check timeout (seconds)", min: 2, max: 120, source: SOURCES.elbTargetGroup },
    "healthCheck.healthyThreshold": { kind: "range", label: "healthy threshold", min: 2, max: 10, source: SOURCES.elbTargetGroup },
    "healthCheck.unhealthyThreshold": { kind: "range", label: "unhealthy threshold", min: 2, max: 10, source: SOURCES.elbTargetGroup },
  },
  // CreateListener: port 1..65535 and the protocols ELB accepts
  "aws:lb/listener:Listener": {
    port: { kind: "range", label: "listener port", min: 1, max: 65535, source: SOURCES.elbListener },
    protocol: { kind: "enum", label: "listener protocol", values: ["HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE"], source: SOURCES.elbListener },
  },
  "aws:lb/listenerRule:ListenerRule": {
    priority: { kind: "range", label: "rule priority", min: 1, max: 50000, source: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html" },
  },

  "aws:rds/instance:Instance": {
    identifier: dbIdentifier("DB instance identifier", AWS_NAME_LIMITS.dbInstance.maxLength, SOURCES.rdsInstance),
    finalSnapshotIdentifier: dbIdentifier("final snapshot identifier", 255, SOURCES.rdsInstance),
    backupRetentionPeriod: fromLimit("backup retention period (days)", AWS_LIMITS.rds.backupRetentionDays),
  },
  "aws:rds/cluster:Cluster": { clusterIdentifier: dbIdentifier("DB cluster identifier", 63, "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html") },
  "aws:rds/parameterGroup:ParameterGroup": { name: dbIdentifier("DB parameter group name", 255, SOURCES.rdsParameterGroup) },
  "aws:rds/subnetGroup:SubnetGroup": {
    name: {
      kind: "text", label: "DB subnet group name", minLength: 1, maxLength: 255,
      allowedChars: { pattern: "a-zA-Z0-9._ \\-", text: "letters, digits, periods, underscores, spaces and hyphens" },
      firstChar: "letter", reservedValues: ["default"], source: SOURCES.rdsSubnetGroup,
    },
  },
  "aws:rds/proxy:Proxy": {
    name: dbIdentifier("DB proxy name", AWS_NAME_LIMITS.dbProxy.maxLength, SOURCES.rdsProxy),
    idleClientTimeout: fromLimit("idle client timeout (seconds)", AWS_LIMITS.rds.proxyIdleClientTimeoutSeconds),
  },

  "aws:elasticache/replicationGroup:ReplicationGroup": {
    replicationGroupId: dbIdentifier("replication group id", AWS_NAME_LIMITS.replicationGroup.maxLength, SOURCES.cacheReplicationGroup),
    snapshotRetentionLimit: fromLimit("snapshot retention limit (days)", AWS_LIMITS.elasticache.snapshotRetentionDays),
  },
  "aws:elasticache/parameterGroup:ParameterGroup": { name: dbIdentifier("cache parameter group name", 255, SOURCES.cacheParameterGroup) },
  "aws:elasticache/subnetGroup:SubnetGroup": {
    name: { kind: "text", label: "cache subnet group name", minLength: 1, maxLength: 255, allowedChars: { pattern: "a-zA-Z0-9\\-", text: "letters, digits and hyphens" }, source: SOURCES.cacheSubnetGroup },
  },

  "aws:iam/role:Role": {
    name: { kind: "text", label: "role name", minLength: 1, maxLength: AWS_NAME_LIMITS.iamRole.maxLength, allowedChars: IAM_NAME_CHARS, source: SOURCES.iamRole },
    description: { kind: "text", label: "role description", maxLength: 1000, allowedChars: { pattern: "\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF", text: "printable Latin-1 characters" }, source: SOURCES.iamRole },
    assumeRolePolicy: { kind: "text", label: "trust policy", maxLength: 2048, countWithoutWhitespace: true, source: SOURCES.iamQuotas },
  },
  "aws:iam/rolePolicy:RolePolicy": {
    name: { kind: "text", label: "inline policy name", minLength: 1, maxLength: 128, allowedChars: IAM_NAME_CHARS, source: SOURCES.iamPutRolePolicy },
    policy: { kind: "text", label: "inline policy document", maxLength: 10240, countWithoutWhitespace: true, source: SOURCES.iamQuotas },
  },
  "aws:iam/policy:Policy": {
    name: { kind: "text", label: "managed policy name", minLength: 1, maxLength: 128, allowedChars: IAM_NAME_CHARS, source: SOURCES.iamQuotas },
    policy: { kind: "text", label: "managed policy document", maxLength: 6144, countWithoutWhitespace: true, source: SOURCES.iamQuotas },
  },

  "aws:sqs/queue:Queue": {
    name: { kind: "text", label: "queue name", minLength: 1, maxLength: AWS_NAME_LIMITS.queue.maxLength, pattern: { pattern: "^[A-Za-z0-9_\\-]+(\\.fifo)?$", text: "letters, digits, hyphens and underscores (FIFO queues end in .fifo)" }, source: SOURCES.sqsCreateQueue },
    visibilityTimeoutSeconds: fromLimit("visibility timeout (seconds)", AWS_LIMITS.sqs.visibilityTimeoutSeconds),
    messageRetentionSeconds: fromLimit("message retention (seconds)", AWS_LIMITS.sqs.messageRetentionSeconds),
    receiveWaitTimeSeconds: { kind: "range", label: "receive wait time (seconds)", min: 0, max: 20, source: SOURCES.sqsCreateQueue },
    delaySeconds: { kind: "range", label: "delay (seconds)", min: 0, max: 900, source: SOURCES.sqsCreateQueue },
  },

  "aws:cloudwatch/logGroup:LogGroup": {
    name: {
      kind: "text", label: "log group name", minLength: 1, maxLength: 512,
      allowedChars: { pattern: "a-zA-Z0-9_\\-/.#", text: "letters, digits and _-/.#" }, forbiddenPrefixes: ["aws/"], source: SOURCES.logsCreateLogGroup,
    },
    retentionInDays: { kind: "enum", label: "retention (days)", values: LOG_RETENTION_DAYS, source: SOURCES.logsPutRetentionPolicy },
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    name: { kind: "text", label: "alarm name", minLength: 1, maxLength: 255, source: SOURCES.cwPutMetricAlarm },
    alarmDescription: { kind: "text", label: "alarm description", maxLength: 1024, source: SOURCES.cwPutMetricAlarm },
  },
  "aws:cloudwatch/dashboard:Dashboard": {
    dashboardName: { kind: "text", label: "dashboard name", minLength: 1, maxLength: 255, allowedChars: { pattern: "a-zA-Z0-9_\\-", text: "letters, digits, underscores and hyphens" }, source: SOURCES.cwPutDashboard },
  },

  "aws:secretsmanager/secret:Secret": {
    name: { kind: "text", label: "secret name", minLength: 1, maxLength: 512, allowedChars: { pattern: "a-zA-Z0-9/_+=.@\\-", text: "letters, digits and /_+=.@-" }, source: SOURCES.secretsCreateSecret },
    description: { kind: "text", label: "secret description", maxLength: 2048, source: SOURCES.secretsCreateSecret },
    recoveryWindowInDays: { kind: "enum", label: "recovery window (days)", values: [0, ...steps(7, 30, 1)], source: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html" },
  },

  "aws:wafv2/webAcl:WebAcl": {
    name: { kind: "text", label: "web ACL name", minLength: 1, maxLength: 128, pattern: { pattern: "^[\\w\\-]+$", text: "letters, digits, underscores and hyphens" }, source: SOURCES.wafCreateWebAcl },
    description: {
      kind: "text", label: "web ACL description", minLength: 1, maxLength: 256,
      pattern: { pattern: "^[\\w+=:#@/\\-,.][\\w+=:#@/\\-,.\\s]+[\\w+=:#@/\\-,.]$", text: "letters, digits, spaces and +=:#@/-,. (no space at either end)" }, source: SOURCES.wafCreateWebAcl,
    },
    "visibilityConfig.metricName": { kind: "text", label: "metric name", minLength: 1, maxLength: 255, pattern: { pattern: "^[\\w#:.\\-/]+$", text: "letters, digits and _#:.-/" }, reservedValues: ["All", "Default_Action"], source: SOURCES.wafVisibilityConfig },
    "rules[].name": { kind: "text", label: "rule name", minLength: 1, maxLength: 128, pattern: { pattern: "^[\\w\\-]+$", text: "letters, digits, underscores and hyphens" }, source: SOURCES.wafRule },
    "rules[].visibilityConfig.metricName": { kind: "text", label: "rule metric name", minLength: 1, maxLength: 255, pattern: { pattern: "^[\\w#:.\\-/]+$", text: "letters, digits and _#:.-/" }, reservedValues: ["All", "Default_Action"], source: SOURCES.wafVisibilityConfig },
    "rules[].statement.rateBasedStatement.limit": fromLimit("rate limit", AWS_LIMITS.waf.rateLimit),
    "rules[].statement.rateBasedStatement.evaluationWindowSec": { kind: "enum", label: "rate evaluation window (seconds)", ...WAF_EVALUATION_WINDOWS },
  },

  "aws:kms/alias:Alias": {
    name: {
      kind: "text", label: "alias name", minLength: 1, maxLength: 256, allowedChars: { pattern: "a-zA-Z0-9:/_\\-", text: "letters, digits and :/_-" },
      requiredPrefix: "alias/", forbiddenPrefixes: ["alias/aws/"], source: SOURCES.kmsCreateAlias,
    },
  },
  "aws:kms/key:Key": {
    description: { kind: "text", label: "key description", maxLength: 8192, source: SOURCES.kmsCreateKey },
    deletionWindowInDays: { kind: "range", label: "deletion window (days)", min: 7, max: 30, source: SOURCES.kmsScheduleKeyDeletion },
  },

  "aws:ecs/cluster:Cluster": { name: ecsName("cluster name", SOURCES.ecsCluster) },
  "aws:ecs/service:Service": { name: ecsName("service name", SOURCES.ecsService) },
  "aws:ecs/taskDefinition:TaskDefinition": { family: ecsName("task family", SOURCES.ecsTaskDefinition) },
  "aws:ecr/repository:Repository": {
    name: {
      kind: "text", label: "repository name", minLength: 2, maxLength: 256,
      pattern: { pattern: "^(?:[a-z0-9]+(?:[._\\-][a-z0-9]+)*/)*[a-z0-9]+(?:[._\\-][a-z0-9]+)*$", text: "lowercase letters and digits, separated by single . _ - or /" }, source: SOURCES.ecrRepository,
    },
  },

  "aws:backup/vault:Vault": {
    name: { kind: "text", label: "backup vault name", minLength: 2, maxLength: 50, allowedChars: { pattern: "a-zA-Z0-9_\\-", text: "letters, digits, underscores and hyphens" }, source: SOURCES.backupVault },
  },
  "aws:backup/plan:Plan": {
    name: { kind: "text", label: "backup plan name", minLength: 1, maxLength: 50, allowedChars: { pattern: "a-zA-Z0-9_.\\-", text: "letters, digits and _.-" }, source: SOURCES.backupPlan },
    "rules[].ruleName": { kind: "text", label: "backup rule name", minLength: 1, maxLength: 50, allowedChars: { pattern: "a-zA-Z0-9_.\\-", text: "letters, digits and _.-" }, source: SOURCES.backupRule },
  },
  "aws:backup/selection:Selection": {
    name: { kind: "text", label: "backup selection name", minLength: 1, maxLength: 50, allowedChars: { pattern: "a-zA-Z0-9_.\\-", text: "letters, digits and _.-" }, source: SOURCES.backupSelection },
  },

  "aws:sns/topic:Topic": {
    name: { kind: "text", label: "topic name", minLength: 1, maxLength: 256, pattern: { pattern: "^[A-Za-z0-9_\\-]+(\\.fifo)?$", text: "letters, digits, underscores and hyphens (FIFO topics end in .fifo)" }, source: SOURCES.snsCreateTopic },
  },
  "aws:s3/bucket:Bucket": {
    bucket: {
      kind: "text", label: "bucket name", minLength: 3, maxLength: 63, allowedChars: { pattern: "a-z0-9.\\-", text: "lowercase letters, digits, periods and hyphens" },
      firstChar: "letter-or-digit", lastChar: "letter-or-digit", forbiddenPrefixes: ["xn--", "sthree-", "amzn-s3-demo-"], forbiddenSuffixes: ["-s3alias", "--ol-s3", ".mrap", "--x-s3"],
      source: SOURCES.s3BucketNaming,
    },
  },
  "aws:appautoscaling/policy:Policy": {
    name: { kind: "text", label: "scaling policy name", minLength: 1, maxLength: 256, source: SOURCES.autoscalingPolicy },
  },

  // ACM: a fully qualified name of at most 253 characters, labels of 1-63 letters, digits and hyphens (no hyphen
  // at either end), an optional leading "*." (DomainValidationOption.DomainName); validation by DNS or email
  "aws:acm/certificate:Certificate": {
    domainName: {
      kind: "text", label: "certificate domain name", minLength: 1, maxLength: 253,
      pattern: { pattern: "^(\\*\\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$", text: "a fully qualified name of dot-separated labels of letters, digits and hyphens (no hyphen at either end), optionally starting with *." },
      source: SOURCES.acmDomainValidationOption,
    },
    "subjectAlternativeNames[]": {
      kind: "text", label: "subject alternative name", minLength: 1, maxLength: 253,
      pattern: { pattern: "^(\\*\\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$", text: "a fully qualified name of dot-separated labels of letters, digits and hyphens (no hyphen at either end), optionally starting with *." },
      source: SOURCES.acmRequestCertificate,
    },
    validationMethod: { kind: "enum", label: "validation method", values: ["DNS", "EMAIL"], source: SOURCES.acmRequestCertificate },
    keyAlgorithm: { kind: "enum", label: "key algorithm", values: ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"], source: SOURCES.acmRequestCertificate },
  },

  // Route 53: a DNS name is at most 255 characters with labels of 1-63 (DomainNameFormat); the record types
  // ChangeResourceRecordSets accepts; TTL 0..2147483647; each value at most 4,000 characters. Alias versus
  // ttl/records is the combination rule "route53-alias-or-records".
  "aws:route53/record:Record": {
    name: {
      kind: "text", label: "record name", minLength: 1, maxLength: 255,
      pattern: { pattern: "^(?:[^.]{1,63}\\.)*[^.]{1,63}\\.?$", text: "dot-separated labels of 1 to 63 characters each" },
      source: SOURCES.route53NameFormat,
    },
    type: { kind: "enum", label: "record type", values: ["SOA", "A", "TXT", "NS", "CNAME", "MX", "NAPTR", "PTR", "SRV", "SPF", "AAAA", "CAA", "DS", "TLSA", "SSHFP", "SVCB", "HTTPS"], source: SOURCES.route53RecordSet },
    ttl: { kind: "range", label: "TTL (seconds)", min: 0, max: 2_147_483_647, source: SOURCES.route53RecordSet },
    "records[]": { kind: "text", label: "record value", maxLength: 4000, source: SOURCES.route53ResourceRecord },
  },

  // Glue Data Catalog: database, table and column names are 1-255 single-line characters (Glue stores them
  // lowercased; Athena reads them lowercased)
  "aws:glue/catalogDatabase:CatalogDatabase": { name: glueName("Glue database name", SOURCES.glueDatabaseInput) },
  "aws:glue/catalogTable:CatalogTable": {
    name: glueName("Glue table name", SOURCES.glueTableInput),
    databaseName: glueName("Glue database name", SOURCES.glueTableInput),
    "storageDescriptor.columns[].name": glueName("Glue column name", SOURCES.glueColumn),
    "partitionKeys[].name": glueName("Glue partition key name", SOURCES.glueColumn),
  },

  // Athena: workgroup name [a-zA-Z0-9._-]{1,128}; description up to 1,024 characters
  "aws:athena/workgroup:Workgroup": {
    name: { kind: "text", label: "workgroup name", minLength: 1, maxLength: 128, allowedChars: { pattern: "a-zA-Z0-9._\\-", text: "letters, digits and ._-" }, source: SOURCES.athenaCreateWorkGroup },
    description: { kind: "text", label: "workgroup description", maxLength: 1024, source: SOURCES.athenaCreateWorkGroup },
  },

  // EC2 VPC and subnets (the DR region's too): IPv4 blocks from /16 to /28
  "aws:ec2/vpc:Vpc": { cidrBlock: ipv4Cidr("VPC CIDR block", SOURCES.ec2CreateVpc) },
  "aws:ec2/subnet:Subnet": { cidrBlock: ipv4Cidr("subnet CIDR block", SOURCES.ec2CreateSubnet) },
};

/**
 * Types Pulumi names itself when the physical-name field is left out: `<logical name>-<7 random characters>`.
 * The preflight checks that generated name (S3 and the RDS/ElastiCache groups are lowercased by the provider).
 */
export const AUTO_NAMED: Readonly<Record<string, { field: string; lowercase?: boolean }>> = {
  "aws:ec2/securityGroup:SecurityGroup": { field: "name" },
  "aws:iam/role:Role": { field: "name" },
  "aws:iam/rolePolicy:RolePolicy": { field: "name" },
  "aws:iam/policy:Policy": { field: "name" },
  "aws:rds/parameterGroup:ParameterGroup": { field: "name", lowercase: true },
  "aws:rds/subnetGroup:SubnetGroup": { field: "name", lowercase: true },
  "aws:elasticache/parameterGroup:ParameterGroup": { field: "name", lowercase: true },
  "aws:elasticache/subnetGroup:SubnetGroup": { field: "name", lowercase: true },
  "aws:s3/bucket:Bucket": { field: "bucket", lowercase: true },
  "aws:sqs/queue:Queue": { field: "name" },
  "aws:sns/topic:Topic": { field: "name" },
  "aws:cloudwatch/logGroup:LogGroup": { field: "name" },
  "aws:cloudwatch/metricAlarm:MetricAlarm": { field: "name" },
  "aws:secretsmanager/secret:Secret": { field: "name" },
  "aws:ecs/cluster:Cluster": { field: "name" },
  "aws:ecs/service:Service": { field: "name" },
  "aws:ecr/repository:Repository": { field: "name", lowercase: true },
  "aws:lb/loadBalancer:LoadBalancer": { field: "name" },
  "aws:lb/targetGroup:TargetGroup": { field: "name" },
};

/** The 7 characters Pulumi appends (with a hyphen) to an auto-named resource, as the preflight assumes them. */
export const AUTO_NAME_SUFFIX = "-a1b2c3d";

/** Rules that join fields or resources; the engine implements each id in `./preflight.ts`. */
export const COMBINATION_RULES = {
  "fargate-task-size": { description: "Fargate task cpu and memory form one of the accepted pairs", source: SOURCES.ecsTaskSize },
  "iam-role-inline-policies-total": { description: "all inline policies of one role together stay within 10,240 characters (whitespace not counted)", source: SOURCES.iamQuotas },
  "sqs-fifo-name": { description: "a FIFO queue's name ends in .fifo, and only a FIFO queue's does", source: SOURCES.sqsCreateQueue },
  "waf-log-group-prefix": { description: "a web ACL logs only to a log group whose name starts with aws-waf-logs-", source: SOURCES.wafLogging },
  "alarm-period": { description: "an alarm's period is 10, 20 or 30 seconds or a multiple of 60", source: SOURCES.cwPutMetricAlarm },
  "alarm-datapoints": { description: "datapointsToAlarm is at most evaluationPeriods", source: SOURCES.cwPutMetricAlarm },
  "alarm-evaluation-window": { description: "evaluationPeriods x period is at most one day (86,400 s) for periods under an hour, seven days (604,800 s) otherwise", source: SOURCES.cwPutMetricAlarm },
  "target-group-health-check-timeout": { description: "a target group's health check timeout is shorter than its interval", source: SOURCES.elbTargetGroup },
  "route53-alias-or-records": { description: "a Route 53 record is either an alias (no ttl, no records) or has a ttl and at least one record value", source: SOURCES.route53RecordSet },
  "unique-physical-names": { description: "physical names of one type are unique within the stack (AWS refuses the second create)", source: SOURCES.elbTargetGroup },
  tags: { description: "at most 50 tags; keys 1-128 and values up to 256 characters of letters, digits, spaces and _.:/=+-@; no aws: prefix", source: SOURCES.tagging },
} as const;

export type CombinationRuleId = keyof typeof COMBINATION_RULES;

/** Types checked only by a combination rule (no field rule of their own). */
export const COMBINATION_RULE_TYPES: readonly string[] = [
  "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", // waf-log-group-prefix
];

/**
 * Custom resource types the stacks create that carry nothing the preflight can check offline (no name, length,
 * character set or enumeration AWS constrains, or only ids and ARNs of other resources), with the reason.
 * Tags, when a type has them, are still checked. A type not listed here and without a rule fails
 * infra/plan/stacks.test.ts.
 */
export const NOTHING_TO_CHECK: Readonly<Record<string, string>> = {
  "aws:acm/certificateValidation:CertificateValidation": "no AWS call of its own: waits for the certificate; inputs are its ARN and record FQDNs",
  "aws:appautoscaling/target:Target": "service namespace, resource id and dimension come from the ECS service; capacities are checked by the stack policy",
  "aws:backup/vaultLockConfiguration:VaultLockConfiguration": "vault name (checked on the vault) and retention days",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "adopts the VPC's default group; only empties its rules",
  "aws:ec2/flowLog:FlowLog": "ids and ARNs of the VPC, role and log group",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "service name built from the region; ids of subnets and groups",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": "repository name (checked on the repository) and a JSON document the policy tests read",
  "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": "cluster name and the fixed FARGATE / FARGATE_SPOT providers",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "role name and a managed policy ARN",
  "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": "source instance ARN, KMS key ARN and retention",
  "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": "proxy name (checked on the proxy) and pool percentages",
  "aws:rds/proxyTarget:ProxyTarget": "proxy name and instance identifier, both checked on their own resources",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "bucket name (checked on the bucket) and day counts",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "bucket name and a fixed ownership setting",
  "aws:s3/bucketPolicy:BucketPolicy": "bucket name and a JSON document the policy tests read",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "bucket name and four booleans",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "bucket name and a fixed algorithm",
  "aws:secretsmanager/secretVersion:SecretVersion": "secret id and a secret value the preflight must not read",
  "aws:sns/topicSubscription:TopicSubscription": "topic ARN, protocol and endpoint set by the operator",
  "aws:sqs/queuePolicy:QueuePolicy": "queue URL and a JSON document the policy tests read",
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": "queue URL and a JSON document",
  "aws:wafv2/webAclAssociation:WebAclAssociation": "ARNs of the web ACL and the load balancer",
  // not AWS resources: nothing is sent to an AWS API
  "docker-build:index:Image": "built and pushed by Docker; the ECR repository name is checked on the repository",
  "random:index/randomPassword:RandomPassword": "generated locally",
};
