/**
 * The service catalogue: one record per service, the only place in `infra/` that lists the services. Each
 * record says what the service is (port, health path), how traffic reaches it (an ALB route, or none), how it
 * stops, deploys and scales, what it uses from the data tier (the links it gets), its own environment, and
 * the alarms that roll a deployment back. Compute is a loop over this table; the load balancer takes its
 * routes from it; the alarms, the config checks and the `serviceEnv` keys iterate its keys.
 *
 * The records are plain data plus functions of the tier sizing: no ECS, ALB or other provider types, so other
 * renderers (Kubernetes) can read the same table. Adding a service is one record here plus its sizing under
 * `sizing.services.<name>` (infra/config/tiers.ts); docs/COMPUTE.md walks through an example.
 */
import { SOCKET_IO } from "./config/capacity";
import type { ServicesSizing, TierSizing } from "./config/tiers";
import { AWS_LIMITS } from "./components/aws-limits";

/** Seconds the realtime container gets after SIGTERM (Fargate's maximum: draining sockets takes a while). */
export const REALTIME_STOP_TIMEOUT_SECONDS = AWS_LIMITS.ecs.fargateStopTimeoutSeconds.max;
/** Margin kept between the realtime drain and the earlier of deregistration delay and stop timeout. */
export const REALTIME_GRACE_MARGIN_SECONDS = 15;
/** Seconds the api container gets after SIGTERM (ECS's default; requests are short). */
export const API_STOP_TIMEOUT_SECONDS = 30;
/** Seconds kept between a service's drain and its stop timeout (SIGKILL): the workers' last job, the api's last request. */
export const WORKERS_GRACE_MARGIN_SECONDS = 5;

/** Drain time of the realtime service after SIGTERM, ms: the stop timeout minus a margin. */
export function realtimeShutdownGraceMs(): number {
  return (REALTIME_STOP_TIMEOUT_SECONDS - REALTIME_GRACE_MARGIN_SECONDS) * 1000;
}

/** A service's name: a key of the catalogue (and of `sizing.services`). */
export type ServiceName = keyof ServicesSizing;

/** Work queues a service may use (infra/components/queues.ts). */
export type WorkQueue = "push" | "offline";

/** How the load balancer reaches a service. */
export interface ServiceRoute {
  /** Path patterns forwarded to the service. */
  paths: string[];
  /** Rule priority on the listener (lower first; unique per stack). */
  priority: number;
  /** Path the load balancer's health check requests. */
  healthCheckPath: string;
  /** Keep a client on one task (cookie stickiness, for Socket.IO long-polling); the lifetime is `sizing.alb.stickinessSeconds`. */
  sticky: boolean;
  /** Seconds in-flight requests get when a task leaves the target group. */
  deregistrationDelaySeconds(s: TierSizing): number;
}

/** What a scaling rule tracks; a renderer maps it to its autoscaler (ECS target tracking, a Kubernetes HPA). */
export type ScalingRule =
  | { metric: "cpu"; targetPercent: number }
  | { metric: "requestsPerTask"; target: number }
  | { metric: "connectionsPerTask"; target: number }
  | { metric: "queueBacklogPerTask"; queues: WorkQueue[]; target: number };

/**
 * What a service uses from the data tier. Each use picks one link (infra/components/link.ts): the
 * environment, secrets, IAM statements and security-group ingress that use needs, and nothing else.
 */
export interface ServiceUses {
  /** PostgreSQL through RDS Proxy (IAM sign-in). */
  database?: boolean;
  /** Redis (TLS, AUTH token). */
  redis?: boolean;
  /** The JWT keys secret. */
  jwtKeys?: boolean;
  /** The work queues, as producer (send) or consumer (receive, delete, extend). Push is used only when on. */
  queues?: { role: "producer" | "consumer"; kinds: WorkQueue[] };
  /** The push gateway (URL and HMAC secret), when the stack configures one. */
  pushGateway?: boolean;
}

/** Alarms that roll a deployment back: the target group's 5xx rate, and unhealthy targets. */
export type DeploymentAlarm = "5xx" | "unhealthy";

export interface ServiceDefinition<N extends ServiceName = ServiceName> {
  /** One line for the docs. */
  summary: string;
  /** Container port (docs/CONTRACTS.md). */
  port: number;
  /** Path of the container's own health check. */
  healthPath: string;
  /** The load balancer route; absent: no route, no ingress at all. */
  route?: ServiceRoute;
  /** Seconds between SIGTERM and SIGKILL. */
  stopTimeoutSeconds(s: TierSizing): number;
  /** Rolling deploy bounds, percent of the desired count. */
  deployment: { minimumHealthyPercent: number; maximumPercent: number };
  /** Autoscaling rules (bounds are `sizing.services.<name>.min/max`). */
  scaling(s: ServicesSizing[N]): ScalingRule[];
  uses: ServiceUses;
  /** Variables the service gets from its own settings (the common ones and the links' come on top). */
  environment(s: TierSizing): Record<string, string>;
  /** Deployment alarms (need a route: they watch the service's target group). */
  deploymentAlarms: DeploymentAlarm[];
}

export type Catalogue = { [N in ServiceName]: ServiceDefinition<N> };

export const SERVICE_CATALOGUE: Catalogue = {
  api: {
    summary: "HTTP and GraphQL API",
    port: 3000,
    healthPath: "/health",
    route: {
      paths: ["/api/*", "/graphql"], priority: 20, healthCheckPath: "/api/health", sticky: false,
      deregistrationDelaySeconds: (s) => s.alb.apiDeregistrationDelaySeconds,
    },
    stopTimeoutSeconds: () => API_STOP_TIMEOUT_SECONDS,
    deployment: { minimumHealthyPercent: 100, maximumPercent: 200 },
    scaling: (s) => [{ metric: "cpu", targetPercent: s.cpuTarget }, { metric: "requestsPerTask", target: s.requestsPerTargetTarget }],
    uses: { database: true, queues: { role: "producer", kinds: ["push", "offline"] }, redis: true, jwtKeys: true },
    environment: () => ({
      SHUTDOWN_GRACE_MS: String((API_STOP_TIMEOUT_SECONDS - WORKERS_GRACE_MARGIN_SECONDS) * 1000),
      // The api trusts no X-Forwarded-For entry by default; behind the ALB it believes the ALB's one hop.
      TRUST_PROXY_HOPS: "1",
    }),
    deploymentAlarms: ["5xx"],
  },
  realtime: {
    summary: "Socket.IO server",
    port: 3001,
    healthPath: "/health",
    route: {
      paths: ["/socket.io/*"], priority: 10, healthCheckPath: "/health", sticky: true,
      deregistrationDelaySeconds: (s) => s.alb.realtimeDeregistrationDelaySeconds,
    },
    stopTimeoutSeconds: () => REALTIME_STOP_TIMEOUT_SECONDS,
    deployment: { minimumHealthyPercent: 100, maximumPercent: 200 },
    scaling: (s) => [{ metric: "cpu", targetPercent: s.cpuTarget }, { metric: "connectionsPerTask", target: s.connectionsPerTaskTarget }],
    uses: { database: true, queues: { role: "producer", kinds: ["push", "offline"] }, redis: true, jwtKeys: true },
    environment: (s) => ({
      MAX_CONNECTIONS_PER_TASK: String(s.services.realtime.maxConnectionsPerTask),
      SHUTDOWN_GRACE_MS: String(realtimeShutdownGraceMs()),
      PING_INTERVAL_MS: String(SOCKET_IO.pingIntervalMs),
      PING_TIMEOUT_MS: String(SOCKET_IO.pingTimeoutMs),
      TRUST_PROXY_HOPS: "1",
    }),
    deploymentAlarms: ["5xx", "unhealthy"],
  },
  workers: {
    summary: "queue consumers (push and offline digests)",
    port: 3002,
    healthPath: "/health",
    stopTimeoutSeconds: (s) => s.services.workers.stopTimeoutSeconds,
    // workers hold no connections: half may stop before the new ones start (the queue buffers meanwhile)
    deployment: { minimumHealthyPercent: 50, maximumPercent: 200 },
    scaling: (s) => [{ metric: "queueBacklogPerTask", queues: ["push", "offline"], target: s.backlogPerTaskTarget }],
    uses: { database: true, queues: { role: "consumer", kinds: ["push", "offline"] }, pushGateway: true },
    environment: (s) => ({
      SHUTDOWN_GRACE_MS: String((s.services.workers.stopTimeoutSeconds - WORKERS_GRACE_MARGIN_SECONDS) * 1000),
    }),
    deploymentAlarms: [],
  },
};

/** The service names, in catalogue order. */
export const SERVICE_NAMES = Object.keys(SERVICE_CATALOGUE) as ServiceName[];

/** Services with a load balancer route, in catalogue order. */
export function routedServices(): ServiceName[] {
  return SERVICE_NAMES.filter((n) => SERVICE_CATALOGUE[n].route !== undefined);
}
