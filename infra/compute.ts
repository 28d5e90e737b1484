/**
 * The compute layer of one stack, composed for the platform: the ECS cluster, the service images (ECR
 * repositories, builds unless image URIs are configured) and the three Fargate services with their
 * autoscaling:
 *
 * - api (port 3000): behind the ALB's api target group; scales on CPU and ALB requests per target.
 * - realtime (port 3001): behind the realtime target group; scales on CPU and the `ActiveConnections` metric
 *   per task (a share of MAX_CONNECTIONS_PER_TASK); deploys keep 100% of the tasks healthy; SHUTDOWN_GRACE_MS
 *   stays below the target group's deregistration delay and the container's stop timeout.
 * - workers (port 3002, health only): no load balancer, no ingress; scales on visible messages of the push and
 *   offline queues per running task; the stop timeout leaves a job its full consumer timeout after SIGTERM.
 *
 * `computeProblems(cfg)` checks the compute settings before any resource exists and names the stack file key
 * of each problem. What the data tier passes per service (environment, secrets, task-role statements) is
 * merged with the compute layer's own variables; a name set by both is an error.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { StackConfigError } from "./config/load";
import type { Naming } from "./config/naming";
import { CONFIG_NAMESPACE } from "./config/schema";
import type { StackConfig } from "./config/schema";
import { SOCKET_IO } from "./config/capacity";
import { EcsCluster } from "./components/ecs-cluster";
import { DEFAULT_CACHE_TAG, defaultImageTag, ServiceImages, servicesToBuild } from "./components/images";
import type { ScalingPolicySpec } from "./components/scaling";
import { albRequestsPolicy, backlogPolicy, connectionsPolicy, cpuPolicy } from "./components/scaling";
import { FARGATE_MAX_STOP_TIMEOUT, FargateService } from "./components/service";
import type { IamStatement } from "./components/service-iam";
import { ecrRepositoryArn } from "./components/service-iam";
import { resolve } from "node:path";

/** Repository root: the images' build context. */
const REPO_ROOT = resolve(__dirname, "..");

export const COMPUTE_SERVICES = ["api", "realtime", "workers"] as const;
export type ComputeService = (typeof COMPUTE_SERVICES)[number];

/** Container ports (docs/CONTRACTS.md). */
export const SERVICE_PORTS: Record<ComputeService, number> = { api: 3000, realtime: 3001, workers: 3002 };

/** Seconds the realtime container gets after SIGTERM (Fargate's maximum: draining sockets takes a while). */
export const REALTIME_STOP_TIMEOUT_SECONDS = FARGATE_MAX_STOP_TIMEOUT;
/** Margin kept between the realtime drain and the earlier of deregistration delay and stop timeout. */
export const REALTIME_GRACE_MARGIN_SECONDS = 15;
/** Seconds the api container gets after SIGTERM (ECS's default; requests are short). */
export const API_STOP_TIMEOUT_SECONDS = 30;
/** Margin kept between the api's and the workers' drain and their stop timeout (SIGKILL). */
export const WORKERS_GRACE_MARGIN_SECONDS = 5;

/** What another layer adds to a service (the data tier's `services.<name>`). */
export interface ServiceExtras {
  environment?: Record<string, pulumi.Input<string>>;
  secrets?: Record<string, pulumi.Input<string>>;
  secretArns?: pulumi.Input<string>[];
  taskPolicyStatements?: IamStatement[];
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
}

/** Drain time of the realtime service, ms: below the deregistration delay and the stop timeout. */
export function realtimeShutdownGraceMs(deregistrationDelaySeconds: number): number {
  return (Math.min(deregistrationDelaySeconds, REALTIME_STOP_TIMEOUT_SECONDS) - REALTIME_GRACE_MARGIN_SECONDS) * 1000;
}

/** Problems with the compute settings, each naming the config key, its value and the fix. */
export function computeProblems(cfg: StackConfig): string[] {
  const problems: string[] = [];
  const s = cfg.sizing;
  const key = (p: string) => `${CONFIG_NAMESPACE}:sizing.${p}`;
  const w = s.services.workers;
  const needed = s.queues.consumerTimeoutSeconds + WORKERS_GRACE_MARGIN_SECONDS;
  if (!Number.isInteger(w.stopTimeoutSeconds) || w.stopTimeoutSeconds < needed || w.stopTimeoutSeconds > FARGATE_MAX_STOP_TIMEOUT) {
    problems.push(`${key("services.workers.stopTimeoutSeconds")} = ${w.stopTimeoutSeconds}: must be a whole number from ${needed} ` +
      `(queues.consumerTimeoutSeconds ${s.queues.consumerTimeoutSeconds} + ${WORKERS_GRACE_MARGIN_SECONDS} s to finish a job) ` +
      `to ${FARGATE_MAX_STOP_TIMEOUT} (Fargate's limit); lower queues.consumerTimeoutSeconds if a job needs longer`);
  }
  const dereg = s.alb.realtimeDeregistrationDelaySeconds;
  if (realtimeShutdownGraceMs(dereg) < 5000) {
    problems.push(`${key("alb.realtimeDeregistrationDelaySeconds")} = ${dereg}: must be at least ${REALTIME_GRACE_MARGIN_SECONDS + 5} ` +
      "so realtime tasks get 5 s or more to move their sockets before the target is gone");
  }
  if (!Number.isInteger(w.backlogPerTaskTarget) || w.backlogPerTaskTarget < 1) {
    problems.push(`${key("services.workers.backlogPerTaskTarget")} = ${w.backlogPerTaskTarget}: must be a whole number >= 1`);
  }
  if (s.services.api.requestsPerTargetTarget < 1) {
    problems.push(`${key("services.api.requestsPerTargetTarget")} = ${s.services.api.requestsPerTargetTarget}: must be >= 1`);
  }
  if (s.services.realtime.connectionsPerTaskTarget < 1) {
    problems.push(`${key("services.realtime.connectionsPerTaskTarget")} = ${s.services.realtime.connectionsPerTaskTarget}: must be >= 1`);
  }
  if (servicesToBuild({ services: [...COMPUTE_SERVICES], imageUris: imageUris(cfg) }).length && !(cfg.imageTag ?? defaultImageTag(REPO_ROOT))) {
    problems.push(`${CONFIG_NAMESPACE}:imageTag is missing and no git commit is available to tag built images; ` +
      "set imageTag (e.g. the commit or release) or configure apiImage, realtimeImage and workersImage");
  }
  if (cfg.imageTag === DEFAULT_CACHE_TAG) {
    problems.push(`${CONFIG_NAMESPACE}:imageTag = "${cfg.imageTag}": that tag holds the build cache; use a release tag such as the commit`);
  }
  return problems;
}

/** Throws one StackConfigError listing every compute problem. */
export function validateCompute(cfg: StackConfig): void {
  const problems = computeProblems(cfg);
  if (problems.length) throw new StackConfigError(`Pulumi.${cfg.stack}.yaml`, problems);
}

function imageUris(cfg: StackConfig): Record<ComputeService, string | undefined> {
  return { api: cfg.apiImage, realtime: cfg.realtimeImage, workers: cfg.workersImage };
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
      SHUTDOWN_GRACE_MS: String(realtimeShutdownGraceMs(s.alb.realtimeDeregistrationDelaySeconds)),
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
  validateCompute(cfg);
  const s = cfg.sizing;
  const accountId = aws.getCallerIdentityOutput({}).accountId;
  const uris = imageUris(cfg);
  const toBuild = servicesToBuild({ services: [...COMPUTE_SERVICES], imageUris: uris });
  const auth = toBuild.length ? aws.ecr.getAuthorizationTokenOutput({}) : undefined;

  const cluster = new EcsCluster("ecs", { clusterName: naming.prefix, region: cfg.region, accountId });
  const images = new ServiceImages("images", {
    namePrefix: naming.prefix,
    services: [...COMPUTE_SERVICES],
    imageUris: uris,
    contextDir: REPO_ROOT,
    tag: toBuild.length ? (cfg.imageTag ?? defaultImageTag(REPO_ROOT)) : undefined,
    registryAuth: auth && { address: auth.proxyEndpoint, username: auth.userName, password: auth.password },
    forceDelete: !s.alb.deletionProtection,
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
      deploymentAlarmNames: refs.deploymentAlarmNames?.[svc],
      // workers hold no connections: half may stop before the new ones start (the queue buffers meanwhile)
      deployment: svc === "workers" ? { minimumHealthyPercent: 50, maximumPercent: 200 } : { minimumHealthyPercent: 100, maximumPercent: 200 },
      scaling: { min: sizing.min, max: sizing.max, policies: scaling[svc] },
    });
  }

  return {
    cluster,
    images,
    services,
    outputs: {
      ecsClusterName: cluster.clusterName,
      apiServiceName: services.api.serviceName,
      realtimeServiceName: services.realtime.serviceName,
      workersServiceName: services.workers.serviceName,
      ecrRepositoryUrls: images.repositoryUrls,
    },
  };
}
