/**
 * Reads and validates the stack configuration before any resource is created.
 *
 * `validateStackConfig(raw, stackName)` is pure: `raw` is the `config:` map of `Pulumi.<stack>.yaml`
 * (namespaced keys such as `realtime-chat:tier` and `aws:region`; values as strings or parsed YAML). It
 * returns a `StackConfig` or throws ONE `StackConfigError` listing every problem, each naming the stack
 * file, the key, the bad value and what is allowed.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, CONFIG_NAMESPACE, ConfigValueError, fromJson } from "./schema";
import type { ConfigKeyName, SizingOverrides, StackConfig } from "./schema";
import { TIERS, tierSizing } from "./tiers";
import { sizingProblems } from "./sizing-rules";
import { withTraffic } from "./capacity";
import type { TrafficModel } from "./capacity";
import type { TierName, TierSizing } from "./tiers";
import { serviceEnvProblems } from "./service-env";
import { carriedAwsSettings } from "./aws-provider";
import type { ServiceEnv } from "./service-env";

export class StackConfigError extends Error {
  constructor(
    readonly stackFile: string,
    readonly problems: string[],
  ) {
    super(
      `Invalid configuration in ${stackFile} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}

const show = (v: unknown) => JSON.stringify(v);

export function validateStackConfig(raw: Record<string, unknown>, stackName: string): StackConfig {
  const file = `Pulumi.${stackName}.yaml`;
  const problems: string[] = [];
  const at = (k: string, value: unknown, msg: string) => problems.push(`${k} = ${show(value)}: ${msg}`);

  const values: Record<string, unknown> = {};
  const known = new Set(Object.keys(CONFIG_KEYS));
  for (const [fullKey, value] of Object.entries(raw)) {
    const [ns, ...rest] = fullKey.split(":");
    if (ns !== CONFIG_NAMESPACE) continue;
    const name = rest.join(":");
    if (!known.has(name)) {
      at(fullKey, value, `unknown key; known keys: ${[...known].join(", ")}`);
      continue;
    }
    try {
      values[name] = CONFIG_KEYS[name as ConfigKeyName].parse(value);
    } catch (err) {
      if (!(err instanceof ConfigValueError)) throw err;
      at(fullKey, value, err.message);
    }
  }
  for (const [name, spec] of Object.entries(CONFIG_KEYS)) {
    const fullKey = `${CONFIG_NAMESPACE}:${name}`;
    if (fullKey in raw) continue;
    if (spec.required) problems.push(`${fullKey} is missing; add it to ${file} (${spec.type})`);
    values[name] = typeof spec.default === "function" ? (spec.default as (s: string) => unknown)(stackName) : spec.default;
  }

  const region = typeof raw["aws:region"] === "string" ? (raw["aws:region"] as string) : undefined;
  if (region === undefined) problems.push(`aws:region is missing; add e.g. "aws:region: us-east-1" to ${file}`);

  const tier = values.tier as TierName | undefined;
  let sizing: TierSizing | undefined;
  if (tier !== undefined && TIERS[tier]) {
    const traffic = values.traffic as Partial<TrafficModel> | undefined;
    // the tier re-derived from the stack's traffic assumptions; a model that no class carries is a problem
    try {
      sizing = tierSizing(tier, traffic && Object.keys(traffic).length ? withTraffic(traffic) : undefined);
    } catch (err) {
      at(`${CONFIG_NAMESPACE}:traffic`, traffic, (err as Error).message);
      sizing = tierSizing(tier);
    }
    if (values.sizing !== undefined) mergeOverrides(sizing, values.sizing as SizingOverrides, `${CONFIG_NAMESPACE}:sizing`, at);
    problems.push(...sizingProblems(sizing));
    checkSafeguards(tier, sizing, file, at);
    const zones = values.availabilityZones as string[] | undefined;
    if (zones && zones.length < sizing.network.minZones) {
      at(`${CONFIG_NAMESPACE}:availabilityZones`, zones,
        `tier ${tier} needs at least ${sizing.network.minZones} zones; list ${sizing.network.minZones} or more`);
    }
  }
  const zones = values.availabilityZones as string[] | undefined;
  if (region && zones) {
    const foreign = zones.filter((z) => z.slice(0, -1) !== region);
    if (foreign.length) at(`${CONFIG_NAMESPACE}:availabilityZones`, zones, `zones ${foreign.join(", ")} are not in aws:region ${region}`);
  }
  zoneIdProblems(region, zones, values.availabilityZoneIds as string[] | undefined)
    .forEach((why) => at(`${CONFIG_NAMESPACE}:availabilityZoneIds`, values.availabilityZoneIds, why));
  if (region && values.drRegion === region) {
    at(`${CONFIG_NAMESPACE}:drRegion`, values.drRegion, `must differ from aws:region (${region}); pick another region such as us-west-2`);
  }
  const cert = values.certificateArn as string | undefined;
  if (region && cert && cert.split(":")[3] !== region) {
    at(`${CONFIG_NAMESPACE}:certificateArn`, cert, `the certificate must be in aws:region ${region} (an ALB cannot use one from another region)`);
  }

  problems.push(...serviceEnvProblems(values.serviceEnv as ServiceEnv | undefined));
  problems.push(...deployReadinessProblems(values, tier, file, `${CONFIG_NAMESPACE}:drGeneration` in raw));

  if (problems.length) throw new StackConfigError(file, problems);
  return {
    ...(values as Omit<StackConfig, "stack" | "region" | "sizing" | "awsSettings">),
    stack: stackName, region: region!, sizing: sizing!, awsSettings: carriedAwsSettings(raw),
  };
}

/**
 * Keys a stack outside dev cannot run without, and pairs of keys that only work together. Checked with the rest
 * of the config, before any resource is registered; each message names the key and the fix.
 *
 * - TLS: `certificateArn`, or `domainName` + `hostedZoneId` (the stack issues a DNS-validated certificate).
 *   Without either, passwords, tokens and messages would cross the internet as http:// and ws://.
 * - Alarms: at least one subscription to the critical topic (`alarmEmail` or `alarmHttpsEndpoint`), or a
 *   paging alarm reaches nobody.
 * - `drGeneration` belongs to DR stacks (`primaryEnv`) only.
 */
export function deployReadinessProblems(values: Record<string, unknown>, tier: TierName | undefined, file: string, drGenerationSet: boolean): string[] {
  const k = (name: string) => `${CONFIG_NAMESPACE}:${name}`;
  const problems: string[] = [];
  const has = (name: string) => values[name] !== undefined;
  if (has("hostedZoneId") && !has("domainName")) {
    problems.push(`${k("hostedZoneId")} = ${show(values.hostedZoneId)}: needs ${k("domainName")} (the name to certify and point at the load balancer); add it to ${file}`);
  }
  if (tier !== undefined && tier !== "dev") {
    if (!has("certificateArn") && !(has("domainName") && has("hostedZoneId"))) {
      const missing = has("domainName") ? `${k("hostedZoneId")} is missing` : `${k("certificateArn")} is missing`;
      problems.push(
        `${missing}: tier ${tier} refuses to serve plain HTTP (passwords, tokens and messages would cross the internet unencrypted). ` +
          `Either set ${k("domainName")} and ${k("hostedZoneId")} (the stack issues an ACM certificate with DNS validation and creates the alias record), ` +
          `or set ${k("certificateArn")} to an ACM certificate in aws:region; e.g. \`pulumi config set ${k("domainName")} chat.example.com\` and ` +
          `\`pulumi config set ${k("hostedZoneId")} <zone id from \`aws route53 list-hosted-zones-by-name\`>\``,
      );
    }
    if (!has("alarmEmail") && !has("alarmHttpsEndpoint")) {
      problems.push(
        `${k("alarmEmail")} is missing: tier ${tier} needs at least one subscription to its critical alarm topic, or pages reach nobody. ` +
          `Set ${k("alarmEmail")} (e.g. oncall@example.com; confirm the subscription e-mail) or ${k("alarmHttpsEndpoint")} (a pager's https integration URL) in ${file}`,
      );
    }
  }
  if (drGenerationSet && !has("primaryEnv")) {
    problems.push(`${k("drGeneration")} = ${show(values.drGeneration)}: only DR stacks (with ${k("primaryEnv")}) carry a generation in their names; remove it from ${file}`);
  }
  return problems;
}

/** Applies `sizing` overrides in place; each leaf must exist in the tier table and keep its type. */
function mergeOverrides(target: Record<string, any>, overrides: Record<string, unknown>, path: string,
  at: (k: string, v: unknown, m: string) => void): void {
  for (const [k, v] of Object.entries(overrides)) {
    const p = `${path}.${k}`;
    if (!(k in target)) {
      at(p, v, `no such sizing setting; allowed here: ${Object.keys(target).join(", ")}`);
      continue;
    }
    const current = target[k];
    if (Array.isArray(current)) {
      if (!Array.isArray(v) || v.some((x) => typeof x !== typeof current[0] && current.length > 0)) at(p, v, `expected a list like ${show(current)}`);
      else target[k] = v;
    } else if (typeof current === "object" && current !== null) {
      if (typeof v !== "object" || v === null || Array.isArray(v)) at(p, v, `expected an object with keys ${Object.keys(current).join(", ")}`);
      else mergeOverrides(current, v as Record<string, unknown>, p, at);
    } else {
      const parsed = typeof current === "string" ? v : fromJson(v);
      if (typeof parsed !== typeof current) at(p, v, `expected a ${typeof current} (tier value ${show(current)})`);
      else if (typeof parsed === "number" && (!Number.isFinite(parsed) || parsed < 0)) at(p, v, "expected a number >= 0");
      else target[k] = parsed;
    }
  }
}

/** Fewest days of automated database backups (point-in-time recovery) a stack outside dev may keep. */
export const MIN_PRODUCTION_BACKUP_DAYS = 7;

/**
 * Settings that protect data or availability. The proxy is required on every tier (images carry no RDS CA
 * bundle, so a direct connection could not verify the database's certificate); outside dev none of the
 * safeguards may be switched off by an override.
 */
function checkSafeguards(tier: TierName, s: TierSizing, file: string, at: (k: string, v: unknown, m: string) => void): void {
  const key = (p: string) => `${CONFIG_NAMESPACE}:sizing.${p}`;
  if (!s.database.proxyEnabled) {
    at(key("database.proxyEnabled"), false,
      "RDS Proxy is required on every tier, dev included: without it the services would connect straight to the " +
      "instance with TLS verification, and the service images carry no RDS CA bundle (DB_CA_FILE), so every " +
      `connection would fail; remove the override from ${file}`);
  }
  if (tier === "dev") return;
  const why = `tier ${tier} keeps its data safeguards; remove the override from ${file} (only dev may be disposable)`;
  const mustBeOn: Array<[string, boolean, string]> = [
    ["database.deletionProtection", s.database.deletionProtection, "deletion protection, the final snapshot and protect/retainOnDelete on the database guard against losing it"],
    ["database.multiAz", s.database.multiAz, "the standby in a second zone keeps the database up through a zone or host failure"],
    ["redis.multiAz", s.redis.multiAz, "a replica in another zone with automatic failover keeps Socket.IO and presence up"],
    ["alb.deletionProtection", s.alb.deletionProtection, "deletion protection keeps the load balancer (and its DNS name) from an accidental delete"],
  ];
  for (const [path, on, reason] of mustBeOn) {
    if (!on) at(key(path), false, `must stay true: ${reason}; ${why}`);
  }
  if (s.database.backupRetentionDays < MIN_PRODUCTION_BACKUP_DAYS) {
    at(key("database.backupRetentionDays"), s.database.backupRetentionDays,
      `must be at least ${MIN_PRODUCTION_BACKUP_DAYS} (days of point-in-time recovery); ${why}`);
  }
  if (s.redis.replicas < 1) at(key("redis.replicas"), s.redis.replicas, `must be at least 1 (failover target); ${why}`);
  if (s.redis.snapshotRetentionDays < 1) at(key("redis.snapshotRetentionDays"), s.redis.snapshotRetentionDays, `must be at least 1 (daily snapshots); ${why}`);
}

/** Reads the running stack's configuration from Pulumi and validates it. */
export function loadStackConfig(): StackConfig {
  const all = pulumi.runtime.allConfig();
  return validateStackConfig(all, pulumi.getStack());
}

/**
 * Zone IDs where RDS Proxy cannot run: "US East (N. Virginia) Region does not support RDS Proxy in the use1-az3
 * Availability Zone" (Amazon RDS User Guide, RDS Proxy limitations:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.html#rds-proxy.limitations).
 */
export const RDS_PROXY_UNSUPPORTED_ZONE_IDS = ["use1-az3"];

const DIRECTION: Record<string, string> = {
  east: "e", west: "w", north: "n", south: "s", central: "c", northeast: "ne", northwest: "nw", southeast: "se", southwest: "sw",
};

/**
 * The region code zone IDs start with: geography, `g` for GovCloud, the direction's initials, the number
 * (us-east-1 -> use1, us-west-2 -> usw2, ap-northeast-1 -> apne1, us-gov-west-1 -> usgw1).
 */
export function zoneIdPrefix(region: string): string {
  const m = /^([a-z]{2})(-gov)?-([a-z]+)-(\d)$/.exec(region);
  return m ? `${m[1]}${m[2] ? "g" : ""}${DIRECTION[m[3]!] ?? m[3]![0]}${m[4]}` : region;
}

/** What is wrong with `availabilityZoneIds` for these zone names (nothing when it is not set). */
export function zoneIdProblems(region: string | undefined, zones: string[] | undefined, ids: string[] | undefined): string[] {
  if (ids === undefined) return [];
  const out: string[] = [];
  if (zones && ids.length !== zones.length) {
    out.push(`lists ${ids.length} zone ID(s) for ${zones.length} zone name(s) in availabilityZones; give the ID of each name, in the same order`);
  }
  if (region) {
    const prefix = zoneIdPrefix(region);
    const foreign = ids.filter((id) => !id.startsWith(`${prefix}-`));
    if (foreign.length) out.push(`zone IDs ${foreign.join(", ")} are not in aws:region ${region} (its IDs start with ${prefix}-)`);
  }
  // Every tier runs behind RDS Proxy (a stack without it is refused), so a zone the proxy skips is always wrong.
  const noProxy = ids.filter((id) => RDS_PROXY_UNSUPPORTED_ZONE_IDS.includes(id));
  if (noProxy.length) {
    const names = zones ? noProxy.map((id) => zones[ids.indexOf(id)]).filter(Boolean) : [];
    out.push(
      `RDS Proxy is not supported in ${noProxy.join(", ")}${names.length ? ` (availabilityZones ${names.join(", ")} in this account)` : ""}: ` +
        "every tier runs the database behind RDS Proxy, so list another zone of the region in availabilityZones and its ID here",
    );
  }
  return out;
}
