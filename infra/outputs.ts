/**
 * The stack outputs, described once: name, meaning and when a stack has it (like the config keys in
 * config/schema.ts). `docs/OUTPUTS.md` is rendered from this table (`npm run docs:outputs`; a test keeps it in
 * step), a test checks every stack exports exactly the outputs the table promises, and `PlatformOutputs` (the
 * program's return type) is checked at compile time to name each of them. Outputs per service are written once
 * with `<service>` and expand over the service catalogue. The operators' runbook reads many of these by name
 * (infra/runbook.test.ts): renaming one breaks its procedures.
 *
 *   npm run docs:outputs            # rewrite docs/OUTPUTS.md
 *   npm run docs:outputs -- --check # exit 1 when docs/OUTPUTS.md is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { routedServices, SERVICE_NAMES } from "./catalogue";
import type { ServiceName } from "./catalogue";

/** When a stack has the output. */
export type OutputWhen = "always" | "drCopies" | "drStack" | "pilotLight";

const WHEN_TEXT: Record<OutputWhen, string> = {
  always: "every stack",
  drCopies: "stacks whose tier copies backups to the DR region",
  drStack: "DR stacks (`primaryEnv` set)",
  pilotLight: "primary stacks that copy backups to the DR region",
};

export interface OutputSpec {
  meaning: string;
  /** @default "always" */
  when?: OutputWhen;
  /** Per service: the name contains `<service>`; `routed` expands over services with a load balancer route only. */
  per?: "service" | "routed";
}

export const STACK_OUTPUTS = {
  vpcId: { meaning: "VPC of the stack." },
  vpcCidr: { meaning: "The VPC's IPv4 range." },
  publicSubnetIds: { meaning: "Public subnets (load balancer, NAT gateways), one per zone." },
  privateSubnetIds: { meaning: "Private subnets (tasks, database, Redis), one per zone; where an operator runs one-off tasks." },
  siteUrl: { meaning: "Where clients reach the site: `https://<domainName>`, else the load balancer's DNS name." },
  albDnsName: { meaning: "DNS name of the load balancer." },
  albArnSuffix: { meaning: "`app/<name>/<id>`: the `LoadBalancer` dimension of the ALB's CloudWatch metrics." },
  albSecurityGroupId: { meaning: "Security group of the load balancer." },
  albAccessLogBucket: { meaning: "S3 bucket of the ALB access logs (prefix `alb/`)." },
  "<service>TargetGroupArn": { meaning: "Target group of a routed service.", per: "routed" },
  "<service>TargetGroupArnSuffix": { meaning: "`targetgroup/<name>/<id>`: the `TargetGroup` dimension of a routed service's ALB metrics.", per: "routed" },
  wafAclArn: { meaning: "The WAF web ACL on the load balancer." },
  wafLogGroupName: { meaning: "Log group of the WAF's blocked and counted requests." },
  dbInstanceIdentifier: { meaning: "RDS instance identifier (restores, snapshots, the RDS metrics)." },
  dbEndpoint: { meaning: "The instance's own endpoint (operators; services go through the proxy)." },
  dbMasterSecretArn: { meaning: "The RDS-managed master secret (the proxy's login; rotated by RDS)." },
  dbProxyEndpoint: { meaning: "RDS Proxy endpoint: what the services and the toolbox connect to (IAM sign-in)." },
  redisReplicationGroupId: { meaning: "ElastiCache replication group id." },
  redisPrimaryEndpoint: { meaning: "Redis primary endpoint (TLS)." },
  redisAuthSecretArn: { meaning: "Secret holding the Redis AUTH token." },
  jwtKeysSecretArn: { meaning: "Secret holding `JWT_KEYS` (rotation: docs/RUNBOOK.md)." },
  pushGatewaySecretArn: { meaning: "Secret holding the HMAC key shared with the push gateway." },
  pushQueueUrl: { meaning: "The push work queue." },
  pushQueueArn: { meaning: "The push work queue's ARN." },
  pushDlqUrl: { meaning: "Dead-letter queue of the push queue." },
  pushDlqArn: { meaning: "The push DLQ's ARN." },
  offlineQueueUrl: { meaning: "The offline-digest work queue." },
  offlineQueueArn: { meaning: "The offline queue's ARN." },
  offlineDlqUrl: { meaning: "Dead-letter queue of the offline queue." },
  offlineDlqArn: { meaning: "The offline DLQ's ARN." },
  alarmTopicArn: { meaning: "SNS topic of the critical alarms (pages)." },
  warningTopicArn: { meaning: "SNS topic of the warning and deployment alarms." },
  dashboardName: { meaning: "The stack's CloudWatch dashboard." },
  backupVaultName: { meaning: "AWS Backup vault of the database's recovery points." },
  drVaultName: { meaning: "The DR region's vault the backup plan copies to.", when: "drCopies" },
  drRegion: { meaning: "The DR region." },
  backupRoleArn: { meaning: "Role AWS Backup uses for the plan's jobs." },
  recoveryPointObjective: { meaning: "How much data a restore may lose, in the primary region and in the DR region (in words)." },
  dbSubnetGroupName: { meaning: "The database's subnet group (a restore goes into it)." },
  dbSecurityGroupId: { meaning: "The database's security group (a restored instance gets it)." },
  restoreVaultName: { meaning: "Vault in this region holding the primary's copied recovery points.", when: "drStack" },
  restoreSnapshotId: { meaning: "The recovery point this DR stack restored from.", when: "drStack" },
  ecsClusterName: { meaning: "ECS cluster `<project>-<env>`." },
  "<service>ServiceName": { meaning: "ECS service name `<project>-<env>-<service>`.", per: "service" },
  ecrRepositoryUrls: { meaning: "ECR repository URL per image." },
  serviceScalingBounds: { meaning: "Each service's autoscaling `{min, max}`: manual scaling stays inside them." },
  toolboxTaskDefinitionArn: { meaning: "Task definition of the operators' toolbox (one-off tasks)." },
  toolboxNetworkConfiguration: { meaning: "`awsvpcConfiguration` (private subnets, the toolbox's security group, no public IP) to run the toolbox with." },
  toolboxContainerName: { meaning: "The toolbox task's container name." },
  toolboxLogGroupName: { meaning: "Log group of the toolbox." },
  toolboxSecurityGroupId: { meaning: "Security group of the toolbox (reaches the proxy and Redis)." },
  pushNotifications: { meaning: "`on` when a push gateway is configured, else `off`." },
  backlogQueueUrls: { meaning: "The work queues the workers consume (where a backlog builds)." },
  backlogDlqUrls: { meaning: "The dead-letter queues of those queues." },
  athenaDatabaseName: { meaning: "Athena database over the ALB access logs." },
  albLogsTableName: { meaning: "Athena table of the ALB access logs." },
  athenaWorkgroupName: { meaning: "Athena workgroup to query them with." },
  athenaResultsBucket: { meaning: "Bucket of the Athena query results." },
  drPilotLightVpcId: { meaning: "The DR region's pilot-light VPC.", when: "pilotLight" },
  drDbSubnetGroupName: { meaning: "DB subnet group in the pilot-light VPC (a DR restore goes there).", when: "pilotLight" },
  drRestoreSecurityGroupId: { meaning: "Security group for a DR restore in the pilot-light VPC.", when: "pilotLight" },
} as const satisfies Record<string, OutputSpec>;

type Table = typeof STACK_OUTPUTS;
type Expand<K extends string> = K extends `<service>${infer Rest}` ? `${ServiceName}${Rest}` : K;
/** Every output name the table allows, per-service names expanded over the catalogue's names. */
export type StackOutputName = Expand<keyof Table & string>;

/** The outputs (names expanded over the catalogue) a stack has, given which conditions hold. */
export function expectedOutputs(conditions: Partial<Record<OutputWhen, boolean>>): string[] {
  const holds = (w: OutputWhen) => w === "always" || conditions[w] === true;
  return Object.entries(STACK_OUTPUTS as Record<string, OutputSpec>).flatMap(([name, spec]) => {
    if (!holds(spec.when ?? "always")) return [];
    if (!spec.per) return [name];
    const services: string[] = spec.per === "routed" ? routedServices() : SERVICE_NAMES;
    return services.map((svc) => name.replace("<service>", svc));
  });
}

/** The outputs reference (docs/OUTPUTS.md). */
export function outputsDoc(): string {
  const rows = Object.entries(STACK_OUTPUTS as Record<string, OutputSpec>).map(([name, spec]) => {
    const per = spec.per === "routed" ? `; one per service with a route (${routedServices().join(", ")})` : spec.per ? `; one per service (${SERVICE_NAMES.join(", ")})` : "";
    return `| \`${name}\` | ${spec.meaning} | ${WHEN_TEXT[spec.when ?? "always"]}${per} |`;
  });
  return [
    "# Stack outputs",
    "",
    "<!-- Generated from infra/outputs.ts by `npm run docs:outputs`; a test fails when this file is out of date. -->",
    "",
    "What `pulumi stack output` gives for a stack. The runbook (docs/RUNBOOK.md) reads many of them by name.",
    "",
    "| output | meaning | present in |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

export const OUTPUTS_DOC_PATH = resolve(__dirname, "..", "docs", "OUTPUTS.md");

if (require.main === module) {
  const check = process.argv.includes("--check");
  const want = outputsDoc();
  if (check) {
    let have = "";
    try {
      have = readFileSync(OUTPUTS_DOC_PATH, "utf8");
    } catch {
      // missing counts as out of date
    }
    if (have !== want) {
      console.error("docs/OUTPUTS.md is out of date: run `npm run docs:outputs`");
      process.exit(1);
    }
  } else {
    writeFileSync(OUTPUTS_DOC_PATH, want);
    console.log(`wrote ${OUTPUTS_DOC_PATH}`);
  }
}
