/**
 * Policy rules, exact answers: for each input, the complete list of messages a rule returns (not a fragment
 * of one), including the inputs at each boundary. Written from the survivors of mutation testing
 * (bench/results/mutation.md): conditions whose either branch gave the same fragment, and messages no test read.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ALL_RULES, RESOURCE_RULES, STACK_RULES } from "./rules";
import type { PolicyResource } from "./rules";

const rule = (name: string) => {
  const r = RESOURCE_RULES.find((x) => x.name === name);
  if (!r) throw new Error(`no rule ${name}`);
  return (type: string, inputs: Record<string, unknown>) => r.check({ type, name: "r", inputs }, { tier: "1k-dau" });
};
const T = {
  rds: "aws:rds/instance:Instance",
  cluster: "aws:rds/cluster:Cluster",
  params: "aws:rds/parameterGroup:ParameterGroup",
  proxy: "aws:rds/proxy:Proxy",
  redis: "aws:elasticache/replicationGroup:ReplicationGroup",
  queue: "aws:sqs/queue:Queue",
  topic: "aws:sns/topic:Topic",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  service: "aws:ecs/service:Service",
  taskDef: "aws:ecs/taskDefinition:TaskDefinition",
  lambda: "aws:lambda/function:Function",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  lb: "aws:lb/loadBalancer:LoadBalancer",
  listener: "aws:lb/listener:Listener",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
};

test("encryption-at-rest", () => {
  const check = rule("encryption-at-rest");
  expect(check(T.rds, { storageEncrypted: true })).toEqual([]);
  expect(check(T.rds, {})).toEqual(["storageEncrypted must be true"]);
  expect(check(T.rds, { storageEncrypted: false })).toEqual(["storageEncrypted must be true"]);
  expect(check(T.cluster, { storageEncrypted: false })).toEqual(["storageEncrypted must be true"]);
  expect(check(T.rds, { storageEncrypted: false, snapshotIdentifier: "snap-1" })).toEqual([]); // inherits the snapshot's
  expect(check(T.redis, { atRestEncryptionEnabled: true })).toEqual([]);
  expect(check(T.redis, { atRestEncryptionEnabled: "true" })).toEqual(["atRestEncryptionEnabled must be true"]);
  expect(check(T.queue, { sqsManagedSseEnabled: true })).toEqual([]);
  expect(check(T.queue, { kmsMasterKeyId: "alias/q" })).toEqual([]);
  expect(check(T.queue, { sqsManagedSseEnabled: false })).toEqual(["set sqsManagedSseEnabled: true or a kmsMasterKeyId"]);
  expect(check(T.topic, {})).toEqual(["set kmsMasterKeyId (SNS topics are not encrypted by default)"]);
  expect(check(T.topic, { kmsMasterKeyId: "<unknown>" })).toEqual([]); // not known during a preview
  expect(check(T.topic, { kmsMasterKeyId: "arn:key" })).toEqual([]);
  expect(check(T.service, {})).toEqual([]);
});

test("database-requires-tls", () => {
  const check = rule("database-requires-tls");
  expect(check(T.proxy, { requireTls: true })).toEqual([]);
  expect(check(T.proxy, {})).toEqual(["requireTls must be true"]);
  const force = "set the parameter rds.force_ssl = 1 (refuse connections without TLS)";
  expect(check(T.params, { family: "postgres16", parameters: [{ name: "rds.force_ssl", value: 1 }] })).toEqual([]);
  expect(check(T.params, { family: "postgres16", parameters: [{ name: "rds.force_ssl", value: "0" }] })).toEqual([force]);
  expect(check(T.params, { family: "postgres16", parameters: [{ name: "other", value: "1" }] })).toEqual([force]);
  expect(check(T.params, { family: "postgres16" })).toEqual([force]);
  expect(check(T.params, { parameters: [null] })).toEqual([force]);
  expect(check(T.params, { family: "mysql8.0" })).toEqual([]);
});

test("redis-tls-and-auth", () => {
  const check = rule("redis-tls-and-auth");
  expect(check(T.redis, { transitEncryptionEnabled: true, authToken: "t" })).toEqual([]);
  expect(check(T.redis, { transitEncryptionEnabled: true, transitEncryptionMode: "required", userGroupIds: ["ug"] })).toEqual([]);
  expect(check(T.redis, { transitEncryptionEnabled: true, transitEncryptionMode: "preferred", authToken: "t" })).toEqual([
    'transitEncryptionMode must be "required" (preferred still accepts plain text)',
  ]);
  expect(check(T.redis, { transitEncryptionMode: "preferred", authToken: "t" })).toEqual(["transitEncryptionEnabled must be true"]);
  expect(check(T.redis, { transitEncryptionEnabled: true })).toEqual(["set an authToken or userGroupIds"]);
  expect(check(T.redis, { transitEncryptionEnabled: true, userGroupIds: [] })).toEqual(["set an authToken or userGroupIds"]);
  expect(check(T.redis, { transitEncryptionEnabled: true, authToken: "<unknown>" })).toEqual([]);
  expect(check(T.redis, {})).toEqual(["transitEncryptionEnabled must be true", "set an authToken or userGroupIds"]);
});

test("private-placement", () => {
  const check = rule("private-placement");
  expect(check(T.service, {})).toEqual([]);
  expect(check(T.service, { networkConfiguration: { assignPublicIp: false } })).toEqual([]);
  expect(check(T.service, { networkConfiguration: { assignPublicIp: true } })).toEqual(["networkConfiguration.assignPublicIp must be false"]);
  expect(check(T.rds, { publiclyAccessible: true })).toEqual(["publiclyAccessible must be false"]);
  expect(check(T.rds, {})).toEqual([]);
});

test("internet-ingress-web-ports-only", () => {
  const check = rule("internet-ingress-web-ports-only");
  const only = (what: string) => [`ingress from the internet on ${what}; only 80 and 443 may be open`];
  expect(check(T.ingress, { cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 80, toPort: 80 })).toEqual([]);
  expect(check(T.ingress, { cidrIpv6: "::/0", ipProtocol: "tcp", fromPort: 443, toPort: 443 })).toEqual([]);
  expect(check(T.ingress, { cidrIpv6: "::/0", ipProtocol: "tcp", fromPort: 22, toPort: 22 })).toEqual(only("port 22"));
  expect(check(T.ingress, { cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 80, toPort: 443 })).toEqual(only("ports 80-443"));
  expect(check(T.ingress, { cidrIpv4: "0.0.0.0/0", ipProtocol: "-1" })).toEqual(only("all ports"));
  expect(check(T.ingress, { cidrIpv4: "10.0.0.0/8", ipProtocol: "-1" })).toEqual([]);
  expect(check(T.ingress, { referencedSecurityGroupId: "sg-1", ipProtocol: "-1" })).toEqual([]);
  expect(check(T.sgRule, { type: "ingress", cidrBlocks: ["0.0.0.0/0"], protocol: "tcp", fromPort: 5432, toPort: 5432 })).toEqual(only("port 5432"));
  expect(check(T.sgRule, { type: "ingress", ipv6CidrBlocks: ["::/0"], protocol: "all", fromPort: 0, toPort: 65535 })).toEqual(only("all ports"));
  expect(check(T.sgRule, { type: "egress", cidrBlocks: ["0.0.0.0/0"], protocol: "-1", fromPort: 0, toPort: 0 })).toEqual([]);
  expect(check(T.sg, {
    ingress: [
      { cidrBlocks: ["0.0.0.0/0"], protocol: "tcp", fromPort: 443, toPort: 443 },
      { cidrBlocks: ["10.0.0.0/16", "0.0.0.0/0"], protocol: "tcp", fromPort: 8080, toPort: 8080 },
      { ipv6CidrBlocks: ["::/0"], protocol: "-1", fromPort: 0, toPort: 0 },
      { securityGroups: ["sg-2"], protocol: "-1", fromPort: 0, toPort: 0 },
    ],
  })).toEqual([...only("port 8080"), ...only("all ports")]);
  expect(check(T.sg, {})).toEqual([]);
});

test("log-retention", () => {
  const check = rule("log-retention");
  expect(check(T.logGroup, { retentionInDays: 1 })).toEqual([]);
  for (const bad of [{}, { retentionInDays: 0 }, { retentionInDays: "30" }]) {
    expect(check(T.logGroup, bad)).toEqual(["set retentionInDays (logs are kept forever otherwise)"]);
  }
});

test("production-data-protection", () => {
  const check = rule("production-data-protection");
  const db = { deletionProtection: true, skipFinalSnapshot: false, finalSnapshotIdentifier: "final", backupRetentionPeriod: 7, multiAz: true };
  expect(check(T.rds, db)).toEqual([]);
  expect(check(T.rds, {})).toEqual([
    "deletionProtection must be true",
    "keep a final snapshot (skipFinalSnapshot: false and a finalSnapshotIdentifier)",
    "backupRetentionPeriod must be at least 7 days",
    "multiAz must be true",
  ]);
  expect(check(T.rds, { ...db, skipFinalSnapshot: true })).toEqual(["keep a final snapshot (skipFinalSnapshot: false and a finalSnapshotIdentifier)"]);
  expect(check(T.rds, { ...db, backupRetentionPeriod: 6 })).toEqual(["backupRetentionPeriod must be at least 7 days"]);
  expect(check(T.rds, { ...db, backupRetentionPeriod: "14" })).toEqual(["backupRetentionPeriod must be at least 7 days"]);
  const redis = { automaticFailoverEnabled: true, multiAzEnabled: true, snapshotRetentionLimit: 1, finalSnapshotIdentifier: "chat-prod-redis-final" };
  expect(check(T.redis, redis)).toEqual([]);
  expect(check(T.redis, { ...redis, finalSnapshotIdentifier: undefined })).toEqual(["keep a final snapshot (finalSnapshotIdentifier)"]);
  expect(check(T.redis, { ...redis, multiAzEnabled: false })).toEqual(["automaticFailoverEnabled and multiAzEnabled must be true"]);
  expect(check(T.redis, { ...redis, automaticFailoverEnabled: false })).toEqual(["automaticFailoverEnabled and multiAzEnabled must be true"]);
  expect(check(T.redis, { ...redis, snapshotRetentionLimit: 0 })).toEqual(["snapshotRetentionLimit must be at least 1 day"]);
  expect(check(T.redis, { ...redis, snapshotRetentionLimit: "7" })).toEqual(["snapshotRetentionLimit must be at least 1 day"]);
  expect(check(T.lb, { internal: true })).toEqual([]);
  expect(check(T.lb, { enableDeletionProtection: true })).toEqual([]);
  expect(check(T.lb, {})).toEqual(["enableDeletionProtection must be true on the public load balancer"]);
});

test("no-wildcard-data-actions", () => {
  const check = rule("no-wildcard-data-actions");
  const doc = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
  const wildcard = (sid: string, action: string) => `statement ${sid}: action "${action}" is a wildcard; list the actions needed`;
  expect(check(T.rolePolicy, { policy: doc({ Sid: "A", Effect: "Allow", Action: ["sqs:*", "logs:*", "s3:GetObject"], Resource: "*" }) })).toEqual([wildcard("A", "sqs:*")]);
  expect(check(T.rolePolicy, { policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }) })).toEqual([wildcard("(no Sid)", "*")]);
  expect(check(T.rolePolicy, { policy: doc({ Sid: "D", Effect: "Deny", Action: "*", Resource: "*" }) })).toEqual([]);
  expect(check(T.rolePolicy, { policy: doc({ Sid: "N", Effect: "Allow", NotAction: "iam:*", Resource: "*" }) })).toEqual([
    "statement N: Allow with NotAction grants everything else",
  ]);
  expect(check(T.rolePolicy, { policy: doc({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }) })).toEqual(["statement (no Sid): Allow with NotAction grants everything else"]);
  expect(check(T.rolePolicy, { policy: doc({ Sid: "K", Effect: "Allow", Action: [7, "kms:Decrypt"], Resource: "*" }) })).toEqual([]);
  expect(check(T.role, { inlinePolicies: [{ policy: doc({ Sid: "R", Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }) }, null] })).toEqual([
    wildcard("R", "secretsmanager:*"),
  ]);
  expect(check(T.role, {})).toEqual([]);
  expect(check(T.rolePolicy, { policy: { Statement: [{ Sid: "O", Effect: "Allow", Action: "dynamodb:*" }] } })).toEqual([wildcard("O", "dynamodb:*")]);
});

test("no-plain-secrets", () => {
  const check = rule("no-plain-secrets");
  const td = (env: object[]) => ({ containerDefinitions: JSON.stringify([{ name: "api", environment: env }, { name: "sidecar" }]) });
  expect(check(T.taskDef, td([{ name: "DB_PASSWORD", value: "x" }, { name: "DB_PASSWORD_ARN", value: "arn" }, { name: "LOG_LEVEL", value: "info" }]))).toEqual([
    "container api: environment variable DB_PASSWORD looks like a secret; pass it in `secrets` from Secrets Manager",
  ]);
  expect(check(T.taskDef, td([{ name: "UPSTREAM", value: "https://u:p@host/x" }]))).toEqual([
    "container api: environment variable UPSTREAM holds a URL with a password; pass it in `secrets` from Secrets Manager",
  ]);
  expect(check(T.lambda, { environment: { variables: { API_KEY: "k", API_KEY_NAME: "n" } } })).toEqual([
    "environment variable API_KEY looks like a secret; pass it in `secrets` from Secrets Manager",
  ]);
  expect(check(T.lambda, {})).toEqual([]);
});

test("alb-https", () => {
  const check = rule("alb-https");
  const forwards = ["HTTP listener forwards traffic; set domainName + hostedZoneId (or certificateArn) so port 80 only redirects to 443"];
  expect(check(T.listener, { protocol: "HTTPS", defaultActions: [{ type: "forward" }] })).toEqual([]);
  expect(check(T.listener, { protocol: "HTTP", defaultActions: [{ type: "redirect" }] })).toEqual([]);
  expect(check(T.listener, { protocol: "HTTP", defaultActions: [] })).toEqual(forwards);
  expect(check(T.listener, { protocol: "HTTP" })).toEqual(forwards);
  expect(check(T.listener, { protocol: "HTTP", defaultActions: [{ type: "redirect" }, { type: "forward" }] })).toEqual(forwards);
});

/** Types the stack rules read, and a resource as the stack rules see it. */
const S = {
  lb: "aws:lb/loadBalancer:LoadBalancer", acl: "aws:wafv2/webAcl:WebAcl", assoc: "aws:wafv2/webAclAssociation:WebAclAssociation",
  ruleGroup: "aws:wafv2/ruleGroup:RuleGroup", queue: "aws:sqs/queue:Queue", redrive: "aws:sqs/redrivePolicy:RedrivePolicy",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm", queuePolicy: "aws:sqs/queuePolicy:QueuePolicy", subnet: "aws:ec2/subnet:Subnet",
  service: "aws:ecs/service:Service", rdsSubnets: "aws:rds/subnetGroup:SubnetGroup", cacheSubnets: "aws:elasticache/subnetGroup:SubnetGroup",
  rds: "aws:rds/instance:Instance", selection: "aws:backup/selection:Selection", networkAcl: "aws:ec2/networkAcl:NetworkAcl",
  awsxVpc: "awsx:ec2:Vpc", network: "realtime-chat:network:Network",
};
const res = (type: string, name: string, inputs: Record<string, unknown>, extra: Partial<PolicyResource> = {}): PolicyResource => ({ type, name, inputs, ...extra });
const k = (r: PolicyResource) => `${r.type}::${r.name}`;

describe("stack rules", () => {
  const stackRule = (name: string) => {
    const r = STACK_RULES.find((x) => x.name === name);
    if (!r) throw new Error(`no stack rule ${name}`);
    return (resources: PolicyResource[]) => r.check(resources, { tier: "1k-dau" });
  };

  test("waf-on-public-alb", () => {
    const check = stackRule("waf-on-public-alb");
    const lb = res(S.lb, "alb", {}, { arn: "arn:lb" });
    const rateAcl = res(S.acl, "acl", { rules: [{ statement: { rateBasedStatement: { limit: 100 } } }] }, { arn: "arn:acl" });
    const plainAcl = res(S.acl, "plain", { rules: [{ statement: { managedRuleGroupStatement: {} } }] }, { arn: "arn:plain" });
    expect(check([lb, rateAcl, res(S.assoc, "a", { resourceArn: "arn:lb", webAclArn: "arn:acl" })])).toEqual([]);
    expect(check([lb, rateAcl])).toEqual([{ resource: k(lb), message: "no WAF web ACL is associated with this public load balancer" }]);
    expect(check([lb, rateAcl, res(S.assoc, "a", { resourceArn: "arn:other", webAclArn: "arn:acl" })])).toEqual([
      { resource: k(lb), message: "no WAF web ACL is associated with this public load balancer" },
    ]);
    expect(check([lb, rateAcl, plainAcl, res(S.assoc, "a", { resourceArn: "arn:lb", webAclArn: "arn:plain" })])).toEqual([
      { resource: k(lb), message: "the web ACL of this load balancer has no rate-based rule" },
    ]);
    // The ACL of the association is not known yet: any ACL of the stack with a rate-based rule will do.
    expect(check([lb, rateAcl, res(S.assoc, "a", { resourceArn: "arn:lb", webAclArn: "<unknown>" })])).toEqual([]);
    expect(check([lb, plainAcl, res(S.assoc, "a", { resourceArn: "<unknown>" })])).toEqual([{ resource: k(lb), message: "the web ACL of this load balancer has no rate-based rule" }]);
    expect(check([res(S.lb, "internal", { internal: true })])).toEqual([]);
    expect(check([res(S.lb, "nlb", { loadBalancerType: "network" })])).toEqual([]);
    expect(check([res(S.lb, "alb2", { loadBalancerType: "application" })])).toHaveLength(1);
  });

  test("queue-dlq-and-alarm", () => {
    const check = stackRule("queue-dlq-and-alarm");
    const dlq = res(S.queue, "push-dlq", { name: "chat-push-dlq" });
    const work = res(S.queue, "push", { name: "chat-push", redrivePolicy: JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:us-east-1:1:chat-push-dlq", maxReceiveCount: 5 }) });
    const alarm = res(S.alarm, "dlq-alarm", { dimensions: { QueueName: "chat-push-dlq" } });
    expect(check([work, dlq, alarm])).toEqual([]);
    expect(check([work, dlq])).toEqual([{ resource: k(dlq), message: "dead-letter queue chat-push-dlq has no CloudWatch alarm (dimension QueueName = chat-push-dlq)" }]);
    const lonely = res(S.queue, "lonely", { name: "chat-lonely" });
    expect(check([lonely])).toEqual([{ resource: k(lonely), message: "queue has no redrivePolicy to a dead-letter queue" }]);
    // A separate RedrivePolicy resource naming the queue by URL, and a DLQ marked by redriveAllowPolicy.
    const viaResource = res(S.queue, "offline", { name: "chat-offline" });
    const allowDlq = res(S.queue, "odlq", { name: "chat-offline-dlq", redriveAllowPolicy: "{}" });
    expect(check([viaResource, allowDlq, res(S.redrive, "rp", { queueUrl: "https://sqs/1/chat-offline", redrivePolicy: { deadLetterTargetArn: "arn:aws:sqs:r:1:chat-offline-dlq" } }),
      res(S.alarm, "al", { dimensions: { QueueName: "chat-offline-dlq" } })])).toEqual([]);
    expect(check([allowDlq])).toEqual([{ resource: k(allowDlq), message: "dead-letter queue chat-offline-dlq has no CloudWatch alarm (dimension QueueName = chat-offline-dlq)" }]);
    // Named by ARN or by the logical name when the physical name is not an input.
    const byArn = res(S.queue, "by-arn", {}, { arn: "arn:aws:sqs:r:1:auto-dlq" });
    const src = res(S.queue, "src", { redrivePolicy: { deadLetterTargetArn: "arn:aws:sqs:r:1:auto-dlq" } }, { id: "https://sqs/1/src-q" });
    expect(check([src, byArn])).toEqual([{ resource: k(byArn), message: "dead-letter queue auto-dlq has no CloudWatch alarm (dimension QueueName = auto-dlq)" }]);
  });

  test("queue-tls-only", () => {
    const check = stackRule("queue-tls-only");
    const q = res(S.queue, "q", {}, { id: "https://sqs/1/q" });
    const deny = (url: string, secure: unknown = "false") => res(S.queuePolicy, "p", { queueUrl: url, policy: JSON.stringify({ Statement: [{ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": secure } } }] }) });
    const msg = [{ resource: k(q), message: "no queue policy denies requests without TLS (Deny when aws:SecureTransport is false)" }];
    expect(check([q, deny("https://sqs/1/q")])).toEqual([]);
    expect(check([q, deny("https://sqs/1/q", false)])).toEqual([]);
    expect(check([q, deny("https://sqs/1/other")])).toEqual(msg);
    expect(check([q, deny("https://sqs/1/q", "true")])).toEqual(msg);
    expect(check([q])).toEqual(msg);
    expect(check([q, res(S.queuePolicy, "p", { queueUrl: "https://sqs/1/q", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Condition: { Bool: { "aws:SecureTransport": "false" } } }] }) })])).toEqual(msg);
    expect(check([res(S.queue, "unknown-url", {})])).toEqual([]);
    expect(check([q, res(S.queuePolicy, "p", { queueUrl: "<unknown>" })])).toEqual([]);
    expect(check([res(S.queue, "by-url", { url: "https://sqs/1/u" }), deny("https://sqs/1/u")])).toEqual([]);
  });

  test("data-and-tasks-in-private-subnets", () => {
    const check = stackRule("data-and-tasks-in-private-subnets");
    const priv = res(S.subnet, "private-a", { tags: { Tier: "private" } }, { id: "subnet-p" });
    const pub = res(S.subnet, "public-a", { tags: { Tier: "public" } }, { id: "subnet-u" });
    const untagged = res(S.subnet, "other", {}, { id: "subnet-x" });
    const svc = res(S.service, "svc", { networkConfiguration: { subnets: ["subnet-p", "subnet-u"] } });
    const db = res(S.rdsSubnets, "dbs", { subnetIds: ["subnet-x"] });
    const cache = res(S.cacheSubnets, "cs", { subnetIds: ["subnet-p", 5] });
    expect(check([priv, pub, untagged, svc, db, cache])).toEqual([
      { resource: k(svc), message: "uses subnet public-a (Tier=public); use the private subnets" },
      { resource: k(db), message: "uses subnet other (Tier=untagged); use the private subnets" },
    ]);
    expect(check([priv, res(S.service, "ok", { networkConfiguration: { subnets: ["subnet-p", "subnet-unknown"] } })])).toEqual([]);
  });

  test("database-in-backup-plan", () => {
    const check = stackRule("database-in-backup-plan");
    const db = res(S.rds, "db", {}, { arn: "arn:db" });
    expect(check([db, res(S.selection, "sel", { resources: ["arn:db"] })])).toEqual([]);
    expect(check([db, res(S.selection, "sel", { resources: ["arn:other"] })])).toEqual([{ resource: k(db), message: "no AWS Backup selection includes this database" }]);
    expect(check([db])).toEqual([{ resource: k(db), message: "no AWS Backup selection includes this database" }]);
    expect(check([db, res(S.selection, "sel", { resources: ["<unknown>"] })])).toEqual([]);
    expect(check([res(S.rds, "new", {}), res(S.selection, "sel", { resources: ["arn:x"] })])).toEqual([]);
  });
});

describe("rules apply to every type they name, and to nothing else", () => {
  const bad: Array<[string, string, Record<string, unknown>]> = [
    ["encryption-at-rest", T.rds, {}], ["encryption-at-rest", T.cluster, {}], ["encryption-at-rest", T.redis, {}],
    ["encryption-at-rest", T.queue, {}], ["encryption-at-rest", T.topic, {}],
    ["database-requires-tls", T.proxy, {}], ["database-requires-tls", T.params, { family: "postgres16" }],
    ["redis-tls-and-auth", T.redis, {}],
    ["private-placement", T.service, { networkConfiguration: { assignPublicIp: true } }], ["private-placement", T.rds, { publiclyAccessible: true }],
    ["vpc-layout", "awsx:ec2:Vpc", { natGateways: { strategy: "Single" } }],
    ["internet-ingress-web-ports-only", T.sg, { ingress: [{ cidrBlocks: ["0.0.0.0/0"], protocol: "-1" }] }],
    ["internet-ingress-web-ports-only", T.sgRule, { type: "ingress", cidrBlocks: ["0.0.0.0/0"], protocol: "-1" }],
    ["internet-ingress-web-ports-only", T.ingress, { cidrIpv4: "0.0.0.0/0", ipProtocol: "-1" }],
    ...["aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"].map(
      (type): [string, string, Record<string, unknown>] => {
        const policy = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*" }] });
        return ["no-wildcard-data-actions", type, type === "aws:iam/role:Role" ? { inlinePolicies: [{ policy }] } : { policy }];
      }),
    ["no-plain-secrets", T.taskDef, { containerDefinitions: JSON.stringify([{ name: "api", environment: [{ name: "DB_PASSWORD", value: "x" }] }]) }],
    ["no-plain-secrets", T.lambda, { environment: { variables: { DB_PASSWORD: "x" } } }],
  ];
  for (const [name, type, inputs] of bad) {
    test(`${name} on ${type}`, () => {
      const r = RESOURCE_RULES.find((x) => x.name === name)!;
      expect(r.types).toContain(type);
      expect(r.check({ type, name: "r", inputs }, { tier: "1k-dau" }).length).toBeGreaterThan(0);
    });
  }
  test("every rule has a description for the policy pack", () => {
    for (const r of [...RESOURCE_RULES, ...STACK_RULES]) expect({ name: r.name, described: r.description.length > 20 }).toEqual({ name: r.name, described: true });
  });
  test("a policy document on a non-IAM type is not read", () => {
    const check = rule("no-wildcard-data-actions");
    expect(check(T.queue, { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*" }] }) })).toEqual([]);
  });
});

test("no-wildcard-data-actions: every data service's wildcard is refused; other services' are left to review", () => {
  const check = rule("no-wildcard-data-actions");
  for (const svc of ["rds", "rds-db", "rds-data", "sqs", "elasticache", "secretsmanager", "kms", "s3", "dynamodb", "backup", "sns"]) {
    expect(check(T.rolePolicy, { policy: JSON.stringify({ Statement: [{ Sid: "W", Effect: "Allow", Action: `${svc}:*` }] }) })).toEqual([
      `statement W: action "${svc}:*" is a wildcard; list the actions needed`,
    ]);
  }
  expect(check(T.rolePolicy, { policy: JSON.stringify({ Statement: [{ Sid: "L", Effect: "Allow", Action: ["logs:*", "cloudwatch:*"] }] }) })).toEqual([]);
  expect(check(T.rolePolicy, { policy: JSON.stringify({ Statement: [null, { Sid: "W", Effect: "Allow", Action: "kms:*" }] }) })).toHaveLength(1);
});

test("no-plain-secrets: each secret word is flagged; each reference suffix makes it a reference", () => {
  const check = rule("no-plain-secrets");
  for (const word of ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "CREDENTIALS", "CREDENTIAL", "PRIVATE"]) {
    expect(check(T.lambda, { environment: { variables: { [`CHAT_${word}`]: "x" } } })).toEqual([
      `environment variable CHAT_${word} looks like a secret; pass it in \`secrets\` from Secrets Manager`,
    ]);
    for (const suffix of ["ARN", "ID", "NAME", "FILE", "PATH", "TTL", "SECONDS", "MS", "HEADER", "ISSUER", "AUDIENCE", "ALGORITHM"]) {
      expect(check(T.lambda, { environment: { variables: { [`CHAT_${word}_${suffix}`]: "x" } } })).toEqual([]);
    }
  }
  // a URL with a password anywhere but at the start is not a URL
  expect(check(T.lambda, { environment: { variables: { NOTE: "see https://u:p@host/x" } } })).toEqual([]);
  expect(check(T.lambda, { environment: { variables: { PORT: 5432 } } })).toEqual([]);
  expect(check(T.taskDef, { containerDefinitions: JSON.stringify([null, { name: "api", environment: [null] }]) })).toEqual([]);
});

test("vpc-layout: Isolated specs are named; the default NAT strategy is one per zone; dev may share one", () => {
  const check = (inputs: Record<string, unknown>, tier = "1k-dau") => RESOURCE_RULES.find((x) => x.name === "vpc-layout")!.check({ type: "awsx:ec2:Vpc", name: "v", inputs }, { tier });
  expect(check({ subnetSpecs: [{ type: "Private" }, { type: "Isolated", name: "data" }, { type: "Isolated" }, null] })).toEqual([
    'subnetSpecs data, (unnamed) are "Isolated": nothing here runs without egress; use "Private"',
  ]);
  expect(check({})).toEqual([]);
  expect(check({ subnetSpecs: "<unknown>", natGateways: { strategy: "<unknown>" } })).toEqual([]);
  expect(check({ natGateways: { strategy: "Single" } }, "dev")).toEqual([]);
  expect(check({ subnetSpecs: [{ type: "Public" }], natGateways: { strategy: "Single" } })).toEqual([
    'subnetSpecs has no "Private" subnet: tasks, databases and caches need private subnets',
    'natGateways.strategy is Single: tier 1k-dau needs zone redundancy, use "OnePerAz" (sizing.network.natGateways "perZone")',
  ]);
});

test("production-data-protection: an empty Redis final snapshot name keeps no snapshot", () => {
  const redis = { automaticFailoverEnabled: true, multiAzEnabled: true, snapshotRetentionLimit: 1, finalSnapshotIdentifier: "" };
  expect(rule("production-data-protection")(T.redis, redis)).toEqual(["keep a final snapshot (finalSnapshotIdentifier)"]);
});

test("queue-dlq-and-alarm: a RedrivePolicy resource naming the queue by its id (URL) counts as its redrive", () => {
  const check = (resources: PolicyResource[]) => STACK_RULES.find((x) => x.name === "queue-dlq-and-alarm")!.check(resources, { tier: "1k-dau" });
  const work: PolicyResource = { type: T.queue, name: "work", inputs: {}, id: "https://sqs.us-east-1.amazonaws.com/1/chat-work-7f3a" };
  const redrive: PolicyResource = { type: "aws:sqs/redrivePolicy:RedrivePolicy", name: "rp", inputs: { queueUrl: "https://sqs.us-east-1.amazonaws.com/1/chat-work-7f3a", redrivePolicy: "<unknown>" } };
  expect(check([work, redrive])).toEqual([]);
  expect(check([work])).toEqual([{ resource: `${T.queue}::work`, message: "queue has no redrivePolicy to a dead-letter queue" }]);
});

describe("stack rules: inputs shared with other types, unknowns at preview, the pack's rule list", () => {
  const check = (name: string, resources: PolicyResource[]) => STACK_RULES.find((x) => x.name === name)!.check(resources, { tier: "1k-dau" });
  const priv = res(S.subnet, "private-a", { tags: { Tier: "private" } }, { id: "subnet-p" });
  const pub = res(S.subnet, "public-a", { tags: { Tier: "public" } }, { id: "subnet-u" });

  test("the policy pack runs every rule docs/PLAN.md lists, and no other", () => {
    const doc = readFileSync(join(__dirname, "../../docs/PLAN.md"), "utf8");
    const table = doc.slice(doc.indexOf("| Rule | Checks |"));
    const documented = [...table.slice(0, table.indexOf("\n\n")).matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented.length).toBeGreaterThanOrEqual(15);
    expect(ALL_RULES.map((r) => r.name).sort()).toEqual(documented);
  });

  test("data-and-tasks-in-private-subnets: an ElastiCache subnet group on a public subnet is refused; other types' subnetIds are not read", () => {
    const cache = res(S.cacheSubnets, "redis", { subnetIds: ["subnet-p", "subnet-u"] });
    expect(check("data-and-tasks-in-private-subnets", [priv, pub, cache])).toEqual([{ resource: k(cache), message: "uses subnet public-a (Tier=public); use the private subnets" }]);
    // A network ACL of the public subnets is where it belongs.
    expect(check("data-and-tasks-in-private-subnets", [priv, pub, res(S.networkAcl, "public-nacl", { subnetIds: ["subnet-u"] })])).toEqual([]);
  });

  test("data-and-tasks-in-private-subnets: ids unknown at preview match nothing; a service without a network configuration is skipped", () => {
    const pending = res(S.subnet, "public-b", { tags: { Tier: "public" } }, { id: "<unknown>" });
    const svc = res(S.service, "svc", { networkConfiguration: { subnets: ["<unknown>", "subnet-p"] } });
    expect(check("data-and-tasks-in-private-subnets", [priv, pending, svc])).toEqual([]);
    const vpc = res(S.awsxVpc, "vpc", {}, { outputs: { publicSubnetIds: ["<unknown>"] } } as Partial<PolicyResource>);
    expect(check("data-and-tasks-in-private-subnets", [priv, vpc, svc])).toEqual([]);
    expect(check("data-and-tasks-in-private-subnets", [priv, res(S.service, "ec2-launch", {})])).toEqual([]);
  });

  test("data-and-tasks-in-private-subnets: public subnet ids are taken from the awsx Vpc, not from a component that re-exports them", () => {
    const vpc = res(S.awsxVpc, "vpc", {}, { outputs: { publicSubnetIds: ["subnet-v"] } } as Partial<PolicyResource>);
    const network = res(S.network, "net", {}, { outputs: { publicSubnetIds: ["subnet-v"] } } as Partial<PolicyResource>);
    const svc = res(S.service, "svc", { networkConfiguration: { subnets: ["subnet-v"] } });
    expect(check("data-and-tasks-in-private-subnets", [vpc, network, svc])).toEqual([{ resource: k(svc), message: "uses public subnet subnet-v of awsx Vpc vpc; use its privateSubnetIds" }]);
  });

  test("waf-on-public-alb: a rate-based rule among other rules will do; only web ACLs count; an ACL outside the stack is not judged", () => {
    const lb = res(S.lb, "alb", {}, { arn: "arn:lb" });
    const mixed = res(S.acl, "mixed", { rules: [{ statement: { managedRuleGroupStatement: {} } }, { statement: { rateBasedStatement: { limit: 100 } } }] }, { arn: "arn:mixed" });
    expect(check("waf-on-public-alb", [lb, mixed, res(S.assoc, "a", { resourceArn: "arn:lb", webAclArn: "arn:mixed" })])).toEqual([]);
    const plain = res(S.acl, "plain", { rules: [{ statement: { managedRuleGroupStatement: {} } }] }, { arn: "arn:plain" });
    const pendingAssoc = res(S.assoc, "a", { resourceArn: "arn:lb", webAclArn: "<unknown>" });
    // The association's ACL is not known yet: one ACL of the stack with a rate-based rule is enough.
    expect(check("waf-on-public-alb", [lb, plain, mixed, pendingAssoc])).toEqual([]);
    // A rule group with a rate-based rule is not a web ACL.
    const group = res(S.ruleGroup, "group", { rules: [{ statement: { rateBasedStatement: { limit: 100 } } }] }, { arn: "arn:group" });
    expect(check("waf-on-public-alb", [lb, plain, group, pendingAssoc])).toEqual([{ resource: k(lb), message: "the web ACL of this load balancer has no rate-based rule" }]);
    // Associated with an ACL this stack does not declare (and it declares none): nothing to judge.
    expect(check("waf-on-public-alb", [lb, res(S.assoc, "a", { resourceArn: "arn:lb", webAclArn: "arn:elsewhere" })])).toEqual([]);
  });

  test("queue-dlq-and-alarm: a queue known by its id and without a redrive policy is still refused", () => {
    // Another queue of the stack has its redrive: it must not vouch for this one.
    const work = res(S.queue, "work", { name: "chat-work", redrivePolicy: { deadLetterTargetArn: "arn:aws:sqs:r:1:chat-work-dlq" } }, { id: "https://sqs.us-east-1.amazonaws.com/1/chat-work" });
    const dlq = res(S.queue, "work-dlq", { name: "chat-work-dlq" }, { id: "https://sqs.us-east-1.amazonaws.com/1/chat-work-dlq" });
    const alarm = res(S.alarm, "dlq-alarm", { dimensions: { QueueName: "chat-work-dlq" } });
    const q = res(S.queue, "lonely", { name: "chat-lonely" }, { id: "https://sqs.us-east-1.amazonaws.com/1/chat-lonely" });
    expect(check("queue-dlq-and-alarm", [work, dlq, alarm, q])).toEqual([{ resource: k(q), message: "queue has no redrivePolicy to a dead-letter queue" }]);
  });

  test("queue-tls-only: a document unknown at preview is not judged; one that is not JSON, or denies on other conditions, does not count", () => {
    const q = res(S.queue, "q", {}, { id: "https://sqs/1/q" });
    const doc = (policy: unknown) => res(S.queuePolicy, "p", { queueUrl: "https://sqs/1/q", policy });
    const msg = [{ resource: k(q), message: "no queue policy denies requests without TLS (Deny when aws:SecureTransport is false)" }];
    expect(check("queue-tls-only", [q, doc("<unknown>")])).toEqual([]);
    expect(check("queue-tls-only", [q, doc("not json")])).toEqual(msg);
    expect(check("queue-tls-only", [q, doc({ Statement: [null, { Effect: "Deny", Principal: "*", Action: "sqs:*" },
      { Effect: "Deny", Condition: { StringNotEquals: { "aws:SourceAccount": "1" } } }] })])).toEqual(msg);
  });

  test("resource rules skip null entries in lists instead of failing", () => {
    const run = (name: string, type: string, inputs: Record<string, unknown>) =>
      RESOURCE_RULES.find((x) => x.name === name)!.check({ type, name: "r", inputs }, { tier: "1k-dau" });
    expect(run("vpc-layout", "awsx:ec2:Vpc", { subnetSpecs: [null, { type: "Private" }, { type: "Public" }] })).toEqual([]);
    expect(run("internet-ingress-web-ports-only", "aws:ec2/securityGroup:SecurityGroup", { ingress: [null, { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }] })).toEqual([]);
    expect(run("alb-https", "aws:lb/listener:Listener", { protocol: "HTTP", defaultActions: [null] })).toEqual([
      "HTTP listener forwards traffic; set domainName + hostedZoneId (or certificateArn) so port 80 only redirects to 443",
    ]);
  });

  test("stack rules skip null entries and missing outputs instead of failing", () => {
    const lb = res(S.lb, "alb", {}, { arn: "arn:lb" });
    const acl = res(S.acl, "acl", { rules: [null, { name: "no-statement" }, { statement: { rateBasedStatement: { limit: 100 } } }] }, { arn: "arn:acl" });
    expect(check("waf-on-public-alb", [lb, acl, res(S.assoc, "a", { resourceArn: "arn:lb", webAclArn: "arn:acl" })])).toEqual([]);
    // An awsx Vpc known by its inputs only (no outputs yet).
    const vpc = res(S.awsxVpc, "vpc", { publicSubnetIds: ["subnet-v"] });
    const svc = res(S.service, "svc", { networkConfiguration: { subnets: ["subnet-v"] } });
    expect(check("data-and-tasks-in-private-subnets", [vpc, svc])).toEqual([{ resource: k(svc), message: "uses public subnet subnet-v of awsx Vpc vpc; use its privateSubnetIds" }]);
  });

  test("queue-dlq-and-alarm: a redrive whose target is unknown at preview makes no queue a dead-letter queue", () => {
    // At preview a new queue's name can be unknown, and so can a redrive's target: they must not meet.
    const work = res(S.queue, "work", {}, { id: "https://sqs/1/work" });
    const pendingRedrive = res(S.redrive, "rp", { queueUrl: "https://sqs/1/work", redrivePolicy: "<unknown>" });
    const pending = res(S.queue, "pending", { name: "<unknown>", redrivePolicy: { deadLetterTargetArn: "arn:aws:sqs:r:1:chat-x-dlq" } });
    const dlq = res(S.queue, "x-dlq", { name: "chat-x-dlq" });
    const alarm = res(S.alarm, "al", { dimensions: { QueueName: "chat-x-dlq" } });
    expect(check("queue-dlq-and-alarm", [work, pendingRedrive, pending, dlq, alarm])).toEqual([]);
  });

  test("queue-tls-only: a policy that also allows is fine when one statement denies plain HTTP; only queues need a policy", () => {
    const q = res(S.queue, "q", {}, { id: "https://sqs/1/q" });
    const policy = res(S.queuePolicy, "p", { queueUrl: "https://sqs/1/q", policy: JSON.stringify({ Statement: [
      { Effect: "Allow", Action: "sqs:SendMessage", Principal: { Service: "sns.amazonaws.com" } },
      { Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } },
    ] }) });
    expect(check("queue-tls-only", [q, policy])).toEqual([]);
    expect(check("queue-tls-only", [q, policy, res(S.alarm, "depth", {}, { id: "chat-depth-alarm" })])).toEqual([]);
  });
});
