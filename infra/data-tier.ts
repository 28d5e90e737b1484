/**
 * The data and messaging tier of one stack, composed for the platform: PostgreSQL (+ RDS Proxy), Redis, the
 * SQS queues and the application secrets, plus what each service needs from them:
 *
 * - `services.<name>`: plain environment values (docs/CONTRACTS.md), task-definition `secrets` (env name ->
 *   secret ARN, `arn:...:<jsonKey>::` for one JSON field), the exact secret ARNs the execution role may read,
 *   and the task-role statements (rds-db:connect on the proxy, SQS send or consume).
 * - `connectService(name, sgId)`: the security-group rules from a service to the proxy (or the database) on
 *   5432 and, for services that use it, to Redis on 6379. Nothing wider.
 * - `alarmTargets`: plain identifiers for the alarms; `outputs`: the stack outputs.
 *
 * The data settings are checked with the rest of the stack config (infra/config/sizing-rules.ts), once.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "./config/naming";
import { CONFIG_NAMESPACE } from "./config/schema";
import { TIER_NAMES, TIERS } from "./config/tiers";
import { postgresMaxConnections } from "./components/alarm-specs";
import type { StackConfig } from "./config/schema";
import { Connections } from "./components/connect";
import { Database } from "./components/database";
import type { DatabaseArgs } from "./components/database";
import { DbProxy } from "./components/db-proxy";
import type { DbProxyArgs } from "./components/db-proxy";
import { assertNoWildcardActions } from "./components/policy";
import type { PolicyStatement } from "./components/policy";
import { QUEUE_KINDS, Queues } from "./components/queues";
import type { QueueKind, QueuesArgs } from "./components/queues";
import { Redis } from "./components/redis";
import type { RedisArgs } from "./components/redis";
import { AppSecrets } from "./components/secrets";

export const SERVICE_NAMES = ["api", "realtime", "workers"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Services that use Redis and JWT_KEYS (the workers need only Postgres and SQS). */
const REDIS_USERS: readonly ServiceName[] = ["api", "realtime"];

export interface ServiceWiring {
  /** Plain environment values. Never a secret. */
  environment: Record<string, pulumi.Input<string>>;
  /** Task-definition `secrets`: env name -> Secrets Manager ARN (or `<arn>:<jsonKey>::`). */
  secrets: Record<string, pulumi.Input<string>>;
  /** The secret ARNs (without JSON keys) the execution role may read: exactly those behind `secrets`. */
  secretArns: pulumi.Input<string>[];
  /** Task-role statements. */
  taskPolicyStatements: PolicyStatement[];
  /** What the service must wait for: the proxy's target registration (the proxy refuses connections before it). */
  dependsOn: pulumi.Resource[];
}

interface NetworkRefs {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string>[];
  /** Security group of the VPC's interface endpoints; required when the tier lists `secretsmanager` among them. */
  endpointSecurityGroupId?: pulumi.Input<string>;
}

/** How RDS Proxy reaches Secrets Manager: the interface endpoint when the tier has one, else the NAT gateway. */
function secretsManagerRoute(cfg: StackConfig, network: NetworkRefs): DbProxyArgs["secretsManagerRoute"] {
  if (!cfg.sizing.network.interfaceEndpoints.includes("secretsmanager")) return "nat";
  if (network.endpointSecurityGroupId === undefined) {
    throw new Error("buildDataTier: the tier has a secretsmanager interface endpoint; pass the network's endpointSecurityGroupId");
  }
  return { endpointSecurityGroupId: network.endpointSecurityGroupId };
}

type ComponentArgs = {
  database: Omit<DatabaseArgs, "vpcId" | "subnetIds"> & { subnetCount: number };
  proxy: Omit<DbProxyArgs, "vpcId" | "subnetIds" | "dbInstanceIdentifier" | "secretArn" | "secretsManagerRoute"> & { subnetCount: number };
  redis: Omit<RedisArgs, "vpcId" | "subnetIds">;
  queues: QueuesArgs;
};

/** Component arguments from the stack config (plain values; shared by validation and construction). */
function componentArgs(cfg: StackConfig, naming: Naming): ComponentArgs {
  const s = cfg.sizing;
  const disposable = !s.database.deletionProtection;
  const subnetCount = cfg.availabilityZones.length;
  return {
    database: {
      identifier: naming.durable("db", 63),
      engineMajor: s.database.engineMajor,
      instanceClass: s.database.instanceClass,
      storageGb: s.database.storageGb,
      maxStorageGb: s.database.maxStorageGb,
      multiAz: s.database.multiAz,
      backupRetentionDays: s.database.backupRetentionDays,
      safeguards: !disposable,
      // dev's 1 GiB burstable class: RDS's formula on the real memory (the nominal number would overstate it)
      maxConnectionsFromFormula: cfg.tier === "dev",
      restoreSnapshotId: cfg.restoreSnapshotId,
      subnetCount,
    },
    proxy: {
      proxyName: naming.name("db-proxy", 60),
      maxConnectionsPercent: s.database.proxyMaxConnectionsPercent,
      idleClientTimeoutSeconds: s.database.proxyIdleClientTimeoutSeconds,
      subnetCount,
    },
    redis: {
      replicationGroupId: naming.name("redis", 40),
      authSecretName: naming.durable("redis-auth-token"),
      finalSnapshotIdentifier: naming.durable("redis-final"),
      nodeType: s.redis.nodeType,
      replicas: s.redis.replicas,
      multiAz: s.redis.multiAz,
      snapshotRetentionDays: s.redis.snapshotRetentionDays,
      disposable,
    },
    queues: {
      namePrefix: naming.prefix,
      maxReceiveCount: s.queues.maxReceiveCount,
      consumerTimeoutSeconds: s.queues.consumerTimeoutSeconds,
      visibilityTimeoutSeconds: s.queues.visibilityTimeoutSeconds,
      messageRetentionDays: s.queues.messageRetentionDays,
      dlqRetentionDays: s.queues.dlqRetentionDays,
    },
  };
}

export interface DataTier {
  database: Database;
  proxy: DbProxy | undefined;
  redis: Redis;
  queues: Queues;
  secrets: AppSecrets;
  services: Record<ServiceName, ServiceWiring>;
  /** Security-group rules from a service to what it uses. Call once per service. */
  connectService(service: ServiceName, securityGroupId: pulumi.Input<string>): void;
  /**
   * What the operators' toolbox needs: where the database (through the proxy) and Redis are, and task-role
   * statements for an IAM sign-in to the proxy and for reading the Redis AUTH token. No secret values.
   */
  operator: { environment: Record<string, pulumi.Input<string>>; taskPolicyStatements: PolicyStatement[] };
  /** Security-group rules from the toolbox to the proxy (5432) and Redis. Call once. */
  connectOperator(securityGroupId: pulumi.Input<string>): void;
  alarmTargets: {
    database: { instanceId: pulumi.Output<string>; maxConnections: number };
    redis: { replicationGroupId: pulumi.Output<string>; nodeCount: number };
    queues: Record<"push" | "offline", { queueName: pulumi.Output<string>; dlqName: pulumi.Output<string> }>;
  };
  outputs: Record<string, pulumi.Output<string>>;
}

export function buildDataTier(cfg: StackConfig, naming: Naming, network: NetworkRefs): DataTier {
  const a = componentArgs(cfg, naming);
  const net = { vpcId: network.vpcId, subnetIds: network.privateSubnetIds };
  const { subnetCount: _d, ...databaseArgs } = a.database;
  const { subnetCount: _p, ...proxyArgs } = a.proxy;

  const database = new Database("db", { ...databaseArgs, ...net });
  const proxy = cfg.sizing.database.proxyEnabled
    ? new DbProxy("db-proxy", {
      ...proxyArgs, ...net, dbInstanceIdentifier: database.instanceId, secretArn: database.masterSecretArn,
      secretsManagerRoute: secretsManagerRoute(cfg, network),
    })
    : undefined;
  const connections = new Connections("data-access");
  if (proxy) connections.allowTcp("db-proxy-to-db", { from: proxy.securityGroupId, to: database.securityGroupId, port: database.port, description: "db proxy to postgres" });
  else pulumi.log.warn(
    `${naming.prefix}: RDS Proxy is off; services log in with the master password, which RDS rotates every 7 days: ` +
    "redeploy the services after a rotation, or turn the proxy on (sizing.database.proxyEnabled: true).");
  if (!cfg.pushGatewayUrl && cfg.tier !== "dev") pulumi.log.warn(pushDisabledWarning(naming.prefix));
  const redis = new Redis("redis", { ...a.redis, ...net });
  const queues = new Queues("queues", a.queues);
  const secrets = new AppSecrets("secrets", { namePrefix: naming.durablePrefix, disposable: a.redis.disposable });

  const services = wireServices(cfg, { database, proxy, redis, queues, secrets });
  const connectService = (service: ServiceName, sgId: pulumi.Input<string>) => {
    const pg = proxy
      ? { to: proxy.securityGroupId, what: "db proxy" }
      : { to: database.securityGroupId, what: "postgres" };
    connections.allowTcp(`${service}-to-${proxy ? "db-proxy" : "db"}`, { from: sgId, to: pg.to, port: 5432, description: `${service} to ${pg.what}` });
    if (REDIS_USERS.includes(service)) {
      connections.allowTcp(`${service}-to-redis`, { from: sgId, to: redis.securityGroupId, port: redis.port, description: `${service} to redis` });
    }
  };

  // Every validated stack has the proxy (config/load.ts requires it); without one the toolbox reaches Redis only.
  const operator = {
    environment: {
      DB_HOST: proxy ? proxy.endpoint : database.address, DB_PORT: String(database.port), DB_NAME: database.dbName, DB_USER: database.username,
      DB_IAM_AUTH: proxy ? "true" : "false",
      REDIS_HOST: redis.primaryEndpoint, REDIS_PORT: String(redis.port), REDIS_TLS: "true", REDIS_AUTH_SECRET_ARN: redis.authSecretArn,
    } as Record<string, pulumi.Input<string>>,
    taskPolicyStatements: [
      ...(proxy ? [proxy.connectStatement(database.username)] : []),
      { Sid: "ReadRedisAuthToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [redis.authSecretArn] },
    ] as PolicyStatement[],
  };
  assertNoWildcardActions("toolbox task role", operator.taskPolicyStatements);
  const connectOperator = (sgId: pulumi.Input<string>) => {
    if (proxy) connections.allowTcp("toolbox-to-db-proxy", { from: sgId, to: proxy.securityGroupId, port: 5432, description: "operator toolbox to db proxy" });
    connections.allowTcp("toolbox-to-redis", { from: sgId, to: redis.securityGroupId, port: redis.port, description: "operator toolbox to redis" });
  };

  const pair = (k: "push" | "offline") => queues.pairs[k];
  const outputs: Record<string, pulumi.Output<string>> = {
    dbInstanceIdentifier: database.instanceId,
    dbEndpoint: database.address,
    dbMasterSecretArn: database.masterSecretArn,
    ...(proxy ? { dbProxyEndpoint: proxy.endpoint } : {}),
    redisReplicationGroupId: redis.replicationGroupId,
    redisPrimaryEndpoint: redis.primaryEndpoint,
    redisAuthSecretArn: redis.authSecretArn,
    jwtKeysSecretArn: secrets.jwtKeysSecretArn,
    pushGatewaySecretArn: secrets.pushGatewaySecretArn,
  };
  for (const k of QUEUE_KINDS) {
    outputs[`${k}QueueUrl`] = pair(k).queue.url;
    outputs[`${k}QueueArn`] = pair(k).queue.arn;
    outputs[`${k}DlqUrl`] = pair(k).dlq.url;
    outputs[`${k}DlqArn`] = pair(k).dlq.arn;
  }

  return {
    database, proxy, redis, queues, secrets, services, connectService, operator, connectOperator, outputs,
    alarmTargets: {
      database: { instanceId: database.instanceId, maxConnections: database.maxConnections },
      redis: { replicationGroupId: redis.replicationGroupId, nodeCount: redis.nodeCount },
      queues: {
        push: { queueName: pair("push").queue.name, dlqName: pair("push").dlq.name },
        offline: { queueName: pair("offline").queue.name, dlqName: pair("offline").dlq.name },
      },
    },
  };
}

/** The warning a non-dev stack without `pushGatewayUrl` gives (push notifications off). */
export function pushDisabledWarning(prefix: string): string {
  return `${prefix}: no pushGatewayUrl configured; push notifications are off and the workers consume only the offline ` +
    `queue (the push queue stays, empty). Set ${CONFIG_NAMESPACE}:pushGatewayUrl to the gateway's https URL to turn them on.`;
}

function wireServices(
  cfg: StackConfig,
  c: { database: Database; proxy: DbProxy | undefined; redis: Redis; queues: Queues; secrets: AppSecrets },
): Record<ServiceName, ServiceWiring> {
  const { database, proxy, redis, queues, secrets } = c;
  const dbEnv: Record<string, pulumi.Input<string>> = {
    DB_HOST: proxy ? proxy.endpoint : database.address,
    DB_PORT: String(database.port),
    DB_NAME: database.dbName,
    DB_USER: database.username,
    DB_SSL: "require",
    DB_IAM_AUTH: proxy ? "true" : "false",
  };
  // Push delivery needs a gateway. Without `pushGatewayUrl` the push queue and its DLQ still exist (setting the
  // key later replaces nothing), but no service gets its URL, the right to use it, or the gateway secret: api and
  // realtime queue offline digests only and the workers consume only the offline queue.
  const pushOn = cfg.pushGatewayUrl !== undefined;
  const kinds: readonly QueueKind[] = pushOn ? QUEUE_KINDS : ["offline"];
  const queueEnv = { ...(pushOn ? { PUSH_QUEUE_URL: queues.url("push") } : {}), OFFLINE_QUEUE_URL: queues.url("offline") };
  const onlyUsedQueues = (st: PolicyStatement): PolicyStatement => ({ ...st, Resource: kinds.map((k) => queues.pairs[k].queue.arn) });

  const wiring = (service: ServiceName): ServiceWiring => {
    const environment: Record<string, pulumi.Input<string>> = { ...dbEnv, ...queueEnv };
    const secretMap: Record<string, pulumi.Input<string>> = {};
    const secretArns: pulumi.Input<string>[] = [];
    const statements: PolicyStatement[] = [];
    if (proxy) {
      statements.push(proxy.connectStatement(database.username));
    } else {
      secretMap.DB_PASSWORD = pulumi.interpolate`${database.masterSecretArn}:password::`;
      secretArns.push(database.masterSecretArn);
    }
    if (REDIS_USERS.includes(service)) {
      Object.assign(environment, { REDIS_HOST: redis.primaryEndpoint, REDIS_PORT: String(redis.port), REDIS_TLS: "true" });
      secretMap.REDIS_AUTH_TOKEN = redis.authSecretArn;
      secretMap.JWT_KEYS = secrets.jwtKeysSecretArn;
      secretArns.push(redis.authSecretArn, secrets.jwtKeysSecretArn);
      statements.push(onlyUsedQueues(queues.producerStatement()));
    } else {
      Object.assign(environment, {
        JOB_TIMEOUT_MS: String(cfg.sizing.queues.consumerTimeoutSeconds * 1000),
        VISIBILITY_TIMEOUT_S: String(cfg.sizing.queues.visibilityTimeoutSeconds),
        ...(cfg.pushGatewayUrl ? { PUSH_GATEWAY_URL: cfg.pushGatewayUrl } : {}),
      });
      if (pushOn) {
        secretMap.PUSH_GATEWAY_SECRET = secrets.pushGatewaySecretArn;
        secretArns.push(secrets.pushGatewaySecretArn);
      }
      statements.push(onlyUsedQueues(queues.consumerStatement()));
    }
    assertNoWildcardActions(`${service} task role`, statements);
    return { environment, secrets: secretMap, secretArns, taskPolicyStatements: statements, dependsOn: proxy ? [proxy.target] : [] };
  };
  return { api: wiring("api"), realtime: wiring("realtime"), workers: wiring("workers") };
}

/** The per-tier defaults table of docs/DATA.md (a test keeps the document in step with the tier table). */
export function dataDefaultsTable(): string {
  const yes = (b: boolean) => (b ? "yes" : "no");
  const row = (label: string, cell: (t: (typeof TIERS)[keyof typeof TIERS]) => string) =>
    `| ${label} | ${TIER_NAMES.map((n) => cell(TIERS[n])).join(" | ")} |`;
  return [
    `| setting | ${TIER_NAMES.join(" | ")} |`,
    `|---|${TIER_NAMES.map(() => "---|").join("")}`,
    row("PostgreSQL instance class", (t) => `${t.database.instanceClass} (PostgreSQL ${t.database.engineMajor})`),
    row("max_connections (RDS default for the class)", (t) => String(postgresMaxConnections(t.database.instanceClass))),
    row("gp3 storage GB (autoscaling ceiling)", (t) => `${t.database.storageGb} (${t.database.maxStorageGb})`),
    row("Multi-AZ standby", (t) => yes(t.database.multiAz)),
    row("automated backups / PITR window, days", (t) => String(t.database.backupRetentionDays)),
    row("deletion protection, final snapshot, protect", (t) => (t.database.deletionProtection ? "yes" : "no (disposable)")),
    row("RDS Proxy (pool % of max_connections, idle client s)", (t) =>
      t.database.proxyEnabled ? `yes (${t.database.proxyMaxConnectionsPercent} %, ${t.database.proxyIdleClientTimeoutSeconds})` : "no"),
    row("Redis node type", (t) => t.redis.nodeType),
    row("Redis nodes (automatic failover + Multi-AZ)", (t) => `${1 + t.redis.replicas} (${yes(t.redis.multiAz)})`),
    row("Redis snapshots, days", (t) => String(t.redis.snapshotRetentionDays)),
    row("SQS max receives / visibility s / retention d / DLQ d", (t) =>
      `${t.queues.maxReceiveCount} / ${t.queues.visibilityTimeoutSeconds} / ${t.queues.messageRetentionDays} / ${t.queues.dlqRetentionDays}`),
  ].join("\n");
}
