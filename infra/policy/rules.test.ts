/**
 * Every policy rule with a passing and a failing case (pure functions, no synthesis), the severity per tier,
 * and the `@pulumi/policy` adaptation with its per-tier config files.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TIER_NAMES } from "../config/tiers";
import { evaluate, plainSecretReason, RESOURCE_RULES, STACK_RULES } from "./rules";
import type { PolicyResource } from "./rules";
import { packConfig, POLICIES, tierFromUrn } from "./pack/policies";

const res = (type: string, name: string, inputs: Record<string, any>, extra: Partial<PolicyResource> = {}): PolicyResource => ({ type, name, inputs, ...extra });

const T = {
  rdsSubnets: "aws:rds/subnetGroup:SubnetGroup",
  awsxVpc: "awsx:ec2:Vpc",
  rds: "aws:rds/instance:Instance",
  params: "aws:rds/parameterGroup:ParameterGroup",
  proxy: "aws:rds/proxy:Proxy",
  redis: "aws:elasticache/replicationGroup:ReplicationGroup",
  queue: "aws:sqs/queue:Queue",
  topic: "aws:sns/topic:Topic",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  service: "aws:ecs/service:Service",
  taskDef: "aws:ecs/taskDefinition:TaskDefinition",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  lb: "aws:lb/loadBalancer:LoadBalancer",
  listener: "aws:lb/listener:Listener",
  acl: "aws:wafv2/webAcl:WebAcl",
  assoc: "aws:wafv2/webAclAssociation:WebAclAssociation",
  subnet: "aws:ec2/subnet:Subnet",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  selection: "aws:backup/selection:Selection",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
};

const goodDb = {
  storageEncrypted: true, publiclyAccessible: false, deletionProtection: true, skipFinalSnapshot: false,
  finalSnapshotIdentifier: "db-final", backupRetentionPeriod: 14, multiAz: true,
};
const goodRedis = {
  atRestEncryptionEnabled: true, transitEncryptionEnabled: true, authToken: "[secret]",
  automaticFailoverEnabled: true, multiAzEnabled: true, snapshotRetentionLimit: 7,
};
const policyDoc = (action: string | string[]) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "S", Effect: "Allow", Action: action, Resource: "*" }] });
const containers = (env: Array<{ name: string; value: string }>) => JSON.stringify([{ name: "api", environment: env }]);

/** awsx Vpc inputs as infra/components/network.ts passes them (names as awsx defines them). */
const vpcInputs = (strategy: string) => ({
  availabilityZoneNames: ["us-east-1a", "us-east-1b", "us-east-1c"], natGateways: { strategy },
  subnetSpecs: [{ type: "Public", name: "public" }, { type: "Private", name: "private" }],
});

/** [rule, passing resource, failing resource, expected message fragment] */
const RESOURCE_CASES: Array<[string, PolicyResource, PolicyResource, string]> = [
  ["encryption-at-rest", res(T.rds, "db", goodDb), res(T.rds, "db", { ...goodDb, storageEncrypted: false }), "storageEncrypted must be true"],
  ["encryption-at-rest", res(T.queue, "q", { sqsManagedSseEnabled: true }), res(T.queue, "q", {}), "sqsManagedSseEnabled"],
  ["encryption-at-rest", res(T.topic, "t", { kmsMasterKeyId: "arn:key" }), res(T.topic, "t", {}), "kmsMasterKeyId"],
  ["encryption-at-rest", res(T.redis, "r", goodRedis), res(T.redis, "r", { ...goodRedis, atRestEncryptionEnabled: false }), "atRestEncryptionEnabled"],
  ["database-requires-tls", res(T.proxy, "p", { requireTls: true }), res(T.proxy, "p", { requireTls: false }), "requireTls must be true"],
  ["database-requires-tls", res(T.params, "pg", { family: "postgres16", parameters: [{ name: "rds.force_ssl", value: "1" }] }),
    res(T.params, "pg", { family: "postgres16", parameters: [] }), "rds.force_ssl = 1"],
  ["redis-tls-and-auth", res(T.redis, "r", goodRedis), res(T.redis, "r", { ...goodRedis, transitEncryptionEnabled: false }), "transitEncryptionEnabled must be true"],
  ["redis-tls-and-auth", res(T.redis, "r", { ...goodRedis, authToken: undefined, userGroupIds: ["ug"] }), res(T.redis, "r", { ...goodRedis, authToken: undefined }), "authToken or userGroupIds"],
  ["private-placement", res(T.service, "s", { networkConfiguration: { assignPublicIp: false } }), res(T.service, "s", { networkConfiguration: { assignPublicIp: true } }), "assignPublicIp must be false"],
  ["private-placement", res(T.rds, "db", goodDb), res(T.rds, "db", { ...goodDb, publiclyAccessible: true }), "publiclyAccessible must be false"],
  ["internet-ingress-web-ports-only", res(T.ingress, "in", { cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443 }),
    res(T.ingress, "in", { cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 22, toPort: 22 }), "port 22; only 80 and 443"],
  ["internet-ingress-web-ports-only", res(T.sg, "sg", { ingress: [{ cidrBlocks: ["10.0.0.0/16"], protocol: "tcp", fromPort: 5432, toPort: 5432 }] }),
    res(T.sg, "sg", { ingress: [{ ipv6CidrBlocks: ["::/0"], protocol: "-1", fromPort: 0, toPort: 0 }] }), "all ports"],
  ["log-retention", res(T.logGroup, "lg", { retentionInDays: 30 }), res(T.logGroup, "lg", {}), "retentionInDays"],
  ["production-data-protection", res(T.rds, "db", goodDb), res(T.rds, "db", { ...goodDb, deletionProtection: false, multiAz: false }), "deletionProtection must be true"],
  ["production-data-protection", res(T.redis, "r", goodRedis), res(T.redis, "r", { ...goodRedis, snapshotRetentionLimit: 0 }), "snapshotRetentionLimit"],
  ["production-data-protection", res(T.lb, "lb", { enableDeletionProtection: true }), res(T.lb, "lb", {}), "enableDeletionProtection"],
  ["no-wildcard-data-actions", res(T.rolePolicy, "p", { policy: policyDoc(["sqs:SendMessage", "logs:*"]) }), res(T.rolePolicy, "p", { policy: policyDoc("sqs:*") }), 'action "sqs:*" is a wildcard'],
  ["no-wildcard-data-actions", res(T.rolePolicy, "p", { policy: policyDoc("rds-db:connect") }), res(T.rolePolicy, "p", { policy: policyDoc("*") }), 'action "*"'],
  ["no-plain-secrets", res(T.taskDef, "td", { containerDefinitions: containers([{ name: "JWT_SECRET_ARN", value: "arn:x" }, { name: "DATABASE_URL", value: "postgres://db:5432/chat" }]) }),
    res(T.taskDef, "td", { containerDefinitions: containers([{ name: "JWT_SECRET", value: "hunter2" }]) }), "JWT_SECRET looks like a secret"],
  ["no-plain-secrets", res(T.taskDef, "td", { containerDefinitions: containers([{ name: "REDIS_URL", value: "rediss://cache:6379" }]) }),
    res(T.taskDef, "td", { containerDefinitions: containers([{ name: "REDIS_URL", value: "rediss://user:pw@cache:6379" }]) }), "URL with a password"],
  ["alb-https", res(T.listener, "l", { protocol: "HTTP", defaultActions: [{ type: "redirect" }] }), res(T.listener, "l", { protocol: "HTTP", defaultActions: [{ type: "forward" }] }), "HTTP listener forwards"],
  ["vpc-layout", res(T.awsxVpc, "v", vpcInputs("OnePerAz")), res(T.awsxVpc, "v", vpcInputs("Single")), "natGateways.strategy is Single: tier 10k-dau needs zone redundancy"],
  ["vpc-layout", res(T.awsxVpc, "v", vpcInputs("OnePerAz")), res(T.awsxVpc, "v", { ...vpcInputs("OnePerAz"), subnetSpecs: [{ type: "Public" }, { type: "Isolated", name: "data" }] }), 'subnetSpecs has no "Private" subnet'],
];

describe("resource rules: a passing and a failing case each", () => {
  for (const [name, pass, fail, fragment] of RESOURCE_CASES) {
    const rule = RESOURCE_RULES.find((r) => r.name === name)!;
    it(`${name} on ${pass.type.split(":").pop()}: ${fragment}`, () => {
      assert.ok(rule, `no rule ${name}`);
      assert.deepEqual(rule.check(pass, { tier: "10k-dau" }), []);
      const found = rule.check(fail, { tier: "10k-dau" });
      assert.ok(found.some((m) => m.includes(fragment)), `expected "${fragment}" in ${JSON.stringify(found)}`);
    });
  }
  it("every resource rule has cases", () => {
    const covered = new Set(RESOURCE_CASES.map(([n]) => n));
    assert.deepEqual(RESOURCE_RULES.map((r) => r.name).filter((n) => !covered.has(n)), []);
  });
  it("values not known yet are never violations", () => {
    const rule = RESOURCE_RULES.find((r) => r.name === "redis-tls-and-auth")!;
    assert.deepEqual(rule.check(res(T.redis, "r", { ...goodRedis, authToken: "<unknown>" }), { tier: "1k-dau" }), []);
  });
  it("plainSecretReason keeps references and flags values", () => {
    assert.equal(plainSecretReason("TOKEN_TTL_SECONDS", "900"), undefined);
    assert.equal(plainSecretReason("PUSH_GATEWAY_SECRET_ARN", "arn:aws:secretsmanager:x"), undefined);
    assert.match(plainSecretReason("API_KEY", "x") ?? "", /API_KEY looks like a secret/);
  });
});

// ---- stack rules ----------------------------------------------------------------------------------

const lbArn = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/chat/1";
const aclArn = "arn:aws:wafv2:us-east-1:1:regional/webacl/chat/1";
const edge = (rules: any[], assocArn = lbArn) => [
  res(T.lb, "lb", { internal: false }, { arn: lbArn }),
  res(T.acl, "acl", { rules }, { arn: aclArn }),
  res(T.assoc, "assoc", { resourceArn: assocArn, webAclArn: aclArn }),
];
const rate = { name: "Rate", statement: { rateBasedStatement: { limit: 2000 } } };
const dlqArn = "arn:aws:sqs:us-east-1:1:chat-push-dlq";
const queues = (alarmQueue: string) => [
  res(T.queue, "push", { name: "chat-push", redrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }) }),
  res(T.queue, "push-dlq", { name: "chat-push-dlq" }),
  res(T.alarm, "dlq-alarm", { metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: alarmQueue } }),
];
const subnets = [
  res(T.subnet, "private-a", { tags: { Tier: "private" } }, { id: "subnet-priv" }),
  res(T.subnet, "public-a", { tags: { Tier: "public" } }, { id: "subnet-pub" }),
];
const awsxVpc: PolicyResource = {
  ...res(T.awsxVpc, "network-vpc", vpcInputs("OnePerAz")),
  outputs: { publicSubnetIds: ["subnet-x-public-1", "subnet-x-public-2"], privateSubnetIds: ["subnet-x-private-1", "subnet-x-private-2"] },
};
const dbArn = "arn:aws:rds:us-east-1:1:db:chat";
const queueUrl = "https://sqs.us-east-1.amazonaws.com/1/chat-push";
const tlsOnly = (effect: string) =>
  JSON.stringify({ Statement: [{ Effect: effect, Principal: "*", Action: "sqs:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }] });

/** [rule, passing stack, failing stack, message fragment] */
const STACK_CASES: Array<[string, PolicyResource[], PolicyResource[], string]> = [
  ["waf-on-public-alb", edge([rate]), edge([rate], "arn:other"), "no WAF web ACL is associated"],
  ["waf-on-public-alb", edge([rate]), edge([{ name: "Managed", statement: { managedRuleGroupStatement: {} } }]), "no rate-based rule"],
  ["queue-dlq-and-alarm", queues("chat-push-dlq"), queues("chat-other"), "dead-letter queue chat-push-dlq has no CloudWatch alarm"],
  ["queue-dlq-and-alarm", queues("chat-push-dlq"), [...queues("chat-push-dlq"), res(T.queue, "lonely", { name: "chat-lonely" })], "no redrivePolicy"],
  ["queue-tls-only", [res(T.queue, "q", {}, { id: queueUrl }), res(T.queuePolicy, "qp", { queueUrl, policy: tlsOnly("Deny") })],
    [res(T.queue, "q", {}, { id: queueUrl }), res(T.queuePolicy, "qp", { queueUrl, policy: tlsOnly("Allow") })], "no queue policy denies requests without TLS"],
  ["data-and-tasks-in-private-subnets", [...subnets, res(T.service, "svc", { networkConfiguration: { subnets: ["subnet-priv"] } })],
    [...subnets, res(T.service, "svc", { networkConfiguration: { subnets: ["subnet-priv", "subnet-pub"] } })], "uses subnet public-a (Tier=public)"],
  ["data-and-tasks-in-private-subnets",
    [awsxVpc, res(T.service, "svc", { networkConfiguration: { subnets: ["subnet-x-private-1"] } })],
    [awsxVpc, res(T.rdsSubnets, "dbsn", { subnetIds: ["subnet-x-private-1", "subnet-x-public-2"] })], "uses public subnet subnet-x-public-2 of awsx Vpc network-vpc"],
  ["database-in-backup-plan", [res(T.rds, "db", goodDb, { arn: dbArn }), res(T.selection, "sel", { resources: [dbArn] })],
    [res(T.rds, "db", goodDb, { arn: dbArn }), res(T.selection, "sel", { resources: ["arn:other"] })], "no AWS Backup selection"],
];

describe("stack rules: a passing and a failing case each", () => {
  for (const [name, pass, fail, fragment] of STACK_CASES) {
    const rule = STACK_RULES.find((r) => r.name === name)!;
    it(`${name}: ${fragment}`, () => {
      assert.deepEqual(rule.check(pass, { tier: "10k-dau" }), []);
      const found = rule.check(fail, { tier: "10k-dau" });
      assert.ok(found.some((f) => f.message.includes(fragment)), `expected "${fragment}" in ${JSON.stringify(found)}`);
    });
  }
  it("every stack rule has cases", () => {
    const covered = new Set(STACK_CASES.map(([n]) => n));
    assert.deepEqual(STACK_RULES.map((r) => r.name).filter((n) => !covered.has(n)), []);
  });
});

describe("evaluate: severity per tier", () => {
  const bad = [res(T.logGroup, "lg", {}), res(T.rds, "db", { ...goodDb, multiAz: false })];
  it("mandatory on production tiers, production-only rules included", () => {
    const v = evaluate(bad, { tier: "10k-dau" });
    assert.deepEqual(v.map((x) => [x.policy, x.severity, x.resource]), [
      ["log-retention", "mandatory", `${T.logGroup}::lg`],
      ["production-data-protection", "mandatory", `${T.rds}::db`],
      ["database-in-backup-plan", "mandatory", `${T.rds}::db`],
    ]);
  });
  it("advisory on dev, production-only rules skipped", () => {
    const v = evaluate(bad, { tier: "dev" });
    assert.deepEqual(v.map((x) => [x.policy, x.severity]), [["log-retention", "advisory"]]);
  });
  it("advisory-only rules never block", () => {
    const v = evaluate([res(T.listener, "l", { protocol: "HTTP", defaultActions: [{ type: "forward" }] })], { tier: "100k-dau" });
    assert.deepEqual(v.map((x) => x.severity), ["advisory"]);
  });
});

describe("policy pack adaptation", () => {
  const names = [...RESOURCE_RULES, ...STACK_RULES].map((r) => r.name);
  it("one policy per rule, same names", () => assert.deepEqual(POLICIES.map((p) => p.name), names));

  it("a resource policy reports the rule's violations and skips other types", () => {
    const policy = POLICIES.find((p) => p.name === "log-retention") as any;
    const reported: string[] = [];
    const args = (type: string, props: object) => ({ type, name: "lg", urn: "urn:x", props, getConfig: () => ({ tier: "1k-dau" }) });
    policy.validateResource(args(T.logGroup, {}), (m: string) => reported.push(m));
    policy.validateResource(args(T.logGroup, { retentionInDays: 7 }), (m: string) => reported.push(m));
    policy.validateResource(args(T.queue, {}), (m: string) => reported.push(m));
    assert.deepEqual(reported, ["set retentionInDays (logs are kept forever otherwise)"]);
  });

  it("a stack policy reports against the resource's URN", () => {
    const policy = POLICIES.find((p) => p.name === "queue-dlq-and-alarm") as any;
    const reported: Array<[string, string | undefined]> = [];
    const resources = queues("chat-other").map((r) => ({ type: r.type, name: r.name, urn: `urn:${r.name}`, props: r.inputs }));
    policy.validateStack({ resources, getConfig: () => ({ tier: "10k-dau" }) }, (m: string, urn?: string) => reported.push([m, urn]));
    assert.equal(reported.length, 1);
    assert.equal(reported[0]![1], "urn:push-dlq");
  });

  it("without a pack config, the tier comes from the stack file named in the URN", () => {
    assert.equal(tierFromUrn("urn:pulumi:dev::realtime-chat::aws:rds/instance:Instance::db"), "dev");
    assert.equal(tierFromUrn("urn:pulumi:100k-dau::realtime-chat::aws:rds/instance:Instance::db"), "100k-dau");
    assert.equal(tierFromUrn("urn:pulumi:no-such-stack::realtime-chat::x::y"), undefined);
    const policy = POLICIES.find((p) => p.name === "production-data-protection") as any;
    const reported: string[] = [];
    for (const stack of ["dev", "10k-dau"]) {
      policy.validateResource({ type: T.rds, name: "db", urn: `urn:pulumi:${stack}::realtime-chat::${T.rds}::db`, props: {}, getConfig: () => ({}) }, (m: string) => reported.push(`${stack}: ${m}`));
    }
    assert.ok(reported.length > 0 && reported.every((m) => m.startsWith("10k-dau: ")), JSON.stringify(reported));
  });

  it("production-only policies do nothing for dev", () => {
    const policy = POLICIES.find((p) => p.name === "production-data-protection") as any;
    const reported: string[] = [];
    policy.validateResource({ type: T.rds, name: "db", urn: "u", props: {}, getConfig: () => ({ tier: "dev" }) }, (m: string) => reported.push(m));
    assert.deepEqual(reported, []);
  });

  for (const tier of TIER_NAMES) {
    it(`config/${tier}.json is current (node --import tsx infra/policy/pack/policies.ts --write)`, () => {
      const file = JSON.parse(readFileSync(join(__dirname, "pack", "config", `${tier}.json`), "utf8"));
      assert.deepEqual(file, packConfig(tier));
      const levels = new Set(Object.values(file).map((x: any) => x.enforcementLevel));
      if (tier === "dev") assert.ok(!levels.has("mandatory"));
      else assert.ok(levels.has("mandatory") && !levels.has("disabled"));
    });
  }
});
