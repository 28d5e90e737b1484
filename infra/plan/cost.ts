/**
 * Monthly cost estimate of a synthesized stack, data-driven by resource type.
 *
 * `COST_RULES[type](resource, ctx)` returns the cost lines of one resource; `FREE_TYPES` lists the types
 * that cost nothing by themselves (or are priced through another resource: a task definition through its
 * service). Any other custom resource type is reported in `unpricedTypes`, so a new component shows up as
 * "not priced" instead of silently costing $0. Prices come from `prices.ts`, usage from `assumptions.ts`.
 */
import type { Assumptions } from "./assumptions";
import { TRAFFIC } from "../config/capacity";
import { logGbPerMonth, logSourceOf } from "./log-volume";
import { SERVICE_NAMES } from "../catalogue";
import type { LogTraffic, TaskCounts } from "./log-volume";
import { HOURS_PER_MONTH, pricesFor, RDS_VCPUS } from "./prices";
import type { Price, RegionPrices } from "./prices";

export interface CostResource {
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, any>;
  id?: string;
  arn?: string;
}

export interface CostItem {
  /** Resource name (logical). */
  name: string;
  type: string;
  monthlyUsd: number;
  /** How the figure was computed, readable by a reviewer. */
  basis: string;
}

export interface CostEstimate {
  currency: "USD";
  monthlyUsd: number;
  items: CostItem[];
  /** Monthly total per resource type. */
  byType: Record<string, number>;
  /** Custom resource types with neither a cost rule nor a place in FREE_TYPES. */
  unpricedTypes: string[];
  region: string;
  drRegion: string | undefined;
  dau: number;
  assumptions: Assumptions;
  /** Price entries used: name -> source and date. */
  sources: Record<string, string>;
}

export interface CostContext {
  region: string;
  drRegion: string | undefined;
  dau: number;
  a: Assumptions;
  /** The traffic model's figures the usage lines depend on (the stack's, after its `traffic` overrides). */
  traffic: LogTraffic;
  prices: RegionPrices;
  drPrices: RegionPrices | undefined;
  resources: CostResource[];
  /** Records that a price entry was used (for the sources list). */
  use(label: string, price: Price): number;
}

type Line = Omit<CostItem, "name" | "type">;
type CostRule = (r: CostResource, ctx: CostContext) => Line[];

const round2 = (x: number) => Math.round(x * 100) / 100;
const usd = (x: number) => `$${x < 10 ? x.toFixed(3).replace(/0$/, "") : x.toFixed(2)}`;
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

const byType = (ctx: CostContext, type: string) => ctx.resources.filter((r) => r.type === type);

/** awsx's Vpc component: a remote component whose children (NATs, EIPs, endpoints) are not visible offline. */
export const AWSX_VPC = "awsx:ec2:Vpc";

/**
 * What an `awsx.ec2.Vpc` will create that costs money, read from its inputs as awsx defines them: zones from
 * `availabilityZoneNames` (or `numberOfAvailabilityZones`, awsx's default 3); NAT gateways from
 * `natGateways.strategy` (`OnePerAz` by default: one per zone; `Single`: one; `None`: none), each with a new
 * Elastic IP unless `natGateways.elasticIpAllocationIds` brings its own; interface endpoints from
 * `vpcEndpointSpecs` of type `Interface`, each in one subnet per zone unless it lists `subnetIds`.
 */
export function awsxVpcCosts(inputs: Record<string, any>): { zones: number; strategy: string; natGateways: number; eips: number; interfaceEndpoints: { serviceName: string; zones: number }[] } {
  const zones = Array.isArray(inputs.availabilityZoneNames) ? inputs.availabilityZoneNames.length : Number(inputs.numberOfAvailabilityZones ?? 3);
  const strategy = String(inputs.natGateways?.strategy ?? "OnePerAz");
  const natGateways = strategy === "None" ? 0 : strategy === "Single" ? 1 : zones;
  const ownEips = Array.isArray(inputs.natGateways?.elasticIpAllocationIds) && inputs.natGateways.elasticIpAllocationIds.length > 0;
  const specs: any[] = Array.isArray(inputs.vpcEndpointSpecs) ? inputs.vpcEndpointSpecs : [];
  const interfaceEndpoints = specs
    .filter((e) => e?.vpcEndpointType === "Interface")
    .map((e) => ({ serviceName: String(e.serviceName), zones: Array.isArray(e.subnetIds) ? e.subnetIds.length : zones }));
  return { zones, strategy, natGateways, eips: ownEips ? 0 : natGateways, interfaceEndpoints };
}

/** NAT gateways in the stack: plain ones plus those awsx Vpcs will create. */
const natCount = (ctx: CostContext) =>
  byType(ctx, "aws:ec2/natGateway:NatGateway").length + byType(ctx, AWSX_VPC).reduce((n, v) => n + awsxVpcCosts(v.inputs).natGateways, 0);

/** Interface endpoints in the stack: plain ones plus those in awsx Vpcs' endpoint specs. */
const interfaceEndpointCount = (ctx: CostContext) =>
  byType(ctx, "aws:ec2/vpcEndpoint:VpcEndpoint").filter((e) => e.inputs.vpcEndpointType === "Interface").length +
  byType(ctx, AWSX_VPC).reduce((n, v) => n + awsxVpcCosts(v.inputs).interfaceEndpoints.length, 0);

/** Processed GB per NAT gateway per month (traffic shared evenly). */
const natGbEach = (ctx: CostContext) => (ctx.a.natGbBaselinePerMonth + ctx.dau * ctx.a.natGbPerDauPerMonth) / (natCount(ctx) || 1);

/** Processed GB per interface endpoint per month (traffic shared evenly). */
const endpointGbEach = (ctx: CostContext) => (ctx.dau * ctx.a.endpointGbPerDauPerMonth) / (interfaceEndpointCount(ctx) || 1);

/** The task definition an ECS service runs (by family, from the mocked ARN or the input). */
function taskDefinitionOf(service: CostResource, ctx: CostContext): CostResource | undefined {
  const defs = byType(ctx, "aws:ecs/taskDefinition:TaskDefinition");
  const ref = service.inputs.taskDefinition;
  const family = typeof ref === "string" ? /task-definition\/([^:]+)/.exec(ref)?.[1] ?? ref.split(":")[0] : undefined;
  return defs.find((d) => d.inputs.family === family || d.arn === ref) ?? (defs.length === 1 ? defs[0] : undefined);
}

function rdsHour(ctx: CostContext, cls: string): Price {
  const price = ctx.prices.rdsInstanceHour[cls];
  if (!price) throw new Error(`plan: no price for RDS class ${cls} in ${ctx.region}; add it to rdsInstanceHour in infra/plan/prices.ts`);
  return price;
}

function cacheHour(ctx: CostContext, nodeType: string): Price {
  const price = ctx.prices.elasticacheNodeHour[nodeType];
  if (!price) throw new Error(`plan: no price for ElastiCache node type ${nodeType} in ${ctx.region}; add it to elasticacheNodeHour in infra/plan/prices.ts`);
  return price;
}

const usedDbGb = (ctx: CostContext) =>
  byType(ctx, "aws:rds/instance:Instance").reduce((s, db) => s + (Number(db.inputs.allocatedStorage) || 20) * ctx.a.databaseUsedShare, 0);

/** Tasks per service at the autoscaling floor, from the ECS services' `desiredCount`. */
function serviceTasks(ctx: CostContext): TaskCounts {
  const out: TaskCounts = {};
  for (const s of byType(ctx, "aws:ecs/service:Service")) {
    const service = SERVICE_NAMES.find((k) => s.name.startsWith(`${k}-`) || s.name === k);
    if (service) out[service] = (out[service] ?? 0) + (Number(s.inputs.desiredCount) || 1);
  }
  return out;
}

export const COST_RULES: Record<string, CostRule> = {
  "aws:ecs/service:Service": (r, ctx) => {
    const def = taskDefinitionOf(r, ctx);
    const tasks = Number(r.inputs.desiredCount ?? 1);
    const vcpu = Number(def?.inputs.cpu ?? 256) / 1024;
    const gb = Number(def?.inputs.memory ?? 512) / 1024;
    const perTask = vcpu * ctx.use("fargateVcpuHour", ctx.prices.fargateVcpuHour) + gb * ctx.use("fargateGbHour", ctx.prices.fargateGbHour);
    return [{ monthlyUsd: tasks * perTask * HOURS_PER_MONTH, basis: `${tasks} task(s) x ${num(vcpu)} vCPU / ${num(gb)} GB x ${HOURS_PER_MONTH} h (autoscaling floor)` }];
  },
  "aws:lb/loadBalancer:LoadBalancer": (r, ctx) => {
    const a = ctx.a;
    const avgConnections = ctx.dau * a.averageConcurrencyShare;
    const gbPerHour = (ctx.dau * a.albGbPerDauPerMonth) / HOURS_PER_MONTH;
    const newConnPerSec = (ctx.dau * a.requestsPerDauPerDay) / 86_400;
    const lcu = Math.max(avgConnections / 3000, gbPerHour / 1, newConnPerSec / 25, 0.1);
    const zones = Array.isArray(r.inputs.subnets) ? r.inputs.subnets.length : 2;
    const ipv4 = r.inputs.internal === true ? 0 : zones * ctx.use("publicIpv4Hour", ctx.prices.publicIpv4Hour) * HOURS_PER_MONTH;
    return [
      { monthlyUsd: ctx.use("albHour", ctx.prices.albHour) * HOURS_PER_MONTH, basis: `${HOURS_PER_MONTH} h` },
      { monthlyUsd: lcu * ctx.use("albLcuHour", ctx.prices.albLcuHour) * HOURS_PER_MONTH, basis: `~${num(lcu)} LCU (avg ${Math.round(avgConnections)} connections, ${num(gbPerHour)} GB/h)` },
      ...(ipv4 > 0 ? [{ monthlyUsd: ipv4, basis: `${zones} public IPv4 addresses (one per zone)` }] : []),
    ];
  },
  // Priced from its inputs (see awsxVpcCosts): under the mock runtime and offline, awsx's children do not exist.
  [AWSX_VPC]: (r, ctx) => {
    const v = awsxVpcCosts(r.inputs);
    const from = `from the awsx Vpc inputs: natGateways.strategy ${v.strategy} x ${v.zones} zone(s)`;
    const lines: Line[] = [];
    if (v.natGateways > 0) {
      const gb = natGbEach(ctx) * v.natGateways;
      lines.push(
        { monthlyUsd: v.natGateways * ctx.use("natHour", ctx.prices.natHour) * HOURS_PER_MONTH, basis: `${v.natGateways} NAT gateway(s) ${from} x ${HOURS_PER_MONTH} h` },
        { monthlyUsd: gb * ctx.use("natGb", ctx.prices.natGb), basis: `${num(gb)} GB processed (share of ${natCount(ctx)} NAT gateway(s))` },
      );
    }
    if (v.eips > 0) {
      lines.push({ monthlyUsd: v.eips * ctx.use("publicIpv4Hour", ctx.prices.publicIpv4Hour) * HOURS_PER_MONTH, basis: `${v.eips} Elastic IP(s) for the NAT gateways, ${from}` });
    }
    for (const e of v.interfaceEndpoints) {
      const gb = endpointGbEach(ctx);
      lines.push({
        monthlyUsd: e.zones * ctx.use("interfaceEndpointAzHour", ctx.prices.interfaceEndpointAzHour) * HOURS_PER_MONTH + gb * ctx.use("interfaceEndpointGb", ctx.prices.interfaceEndpointGb),
        basis: `interface endpoint ${e.serviceName} from the awsx Vpc inputs: ${e.zones} zone(s) x ${HOURS_PER_MONTH} h + ${num(gb)} GB`,
      });
    }
    return lines;
  },
  "aws:ec2/natGateway:NatGateway": (r, ctx) => {
    const nats = natCount(ctx) || 1;
    const gb = natGbEach(ctx);
    return [
      { monthlyUsd: ctx.use("natHour", ctx.prices.natHour) * HOURS_PER_MONTH, basis: `${HOURS_PER_MONTH} h` },
      { monthlyUsd: gb * ctx.use("natGb", ctx.prices.natGb), basis: `${num(gb)} GB processed (share of ${nats} NAT gateway(s))` },
    ];
  },
  "aws:ec2/eip:Eip": (r, ctx) => [{ monthlyUsd: ctx.use("publicIpv4Hour", ctx.prices.publicIpv4Hour) * HOURS_PER_MONTH, basis: "1 public IPv4 address" }],
  "aws:ec2/vpcEndpoint:VpcEndpoint": (r, ctx) => {
    if (r.inputs.vpcEndpointType !== "Interface") return [];
    const zones = Array.isArray(r.inputs.subnetIds) ? r.inputs.subnetIds.length : 2;
    const gb = endpointGbEach(ctx);
    return [{
      monthlyUsd: zones * ctx.use("interfaceEndpointAzHour", ctx.prices.interfaceEndpointAzHour) * HOURS_PER_MONTH + gb * ctx.use("interfaceEndpointGb", ctx.prices.interfaceEndpointGb),
      basis: `${zones} zone(s) x ${HOURS_PER_MONTH} h + ${num(gb)} GB`,
    }];
  },
  "aws:rds/instance:Instance": (r, ctx) => {
    const cls = String(r.inputs.instanceClass);
    const copies = r.inputs.multiAz === true ? 2 : 1;
    const gb = Number(r.inputs.allocatedStorage ?? 20);
    const lines: Line[] = [
      { monthlyUsd: copies * ctx.use(`rdsInstanceHour.${cls}`, rdsHour(ctx, cls)) * HOURS_PER_MONTH, basis: `${cls} x ${copies}${copies === 2 ? " (Multi-AZ)" : ""} x ${HOURS_PER_MONTH} h` },
      { monthlyUsd: copies * gb * ctx.use("rdsGp3GbMonth", ctx.prices.rdsGp3GbMonth), basis: `${gb} GB gp3 x ${copies}` },
    ];
    if (r.inputs.manageMasterUserPassword === true) lines.push({ monthlyUsd: ctx.use("secretMonth", ctx.prices.secretMonth), basis: "managed master user secret" });
    return lines;
  },
  "aws:rds/proxy:Proxy": (r, ctx) => {
    const dbs = byType(ctx, "aws:rds/instance:Instance");
    const cls = String(dbs[0]?.inputs.instanceClass ?? "db.t4g.micro");
    const vcpus = Math.max(2, RDS_VCPUS[cls] ?? 2);
    return [{ monthlyUsd: vcpus * ctx.use("rdsProxyVcpuHour", ctx.prices.rdsProxyVcpuHour) * HOURS_PER_MONTH, basis: `${vcpus} database vCPU (${cls}) x ${HOURS_PER_MONTH} h` }];
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": (r, ctx) => {
    const type = String(r.inputs.nodeType);
    const nodes = Number(r.inputs.numCacheClusters ?? (Number(r.inputs.numNodeGroups ?? 1) * (1 + Number(r.inputs.replicasPerNodeGroup ?? 0))));
    return [{ monthlyUsd: nodes * ctx.use(`elasticacheNodeHour.${type}`, cacheHour(ctx, type)) * HOURS_PER_MONTH, basis: `${nodes} x ${type} x ${HOURS_PER_MONTH} h` }];
  },
  "aws:wafv2/webAcl:WebAcl": (r, ctx) => {
    const rules = Array.isArray(r.inputs.rules) ? r.inputs.rules.length : 0;
    const millions = (ctx.dau * ctx.a.requestsPerDauPerDay * 30) / 1e6;
    return [
      { monthlyUsd: ctx.use("wafWebAclMonth", ctx.prices.wafWebAclMonth) + rules * ctx.use("wafRuleMonth", ctx.prices.wafRuleMonth), basis: `1 web ACL + ${rules} rule(s)` },
      { monthlyUsd: millions * ctx.use("wafMillionRequests", ctx.prices.wafMillionRequests), basis: `${num(millions)} M requests` },
    ];
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": (r, ctx) => {
    const metrics = Array.isArray(r.inputs.metricQueries) ? r.inputs.metricQueries.filter((q: any) => q?.metric).length || 1 : 1;
    return [{ monthlyUsd: metrics * ctx.use("cloudwatchAlarmMonth", ctx.prices.cloudwatchAlarmMonth), basis: `${metrics} metric(s)` }];
  },
  "aws:cloudwatch/dashboard:Dashboard": (r, ctx) => [{ monthlyUsd: ctx.use("cloudwatchDashboardMonth", ctx.prices.cloudwatchDashboardMonth), basis: "1 dashboard" }],
  "aws:cloudwatch/logGroup:LogGroup": (r, ctx) => {
    const source = logSourceOf(r.inputs.name);
    if (!source) return [{ monthlyUsd: 0, basis: `no volume model for log group ${String(r.inputs.name)}` }];
    const gb = logGbPerMonth(source, ctx.dau, ctx.a, ctx.traffic, serviceTasks(ctx));
    const months = Math.min(Number(r.inputs.retentionInDays ?? 3650) / 30, 12);
    return [{
      monthlyUsd: gb * ctx.use("logsIngestGb", ctx.prices.logsIngestGb) + gb * months * ctx.use("logsStorageGbMonth", ctx.prices.logsStorageGbMonth),
      basis: `${num(gb)} GB/month ingested (${source}), kept ${r.inputs.retentionInDays ?? "forever"} days`,
    }];
  },
  "aws:backup/plan:Plan": (r, ctx) => {
    const gb = usedDbGb(ctx) * ctx.a.backupStorageFactor;
    const rules: any[] = Array.isArray(r.inputs.rules) ? r.inputs.rules : [];
    const copies = rules.some((x) => Array.isArray(x?.copyActions) && x.copyActions.length > 0);
    const lines: Line[] = [{ monthlyUsd: gb * ctx.use("backupWarmGbMonth", ctx.prices.backupWarmGbMonth), basis: `${num(gb)} GB of snapshots` }];
    if (copies) {
      const dr = ctx.drPrices ?? ctx.prices;
      const moved = usedDbGb(ctx) * ctx.a.monthlyChangeShare;
      lines.push({
        monthlyUsd: gb * ctx.use("dr.backupWarmGbMonth", dr.backupWarmGbMonth) + moved * ctx.use("crossRegionTransferGb", ctx.prices.crossRegionTransferGb),
        basis: `copies in ${ctx.drRegion ?? "the DR region"}: ${num(gb)} GB + ${num(moved)} GB transferred`,
      });
    }
    return lines;
  },
  "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": (r, ctx) => {
    const dr = ctx.drPrices ?? ctx.prices;
    const gb = usedDbGb(ctx);
    const moved = gb * ctx.a.monthlyChangeShare;
    return [{
      monthlyUsd: gb * ctx.use("dr.backupWarmGbMonth", dr.backupWarmGbMonth) + moved * ctx.use("crossRegionTransferGb", ctx.prices.crossRegionTransferGb),
      basis: `PITR backups replicated to ${ctx.drRegion ?? "the DR region"}: ${num(gb)} GB + ${num(moved)} GB transferred`,
    }];
  },
  "aws:sqs/queue:Queue": (r, ctx) => {
    if (r.inputs.redrivePolicy === undefined) return [{ monthlyUsd: 0, basis: "dead-letter queue (idle)" }];
    const sources = byType(ctx, "aws:sqs/queue:Queue").filter((q) => q.inputs.redrivePolicy !== undefined).length || 1;
    const requests = (ctx.dau * ctx.a.sqsRequestsPerDauPerMonth) / sources + Math.max(1, serviceTasks(ctx).workers ?? 0) * ctx.a.sqsIdlePollsPerTaskPerMonth;
    return [{ monthlyUsd: (requests / 1e6) * ctx.use("sqsMillionRequests", ctx.prices.sqsMillionRequests), basis: `${num(requests / 1e6)} M requests (incl. idle long polls)` }];
  },
  "aws:kms/key:Key": (r, ctx) => [{ monthlyUsd: ctx.use("kmsKeyMonth", ctx.prices.kmsKeyMonth), basis: "1 customer managed key" }],
  "aws:secretsmanager/secret:Secret": (r, ctx) => [{ monthlyUsd: ctx.use("secretMonth", ctx.prices.secretMonth), basis: "1 secret" }],
  "aws:s3/bucket:Bucket": (r, ctx) => s3Bucket(r, ctx),
  "aws:s3/bucketV2:BucketV2": (r, ctx) => s3Bucket(r, ctx),
  "aws:ecr/repository:Repository": (r, ctx) => [{ monthlyUsd: ctx.a.ecrGbPerRepository * ctx.use("ecrGbMonth", ctx.prices.ecrGbMonth), basis: `${ctx.a.ecrGbPerRepository} GB of images` }],
};

/** Athena results (tagged `Purpose: athena-results`) are a few MB that expire within days: not worth a line of cost. */
function s3Bucket(r: CostResource, ctx: CostContext): Line[] {
  if (r.inputs.tags?.Purpose === "athena-results") return [{ monthlyUsd: 0, basis: "Athena query results (expire after days)" }];
  return s3Logs(ctx);
}

function s3Logs(ctx: CostContext): Line[] {
  const gb = ctx.dau * ctx.a.s3LogGbPerDauPerMonth;
  return [{ monthlyUsd: gb * ctx.use("s3GbMonth", ctx.prices.s3GbMonth), basis: `${num(gb)} GB of access logs` }];
}

/** Types that cost nothing on their own (or are priced through another resource). */
export const FREE_TYPES = new Set([
  "pulumi:providers:aws",
  "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ec2/route:Route", "aws:ec2/internetGateway:InternetGateway", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/securityGroupRule:SecurityGroupRule", "aws:ec2/flowLog:FlowLog",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2",
  "aws:wafv2/webAclAssociation:WebAclAssociation", "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
  "aws:ecs/cluster:Cluster", "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "aws:ecs/taskDefinition:TaskDefinition",
  "aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy",
  "aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup", "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
  "aws:rds/proxyTarget:ProxyTarget", "aws:rds/proxyEndpoint:ProxyEndpoint",
  "aws:elasticache/subnetGroup:SubnetGroup", "aws:elasticache/parameterGroup:ParameterGroup", "aws:elasticache/userGroup:UserGroup",
  "aws:secretsmanager/secretVersion:SecretVersion", "aws:secretsmanager/secretPolicy:SecretPolicy",
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "aws:sqs/redrivePolicy:RedrivePolicy", "aws:sqs/queuePolicy:QueuePolicy",
  // ACM public certificates cost nothing; Route 53 records are free (the hosted zone is the operator's, and alias
  // queries to a load balancer are not charged)
  "aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation", "aws:route53/record:Record",
  // SNS: alarm notifications stay inside the free tier (first million publishes, 1,000 e-mails)
  "aws:sns/topic:Topic", "aws:sns/topicSubscription:TopicSubscription", "aws:sns/topicPolicy:TopicPolicy",
  "aws:backup/vault:Vault", "aws:backup/vaultLockConfiguration:VaultLockConfiguration", "aws:backup/selection:Selection",
  "aws:backup/vaultPolicy:VaultPolicy", "aws:kms/alias:Alias", "aws:kms/keyPolicy:KeyPolicy",
  "aws:cloudwatch/logMetricFilter:LogMetricFilter", "aws:cloudwatch/compositeAlarm:CompositeAlarm",
  "random:index/randomPassword:RandomPassword", "random:index/randomId:RandomId", "random:index/randomString:RandomString",
  // image builds run on the deploying machine; storage is priced on the ECR repository
  "docker-build:index:Image",
  // Athena bills per TB a query scans, nothing while idle; a Glue catalog of a few objects stays in the free tier
  "aws:athena/workgroup:Workgroup", "aws:glue/catalogDatabase:CatalogDatabase", "aws:glue/catalogTable:CatalogTable",
]);

/** Estimates the monthly cost of a stack's resources. */
export function estimateCost(
  resources: CostResource[],
  opts: { region: string; drRegion?: string; dau: number; assumptions: Assumptions; traffic?: LogTraffic },
): CostEstimate {
  const sources: Record<string, string> = {};
  const ctx: CostContext = {
    region: opts.region,
    drRegion: opts.drRegion,
    dau: opts.dau,
    a: opts.assumptions,
    traffic: opts.traffic ?? { messagesPerDauPerDay: TRAFFIC.messagesPerDauPerDay, jobsPerMessage: TRAFFIC.jobsPerMessage },
    prices: pricesFor(opts.region),
    drPrices: opts.drRegion ? pricesFor(opts.drRegion) : undefined,
    resources,
    use(label, price) {
      sources[label] = `${price.usd} USD per ${price.unit}; ${price.source}; read ${price.date}`;
      return price.usd;
    },
  };
  const items: CostItem[] = [];
  const unpriced = new Set<string>();
  for (const r of resources) {
    // Components cost nothing themselves, except awsx's remote Vpc, whose children are invisible here.
    if (!r.custom && r.type !== AWSX_VPC) continue;
    const rule = COST_RULES[r.type];
    if (!rule) {
      if (!FREE_TYPES.has(r.type) && !r.type.startsWith("pulumi:providers:")) unpriced.add(r.type);
      continue;
    }
    for (const line of rule(r, ctx)) items.push({ name: r.name, type: r.type, monthlyUsd: round2(line.monthlyUsd), basis: line.basis });
  }
  const totals: Record<string, number> = {};
  for (const i of items) totals[i.type] = round2((totals[i.type] ?? 0) + i.monthlyUsd);
  return {
    currency: "USD",
    monthlyUsd: round2(items.reduce((s, i) => s + i.monthlyUsd, 0)),
    items,
    byType: totals,
    unpricedTypes: [...unpriced].sort(),
    region: opts.region,
    drRegion: opts.drRegion,
    dau: opts.dau,
    assumptions: opts.assumptions,
    sources,
  };
}

export { usd as formatUsd };
