/**
 * Quota counts from both network shapes (plain VPC/NAT/EIP resources, or one awsx:ec2:Vpc component whose
 * NAT strategy and zones are read from its inputs), the per-region sums of a set of stacks, and the warning
 * when a default quota would be exceeded.
 */
import { accountSetReports, awsxNatGateways, countQuotas, quotaReport, QUOTAS } from "./quotas";
import type { QuotaResource } from "./quotas";

const r = (type: string, name: string, inputs: Record<string, any>, id?: string): QuotaResource => ({ type, name, custom: true, inputs, id });
const row = (rep: ReturnType<typeof quotaReport>, id: string) => rep.rows.find((x) => x.id === id)!;

/** A plain network: a VPC, three public subnets, `nats` NAT gateways with their EIPs. */
function plainNetwork(nats: number): QuotaResource[] {
  const zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
  return [
    r("aws:ec2/vpc:Vpc", "network-vpc", { cidrBlock: "10.0.0.0/16" }, "vpc-1"),
    ...zones.map((z, i) => r("aws:ec2/subnet:Subnet", `public-${z}`, { availabilityZone: z }, `subnet-${i}`)),
    ...zones.slice(0, nats).flatMap((z, i) => [
      r("aws:ec2/eip:Eip", `nat-eip-${z}`, { domain: "vpc" }),
      r("aws:ec2/natGateway:NatGateway", `nat-${z}`, { subnetId: `subnet-${i}` }),
    ]),
  ];
}

describe("quota counts", () => {
  it("plain resources: VPCs, EIPs, NAT gateways per zone, endpoints, groups and their rules, ALBs, target groups, web ACLs", () => {
    const resources = [
      ...plainNetwork(3),
      r("aws:ec2/vpcEndpoint:VpcEndpoint", "sqs", { vpcEndpointType: "Interface", vpcId: "vpc-1" }),
      r("aws:ec2/vpcEndpoint:VpcEndpoint", "logs", { vpcEndpointType: "Interface", vpcId: "vpc-1" }),
      r("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", { vpcEndpointType: "Gateway", vpcId: "vpc-1" }),
      r("aws:ec2/securityGroup:SecurityGroup", "db-sg", { ingress: [{ fromPort: 5432 }] }, "sg-db"),
      r("aws:ec2/securityGroup:SecurityGroup", "api-sg", {}, "sg-api"),
      r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "api-to-db-in", { securityGroupId: "sg-db" }),
      r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "workers-to-db-in", { securityGroupId: "sg-db" }),
      r("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "api-to-db-out", { securityGroupId: "sg-api" }),
      r("aws:lb/loadBalancer:LoadBalancer", "alb", { name: "chat" }),
      r("aws:lb/loadBalancer:LoadBalancer", "nlb", { name: "chat-nlb", loadBalancerType: "network" }),
      r("aws:lb/targetGroup:TargetGroup", "api", { name: "api" }),
      r("aws:wafv2/webAcl:WebAcl", "waf", { scope: "REGIONAL" }),
    ];
    const c = countQuotas(resources);
    expect(c).toStrictEqual({
      vpcs: 1, elasticIps: 3, natPerAz: { "us-east-1a": 1, "us-east-1b": 1, "us-east-1c": 1 }, interfaceEndpointsPerVpc: { "vpc-1": 2 },
      gatewayEndpoints: 1, securityGroups: 3, inboundPerSg: { "db-sg": 3, "api-sg": 0 }, outboundPerSg: { "db-sg": 0, "api-sg": 1 },
      albs: 1, targetGroups: 1, webAcls: 1,
    });
    const rep = quotaReport(["s"], "us-east-1", c, { includeDefaultVpc: true });
    expect(rep.rows.map((x) => x.id)).toStrictEqual(QUOTAS.map((q) => q.id));
    expect(row(rep, "vpcs")).toMatchObject({ used: 2, defaultQuota: 5, exceeded: false });
    expect(row(rep, "inbound-rules-per-sg")).toMatchObject({ used: 3, detail: "largest: db-sg (2 counted)" });
    expect(rep.warnings).toStrictEqual([]);
  });

  it("an awsx:ec2:Vpc: NAT gateways and EIPs from natGateways.strategy and the zones in its inputs", () => {
    const vpc = (inputs: Record<string, any>) => countQuotas([{ type: "awsx:ec2:Vpc", name: "network", custom: false, inputs }]);
    const zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
    expect(vpc({ availabilityZoneNames: zones, natGateways: { strategy: "OnePerAz" } })).toMatchObject({ vpcs: 1, elasticIps: 3, natPerAz: { "us-east-1a": 1, "us-east-1b": 1, "us-east-1c": 1 }, securityGroups: 1 });
    expect(vpc({ availabilityZoneNames: zones, natGateways: { strategy: "Single" } })).toMatchObject({ vpcs: 1, elasticIps: 1, natPerAz: { "us-east-1a": 1 } });
    expect(vpc({ numberOfAvailabilityZones: 2, natGateways: { strategy: "None" } })).toMatchObject({ vpcs: 1, elasticIps: 0, natPerAz: {} });
    expect(awsxNatGateways({ numberOfAvailabilityZones: 2, natGateways: { strategy: "OnePerAz" } })).toStrictEqual({ "zone 1": 1, "zone 2": 1 });
    expect(vpc({ availabilityZoneNames: zones, natGateways: { strategy: "OnePerAz" }, vpcEndpointSpecs: [{ vpcEndpointType: "Interface" }, { serviceName: "s3" }] }))
      .toMatchObject({ interfaceEndpointsPerVpc: { network: 1 }, gatewayEndpoints: 1 });
  });

  it("both shapes give the same EIP and NAT counts for the same layout", () => {
    const plain = countQuotas(plainNetwork(3));
    const awsx = countQuotas([{ type: "awsx:ec2:Vpc", name: "network", custom: false, inputs: { availabilityZoneNames: ["us-east-1a", "us-east-1b", "us-east-1c"], natGateways: { strategy: "OnePerAz" } } }]);
    expect([awsx.vpcs, awsx.elasticIps, awsx.natPerAz]).toStrictEqual([plain.vpcs, plain.elasticIps, plain.natPerAz]);
  });
});

describe("a set of stacks in one account", () => {
  it("adds up per region, counts the default VPC once, and warns on EIPs and VPCs above the defaults", () => {
    const stack = (stack: string, region: string, nats: number) => ({ stack, region, counts: countQuotas(plainNetwork(nats)) });
    const [east, west] = accountSetReports([stack("dev", "us-east-1", 1), stack("1k", "us-east-1", 3), stack("10k", "us-east-1", 3), stack("100k", "us-east-1", 3), stack("dr", "us-west-2", 3)]);
    expect(east!.stacks).toStrictEqual(["dev", "1k", "10k", "100k"]);
    expect(row(east!, "elastic-ips")).toMatchObject({ used: 10, defaultQuota: 5, exceeded: true });
    expect(row(east!, "vpcs")).toMatchObject({ used: 5, exceeded: false, detail: "4 created + the default VPC" });
    expect(row(east!, "nat-gateways-per-az")).toMatchObject({ used: 4, detail: "largest: us-east-1a (3 counted)" });
    expect(east!.warnings).toStrictEqual([
      "Elastic IP addresses per Region: 10 (one per NAT gateway) exceeds AWS's default quota of 5 for stacks dev, 1k, 10k, 100k together in one account in us-east-1; request an increase in Service Quotas before deploying, or deploy to separate accounts [https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html]",
    ]);
    expect(west!.stacks).toStrictEqual(["dr"]);
    expect(west!.warnings).toStrictEqual([]);
    const five = accountSetReports(["a", "b", "c", "d", "e"].map((s) => stack(s, "eu-west-1", 0)))[0]!;
    expect(row(five, "vpcs")).toMatchObject({ used: 6, exceeded: true });
    expect(five.warnings[0]).toMatch(/^VPCs per Region \(the default VPC counts\): 6 \(5 created \+ the default VPC\) exceeds AWS's default quota of 5/);
  });
});
