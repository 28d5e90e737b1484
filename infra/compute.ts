/**
 * The compute layer of one stack, composed for the platform: the ECS cluster, the service images (ECR
 * repositories, builds unless image URIs are configured) and the three Fargate services with their
 * autoscaling:
 *
 * - api (port 3000): behind the ALB's api target group; scales on CPU and ALB requests per target.
 * - realtime (port 3001): behind the realtime target group; scales on CPU and the `ActiveConnections` metric
 *   per task (a share of MAX_CONNECTIONS_PER_TASK); deploys keep 100% of the tasks healthy; a short
 *   deregistration delay (ECS sends SIGTERM only after it) and SHUTDOWN_GRACE_MS below the stop timeout.
 * - workers (port 3002, health only): no load balancer, no ingress; scales on visible messages of the push and
 *   offline queues per running task; the stop timeout leaves a job its full consumer timeout after SIGTERM.
 *
 * The compute settings are checked with the rest of the stack config (infra/config/sizing-rules.ts), once.
 * What the data tier passes per service (environment, secrets, task-role statements) is
 * merged with the compute layer's own variables; a name set by both is an error.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "./config/naming";
import { CONFIG_NAMESPACE } from "./config/schema";
import type { StackConfig } from "./config/schema";
import { SOCKET_IO } from "./config/capacity";
import { REALTIME_DEREGISTRATION_DELAY_RANGE, WORKERS_GRACE_MARGIN_SECONDS } from "./config/sizing-rules";
import { EcsCluster } from "./components/ecs-cluster";
import { ServiceImages, servicesToBuild } from "./components/images";
import type { ScalingPolicySpec } from "./components/scaling";
import { albRequestsPolicy, backlogPolicy, connectionsPolicy, cpuPolicy } from "./components/scaling";
import { FARGATE_MAX_STOP_TIMEOUT, FargateService } from "./components/service";
import { OperatorToolbox, TOOLBOX_CONTAINER } from "./components/toolbox";
import type { IamStatement } from "./components/service-iam";
import { ecrRepositoryArn } from "./components/service-iam";
import { resolve } from "node:path";

/** Repository root: the images' build context. */
const REPO_ROOT = resolve(__dirname, "..");

export const COMPUTE_SERVICES = ["api", "realtime", "workers"] as const;
export type ComputeService = (typeof COMPUTE_SERVICES)[number];
/** Images the stack holds: the three services and the operators' toolbox (apps/<name>/Dockerfile). */
export const IMAGES = [...COMPUTE_SERVICES, TOOLBOX_CONTAINER] as const;
type ImageName = (typeof IMAGES)[number];

/** Container ports (docs/CONTRACTS.md). */
export const SERVICE_PORTS: Record<ComputeService, number> = { api: 3000, realtime: 3001, workers: 3002 };

/** Seconds the realtime container gets after SIGTERM (Fargate's maximum: draining sockets takes a while). */
export const REALTIME_STOP_TIMEOUT_SECONDS = FARGATE_MAX_STOP_TIMEOUT;
/** Margin kept between the realtime drain and the earlier of deregistration delay and stop timeout. */
export const REALTIME_GRACE_MARGIN_SECONDS = 15;
/** Seconds the api container gets after SIGTERM (ECS's default; requests are short). */
export const API_STOP_TIMEOUT_SECONDS = 30;
/** Margin kept between the api's and the workers' drain and their stop timeout (SIGKILL); the sizing rules use it too. */
export { WORKERS_GRACE_MARGIN_SECONDS };

/** What another layer adds to a service (the data tier's `services.<name>`). */
export interface ServiceExtras {
  environment?: Record<string, pulumi.Input<string>>;
  secrets?: Record<string, pulumi.Input<string>>;
  secretArns?: pulumi.Input<string>[];
  taskPolicyStatements?: IamStatement[];
  /** Resources the service must wait for (the RDS Proxy target registration). */
  dependsOn?: pulumi.Resource[];
}

export interface ComputeRefs {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string>[];
  alb: {
    securityGroupId: pulumi.Input<string>;
    arnSuffix: pulumi.Input<string>;
    apiTargetGroupArn: pulumi.Input<string>;
    apiTargetGroupArnSuffix: pulumi.Input<string>;
    realtimeTargetGroupArn: pulumi.Input<string>;
    listeners: pulumi.Resource[];
  };
  /** Alarms that roll a deployment back, per service (from the observability layer). */
  deploymentAlarmNames?: Partial<Record<ComputeService, pulumi.Input<string>[]>>;
  /** Per-service additions from the data tier. */
  extras?: Partial<Record<ComputeService, ServiceExtras>>;
  /** What the operators' toolbox gets from the data tier (environment and task-role statements). */
  operator: { environment: Record<string, pulumi.Input<string>>; taskPolicyStatements: IamStatement[] };
}

/** The realtime deregistration delay's range (why: infra/config/sizing-rules.ts). */
export { REALTIME_DEREGISTRATION_DELAY_RANGE };

/** Drain time of the realtime service after SIGTERM, ms: the stop timeout minus a margin. */
export function realtimeShutdownGraceMs(): number {
  return (REALTIME_STOP_TIMEOUT_SECONDS - REALTIME_GRACE_MARGIN_SECONDS) * 1000;
}

function imageUris(cfg: StackConfig): Record<ImageName, string | undefined> {
  return { api: cfg.apiImage, realtime: cfg.realtimeImage, workers: cfg.workersImage, toolbox: cfg.toolboxImage };
}

/** Variables the compute layer sets itself (docs/CONTRACTS.md). */
export function baseEnvironment(cfg: StackConfig, naming: Naming, service: ComputeService): Record<string, string> {
  const env: Record<string, string> = {
    PROJECT: cfg.project,
    ENV: cfg.env,
    SERVICE_NAME: naming.name(service),
    PORT: String(SERVICE_PORTS[service]),
    LOG_LEVEL: "info",
    NODE_ENV: "production",
  };
  const s = cfg.sizing;
  if (service === "realtime") {
    Object.assign(env, {
      MAX_CONNECTIONS_PER_TASK: String(s.services.realtime.maxConnectionsPerTask),
      SHUTDOWN_GRACE_MS: String(realtimeShutdownGraceMs()),
      PING_INTERVAL_MS: String(SOCKET_IO.pingIntervalMs),
      PING_TIMEOUT_MS: String(SOCKET_IO.pingTimeoutMs),
      TRUST_PROXY_HOPS: "1",
    });
  }
  if (service === "api") {
    env.SHUTDOWN_GRACE_MS = String((API_STOP_TIMEOUT_SECONDS - WORKERS_GRACE_MARGIN_SECONDS) * 1000);
    // The api trusts no X-Forwarded-For entry by default; behind the ALB it believes the ALB's one hop.
    env.TRUST_PROXY_HOPS = "1";
  }
  if (service === "workers") {
    env.SHUTDOWN_GRACE_MS = String((s.services.workers.stopTimeoutSeconds - WORKERS_GRACE_MARGIN_SECONDS) * 1000);
  }
  return env;
}

/**
 * The compute layer's variables plus the stack's `serviceEnv` limits for the service (validated with the config:
 * documented limit names only, none the stack sets itself).
 */
export function withServiceEnv(cfg: StackConfig, service: ComputeService, own: Record<string, string>): Record<string, string> {
  const limits = cfg.serviceEnv?.[service] ?? {};
  const clash = Object.keys(limits).filter((k) => k in own);
  if (clash.length) throw new Error(`compute: ${CONFIG_NAMESPACE}:serviceEnv.${service} sets ${clash.join(", ")}, which the stack sets itself`);
  return { ...own, ...limits };
}

/** Merges the compute layer's variables with another layer's; a name set by both is a wiring mistake. */
export function mergeEnvironment(service: string, own: Record<string, string>, extra: Record<string, pulumi.Input<string>> = {}) {
  const clash = Object.keys(extra).filter((k) => k in own);
  if (clash.length) {
    throw new Error(`compute: ${service} environment ${clash.join(", ")} set by both the compute layer and the data tier; set each variable in one place`);
  }
  return { ...own, ...extra };
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
    // dev, and DR stacks (retired after every drill): images are rebuilt from source, a destroy must not stop at them
    forceDelete: !s.alb.deletionProtection || cfg.primaryEnv !== undefined,
  });

  const scaling: Record<ComputeService, ScalingPolicySpec[]> = {
    api: [
      cpuPolicy(s.services.api.cpuTarget),
      albRequestsPolicy(s.services.api.requestsPerTargetTarget, pulumi.interpolate`${refs.alb.arnSuffix}/${refs.alb.apiTargetGroupArnSuffix}`),
    ],
    realtime: [
      cpuPolicy(s.services.realtime.cpuTarget),
      connectionsPolicy({ namespace: naming.prefix, serviceName: naming.name("realtime"), connectionsPerTask: s.services.realtime.connectionsPerTaskTarget }),
    ],
    workers: [
      backlogPolicy({
        queueNames: [naming.name("push"), naming.name("offline")],
        clusterName: naming.prefix,
        serviceName: naming.name("workers"),
        messagesPerTask: s.services.workers.backlogPerTaskTarget,
      }),
    ],
  };
  const loadBalancers: Partial<Record<ComputeService, { targetGroupArn: pulumi.Input<string> }>> = {
    api: { targetGroupArn: refs.alb.apiTargetGroupArn },
    realtime: { targetGroupArn: refs.alb.realtimeTargetGroupArn },
  };
  const stopTimeouts: Record<ComputeService, number> = {
    api: API_STOP_TIMEOUT_SECONDS,
    realtime: REALTIME_STOP_TIMEOUT_SECONDS,
    workers: s.services.workers.stopTimeoutSeconds,
  };

  const services = {} as Record<ComputeService, FargateService>;
  for (const svc of COMPUTE_SERVICES) {
    const sizing = s.services[svc];
    const extra = refs.extras?.[svc] ?? {};
    const configured = uris[svc];
    const lb = loadBalancers[svc];
    services[svc] = new FargateService(svc, {
      serviceName: naming.name(svc),
      containerName: svc,
      port: SERVICE_PORTS[svc],
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
      environment: mergeEnvironment(svc, withServiceEnv(cfg, svc, baseEnvironment(cfg, naming, svc)), extra.environment),
      secrets: extra.secrets,
      secretArns: extra.secretArns,
      taskPolicyStatements: extra.taskPolicyStatements,
      logGroupName: naming.logGroup(svc),
      logRetentionDays: s.observability.logRetentionDays,
      logKmsKeyArn: cluster.logKeyArn,
      loadBalancer: lb && { targetGroupArn: lb.targetGroupArn, albSecurityGroupId: refs.alb.securityGroupId, dependsOn: refs.alb.listeners },
      stopTimeoutSeconds: stopTimeouts[svc],
      dependsOn: extra.dependsOn,
      deploymentAlarmNames: refs.deploymentAlarmNames?.[svc],
      // workers hold no connections: half may stop before the new ones start (the queue buffers meanwhile)
      deployment: svc === "workers" ? { minimumHealthyPercent: 50, maximumPercent: 200 } : { minimumHealthyPercent: 100, maximumPercent: 200 },
      scaling: { min: sizing.min, max: sizing.max, policies: scaling[svc] },
    });
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
      apiServiceName: services.api.serviceName,
      realtimeServiceName: services.realtime.serviceName,
      workersServiceName: services.workers.serviceName,
      ecrRepositoryUrls: images.repositoryUrls,
      // Autoscaling bounds per service: manual scaling stays inside them (docs/RUNBOOK.md section 4).
      serviceScalingBounds: Object.fromEntries(COMPUTE_SERVICES.map((svc) => [svc, { min: s.services[svc].min, max: s.services[svc].max }])) as
        Record<ComputeService, { min: number; max: number }>,
      toolboxTaskDefinitionArn: toolbox.taskDefinitionArn,
      toolboxNetworkConfiguration: toolbox.networkConfiguration,
      toolboxContainerName: TOOLBOX_CONTAINER,
      toolboxLogGroupName: toolbox.logGroupName,
      toolboxSecurityGroupId: toolbox.securityGroupId,
    },
  };
}
