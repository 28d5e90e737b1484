/**
 * The network is an awsx Vpc, a remote component whose NAT gateways, Elastic IPs and endpoints are invisible
 * offline: the plan prices them from the Vpc's inputs. These cases pin that arithmetic.
 */
import { DEFAULT_ASSUMPTIONS } from "./assumptions";
import { AWSX_VPC, awsxVpcCosts, estimateCost } from "./cost";
import { HOURS_PER_MONTH, pricesFor } from "./prices";

const zones3 = ["us-east-1a", "us-east-1b", "us-east-1c"];
const vpc = (inputs: Record<string, unknown>) => ({ type: AWSX_VPC, name: "network-vpc", custom: false, inputs });
const estimate = (inputs: Record<string, unknown>) => estimateCost([vpc(inputs)], { region: "us-east-1", dau: 10_000, assumptions: DEFAULT_ASSUMPTIONS });

describe("awsx Vpc priced from its inputs", () => {
  test.each([
    [{ availabilityZoneNames: zones3, natGateways: { strategy: "OnePerAz" } }, { zones: 3, natGateways: 3, eips: 3 }],
    [{ availabilityZoneNames: zones3.slice(0, 2), natGateways: { strategy: "Single" } }, { zones: 2, natGateways: 1, eips: 1 }],
    [{ numberOfAvailabilityZones: 2 }, { zones: 2, natGateways: 2, eips: 2 }], // awsx's default strategy: OnePerAz
    [{ availabilityZoneNames: zones3, natGateways: { strategy: "None" } }, { zones: 3, natGateways: 0, eips: 0 }],
    [{ availabilityZoneNames: zones3, natGateways: { strategy: "OnePerAz", elasticIpAllocationIds: ["a", "b", "c"] } }, { zones: 3, natGateways: 3, eips: 0 }],
  ])("%j -> %j", (inputs, expected) => {
    expect(awsxVpcCosts(inputs)).toMatchObject(expected);
  });

  test("NAT hours, NAT Elastic IPs and interface endpoints x zones, each line saying it comes from the Vpc inputs", () => {
    const p = pricesFor("us-east-1");
    const cost = estimate({
      availabilityZoneNames: zones3,
      natGateways: { strategy: "OnePerAz" },
      vpcEndpointSpecs: [
        { serviceName: "com.amazonaws.us-east-1.s3", vpcEndpointType: "Gateway" },
        { serviceName: "com.amazonaws.us-east-1.logs", vpcEndpointType: "Interface" },
      ],
    });
    const lines = cost.items.map((i) => [i.type, i.basis]);
    expect(lines).toEqual([
      [AWSX_VPC, `3 NAT gateway(s) from the awsx Vpc inputs: natGateways.strategy OnePerAz x 3 zone(s) x ${HOURS_PER_MONTH} h`],
      [AWSX_VPC, expect.stringMatching(/^[\d.]+ GB processed \(share of 3 NAT gateway\(s\)\)$/)],
      [AWSX_VPC, "3 Elastic IP(s) for the NAT gateways, from the awsx Vpc inputs: natGateways.strategy OnePerAz x 3 zone(s)"],
      [AWSX_VPC, expect.stringMatching(/^interface endpoint com\.amazonaws\.us-east-1\.logs from the awsx Vpc inputs: 3 zone\(s\) x 730 h \+ [\d.]+ GB$/)],
    ]);
    expect(cost.items[0]!.monthlyUsd).toBeCloseTo(3 * p.natHour.usd * HOURS_PER_MONTH, 2);
    expect(cost.items[2]!.monthlyUsd).toBeCloseTo(3 * p.publicIpv4Hour.usd * HOURS_PER_MONTH, 2);
    expect(cost.unpricedTypes).toEqual([]);
  });

  test("a single NAT costs a third of one per zone in hours", () => {
    const one = estimate({ availabilityZoneNames: zones3, natGateways: { strategy: "Single" } });
    const three = estimate({ availabilityZoneNames: zones3, natGateways: { strategy: "OnePerAz" } });
    expect(one.items[0]!.monthlyUsd * 3).toBeCloseTo(three.items[0]!.monthlyUsd, 1);
  });
});
