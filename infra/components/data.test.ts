/**
 * Data tier (database, db-proxy, redis, queues, secrets, data-tier wiring): the validators without mocks, the
 * config-level check that names the stack file and key, then every stack file synthesized once through the
 * data tier with three stand-in service security groups, plus two variants (proxy off, restore from snapshot).
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { StackConfigError, loadStackConfig } from "../config/load";
import { Naming } from "../config/naming";
import { TIER_NAMES, TIERS } from "../config/tiers";
import type { TierName } from "../config/tiers";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildDataTier, dataDefaultsTable, pushDisabledWarning, SERVICE_NAMES } from "../data-tier";
import type { ServiceWiring } from "../data-tier";
import { byType, loadStackFile, one, REPO_ROOT, synthesize } from "../synth";
import type { SynthResult } from "../synth";
import { Connections } from "./connect";
import { validateDatabaseArgs } from "./database";
import type { DatabaseArgs } from "./database";
import { proxyDbUserArn, validateDbProxyArgs } from "./db-proxy";
import type { DbProxyArgs } from "./db-proxy";
import { CONSUMER_ACTIONS, PRODUCER_ACTIONS, validateQueuesArgs } from "./queues";
import type { QueuesArgs } from "./queues";
import { EVICTION_POLICY, validateRedisArgs } from "./redis";
import type { RedisArgs } from "./redis";

const T = {
  db: "aws:rds/instance:Instance",
  dbParams: "aws:rds/parameterGroup:ParameterGroup",
  proxy: "aws:rds/proxy:Proxy",
  proxyPool: "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
  redis: "aws:elasticache/replicationGroup:ReplicationGroup",
  redisParams: "aws:elasticache/parameterGroup:ParameterGroup",
  queue: "aws:sqs/queue:Queue",
  allow: "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  key: "aws:kms/key:Key",
};

const SECRET_ENV = ["DB_PASSWORD", "REDIS_AUTH_TOKEN", "JWT_KEYS", "PUSH_GATEWAY_SECRET"];
const SERVICE_SG = { api: "sg-svc-api", realtime: "sg-svc-realtime", workers: "sg-svc-workers" } as const;
const GATEWAY = "https://push.example.com/v1/notify";
const ENDPOINT_SG = "sg-vpc-endpoints";

// ---- validators ----------------------------------------------------------------------------------------

function rejects(fn: () => void, component: string, line: string): void {
  assert.throws(fn, (err: Error) => {
    assert.equal(err.message.split("\n")[0], `${component}: invalid arguments:`);
    assert.ok(err.message.includes(`  - ${line}`), `expected "${line}" in:\n${err.message}`);
    return true;
  });
}

describe("validateRedisArgs", () => {
  const ok: RedisArgs = {
    replicationGroupId: "chat-dev-redis", authSecretName: "chat-dev-redis-auth-token", vpcId: "vpc", subnetIds: ["a", "b"],
    nodeType: "cache.r7g.large", replicas: 1, multiAz: true, snapshotRetentionDays: 7,
  };
  it("accepts valid arguments", () => assert.doesNotThrow(() => validateRedisArgs(ok)));
  const cases: Array<[string, Partial<RedisArgs>, string]> = [
    ["previous-generation node with Multi-AZ", { nodeType: "cache.t2.micro" },
      'nodeType "cache.t2.micro": a previous-generation node cannot do Multi-AZ with automatic failover or encryption in transit; use cache.t4g.*, cache.m7g.* or cache.r7g.*'],
    ["not a node type", { nodeType: "r7g.large" }, 'nodeType "r7g.large": expected an ElastiCache node type such as cache.t4g.small or cache.r7g.large'],
    ["Multi-AZ without a replica", { replicas: 0 }, "multiAz true: Multi-AZ with automatic failover needs replicas >= 1; add a replica or set multiAz false"],
    ["too many replicas", { replicas: 6 }, "replicas 6: must be a whole number from 0 to 5"],
    ["snapshot retention", { snapshotRetentionDays: 36 }, "snapshotRetentionDays 36: must be a whole number from 0 to 35"],
    ["long id", { replicationGroupId: "a".repeat(41) }, `replicationGroupId "${"a".repeat(41)}": 1-40 lowercase letters, digits and single '-', starting with a letter`],
  ];
  for (const [title, patch, line] of cases) it(`rejects: ${title}`, () => rejects(() => validateRedisArgs({ ...ok, ...patch }), "Redis", line));
});

describe("validateQueuesArgs", () => {
  const ok: QueuesArgs = { namePrefix: "chat-dev", maxReceiveCount: 5, consumerTimeoutSeconds: 30, visibilityTimeoutSeconds: 60, messageRetentionDays: 4 };
  it("accepts valid arguments", () => assert.doesNotThrow(() => validateQueuesArgs(ok)));
  const cases: Array<[string, Partial<QueuesArgs>, string]> = [
    ["max receive count 0", { maxReceiveCount: 0 }, "maxReceiveCount 0: must be a whole number from 1 to 1000 (0 would dead-letter nothing and retry forever)"],
    ["visibility shorter than the consumer timeout", { visibilityTimeoutSeconds: 20 },
      "visibilityTimeoutSeconds 20: must be longer than consumerTimeoutSeconds (30), or a job still running becomes visible and runs twice; e.g. 60"],
    ["visibility equal to the consumer timeout", { visibilityTimeoutSeconds: 30 },
      "visibilityTimeoutSeconds 30: must be longer than consumerTimeoutSeconds (30), or a job still running becomes visible and runs twice; e.g. 60"],
    ["retention over 14 days", { messageRetentionDays: 15 }, "messageRetentionDays 15: must be a whole number of days from 1 to 14 (SQS limit)"],
    ["DLQ keeps less than the queue", { messageRetentionDays: 10, dlqRetentionDays: 7 },
      "dlqRetentionDays 7: must be at least messageRetentionDays (10): a message keeps its original age in the DLQ"],
  ];
  for (const [title, patch, line] of cases) it(`rejects: ${title}`, () => rejects(() => validateQueuesArgs({ ...ok, ...patch }), "Queues", line));
});

describe("validateDatabaseArgs / validateDbProxyArgs", () => {
  const ok: DatabaseArgs = {
    identifier: "chat-dev-db", vpcId: "vpc", subnetIds: ["a", "b"], engineMajor: "16", instanceClass: "db.t4g.small",
    storageGb: 20, maxStorageGb: 100, multiAz: true, backupRetentionDays: 7,
  };
  it("accepts valid arguments", () => assert.doesNotThrow(() => validateDatabaseArgs(ok)));
  const cases: Array<[string, Partial<DatabaseArgs>, string]> = [
    ["backups off", { backupRetentionDays: 0 }, "backupRetentionDays 0: must be 1 to 35 (0 would turn off backups and point-in-time recovery)"],
    ["storage below the gp3 minimum", { storageGb: 10 }, "storageGb 10: must be a whole number from 20 to 65536 (gp3)"],
    ["ceiling below the storage", { maxStorageGb: 10 }, "maxStorageGb 10: must be a whole number from storageGb (20) to 65536"],
    ["unknown major", { engineMajor: "12" }, 'engineMajor "12": allowed: 15, 16, 17'],
    ["unknown class", { instanceClass: "db.q9.huge" }, 'instanceClass "db.q9.huge": expected an RDS class such as db.t4g.small, db.m6g.large or db.r6g.xlarge'],
    ["Multi-AZ in one subnet", { subnetIds: ["a"] }, 'subnetIds "1 subnet(s)": Multi-AZ needs subnets in at least 2 zones'],
    ["bad snapshot id", { restoreSnapshotId: "snap shot" },
      'restoreSnapshotId "snap shot": expected a DB snapshot identifier (e.g. rds:chat-prod-db-2026-01-01-03-00) or its ARN'],
  ];
  for (const [title, patch, line] of cases) it(`rejects: ${title}`, () => rejects(() => validateDatabaseArgs({ ...ok, ...patch }), "Database", line));

  const proxy: DbProxyArgs = { proxyName: "chat-dev-db-proxy", vpcId: "vpc", subnetIds: ["a", "b"], dbInstanceIdentifier: "db", secretArn: "arn", secretsManagerRoute: "nat" };
  it("accepts valid proxy arguments", () => assert.doesNotThrow(() => validateDbProxyArgs(proxy)));
  it("rejects a proxy pool share of 0", () =>
    rejects(() => validateDbProxyArgs({ ...proxy, maxConnectionsPercent: 0 }), "DbProxy", "maxConnectionsPercent 0: must be a whole number from 1 to 100"));
  it("rejects an idle timeout over 8 hours", () =>
    rejects(() => validateDbProxyArgs({ ...proxy, idleClientTimeoutSeconds: 28_801 }), "DbProxy", "idleClientTimeoutSeconds 28801: must be a whole number from 1 to 28800"));

  it("scopes rds-db:connect to the proxy and the user", () => {
    assert.equal(proxyDbUserArn("arn:aws:rds:us-east-1:123456789012:db-proxy:prx-0abc123", "chat_app"),
      "arn:aws:rds-db:us-east-1:123456789012:dbuser:prx-0abc123/chat_app");
    assert.throws(() => proxyDbUserArn("arn:aws:rds:us-east-1:123456789012:db:chat-dev-db", "chat_app"), /unexpected proxy ARN/);
  });
});

describe("data settings in the stack config", () => {
  it("docs/DATA.md shows the tier table's current defaults", () => {
    const doc = readFileSync(join(REPO_ROOT, "docs", "DATA.md"), "utf8");
    const m = /<!-- data-defaults:start[^>]*-->\n([\s\S]*?)\n<!-- data-defaults:end -->/.exec(doc);
    assert.ok(m, "docs/DATA.md lost its data-defaults markers");
    assert.equal(m[1], dataDefaultsTable(), "regenerate the table in docs/DATA.md from dataDefaultsTable()");
  });

  // The data settings' rules (range, allowed values, why) are tested in infra/config/sizing-rules.test.ts.
  it("stops the program before any resource, naming the stack file", async () => {
    const registered: string[] = [];
    await assert.rejects(
      synthesize("1k-dau", {
        configOverrides: { "realtime-chat:sizing": { database: { backupRetentionDays: 40 } } },
        program: () => {
          const cfg = loadStackConfig();
          const data = buildDataTier(cfg, new Naming(cfg.project, cfg.env), { vpcId: "vpc-1", privateSubnetIds: ["subnet-a", "subnet-b"] });
          registered.push("reached");
          return data.outputs;
        },
      }),
      (err: Error) => {
        assert.ok(err instanceof StackConfigError, String(err));
        assert.match(err.message, /^Invalid configuration in Pulumi\.1k-dau\.yaml \(1 problem\):/);
        assert.match(err.message, /realtime-chat:sizing\.database\.backupRetentionDays = 40: must be a whole number from 1 to 35 \(days of automated backups/);
        return true;
      },
    );
    assert.deepEqual(registered, []);
  });
});

// ---- synthesized stacks --------------------------------------------------------------------------------

type Run = SynthResult & { wiring: Record<string, ServiceWiring> };

/** Runs the data tier alone (stand-in network and service security groups) and resolves the wiring. */
async function synthData(stack: string, configOverrides: Record<string, unknown> = {}): Promise<Run> {
  const r = await synthesize(stack, {
    configOverrides,
    program: () => {
      const cfg = loadStackConfig();
      const data = buildDataTier(cfg, new Naming(cfg.project, cfg.env), {
        vpcId: "vpc-data-test", privateSubnetIds: cfg.availabilityZones.map((z) => `subnet-private-${z}`),
        endpointSecurityGroupId: ENDPOINT_SG,
      });
      for (const svc of SERVICE_NAMES) data.connectService(svc, SERVICE_SG[svc]);
      return { ...data.outputs, wiring: pulumi.output(data.services) };
    },
  });
  return { ...r, wiring: r.outputs.wiring };
}

const runs = new Map<string, Run>();
beforeAll(async () => {
  for (const stack of TIER_NAMES) runs.set(stack, await synthData(stack));
  runs.set("10k-restore", await synthData("10k-dau", { "realtime-chat:restoreSnapshotId": "rds:chat-10k-dau-db-2026-01-01-03-00" }));
  runs.set("1k-gateway", await synthData("1k-dau", { "realtime-chat:pushGatewayUrl": GATEWAY }));
});

const run = (name: string) => runs.get(name)!;
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** The value of an input Pulumi carries as a secret; fails when the input is not marked secret. */
function secretValue(v: unknown): string {
  const wrapped = v as Record<string, unknown> | undefined;
  assert.ok(wrapped && typeof wrapped === "object" && Object.values(wrapped).includes(SECRET_SIG), `expected a secret, got ${JSON.stringify(v)}`);
  return String(wrapped.value);
}
const generatedSecrets = (r: SynthResult) => byType(r, T.secretVersion).map((v) => secretValue(v.inputs.secretString));
const parse = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);

for (const tier of TIER_NAMES) {
  describe(`data tier: ${tier}`, () => {
    const s = TIERS[tier as TierName];
    const safe = s.database.deletionProtection;
    const r = () => run(tier);

    it("encrypts the database with its own key, on gp3 with an autoscaling ceiling, private", () => {
      const db = one(r(), T.db, "db-instance").inputs;
      assert.equal(db.storageEncrypted, true);
      assert.match(db.kmsKeyId, /^arn:aws:kms:/);
      assert.equal(db.performanceInsightsEnabled, true);
      assert.equal(db.performanceInsightsKmsKeyId, db.kmsKeyId);
      assert.equal(db.storageType, "gp3");
      assert.equal(db.allocatedStorage, s.database.storageGb);
      assert.equal(db.maxAllocatedStorage, s.database.maxStorageGb);
      assert.equal(db.instanceClass, s.database.instanceClass);
      assert.equal(db.engine, "postgres");
      assert.equal(db.engineVersion, s.database.engineMajor);
      assert.equal(db.publiclyAccessible, false);
      assert.equal(db.multiAz, s.database.multiAz);
      assert.equal(db.backupRetentionPeriod, s.database.backupRetentionDays);
      assert.ok(db.backupRetentionPeriod >= 1, "point-in-time recovery needs automated backups");
      assert.equal(db.manageMasterUserPassword, true);
      assert.equal(db.password, undefined, "no master password in the program or its state");
      assert.equal(one(r(), T.key, "db-key").inputs.enableKeyRotation, true);
      const zones = loadStackFile(tier).config["realtime-chat:availabilityZones"] as string[];
      const privateSubnets = zones.map((z) => `subnet-private-${z}`);
      assert.deepEqual(one(r(), "aws:rds/subnetGroup:SubnetGroup", "db-subnets").inputs.subnetIds, privateSubnets);
      assert.equal(one(r(), "aws:rds/subnetGroup:SubnetGroup", "db-subnets").inputs.name, `chat-${tier}-db`, "named <project>-<env>-db");
      assert.equal(one(r(), T.db, "db-instance").inputs.dbSubnetGroupName, `chat-${tier}-db`);
      assert.deepEqual(one(r(), "aws:elasticache/subnetGroup:SubnetGroup", "redis-subnets").inputs.subnetIds, privateSubnets);
      assert.deepEqual(one(r(), T.proxy, "db-proxy-proxy").inputs.vpcSubnetIds, privateSubnets);
    });

    it("forces TLS and logs slow statements in the parameter group", () => {
      const params = one(r(), T.dbParams, "db-params").inputs;
      const byName = Object.fromEntries(params.parameters.map((p: { name: string; value: string }) => [p.name, p.value]));
      assert.equal(params.family, `postgres${s.database.engineMajor}`);
      assert.equal(byName["rds.force_ssl"], "1");
      assert.equal(byName.log_min_duration_statement, "500");
    });

    it(safe ? "protects the data: deletion protection, final snapshot, protect + retainOnDelete" : "says dev is disposable", () => {
      const db = one(r(), T.db, "db-instance");
      assert.equal(db.inputs.deletionProtection, safe);
      assert.equal(db.inputs.skipFinalSnapshot, !safe);
      assert.equal(db.inputs.finalSnapshotIdentifier, safe ? `chat-${tier}-db-final` : undefined);
      assert.equal(db.options.protect, safe);
      assert.equal(db.options.retainOnDelete, safe);
      assert.equal(one(r(), T.key, "db-key").options.protect, safe);
      assert.equal(db.inputs.tags.Disposable, safe ? undefined : "true");
      for (const sec of byType(r(), T.secret)) assert.equal(sec.inputs.recoveryWindowInDays, safe ? 30 : 0, sec.name);
    });

    it("lets the proxy reach Secrets Manager on 443: the interface endpoint where the tier has one, else through the NAT", () => {
      const proxySg = one(r(), T.proxy, "db-proxy-proxy").inputs.vpcSecurityGroupIds[0];
      const out = byType(r(), T.egress).filter((x) => x.inputs.securityGroupId === proxySg && x.inputs.fromPort === 443);
      assert.equal(out.length, 1, "one 443 egress rule on the proxy's group");
      const rule = out[0]!.inputs;
      assert.equal(rule.ipProtocol, "tcp");
      assert.equal(rule.toPort, 443);
      if (s.network.interfaceEndpoints.includes("secretsmanager")) {
        assert.equal(rule.referencedSecurityGroupId, ENDPOINT_SG);
        assert.equal(rule.cidrIpv4, undefined);
      } else {
        assert.equal(tier, "dev", "only dev goes without the endpoint");
        assert.equal(rule.cidrIpv4, "0.0.0.0/0", "no endpoint: through the NAT to the public Secrets Manager endpoint");
        assert.equal(rule.referencedSecurityGroupId, undefined);
      }
      const ports = byType(r(), T.egress).filter((x) => x.inputs.securityGroupId === proxySg).map((x) => x.inputs.fromPort).sort();
      assert.deepEqual(ports, [443, 5432], "the proxy reaches Secrets Manager and the database, nothing else");
    });

    it("puts RDS Proxy in front with TLS and IAM auth, sized from the tier", () => {
      assert.equal(s.database.proxyEnabled, true);
      const proxy = one(r(), T.proxy, "db-proxy-proxy").inputs;
      assert.equal(proxy.requireTls, true);
      assert.equal(proxy.engineFamily, "POSTGRESQL");
      assert.equal(proxy.auths.length, 1);
      assert.equal(proxy.auths[0].iamAuth, "REQUIRED");
      assert.equal(proxy.auths[0].secretArn, r().outputs.dbMasterSecretArn, "the proxy logs in with the RDS-managed secret");
      assert.equal(proxy.idleClientTimeout, s.database.proxyIdleClientTimeoutSeconds);
      assert.equal(one(r(), T.proxyPool, "db-proxy-target-group").inputs.connectionPoolConfig.maxConnectionsPercent, s.database.proxyMaxConnectionsPercent);
      const read = parse(one(r(), T.rolePolicy, "db-proxy-secret-read").inputs.policy);
      assert.deepEqual(read.Statement, [{ Sid: "ReadDatabaseSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [r().outputs.dbMasterSecretArn] }]);
    });

    // dev is single-zone by design; every other tier (1k-dau, 10k-dau, 100k-dau) must survive a zone failure.
    if (tier !== "dev") it("keeps the database and Redis across a zone failure", () => {
      assert.equal(one(r(), T.db, "db-instance").inputs.multiAz, true, "RDS Multi-AZ");
      const g = one(r(), T.redis, "redis-group").inputs;
      assert.equal(g.automaticFailoverEnabled, true, "Redis automatic failover");
      assert.equal(g.multiAzEnabled, true, "Redis Multi-AZ");
      assert.ok(g.numCacheClusters >= 2, "a replica to fail over to");
    });

    it("runs Redis encrypted, with AUTH, no cluster mode, noeviction, sized from the tier", () => {
      const g = one(r(), T.redis, "redis-group").inputs;
      assert.equal(g.atRestEncryptionEnabled, true);
      assert.equal(g.transitEncryptionEnabled, true);
      assert.equal(g.transitEncryptionMode, "required");
      const token = secretValue(g.authToken);
      assert.match(token, /^[A-Za-z0-9]{64}$/, "64 letters and digits: none of the characters AUTH forbids");
      assert.equal(g.clusterMode, "disabled");
      assert.equal(g.nodeType, s.redis.nodeType);
      assert.equal(g.numCacheClusters, 1 + s.redis.replicas);
      assert.equal(g.automaticFailoverEnabled, s.redis.multiAz);
      assert.equal(g.multiAzEnabled, s.redis.multiAz);
      assert.equal(g.snapshotRetentionLimit, s.redis.snapshotRetentionDays);
      assert.equal(g.replicationGroupId, `chat-${tier}-redis`);
      const params = one(r(), T.redisParams, "redis-params").inputs.parameters;
      assert.deepEqual(params, [{ name: "maxmemory-policy", value: EVICTION_POLICY }]);
      const secret = one(r(), T.secret, "redis-auth-secret");
      assert.equal(secret.inputs.name, `chat-${tier}-redis-auth-token`);
      assert.equal(secretValue(one(r(), T.secretVersion, "redis-auth-secret-value").inputs.secretString), token, "the secret holds the token Redis uses");
      assert.match(r().outputs.redisAuthSecretArn, /^arn:aws:secretsmanager:.*:secret:chat-.*-redis-auth-token/);
    });

    it("gives each queue an encrypted DLQ: max receive count, 14 days, redrive allowed from its own queue only", () => {
      const queues = byType(r(), T.queue);
      assert.deepEqual(queues.map((q) => q.inputs.name).sort(),
        [`chat-${tier}-offline`, `chat-${tier}-offline-dlq`, `chat-${tier}-push`, `chat-${tier}-push-dlq`]);
      for (const q of queues) assert.equal(q.inputs.sqsManagedSseEnabled, true, `${q.name} encrypted`);
      for (const kind of ["push", "offline"]) {
        const src = one(r(), T.queue, `queues-${kind}`).inputs;
        const dlq = one(r(), T.queue, `queues-${kind}-dlq`).inputs;
        const redrive = parse(src.redrivePolicy);
        assert.equal(redrive.deadLetterTargetArn, r().outputs[`${kind}DlqArn`]);
        assert.equal(redrive.maxReceiveCount, s.queues.maxReceiveCount);
        assert.ok(redrive.maxReceiveCount >= 1);
        assert.equal(dlq.messageRetentionSeconds, 14 * 86_400);
        assert.equal(dlq.redrivePolicy, undefined, "a DLQ has no DLQ of its own");
        assert.equal(src.messageRetentionSeconds, s.queues.messageRetentionDays * 86_400);
        assert.equal(src.visibilityTimeoutSeconds, s.queues.visibilityTimeoutSeconds);
        assert.ok(src.visibilityTimeoutSeconds > s.queues.consumerTimeoutSeconds, "visibility timeout outlasts a job");
        const allow = one(r(), T.allow, `queues-${kind}-dlq-allow`).inputs;
        assert.equal(allow.queueUrl, r().outputs[`${kind}DlqUrl`]);
        assert.deepEqual(parse(allow.redriveAllowPolicy), { redrivePermission: "byQueue", sourceQueueArns: [r().outputs[`${kind}QueueArn`]] });
        for (const role of [kind, `${kind}-dlq`]) {
          const stmt = parse(one(r(), T.queuePolicy, `queues-${role}-tls-only`).inputs.policy).Statement[0];
          assert.equal(stmt.Effect, "Deny");
          assert.deepEqual(stmt.Condition, { Bool: { "aws:SecureTransport": "false" } });
        }
        for (const suffix of ["QueueUrl", "QueueArn", "DlqUrl", "DlqArn"]) assert.ok(r().outputs[`${kind}${suffix}`], `output ${kind}${suffix}`);
      }
    });

    it("keeps the JWT keys in the JWT_KEYS shape, and does not revert a rotation", () => {
      const version = one(r(), T.secretVersion, "secrets-jwt-keys-value");
      const keys = JSON.parse(secretValue(version.inputs.secretString));
      assert.deepEqual(Object.keys(keys), ["current"]);
      assert.equal(keys.current.kid, "k1");
      assert.ok(keys.current.secret.length >= 32);
      assert.deepEqual(version.options.ignoreChanges, ["secretString"]);
      assert.deepEqual(one(r(), T.secretVersion, "secrets-push-gateway-secret-value").options.ignoreChanges, ["secretString"]);
      assert.equal(one(r(), T.secret, "secrets-jwt-keys").inputs.name, `chat-${tier}-jwt-keys`);
    });

    it(tier === "dev" ? "gives no warning about push without a gateway in dev" : "warns that push notifications are off without a gateway", () => {
      assert.deepEqual(r().warnings, tier === "dev" ? [] : [pushDisabledWarning(`chat-${tier}`)]);
    });

    it("wires each service: endpoints as env, secret values only through `secrets`, exactly those ARNs readable", () => {
      const w = r().wiring;
      const out = r().outputs;
      for (const svc of SERVICE_NAMES) {
        const { environment: env, secrets, secretArns } = w[svc]!;
        for (const k of SECRET_ENV) assert.equal(k in env, false, `${svc}: ${k} must not be plain env`);
        assert.equal(env.DB_HOST, out.dbProxyEndpoint);
        assert.deepEqual([env.DB_PORT, env.DB_NAME, env.DB_USER, env.DB_SSL, env.DB_IAM_AUTH], ["5432", "chat", "chat_app", "require", "true"]);
        assert.equal(env.PUSH_QUEUE_URL, undefined, `${svc}: no push gateway, so no push queue`);
        assert.equal(env.OFFLINE_QUEUE_URL, out.offlineQueueUrl);
        for (const v of Object.values(secrets)) assert.match(String(v), /^arn:aws:secretsmanager:/);
        assert.deepEqual([...secretArns].sort(), [...new Set(Object.values(secrets).map((v) => String(v).replace(/:[A-Za-z_]+::$/, "")))].sort());
        // no generated secret value leaked into env
        const generated = generatedSecrets(r());
        for (const [k, v] of Object.entries(env)) assert.ok(!generated.some((g) => g.includes(String(v)) && String(v).length >= 16), `${svc}: ${k} looks like a secret value`);
      }
      for (const svc of ["api", "realtime"] as const) {
        assert.deepEqual(w[svc]!.environment.REDIS_HOST, out.redisPrimaryEndpoint);
        assert.deepEqual([w[svc]!.environment.REDIS_PORT, w[svc]!.environment.REDIS_TLS], ["6379", "true"]);
        assert.deepEqual(w[svc]!.secrets, { REDIS_AUTH_TOKEN: out.redisAuthSecretArn, JWT_KEYS: out.jwtKeysSecretArn });
      }
      assert.deepEqual(w.workers!.secrets, {}, "no push gateway: the workers read no secret (IAM auth through the proxy)");
      assert.deepEqual(w.workers!.secretArns, []);
      assert.equal(w.workers!.environment.PUSH_GATEWAY_URL, undefined);
      assert.equal(w.workers!.environment.REDIS_HOST, undefined, "the workers do not use Redis");
      assert.equal(w.workers!.environment.JOB_TIMEOUT_MS, String(s.queues.consumerTimeoutSeconds * 1000));
      assert.equal(w.workers!.environment.VISIBILITY_TIMEOUT_S, String(s.queues.visibilityTimeoutSeconds));
    });

    it("grants least privilege: api/realtime send, workers consume, all connect through the proxy; no wildcards", () => {
      const w = r().wiring;
      const out = r().outputs;
      const work = [out.offlineQueueArn];
      for (const svc of SERVICE_NAMES) {
        const stmts = w[svc]!.taskPolicyStatements;
        for (const st of stmts) {
          assert.equal(st.Effect, "Allow");
          for (const a of st.Action) assert.ok(!a.includes("*"), `${svc}: wildcard action ${a}`);
          for (const res of st.Resource) assert.notEqual(res, "*", `${svc}: wildcard resource`);
        }
        const connect = stmts.find((st) => st.Action.includes("rds-db:connect"))!;
        assert.deepEqual(connect.Action, ["rds-db:connect"]);
        assert.equal(connect.Resource.length, 1);
        assert.match(String(connect.Resource[0]), /^arn:aws:rds-db:us-east-1:123456789012:dbuser:prx-[a-z0-9]+\/chat_app$/);
        const sqs = stmts.filter((st) => st.Action.some((a) => a.startsWith("sqs:")));
        assert.equal(sqs.length, 1);
        assert.deepEqual(sqs[0]!.Action, svc === "workers" ? CONSUMER_ACTIONS : PRODUCER_ACTIONS);
        assert.deepEqual(sqs[0]!.Resource, work, "the offline queue only: never the DLQs, and no push queue without a gateway");
      }
      assert.deepEqual(CONSUMER_ACTIONS, ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]);
      assert.deepEqual(PRODUCER_ACTIONS, ["sqs:SendMessage"]);
    });

    it("opens only services -> proxy 5432, proxy -> database 5432, api/realtime -> Redis 6379 (+ proxy -> Secrets Manager 443)", () => {
      const ingress = byType(r(), T.ingress).map((x) => x.inputs);
      // The proxy's 443 rule to Secrets Manager is asserted on its own above.
      const egress = byType(r(), T.egress).filter((x) => x.name !== "db-proxy-secretsmanager-out").map((x) => x.inputs);
      assert.equal(byType(r(), T.egress).length, egress.length + 1);
      for (const rule of [...ingress, ...egress]) {
        assert.equal(rule.ipProtocol, "tcp");
        assert.equal(rule.fromPort, rule.toPort, "one port per rule");
        assert.equal(rule.cidrIpv4, undefined, "group references only, no address ranges");
        assert.ok(rule.referencedSecurityGroupId);
      }
      const proxySg = ingressTarget(r(), "api-to-db-proxy-in");
      const redisSg = ingressTarget(r(), "api-to-redis-in");
      const dbSg = ingressTarget(r(), "db-proxy-to-db-in");
      const view = (sg: string) => ingress.filter((x) => x.securityGroupId === sg).map((x) => `${x.referencedSecurityGroupId}:${x.fromPort}`).sort();
      assert.deepEqual(view(proxySg), [`${SERVICE_SG.api}:5432`, `${SERVICE_SG.realtime}:5432`, `${SERVICE_SG.workers}:5432`]);
      assert.deepEqual(view(redisSg), [`${SERVICE_SG.api}:6379`, `${SERVICE_SG.realtime}:6379`]);
      assert.deepEqual(view(dbSg), [`${proxySg}:5432`], "the database admits only the proxy");
      assert.deepEqual(ingress.length, 6);
      assert.deepEqual(egress.length, 6, "each ingress has its matching egress");
      for (const sg of byType(r(), T.sg)) {
        assert.equal(sg.inputs.ingress, undefined, `${sg.name}: no inline rules`);
        assert.equal(sg.inputs.egress, undefined, `${sg.name}: no inline rules`);
      }
    });

    it("describes every group and rule in words EC2 accepts (no `->`; letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*, at most 255)", () => {
      const described = (type: string) => Object.fromEntries(byType(r(), type).map((x) => [x.name, x.inputs.description]));
      const connections = {
        "db-proxy-to-db": "db proxy to postgres",
        "api-to-db-proxy": "api to db proxy",
        "realtime-to-db-proxy": "realtime to db proxy",
        "workers-to-db-proxy": "workers to db proxy",
        "api-to-redis": "api to redis",
        "realtime-to-redis": "realtime to redis",
      };
      const expected = (side: "in" | "out") => Object.fromEntries(Object.entries(connections).map(([k, v]) => [`${k}-${side}`, v]));
      assert.deepEqual(described(T.ingress), expected("in"));
      assert.deepEqual(described(T.egress), {
        ...expected("out"),
        "db-proxy-secretsmanager-out": s.network.interfaceEndpoints.includes("secretsmanager")
          ? "db proxy to Secrets Manager interface endpoint"
          : "db proxy to Secrets Manager through the NAT gateway (no interface endpoint in this VPC)",
      });
      const groups = described(T.sg);
      assert.deepEqual(Object.keys(groups).sort(), ["db-proxy-sg", "db-sg", "redis-sg"]);
      for (const [name, text] of Object.entries({ ...groups, ...described(T.ingress), ...described(T.egress) })) {
        assert.match(String(text), /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]{1,255}$/, `${name}: ${text}`);
      }
    });

    it("exports no secret value", () => {
      const generated = generatedSecrets(r());
      assert.equal(generated.length, 3);
      const text = JSON.stringify(r().outputs);
      for (const g of generated) assert.ok(!text.includes(g), "a generated secret appears in the stack outputs or the service wiring");
      const jwt = JSON.parse(secretValue(one(r(), T.secretVersion, "secrets-jwt-keys-value").inputs.secretString));
      assert.ok(!text.includes(jwt.current.secret), "the JWT signing key appears in the outputs");
    });
  });
}

function ingressTarget(r: SynthResult, name: string): string {
  return one(r, T.ingress, name).inputs.securityGroupId;
}

describe("Connections", () => {
  it("refuses a port outside 1-65535, a description EC2 refuses and a name used twice", async () => {
    const r = await synthesize("dev", {
      program: () => {
        const c = new Connections("test-access");
        assert.throws(() => c.allowTcp("x", { from: "sg-a", to: "sg-b", port: 0, description: "a to b" }),
          { message: "Connections.allowTcp x: port 0 must be a whole number from 1 to 65535" });
        assert.throws(() => c.allowTcp("y", { from: "sg-a", to: "sg-b", port: 5432, description: "a -> b" }), {
          message: 'Connections.allowTcp y: description "a -> b" contains ">"; AWS accepts only letters, digits, spaces and ._-:/()#,@[]+=&;{}!$* (write "a to b" instead of "a -> b")',
        });
        assert.throws(() => c.allowTcp("z", { from: "sg-a", to: "sg-b", port: 5432, description: "x".repeat(256) }), {
          message: "Connections.allowTcp z: description is 256 characters; AWS accepts at most 255",
        });
        c.allowTcp("a-to-b", { from: "sg-a", to: "sg-b", port: 5432, description: "a to b" });
        assert.throws(() => c.allowTcp("a-to-b", { from: "sg-a", to: "sg-c", port: 6379, description: "a to c" }), /a-to-b is already defined/);
        return {};
      },
    });
    const rules = r.resources.filter((x) => x.custom).map((x) => `${x.name}:${x.inputs.securityGroupId}<-${x.inputs.referencedSecurityGroupId}:${x.inputs.fromPort}-${x.inputs.toPort}`);
    assert.deepEqual(rules.sort(), ["a-to-b-in:sg-b<-sg-a:5432-5432", "a-to-b-out:sg-a<-sg-b:5432-5432"]);
  });
});

describe("data tier variants", () => {
  it("with a push gateway: push queue for everyone, gateway URL and secret for the workers, both queues granted, no warning", () => {
    const r = run("1k-gateway");
    const out = r.outputs;
    assert.deepEqual(r.warnings, []);
    for (const svc of SERVICE_NAMES) {
      const w = r.wiring[svc]!;
      assert.equal(w.environment.PUSH_QUEUE_URL, out.pushQueueUrl, svc);
      assert.equal(w.environment.OFFLINE_QUEUE_URL, out.offlineQueueUrl, svc);
      const sqs = w.taskPolicyStatements.filter((st) => st.Action.some((a) => a.startsWith("sqs:")));
      assert.deepEqual(sqs.map((st) => [st.Action, st.Resource]), [[svc === "workers" ? CONSUMER_ACTIONS : PRODUCER_ACTIONS, [out.pushQueueArn, out.offlineQueueArn]]]);
      assert.equal("PUSH_GATEWAY_SECRET" in w.environment, false);
    }
    const workers = r.wiring.workers!;
    assert.equal(workers.environment.PUSH_GATEWAY_URL, GATEWAY);
    assert.deepEqual(workers.secrets, { PUSH_GATEWAY_SECRET: out.pushGatewaySecretArn });
    assert.deepEqual(workers.secretArns, [out.pushGatewaySecretArn]);
    for (const svc of ["api", "realtime"] as const) assert.equal(r.wiring[svc]!.environment.PUSH_GATEWAY_URL, undefined);
    // Turning push on changes wiring only: the same queues, DLQs and secrets exist in both modes.
    const inventory = (x: SynthResult) => x.resources.filter((res) => res.custom).map((res) => `${res.type}::${res.name}`).sort();
    assert.deepEqual(inventory(r), inventory(run("1k-dau")));
  });

  it("restores from a snapshot: engine version, size, key, name and user come from it; safety settings stay", () => {
    const db = one(run("10k-restore"), T.db, "db-instance");
    assert.equal(db.inputs.snapshotIdentifier, "rds:chat-10k-dau-db-2026-01-01-03-00");
    for (const omitted of ["engineVersion", "allocatedStorage", "kmsKeyId", "storageEncrypted", "dbName", "username"]) {
      assert.equal(db.inputs[omitted], undefined, `${omitted} must come from the snapshot`);
    }
    const s = TIERS["10k-dau"].database;
    assert.equal(db.inputs.storageType, "gp3");
    assert.equal(db.inputs.maxAllocatedStorage, s.maxStorageGb);
    assert.equal(db.inputs.multiAz, true);
    assert.equal(db.inputs.manageMasterUserPassword, true);
    assert.equal(db.inputs.deletionProtection, true);
    assert.equal(db.options.protect, true);
    assert.equal(one(run("10k-dau"), T.db, "db-instance").inputs.snapshotIdentifier, undefined);
  });
});

describe("data tier inside the whole platform (10k-dau)", () => {
  let r: SynthResult;
  let withGateway: SynthResult;
  beforeAll(async () => {
    r = await synthesize("10k-dau");
    withGateway = await synthesize("10k-dau", { configOverrides: { "realtime-chat:pushGatewayUrl": GATEWAY } });
  });

  const container = (run: SynthResult, svc: string) => {
    const task = byType(run, "aws:ecs/taskDefinition:TaskDefinition").find((t) => t.inputs.family === `chat-10k-dau-${svc}`);
    assert.ok(task, `task definition of ${svc}`);
    return parse(task.inputs.containerDefinitions).find((c: { name: string }) => c.name === svc);
  };

  it("task definitions carry secret values only as `secrets`, and each execution role reads exactly those", () => {
    for (const run of [r, withGateway]) {
      // the three services and the operators' toolbox (which gets no secret at all: it fetches tokens itself)
      assert.deepEqual(byType(run, "aws:ecs/taskDefinition:TaskDefinition").map((t) => t.name).sort(), ["api-task", "realtime-task", "toolbox-task", "workers-task"]);
      assert.equal(JSON.parse(one(run, "aws:ecs/taskDefinition:TaskDefinition", "toolbox-task").inputs.containerDefinitions)[0].secrets, undefined);
      for (const svc of SERVICE_NAMES) {
        const c = container(run, svc);
        const envNames = (c.environment ?? []).map((e: { name: string }) => e.name);
        for (const name of SECRET_ENV) assert.equal(envNames.includes(name), false, `${svc}: ${name} in plain env`);
        const secretArns = (c.secrets ?? []).map((x: { valueFrom: string }) => x.valueFrom.replace(/:[A-Za-z_]+::$/, ""));
        const policy = parse(one(run, T.rolePolicy, `${svc}-execution-policy`).inputs.policy);
        const read = policy.Statement.filter((st: { Action: string[] }) => st.Action.some((a) => a.startsWith("secretsmanager:")));
        if (svc === "workers" && run === r) {
          // Through the proxy with IAM auth and without a push gateway the workers need no secret at all.
          assert.deepEqual([secretArns, read], [[], []], "workers without a push gateway read no secret");
          continue;
        }
        assert.ok(secretArns.length > 0, `${svc} gets its secrets`);
        assert.equal(read.length, 1);
        assert.deepEqual(read[0].Action, ["secretsmanager:GetSecretValue"]);
        assert.deepEqual([...read[0].Resource].sort(), [...new Set(secretArns)].sort(), `${svc}: the execution role reads exactly its secrets`);
      }
    }
  });

  it("passes the push settings to the containers only when a push gateway is configured", () => {
    const names = (c: { environment?: { name: string }[]; secrets?: { name: string }[] }) =>
      [...(c.environment ?? []), ...(c.secrets ?? [])].map((e) => e.name).filter((n) => n.startsWith("PUSH_") || n === "OFFLINE_QUEUE_URL").sort();
    for (const svc of ["api", "realtime"]) {
      assert.deepEqual(names(container(r, svc)), ["OFFLINE_QUEUE_URL"], svc);
      assert.deepEqual(names(container(withGateway, svc)), ["OFFLINE_QUEUE_URL", "PUSH_QUEUE_URL"], svc);
    }
    assert.deepEqual(names(container(r, "workers")), ["OFFLINE_QUEUE_URL"]);
    assert.deepEqual(names(container(withGateway, "workers")), ["OFFLINE_QUEUE_URL", "PUSH_GATEWAY_SECRET", "PUSH_GATEWAY_URL", "PUSH_QUEUE_URL"]);
    const gatewayEnv = container(withGateway, "workers").environment.find((e: { name: string }) => e.name === "PUSH_GATEWAY_URL");
    assert.equal(gatewayEnv.value, GATEWAY);
    assert.ok(r.warnings.includes(pushDisabledWarning("chat-10k-dau")), "the whole program warns once push is off");
    assert.equal(withGateway.warnings.some((w) => w.includes("pushGatewayUrl")), false);
  });

  it("connects the real service security groups to the proxy and Redis", () => {
    const serviceSgs = new Set(byType(r, T.ingress).filter((x) => /^(api|realtime|workers)-to-/.test(x.name)).map((x) => x.inputs.referencedSecurityGroupId));
    assert.equal(serviceSgs.size, 3, "one security group per service");
    assert.deepEqual(byType(r, T.ingress).filter((x) => x.name.endsWith("-to-redis-in")).map((x) => x.name).sort(), ["api-to-redis-in", "realtime-to-redis-in", "toolbox-to-redis-in"]);
    assert.deepEqual(byType(r, T.ingress).filter((x) => x.name.endsWith("-to-db-proxy-in")).map((x) => x.name).sort(),
      ["api-to-db-proxy-in", "realtime-to-db-proxy-in", "toolbox-to-db-proxy-in", "workers-to-db-proxy-in"]);
  });
});
