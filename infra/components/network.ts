import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { NatStrategy } from "../config/tiers";
import { subnetLayout } from "./cidr";

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

export function validateNetworkArgs(args: NetworkArgs): void {
  if (args.zones.length < 2) {
    throw new Error(`Network: zones must list at least 2 availability zones (got ${JSON.stringify(args.zones)})`);
  }
  if (args.natGateways !== undefined && !["single", "perZone"].includes(args.natGateways)) {
    throw new Error(`Network: natGateways must be "single" or "perZone" (got ${JSON.stringify(args.natGateways)})`);
  }
}

/**
 * VPC with one public and one private subnet per zone. Tasks, databases and caches go in the private
 * subnets (no public IPs); only the ALB and NAT gateways live in the public ones. S3 is reached through a
 * gateway endpoint, and the listed AWS APIs through interface endpoints, so image pulls, logs and secrets do
 * not cross the NAT. The default security group is emptied; VPC flow logs record rejected and accepted
 * traffic.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpc: aws.ec2.Vpc;
  readonly vpcId: pulumi.Output<string>;
  readonly vpcCidr: pulumi.Output<string>;
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly privateRouteTableIds: pulumi.Output<string>[];
  readonly endpointSecurityGroupId: pulumi.Output<string> | undefined;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:network:Network", name, {}, opts);
    validateNetworkArgs(args);
    const cidr = args.cidr ?? "10.0.0.0/16";
    const nat = args.natGateways ?? "perZone";
    const layout = subnetLayout(cidr, args.zones.length);
    const tag = (role: string) => ({ Name: `${args.namePrefix}-${role}` });
    const child = { parent: this };

    this.vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tag("vpc") }, child);
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: this.vpc.id, tags: tag("default-closed") }, child);
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: this.vpc.id, tags: tag("igw") }, child);

    const publicSubnets = args.zones.map(
      (zone, i) =>
        new aws.ec2.Subnet(`${name}-public-${zone}`, {
          vpcId: this.vpc.id, availabilityZone: zone, cidrBlock: layout.public[i]!, mapPublicIpOnLaunch: false,
          tags: { ...tag(`public-${zone}`), Tier: "public" },
        }, child),
    );
    const privateSubnets = args.zones.map(
      (zone, i) =>
        new aws.ec2.Subnet(`${name}-private-${zone}`, {
          vpcId: this.vpc.id, availabilityZone: zone, cidrBlock: layout.private[i]!, mapPublicIpOnLaunch: false,
          tags: { ...tag(`private-${zone}`), Tier: "private" },
        }, child),
    );

    const publicRt = new aws.ec2.RouteTable(`${name}-public-rt`, {
      vpcId: this.vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: tag("public-rt"),
    }, child);
    publicSubnets.forEach((s, i) =>
      new aws.ec2.RouteTableAssociation(`${name}-public-rta-${args.zones[i]}`, { subnetId: s.id, routeTableId: publicRt.id }, child));

    const natZones = nat === "single" ? args.zones.slice(0, 1) : args.zones;
    const natGateways = natZones.map((zone, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-eip-${zone}`, { domain: "vpc", tags: tag(`nat-${zone}`) }, child);
      return new aws.ec2.NatGateway(`${name}-nat-${zone}`, {
        allocationId: eip.id, subnetId: publicSubnets[i]!.id, connectivityType: "public", tags: tag(`nat-${zone}`),
      }, { parent: this, dependsOn: [igw] });
    });

    const privateRts = args.zones.map((zone, i) => {
      const natGw = natGateways[nat === "single" ? 0 : i]!;
      const rt = new aws.ec2.RouteTable(`${name}-private-rt-${zone}`, {
        vpcId: this.vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: natGw.id }], tags: tag(`private-rt-${zone}`),
      }, child);
      new aws.ec2.RouteTableAssociation(`${name}-private-rta-${zone}`, { subnetId: privateSubnets[i]!.id, routeTableId: rt.id }, child);
      return rt;
    });

    new aws.ec2.VpcEndpoint(`${name}-s3`, {
      vpcId: this.vpc.id, serviceName: `com.amazonaws.${args.region}.s3`, vpcEndpointType: "Gateway",
      routeTableIds: privateRts.map((rt) => rt.id), tags: tag("s3"),
    }, child);

    const endpoints = args.interfaceEndpoints ?? [];
    if (endpoints.length > 0) {
      const sg = new aws.ec2.SecurityGroup(`${name}-endpoints-sg`, {
        vpcId: this.vpc.id,
        description: "HTTPS from inside the VPC to AWS API interface endpoints",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [cidr], description: "HTTPS from the VPC" }],
        egress: [],
        tags: tag("endpoints"),
      }, child);
      for (const service of endpoints) {
        new aws.ec2.VpcEndpoint(`${name}-${service.replace(/\./g, "-")}`, {
          vpcId: this.vpc.id, serviceName: `com.amazonaws.${args.region}.${service}`, vpcEndpointType: "Interface",
          privateDnsEnabled: true, subnetIds: privateSubnets.map((s) => s.id), securityGroupIds: [sg.id], tags: tag(service),
        }, child);
      }
      this.endpointSecurityGroupId = sg.id;
    }

    this.createFlowLogs(name, args, tag);

    this.vpcId = this.vpc.id;
    this.vpcCidr = this.vpc.cidrBlock;
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.privateRouteTableIds = privateRts.map((rt) => rt.id);
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
      vpcId: this.vpc.id, trafficType: "ALL", logDestinationType: "cloud-watch-logs", logDestination: logGroup.arn,
      iamRoleArn: role.arn, maxAggregationInterval: 600, tags: tag("flow-log"),
    }, child);
  }
}
