/**
 * Mock provider behaviour for the synth harness.
 *
 * `computedState(type, name, inputs)` returns what AWS would compute (ids, ARNs, DNS names, endpoints...).
 * One table, keyed by resource type; add a row when a component reads a computed attribute.
 * `invoke(token, inputs)` answers the data-source calls listed in `SUPPORTED_INVOKES` and throws on others,
 * so a new hidden lookup cannot slip in unnoticed.
 */
import { createHash } from "node:crypto";

export const MOCK_ACCOUNT = "123456789012";

export interface MockContext {
  region: string;
}

type State = Record<string, unknown>;
type Compute = (name: string, inputs: State, ctx: MockContext, short: string) => State;

const arn = (ctx: MockContext, service: string, resource: string) => `arn:aws:${service}:${ctx.region}:${MOCK_ACCOUNT}:${resource}`;

/** Rows: resource type -> computed attributes (merged over the inputs). */
export const COMPUTED: Record<string, Compute> = {
  "aws:ec2/vpc:Vpc": (n, i, c, s) => ({ id: `vpc-${s}`, arn: arn(c, "ec2", `vpc/vpc-${s}`), defaultSecurityGroupId: `sg-default-${s}`, cidrBlock: i.cidrBlock }),
  // awsx's Vpc is a remote component: under mocks it registers alone, with no children, so its outputs come from
  // here: one subnet id per zone and subnet spec type, in zone order, as awsx reports them.
  "awsx:ec2:Vpc": (n, i, c, s) => {
    const zones = Array.isArray(i.availabilityZoneNames) ? i.availabilityZoneNames.length : Number(i.numberOfAvailabilityZones ?? 3);
    const specs = Array.isArray(i.subnetSpecs) ? (i.subnetSpecs as { type?: string }[]) : [{ type: "Public" }, { type: "Private" }];
    const ids = (type: string) =>
      specs.some((spec) => spec.type === type) ? Array.from({ length: zones }, (_, z) => `subnet-${s}-${type.toLowerCase()}-${z + 1}`) : [];
    return { vpcId: `vpc-${s}`, publicSubnetIds: ids("Public"), privateSubnetIds: ids("Private"), isolatedSubnetIds: ids("Isolated") };
  },
  "aws:ec2/subnet:Subnet": (n, i, c, s) => ({ id: `subnet-${s}`, arn: arn(c, "ec2", `subnet/subnet-${s}`) }),
  "aws:ec2/securityGroup:SecurityGroup": (n, i, c, s) => ({ id: `sg-${s}`, arn: arn(c, "ec2", `security-group/sg-${s}`), name: i.name ?? `${n}-${s}` }),
  "aws:ec2/internetGateway:InternetGateway": (n, i, c, s) => ({ id: `igw-${s}` }),
  "aws:ec2/natGateway:NatGateway": (n, i, c, s) => ({ id: `nat-${s}` }),
  "aws:ec2/eip:Eip": (n, i, c, s) => ({ id: `eipalloc-${s}`, allocationId: `eipalloc-${s}`, publicIp: "203.0.113.10" }),
  "aws:ec2/routeTable:RouteTable": (n, i, c, s) => ({ id: `rtb-${s}` }),
  "aws:ec2/vpcEndpoint:VpcEndpoint": (n, i, c, s) => ({ id: `vpce-${s}`, arn: arn(c, "ec2", `vpc-endpoint/vpce-${s}`) }),
  "aws:ec2/flowLog:FlowLog": (n, i, c, s) => ({ id: `fl-${s}` }),
  "aws:lb/loadBalancer:LoadBalancer": (n, i, c, s) => {
    const name = (i.name as string | undefined) ?? `${n}-${s}`.slice(0, 32);
    return {
      name,
      arn: arn(c, "elasticloadbalancing", `loadbalancer/app/${name}/${s}`),
      arnSuffix: `app/${name}/${s}`,
      dnsName: `${name}-${s}.${c.region}.elb.amazonaws.com`,
      zoneId: "Z35SXDOTRQ7X7K",
    };
  },
  "aws:lb/targetGroup:TargetGroup": (n, i, c, s) => {
    const name = (i.name as string | undefined) ?? `${n}-${s}`.slice(0, 32);
    return { name, arn: arn(c, "elasticloadbalancing", `targetgroup/${name}/${s}`), arnSuffix: `targetgroup/${name}/${s}` };
  },
  "aws:lb/listener:Listener": (n, i, c, s) => ({ arn: arn(c, "elasticloadbalancing", `listener/app/${n}/${s}`) }),
  "aws:lb/listenerRule:ListenerRule": (n, i, c, s) => ({ arn: arn(c, "elasticloadbalancing", `listener-rule/app/${n}/${s}`) }),
  "aws:s3/bucketV2:BucketV2": (n, i, c, s) => bucket(i, n, s, c),
  "aws:s3/bucket:Bucket": (n, i, c, s) => bucket(i, n, s, c),
  "aws:cloudwatch/logGroup:LogGroup": (n, i, c, s) => {
    const name = (i.name as string | undefined) ?? `${n}-${s}`;
    return { name, arn: arn(c, "logs", `log-group:${name}`) };
  },
  "aws:wafv2/webAcl:WebAcl": (n, i, c, s) => ({ arn: arn(c, "wafv2", `regional/webacl/${i.name ?? n}/${s}`), capacity: 700 }),
  "aws:iam/role:Role": (n, i, c, s) => {
    const name = (i.name as string | undefined) ?? `${n}-${s}`;
    return { name, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${name}` };
  },
  "aws:iam/policy:Policy": (n, i, c, s) => ({ arn: `arn:aws:iam::${MOCK_ACCOUNT}:policy/${i.name ?? `${n}-${s}`}` }),
  "aws:kms/key:Key": (n, i, c, s) => ({ id: `key-${s}`, keyId: `key-${s}`, arn: arn(c, "kms", `key/key-${s}`) }),
  "aws:sqs/queue:Queue": (n, i, c, s) => {
    const name = (i.name as string | undefined) ?? `${n}-${s}`;
    return { name, arn: arn(c, "sqs", name), url: `https://sqs.${c.region}.amazonaws.com/${MOCK_ACCOUNT}/${name}`, id: `https://sqs.${c.region}.amazonaws.com/${MOCK_ACCOUNT}/${name}` };
  },
  "aws:secretsmanager/secret:Secret": (n, i, c, s) => ({ arn: arn(c, "secretsmanager", `secret:${i.name ?? n}-${s}`) }),
  "aws:rds/instance:Instance": (n, i, c, s) => {
    const id = (i.identifier as string | undefined) ?? `${n}-${s}`;
    // manageMasterUserPassword: RDS creates the secret `rds!db-<uuid>` and reports it
    const masterUserSecrets = i.manageMasterUserPassword
      ? [{ secretArn: arn(c, "secretsmanager", `secret:rds!db-${s}-AbCdEf`), kmsKeyId: "", secretStatus: "active" }]
      : [];
    return { identifier: id, arn: arn(c, "rds", `db:${id}`), address: `${id}.${s}.${c.region}.rds.amazonaws.com`, endpoint: `${id}.${s}.${c.region}.rds.amazonaws.com:5432`, port: 5432, resourceId: `db-${s}`, masterUserSecrets };
  },
  "aws:rds/parameterGroup:ParameterGroup": (n, i, c, s) => ({ name: (i.name as string | undefined) ?? `${n}-${s}` }),
  "aws:elasticache/parameterGroup:ParameterGroup": (n, i, c, s) => ({ name: (i.name as string | undefined) ?? `${n}-${s}` }),
  "aws:elasticache/subnetGroup:SubnetGroup": (n, i, c, s) => ({ name: (i.name as string | undefined) ?? `${n}-${s}` }),
  // a fixed string of the requested length (letters and digits), so tests can check lengths and shapes
  "random:index/randomPassword:RandomPassword": (n, i, c, s) => ({ result: s.repeat(Math.ceil(Number(i.length ?? 16) / s.length)).slice(0, Number(i.length ?? 16)) }),
  "aws:rds/subnetGroup:SubnetGroup": (n, i, c, s) => {
    const name = (i.name as string | undefined) ?? `${n}-${s}`;
    return { name, id: name, arn: arn(c, "rds", `subgrp:${name}`) };
  },
  "aws:rds/proxy:Proxy": (n, i, c, s) => ({ arn: arn(c, "rds", `db-proxy:prx-${s}`), endpoint: `${i.name ?? n}.proxy-${s}.${c.region}.rds.amazonaws.com` }),
  "aws:elasticache/replicationGroup:ReplicationGroup": (n, i, c, s) => ({
    arn: arn(c, "elasticache", `replicationgroup:${i.replicationGroupId ?? n}`),
    primaryEndpointAddress: `master.${i.replicationGroupId ?? n}.${s}.use1.cache.amazonaws.com`,
    readerEndpointAddress: `replica.${i.replicationGroupId ?? n}.${s}.use1.cache.amazonaws.com`,
  }),
  "aws:ecs/cluster:Cluster": (n, i, c, s) => ({ name: i.name ?? `${n}-${s}`, arn: arn(c, "ecs", `cluster/${i.name ?? n}`) }),
  "aws:ecs/service:Service": (n, i, c, s) => ({ name: i.name ?? `${n}-${s}`, arn: arn(c, "ecs", `service/${i.name ?? n}`) }),
  "aws:ecs/taskDefinition:TaskDefinition": (n, i, c, s) => ({ arn: arn(c, "ecs", `task-definition/${i.family ?? n}:1`), revision: 1 }),
  "aws:ecr/repository:Repository": (n, i, c, s) => {
    const name = (i.name as string | undefined) ?? `${n}-${s}`;
    return { name, arn: arn(c, "ecr", `repository/${name}`), repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${c.region}.amazonaws.com/${name}` };
  },
  // docker-build: the pushed reference is `<first tag>@sha256:<digest>` (what task definitions run)
  "docker-build:index:Image": (n, i, c, s) => {
    const digest = `sha256:${createHash("sha256").update(n).digest("hex")}`;
    const tag = Array.isArray(i.tags) && typeof i.tags[0] === "string" ? (i.tags[0] as string) : `${n}:latest`;
    return { digest, ref: `${tag.replace(/:[^:/]+$/, "")}@${digest}`, contextHash: s };
  },
  "aws:sns/topic:Topic": (n, i, c, s) => ({ arn: arn(c, "sns", (i.name as string | undefined) ?? `${n}-${s}`) }),
  "aws:backup/vault:Vault": (n, i, c, s) => ({ arn: arn(c, "backup", `backup-vault:${i.name ?? n}`) }),
  "aws:backup/plan:Plan": (n, i, c, s) => ({ arn: arn(c, "backup", `backup-plan:${s}`) }),
  "aws:cloudwatch/metricAlarm:MetricAlarm": (n, i, c, s) => ({ arn: arn(c, "cloudwatch", `alarm:${i.name ?? n}`) }),
};

function bucket(i: State, n: string, s: string, c: MockContext): State {
  const name = (i.bucket as string | undefined) ?? `${n}-${s}`.toLowerCase();
  return { bucket: name, id: name, arn: `arn:aws:s3:::${name}`, bucketRegionalDomainName: `${name}.s3.${c.region}.amazonaws.com` };
}

/** Stable short id from the type and name. */
export function shortId(type: string, name: string): string {
  return createHash("sha256").update(`${type}::${name}`).digest("hex").slice(0, 8);
}

/** Computed attributes for a resource; unknown types get a generic id and ARN. */
export function computedState(type: string, name: string, inputs: State, ctx: MockContext): { id: string; state: State } {
  const s = shortId(type, name);
  const row = COMPUTED[type];
  const extra = row ? row(name, inputs, ctx, s) : {};
  const id = (extra.id as string | undefined) ?? `${name}-${s}`;
  const [pkg, mod] = type.split(":");
  const generic = pkg === "aws" ? { arn: arn(ctx, (mod ?? "").split("/")[0] ?? "aws", `${name}/${s}`) } : {};
  return { id, state: { ...inputs, ...generic, ...extra, id } };
}

/** Data-source calls the program may make, with what they return under mocks. */
export const SUPPORTED_INVOKES: Record<string, (inputs: State, ctx: MockContext) => State> = {
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/mock`, userId: "MOCK" }),
  "aws:index/getRegion:getRegion": (_i, c) => ({ name: c.region, region: c.region, id: c.region }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": (_i, c) => ({
    id: c.region, authorizationToken: "QVdTOm1vY2stdG9rZW4=", userName: "AWS", password: "mock-token",
    proxyEndpoint: `https://${MOCK_ACCOUNT}.dkr.ecr.${c.region}.amazonaws.com`, expiresAt: "2099-01-01T00:00:00Z",
  }),
};

export function invoke(token: string, inputs: State, ctx: MockContext): State {
  const handler = SUPPORTED_INVOKES[token];
  if (!handler) {
    const message =
      `synth mocks: unsupported invoke ${token}. Supported: ${Object.keys(SUPPORTED_INVOKES).join(", ")}. ` +
      "Take the value from stack config instead, or add a row to SUPPORTED_INVOKES in infra/synth/mocks.ts.";
    // the SDK rebuilds invoke errors from a gRPC-style `details` field
    throw Object.assign(new Error(message), { details: message });
  }
  return handler(inputs, ctx);
}
