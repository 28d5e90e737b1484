/**
 * Preflight, exact answers at the edges: the values AWS still accepts at each limit and the first it refuses,
 * what each check leaves alone (unknown values, other types, other regions), and the complete findings of the
 * cross-resource rules (resource, field and message). Written from the survivors of mutation testing
 * (bench/results/mutation.md); preflight.test.ts shows every rule firing once.
 */
import { AUTO_NAMED, CONSTRAINTS } from "./aws-constraints";
import { formatFinding, preflight, preflightRuleCount, typesWithoutRules, valuesAt } from "./preflight";
import type { PreflightFinding, PreflightResource } from "./preflight";

const T = {
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  lb: "aws:lb/loadBalancer:LoadBalancer",
  tg: "aws:lb/targetGroup:TargetGroup",
  listener: "aws:lb/listener:Listener",
  rds: "aws:rds/instance:Instance",
  redis: "aws:elasticache/replicationGroup:ReplicationGroup",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  queue: "aws:sqs/queue:Queue",
  topic: "aws:sns/topic:Topic",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  bucket: "aws:s3/bucket:Bucket",
  ecr: "aws:ecr/repository:Repository",
  vault: "aws:backup/vault:Vault",
  glueDb: "aws:glue/catalogDatabase:CatalogDatabase",
  task: "aws:ecs/taskDefinition:TaskDefinition",
  record: "aws:route53/record:Record",
  wafLogging: "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
};
const res = (type: string, name: string, inputs: Record<string, any>): PreflightResource => ({ type, name, custom: true, inputs });
const lines = (fs: PreflightFinding[]) => fs.map((f) => `${f.rule} | ${f.field} | ${f.message}`);
const run = (...rs: PreflightResource[]) => lines(preflight(rs));

describe("preflight at the limits: the last value AWS accepts passes, the first it refuses is reported", () => {
  it("lengths: exactly the maximum passes, one more fails; the minimum likewise", () => {
    expect(run(res(T.lb, "alb", { name: "a".repeat(32) }))).toStrictEqual([]);
    expect(run(res(T.vault, "v", { name: "vv" }))).toStrictEqual([]);
    expect(run(res(T.vault, "v", { name: "v" }))).toStrictEqual(["aws:backup/vault:Vault.name | name | backup vault name is 1 characters; AWS needs at least 2"]);
    // the trust policy limit counts no whitespace: 2048 characters plus indentation is accepted
    const policy = (n: number) => `{\n  "S": "${"x".repeat(n - 8)}"\n}`;
    expect(policy(2048).replace(/\s/g, "")).toHaveLength(2048);
    expect(run(res(T.role, "role", { name: "role", assumeRolePolicy: policy(2048) }))).toStrictEqual([]);
    expect(run(res(T.role, "role", { name: "role", assumeRolePolicy: policy(2049) }))).toStrictEqual([
      "aws:iam/role:Role.assumeRolePolicy | assumeRolePolicy | trust policy is 2049 characters (whitespace not counted); AWS accepts at most 2048",
    ]);
  });

  it("ranges: both ends pass, one past either end fails; numbers given as strings are read as numbers", () => {
    for (const port of [1, 65535, "443"]) expect(run(res(T.listener, "l", { port, protocol: "HTTPS" }))).toStrictEqual([]);
    expect(run(res(T.listener, "l", { port: 65536 }))).toStrictEqual(["aws:lb/listener:Listener.port | port | listener port 65536 is outside 1..65535"]);
    expect(run(res(T.listener, "l", { port: "https" }))).toStrictEqual(['aws:lb/listener:Listener.port | port | listener port "https" is outside 1..65535']);
  });

  it("enumerations: a listed number given as a string passes; an unlisted one does not", () => {
    expect(run(res(T.logGroup, "logs", { name: "/ecs/chat", retentionInDays: "14" }))).toStrictEqual([]);
    expect(run(res(T.logGroup, "logs", { name: "/ecs/chat", retentionInDays: "15" }))).toStrictEqual([
      'aws:cloudwatch/logGroup:LogGroup.retentionInDays | retentionInDays | retention (days) "15" is not one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653',
    ]);
  });

  it("characters: each refused character is named once; characters outside the Basic Multilingual Plane are read whole", () => {
    expect(run(res(T.ingress, "r", { description: "api >> db -> proxy" }))).toStrictEqual([
      `${T.ingress}.description | description | description "api >> db -> proxy" contains ">"; AWS accepts only letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*`,
    ]);
    // Glue accepts any single-line character, U+10000 and above included
    expect(run(res(T.glueDb, "db", { name: "chat logs 💬" }))).toStrictEqual([]);
    // IAM role descriptions accept Latin-1 only
    expect(run(res(T.role, "role", { name: "role", description: "chat 💬" }))).toStrictEqual([
      'aws:iam/role:Role.description | description | role description "chat 💬" contains "💬"; AWS accepts only printable Latin-1 characters',
    ]);
  });

  it("S3 bucket names: a digit may start one; a period or hyphen may not start or end one; reserved suffixes", () => {
    expect(run(res(T.bucket, "b", { bucket: "1k-dau-alb-logs" }))).toStrictEqual([]);
    expect(run(res(T.bucket, "b", { bucket: ".chat-logs" }))).toStrictEqual(['aws:s3/bucket:Bucket.bucket | bucket | bucket name ".chat-logs" must start with a letter or digit']);
    expect(run(res(T.bucket, "b", { bucket: "chat-logs." }))).toStrictEqual(['aws:s3/bucket:Bucket.bucket | bucket | bucket name "chat-logs." must end with a letter or digit']);
    expect(run(res(T.bucket, "b", { bucket: "chat-logs-s3alias" }))).toStrictEqual(['aws:s3/bucket:Bucket.bucket | bucket | bucket name "chat-logs-s3alias" ends with "-s3alias", which AWS reserves']);
    expect(run(res(T.bucket, "b", { bucket: "xn--chat" }))).toStrictEqual(['aws:s3/bucket:Bucket.bucket | bucket | bucket name "xn--chat" starts with "xn--", which AWS reserves or refuses']);
  });

  it("load balancer names: a digit may start one and hyphens may repeat; a leading hyphen is refused", () => {
    expect(run(res(T.lb, "alb", { name: "1k-dau--alb" }))).toStrictEqual([]);
    expect(run(res(T.lb, "alb", { name: "-chat" }))).toStrictEqual(['aws:lb/loadBalancer:LoadBalancer.name | name | name "-chat" must start with a letter or digit']);
  });

  it("a trailing hyphen or period is refused only where AWS refuses it (not in EC2 descriptions or queue names)", () => {
    expect(run(res(T.sg, "sg", { name: "web", description: "HTTPS from the load balancer (443)." }))).toStrictEqual([]);
    expect(run(res(T.queue, "q", { name: "chat-jobs-" }))).toStrictEqual([]);
  });

  it("the reserved aws: tag prefix in any case; an empty key; an empty value is accepted; 50 tags pass", () => {
    expect(run(res(T.queue, "q", { name: "q", tags: { "AWS:owner": "me", "": "x", Empty: "", Count: 5 } }))).toStrictEqual([
      'tags | tags.AWS:owner | tag key "AWS:owner" starts with "aws:", which AWS reserves or refuses',
      "tags | tags. | tag key is 0 characters; AWS needs at least 1",
    ]);
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "v"]));
    expect(run(res(T.queue, "q", { name: "q", tags: fifty }))).toStrictEqual([]);
    // a tag whose value is not known yet is not counted
    expect(run(res(T.queue, "q", { name: "q", tags: { ...fifty, Later: "<unknown>" } }))).toStrictEqual([]);
    expect(run(res(T.queue, "q", { name: "q", tags: [{ key: "aws:x", value: "y" }] }))).toStrictEqual([]);
    // the whole map not known yet (an unresolved Output)
    expect(run(res(T.queue, "q", { name: "q", tags: "<unknown>" }))).toStrictEqual([]);
  });
});

describe("values the preflight cannot judge are skipped", () => {
  it("null, undefined and the harness's unknown markers", () => {
    expect(valuesAt({ a: null, b: "UNKNOWN", c: "<unknown>", d: "x" }, "a")).toStrictEqual([]);
    expect(valuesAt({ a: null, b: "UNKNOWN", c: "<unknown>", d: "x" }, "b")).toStrictEqual([]);
    expect(valuesAt({ a: { b: { c: 1 } } }, "a.b.c")).toStrictEqual([{ path: "a.b.c", value: 1 }]);
    expect(valuesAt({ a: "text" }, "a.b")).toStrictEqual([]);
    expect(valuesAt({ a: "text" }, "a.length")).toStrictEqual([]); // a string has no fields
    expect(valuesAt({ a: null }, "a.b")).toStrictEqual([]);
    expect(valuesAt({ rules: { name: "not an array" } }, "rules[].name")).toStrictEqual([]);
    expect(run(res(T.sg, "sg", { name: "UNKNOWN", description: null, ingress: [{ description: "<unknown>" }] }))).toStrictEqual([]);
  });

  it("a non-string value of a text field is checked as its JSON text, never crashes the check", () => {
    expect(run(res(T.lb, "alb", { name: 12345 }))).toStrictEqual([]);
    expect(run(res(T.queue, "q", { name: 12345 }))).toStrictEqual([]);
    expect(run(res(T.tg, "a", { name: 12345 }), res(T.tg, "b", { name: 12345 }))).toStrictEqual([]);
    expect(run(res(T.lb, "alb", { name: { a: 1 } }))).toStrictEqual([
      'aws:lb/loadBalancer:LoadBalancer.name | name | name "{\\"a\\":1}" contains "{", "\\"", ":", "}"; AWS accepts only letters, digits and hyphens',
    ]);
  });

  it("resources without custom: false (plan resources) are checked; providers and components are not", () => {
    expect(lines(preflight([{ type: T.ingress, name: "r", inputs: { description: "a -> b" } }]))).toHaveLength(1);
    expect(preflight([{ type: "pulumi:providers:aws", name: "dr", custom: true, inputs: { tags: { "aws:x": "y" } } }])).toStrictEqual([]);
  });
});

describe("generated names (no physical name given)", () => {
  it("every auto-named type with a short logical name and no inputs has no finding", () => {
    for (const type of Object.keys(AUTO_NAMED)) expect({ type, findings: run(res(type, "chat-api", {})) }).toStrictEqual({ type, findings: [] });
  });

  it("a name prefix replaces the generated name", () => {
    expect(run(res(T.role, "r".repeat(57), { namePrefix: "chat-" }))).toStrictEqual([]);
  });

  it("types the provider lowercases are checked lowercased", () => {
    expect(run(res(T.bucket, "Alb-Logs", {}))).toStrictEqual([]);
    expect(run(res(T.ecr, "Chat-Api", {}))).toStrictEqual([]);
    // and the others as written
    expect(run(res(T.queue, "Chat.Push", {}))).toStrictEqual([
      'aws:sqs/queue:Queue.name | name | queue name "Chat.Push-a1b2c3d" is not accepted; AWS accepts only letters, digits, hyphens and underscores (FIFO queues end in .fifo) (name generated by Pulumi from the logical name)',
    ]);
  });
});

describe("combination rules: what passes and the exact finding", () => {
  it("fargate-task-size applies to Fargate tasks with known sizes only", () => {
    const task = (inputs: Record<string, unknown>) => res(T.task, "task", { family: "f", ...inputs });
    expect(run(task({ cpu: "256", memory: "4096", requiresCompatibilities: ["EC2"] }))).toStrictEqual([]);
    expect(run(task({ cpu: "256", memory: "4096", requiresCompatibilities: "FARGATE" }))).toStrictEqual([]);
    expect(run(task({ cpu: "<unknown>", memory: "4096", requiresCompatibilities: ["FARGATE"] }))).toStrictEqual([]);
    expect(run(task({ cpu: "256", memory: "<unknown>", requiresCompatibilities: ["FARGATE"] }))).toStrictEqual([]);
    expect(run(task({ cpu: 512, memory: 4096, requiresCompatibilities: ["FARGATE"] }))).toStrictEqual([]);
    expect(run(task({ cpu: 512, memory: 5120, requiresCompatibilities: ["FARGATE"] }))).toStrictEqual([
      'fargate-task-size | memory | Fargate memory 5120 MiB does not go with cpu 512; accepted: 1024..4096 MiB (1024, 2048, 3072, 4096)',
    ]);
  });

  it("sqs-fifo-name: a FIFO queue named .fifo passes; an SNS FIFO topic is not a queue; unknown names are skipped", () => {
    expect(run(res(T.queue, "q", { name: "jobs.fifo", fifoQueue: true }))).toStrictEqual([]);
    expect(run(res(T.topic, "t", { name: "events.fifo", fifoTopic: true }))).toStrictEqual([]);
    expect(run(res(T.queue, "q", { name: "<unknown>", fifoQueue: true }))).toStrictEqual([]);
  });

  it("alarm periods: 10, 20, 30 and multiples of 60 pass; 0 and negatives fail", () => {
    const alarm = (i: Record<string, unknown>) => res(T.alarm, "a", { name: "a", ...i });
    for (const period of [10, 20, 30, 60, 120, 86_400]) expect(run(alarm({ period, evaluationPeriods: 1 }))).toStrictEqual([]);
    expect(run(alarm({ period: 0, evaluationPeriods: 1 }))).toStrictEqual(["alarm-period | period | period 0 s is not 10, 20, 30 or a multiple of 60"]);
    expect(run(alarm({ period: -60, evaluationPeriods: 1 }))).toStrictEqual(["alarm-period | period | period -60 s is not 10, 20, 30 or a multiple of 60"]);
    expect(run(alarm({ metricQueries: [{ metric: { period: "90" } }], evaluationPeriods: 1 }))).toStrictEqual([]);
  });

  it("alarm datapoints: equal to the evaluation periods passes; evaluation periods not known are not compared", () => {
    expect(run(res(T.alarm, "a", { name: "a", period: 60, evaluationPeriods: 3, datapointsToAlarm: 3 }))).toStrictEqual([]);
    expect(run(res(T.alarm, "a", { name: "a", period: 60, evaluationPeriods: null, datapointsToAlarm: 3 }))).toStrictEqual([]);
  });

  it("alarm evaluation window: one day exactly passes for periods under an hour; the longest metric query period counts", () => {
    const alarm = (i: Record<string, unknown>) => res(T.alarm, "a", { name: "a", ...i });
    expect(run(alarm({ period: 60, evaluationPeriods: 1440 }))).toStrictEqual([]);
    expect(run(alarm({ period: 60, evaluationPeriods: 1441 }))).toStrictEqual([
      "alarm-evaluation-window | evaluationPeriods | evaluationPeriods 1441 x period 60 s = 86460 s; AWS accepts at most 86400 s for this period",
    ]);
    expect(run(alarm({ period: 3540, evaluationPeriods: 25 }))).toStrictEqual([
      "alarm-evaluation-window | evaluationPeriods | evaluationPeriods 25 x period 3540 s = 88500 s; AWS accepts at most 86400 s for this period",
    ]);
    expect(run(alarm({ metricQueries: [{ metric: { period: 300 } }, { metric: { period: 60 } }], evaluationPeriods: 289 }))).toStrictEqual([
      "alarm-evaluation-window | evaluationPeriods | evaluationPeriods 289 x period 300 s = 86700 s; AWS accepts at most 86400 s for this period",
    ]);
  });

  it("target-group-health-check-timeout: shorter passes, longer fails, a partial health check is left alone", () => {
    const tg = (healthCheck: unknown) => res(T.tg, "tg", { name: "tg", healthCheck });
    expect(run(tg({ interval: 30, timeout: 5 }))).toStrictEqual([]);
    expect(run(tg({ interval: 10, timeout: 11 }))).toStrictEqual([
      "target-group-health-check-timeout | healthCheck.timeout | health check timeout 11 s must be shorter than the interval 10 s",
    ]);
    expect(run(tg({ interval: 10 }))).toStrictEqual([]);
    expect(run(tg({ timeout: 11 }))).toStrictEqual([]);
    expect(run(tg({ interval: null, timeout: 11 }))).toStrictEqual([]);
  });

  it("route53-alias-or-records: an alias with values only; a plain record with a ttl and no values; empty lists", () => {
    const alias = [{ name: "alb-1.us-east-1.elb.amazonaws.com", zoneId: "Z35SXDOTRQ7X7K", evaluateTargetHealth: true }];
    expect(run(res(T.record, "a", { name: "chat.example.com", type: "A", aliases: alias, records: ["10.0.0.1"] }))).toStrictEqual([
      "route53-alias-or-records | records | alias record also sets records; an alias takes neither (remove records, or the alias)",
    ]);
    expect(run(res(T.record, "v", { name: "chat.example.com", type: "A", ttl: 60 }))).toStrictEqual([
      "route53-alias-or-records | records | record without an alias needs records",
    ]);
    expect(run(res(T.record, "v", { name: "chat.example.com", type: "A", ttl: 60, records: [] }))).toStrictEqual([
      "route53-alias-or-records | records | record without an alias needs records",
    ]);
    expect(run(res(T.record, "v", { name: "chat.example.com", type: "A", aliases: [], ttl: 60, records: ["10.0.0.1"] }))).toStrictEqual([]);
  });

  it("waf-log-group-prefix: an aws-waf-logs- group (with :*) passes; other destinations and unknowns are left alone", () => {
    const logging = (dest: unknown[]) => res(T.wafLogging, "waf-logging", { logDestinationConfigs: dest });
    expect(run(logging(["arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-chat:*"]))).toStrictEqual([]);
    expect(run(logging(["arn:aws:s3:::aws-waf-logs-chat-bucket", "arn:aws:firehose:us-east-1:123456789012:deliverystream/aws-waf-logs-x", 7]))).toStrictEqual([]);
    expect(run(logging(["<unknown>", "arn:aws:logs:us-east-1:123456789012:log-group:chat-waf:*"]))).toStrictEqual([
      'waf-log-group-prefix | logDestinationConfigs[1] | log group "chat-waf" does not start with "aws-waf-logs-"; WAF refuses other log groups as a logging destination',
    ]);
  });

  it("iam-role-inline-policies-total: whitespace is not counted, 10,240 exactly passes, the first policy is the resource at fault", () => {
    const doc = (n: number) => JSON.stringify({ S: "x".repeat(n - 8) }); // n characters
    expect(doc(5120)).toHaveLength(5120);
    const policy = (name: string, role: unknown, text: unknown) => res(T.rolePolicy, name, { name, role, policy: text });
    expect(run(policy("a", "role-1", doc(5120)), policy("b", "role-1", doc(5120)))).toStrictEqual([]);
    expect(run(policy("a", "role-1", JSON.stringify({ S: "x".repeat(5112) }, null, 40)), policy("b", "role-1", doc(5120)))).toStrictEqual([]);
    const over = preflight([policy("a", "role-1", doc(5120)), policy("b", "role-1", doc(5121))]);
    expect(over).toStrictEqual([{
      rule: "iam-role-inline-policies-total", resource: `${T.rolePolicy}::a`, field: "policy",
      message: "inline policies of role role-1 (a, b) total 10241 characters; AWS accepts at most 10240 per role",
      source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
    }]);
    // a role or a document not known yet is not counted
    expect(run(policy("a", "<unknown>", doc(5120)), policy("b", "<unknown>", doc(5121)))).toStrictEqual([]);
    expect(run(policy("a", "role-1", { S: "x".repeat(6000) }), policy("b", "role-1", doc(5121)))).toStrictEqual([]);
  });

  it("unique-physical-names: identifiers and replication group ids, case-insensitive, per type and region, every repeat names the first", () => {
    const db = (name: string, identifier: string, region?: string) => res(T.rds, name, { identifier, ...(region ? { region } : {}) });
    expect(run(db("a", "chat-db"), db("b", "Chat-DB"))).toStrictEqual([
      'unique-physical-names | identifier | identifier "Chat-DB" is also the identifier of aws:rds/instance:Instance::a; AWS refuses the second create',
    ]);
    expect(run(db("a", "chat-db", "us-east-1"), db("b", "chat-db", "us-west-2"))).toStrictEqual([]);
    expect(run(res(T.redis, "a", { replicationGroupId: "chat-redis" }), res(T.redis, "b", { replicationGroupId: "chat-redis" }))).toStrictEqual([
      'unique-physical-names | replicationGroupId | replicationGroupId "chat-redis" is also the replicationGroupId of aws:elasticache/replicationGroup:ReplicationGroup::a; AWS refuses the second create',
    ]);
    const tg = (n: string) => res(T.tg, n, { name: "chat-api" });
    expect(run(tg("a"), tg("b"), tg("c"))).toStrictEqual([
      'unique-physical-names | name | name "chat-api" is also the name of aws:lb/targetGroup:TargetGroup::a; AWS refuses the second create',
      'unique-physical-names | name | name "chat-api" is also the name of aws:lb/targetGroup:TargetGroup::a; AWS refuses the second create',
    ]);
    // another type may use the same name; generated and unknown names are not compared
    expect(run(res(T.lb, "alb", { name: "chat-api" }), tg("a"))).toStrictEqual([]);
    expect(run(res(T.tg, "a", {}), res(T.tg, "b", {}), res(T.tg, "c", { name: "<unknown>" }), res(T.tg, "d", { name: "<unknown>" }))).toStrictEqual([]);
  });

  it("each combination rule reads its own resource type only", () => {
    // a type with no rules of its own, carrying every field a combination rule reads, each with a refused value
    const inputs = {
      requiresCompatibilities: ["FARGATE"], cpu: "3000", memory: "1", name: "x.fifo", fifoQueue: false, period: 45, evaluationPeriods: 1, datapointsToAlarm: 2,
      healthCheck: { interval: 5, timeout: 10 }, aliases: [{ name: "a" }], ttl: 60, records: ["1"], role: "r", policy: "x".repeat(10_241),
      logDestinationConfigs: ["arn:aws:logs:us-east-1:1:log-group:chat"],
    };
    expect(run(res("aws:lambda/function:Function", "f", inputs), res("aws:lambda/function:Function", "g", inputs))).toStrictEqual([]);
  });

  it("findings come in resource order, then the cross-resource ones", () => {
    expect(run(res(T.tg, "a", { name: "chat-api" }), res(T.tg, "b", { name: "chat-api", healthCheck: { interval: 5, timeout: 5 } }), res(T.lb, "c", { name: "-x" }))).toStrictEqual([
      "target-group-health-check-timeout | healthCheck.timeout | health check timeout 5 s must be shorter than the interval 5 s",
      'aws:lb/loadBalancer:LoadBalancer.name | name | name "-x" must start with a letter or digit',
      'unique-physical-names | name | name "chat-api" is also the name of aws:lb/targetGroup:TargetGroup::a; AWS refuses the second create',
    ]);
  });
});

describe("reporting helpers", () => {
  it("formatFinding: resource, field, message and source on one line", () => {
    const [f] = preflight([res(T.lb, "alb", { name: "-chat" })]);
    expect(formatFinding(f!)).toBe(
      'aws:lb/loadBalancer:LoadBalancer::alb name: name "-chat" must start with a letter or digit [https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html]',
    );
  });

  it("typesWithoutRules: each type once, sorted; a combination-only type has a rule", () => {
    expect(typesWithoutRules([
      res("aws:lambda/function:Function", "f", {}), res("aws:apigateway/restApi:RestApi", "g", {}), res("aws:lambda/function:Function", "f2", {}),
      res(T.wafLogging, "w", {}),
    ])).toStrictEqual(["aws:apigateway/restApi:RestApi", "aws:lambda/function:Function"]);
  });

  it("preflightRuleCount: types with field rules", () => {
    expect(preflightRuleCount().types).toBe(Object.keys(CONSTRAINTS).length);
  });
});
