/**
 * The operators' layer as registered: the toolbox task definition (least-privilege roles, network access,
 * logs, image), the Athena objects over the ALB logs (columns, projection, location, encrypted and expiring
 * results), the DR region's pilot light (only through the DR provider, no NAT or anything billed by the hour),
 * and the validators of all three.
 */
import assert from "node:assert/strict";
import { validateStackConfig } from "../config/load";
import { byType, one, REPO_ROOT, stackConfigWithExamples, synthesize } from "../synth";
import type { SynthResult } from "../synth";
import { shortId } from "../synth/mocks";
import { ALB_LOG_COLUMNS, ALB_LOG_REGEX, albLogQueriesProblems } from "./alb-log-queries";
import type { AlbLogQueriesArgs } from "./alb-log-queries";
import { drPilotLightProblems as pilotLightArgProblems } from "./dr-pilot-light";
import { drPilotLightProblems } from "../config/dr";
import { operatorToolboxProblems } from "./toolbox";
import type { OperatorToolboxArgs } from "./toolbox";

const T = {
  task: "aws:ecs/taskDefinition:TaskDefinition",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  provider: "pulumi:providers:aws",
};

let r: SynthResult;
let dev: SynthResult;
let dr: SynthResult;
beforeAll(async () => {
  r = await synthesize("10k-dau");
  dev = await synthesize("dev");
  dr = await synthesize("10k-dau-dr");
});

const sgId = (name: string) => `sg-${shortId(T.sg, name)}`;
const policyOf = (run: SynthResult, name: string) => JSON.parse(one(run, T.rolePolicy, name).inputs.policy);

describe("operator toolbox (10k-dau)", () => {
  it("task role: the ECS Exec channel, rds-db:connect for the app user on the proxy, and reading the Redis secret; nothing else", () => {
    const proxyArn = one(r, "aws:rds/proxy:Proxy", "db-proxy-proxy");
    assert.ok(proxyArn);
    const statements = policyOf(r, "toolbox-task-policy").Statement;
    expect(statements).toEqual([
      { Sid: "EcsExecChannel", Effect: "Allow", Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"], Resource: ["*"] },
      { Sid: "ConnectThroughProxy", Effect: "Allow", Action: ["rds-db:connect"], Resource: [expect.stringMatching(/^arn:aws:rds-db:us-east-1:123456789012:dbuser:prx-[0-9a-f]+\/chat_app$/)] },
      { Sid: "ReadRedisAuthToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [r.outputs.redisAuthSecretArn] },
    ]);
    const exec = policyOf(r, "toolbox-execution-policy").Statement;
    assert.deepEqual(exec.map((s: { Sid: string }) => s.Sid), ["WriteServiceLogs", "EcrLogin", "PullServiceImage"], "the execution role reads no secret");
    assert.deepEqual(exec[2].Resource, [r.outputs.ecrRepositoryUrls.toolbox.replace(/^(\d+)\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/(.+)$/, "arn:aws:ecr:$2:$1:repository/$3")]);
  });

  it("network: no ingress; out to HTTPS, the proxy on 5432 and Redis on 6379, which admit it by group", () => {
    const toolbox = sgId("toolbox-sg");
    assert.equal(r.outputs.toolboxSecurityGroupId, toolbox);
    assert.deepEqual(byType(r, T.ingress).filter((x) => x.inputs.securityGroupId === toolbox), []);
    const out = byType(r, T.egress).filter((x) => x.inputs.securityGroupId === toolbox)
      .map((x) => [x.inputs.fromPort, x.inputs.cidrIpv4 ?? x.inputs.referencedSecurityGroupId]).sort();
    assert.deepEqual(out, [[443, "0.0.0.0/0"], [5432, sgId("db-proxy-sg")], [6379, sgId("redis-sg")]]);
    const ins = byType(r, T.ingress).filter((x) => x.inputs.referencedSecurityGroupId === toolbox).map((x) => [x.name, x.inputs.securityGroupId, x.inputs.fromPort]);
    assert.deepEqual(ins, [["toolbox-to-db-proxy-in", sgId("db-proxy-sg"), 5432], ["toolbox-to-redis-in", sgId("redis-sg"), 6379]]);
  });

  it("task definition: its own family, image and log group, read-only root, no secrets, where to connect in plain variables", () => {
    const task = one(r, T.task, "toolbox-task").inputs;
    assert.equal(task.family, "chat-10k-dau-toolbox");
    const [c] = JSON.parse(task.containerDefinitions);
    assert.equal(c.name, "toolbox");
    assert.match(c.image, /\/chat-10k-dau-toolbox@sha256:[0-9a-f]{64}$/);
    assert.equal(one(r, "docker-build:index:Image", "images-toolbox-image").inputs.dockerfile.location, `${REPO_ROOT}/apps/toolbox/Dockerfile`);
    assert.deepEqual(c.command, ["sleep", "28800"]);
    assert.equal(c.secrets, undefined);
    assert.equal(c.readonlyRootFilesystem, true);
    const env = Object.fromEntries(c.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toEqual({
      AWS_REGION: "us-east-1", DB_HOST: r.outputs.dbProxyEndpoint, DB_PORT: "5432", DB_NAME: "chat", DB_USER: "chat_app", DB_IAM_AUTH: "true",
      REDIS_HOST: r.outputs.redisPrimaryEndpoint, REDIS_PORT: "6379", REDIS_TLS: "true", REDIS_AUTH_SECRET_ARN: r.outputs.redisAuthSecretArn,
    });
    assert.equal(c.logConfiguration.options["awslogs-group"], "/ecs/chat-10k-dau/toolbox");
    const logs = one(r, T.logGroup, "toolbox-logs").inputs;
    const api = one(r, T.logGroup, "api-logs").inputs;
    assert.deepEqual([logs.retentionInDays, logs.kmsKeyId], [api.retentionInDays, api.kmsKeyId], "same retention and cluster key as the services");
  });

  it("the validator names each bad argument", () => {
    const ok: OperatorToolboxArgs = {
      family: "chat-dev-toolbox", region: "us-east-1", accountId: "123456789012", vpcId: "vpc", subnetIds: ["subnet-1"], image: "img",
      repositoryArns: [], environment: { DB_HOST: "h" }, taskPolicyStatements: [], logGroupName: "/ecs/chat-dev/toolbox", logRetentionDays: 30,
    };
    assert.deepEqual(operatorToolboxProblems(ok).list, []);
    const bad = operatorToolboxProblems({
      ...ok, logGroupName: "toolbox", maxSessionSeconds: 10, subnetIds: [],
      taskPolicyStatements: [{ Sid: "All", Effect: "Allow", Action: ["secretsmanager:*"], Resource: ["*"] }],
    });
    assert.deepEqual(bad.list.map((p) => p.field), ["logGroupName", "subnetIds", "maxSessionSeconds", "taskPolicyStatements"]);
    assert.throws(() => bad.check(), /^Error: OperatorToolbox: invalid arguments:\n {2}- logGroupName "toolbox": expected \/ecs\/<project>-<env>\/toolbox/);
  });
});

describe("Athena over the ALB access logs (10k-dau)", () => {
  const table = () => one(r, "aws:glue/catalogTable:CatalogTable", "alb-log-queries-alb-logs").inputs;

  it("the table reads the ALB's own prefix with one projected partition per day, as far back as the logs are kept", () => {
    const t = table();
    const bucket = one(r, "aws:s3/bucket:Bucket", "alb-access-logs");
    const location = `s3://${r.outputs.albAccessLogBucket}/alb/AWSLogs/123456789012/elasticloadbalancing/us-east-1/`;
    assert.ok(bucket);
    assert.equal(t.databaseName, "chat_10k_dau_logs");
    assert.equal(t.storageDescriptor.location, location);
    expect(t.parameters).toEqual({
      EXTERNAL: "TRUE", "projection.enabled": "true", "projection.day.type": "date", "projection.day.format": "yyyy/MM/dd",
      "projection.day.range": `NOW-${validateStackConfig(stackConfigWithExamples("10k-dau"), "10k-dau").sizing.alb.accessLogRetentionDays}DAYS,NOW`,
      "projection.day.interval": "1", "projection.day.interval.unit": "DAYS", "storage.location.template": `${location}\${day}`,
    });
    assert.deepEqual(t.partitionKeys.map((k: { name: string; type: string }) => [k.name, k.type]), [["day", "string"]]);
    assert.deepEqual(t.storageDescriptor.columns.map((c: { name: string; type: string }) => [c.name, c.type]), ALB_LOG_COLUMNS.map(([n, ty]) => [n, ty]));
    assert.equal(t.storageDescriptor.serDeInfo.serializationLibrary, "org.apache.hadoop.hive.serde2.RegexSerDe");
    assert.equal(byType(r, "aws:glue/crawler:Crawler").length, 0, "no crawler");
  });

  it("the SerDe pattern has one group per column and splits an access log entry into them", () => {
    // Java regex: \" is a quote; the pattern is otherwise valid JavaScript
    const re = new RegExp(`^${ALB_LOG_REGEX.replace(/\\"/g, '"')}`);
    assert.equal(new RegExp(`${re.source}|`).exec("")!.length - 1, ALB_LOG_COLUMNS.length);
    const line = 'https 2026-01-15T10:00:00.186641Z app/chat-10k-dau-alb/50dc6c495c0c9188 198.51.100.7:2817 10.0.1.20:3000 0.000 0.052 0.000 502 502 34 366 ' +
      '"GET https://chat.example.com:443/api/rooms?limit=20 HTTP/1.1" "curl/8.5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ' +
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/chat-10k-dau-api/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" ' +
      '"chat.example.com" "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2026-01-15T10:00:00.134000Z ' +
      '"forward" "-" "-" "10.0.1.20:3000" "502" "-" "-" TID_1234abcd5678ef90';
    const m = re.exec(line);
    assert.ok(m, "the entry matches");
    const row = Object.fromEntries(ALB_LOG_COLUMNS.map(([n], i) => [n, m[i + 1]]));
    expect(row).toMatchObject({
      type: "https", client_ip: "198.51.100.7", client_port: "2817", target_port: "3000", elb_status_code: "502", target_status_code: "502",
      request_verb: "GET", request_url: "https://chat.example.com:443/api/rooms?limit=20", request_proto: "HTTP/1.1", user_agent: "curl/8.5.0",
      domain_name: "chat.example.com", actions_executed: "forward", target_status_code_list: "502", conn_trace_id: "TID_1234abcd5678ef90",
    });
  });

  it("the workgroup enforces encrypted results in a private bucket that expires them", () => {
    const wg = one(r, "aws:athena/workgroup:Workgroup", "alb-log-queries-workgroup").inputs;
    assert.equal(wg.name, "chat-10k-dau-ops");
    expect(wg.configuration).toMatchObject({
      enforceWorkgroupConfiguration: true,
      bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
      resultConfiguration: { outputLocation: `s3://${r.outputs.athenaResultsBucket}/results/`, encryptionConfiguration: { encryptionOption: "SSE_S3" } },
    });
    const p = "alb-log-queries-results";
    assert.deepEqual(one(r, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `${p}-encryption`).inputs.rules,
      [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    assert.equal(one(r, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${p}-lifecycle`).inputs.rules[0].expiration.days, 7);
    expect(one(r, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${p}-public-block`).inputs)
      .toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    const policy = JSON.parse(one(r, "aws:s3/bucketPolicy:BucketPolicy", `${p}-policy`).inputs.policy);
    assert.deepEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
    assert.equal(one(dev, "aws:athena/workgroup:Workgroup", "alb-log-queries-workgroup").inputs.forceDestroy, true, "dev tears down in one destroy");
    assert.equal(wg.forceDestroy, false);
  });

  it("the validator names each bad argument", () => {
    const ok: AlbLogQueriesArgs = { namePrefix: "chat-dev", accessLogBucket: "b", accessLogPrefix: "alb", accountId: "1", region: "us-east-1", accessLogRetentionDays: 30 };
    assert.deepEqual(albLogQueriesProblems(ok).list, []);
    const bad = albLogQueriesProblems({ ...ok, namePrefix: "Chat", accessLogPrefix: "/alb/", bytesScannedCutoffPerQuery: 1000 });
    assert.deepEqual(bad.list.map((p) => p.field), ["namePrefix", "accessLogPrefix", "bytesScannedCutoffPerQuery"]);
  });
});

describe("DR pilot light", () => {
  const drProvider = (run: SynthResult) => byType(run, T.provider).filter((p) => p.inputs.region === "us-west-2");
  const inDr = (run: SynthResult) => run.resources.filter((x) => drProvider(run).some((p) => x.options.provider?.startsWith(`${p.urn}::`)));

  it("10k-dau: a VPC with private subnets, the DB subnet group and a rule-less restore group, through the one DR-region provider", () => {
    assert.equal(drProvider(r).length, 1, "shared with the backup copies");
    const pilot = inDr(r).filter((x) => x.name.startsWith("dr-pilot-light-"));
    assert.deepEqual(pilot.map((x) => x.type).sort(), [
      "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "aws:ec2/securityGroup:SecurityGroup",
      "aws:ec2/subnet:Subnet", "aws:ec2/subnet:Subnet", "aws:ec2/subnet:Subnet", "aws:ec2/vpc:Vpc", "aws:rds/subnetGroup:SubnetGroup",
    ]);
    const subnets = pilot.filter((x) => x.type === "aws:ec2/subnet:Subnet").map((x) => [x.inputs.availabilityZone, x.inputs.cidrBlock, x.inputs.mapPublicIpOnLaunch, x.inputs.tags.Tier]);
    assert.deepEqual(subnets, [["us-west-2a", "10.2.0.0/20", false, "private"], ["us-west-2b", "10.2.16.0/20", false, "private"], ["us-west-2c", "10.2.32.0/20", false, "private"]]);
    assert.equal(one(r, "aws:ec2/vpc:Vpc", "dr-pilot-light-vpc").inputs.cidrBlock, "10.2.0.0/16");
    assert.equal(one(r, "aws:rds/subnetGroup:SubnetGroup", "dr-pilot-light-db-subnets").inputs.subnetIds.length, 3);
    const restore = sgId("dr-pilot-light-restore-sg");
    const rules = [...byType(r, T.ingress), ...byType(r, T.egress), ...byType(r, "aws:ec2/securityGroupRule:SecurityGroupRule")]
      .filter((x) => x.inputs.securityGroupId === restore || x.inputs.referencedSecurityGroupId === restore);
    assert.deepEqual(rules, [], "a restored instance is reachable by nobody until an operator adds a rule");
    const sg = one(r, T.sg, "dr-pilot-light-restore-sg").inputs;
    assert.deepEqual([sg.ingress, sg.egress], [undefined, undefined]);
  });

  it("costs nothing by the hour: no NAT, internet gateway, address, endpoint, flow log or route in the DR region", () => {
    const billed = ["aws:ec2/natGateway:NatGateway", "aws:ec2/internetGateway:InternetGateway", "aws:ec2/eip:Eip", "aws:ec2/vpcEndpoint:VpcEndpoint",
      "aws:ec2/flowLog:FlowLog", "aws:ec2/route:Route", "aws:ec2/routeTable:RouteTable"];
    assert.deepEqual(inDr(r).filter((x) => billed.includes(x.type)).map((x) => x.name), []);
  });

  it("exists only on primary stacks whose tier copies backups to the DR region", () => {
    assert.deepEqual(dev.resources.filter((x) => x.name.startsWith("dr-pilot-light")), []);
    assert.deepEqual(dr.resources.filter((x) => x.name.startsWith("dr-pilot-light")), []);
  });

  it("config: zones are required, in drRegion, at least two; the range stays apart from vpcCidr (exact messages)", () => {
    const base = validateStackConfig(stackConfigWithExamples("10k-dau"), "10k-dau");
    assert.deepEqual(drPilotLightProblems(base), []);
    assert.deepEqual(drPilotLightProblems({ ...base, drAvailabilityZones: undefined }), [
      "realtime-chat:drAvailabilityZones is missing: the tier copies backups to drRegion us-west-2, where the stack keeps a pilot-light VPC for restores; " +
        "list at least 2 of its zones, e.g. `pulumi config set realtime-chat:drAvailabilityZones '[\"us-west-2a\",\"us-west-2b\",\"us-west-2c\"]' -s 10k-dau`",
    ]);
    assert.deepEqual(drPilotLightProblems({ ...base, drAvailabilityZones: ["us-east-1a"], drVpcCidr: "10.0.0.0/20" }), [
      'realtime-chat:drAvailabilityZones = ["us-east-1a"]: zones us-east-1a are not in drRegion us-west-2',
      'realtime-chat:drAvailabilityZones = ["us-east-1a"]: list at least 2 zones (a DB subnet group spans two Availability Zones or more)',
      'realtime-chat:drVpcCidr = "10.0.0.0/20" overlaps realtime-chat:vpcCidr 10.0.0.0/16; pick a separate range such as 10.2.0.0/16 so the VPCs can be peered',
    ]);
  });

  it("a primary stack without its DR zones fails before creating anything", async () => {
    const err = await synthesize("1k-dau", { configOverrides: { "realtime-chat:drAvailabilityZones": undefined } }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof Error);
    assert.match(err.message, /Invalid configuration in Pulumi\.1k-dau\.yaml \(1 problem\):\n {2}- realtime-chat:drAvailabilityZones is missing/);
  });

  it("the component validator names each bad argument", () => {
    const bad = pilotLightArgProblems({ namePrefix: "chat-x", cidr: "10.2.0.0/24", zones: ["us-west-2a"], subnetGroupName: "default" });
    assert.deepEqual(bad.list.map((p) => p.field), ["zones", "cidr", "subnetGroupName"]);
  });
});
