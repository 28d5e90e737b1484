/**
 * What a real `pulumi up` / `pulumi destroy` needs that the mock runtime would not notice: DR stacks that can be
 * drilled, retired and drilled again (generation in the names that outlive a destroy), stateful resources
 * protected and kept, fixed physical names replaced delete-first, alarm subscriptions, RDS timeouts, the proxy
 * target before the services, the DR-region provider's settings, and dev's max_connections formula.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { byType, one, REPO_ROOT, synthesize } from "./synth";
import type { SynthResource, SynthResult } from "./synth";
import { SERVICE_NAMES } from "./catalogue";
import { DATABASE_TIMEOUTS } from "./components/database";
import { RDS_MAX_CONNECTIONS_FORMULA } from "./components/postgres-limits";
import { AWS_BACKUP_JOB_METRICS } from "./components/aws-limits";
import { RECONNECT_STORM, socketIoStormLimit, TIERS } from "./config/tiers";

const T = {
  secret: "aws:secretsmanager/secret:Secret",
  vault: "aws:backup/vault:Vault",
  lock: "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
  key: "aws:kms/key:Key",
  db: "aws:rds/instance:Instance",
  redis: "aws:elasticache/replicationGroup:ReplicationGroup",
  queue: "aws:sqs/queue:Queue",
  service: "aws:ecs/service:Service",
  repo: "aws:ecr/repository:Repository",
  bucket: "aws:s3/bucket:Bucket",
  provider: "pulumi:providers:aws",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  sub: "aws:sns/topicSubscription:TopicSubscription",
};

/** Every physical name a stack gives AWS (names, identifiers, final snapshot names), as `<type>:<name>`. */
function physicalNames(run: SynthResult): Set<string> {
  const out = new Set<string>();
  for (const r of run.resources) {
    for (const k of ["name", "identifier", "replicationGroupId", "finalSnapshotIdentifier", "backupVaultName"]) {
      const v = r.inputs[k];
      if (typeof v === "string" && v !== "<unknown>") out.add(`${kind(r, k)}:${v}`);
    }
  }
  return out;
}

/** Namespace of a name: snapshots of RDS and ElastiCache share none with the resources themselves. */
function kind(r: SynthResource, key: string): string {
  if (key === "finalSnapshotIdentifier") return `${r.type}#snapshot`;
  if (key === "backupVaultName") return T.vault;
  return r.type;
}

/**
 * Names that still exist in the account after `pulumi destroy` of a stack: secrets in their recovery window,
 * everything kept on delete (database, vaults, keys), the final snapshots RDS and ElastiCache take on delete.
 */
function survivors(run: SynthResult): Set<string> {
  const out = new Set<string>();
  for (const r of run.resources) {
    if (r.type === T.secret && Number(r.inputs.recoveryWindowInDays ?? 30) > 0) out.add(`${T.secret}:${r.inputs.name}`);
    // a kept record that allows overwrite (the DR stack's site alias) is taken over by the next generation
    if (r.options.retainOnDelete && r.inputs.allowOverwrite !== true) {
      for (const k of ["name", "identifier"]) if (typeof r.inputs[k] === "string") out.add(`${r.type}:${r.inputs[k]}`);
    }
    if (r.type === T.db && r.inputs.skipFinalSnapshot === false) out.add(`${T.db}#snapshot:${r.inputs.finalSnapshotIdentifier}`);
    if (r.type === T.redis && r.inputs.finalSnapshotIdentifier) out.add(`${T.redis}#snapshot:${r.inputs.finalSnapshotIdentifier}`);
  }
  return out;
}

/** A provider's inputs: structured values arrive JSON-encoded (the provider protocol), parsed back here. */
function providerInputs(r: SynthResource): Record<string, any> {
  return Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, typeof v === "string" && /^[[{]/.test(v) ? JSON.parse(v) : v]));
}

const runs = new Map<string, SynthResult>();
beforeAll(async () => {
  runs.set("dev", await synthesize("dev"));
  runs.set("10k-dau", await synthesize("10k-dau"));
  runs.set("dr-g1", await synthesize("10k-dau-dr"));
  runs.set("dr-g2", await synthesize("10k-dau-dr", { configOverrides: { "realtime-chat:drGeneration": 2 } }));
});
const run = (k: string) => runs.get(k)!;

describe("DR stack: drill, retire, drill again", () => {
  it("the shipped DR stack is generation 1 and names its durable resources with it", () => {
    const dr = run("dr-g1");
    assert.equal(one(dr, T.db, "db-instance").inputs.identifier, "chat-10k-dau-dr-g1-db");
    assert.equal(one(dr, T.db, "db-instance").inputs.finalSnapshotIdentifier, "chat-10k-dau-dr-g1-db-final");
    assert.deepEqual(byType(dr, T.secret).map((s) => s.inputs.name).sort(),
      ["chat-10k-dau-dr-g1-jwt-keys", "chat-10k-dau-dr-g1-push-gateway-secret", "chat-10k-dau-dr-g1-redis-auth-token"]);
    assert.deepEqual(byType(dr, T.vault).map((v) => v.inputs.name).sort(), ["chat-10k-dau-dr-g1-backup", "chat-10k-dau-dr-g1-backup-dr"]);
    assert.equal(one(dr, T.redis, "redis-group").inputs.finalSnapshotIdentifier, "chat-10k-dau-dr-g1-redis-final");
    // names operators type keep the contract pattern (runbook): alarms, services, queues, log groups
    assert.equal(one(dr, T.service, "api-service").inputs.name, "chat-10k-dau-dr-api");
    assert.equal(dr.outputs.backupVaultName, "chat-10k-dau-dr-g1-backup");
    assert.ok(byType(dr, T.alarm).some((a) => a.inputs.dimensions?.BackupVaultName === "chat-10k-dau-dr-g1-backup"), "backup alarms watch the generation's vault");
  });

  it("after retiring generation 1, generation 2 meets none of the names it left behind", () => {
    const left = survivors(run("dr-g1"));
    // what a retired drill really leaves: the secrets in their window, the kept database, vaults and final snapshots
    for (const name of [`${T.secret}:chat-10k-dau-dr-g1-jwt-keys`, `${T.db}:chat-10k-dau-dr-g1-db`, `${T.vault}:chat-10k-dau-dr-g1-backup-dr`,
      `${T.db}#snapshot:chat-10k-dau-dr-g1-db-final`, `${T.redis}#snapshot:chat-10k-dau-dr-g1-redis-final`]) {
      assert.ok(left.has(name), `${name} survives a destroy`);
    }
    const next = physicalNames(run("dr-g2"));
    const collisions = [...left].filter((n) => next.has(n));
    assert.deepEqual(collisions, [], "generation 2 would fail at pulumi up on these");
    // and the drill after that (generation 3) is clear of both
    assert.deepEqual([...survivors(run("dr-g2"))].filter((n) => left.has(n)), []);
  });

  it("retirement can complete: nothing AWS refuses to delete is left for pulumi destroy to delete", () => {
    const dr = run("dr-g1");
    for (const lock of byType(dr, T.lock)) assert.equal(lock.options.retainOnDelete, true, `${lock.name}: a compliance lock cannot be removed`);
    for (const v of byType(dr, T.vault)) assert.equal(v.options.retainOnDelete, true, `${v.name}: a vault with recovery points cannot be deleted`);
    assert.equal(one(dr, T.db, "db-instance").options.retainOnDelete, true, "the database is deleted by hand first (docs/DR.md)");
    for (const r of byType(dr, T.repo)) assert.equal(r.inputs.forceDelete, true, `${r.name}: repositories holding images`);
    for (const b of byType(dr, T.bucket)) assert.equal(b.inputs.forceDestroy, true, `${b.name}: the access log bucket`);
    const doc = readFileSync(join(REPO_ROOT, "docs", "DR.md"), "utf8");
    for (const step of ["pulumi state unprotect --all", "deletion_protection.enabled,Value=false",
      "aws rds delete-db-instance", "--final-db-snapshot-identifier chat-10k-dau-dr-g$G-db-final", "pulumi config set realtime-chat:drGeneration $((G + 1))"]) {
      assert.ok(doc.includes(step), `docs/DR.md retirement names: ${step}`);
    }
  });

  it("a primary stack carries no generation", () => {
    assert.equal(one(run("10k-dau"), T.db, "db-instance").inputs.identifier, "chat-10k-dau-db");
    assert.ok(byType(run("10k-dau"), T.secret).every((s) => !/-g\d+-/.test(s.inputs.name)));
  });
});

describe("stateful and fixed-name resources", () => {
  it("outside dev: Redis protected with a final snapshot; vaults and their KMS keys protected and kept", () => {
    const p = run("10k-dau");
    const redis = one(p, T.redis, "redis-group");
    assert.equal(redis.options.protect, true);
    assert.equal(redis.inputs.finalSnapshotIdentifier, "chat-10k-dau-redis-final");
    const vaults = byType(p, T.vault);
    assert.equal(vaults.length, 2);
    for (const v of vaults) {
      assert.deepEqual([v.options.protect, v.options.retainOnDelete, v.inputs.forceDestroy], [true, true, false], v.name);
    }
    for (const k of ["backup-vault-key", "backup-dr-key"]) {
      const key = one(p, T.key, k);
      assert.deepEqual([key.options.protect, key.options.retainOnDelete], [true, true], `${k}: it decrypts the recovery points (and a DR restore)`);
    }
  });

  it("dev: nothing protected, vaults force-destroyed so `pulumi destroy -s dev` completes", () => {
    const d = run("dev");
    const redis = one(d, T.redis, "redis-group");
    assert.equal(redis.options.protect, false);
    assert.equal(redis.inputs.finalSnapshotIdentifier, undefined);
    for (const v of byType(d, T.vault)) assert.deepEqual([v.options.protect, v.options.retainOnDelete, v.inputs.forceDestroy], [false, false, true]);
    assert.equal(one(d, T.key, "backup-vault-key").options.retainOnDelete, false);
  });

  it("fixed physical names are replaced delete-first: queues, target groups, ECS services", () => {
    for (const stack of ["dev", "10k-dau"]) {
      const r = run(stack);
      const fixed = [...byType(r, T.queue), ...byType(r, "aws:lb/targetGroup:TargetGroup"), ...byType(r, T.service)];
      assert.ok(fixed.length >= 8);
      for (const x of fixed) {
        assert.equal(typeof x.inputs.name, "string", `${x.name} has a fixed name`);
        assert.equal(x.options.deleteBeforeReplace, true, `${stack} ${x.type} ${x.name}: a second one with the same name cannot be created`);
      }
    }
  });
});

describe("alarms reach someone", () => {
  it("production stacks subscribe the critical topic (example e-mail in tests and plans); an https endpoint subscribes too", async () => {
    const p = run("10k-dau");
    const subs = byType(p, T.sub);
    assert.deepEqual(subs.map((s) => [s.inputs.protocol, s.inputs.endpoint]), [["email", "oncall@example.com"]]);
    assert.equal(subs[0]!.inputs.topic, p.outputs.alarmTopicArn);
    const both = await synthesize("1k-dau", { configOverrides: { "realtime-chat:alarmHttpsEndpoint": "https://events.pager.example.com/integration/abc/enqueue" } });
    const https = one(both, T.sub, "alarms-https");
    assert.deepEqual([https.inputs.protocol, https.inputs.endpoint, https.inputs.endpointAutoConfirms, https.inputs.topic],
      ["https", "https://events.pager.example.com/integration/abc/enqueue", true, both.outputs.alarmTopicArn]);
  });
});

describe("smaller deploy items", () => {
  it("RDS waits long enough for a DR restore (docs/DR.md step 3) before timing out", () => {
    const doc = readFileSync(join(REPO_ROOT, "docs", "DR.md"), "utf8");
    const m = /\| 3 \| `pulumi up` the DR stack[^|]*\| (\d+)-(\d+) min/.exec(doc);
    assert.ok(m, "docs/DR.md keeps the restore estimate in its step table");
    const minutes = (d: string) => Number(/^(\d+)m$/.exec(d)![1]);
    const estimate = Number(m![2]);
    for (const stack of ["10k-dau", "dr-g1", "dev"]) {
      const db = one(run(stack), T.db, "db-instance");
      assert.deepEqual(db.options.customTimeouts, DATABASE_TIMEOUTS);
      // the 100k-dau database restores slower: at least four times the 10k-dau estimate
      assert.ok(minutes(db.options.customTimeouts.create!) >= 4 * estimate, `${stack}: create timeout covers the restore`);
      assert.ok(minutes(db.options.customTimeouts.update!) >= 4 * estimate, `${stack}: update timeout`);
    }
  });

  it("services start only after the RDS Proxy target is registered", () => {
    for (const stack of ["dev", "10k-dau"]) {
      const r = run(stack);
      const target = one(r, "aws:rds/proxyTarget:ProxyTarget", "db-proxy-target");
      for (const svc of SERVICE_NAMES) {
        assert.ok(one(r, T.service, `${svc}-service`).options.dependsOn.includes(target.urn), `${stack} ${svc}`);
      }
    }
  });

  it("the DR-region provider carries the stack's aws: settings (profile, assumed role, allowed accounts, default tags)", async () => {
    const aws = {
      "aws:profile": "chat-prod",
      "aws:assumeRoles": [{ roleArn: "arn:aws:iam::123456789012:role/deployer", sessionName: "pulumi" }],
      "aws:allowedAccountIds": ["123456789012"],
      "aws:defaultTags": { tags: { Project: "chat", Stack: "10k-dau" } },
    };
    const r = await synthesize("10k-dau", { configOverrides: aws });
    const provider = { inputs: providerInputs(one(r, T.provider, "backup-dr-region")) };
    expect(provider.inputs).toMatchObject({
      region: "us-west-2",
      profile: "chat-prod",
      allowedAccountIds: ["123456789012"],
      defaultTags: { tags: { Project: "chat", Stack: "10k-dau" } },
    });
    expect(provider.inputs.assumeRoles).toEqual([{ roleArn: "arn:aws:iam::123456789012:role/deployer", sessionName: "pulumi" }]);
    // the legacy single-role key is carried as the list
    const legacy = await synthesize("10k-dau", { configOverrides: { "aws:assumeRole": { roleArn: "arn:aws:iam::123456789012:role/old" } } });
    expect(providerInputs(one(legacy, T.provider, "backup-dr-region")).assumeRoles).toEqual([{ roleArn: "arn:aws:iam::123456789012:role/old" }]);
    // without aws: settings the provider gets only its region (as before)
    expect(Object.keys(providerInputs(one(run("10k-dau"), T.provider, "backup-dr-region"))).filter((k) => !k.startsWith("skip"))).toEqual(["region"]);
  });

  it("dev's max_connections is RDS's own formula; larger tiers keep the number the alarms divide by", () => {
    const param = (stack: string) => one(run(stack), "aws:rds/parameterGroup:ParameterGroup", "db-params").inputs.parameters
      .find((p: any) => p.name === "max_connections");
    assert.equal(param("dev").value, "LEAST({DBInstanceClassMemory/9531392},5000)");
    assert.equal(param("dev").value, RDS_MAX_CONNECTIONS_FORMULA);
    assert.match(param("10k-dau").value, /^\d+$/);
  });

  it("backup alarms watch metrics and dimensions AWS Backup publishes", () => {
    for (const stack of ["10k-dau", "dr-g1"]) {
      const backupAlarms = byType(run(stack), T.alarm).filter((a) => a.inputs.namespace === "AWS/Backup");
      assert.equal(backupAlarms.length, 2, "backup and copy job failures");
      for (const a of backupAlarms) {
        const sets = AWS_BACKUP_JOB_METRICS[a.inputs.metricName];
        assert.ok(sets, `${a.inputs.metricName} is an AWS/Backup metric`);
        assert.ok(sets!.some((d) => JSON.stringify([...d].sort()) === JSON.stringify(Object.keys(a.inputs.dimensions).sort())),
          `${a.inputs.name}: dimensions ${Object.keys(a.inputs.dimensions)} are a documented set`);
        assert.equal(a.inputs.dimensions.BackupVaultName, run(stack).outputs.backupVaultName, "the source vault, where the plan's jobs run");
      }
    }
  });

  it("the /socket.io/ limit survives a reconnect storm of users behind one NAT; the site-wide limit sits above it", () => {
    const r = RECONNECT_STORM;
    expect(socketIoStormLimit(250)).toBe(Math.ceil(250 * (r.reconnectsPerDeploy * r.requestsPerReconnect + r.pollingShare * r.pollingRequestsPerWindow)));
    expect(socketIoStormLimit(250)).toBe(3600);
    const users: Record<string, number> = { dev: 250, "1k-dau": 250, "10k-dau": 500, "100k-dau": 1000 };
    for (const [tier, n] of Object.entries(users)) {
      const w = TIERS[tier as keyof typeof TIERS].waf;
      expect([tier, w.socketIoRateLimit]).toEqual([tier, socketIoStormLimit(n)]);
      // one storm of n users: n x 3 reconnects x 4 requests must pass
      expect(w.socketIoRateLimit).toBeGreaterThanOrEqual(n * 3 * 4);
      expect(w.generalRateLimit).toBeGreaterThan(w.socketIoRateLimit);
    }
  });
});
