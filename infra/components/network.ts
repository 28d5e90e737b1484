import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { subnetLayout } from "./cidr";
import { Problems } from "./problems";

/** One NAT gateway for the whole VPC, or one per zone (no cross-zone dependency). */
export type NatStrategy = "single" | "perZone";

export interface NetworkArgs {
  /** Physical-name prefix for Name tags, e.g. `chat-dev`. */
  namePrefix: string;
  /** VPC range, /16 to /20. @default "10.0.0.0/16" */
  cidr?: string;
  /** Zones to spread over (2 or more), from stack config. Changing the list replaces subnets. */
  zones: string[];
  /** Region, used for VPC endpoint service names. */
  region: string;
  /** `single`: one NAT gateway (cheap, one zone's outage cuts egress); `perZone`: one per zone. @default "perZone" */
  natGateways?: NatStrategy;
  /** Interface endpoints (`ecr.api`, `logs`, ...): each costs per zone-hour but keeps traffic off the NAT. @default [] */
  interfaceEndpoints?: string[];
  /** Retention of the VPC flow log group, days. @default 30 */
  flowLogRetentionDays?: number;
}

/** Every wiring problem with the plain arguments (field, value, fix). */
/** The VPC range when none is given, written once. */
export const DEFAULT_VPC_CIDR = "10.0.0.0/16";

export function networkProblems(args: NetworkArgs): Problems {
  const p = new Problems("Network");
  if (args.zones.length < 2) p.add("zones", args.zones, "list at least 2 availability zones");
  if (args.natGateways !== undefined && !["single", "perZone"].includes(args.natGateways)) p.add("natGateways", args.natGateways, 'allowed: "single", "perZone"');
  return p;
}

/** Throws one error listing every problem. */
export function validateNetworkArgs(args: NetworkArgs): void {
  networkProblems(args).check();
}

/** awsx's NAT gateway strategy for ours: `single` -> one NAT in the first zone; `perZone` -> one in every zone. */
export const AWSX_NAT_STRATEGY: Record<NatStrategy, "Single" | "OnePerAz"> = { single: "Single", perZone: "OnePerAz" };

/**
 * The `awsx.ec2.Vpc` arguments for a network. What a reviewer must see of the network is here, in plain data:
 * awsx builds its children in its own provider, so under the mock runtime and in the offline plan only these
 * inputs are visible (`infra/plan/cost.ts` prices them, `infra/policy/rules.ts` polices them).
 */
export function vpcArgs(args: NetworkArgs): awsx.ec2.VpcArgs {
  const cidr = args.cidr ?? DEFAULT_VPC_CIDR;
  const layout = subnetLayout(cidr, args.zones.length);
  const tier = (role: "public" | "private") => ({ Tier: role });
  return {
    cidrBlock: cidr,
    availabilityZoneNames: args.zones,
    enableDnsHostnames: true,
    enableDnsSupport: true,
    // Explicit blocks keep the layout of infra/components/cidr.ts: private /(p+4) blocks from the start of the
    // range, public /(p+8) blocks carved from its last /(p+4) block.
    subnetStrategy: "Auto",
    subnetSpecs: [
      { type: "Public", name: "public", cidrBlocks: layout.public, tags: tier("public") },
      { type: "Private", name: "private", cidrBlocks: layout.private, tags: tier("private") },
    ],
    natGateways: { strategy: AWSX_NAT_STRATEGY[args.natGateways ?? "perZone"] },
    // The S3 gateway endpoint (free) on the Vpc's route tables: "Auto" fills in their ids.
    vpcEndpointStrategy: "Auto",
    vpcEndpointSpecs: [{ serviceName: `com.amazonaws.${args.region}.s3`, vpcEndpointType: "Gateway", tags: { Name: `${args.namePrefix}-s3` } }],
    tags: { Name: `${args.namePrefix}-vpc` },
  };
}

/**
 * VPC with one public and one private subnet per zone, built by `awsx.ec2.Vpc` (subnets, route tables, the
 * internet gateway, NAT gateways with their Elastic IPs, the S3 gateway endpoint). Tasks, databases and caches
 * go in the private subnets (no public IPs); only the ALB and NAT gateways live in the public ones.
 *
 * Around it, hand-built because awsx has no equivalent or would weaken it: the default security group is
 * emptied (awsx leaves it as AWS makes it, open between its members); the listed AWS APIs get interface
 * endpoints behind ONE endpoint security group that the data tier's rules reference by id (awsx's endpoint
 * specs would need that group as an input before the VPC it lives in exists, and its "Auto" mode makes a group
 * per endpoint that nothing else can reference); VPC flow logs record accepted and rejected traffic (awsx has
 * none).
 */
export class Network extends pulumi.ComponentResource {
  readonly vpc: awsx.ec2.Vpc;
  readonly vpcId: pulumi.Output<string>;
  readonly vpcCidr: pulumi.Output<string>;
  /** One per zone, in the order of `zones`. */
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly endpointSecurityGroupId: pulumi.Output<string> | undefined;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:network:Network", name, {}, opts);
    validateNetworkArgs(args);
    const cidr = args.cidr ?? DEFAULT_VPC_CIDR;
    const tag = (role: string) => ({ Name: `${args.namePrefix}-${role}` });
    const child = { parent: this };

    this.vpc = new awsx.ec2.Vpc(`${name}-vpc`, vpcArgs(args), child);
    this.vpcId = this.vpc.vpcId;
    this.vpcCidr = pulumi.output(cidr);
    // The counts are known now (one per zone), so consumers validate them before anything exists.
    const perZone = (ids: pulumi.Output<string[]>) => args.zones.map((_, i) => ids.apply((all) => all[i]!));
    this.publicSubnetIds = perZone(this.vpc.publicSubnetIds);
    this.privateSubnetIds = perZone(this.vpc.privateSubnetIds);

    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: this.vpcId, tags: tag("default-closed") }, child);

    const endpoints = args.interfaceEndpoints ?? [];
    if (endpoints.length > 0) {
      const sg = new aws.ec2.SecurityGroup(`${name}-endpoints-sg`, {
        vpcId: this.vpcId,
        description: "HTTPS from inside the VPC to AWS API interface endpoints",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [cidr], description: "HTTPS from the VPC" }],
        egress: [],
        tags: tag("endpoints"),
      }, child);
      for (const service of endpoints) {
        new aws.ec2.VpcEndpoint(`${name}-${service.replace(/\./g, "-")}`, {
          vpcId: this.vpcId, serviceName: `com.amazonaws.${args.region}.${service}`, vpcEndpointType: "Interface",
          privateDnsEnabled: true, subnetIds: this.privateSubnetIds, securityGroupIds: [sg.id], tags: tag(service),
        }, child);
      }
      this.endpointSecurityGroupId = sg.id;
    }

    this.createFlowLogs(name, args, tag);

    this.registerOutputs({
      vpcId: this.vpcId, vpcCidr: this.vpcCidr, publicSubnetIds: this.publicSubnetIds, privateSubnetIds: this.privateSubnetIds,
    });
  }

  private createFlowLogs(name: string, args: NetworkArgs, tag: (role: string) => Record<string, string>): void {
    const child = { parent: this };
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, {
      name: `/vpc/${args.namePrefix}/flow-logs`, retentionInDays: args.flowLogRetentionDays ?? 30, tags: tag("flow-logs"),
    }, child);
    const role = new aws.iam.Role(`${name}-flow-logs-role`, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags: tag("flow-logs"),
    }, child);
    new aws.iam.RolePolicy(`${name}-flow-logs-policy`, {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: [logGroup.arn, pulumi.interpolate`${logGroup.arn}:*`],
        }],
      }),
    }, child);
    new aws.ec2.FlowLog(`${name}-flow-log`, {
      vpcId: this.vpcId, trafficType: "ALL", logDestinationType: "cloud-watch-logs", logDestination: logGroup.arn,
      iamRoleArn: role.arn, maxAggregationInterval: 600, tags: tag("flow-log"),
    }, child);
  }
}
