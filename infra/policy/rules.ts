/**
 * Policy rules for this architecture, as pure functions over a resource's type and inputs.
 *
 * The same rules run in three places: the offline plan (`infra/plan/`), the tests (`rules.test.ts`, one
 * passing and one failing case per rule; `infra/plan/stacks.test.ts`, every shipped stack), and the
 * `@pulumi/policy` pack (`infra/policy/pack/`) for `pulumi preview --policy-pack`.
 *
 * - `RESOURCE_RULES` look at one resource: `check(resource, ctx)` returns the violation messages.
 * - `STACK_RULES` need several resources (WAF on the ALB, a DLQ alarm per DLQ, subnets by tier):
 *   `check(resources, ctx)` returns `{ resource, message }` pairs.
 * Severity: advisory for the dev tier, mandatory for every other tier (`severityFor`). Rules marked
 * `productionOnly` (deletion protection, Multi-AZ, final snapshots, backups) are not checked for dev;
 * rules marked `advisoryOnly` never block.
 *
 * Values not known yet (a preview, computed attributes) are `undefined` or the harness's `<unknown>`
 * marker; rules never report a violation on a value they cannot see.
 */

export interface PolicyResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** Provider id when known (the plan computes it from the mocks; the pack reads it from the engine). */
  id?: string;
  /** ARN when known. */
  arn?: string;
  /**
   * Outputs when known and not among the inputs: the plan fills them for awsx's remote Vpc from the mocks
   * (its subnet ids); the policy pack's `props` already carry a component's outputs.
   */
  outputs?: Record<string, any>;
}

export type Severity = "advisory" | "mandatory";

export interface RuleContext {
  /** Tier of the stack (`dev`, `1k-dau`...); `dev` makes every rule advisory. */
  tier: string;
}

interface RuleMeta {
  /** Kebab-case policy name, the same in the plan and in the pack. */
  name: string;
  description: string;
  /** Not checked for the dev tier. */
  productionOnly?: boolean;
  /** Reported as advisory on every tier. */
  advisoryOnly?: boolean;
}

export interface ResourceRule extends RuleMeta {
  /** Resource types checked. */
  types: string[];
  check(resource: PolicyResource, ctx: RuleContext): string[];
}

export interface StackFinding {
  /** `type::name` of the resource at fault. */
  resource: string;
  message: string;
}

export interface StackRule extends RuleMeta {
  check(resources: PolicyResource[], ctx: RuleContext): StackFinding[];
}

export interface Violation {
  policy: string;
  severity: Severity;
  /** `type::name`. */
  resource: string;
  message: string;
}

export const DEV_TIERS = new Set(["dev"]);

export function severityFor(rule: RuleMeta, tier: string): Severity {
  return rule.advisoryOnly || DEV_TIERS.has(tier) ? "advisory" : "mandatory";
}

// ---- value helpers ----------------------------------------------------------------------------------

const UNKNOWN_MARKER = "<unknown>";

/** True when the value cannot be judged yet. */
export function unknown(v: unknown): boolean {
  return v === undefined || v === UNKNOWN_MARKER;
}

/** A value is "false" only when it is known and not true. */
const isFalse = (v: unknown) => !unknown(v) && v !== true;

/** Parses a JSON string input (policies, container definitions); objects pass through. */
export function jsonValue(v: unknown): any {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

const asArray = <T>(v: T | T[] | undefined | null): T[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

export const key = (r: { type: string; name: string }) => `${r.type}::${r.name}`;

const T = {
  rds: "aws:rds/instance:Instance",
  rdsCluster: "aws:rds/cluster:Cluster",
  rdsParams: "aws:rds/parameterGroup:ParameterGroup",
  proxy: "aws:rds/proxy:Proxy",
  redis: "aws:elasticache/replicationGroup:ReplicationGroup",
  queue: "aws:sqs/queue:Queue",
  redrive: "aws:sqs/redrivePolicy:RedrivePolicy",
  topic: "aws:sns/topic:Topic",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  service: "aws:ecs/service:Service",
  taskDef: "aws:ecs/taskDefinition:TaskDefinition",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  lb: "aws:lb/loadBalancer:LoadBalancer",
  listener: "aws:lb/listener:Listener",
  webAcl: "aws:wafv2/webAcl:WebAcl",
  webAclAssoc: "aws:wafv2/webAclAssociation:WebAclAssociation",
  subnet: "aws:ec2/subnet:Subnet",
  awsxVpc: "awsx:ec2:Vpc",
  rdsSubnets: "aws:rds/subnetGroup:SubnetGroup",
  cacheSubnets: "aws:elasticache/subnetGroup:SubnetGroup",
  backupVault: "aws:backup/vault:Vault",
  backupSelection: "aws:backup/selection:Selection",
  lambda: "aws:lambda/function:Function",
} as const;

export const RESOURCE_TYPES = T;

// ---- resource rules ---------------------------------------------------------------------------------

const encryptionAtRest: ResourceRule = {
  name: "encryption-at-rest",
  description: "Databases, caches, queues and topics encrypt their data at rest.",
  types: [T.rds, T.rdsCluster, T.redis, T.queue, T.topic],
  check({ type, inputs: i }) {
    switch (type) {
      case T.rds:
      case T.rdsCluster:
        // a restore from a snapshot inherits the snapshot's encryption
        if (!unknown(i.snapshotIdentifier)) return [];
        return isFalse(i.storageEncrypted) || i.storageEncrypted === undefined ? ["storageEncrypted must be true"] : [];
      case T.redis:
        return i.atRestEncryptionEnabled === true ? [] : ["atRestEncryptionEnabled must be true"];
      case T.queue:
        return i.sqsManagedSseEnabled === true || !unknown(i.kmsMasterKeyId) ? [] : ["set sqsManagedSseEnabled: true or a kmsMasterKeyId"];
      case T.topic:
        return unknown(i.kmsMasterKeyId) && i.kmsMasterKeyId !== UNKNOWN_MARKER ? ["set kmsMasterKeyId (SNS topics are not encrypted by default)"] : [];
    }
    return [];
  },
};

const tlsToDatabase: ResourceRule = {
  name: "database-requires-tls",
  description: "RDS Proxy requires TLS and PostgreSQL parameter groups set rds.force_ssl = 1.",
  types: [T.proxy, T.rdsParams],
  check({ type, inputs: i }) {
    if (type === T.proxy) return i.requireTls === true ? [] : ["requireTls must be true"];
    if (typeof i.family === "string" && !i.family.startsWith("postgres")) return [];
    const force = asArray<any>(i.parameters).find((p) => p?.name === "rds.force_ssl");
    return force && String(force.value) === "1" ? [] : ["set the parameter rds.force_ssl = 1 (refuse connections without TLS)"];
  },
};

const redisTransitAndAuth: ResourceRule = {
  name: "redis-tls-and-auth",
  description: "ElastiCache Redis requires in-transit encryption and authentication (AUTH token or RBAC user group).",
  types: [T.redis],
  check({ inputs: i }) {
    const out: string[] = [];
    if (i.transitEncryptionEnabled !== true) out.push("transitEncryptionEnabled must be true");
    else if (i.transitEncryptionMode === "preferred") out.push('transitEncryptionMode must be "required" (preferred still accepts plain text)');
    if (unknown(i.authToken) && i.authToken !== UNKNOWN_MARKER && asArray(i.userGroupIds).length === 0) out.push("set an authToken or userGroupIds");
    return out;
  },
};

const privatePlacement: ResourceRule = {
  name: "private-placement",
  description: "Tasks get no public IP and databases are not publicly accessible.",
  types: [T.service, T.rds],
  check({ type, inputs: i }) {
    if (type === T.service) return i.networkConfiguration?.assignPublicIp === true ? ["networkConfiguration.assignPublicIp must be false"] : [];
    return i.publiclyAccessible === true ? ["publiclyAccessible must be false"] : [];
  },
};

/**
 * awsx's Vpc builds its subnets, routes and NAT gateways in its own provider, so they are policed through its
 * inputs (the names awsx defines): at least one Private subnet spec for tasks and data, no Isolated spec
 * (nothing here runs without egress), and outside dev a NAT gateway per zone (`natGateways.strategy`
 * `OnePerAz`), so one zone's outage does not cut every private subnet's egress.
 */
const awsxVpcLayout: ResourceRule = {
  name: "vpc-layout",
  description: "The awsx Vpc declares private subnets, and outside dev one NAT gateway per zone (natGateways.strategy OnePerAz).",
  types: [T.awsxVpc],
  check({ inputs: i }, ctx) {
    const out: string[] = [];
    const specs = asArray<any>(i.subnetSpecs);
    if (i.subnetSpecs !== undefined && !unknown(i.subnetSpecs)) {
      if (!specs.some((x) => x?.type === "Private")) out.push('subnetSpecs has no "Private" subnet: tasks, databases and caches need private subnets');
      const isolated = specs.filter((x) => x?.type === "Isolated").map((x) => x?.name ?? "(unnamed)");
      if (isolated.length) out.push(`subnetSpecs ${isolated.join(", ")} are "Isolated": nothing here runs without egress; use "Private"`);
    }
    const strategy = i.natGateways?.strategy ?? "OnePerAz";
    if (!unknown(strategy) && !DEV_TIERS.has(ctx.tier) && strategy !== "OnePerAz") {
      out.push(`natGateways.strategy is ${strategy}: tier ${ctx.tier} needs zone redundancy, use "OnePerAz" (sizing.network.natGateways "perZone")`);
    }
    return out;
  },
};

const WORLD = new Set(["0.0.0.0/0", "::/0"]);
const WEB_PORTS = new Set([80, 443]);

const internetIngressWebOnly: ResourceRule = {
  name: "internet-ingress-web-ports-only",
  description: "Only ports 80 and 443 are open to the internet (the ALB's listeners).",
  types: [T.sg, T.sgRule, T.ingress],
  check({ type, inputs: i }) {
    const rules: any[] =
      type === T.sg
        ? asArray<any>(i.ingress).map((r) => ({ ...r, sources: [...asArray(r?.cidrBlocks), ...asArray(r?.ipv6CidrBlocks)] }))
        : type === T.sgRule
          ? i.type === "ingress" ? [{ ...i, sources: [...asArray(i.cidrBlocks), ...asArray(i.ipv6CidrBlocks)] }] : []
          : [{ ...i, sources: [i.cidrIpv4, i.cidrIpv6].filter(Boolean) }];
    const out: string[] = [];
    for (const r of rules) {
      if (!r.sources.some((s: string) => WORLD.has(s))) continue;
      const open = r.ipProtocol === "-1" || r.protocol === "-1" || r.protocol === "all";
      if (open || r.fromPort !== r.toPort || !WEB_PORTS.has(r.fromPort)) {
        out.push(`ingress from the internet on ${open ? "all ports" : r.fromPort === r.toPort ? `port ${r.fromPort}` : `ports ${r.fromPort}-${r.toPort}`}; only 80 and 443 may be open`);
      }
    }
    return out;
  },
};

const logRetention: ResourceRule = {
  name: "log-retention",
  description: "Every log group sets a retention period.",
  types: [T.logGroup],
  check({ inputs: i }) {
    return typeof i.retentionInDays === "number" && i.retentionInDays > 0 ? [] : ["set retentionInDays (logs are kept forever otherwise)"];
  },
};

const productionDatabase: ResourceRule = {
  name: "production-data-protection",
  description: "Production databases and caches: deletion protection, final snapshots (database and Redis), backups, Multi-AZ.",
  productionOnly: true,
  types: [T.rds, T.redis, T.lb],
  check({ type, inputs: i }) {
    const out: string[] = [];
    if (type === T.rds) {
      if (i.deletionProtection !== true) out.push("deletionProtection must be true");
      if (i.skipFinalSnapshot === true || unknown(i.finalSnapshotIdentifier)) out.push("keep a final snapshot (skipFinalSnapshot: false and a finalSnapshotIdentifier)");
      if (!(typeof i.backupRetentionPeriod === "number" && i.backupRetentionPeriod >= 7)) out.push("backupRetentionPeriod must be at least 7 days");
      if (i.multiAz !== true) out.push("multiAz must be true");
    } else if (type === T.redis) {
      if (i.automaticFailoverEnabled !== true || i.multiAzEnabled !== true) out.push("automaticFailoverEnabled and multiAzEnabled must be true");
      if (!(typeof i.snapshotRetentionLimit === "number" && i.snapshotRetentionLimit >= 1)) out.push("snapshotRetentionLimit must be at least 1 day");
      if (typeof i.finalSnapshotIdentifier !== "string" || i.finalSnapshotIdentifier === "") out.push("keep a final snapshot (finalSnapshotIdentifier)");
    } else if (i.internal !== true && i.enableDeletionProtection !== true) {
      out.push("enableDeletionProtection must be true on the public load balancer");
    }
    return out;
  },
};

const DATA_SERVICES = ["rds", "rds-db", "rds-data", "sqs", "elasticache", "secretsmanager", "kms", "s3", "dynamodb", "backup", "sns"];

/** Policy documents carried by IAM resources, by type. */
function policyDocuments(type: string, i: Record<string, any>): unknown[] {
  if (type === "aws:iam/role:Role") return asArray<any>(i.inlinePolicies).map((p) => p?.policy);
  if (type.startsWith("aws:iam/")) return [i.policy];
  return [];
}

const noWildcardDataActions: ResourceRule = {
  name: "no-wildcard-data-actions",
  description: "IAM policies never allow `*` or `<service>:*` actions on data services (RDS, SQS, ElastiCache, Secrets Manager, KMS, S3...).",
  types: ["aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"],
  check({ type, inputs: i }) {
    const out: string[] = [];
    for (const doc of policyDocuments(type, i)) {
      const parsed = jsonValue(doc);
      for (const st of asArray<any>(parsed?.Statement)) {
        if (st?.Effect !== "Allow") continue;
        if (st.NotAction) out.push(`statement ${st.Sid ?? "(no Sid)"}: Allow with NotAction grants everything else`);
        for (const action of asArray<string>(st.Action)) {
          if (typeof action !== "string") continue;
          const [svc, op] = action.split(":");
          if (action === "*" || (op === "*" && DATA_SERVICES.includes(svc ?? ""))) {
            out.push(`statement ${st.Sid ?? "(no Sid)"}: action "${action}" is a wildcard; list the actions needed`);
          }
        }
      }
    }
    return out;
  },
};

const SECRET_WORDS = new Set(["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "CREDENTIALS", "CREDENTIAL", "PRIVATE"]);
const REFERENCE_SUFFIXES = new Set(["ARN", "ID", "NAME", "FILE", "PATH", "TTL", "SECONDS", "MS", "HEADER", "ISSUER", "AUDIENCE", "ALGORITHM"]);

/** Why an environment variable looks like a plain secret, or undefined. */
export function plainSecretReason(name: string, value: unknown): string | undefined {
  const parts = name.toUpperCase().replace(/API_KEY/g, "APIKEY").split(/[_-]/);
  const last = parts[parts.length - 1] ?? "";
  if (parts.some((p) => SECRET_WORDS.has(p)) && !REFERENCE_SUFFIXES.has(last)) return `environment variable ${name} looks like a secret`;
  if (typeof value === "string" && /^[a-z][a-z0-9+.-]*:\/\/[^/:@\s]+:[^@/\s]+@/i.test(value)) return `environment variable ${name} holds a URL with a password`;
  return undefined;
}

const noPlainSecrets: ResourceRule = {
  name: "no-plain-secrets",
  description: "Secrets reach containers through task `secrets` (Secrets Manager), never plain environment variables.",
  types: [T.taskDef, T.lambda],
  check({ type, inputs: i }) {
    const out: string[] = [];
    const env: Array<[string, unknown]> =
      type === T.taskDef
        ? asArray<any>(jsonValue(i.containerDefinitions)).flatMap((c) => asArray<any>(c?.environment).map((e): [string, unknown] => [`${c?.name}: ${e?.name}`, e?.value]))
        : Object.entries(i.environment?.variables ?? {});
    for (const [label, value] of env) {
      const name = label.includes(": ") ? label.split(": ")[1]! : label;
      const reason = plainSecretReason(name, value);
      if (reason) out.push(`${label.includes(": ") ? `container ${label.split(": ")[0]}: ` : ""}${reason}; pass it in \`secrets\` from Secrets Manager`);
    }
    return out;
  },
};

const albHttps: ResourceRule = {
  name: "alb-https",
  description: "Public listeners serve HTTPS; plain HTTP only redirects (mandatory outside dev, where the program refuses to run without TLS).",
  types: [T.listener],
  check({ inputs: i }) {
    if (i.protocol !== "HTTP") return [];
    const actions = asArray<any>(i.defaultActions);
    return actions.length > 0 && actions.every((a) => a?.type === "redirect") ? [] : ["HTTP listener forwards traffic; set domainName + hostedZoneId (or certificateArn) so port 80 only redirects to 443"];
  },
};

export const RESOURCE_RULES: ResourceRule[] = [
  encryptionAtRest,
  tlsToDatabase,
  redisTransitAndAuth,
  privatePlacement,
  internetIngressWebOnly,
  logRetention,
  productionDatabase,
  noWildcardDataActions,
  noPlainSecrets,
  albHttps,
  awsxVpcLayout,
];

// ---- stack rules ------------------------------------------------------------------------------------

/** Last part of an ARN or URL (a queue's name from its ARN or URL). */
const tail = (v: unknown) => (typeof v === "string" ? v.split(/[:/]/).pop() : undefined);

const queueName = (q: PolicyResource) => (typeof q.inputs.name === "string" ? q.inputs.name : tail(q.arn) ?? q.name);

const wafOnPublicAlb: StackRule = {
  name: "waf-on-public-alb",
  description: "Every internet-facing load balancer is associated with a web ACL that has a rate-based rule.",
  check(resources) {
    const out: StackFinding[] = [];
    const lbs = resources.filter((r) => r.type === T.lb && r.inputs.internal !== true && (r.inputs.loadBalancerType ?? "application") === "application");
    const assocs = resources.filter((r) => r.type === T.webAclAssoc);
    const acls = resources.filter((r) => r.type === T.webAcl);
    for (const lb of lbs) {
      const mine = assocs.filter((a) => unknown(lb.arn) || unknown(a.inputs.resourceArn) || a.inputs.resourceArn === lb.arn);
      if (mine.length === 0) {
        out.push({ resource: key(lb), message: "no WAF web ACL is associated with this public load balancer" });
        continue;
      }
      const aclsOf = mine.map((a) => acls.find((x) => !unknown(x.arn) && x.arn === a.inputs.webAclArn)).filter((x): x is PolicyResource => !!x);
      const candidates = aclsOf.length > 0 ? aclsOf : acls;
      const rateBased = candidates.some((acl) => asArray<any>(acl.inputs.rules).some((rule) => rule?.statement?.rateBasedStatement));
      if (candidates.length > 0 && !rateBased) out.push({ resource: key(lb), message: "the web ACL of this load balancer has no rate-based rule" });
    }
    return out;
  },
};

/** Dead-letter target ARNs of queues (inline redrivePolicy or separate RedrivePolicy resources). */
function redriveTargets(resources: PolicyResource[]): { source: string; dlqArn: string }[] {
  const out: { source: string; dlqArn: string }[] = [];
  for (const r of resources) {
    if (r.type !== T.queue && r.type !== T.redrive) continue;
    const policy = jsonValue(r.inputs.redrivePolicy);
    const target = policy?.deadLetterTargetArn;
    if (r.type === T.queue && policy === undefined) continue;
    const source = r.type === T.queue ? key(r) : String(r.inputs.queueUrl ?? key(r));
    out.push({ source, dlqArn: typeof target === "string" ? target : UNKNOWN_MARKER });
  }
  return out;
}

const queuesHaveDlqAndAlarm: StackRule = {
  name: "queue-dlq-and-alarm",
  description: "Every queue has a dead-letter queue, and every dead-letter queue has a CloudWatch alarm.",
  check(resources) {
    const out: StackFinding[] = [];
    const queues = resources.filter((r) => r.type === T.queue);
    const targets = redriveTargets(resources);
    const dlqNames = new Set(targets.map((t) => tail(t.dlqArn)).filter((x): x is string => !!x && x !== UNKNOWN_MARKER));
    const isDlq = (q: PolicyResource) => dlqNames.has(queueName(q)) || !unknown(q.inputs.redriveAllowPolicy);
    const hasRedrive = (q: PolicyResource) =>
      targets.some((t) => t.source === key(q) || (!unknown(q.id) && t.source === q.id) || tail(t.source) === queueName(q));
    const alarms = resources.filter((r) => r.type === T.alarm).map((a) => JSON.stringify(a.inputs));
    for (const q of queues) {
      if (isDlq(q)) {
        const name = queueName(q);
        if (!alarms.some((a) => a.includes(`"${name}"`))) out.push({ resource: key(q), message: `dead-letter queue ${name} has no CloudWatch alarm (dimension QueueName = ${name})` });
      } else if (!hasRedrive(q)) {
        out.push({ resource: key(q), message: "queue has no redrivePolicy to a dead-letter queue" });
      }
    }
    return out;
  },
};

const queuesTlsOnly: StackRule = {
  name: "queue-tls-only",
  description: "Every queue has a queue policy that denies requests without TLS (aws:SecureTransport = false).",
  check(resources) {
    const policies = resources.filter((r) => r.type === "aws:sqs/queuePolicy:QueuePolicy");
    const denies = (p: PolicyResource) =>
      asArray<any>(jsonValue(p.inputs.policy)?.Statement).some(
        (st) => st?.Effect === "Deny" && String(st?.Condition?.Bool?.["aws:SecureTransport"]) === "false",
      );
    const out: StackFinding[] = [];
    for (const q of resources.filter((r) => r.type === T.queue)) {
      const url = q.id ?? q.inputs.url;
      if (unknown(url) || policies.some((p) => unknown(p.inputs.queueUrl))) continue;
      const mine = policies.filter((p) => p.inputs.queueUrl === url);
      // A policy document not known yet (it names something still to be created) cannot be judged at preview.
      if (mine.some((p) => unknown(p.inputs.policy))) continue;
      if (!mine.some(denies)) out.push({ resource: key(q), message: "no queue policy denies requests without TLS (Deny when aws:SecureTransport is false)" });
    }
    return out;
  },
};

const dataInPrivateSubnets: StackRule = {
  name: "data-and-tasks-in-private-subnets",
  description: "ECS services, RDS and ElastiCache subnet groups use only subnets tagged Tier=private (and none of an awsx Vpc's public subnets).",
  check(resources) {
    const out: StackFinding[] = [];
    const subnets = new Map(resources.filter((r) => r.type === T.subnet && !unknown(r.id)).map((s) => [s.id!, s]));
    // awsx Vpcs: their subnets are not resources here; their public subnet ids are outputs of the Vpc.
    const awsxPublic = new Map<string, string>();
    for (const v of resources.filter((r) => r.type === T.awsxVpc)) {
      for (const id of asArray<unknown>(v.outputs?.publicSubnetIds ?? v.inputs.publicSubnetIds)) if (typeof id === "string" && !unknown(id)) awsxPublic.set(id, v.name);
    }
    const check = (r: PolicyResource, ids: unknown[]) => {
      for (const id of ids) {
        const subnet = typeof id === "string" ? subnets.get(id) : undefined;
        if (subnet && subnet.inputs.tags?.Tier !== "private") out.push({ resource: key(r), message: `uses subnet ${subnet.name} (Tier=${subnet.inputs.tags?.Tier ?? "untagged"}); use the private subnets` });
        const vpc = typeof id === "string" ? awsxPublic.get(id) : undefined;
        if (vpc) out.push({ resource: key(r), message: `uses public subnet ${id} of awsx Vpc ${vpc}; use its privateSubnetIds` });
      }
    };
    for (const r of resources) {
      if (r.type === T.service) check(r, asArray(r.inputs.networkConfiguration?.subnets));
      else if (r.type === T.rdsSubnets || r.type === T.cacheSubnets) check(r, asArray(r.inputs.subnetIds));
    }
    return out;
  },
};

const databaseBackedUp: StackRule = {
  name: "database-in-backup-plan",
  description: "Production databases are selected by an AWS Backup plan.",
  productionOnly: true,
  check(resources) {
    const selections = resources.filter((r) => r.type === T.backupSelection).flatMap((s) => asArray<unknown>(s.inputs.resources));
    return resources
      .filter((r) => r.type === T.rds)
      .filter((db) => !selections.some((x) => unknown(x) || unknown(db.arn) || x === db.arn))
      .map((db) => ({ resource: key(db), message: "no AWS Backup selection includes this database" }));
  },
};

export const STACK_RULES: StackRule[] = [wafOnPublicAlb, queuesHaveDlqAndAlarm, queuesTlsOnly, dataInPrivateSubnets, databaseBackedUp];

export const ALL_RULES: RuleMeta[] = [...RESOURCE_RULES, ...STACK_RULES];

/** Runs every rule over a stack's resources. */
export function evaluate(resources: PolicyResource[], ctx: RuleContext): Violation[] {
  const out: Violation[] = [];
  const production = !DEV_TIERS.has(ctx.tier);
  for (const rule of RESOURCE_RULES) {
    if (rule.productionOnly && !production) continue;
    const types = new Set(rule.types);
    for (const r of resources) {
      if (!types.has(r.type)) continue;
      for (const message of rule.check(r, ctx)) out.push({ policy: rule.name, severity: severityFor(rule, ctx.tier), resource: key(r), message });
    }
  }
  for (const rule of STACK_RULES) {
    if (rule.productionOnly && !production) continue;
    for (const f of rule.check(resources, ctx)) out.push({ policy: rule.name, severity: severityFor(rule, ctx.tier), ...f });
  }
  return out;
}
