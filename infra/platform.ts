/**
 * The single composition point: builds every component for one stack, in dependency order, and returns
 * the stack outputs. Components never reach into each other; wiring between them happens here only.
 * `infra/index.ts` validates the config and calls `buildStack` (zone lookup, then `buildPlatform`); tests call it
 * through the synth harness.
 */
import * as aws from "@pulumi/aws";
import { removalPolicy } from "./config/removal";
import type { StackConfig } from "./config/schema";
import { resolveZones } from "./config/zones";
import { Naming } from "./config/naming";
import { Network } from "./components/network";
import { Alb } from "./components/alb";
import { Waf } from "./components/waf";
import { SiteAlias, SiteCertificate } from "./components/site-domain";
import { buildDataTier } from "./data-tier";
import { hasDrPilotLight, validateDrConfig, validateDrPilotLight } from "./config/dr";
import { AlbLogQueries } from "./components/alb-log-queries";
import { DrPilotLight } from "./components/dr-pilot-light";
import { ACCESS_LOG_PREFIX } from "./components/alb";
import { buildObservability } from "./observability";
import { buildCompute } from "./compute";
import { routedServices, SERVICE_CATALOGUE } from "./catalogue";
import type { ServiceName } from "./catalogue";
import type * as pulumi from "@pulumi/pulumi";
import type { StackOutputName } from "./outputs";

/**
 * The program: looks up the account's zones (the program's one lookup, before any resource is registered),
 * checks the configured zones against them (infra/config/zones.ts: each available here, none where RDS Proxy
 * cannot run; `availabilityZoneIds` pin the names), then builds the platform in those zones.
 * Under the synth harness the mock account answers the lookup (infra/synth/mocks.ts MOCK_ACCOUNT_ZONES).
 */
export async function buildStack(cfg: StackConfig): Promise<ReturnType<typeof buildPlatform>> {
  // names[i] has the ID zoneIds[i] in this account; only zones the account can use now
  const account = await aws.getAvailabilityZones({ allAvailabilityZones: false, state: "available" });
  const zones = resolveZones(cfg, { names: account.names, zoneIds: account.zoneIds });
  return buildPlatform({ ...cfg, availabilityZones: zones.names, availabilityZoneIds: zones.zoneIds });
}

export function buildPlatform(cfg: StackConfig) {
  // DR stacks carry their generation in the names that outlive a destroy (docs/DR.md, "Retiring a DR stack").
  const naming = new Naming(cfg.project, cfg.env, cfg.primaryEnv !== undefined ? cfg.drGeneration : undefined);
  const s = cfg.sizing;
  // Sizing settings were checked once, with the rest of the config (infra/config/sizing-rules.ts).
  // A DR stack without a restore source (or with one from another region) fails here too.
  validateDrConfig(cfg);
  // A primary stack that copies backups to drRegion keeps a pilot light there: its zones must be listed.
  validateDrPilotLight(cfg);

  // ---- 1. Network ------------------------------------------------------------------------------------
  const network = new Network("network", {
    namePrefix: naming.prefix,
    cidr: cfg.vpcCidr,
    zones: cfg.availabilityZones,
    region: cfg.region,
    natGateways: s.network.natGateways,
    interfaceEndpoints: s.network.interfaceEndpoints,
    flowLogRetentionDays: s.network.flowLogRetentionDays,
  });

  // ---- 2. Edge: certificate, ALB, WAF, DNS ------------------------------------------------------------
  // A configured certificate wins; otherwise domainName + hostedZoneId issue one (validated before the listener).
  const site = cfg.domainName !== undefined && cfg.hostedZoneId !== undefined
    ? { domainName: cfg.domainName, hostedZoneId: cfg.hostedZoneId }
    : undefined;
  const certificateArn = cfg.certificateArn ?? (site ? new SiteCertificate("site-cert", site).certificateArn : undefined);
  const alb = new Alb("alb", {
    loadBalancerName: naming.loadBalancer("alb"),
    // the services with a route in the catalogue, each behind its own target group
    routes: Object.fromEntries(routedServices().map((svc) => {
      const { port, route } = SERVICE_CATALOGUE[svc];
      return [svc, {
        targetGroupName: naming.targetGroup(svc), port, paths: route!.paths, priority: route!.priority,
        healthCheckPath: route!.healthCheckPath, deregistrationDelaySeconds: route!.deregistrationDelaySeconds(s), sticky: route!.sticky,
      }];
    })),
    region: cfg.region,
    vpcId: network.vpcId,
    vpcCidr: cfg.vpcCidr,
    publicSubnetIds: network.publicSubnetIds,
    certificateArn,
    idleTimeoutSeconds: s.alb.idleTimeoutSeconds,
    stickinessSeconds: s.alb.stickinessSeconds,
    accessLogRetentionDays: s.alb.accessLogRetentionDays,
    removal: removalPolicy(cfg),
  });
  // During a failover a DR stack takes the site's name over from the primary (docs/DR.md).
  if (site) new SiteAlias("site-dns", { ...site, target: { dnsName: alb.dnsName, zoneId: alb.zoneId }, takeOver: cfg.primaryEnv !== undefined });
  const siteUrl = cfg.domainName !== undefined
    ? `https://${cfg.domainName}`
    : alb.dnsName.apply((dns) => `${certificateArn !== undefined ? "https" : "http"}://${dns}`);
  const waf = new Waf("waf", {
    namePrefix: naming.prefix,
    logGroupName: naming.wafLogGroup,
    albArn: alb.arn,
    generalRateLimit: s.waf.generalRateLimit,
    socketIoRateLimit: s.waf.socketIoRateLimit,
    evaluationWindowSeconds: s.waf.evaluationWindowSeconds,
    logRetentionDays: s.waf.logRetentionDays,
  });

  // ---- 3. Data tier: database, proxy, redis, queues, secrets ------------------------------------------
  // DATA TIER SLOT: create the data-tier components here (private subnets: network.privateSubnetIds).
  // `data.links(uses)` gives what a service needs from it (env, secrets, statements, ingress); compute merges them.
  const data = buildDataTier(cfg, naming, {
    vpcId: network.vpcId, privateSubnetIds: network.privateSubnetIds, endpointSecurityGroupId: network.endpointSecurityGroupId,
  });

  // ---- 3b. Alarms, dashboard, backup: before compute, whose deployments roll back on these alarms -------
  const observability = buildObservability(cfg, naming, {
    alb: { arnSuffix: alb.arnSuffix, apiTargetGroupArnSuffix: alb.targetGroups.api!.arnSuffix, realtimeTargetGroupArnSuffix: alb.targetGroups.realtime!.arnSuffix },
    targetGroupArnSuffixes: Object.fromEntries(Object.entries(alb.targetGroups).map(([svc, tg]) => [svc, tg.arnSuffix])),
    database: {
      ...data.alarmTargets.database,
      arn: data.database.arn,
      subnetGroupName: data.database.instance.dbSubnetGroupName,
      securityGroupId: data.database.securityGroupId,
    },
    redis: data.alarmTargets.redis,
    queues: data.alarmTargets.queues,
  });

  // ---- 4. Compute: ECS cluster + api / realtime / workers services -----------------------------------
  // One service per catalogue entry; each gets the data tier's links for what it uses (and their ingress).
  const compute = buildCompute(cfg, naming, {
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    alb: { securityGroupId: alb.securityGroupId, arnSuffix: alb.arnSuffix, targetGroups: alb.targetGroups, listeners: alb.listeners },
    deploymentAlarmNames: observability.deploymentAlarmNames,
    data: { links: data.links, connections: data.connections },
    operator: data.operator,
  });
  data.connectOperator(compute.toolbox.securityGroupId);

  // ---- 5. Observability: alarms, dashboard, backup -----------------------------------------------------
  // (built in 3b above; the services take `observability.deploymentAlarmNames`)

  // ---- 6. Operations: Athena over the ALB logs; the DR region's pilot light ------------------------------
  const logQueries = new AlbLogQueries("alb-log-queries", {
    namePrefix: naming.prefix,
    accessLogBucket: alb.accessLogBucketName,
    accessLogPrefix: ACCESS_LOG_PREFIX,
    accountId: aws.getCallerIdentityOutput({}).accountId,
    region: cfg.region,
    accessLogRetentionDays: s.alb.accessLogRetentionDays,
    removal: removalPolicy(cfg),
  });
  // Shares the DR-region provider of the backup copies (the pilot light exists only where copies do).
  const pilotLight = hasDrPilotLight(cfg)
    ? new DrPilotLight("dr-pilot-light", {
      namePrefix: naming.prefix,
      cidr: cfg.drVpcCidr,
      zones: cfg.drAvailabilityZones!,
      subnetGroupName: naming.name("dr-subnet-group"),
      provider: observability.backup.drProvider!,
    })
    : undefined;
  // Push off: the workers consume only the offline queue, so that is where a backlog builds.
  const consumed = cfg.pushGatewayUrl !== undefined ? (["push", "offline"] as const) : (["offline"] as const);

  return {
    vpcId: network.vpcId,
    vpcCidr: network.vpcCidr,
    publicSubnetIds: network.publicSubnetIds,
    privateSubnetIds: network.privateSubnetIds,
    siteUrl,
    albDnsName: alb.dnsName,
    albArnSuffix: alb.arnSuffix,
    albSecurityGroupId: alb.securityGroupId,
    albAccessLogBucket: alb.accessLogBucketName,
    // <service>TargetGroupArn and <service>TargetGroupArnSuffix for each routed service
    ...Object.fromEntries(Object.entries(alb.targetGroups).flatMap(([svc, tg]) => [[`${svc}TargetGroupArn`, tg.arn], [`${svc}TargetGroupArnSuffix`, tg.arnSuffix]])) as
      Partial<Record<`${ServiceName}${"TargetGroupArn" | "TargetGroupArnSuffix"}`, pulumi.Output<string>>>,
    wafAclArn: waf.webAclArn,
    wafLogGroupName: waf.logGroupName,
    ...data.outputs,
    ...observability.outputs,
    ...compute.outputs,
    pushNotifications: cfg.pushGatewayUrl !== undefined ? "on" : "off",
    backlogQueueUrls: Object.fromEntries(consumed.map((k) => [k, data.queues.pairs[k].queue.url])),
    backlogDlqUrls: Object.fromEntries(consumed.map((k) => [k, data.queues.pairs[k].dlq.url])),
    athenaDatabaseName: logQueries.databaseName,
    albLogsTableName: logQueries.tableName,
    athenaWorkgroupName: logQueries.workgroupName,
    athenaResultsBucket: logQueries.resultsBucketName,
    ...(pilotLight
      ? {
        drPilotLightVpcId: pilotLight.vpcId,
        drDbSubnetGroupName: pilotLight.subnetGroupName,
        drRestoreSecurityGroupId: pilotLight.restoreSecurityGroupId,
      }
      : {}),
    // STACK OUTPUTS SLOT: add outputs of the layers above here.
  };
}

export type PlatformOutputs = ReturnType<typeof buildPlatform>;

/** Compile-time check: the program's return type names every output of the table in infra/outputs.ts. */
type OutputsMissingFromProgram = Exclude<StackOutputName, keyof PlatformOutputs>;
export const OUTPUTS_TYPED: [OutputsMissingFromProgram] extends [never] ? true : OutputsMissingFromProgram = true;
