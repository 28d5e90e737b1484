/**
 * The compute layer of one stack, composed for the platform: the ECS cluster, the service images (ECR
 * repositories, builds unless image URIs are configured) and one Fargate service per entry of the service
 * catalogue (infra/catalogue.ts: port, route, stop timeout, deployment bounds, scaling rules, uses,
 * environment), with its autoscaling, plus the operators' toolbox task definition.
 *
 * Per service, the compute layer's common variables, the catalogue entry's own, the stack's `serviceEnv`
 * limits and the data tier's links for the entry's `uses` are merged once (`mergeLinks`: a variable set twice
 * is an error); the links' ingress rules open the data tier's security groups to the service's group.
 * The compute settings are checked with the rest of the stack config (infra/config/sizing-rules.ts), once.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "./config/naming";
import { removalPolicy } from "./config/removal";
import { CONFIG_NAMESPACE } from "./config/schema";
import type { StackConfig } from "./config/schema";
import { REALTIME_DEREGISTRATION_DELAY_RANGE } from "./config/sizing-rules";
import { EcsCluster } from "./components/ecs-cluster";
import { ServiceImages, servicesToBuild } from "./components/images";
import type { ScalingPolicySpec } from "./components/scaling";
import { albRequestsPolicy, backlogPolicy, connectionsPolicy, cpuPolicy } from "./components/scaling";
import { FargateService } from "./components/service";
import { SERVICE_CATALOGUE, SERVICE_NAMES } from "./catalogue";
import type { ScalingRule, ServiceDefinition, ServiceName, ServiceUses } from "./catalogue";
import type { Connections } from "./components/connect";
import { mergeLinks } from "./components/link";
import type { Link } from "./components/link";
import { openIngress } from "./data-tier";
import { OperatorToolbox, TOOLBOX_CONTAINER } from "./components/toolbox";
import type { IamStatement } from "./components/service-iam";
import { ecrRepositoryArn } from "./components/service-iam";
import { resolve } from "node:path";

/** Repository root: the images' build context. */
const REPO_ROOT = resolve(__dirname, "..");

export { realtimeShutdownGraceMs, REALTIME_STOP_TIMEOUT_SECONDS, WORKERS_GRACE_MARGIN_SECONDS } from "./catalogue";

/** Images the stack holds: the catalogue's services and the operators' toolbox (apps/<name>/Dockerfile). */
export const IMAGES: readonly string[] = [...SERVICE_NAMES, TOOLBOX_CONTAINER];

export interface ComputeRefs {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string>[];
  alb: {
    securityGroupId: pulumi.Input<string>;
    arnSuffix: pulumi.Input<string>;
    /** Per routed service: its target group. */
    targetGroups: Partial<Record<ServiceName, { arn: pulumi.Input<string>; arnSuffix: pulumi.Input<string> }>>;
    listeners: pulumi.Resource[];
  };
  /** Alarms that roll a deployment back, per service (from the observability layer). */
  deploymentAlarmNames?: Partial<Record<ServiceName, pulumi.Input<string>[]>>;
  /** The data tier's links for a catalogue entry's `uses`, and where their ingress rules live. */
  data: { links(uses: ServiceUses): Link[]; connections: Connections };
  /** What the operators' toolbox gets from the data tier (environment and task-role statements). */
  operator: { environment: Record<string, pulumi.Input<string>>; taskPolicyStatements: IamStatement[] };
}

/** The realtime deregistration delay's range (why: infra/config/sizing-rules.ts). */
export { REALTIME_DEREGISTRATION_DELAY_RANGE };

/** Image URIs from the `<name>Image` config keys (`apiImage`, `toolboxImage`...); an image without one is built. */
function imageUris(cfg: StackConfig): Record<string, string | undefined> {
  const keys = cfg as unknown as Record<string, unknown>;
  return Object.fromEntries(IMAGES.map((n) => {
    const uri = keys[`${n}Image`];
    return [n, typeof uri === "string" ? uri : undefined];
  }));
}

/** Variables the compute layer sets itself (docs/CONTRACTS.md): the common ones, then the catalogue entry's own. */
export function baseEnvironment(cfg: StackConfig, naming: Naming, service: ServiceName): Record<string, string> {
  const common: Record<string, string> = {
    PROJECT: cfg.project,
    ENV: cfg.env,
    SERVICE_NAME: naming.name(service),
    PORT: String(SERVICE_CATALOGUE[service].port),
    LOG_LEVEL: "info",
    NODE_ENV: "production",
  };
  const own = SERVICE_CATALOGUE[service].environment(cfg.sizing);
  const clash = Object.keys(own).filter((k) => k in common);
  if (clash.length) throw new Error(`compute: the catalogue entry ${service} sets ${clash.join(", ")}, which every service gets from the compute layer`);
  return { ...common, ...own };
}

/**
 * The compute layer's variables plus the stack's `serviceEnv` limits for the service (validated with the config:
 * documented limit names only, none the stack sets itself).
 */
export function withServiceEnv(cfg: StackConfig, service: ServiceName, own: Record<string, string>): Record<string, string> {
  const limits = cfg.serviceEnv?.[service] ?? {};
  const clash = Object.keys(limits).filter((k) => k in own);
  if (clash.length) throw new Error(`compute: ${CONFIG_NAMESPACE}:serviceEnv.${service} sets ${clash.join(", ")}, which the stack sets itself`);
  return { ...own, ...limits };
}

/** A catalogue scaling rule as an ECS target-tracking policy. */
function scalingPolicy(cfg: StackConfig, naming: Naming, service: ServiceName, rule: ScalingRule, refs: ComputeRefs): ScalingPolicySpec {
  switch (rule.metric) {
    case "cpu":
      return cpuPolicy(rule.targetPercent);
    case "requestsPerTask": {
      const tg = refs.alb.targetGroups[service];
      if (!tg) throw new Error(`compute: ${service} scales on requests per task but has no load balancer route`);
      return albRequestsPolicy(rule.target, pulumi.interpolate`${refs.alb.arnSuffix}/${tg.arnSuffix}`);
    }
    case "connectionsPerTask":
      return connectionsPolicy({ namespace: naming.prefix, serviceName: naming.name(service), connectionsPerTask: rule.target });
    case "queueBacklogPerTask":
      return backlogPolicy({
        queueNames: rule.queues.map((q) => naming.name(q)),
        clusterName: naming.prefix,
        serviceName: naming.name(service),
        messagesPerTask: rule.target,
      });
  }
}

export function buildCompute(cfg: StackConfig, naming: Naming, refs: ComputeRefs) {
  const s = cfg.sizing;
  const accountId = aws.getCallerIdentityOutput({}).accountId;
  const uris = imageUris(cfg);
  const toBuild = servicesToBuild({ services: [...IMAGES], imageUris: uris });
  const auth = toBuild.length ? aws.ecr.getAuthorizationTokenOutput({}) : undefined;

  const cluster = new EcsCluster("ecs", { clusterName: naming.prefix, region: cfg.region, accountId });
  const images = new ServiceImages("images", {
    namePrefix: naming.prefix,
    services: [...IMAGES],
    imageUris: uris,
    contextDir: REPO_ROOT,
    // unset: each image is tagged with the hash of its own build inputs (infra/components/context-hash.ts)
    tag: toBuild.length ? cfg.imageTag : undefined,
    registryAuth: auth && { address: auth.proxyEndpoint, username: auth.userName, password: auth.password },
    removal: removalPolicy(cfg),
  });

  const services = {} as Record<ServiceName, FargateService>;
  for (const svc of SERVICE_NAMES) {
    const entry: ServiceDefinition = SERVICE_CATALOGUE[svc];
    const sizing = s.services[svc];
    const configured = uris[svc];
    const tg = refs.alb.targetGroups[svc];
    if (entry.route !== undefined && !tg) throw new Error(`compute: ${svc} has a load balancer route but refs.alb.targetGroups has no ${svc}`);
    // the one merge of the service's own variables, the stack's serviceEnv limits and its links (one clash check)
    const linked = mergeLinks(svc, withServiceEnv(cfg, svc, baseEnvironment(cfg, naming, svc)), refs.data.links(entry.uses));
    services[svc] = new FargateService(svc, {
      serviceName: naming.name(svc),
      containerName: svc,
      port: entry.port,
      clusterArn: cluster.clusterArn,
      clusterName: cluster.clusterName,
      region: cfg.region,
      accountId,
      vpcId: refs.vpcId,
      subnetIds: refs.privateSubnetIds,
      image: images.imageUris[svc]!,
      repositoryArns: configured ? [ecrRepositoryArn(configured)].filter((x): x is string => x !== undefined) : [images.repositoryArns[svc]!],
      cpu: sizing.cpu,
      memory: sizing.memory,
      environment: linked.environment,
      secrets: linked.secrets,
      secretArns: linked.secretArns,
      taskPolicyStatements: linked.statements,
      logGroupName: naming.logGroup(svc),
      logRetentionDays: s.observability.logRetentionDays,
      logKmsKeyArn: cluster.logKeyArn,
      loadBalancer: tg && { targetGroupArn: tg.arn, albSecurityGroupId: refs.alb.securityGroupId, dependsOn: refs.alb.listeners },
      healthCheckPath: entry.healthPath,
      stopTimeoutSeconds: entry.stopTimeoutSeconds(s),
      dependsOn: linked.dependsOn,
      deploymentAlarmNames: refs.deploymentAlarmNames?.[svc],
      deployment: entry.deployment,
      scaling: {
        min: sizing.min, max: sizing.max,
        policies: (entry.scaling as (x: typeof sizing) => ScalingRule[])(sizing).map((r) => scalingPolicy(cfg, naming, svc, r, refs)),
      },
    });
    openIngress(refs.data.connections, svc, svc, services[svc].securityGroupId, linked.ingress);
  }

  const toolbox = new OperatorToolbox(TOOLBOX_CONTAINER, {
    family: naming.name(TOOLBOX_CONTAINER),
    region: cfg.region,
    accountId,
    vpcId: refs.vpcId,
    subnetIds: refs.privateSubnetIds,
    image: images.imageUris[TOOLBOX_CONTAINER]!,
    repositoryArns: uris.toolbox
      ? [ecrRepositoryArn(uris.toolbox)].filter((x): x is string => x !== undefined)
      : [images.repositoryArns[TOOLBOX_CONTAINER]!],
    environment: refs.operator.environment,
    taskPolicyStatements: refs.operator.taskPolicyStatements,
    logGroupName: naming.logGroup(TOOLBOX_CONTAINER),
    logRetentionDays: s.observability.logRetentionDays,
    logKmsKeyArn: cluster.logKeyArn,
  });

  return {
    cluster,
    images,
    services,
    toolbox,
    outputs: {
      ecsClusterName: cluster.clusterName,
      ...Object.fromEntries(SERVICE_NAMES.map((svc) => [`${svc}ServiceName`, services[svc].serviceName])) as Record<`${ServiceName}ServiceName`, pulumi.Output<string>>,
      ecrRepositoryUrls: images.repositoryUrls,
      // Autoscaling bounds per service: manual scaling stays inside them (docs/RUNBOOK.md section 4).
      serviceScalingBounds: Object.fromEntries(SERVICE_NAMES.map((svc) => [svc, { min: s.services[svc].min, max: s.services[svc].max }])) as
        Record<ServiceName, { min: number; max: number }>,
      toolboxTaskDefinitionArn: toolbox.taskDefinitionArn,
      toolboxNetworkConfiguration: toolbox.networkConfiguration,
      toolboxContainerName: TOOLBOX_CONTAINER,
      toolboxLogGroupName: toolbox.logGroupName,
      toolboxSecurityGroupId: toolbox.securityGroupId,
    },
  };
}
