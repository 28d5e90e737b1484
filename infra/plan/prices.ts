/**
 * On-demand price table (USD) for the regions the stack files use: us-east-1 (primary) and us-west-2 (DR).
 *
 * This machine cannot reach the AWS Price List API, so the figures are the published on-demand list prices,
 * Linux/x86 where it matters, each with the page it comes from and the date it was read. AWS charges the same
 * for these items in N. Virginia and Oregon; where that is so, us-west-2 reuses the us-east-1 entry (the
 * source line says so). Update a figure by editing its entry (and its `date`); `npm run plan:readme`
 * regenerates the README cost table and the freshness test tells you when to.
 */

export interface Price {
  usd: number;
  unit: string;
  source: string;
  /** When the figure was read from the source (YYYY-MM). */
  date: string;
}

const AWS = (service: string) => `https://aws.amazon.com/${service}/pricing/`;
const READ = "2026-11";

const p = (usd: number, unit: string, source: string, date = READ): Price => ({ usd, unit, source, date });

/** Hourly price per instance/node class. */
export type ClassPrices = Record<string, Price>;

export interface RegionPrices {
  fargateVcpuHour: Price;
  fargateGbHour: Price;
  albHour: Price;
  albLcuHour: Price;
  natHour: Price;
  natGb: Price;
  publicIpv4Hour: Price;
  interfaceEndpointAzHour: Price;
  interfaceEndpointGb: Price;
  rdsInstanceHour: ClassPrices;
  rdsGp3GbMonth: Price;
  /** RDS Proxy, per vCPU-hour of the database instance (minimum 2 vCPUs). */
  rdsProxyVcpuHour: Price;
  elasticacheNodeHour: ClassPrices;
  wafWebAclMonth: Price;
  wafRuleMonth: Price;
  wafMillionRequests: Price;
  cloudwatchAlarmMonth: Price;
  cloudwatchDashboardMonth: Price;
  logsIngestGb: Price;
  logsStorageGbMonth: Price;
  backupWarmGbMonth: Price;
  crossRegionTransferGb: Price;
  sqsMillionRequests: Price;
  kmsKeyMonth: Price;
  secretMonth: Price;
  s3GbMonth: Price;
  ecrGbMonth: Price;
}

/** vCPUs per RDS class (RDS Proxy is billed per database vCPU). */
export const RDS_VCPUS: Record<string, number> = {
  "db.t4g.micro": 2, "db.t4g.small": 2, "db.t4g.medium": 2, "db.t4g.large": 2, "db.t4g.xlarge": 4,
  "db.m6g.large": 2, "db.m6g.xlarge": 4, "db.m6g.2xlarge": 8, "db.m7g.large": 2, "db.m7g.xlarge": 4,
  "db.r6g.large": 2, "db.r6g.xlarge": 4, "db.r6g.2xlarge": 8, "db.r6g.4xlarge": 16,
  "db.r7g.large": 2, "db.r7g.xlarge": 4, "db.r7g.2xlarge": 8,
};

const rds = AWS("rds/postgresql");
const cache = AWS("elasticache");

const US_EAST_1: RegionPrices = {
  fargateVcpuHour: p(0.04048, "vCPU-hour", `${AWS("fargate")} (Linux/x86; same figure on vantage.sh/blog/fargate-pricing, 2026-03)`),
  fargateGbHour: p(0.004445, "GB-hour", `${AWS("fargate")} (Linux/x86)`),
  albHour: p(0.0225, "ALB-hour", AWS("elasticloadbalancing")),
  albLcuHour: p(0.008, "LCU-hour", AWS("elasticloadbalancing")),
  natHour: p(0.045, "NAT gateway-hour", AWS("vpc")),
  natGb: p(0.045, "GB processed", AWS("vpc")),
  publicIpv4Hour: p(0.005, "public IPv4 address-hour", AWS("vpc")),
  interfaceEndpointAzHour: p(0.01, "endpoint ENI-hour (per zone)", AWS("privatelink")),
  interfaceEndpointGb: p(0.01, "GB processed", AWS("privatelink")),
  rdsInstanceHour: {
    "db.t4g.micro": p(0.016, "instance-hour (Single-AZ)", `${rds} (also infratally.com RDS pricing 2026)`),
    "db.t4g.small": p(0.032, "instance-hour (Single-AZ)", `${rds} (also infratally.com RDS pricing 2026)`),
    "db.t4g.medium": p(0.065, "instance-hour (Single-AZ)", `${rds} (also infratally.com RDS pricing 2026)`),
    "db.t4g.large": p(0.129, "instance-hour (Single-AZ)", rds),
    "db.m6g.large": p(0.152, "instance-hour (Single-AZ)", rds),
    "db.m6g.xlarge": p(0.304, "instance-hour (Single-AZ)", rds),
    "db.m7g.large": p(0.168, "instance-hour (Single-AZ)", rds),
    "db.r6g.large": p(0.225, "instance-hour (Single-AZ)", rds),
    "db.r6g.xlarge": p(0.449, "instance-hour (Single-AZ)", rds),
    "db.r6g.2xlarge": p(0.899, "instance-hour (Single-AZ)", rds),
    "db.r6g.4xlarge": p(1.798, "instance-hour (Single-AZ)", rds),
    "db.r7g.large": p(0.239, "instance-hour (Single-AZ)", rds),
    "db.r7g.xlarge": p(0.478, "instance-hour (Single-AZ)", rds),
  },
  rdsGp3GbMonth: p(0.115, "GB-month (Single-AZ; Multi-AZ bills the standby too)", `${rds} (also usage.ai RDS calculator, 2026-06)`),
  rdsProxyVcpuHour: p(0.015, "database vCPU-hour (minimum 2)", AWS("rds/proxy")),
  elasticacheNodeHour: {
    "cache.t4g.micro": p(0.016, "node-hour", cache),
    "cache.t4g.small": p(0.032, "node-hour", cache),
    "cache.t4g.medium": p(0.065, "node-hour", cache),
    "cache.m7g.large": p(0.158, "node-hour", cache),
    "cache.m7g.xlarge": p(0.315, "node-hour", cache),
    "cache.r7g.large": p(0.219, "node-hour", cache),
    "cache.r7g.xlarge": p(0.437, "node-hour", cache),
    "cache.r7g.2xlarge": p(0.873, "node-hour", cache),
    "cache.r6g.large": p(0.206, "node-hour", cache),
    "cache.r6g.xlarge": p(0.411, "node-hour", cache),
  },
  wafWebAclMonth: p(5, "web ACL-month", AWS("waf")),
  wafRuleMonth: p(1, "rule or rule group-month", AWS("waf")),
  wafMillionRequests: p(0.6, "million requests", AWS("waf")),
  cloudwatchAlarmMonth: p(0.1, "standard-resolution alarm metric-month", AWS("cloudwatch")),
  cloudwatchDashboardMonth: p(3, "dashboard-month (beyond the 3 free)", AWS("cloudwatch")),
  logsIngestGb: p(0.5, "GB ingested", AWS("cloudwatch")),
  logsStorageGbMonth: p(0.03, "GB-month archived", AWS("cloudwatch")),
  backupWarmGbMonth: p(0.095, "GB-month (RDS snapshot in AWS Backup)", AWS("backup")),
  crossRegionTransferGb: p(0.02, "GB copied to another region", AWS("ec2") + " (data transfer between regions)"),
  sqsMillionRequests: p(0.4, "million standard requests (after the free million)", AWS("sqs")),
  kmsKeyMonth: p(1, "customer managed key-month", AWS("kms")),
  secretMonth: p(0.4, "secret-month", AWS("secrets-manager")),
  s3GbMonth: p(0.023, "GB-month (S3 Standard)", AWS("s3")),
  ecrGbMonth: p(0.1, "GB-month", AWS("ecr")),
};

const sameAsUsEast1 = (r: RegionPrices): RegionPrices => {
  const copy = (x: Price): Price => ({ ...x, source: `${x.source} (us-west-2 lists the same figure as us-east-1)` });
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    out[k] = "usd" in (v as object) ? copy(v as Price) : Object.fromEntries(Object.entries(v as ClassPrices).map(([c, x]) => [c, copy(x)]));
  }
  return out as unknown as RegionPrices;
};

export const PRICES: Record<string, RegionPrices> = {
  "us-east-1": US_EAST_1,
  "us-west-2": sameAsUsEast1(US_EAST_1),
};

export const HOURS_PER_MONTH = 730;

export function pricesFor(region: string): RegionPrices {
  const table = PRICES[region];
  if (!table) throw new Error(`plan: no price table for region ${region}; add it to infra/plan/prices.ts (priced: ${Object.keys(PRICES).join(", ")})`);
  return table;
}
