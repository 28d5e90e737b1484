/**
 * The data and messaging tier of one stack, composed for the platform: PostgreSQL (+ RDS Proxy), Redis, the
 * SQS queues and the application secrets, plus what each service needs from them:
 *
 * - `links(uses)`: for a catalogue entry's `uses`, each data component's link (infra/components/link.ts):
 *   plain environment values (docs/CONTRACTS.md), task-definition secrets, the exact secret ARNs the
 *   execution role may read, task-role statements scoped to what is used (rds-db:connect on the proxy, SQS
 *   send or consume on the used queues) and the ingress to open (the proxy on 5432, Redis on 6379). The
 *   compute layer merges them per service and opens the ingress on `connections`. Nothing wider.
 * - `alarmTargets`: plain identifiers for the alarms; `outputs`: the stack outputs.
 *
 * The data settings are checked with the rest of the stack config (infra/config/sizing-rules.ts), once.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "./config/naming";
import { removalPolicy } from "./config/removal";
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
import type { Link, LinkIngress } from "./components/link";
import type { ServiceUses } from "./catalogue";
import { Redis } from "./components/redis";
import type { RedisArgs } from "./components/redis";
import { AppSecrets } from "./components/secrets";

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
  const removal = removalPolicy(cfg);
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
      removal,
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
      removal,
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
  proxy: DbProxy;
  redis: Redis;
  queues: Queues;
  secrets: AppSecrets;
  /**
   * The links a client gets for what it uses (catalogue `uses`), in a fixed order: database (through the
   * proxy), queues, Redis, JWT keys, push gateway. The push queue and the gateway are linked only when the
   * stack has a `pushGatewayUrl`.
   */
  links(uses: ServiceUses): Link[];
  /** Holds the security-group rules between clients and the data tier (`<client>-to-<role>`). */
  connections: Connections;
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
  outputs: Record<"dbInstanceIdentifier" | "dbEndpoint" | "dbMasterSecretArn" | "dbProxyEndpoint" | "redisReplicationGroupId" |
    "redisPrimaryEndpoint" | "redisAuthSecretArn" | "jwtKeysSecretArn" | "pushGatewaySecretArn" | QueueOutputName, pulumi.Output<string>>;
}

/** `pushQueueUrl`, `offlineDlqArn`...: each work queue's and DLQ's URL and ARN. */
type QueueOutputName = `${QueueKind}${"QueueUrl" | "QueueArn" | "DlqUrl" | "DlqArn"}`;

/** Opens each ingress of a client's merged links: `<client>-to-<role>` rules on the data tier's connections. */
export function openIngress(connections: Connections, client: string, label: string, securityGroupId: pulumi.Input<string>, ingress: LinkIngress[]): void {
  for (const i of ingress) {
    connections.allowTcp(`${client}-to-${i.role}`, { from: securityGroupId, to: i.securityGroupId, port: i.port, description: `${label} to ${i.what}` });
  }
}

export function buildDataTier(cfg: StackConfig, naming: Naming, network: NetworkRefs): DataTier {
  if (!cfg.sizing.database.proxyEnabled) {
    // the config refuses this setting; a caller that built the config by hand gets told the same.
    throw new Error(`buildDataTier: ${CONFIG_NAMESPACE}:sizing.database.proxyEnabled is false; every stack runs behind RDS Proxy (services sign in with IAM): set it to true`);
  }
  const a = componentArgs(cfg, naming);
  const net = { vpcId: network.vpcId, subnetIds: network.privateSubnetIds };
  const { subnetCount: _d, ...databaseArgs } = a.database;
  const { subnetCount: _p, ...proxyArgs } = a.proxy;

  const database = new Database("db", { ...databaseArgs, ...net });
  const proxy = new DbProxy("db-proxy", {
    ...proxyArgs, ...net, dbInstanceIdentifier: database.instanceId, secretArn: database.masterSecretArn,
    secretsManagerRoute: secretsManagerRoute(cfg, network),
  });
  const connections = new Connections("data-access");
  connections.allowTcp("db-proxy-to-db", { from: proxy.securityGroupId, to: database.securityGroupId, port: database.port, description: "db proxy to postgres" });
  if (!cfg.pushGatewayUrl && cfg.tier !== "dev") pulumi.log.warn(pushDisabledWarning(naming.prefix));
  const redis = new Redis("redis", { ...a.redis, ...net });
  const queues = new Queues("queues", a.queues);
  const secrets = new AppSecrets("secrets", { namePrefix: naming.durablePrefix, removal: a.redis.removal });

  // Push delivery needs a gateway. Without `pushGatewayUrl` the push queue and its DLQ still exist (setting the
  // key later replaces nothing), but no service gets its URL, the right to use it, or the gateway secret: api and
  // realtime queue offline digests only and the workers consume only the offline queue.
  const pushGatewayUrl = cfg.pushGatewayUrl;
  const links = (uses: ServiceUses): Link[] => {
    const out: Link[] = [];
    if (uses.database) out.push(proxy.link(database));
    if (uses.queues) {
      const kinds = uses.queues.kinds.filter((k) => k !== "push" || pushGatewayUrl !== undefined);
      out.push(queues.link(uses.queues.role, kinds));
    }
    if (uses.redis) out.push(redis.link());
    if (uses.jwtKeys) out.push(secrets.jwtKeysLink());
    if (uses.pushGateway && pushGatewayUrl !== undefined) out.push(secrets.pushGatewayLink(pushGatewayUrl));
    return out;
  };

  const operator = {
    environment: {
      DB_HOST: proxy.endpoint, DB_PORT: String(database.port), DB_NAME: database.dbName, DB_USER: database.username,
      DB_IAM_AUTH: "true",
      REDIS_HOST: redis.primaryEndpoint, REDIS_PORT: String(redis.port), REDIS_TLS: "true", REDIS_AUTH_SECRET_ARN: redis.authSecretArn,
    } as Record<string, pulumi.Input<string>>,
    taskPolicyStatements: [
      proxy.connectStatement(database.username),
      { Sid: "ReadRedisAuthToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [redis.authSecretArn] },
    ] as PolicyStatement[],
  };
  assertNoWildcardActions("toolbox task role", operator.taskPolicyStatements);
  // The toolbox reaches what a service using the database and Redis reaches, nothing more.
  const connectOperator = (sgId: pulumi.Input<string>) =>
    openIngress(connections, "toolbox", "operator toolbox", sgId, [...(proxy.link(database).ingress ?? []), ...(redis.link().ingress ?? [])]);

  const pair = (k: "push" | "offline") => queues.pairs[k];
  const queueOutputs = Object.fromEntries(QUEUE_KINDS.flatMap((k) => [
    [`${k}QueueUrl`, pair(k).queue.url], [`${k}QueueArn`, pair(k).queue.arn], [`${k}DlqUrl`, pair(k).dlq.url], [`${k}DlqArn`, pair(k).dlq.arn],
  ])) as Record<QueueOutputName, pulumi.Output<string>>;
  const outputs = {
    dbInstanceIdentifier: database.instanceId,
    dbEndpoint: database.address,
    dbMasterSecretArn: database.masterSecretArn,
    dbProxyEndpoint: proxy.endpoint,
    redisReplicationGroupId: redis.replicationGroupId,
    redisPrimaryEndpoint: redis.primaryEndpoint,
    redisAuthSecretArn: redis.authSecretArn,
    jwtKeysSecretArn: secrets.jwtKeysSecretArn,
    pushGatewaySecretArn: secrets.pushGatewaySecretArn,
    ...queueOutputs,
  };

  return {
    database, proxy, redis, queues, secrets, links, connections, operator, connectOperator, outputs,
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
