import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_LIMITS, ELASTICACHE_OLD_NODE_FAMILIES, inRange } from "./aws-limits";
import { Problems } from "./problems";
import type { Link } from "./link";
import * as random from "@pulumi/random";
import { RETAIN, type RemovalPolicy } from "./removal";

/**
 * Eviction policy: `noeviction`. Everything this Redis holds is either pub/sub traffic (no keys) or small keys
 * with a TTL: presence, rate-limit counters, and token revocations (`auth:revoked-*`). Evicting a revocation
 * early would let a revoked session back in, so under memory pressure Redis refuses new writes instead
 * (the services report the error; the memory alarms warn at 70 % and page at 85 % long before that).
 */
export const EVICTION_POLICY = "noeviction";


export interface RedisArgs {
  /** Replication group id, `<project>-<env>-redis` (1-40 lowercase letters, digits, '-'). */
  replicationGroupId: string;
  /** Name of the Secrets Manager secret holding the AUTH token, `<project>-<env>-redis-auth-token`. */
  authSecretName: string;
  vpcId: pulumi.Input<string>;
  /** Private subnets; nodes spread over their zones. */
  subnetIds: pulumi.Input<string>[];
  /** Node type, e.g. `cache.r7g.large` (current generation: encryption and failover need it). */
  nodeType: string;
  /** Replicas of the primary, 0 to 5. Each costs a full node. */
  replicas: number;
  /** Automatic failover to a replica in another zone (needs replicas >= 1). */
  multiAz: boolean;
  /** Days of daily snapshots, 0 to 35 (0 turns snapshots off). */
  snapshotRetentionDays: number;
  /** Redis engine version. @default "7.1" */
  engineVersion?: string;
  /**
   * With `keepData` (every tier but dev) the replication group is `protect`ed (a destroy or replacement stops
   * with an error until an operator unprotects it), deleting it takes a final snapshot `finalSnapshotIdentifier`,
   * and its AUTH secret has a 30-day recovery window. Without it, the secret goes at once and no snapshot is
   * taken. @default RETAIN
   */
  removal?: RemovalPolicy;
  /**
   * Name of the snapshot ElastiCache takes when the group is deleted (outside dev). It outlives the stack, so a
   * DR stack passes a name with its generation. @default `<replicationGroupId>-final`
   */
  finalSnapshotIdentifier?: string;
  tags?: Record<string, string>;
}

/** Every problem with the plain arguments (field, value, fix). */
export function redisProblems(args: RedisArgs): Problems {
  const p = new Problems("Redis");
  const bad = (field: string, value: unknown, fix: string) => p.add(field, value, fix);
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(args.replicationGroupId) || args.replicationGroupId.endsWith("-") || args.replicationGroupId.includes("--")) {
    bad("replicationGroupId", args.replicationGroupId, "1-40 lowercase letters, digits and single '-', starting with a letter");
  }
  const m = /^cache\.([a-z]+\d+[a-z]*)\.[a-z0-9]+$/.exec(args.nodeType);
  if (!m) {
    bad("nodeType", args.nodeType, "expected an ElastiCache node type such as cache.t4g.small or cache.r7g.large");
  } else if (ELASTICACHE_OLD_NODE_FAMILIES.includes(m[1]!)) {
    bad("nodeType", args.nodeType,
      "a previous-generation node cannot do Multi-AZ with automatic failover or encryption in transit; use cache.t4g.*, cache.m7g.* or cache.r7g.*");
  }
  const replicas = AWS_LIMITS.elasticache.replicas;
  if (!inRange(args.replicas, replicas)) bad("replicas", args.replicas, `must be a whole number from ${replicas.min} to ${replicas.max}`);
  if (args.multiAz && args.replicas < 1) bad("multiAz", args.multiAz, "Multi-AZ with automatic failover needs replicas >= 1; add a replica or set multiAz false");
  const snapshots = AWS_LIMITS.elasticache.snapshotRetentionDays;
  if (!inRange(args.snapshotRetentionDays, snapshots)) {
    bad("snapshotRetentionDays", args.snapshotRetentionDays, `must be a whole number from ${snapshots.min} to ${snapshots.max}`);
  }
  if (!/^[a-z0-9][a-z0-9/_+=.@-]{0,511}$/i.test(args.authSecretName)) bad("authSecretName", args.authSecretName, "letters, digits and /_+=.@- only");
  return p;
}

/** Throws one error listing every problem with the plain arguments. */
export function validateRedisArgs(args: RedisArgs): void {
  redisProblems(args).check();
}

/**
 * ElastiCache for Redis, cluster mode DISABLED: one primary (plus replicas from 1k-dau up, with automatic
 * failover and Multi-AZ from 1k-dau up). The realtime service uses `@socket.io/redis-adapter` with plain
 * PUBLISH/SUBSCRIBE; in cluster mode every classic PUBLISH is broadcast to every shard over the cluster bus, so
 * shards add no pub/sub capacity (that needs the sharded adapter and SPUBLISH) and the clients would need
 * cluster-aware connections. One shard scaled vertically carries the tiers' traffic.
 *
 * Encryption at rest and in transit are on (TLS is required); clients authenticate with an AUTH token
 * generated here and kept in Secrets Manager (`authSecretArn`). The security group has no rules of its own;
 * the platform admits the services on 6379.
 */
export class Redis extends pulumi.ComponentResource {
  readonly replicationGroup: aws.elasticache.ReplicationGroup;
  readonly replicationGroupId: pulumi.Output<string>;
  readonly primaryEndpoint: pulumi.Output<string>;
  readonly port = 6379;
  readonly securityGroupId: pulumi.Output<string>;
  readonly authSecretArn: pulumi.Output<string>;
  /** Primary plus replicas (plain number, for the alarms). */
  readonly nodeCount: number;

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:cache:Redis", name, {}, opts);
    const keepData = (args.removal ?? RETAIN).keepData;
    validateRedisArgs(args);
    const tags = { ...args.tags, Name: args.replicationGroupId };
    const child = { parent: this };
    const engineVersion = args.engineVersion ?? "7.1";
    this.nodeCount = 1 + args.replicas;

    const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId: args.vpcId,
      description: `${args.replicationGroupId}: admits the services on 6379 (rules added by the platform)`,
      tags,
    }, child);
    const subnetGroup = new aws.elasticache.SubnetGroup(`${name}-subnets`, {
      description: `${args.replicationGroupId} private subnets`, subnetIds: args.subnetIds, tags,
    }, child);
    const params = new aws.elasticache.ParameterGroup(`${name}-params`, {
      family: `redis${engineVersion.split(".")[0]}`,
      description: `${args.replicationGroupId}: ${EVICTION_POLICY}, no cluster mode`,
      parameters: [{ name: "maxmemory-policy", value: EVICTION_POLICY }],
      tags,
    }, child);

    // 64 letters and digits: AUTH tokens may not contain / " @ and must be 16-128 printable characters.
    const token = new random.RandomPassword(`${name}-auth-token`, { length: 64, special: false }, child);
    const secret = new aws.secretsmanager.Secret(`${name}-auth-secret`, {
      name: args.authSecretName,
      description: `AUTH token of ${args.replicationGroupId} (REDIS_AUTH_TOKEN)`,
      recoveryWindowInDays: keepData ? 30 : 0,
      tags,
    }, child);
    new aws.secretsmanager.SecretVersion(`${name}-auth-secret-value`, { secretId: secret.id, secretString: token.result }, child);

    this.replicationGroup = new aws.elasticache.ReplicationGroup(`${name}-group`, {
      replicationGroupId: args.replicationGroupId,
      description: `${args.replicationGroupId}: Socket.IO adapter, presence, rate limits`,
      engine: "redis",
      engineVersion,
      nodeType: args.nodeType,
      port: this.port,
      numCacheClusters: this.nodeCount,
      automaticFailoverEnabled: args.multiAz,
      multiAzEnabled: args.multiAz,
      clusterMode: "disabled",
      parameterGroupName: params.name,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [sg.id],
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: token.result,
      snapshotRetentionLimit: args.snapshotRetentionDays,
      snapshotWindow: "02:00-03:00",
      maintenanceWindow: "sun:05:30-sun:06:30",
      autoMinorVersionUpgrade: true,
      applyImmediately: false,
      ...(!keepData ? {} : { finalSnapshotIdentifier: args.finalSnapshotIdentifier ?? `${args.replicationGroupId}-final` }),
      tags,
    }, { parent: this, protect: keepData });

    this.replicationGroupId = this.replicationGroup.replicationGroupId;
    this.primaryEndpoint = this.replicationGroup.primaryEndpointAddress;
    this.securityGroupId = sg.id;
    this.authSecretArn = secret.arn;
    this.registerOutputs({ replicationGroupId: this.replicationGroupId, primaryEndpoint: this.primaryEndpoint, authSecretArn: this.authSecretArn });
  }

  /** What a client service needs: the primary endpoint over TLS, the AUTH token as a task secret, the port opened to it. */
  link(): Link {
    return {
      environment: { REDIS_HOST: this.primaryEndpoint, REDIS_PORT: String(this.port), REDIS_TLS: "true" },
      secrets: { REDIS_AUTH_TOKEN: this.authSecretArn },
      secretArns: [this.authSecretArn],
      ingress: [{ role: "redis", what: "redis", securityGroupId: this.securityGroupId, port: this.port }],
    };
  }
}
