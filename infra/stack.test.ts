/**
 * Stack tests: synthesize every Pulumi.<stack>.yaml under the mock runtime (normal and preview), then check
 * invariants and the network layout each tier asks for.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { validateStackConfig } from "./config/load";
import { TIERS } from "./config/tiers";
import { subnetLayout } from "./components/cidr";
import type { TierName } from "./config/tiers";
import { byType, inventory, loadStackFile, one, REPO_ROOT, synthesize, synthesizeInChild, UNKNOWN } from "./synth";
import type { SynthResult } from "./synth";

const STACKS = readdirSync(REPO_ROOT)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();

const runs = new Map<string, { normal: SynthResult; preview: SynthResult }>();

/** Outputs the operators' runbook reads with `pulumi stack output` or uses as metric dimensions. */
const REQUIRED_OUTPUTS = [
  "albDnsName", "albArnSuffix", "realtimeTargetGroupArn", "realtimeTargetGroupArnSuffix", "wafAclArn",
  "ecsClusterName", "apiServiceName", "realtimeServiceName", "workersServiceName",
];

/** Resource types that belong in public subnets. */
const PUBLIC_SUBNET_TYPES = new Set([
  "aws:lb/loadBalancer:LoadBalancer",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
]);

/** Every subnet id mentioned anywhere in a resource's inputs. */
function subnetRefs(value: unknown): string[] {
  if (typeof value === "string") return value.startsWith("subnet-") ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(subnetRefs);
  if (value && typeof value === "object") return Object.values(value).flatMap(subnetRefs);
  return [];
}

beforeAll(async () => {
  for (const stack of STACKS) {
    runs.set(stack, { normal: await synthesize(stack), preview: await synthesize(stack, { preview: true }) });
  }
});

describe("stack files", () => {
  it("exist for every tier", () => {
    expect(STACKS).toStrictEqual(["100k-dau", "10k-dau", "10k-dau-dr", "1k-dau", "dev"]);
  });

  for (const stack of STACKS) {
    describe(stack, () => {
      const get = () => runs.get(stack)!;
      const cfg = () => validateStackConfig(loadStackFile(stack).config, stack);

      it("has a valid config in us-east-1 with us-west-2 for DR and the tier named like the stack", () => {
        const c = cfg();
        if (c.primaryEnv !== undefined) {
          // a DR stack: the primary's tier, in the primary's drRegion, copying back to the primary's region
          const primary = validateStackConfig(loadStackFile(c.primaryEnv).config, c.primaryEnv);
          assert.deepEqual([c.tier, c.region, c.drRegion], [primary.tier, primary.drRegion, primary.region]);
          assert.equal(stack, `${c.primaryEnv}-dr`);
        } else {
          assert.equal(c.region, "us-east-1");
          assert.equal(c.drRegion, "us-west-2");
          assert.equal(c.tier, stack as TierName);
        }
        assert.ok(c.availabilityZones.length >= TIERS[c.tier].network.minZones);
      });

      it("registers no two resources with the same URN", () => {
        for (const run of [get().normal, get().preview]) {
          const seen = new Map<string, number>();
          for (const r of run.resources) seen.set(r.urn, (seen.get(r.urn) ?? 0) + 1);
          assert.deepEqual([...seen].filter(([, n]) => n > 1), []);
        }
      });

      it("registers the same resources in a preview (nothing is created inside apply)", () => {
        assert.deepEqual(inventory(get().preview), inventory(get().normal));
        assert.equal(get().preview.outputs.vpcId, UNKNOWN, "the preview must really leave computed values unknown");
      });

      it("gives every child a parent and keeps components under realtime-chat:", () => {
        for (const r of get().normal.resources) {
          if (r.custom) assert.ok(r.parent, `${r.type}::${r.name} has no parent component`);
          // awsx's remote Vpc registers as a component of its own package
          else if (r.type === "awsx:ec2:Vpc") assert.ok(r.parent, `${r.name} has no parent component`);
          else assert.match(r.type, /^realtime-chat:[a-z]+:[A-Z][A-Za-z]+$/);
        }
      });

      it("exports the outputs the operators' runbook reads", () => {
        for (const run of [get().normal, get().preview]) {
          for (const name of REQUIRED_OUTPUTS) assert.ok(name in run.outputs, `stack output ${name} is missing`);
        }
        for (const name of REQUIRED_OUTPUTS) assert.notEqual(get().normal.outputs[name], undefined, `stack output ${name} has no value`);
      });

      it("keeps everything but the ALB and NAT gateways out of the public subnets", () => {
        const run = get().normal;
        const publicIds = new Set<string>(run.outputs.publicSubnetIds);
        const offenders = run.resources
          .filter((r) => !PUBLIC_SUBNET_TYPES.has(r.type))
          .filter((r) => subnetRefs(r.inputs).some((id) => publicIds.has(id)))
          .map((r) => `${r.type}::${r.name}`);
        assert.deepEqual(offenders, []);
        const lb = one(run, "aws:lb/loadBalancer:LoadBalancer", "alb-lb");
        assert.ok(lb.inputs.subnets.every((id: string) => publicIds.has(id)), "the ALB sits in the public subnets");
      });

      it("admits traffic from the internet only to the ALB, on 80 and 443", () => {
        const run = get().normal;
        const albSg = run.outputs.albSecurityGroupId;
        const open = (cidr: unknown) => cidr === "0.0.0.0/0" || cidr === "::/0";
        const wide: string[] = [];
        for (const r of byType(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
          if (r.inputs.ipProtocol === "-1") wide.push(`${r.name}: all protocols`);
          if (!open(r.inputs.cidrIpv4) && !open(r.inputs.cidrIpv6)) continue;
          if (r.inputs.securityGroupId !== albSg || ![80, 443].includes(r.inputs.fromPort) || r.inputs.fromPort !== r.inputs.toPort) {
            wide.push(`${r.name}: ${r.inputs.fromPort}-${r.inputs.toPort} from anywhere`);
          }
        }
        for (const sg of byType(run, "aws:ec2/securityGroup:SecurityGroup")) {
          for (const rule of sg.inputs.ingress ?? []) {
            if ([...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])].some(open)) wide.push(`${sg.name}: inline ingress from anywhere`);
          }
        }
        for (const r of byType(run, "aws:ec2/securityGroupRule:SecurityGroupRule")) {
          if (r.inputs.type === "ingress" && (r.inputs.cidrBlocks ?? []).some(open)) wide.push(`${r.name}: ingress from anywhere`);
        }
        assert.deepEqual(wide, []);
      });

      it("lays out the network for the tier", () => {
        const run = get().normal;
        const c = cfg();
        const sizing = TIERS[c.tier].network;
        const zones = c.availabilityZones;
        // awsx's Vpc is a remote component: its subnets, routes and NAT gateways are built by its provider and
        // are not visible here, so the layout is asserted on its inputs (as awsx names them).
        const vpc = one(run, "awsx:ec2:Vpc", "network-vpc");
        assert.equal(vpc.inputs.cidrBlock, c.vpcCidr);
        assert.equal(vpc.inputs.enableDnsHostnames, true);
        assert.deepEqual(vpc.inputs.availabilityZoneNames, zones);
        assert.equal(vpc.inputs.numberOfAvailabilityZones, undefined, "zones are named, never counted");
        const layout = subnetLayout(c.vpcCidr, zones.length);
        assert.deepEqual(vpc.inputs.subnetSpecs.map((x: any) => [x.type, x.cidrBlocks, x.tags.Tier]), [
          ["Public", layout.public, "public"],
          ["Private", layout.private, "private"],
        ]);
        assert.equal(vpc.inputs.natGateways.strategy, sizing.natGateways === "single" ? "Single" : "OnePerAz");
        assert.equal(vpc.inputs.natGateways.elasticIpAllocationIds, undefined);
        // nothing outside awsx creates NAT gateways, Elastic IPs, subnets or routes
        for (const t of ["aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable"]) {
          assert.deepEqual(byType(run, t).map((r) => r.name), [], `${t} outside the awsx Vpc`);
        }
        assert.equal(run.outputs.publicSubnetIds.length, zones.length);
        assert.equal(run.outputs.privateSubnetIds.length, zones.length);

        assert.equal(vpc.inputs.vpcEndpointStrategy, "Auto");
        assert.deepEqual(vpc.inputs.vpcEndpointSpecs.map((e: any) => [e.serviceName, e.vpcEndpointType]), [[`com.amazonaws.${c.region}.s3`, "Gateway"]]);
        const endpoints = byType(run, "aws:ec2/vpcEndpoint:VpcEndpoint");
        assert.deepEqual(endpoints.filter((e) => e.inputs.vpcEndpointType === "Gateway").map((e) => e.name), [], "the S3 gateway endpoint is the Vpc's");
        const iface = endpoints.filter((e) => e.inputs.vpcEndpointType === "Interface");
        assert.deepEqual(iface.map((e) => e.inputs.serviceName).sort(),
          sizing.interfaceEndpoints.map((s) => `com.amazonaws.${c.region}.${s}`).sort());
        const privIds = new Set(run.outputs.privateSubnetIds);
        for (const e of iface) {
          assert.equal(e.inputs.privateDnsEnabled, true);
          assert.ok(e.inputs.subnetIds.every((id: string) => privIds.has(id)), "interface endpoints sit in private subnets");
        }
        const endpointSg = byType(run, "aws:ec2/securityGroup:SecurityGroup").find((s) => s.name === "network-endpoints-sg");
        if (iface.length) {
          assert.deepEqual(endpointSg!.inputs.ingress.map((r: any) => [r.protocol, r.fromPort, r.toPort, r.cidrBlocks]), [["tcp", 443, 443, [c.vpcCidr]]]);
        } else {
          assert.equal(endpointSg, undefined);
        }

        const defaultSg = one(run, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-sg");
        assert.equal(defaultSg.inputs.ingress, undefined, "default security group keeps no rules");
        const flow = one(run, "aws:ec2/flowLog:FlowLog", "network-flow-log");
        assert.equal(flow.inputs.trafficType, "ALL");
        assert.equal(one(run, "aws:cloudwatch/logGroup:LogGroup", "network-flow-logs").inputs.retentionInDays, sizing.flowLogRetentionDays);

        assert.equal(run.outputs.vpcCidr, c.vpcCidr);
        assert.equal(run.outputs.privateSubnetIds.length, zones.length);
      });
    });
  }
});

describe("program entry", () => {
  it("infra/index.ts exports every output the platform returns", async () => {
    const viaEntry = await synthesize("dev", {
      program: () => {
        const path = require.resolve("./index");
        delete require.cache[path];
        return require(path);
      },
    });
    const direct = runs.get("dev")!.normal;
    assert.deepEqual(Object.keys(viaEntry.outputs).sort(), Object.keys(direct.outputs).sort());
    assert.deepEqual(inventory(viaEntry), inventory(direct));
    for (const name of REQUIRED_OUTPUTS) assert.ok(name in viaEntry.outputs, name);
  });
});

describe("synth harness", () => {
  it("applies config overrides and fails with the validation message before any resource", async () => {
    await assert.rejects(
      synthesize("dev", { configOverrides: { "realtime-chat:tier": "mega" } }),
      /Invalid configuration in Pulumi\.dev\.yaml \(1 problem\):\n  - realtime-chat:tier = "mega": not a tier/,
    );
  });

  it("refuses invokes it does not know", async () => {
    const aws = await import("@pulumi/aws");
    await assert.rejects(
      synthesize("dev", { program: async () => ({ zones: (await aws.getAvailabilityZones()).names }) }),
      /unsupported invoke aws:index\/getAvailabilityZones:getAvailabilityZones\. Supported: aws:index\/getCallerIdentity/,
    );
  });

  it("a preview misses resources created inside apply, so the parity test can fail", async () => {
    const aws = await import("@pulumi/aws");
    const program = () => {
      const vpc = new aws.ec2.Vpc("probe-vpc", { cidrBlock: "10.9.0.0/16" });
      vpc.id.apply((id) => new aws.ec2.Subnet("probe-subnet", { vpcId: id, cidrBlock: "10.9.0.0/24" }));
      return { vpcId: vpc.id };
    };
    const normal = await synthesize("dev", { program });
    const preview = await synthesize("dev", { program, preview: true });
    assert.deepEqual(inventory(normal), ["aws:ec2/subnet:Subnet::probe-subnet", "aws:ec2/vpc:Vpc::probe-vpc"]);
    assert.deepEqual(inventory(preview), ["aws:ec2/vpc:Vpc::probe-vpc"]);
  });

  it("synthesizes in a child process and returns the same JSON, however large", async () => {
    // the largest stack: its JSON is far beyond a pipe's buffer, so an early exit in the child would truncate it
    const child = await synthesizeInChild("100k-dau");
    const here = runs.get("100k-dau")!.normal;
    assert.ok(JSON.stringify(child).length > 128 * 1024);
    assert.deepEqual(inventory(child), inventory(here));
    assert.deepEqual(child.outputs, here.outputs);
    assert.equal(child.stack, "100k-dau");
    assert.equal(child.project, "realtime-chat");
  });
});
