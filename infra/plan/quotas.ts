/**
 * Account quotas: how many of each quota-bound resource a stack creates, and a set of stacks deployed to one
 * account and region, against AWS's DEFAULT quota (what a new account has before any increase request).
 * A count above a default is a warning: the deployment fails at that resource unless the quota was raised
 * (Service Quotas console) or the stacks live in separate accounts.
 *
 * The network can be plain resources (`aws:ec2/vpc`, `aws:ec2/natGateway`, `aws:ec2/eip`, subnets) or one
 * `awsx:ec2:Vpc` component, which under the mock runtime registers only itself: its NAT gateways and Elastic
 * IPs are then counted from its inputs (`natGateways.strategy`: Single = 1, OnePerAz = one per zone, None = 0;
 * one Elastic IP per NAT gateway; zones from `availabilityZoneNames` or `numberOfAvailabilityZones`).
 * Every resource is counted in the stack's region (the DR copies in another region are backup vaults and
 * keys, which no quota here covers).
 */

export type QuotaScope = "region" | "vpc" | "az" | "security group";

export interface QuotaSpec {
  id: string;
  label: string;
  scope: QuotaScope;
  /** AWS's default quota for a new account. */
  defaultQuota: number;
  source: string;
}

const VPC_QUOTAS = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html";
const ALB_QUOTAS = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html";
const WAF_QUOTAS = "https://docs.aws.amazon.com/waf/latest/developerguide/limits.html";

/** The quotas counted, with AWS's default values. */
export const QUOTAS: readonly QuotaSpec[] = [
  { id: "vpcs", label: "VPCs per Region (the default VPC counts)", scope: "region", defaultQuota: 5, source: VPC_QUOTAS },
  { id: "elastic-ips", label: "Elastic IP addresses per Region", scope: "region", defaultQuota: 5, source: VPC_QUOTAS },
  { id: "nat-gateways-per-az", label: "NAT gateways per Availability Zone", scope: "az", defaultQuota: 5, source: VPC_QUOTAS },
  { id: "interface-endpoints-per-vpc", label: "Interface VPC endpoints per VPC", scope: "vpc", defaultQuota: 50, source: VPC_QUOTAS },
  { id: "gateway-endpoints", label: "Gateway VPC endpoints per Region", scope: "region", defaultQuota: 20, source: VPC_QUOTAS },
  { id: "security-groups", label: "VPC security groups per Region (each VPC's default group counts)", scope: "region", defaultQuota: 2500, source: VPC_QUOTAS },
  { id: "inbound-rules-per-sg", label: "Inbound rules per security group", scope: "security group", defaultQuota: 60, source: VPC_QUOTAS },
  { id: "outbound-rules-per-sg", label: "Outbound rules per security group", scope: "security group", defaultQuota: 60, source: VPC_QUOTAS },
  { id: "albs", label: "Application Load Balancers per Region", scope: "region", defaultQuota: 50, source: ALB_QUOTAS },
  { id: "target-groups", label: "Target groups per Region", scope: "region", defaultQuota: 3000, source: ALB_QUOTAS },
  { id: "waf-web-acls", label: "WAF web ACLs per Region", scope: "region", defaultQuota: 100, source: WAF_QUOTAS },
];

export interface QuotaRow {
  id: string;
  label: string;
  scope: QuotaScope;
  defaultQuota: number;
  /** The count (for per-VPC/AZ/group quotas: the largest one). */
  used: number;
  /** Where the largest count is (zone, VPC or group), or what was counted. */
  detail: string;
  exceeded: boolean;
  source: string;
}

export interface QuotaReport {
  /** Stacks counted together (one for a stack's own report). */
  stacks: string[];
  region: string;
  rows: QuotaRow[];
  /** One line per exceeded default. */
  warnings: string[];
}

/** What the counter reads of a resource. */
export interface QuotaResource {
  type: string;
  name: string;
  custom?: boolean;
  inputs: Record<string, any>;
  /** Provider id of the resource, when known (joins NAT gateways to subnets and rules to groups). */
  id?: string;
}

/** Raw counts of one stack, kept per zone / VPC / group so that a set of stacks can be added up. */
export interface QuotaCounts {
  vpcs: number;
  elasticIps: number;
  natPerAz: Record<string, number>;
  interfaceEndpointsPerVpc: Record<string, number>;
  gatewayEndpoints: number;
  securityGroups: number;
  inboundPerSg: Record<string, number>;
  outboundPerSg: Record<string, number>;
  albs: number;
  targetGroups: number;
  webAcls: number;
}

const T = {
  vpc: "aws:ec2/vpc:Vpc",
  awsxVpc: "awsx:ec2:Vpc",
  eip: "aws:ec2/eip:Eip",
  nat: "aws:ec2/natGateway:NatGateway",
  subnet: "aws:ec2/subnet:Subnet",
  endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  lb: "aws:lb/loadBalancer:LoadBalancer",
  tg: "aws:lb/targetGroup:TargetGroup",
  webAcl: "aws:wafv2/webAcl:WebAcl",
} as const;

const add = (m: Record<string, number>, k: string, n = 1) => (m[k] = (m[k] ?? 0) + n);
const str = (v: unknown) => (typeof v === "string" ? v : v === undefined ? "?" : JSON.stringify(v));

/** NAT gateways of an awsx VPC by zone, from its inputs. */
export function awsxNatGateways(inputs: Record<string, any>): Record<string, number> {
  const zones: string[] = Array.isArray(inputs.availabilityZoneNames)
    ? inputs.availabilityZoneNames.map(String)
    : Array.from({ length: typeof inputs.numberOfAvailabilityZones === "number" ? inputs.numberOfAvailabilityZones : 3 }, (_, i) => `zone ${i + 1}`);
  const strategy = inputs.natGateways?.strategy ?? "OnePerAz";
  const out: Record<string, number> = {};
  if (strategy === "Single" && zones.length > 0) out[zones[0]!] = 1;
  else if (strategy === "OnePerAz") for (const z of zones) out[z] = 1;
  return out;
}

/** Counts one stack's quota-bound resources. */
export function countQuotas(resources: QuotaResource[]): QuotaCounts {
  const custom = resources.filter((r) => r.custom !== false || r.type === T.awsxVpc);
  const c: QuotaCounts = {
    vpcs: 0, elasticIps: 0, natPerAz: {}, interfaceEndpointsPerVpc: {}, gatewayEndpoints: 0, securityGroups: 0,
    inboundPerSg: {}, outboundPerSg: {}, albs: 0, targetGroups: 0, webAcls: 0,
  };
  const subnetZone = new Map<string, string>();
  for (const r of custom) if (r.type === T.subnet && r.id) subnetZone.set(r.id, str(r.inputs.availabilityZone));
  const sgName = new Map<string, string>();
  for (const r of custom) if (r.type === T.sg && r.id) sgName.set(r.id, r.name);
  const group = (id: unknown) => sgName.get(String(id)) ?? str(id);

  for (const r of custom) {
    const i = r.inputs;
    switch (r.type) {
      case T.vpc:
        c.vpcs++;
        c.securityGroups++; // every VPC comes with its default security group
        break;
      case T.awsxVpc: {
        c.vpcs++;
        c.securityGroups++;
        const nats = awsxNatGateways(i);
        for (const [z, n] of Object.entries(nats)) add(c.natPerAz, z, n);
        c.elasticIps += Object.values(nats).reduce((a, b) => a + b, 0);
        for (const spec of Array.isArray(i.vpcEndpointSpecs) ? i.vpcEndpointSpecs : []) {
          if (spec?.vpcEndpointType === "Interface") add(c.interfaceEndpointsPerVpc, r.name);
          else c.gatewayEndpoints++;
        }
        break;
      }
      case T.eip:
        c.elasticIps++;
        break;
      case T.nat:
        add(c.natPerAz, subnetZone.get(String(i.subnetId)) ?? `subnet ${str(i.subnetId)}`);
        break;
      case T.endpoint:
        if (i.vpcEndpointType === "Interface") add(c.interfaceEndpointsPerVpc, str(i.vpcId));
        else if ((i.vpcEndpointType ?? "Gateway") === "Gateway") c.gatewayEndpoints++;
        break;
      case T.sg:
        c.securityGroups++;
        add(c.inboundPerSg, r.name, Array.isArray(i.ingress) ? i.ingress.length : 0);
        add(c.outboundPerSg, r.name, Array.isArray(i.egress) ? i.egress.length : 0);
        break;
      case T.ingress:
        add(c.inboundPerSg, group(i.securityGroupId));
        break;
      case T.egress:
        add(c.outboundPerSg, group(i.securityGroupId));
        break;
      case T.sgRule:
        add(i.type === "egress" ? c.outboundPerSg : c.inboundPerSg, group(i.securityGroupId));
        break;
      case T.lb:
        if ((i.loadBalancerType ?? "application") === "application") c.albs++;
        break;
      case T.tg:
        c.targetGroups++;
        break;
      case T.webAcl:
        if ((i.scope ?? "REGIONAL") === "REGIONAL") c.webAcls++;
        break;
    }
  }
  return c;
}

/** Adds the counts of several stacks in one account and region (per-key maps add up key by key). */
export function sumCounts(all: QuotaCounts[]): QuotaCounts {
  const merge = (maps: Array<Record<string, number>>, prefix: (i: number) => string) => {
    const out: Record<string, number> = {};
    maps.forEach((m, i) => {
      for (const [k, v] of Object.entries(m)) add(out, prefix(i) + k, v);
    });
    return out;
  };
  const sum = (f: (c: QuotaCounts) => number) => all.reduce((n, c) => n + f(c), 0);
  return {
    vpcs: sum((c) => c.vpcs),
    elasticIps: sum((c) => c.elasticIps),
    // zone names are the account's own: stacks in one account share them
    natPerAz: merge(all.map((c) => c.natPerAz), () => ""),
    // VPCs and groups belong to one stack each: keep them apart
    interfaceEndpointsPerVpc: merge(all.map((c) => c.interfaceEndpointsPerVpc), (i) => `#${i} `),
    gatewayEndpoints: sum((c) => c.gatewayEndpoints),
    securityGroups: sum((c) => c.securityGroups),
    inboundPerSg: merge(all.map((c) => c.inboundPerSg), (i) => `#${i} `),
    outboundPerSg: merge(all.map((c) => c.outboundPerSg), (i) => `#${i} `),
    albs: sum((c) => c.albs),
    targetGroups: sum((c) => c.targetGroups),
    webAcls: sum((c) => c.webAcls),
  };
}

function largest(m: Record<string, number>, names: (k: string) => string): { used: number; detail: string } {
  const entries = Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (!entries.length) return { used: 0, detail: "none" };
  return { used: entries[0]![1], detail: `largest: ${names(entries[0]![0])} (${entries.length} counted)` };
}

/** The report of counts (one stack, or a set with `includeDefaultVpc`) against the default quotas. */
export function quotaReport(stacks: string[], region: string, counts: QuotaCounts, opts: { includeDefaultVpc: boolean }): QuotaReport {
  const stackOf = (k: string) => {
    const m = /^#(\d+) (.*)$/.exec(k);
    return m ? `${stacks[Number(m[1])]}: ${m[2]}` : k;
  };
  const defaultVpc = opts.includeDefaultVpc ? 1 : 0;
  const values: Record<string, { used: number; detail: string }> = {
    vpcs: { used: counts.vpcs + defaultVpc, detail: opts.includeDefaultVpc ? `${counts.vpcs} created + the default VPC` : `${counts.vpcs} created (the region's default VPC adds 1)` },
    "elastic-ips": { used: counts.elasticIps, detail: "one per NAT gateway" },
    "nat-gateways-per-az": largest(counts.natPerAz, stackOf),
    "interface-endpoints-per-vpc": largest(counts.interfaceEndpointsPerVpc, stackOf),
    "gateway-endpoints": { used: counts.gatewayEndpoints, detail: "S3/DynamoDB gateway endpoints" },
    "security-groups": { used: counts.securityGroups + (opts.includeDefaultVpc ? 1 : 0), detail: opts.includeDefaultVpc ? "created + each VPC's default group, incl. the default VPC's" : "created + each VPC's default group" },
    "inbound-rules-per-sg": largest(counts.inboundPerSg, stackOf),
    "outbound-rules-per-sg": largest(counts.outboundPerSg, stackOf),
    albs: { used: counts.albs, detail: "internet-facing and internal" },
    "target-groups": { used: counts.targetGroups, detail: "shared with Network Load Balancers" },
    "waf-web-acls": { used: counts.webAcls, detail: "regional web ACLs" },
  };
  const rows = QUOTAS.map((q) => {
    const v = values[q.id]!;
    return { id: q.id, label: q.label, scope: q.scope, defaultQuota: q.defaultQuota, used: v.used, detail: v.detail, exceeded: v.used > q.defaultQuota, source: q.source };
  });
  const who = stacks.length === 1 ? `stack ${stacks[0]}` : `stacks ${stacks.join(", ")} together in one account`;
  const warnings = rows
    .filter((r) => r.exceeded)
    .map((r) => `${r.label}: ${r.used} (${r.detail}) exceeds AWS's default quota of ${r.defaultQuota} for ${who} in ${region}; request an increase in Service Quotas before deploying, or deploy to separate accounts [${r.source}]`);
  return { stacks, region, rows, warnings };
}

/** Reports for a set of stacks: one per region the stacks deploy to (stacks in other regions do not add up). */
export function accountSetReports(perStack: Array<{ stack: string; region: string; counts: QuotaCounts }>): QuotaReport[] {
  const regions = [...new Set(perStack.map((s) => s.region))].sort();
  return regions.map((region) => {
    const here = perStack.filter((s) => s.region === region);
    return quotaReport(here.map((s) => s.stack), region, sumCounts(here.map((s) => s.counts)), { includeDefaultVpc: true });
  });
}
