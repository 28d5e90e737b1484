/**
 * The pilot light a primary stack keeps in its DR region: a small VPC with one private subnet per zone, the DB
 * subnet group a restore in that region names, and a security group for restored instances. Nothing here
 * runs or bills by the hour (no NAT gateway, no internet gateway, no endpoints, no flow logs: there is no
 * traffic to record until a restore), so it costs nothing while it waits; what a restore creates is billed as
 * usual.
 *
 * Self-contained on purpose (plain `aws.ec2` resources, its own subnet arithmetic): it does not depend on how
 * the stack's main network is built.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { subnetCidr } from "./cidr";
import { Problems } from "./problems";

export interface DrPilotLightArgs {
  /** `<project>-<env>`: Name tags. */
  namePrefix: string;
  /** VPC range, /16 to /20; private subnets take its first /(prefix+4) blocks. Changing it replaces the VPC. */
  cidr: string;
  /** Zones of the DR region (at least 2), from stack config. Changing the list replaces subnets. */
  zones: string[];
  /** Physical name of the DB subnet group (`<project>-<env>-dr-subnet-group`): operators pass it to restores. */
  subnetGroupName: string;
  /** Provider for the DR region; every child is created through it. */
  provider: aws.Provider;
  /** Tags on every child. */
  tags?: Record<string, string>;
}

// DB subnet group names: at most 255 letters, digits, periods, underscores, spaces or hyphens; not "default".
// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html
const SUBNET_GROUP_NAME = /^[a-zA-Z0-9._ -]{1,255}$/;

/** Every problem with the plain arguments (field, value, fix). */
export function drPilotLightProblems(args: Omit<DrPilotLightArgs, "provider">): Problems {
  const p = new Problems("DrPilotLight");
  if (args.zones.length < 2 || new Set(args.zones).size !== args.zones.length) {
    p.add("zones", args.zones, "list at least 2 distinct zones of the DR region (a DB subnet group spans two Availability Zones or more)");
  }
  const prefix = Number(args.cidr.split("/")[1]);
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(args.cidr) || prefix < 16 || prefix > 20) p.add("cidr", args.cidr, "an IPv4 range from /16 to /20, e.g. 10.2.0.0/16");
  else if (args.zones.length > 2 ** 4) p.add("zones", args.zones, `at most ${2 ** 4} zones fit the /${prefix + 4} subnets of ${args.cidr}`);
  if (!SUBNET_GROUP_NAME.test(args.subnetGroupName) || args.subnetGroupName.toLowerCase() === "default") {
    p.add("subnetGroupName", args.subnetGroupName, "1 to 255 letters, digits, '.', '_', ' ' or '-', not \"default\" (use Naming.name)");
  }
  return p;
}

export function validateDrPilotLightArgs(args: Omit<DrPilotLightArgs, "provider">): void {
  drPilotLightProblems(args).check();
}

export class DrPilotLight extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  /** Name of the DB subnet group (`--db-subnet-group-name`, `DBSubnetGroupName` of a restore job). */
  readonly subnetGroupName: pulumi.Output<string>;
  /** Security group restored instances join (`--vpc-security-group-ids`). */
  readonly restoreSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: DrPilotLightArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:dr:DrPilotLight", name, {}, opts);
    validateDrPilotLightArgs(args);
    const tags = args.tags ?? {};
    const tag = (role: string, extra: Record<string, string> = {}) => ({ ...tags, ...extra, Name: `${args.namePrefix}-dr-${role}` });
    const child = { parent: this, provider: args.provider };

    const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: args.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tag("vpc") }, child);
    // the default group allows all traffic between its members: empty it so nothing lands in an open group
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, tags: tag("default-closed") }, child);
    const prefix = Number(args.cidr.split("/")[1]);
    const subnets = args.zones.map((zone, i) => new aws.ec2.Subnet(`${name}-private-${zone}`, {
      vpcId: vpc.id,
      availabilityZone: zone,
      cidrBlock: subnetCidr(args.cidr, prefix + 4, i),
      mapPublicIpOnLaunch: false,
      tags: tag(`private-${zone}`, { Tier: "private" }),
    }, child));
    const subnetGroup = new aws.rds.SubnetGroup(`${name}-db-subnets`, {
      name: args.subnetGroupName,
      description: `${args.namePrefix}: private subnets for database restores in this region`,
      subnetIds: subnets.map((s) => s.id),
      tags: tag("db-subnets"),
    }, child);
    // No rules: a restored instance is a source for a snapshot or a copy, not a server; add a rule by hand if
    // someone must connect to it. Pulumi removes the default allow-all egress rule AWS adds to a new group.
    const restoreSg = new aws.ec2.SecurityGroup(`${name}-restore-sg`, {
      vpcId: vpc.id,
      description: "Restored databases: no inbound or outbound traffic until an operator adds a rule",
      revokeRulesOnDelete: true,
      tags: tag("restore-sg"),
    }, child);

    this.vpcId = vpc.id;
    this.privateSubnetIds = subnets.map((s) => s.id);
    this.subnetGroupName = subnetGroup.name;
    this.restoreSecurityGroupId = restoreSg.id;
    this.registerOutputs({ vpcId: this.vpcId, subnetGroupName: this.subnetGroupName, restoreSecurityGroupId: this.restoreSecurityGroupId });
  }
}
