/**
 * Difference between two plan documents (`base` -> `head`): added, removed and changed resources with
 * property-level changes, replacements, dangerous changes and the cost delta.
 *
 * Resources match on `type::name` (the URN's last part). A change to a property listed in
 * `REPLACE_ON_CHANGE` for the type forces replacement (the provider deletes and recreates the resource).
 * A replacement or removal of a type in `STATEFUL_TYPES` (databases, Redis, queues, backup vaults, KMS keys...)
 * is marked dangerous: data is lost or must be restored.
 */
import type { Violation } from "../policy/rules";
import type { PlanDocument, PlanResource } from "./model";

/** Input paths (top-level names, or `name.sub` prefixes) whose change replaces the resource, by type. */
export const REPLACE_ON_CHANGE: Record<string, string[]> = {
  "aws:rds/instance:Instance": ["identifier", "identifierPrefix", "engine", "dbName", "username", "storageEncrypted", "kmsKeyId", "availabilityZone", "snapshotIdentifier", "characterSetName", "timezone", "restoreToPointInTime", "s3Import", "replicateSourceDb", "customIamInstanceProfile"],
  "aws:rds/cluster:Cluster": ["clusterIdentifier", "engine", "databaseName", "masterUsername", "storageEncrypted", "kmsKeyId", "availabilityZones", "snapshotIdentifier"],
  "aws:rds/proxy:Proxy": ["name", "engineFamily", "vpcSubnetIds"],
  "aws:elasticache/replicationGroup:ReplicationGroup": ["replicationGroupId", "atRestEncryptionEnabled", "kmsKeyId", "subnetGroupName", "snapshotArns", "snapshotName", "dataTieringEnabled", "preferredCacheClusterAzs", "port"],
  "aws:sqs/queue:Queue": ["name", "namePrefix", "fifoQueue"],
  "aws:backup/vault:Vault": ["name", "kmsKeyArn"],
  "aws:kms/key:Key": ["customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId", "customKeyStoreId"],
  "aws:secretsmanager/secret:Secret": ["name", "namePrefix"],
  "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix", "objectLockEnabled"],
  "aws:s3/bucketV2:BucketV2": ["bucket", "bucketPrefix", "objectLockEnabled"],
  "aws:cloudwatch/logGroup:LogGroup": ["name", "namePrefix", "logGroupClass"],
  "aws:ec2/vpc:Vpc": ["cidrBlock", "instanceTenancy"],
  "aws:ec2/subnet:Subnet": ["vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"],
  "aws:ec2/securityGroup:SecurityGroup": ["name", "namePrefix", "description", "vpcId"],
  "aws:lb/loadBalancer:LoadBalancer": ["name", "namePrefix", "internal", "loadBalancerType"],
  "aws:lb/targetGroup:TargetGroup": ["name", "namePrefix", "port", "protocol", "protocolVersion", "vpcId", "targetType"],
  "aws:ecs/cluster:Cluster": ["name"],
  "aws:ecs/service:Service": ["name", "cluster", "launchType", "schedulingStrategy"],
  "aws:ecs/taskDefinition:TaskDefinition": ["family", "containerDefinitions", "cpu", "memory", "taskRoleArn", "executionRoleArn", "networkMode", "requiresCompatibilities", "runtimePlatform", "volumes", "ephemeralStorage"],
  "aws:ecr/repository:Repository": ["name", "encryptionConfigurations"],
  "aws:wafv2/webAcl:WebAcl": ["name", "scope"],
  "aws:iam/role:Role": ["name", "namePrefix", "path"],
  "aws:sns/topic:Topic": ["name", "namePrefix", "fifoTopic"],
};

/** Types whose replacement or removal loses data. */
export const STATEFUL_TYPES = new Set([
  "aws:rds/instance:Instance",
  "aws:rds/cluster:Cluster",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:sqs/queue:Queue",
  "aws:backup/vault:Vault",
  "aws:kms/key:Key",
  "aws:secretsmanager/secret:Secret",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
]);

export interface PropertyChange {
  path: string;
  before: unknown;
  after: unknown;
  /** The change forces replacement. */
  replaces: boolean;
}

export interface ResourceChange {
  key: string;
  type: string;
  name: string;
  component: string;
  kind: "add" | "remove" | "update" | "replace";
  changes: PropertyChange[];
  stateful: boolean;
  /** Replacement or removal of a stateful resource. */
  dangerous: boolean;
}

export interface PlanDiff {
  base: { stack: string; label: string };
  head: { stack: string; label: string };
  added: ResourceChange[];
  removed: ResourceChange[];
  changed: ResourceChange[];
  dangerous: ResourceChange[];
  cost: { beforeUsd: number; afterUsd: number; deltaUsd: number; byType: Record<string, number> };
  policy: { introduced: Violation[]; resolved: Violation[] };
}

const keyOf = (r: { type: string; name: string }) => `${r.type}::${r.name}`;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** Leaves of a value as `path -> value`; JSON strings holding objects or arrays are opened. */
export function flatten(value: unknown, path = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (typeof value === "string" && /^\s*[[{]/.test(value)) {
    try {
      return flatten(JSON.parse(value), path, out);
    } catch {
      /* not JSON: a leaf */
    }
  }
  if (Array.isArray(value)) {
    if (value.length === 0) out[path] = [];
    value.forEach((v, i) => flatten(v, `${path}[${i}]`, out));
  } else if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) out[path] = {};
    for (const [k, v] of entries) flatten(v, path ? `${path}.${k}` : k, out);
  } else if (value !== undefined) {
    out[path] = value;
  }
  return out;
}

const topName = (path: string) => path.split(/[.[]/)[0] ?? path;

function compare(type: string, before: PlanResource, after: PlanResource): PropertyChange[] {
  const a = flatten(before.inputs);
  const b = flatten(after.inputs);
  const replaceOn = new Set(REPLACE_ON_CHANGE[type] ?? []);
  const paths = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: PropertyChange[] = [];
  for (const p of paths) {
    if (JSON.stringify(a[p]) === JSON.stringify(b[p])) continue;
    out.push({ path: p, before: a[p], after: b[p], replaces: replaceOn.has(topName(p)) });
  }
  return out;
}

const violationKey = (v: Violation) => `${v.policy}|${v.resource}|${v.message}`;

export function diffPlans(base: PlanDocument, head: PlanDocument, labels: { base: string; head: string }): PlanDiff {
  const before = new Map(base.resources.filter((r) => r.custom).map((r) => [keyOf(r), r]));
  const after = new Map(head.resources.filter((r) => r.custom).map((r) => [keyOf(r), r]));
  const added: ResourceChange[] = [];
  const removed: ResourceChange[] = [];
  const changed: ResourceChange[] = [];
  const stateful = (t: string) => STATEFUL_TYPES.has(t);

  for (const [k, r] of after) {
    const old = before.get(k);
    if (!old) {
      added.push({ key: k, type: r.type, name: r.name, component: r.component, kind: "add", changes: [], stateful: stateful(r.type), dangerous: false });
      continue;
    }
    const changes = compare(r.type, old, r);
    if (changes.length === 0) continue;
    const replace = changes.some((c) => c.replaces);
    changed.push({ key: k, type: r.type, name: r.name, component: r.component, kind: replace ? "replace" : "update", changes, stateful: stateful(r.type), dangerous: replace && stateful(r.type) });
  }
  for (const [k, r] of before) {
    if (after.has(k)) continue;
    removed.push({ key: k, type: r.type, name: r.name, component: r.component, kind: "remove", changes: [], stateful: stateful(r.type), dangerous: stateful(r.type) });
  }

  const types = new Set([...Object.keys(base.cost.byType), ...Object.keys(head.cost.byType)]);
  const byType: Record<string, number> = {};
  for (const t of types) {
    const d = round2((head.cost.byType[t] ?? 0) - (base.cost.byType[t] ?? 0));
    if (d !== 0) byType[t] = d;
  }
  const baseV = new Set(base.policy.violations.map(violationKey));
  const headV = new Set(head.policy.violations.map(violationKey));

  return {
    base: { stack: base.stack, label: labels.base },
    head: { stack: head.stack, label: labels.head },
    added,
    removed,
    changed,
    dangerous: [...changed, ...removed].filter((c) => c.dangerous),
    cost: { beforeUsd: base.cost.monthlyUsd, afterUsd: head.cost.monthlyUsd, deltaUsd: round2(head.cost.monthlyUsd - base.cost.monthlyUsd), byType },
    policy: {
      introduced: head.policy.violations.filter((v) => !baseV.has(violationKey(v))),
      resolved: base.policy.violations.filter((v) => !headV.has(violationKey(v))),
    },
  };
}
