/**
 * The stack configuration keys (namespace `realtime-chat:`), one entry per key.
 *
 * To add a key: add ONE entry to `CONFIG_KEYS` (doc, type, default, parse). `StackConfig` picks up its type
 * from the parser, `validateStackConfig` rejects bad values with the key's `allowed` text, and
 * `docs/CONFIG.md` lists it. Parsers receive the raw value (a string from Pulumi config, or the parsed YAML
 * value in tests) and throw `ConfigValueError` with what is allowed.
 */
import type { TierName, TierSizing } from "./tiers";
import { TIER_NAMES } from "./tiers";
import { TRAFFIC, TRAFFIC_LIMITS } from "./capacity";
import type { TrafficModel } from "./capacity";
import { parseServiceEnv } from "./service-env";
import { DEFAULT_CACHE_TAG } from "../components/images";
import type { ServiceEnv } from "./service-env";

export const CONFIG_NAMESPACE = "realtime-chat";

/** Thrown by a parser: `message` says what is wrong and what is allowed. */
export class ConfigValueError extends Error {}

export interface ConfigKeySpec<T> {
  /** What the key does. */
  doc: string;
  /** Type as written in the docs. */
  type: string;
  /** Value when the key is absent: a constant, a function of the stack name, or undefined (optional). */
  default: T | ((stack: string) => T) | undefined;
  /** Absent and no default -> error (message says what to add). */
  required?: boolean;
  parse(value: unknown): T;
}

function key<T>(spec: ConfigKeySpec<T>): ConfigKeySpec<T> {
  return spec;
}

/** Pulumi config values arrive as strings; structured values as JSON text. */
export function fromJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const text = value.trim();
  if (text === "") return value;
  if ("[{".includes(text[0]!) || text === "true" || text === "false" || /^-?\d+(\.\d+)?$/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return value;
    }
  }
  return value;
}

function str(value: unknown, allowed: string, pattern?: RegExp): string {
  if (typeof value !== "string" || value.trim() === "") throw new ConfigValueError(`expected ${allowed}`);
  if (pattern && !pattern.test(value)) throw new ConfigValueError(`expected ${allowed}`);
  return value;
}

const NAME_PART = /^[a-z][a-z0-9-]{0,15}$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ZONE = /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/;
/** Zone IDs: a region code and a zone number, such as use1-az3 (AWS EC2 User Guide, "Availability Zone IDs"). */
const ZONE_ID = /^[a-z]{3,5}\d-az\d+$/;
const IMAGE = /^[\w.\-/:@]+$/;

/** A list of distinct zone names (JSON text or a YAML list); `example` is the region shown in the message. */
function parseZones(raw: unknown, example: string): string[] {
  const v = fromJson(raw);
  if (!Array.isArray(v) || v.some((z) => typeof z !== "string" || !ZONE.test(z))) {
    throw new ConfigValueError(`expected a list of zone names like [${example}a, ${example}b, ${example}c]`);
  }
  if (new Set(v).size !== v.length) throw new ConfigValueError("zones must not repeat");
  return v as string[];
}

export function parseCidr(value: unknown): string {
  const allowed = "an IPv4 network like 10.0.0.0/16 with a prefix from /16 to /20 and no host bits set";
  const text = str(value, allowed);
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) throw new ConfigValueError(`expected ${allowed}`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255)) throw new ConfigValueError(`octet out of range; expected ${allowed}`);
  if (prefix < 16 || prefix > 20) throw new ConfigValueError(`prefix /${prefix} not allowed; expected ${allowed}`);
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (address % 2 ** (32 - prefix) !== 0) throw new ConfigValueError(`host bits set; expected ${allowed}`);
  return text;
}

export const CONFIG_KEYS = {
  tier: key<TierName>({
    doc: "DAU tier whose sizing the stack uses (see infra/config/tiers.ts).",
    type: TIER_NAMES.join(" | "),
    default: undefined,
    required: true,
    parse: (v) => {
      if (typeof v === "string" && (TIER_NAMES as readonly string[]).includes(v)) return v as TierName;
      throw new ConfigValueError(`not a tier; allowed: ${TIER_NAMES.join(", ")}`);
    },
  }),
  project: key<string>({
    doc: "Project part of physical names (`<project>-<env>-<role>`).",
    type: "string",
    default: "chat",
    parse: (v) => str(v, "lowercase letters, digits and '-', starting with a letter, at most 16 characters", NAME_PART),
  }),
  env: key<string>({
    doc: "Environment part of physical names; defaults to the stack name.",
    type: "string",
    default: (stack) => stack,
    parse: (v) => str(v, "lowercase letters, digits and '-', starting with a letter, at most 16 characters", NAME_PART),
  }),
  availabilityZones: key<string[]>({
    doc:
      "Availability zones to spread subnets over, by name, in aws:region (at least the tier's minZones). At program start, before any resource, " +
      "the program looks up the account's available zones and refuses a name the account cannot use or whose zone ID there does not support RDS Proxy (use1-az3), naming the zones to pick instead.",
    type: "list of zone names",
    default: undefined,
    required: true,
    parse: (raw) => parseZones(raw, "us-east-1"),
  }),
  availabilityZoneIds: key<string[] | undefined>({
    doc:
      "Zone IDs to build in, one per availabilityZones name, in the same order (names map to different IDs per account: `aws ec2 describe-availability-zones --query 'AvailabilityZones[].[ZoneName,ZoneId]'`). " +
      "Optional; when set the IDs decide: checked before anything is created (in aws:region, not use1-az3 where RDS Proxy does not run, each available in the account), and each availabilityZones name must be that ID's name in the account (the error lists the names to set).",
    type: "list of zone IDs",
    default: undefined,
    parse: (raw) => {
      const v = fromJson(raw);
      if (!Array.isArray(v) || v.some((z) => typeof z !== "string" || !ZONE_ID.test(z))) {
        throw new ConfigValueError("expected a list of zone IDs like [use1-az1, use1-az2, use1-az4]");
      }
      if (new Set(v).size !== v.length) throw new ConfigValueError("zone IDs must not repeat");
      return v as string[];
    },
  }),
  vpcCidr: key<string>({
    doc: "VPC address range; private subnets take /(prefix+4) blocks, public subnets /(prefix+8) blocks at the top.",
    type: "CIDR",
    default: "10.0.0.0/16",
    parse: parseCidr,
  }),
  drRegion: key<string>({
    doc: "Disaster-recovery region for backup copies; must differ from aws:region.",
    type: "region",
    default: "us-west-2",
    parse: (v) => str(v, "an AWS region name like us-west-2", REGION),
  }),
  drAvailabilityZones: key<string[] | undefined>({
    doc: "Zones of drRegion for the pilot-light VPC (private subnets and the DB subnet group a restore lands in), listed explicitly. Required on stacks that copy backups to drRegion (every production tier's primary stack); ignored elsewhere.",
    type: "list of zone names",
    default: undefined,
    parse: (raw) => parseZones(raw, "us-west-2"),
  }),
  drVpcCidr: key<string>({
    doc: "Address range of the pilot-light VPC in drRegion; keep it apart from vpcCidr and from the DR stack's vpcCidr so the networks can be peered during a restore.",
    type: "CIDR",
    default: "10.2.0.0/16",
    parse: parseCidr,
  }),
  domainName: key<string | undefined>({
    doc: "Public DNS name of the site (stack output `siteUrl` = https://<domainName>). With `hostedZoneId` the stack issues an ACM certificate for it (DNS validation) and points the name at the load balancer (Route 53 alias). Outside dev either `certificateArn` or `domainName` + `hostedZoneId` is required.",
    type: "DNS name",
    default: undefined,
    parse: (v) => str(v, "a DNS name like chat.example.com", /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/),
  }),
  hostedZoneId: key<string | undefined>({
    doc: "Route 53 public hosted zone that holds `domainName`: the stack writes the certificate's DNS validation record and the alias record for the load balancer there. Requires `domainName`.",
    type: "Route 53 hosted zone id",
    default: undefined,
    // Route 53 API reference, HostedZone.Id: at most 32 characters; public zone ids are upper-case letters and digits starting with Z.
    parse: (v) => str(v, "a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ (without the /hostedzone/ prefix)", /^Z[A-Z0-9]{1,31}$/),
  }),
  certificateArn: key<string | undefined>({
    doc: "ACM certificate (in aws:region) for the HTTPS listener. Outside dev either this or `domainName` + `hostedZoneId` (the stack then issues one) is required; dev without either serves plain HTTP with a warning.",
    type: "ACM certificate ARN",
    default: undefined,
    parse: (v) =>
      str(v, "an ACM certificate ARN like arn:aws:acm:us-east-1:123456789012:certificate/<id>",
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/),
  }),
  alarmEmail: key<string | undefined>({
    doc: "E-mail address subscribed to the critical alarm topic. Outside dev this or `alarmHttpsEndpoint` is required.",
    type: "e-mail",
    default: undefined,
    parse: (v) => str(v, "an e-mail address like oncall@example.com", /^[^@\s]+@[^@\s]+\.[^@\s]+$/),
  }),
  alarmHttpsEndpoint: key<string | undefined>({
    doc: "HTTPS endpoint subscribed to the critical alarm topic (a paging service's SNS integration URL). Outside dev this or `alarmEmail` is required.",
    type: "URL",
    default: undefined,
    parse: (v) => str(v, "an https URL like https://events.pager.example.com/integration/<key>/enqueue", /^https:\/\/[^\s/]+(\/\S*)?$/),
  }),
  apiImage: key<string | undefined>({
    doc: "Image URI for the api service; absent -> built from apps/api/Dockerfile.",
    type: "image URI",
    default: undefined,
    parse: (v) => str(v, "an image URI like 123456789012.dkr.ecr.us-east-1.amazonaws.com/chat-api:1.2.3", IMAGE),
  }),
  realtimeImage: key<string | undefined>({
    doc: "Image URI for the realtime service; absent -> built from apps/realtime/Dockerfile.",
    type: "image URI",
    default: undefined,
    parse: (v) => str(v, "an image URI like 123456789012.dkr.ecr.us-east-1.amazonaws.com/chat-realtime:1.2.3", IMAGE),
  }),
  workersImage: key<string | undefined>({
    doc: "Image URI for the workers service; absent -> built from apps/workers/Dockerfile.",
    type: "image URI",
    default: undefined,
    parse: (v) => str(v, "an image URI like 123456789012.dkr.ecr.us-east-1.amazonaws.com/chat-workers:1.2.3", IMAGE),
  }),
  toolboxImage: key<string | undefined>({
    doc: "Image URI for the operators' toolbox task (psql, redis-cli, AWS CLI); absent -> built from apps/toolbox/Dockerfile.",
    type: "image URI",
    default: undefined,
    parse: (v) => str(v, "an image URI like 123456789012.dkr.ecr.us-east-1.amazonaws.com/chat-toolbox:1.2.3", IMAGE),
  }),
  imageTag: key<string | undefined>({
    doc: "Tag of the images the stack builds (ECR tags are immutable: use a new one per build, e.g. the commit). Default: per service, ctx-<hash> of its Dockerfile and the context files it copies (minus .dockerignore), so only a change the image sees gives a new tag.",
    type: "Docker tag",
    default: undefined,
    parse: (v) => {
      const tag = str(v, "a Docker tag: letters, digits, '_', '.', '-', at most 128, e.g. 1.4.2 or git-3f2c1a9", /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
      if (tag === DEFAULT_CACHE_TAG) throw new ConfigValueError(`"${DEFAULT_CACHE_TAG}" holds the build cache; use a release tag such as the commit`);
      return tag;
    },
  }),
  primaryEnv: key<string | undefined>({
    doc: "Marks a disaster-recovery stack: the env of the primary stack it replaces (e.g. 10k-dau). Requires restoreSnapshotId; stack outputs name the primary's DR vault.",
    type: "string",
    default: undefined,
    parse: (v) => str(v, "the env of the primary stack, e.g. 10k-dau", /^[a-z0-9][a-z0-9-]{0,15}$/),
  }),
  restoreSnapshotId: key<string | undefined>({
    doc: "Create the database from this DB snapshot (identifier, or ARN of a copied AWS Backup recovery point in aws:region) instead of empty. Keep it for the life of the restored instance.",
    type: "snapshot id or ARN",
    default: undefined,
    parse: (v) =>
      str(v, "a DB snapshot identifier like rds:chat-10k-dau-db-2026-01-01-05-00 or an ARN like arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-<id>",
        /^(arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:)?[a-zA-Z][a-zA-Z0-9:-]{0,254}$/),
  }),
  drGeneration: key<number>({
    doc: "DR stacks only: generation of the stack's durable physical names (database identifier and final snapshot, secrets, backup vaults), `<project>-<env>-g<generation>-<role>`. Bump it after retiring a drill (docs/DR.md) so a new `pulumi up` never meets the names the retired generation left behind.",
    type: "whole number 1-999",
    default: 1,
    parse: (raw) => {
      const v = fromJson(raw);
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 999) throw new ConfigValueError("expected a whole number from 1 to 999");
      return v;
    },
  }),
  pushGatewayUrl: key<string | undefined>({
    doc: "HTTPS endpoint the workers post signed push notifications to (PUSH_GATEWAY_URL); its HMAC key is the `<project>-<env>-push-gateway-secret` secret. Unset: push notifications are off, only offline digests are queued (the program warns outside dev).",
    type: "URL",
    default: undefined,
    parse: (v) => str(v, "an https URL like https://push.example.com/v1/notify", /^https:\/\/[^\s/]+(\/\S*)?$/),
  }),
  serviceEnv: key<ServiceEnv>({
    doc: "Service limits the stack passes to the task environment, per service: {api: {RATE_LIMIT_IP_MAX: 1200}, realtime: {MAX_CONNECTIONS_PER_IP: 100}, workers: {WORKER_CONCURRENCY: 20}}. Only the documented limit variables (infra/config/service-env.ts, docs/SERVICES.md), whole numbers; variables the stack sets itself are refused.",
    type: "object",
    default: {},
    parse: (raw) => {
      const v = parseServiceEnv(fromJson(raw));
      if (typeof v === "string") throw new ConfigValueError(v);
      return v;
    },
  }),
  traffic: key<Partial<TrafficModel>>({
    doc: `Traffic assumptions of the capacity model the tier is re-derived from (infra/config/capacity.ts, each with its source), e.g. {peakConcurrencyShare: 0.5}. Keys and defaults: ${Object.entries(TRAFFIC).map(([k, v]) => `${k} ${v}`).join(", ")}. Sizes derived from them change (task counts, database class and storage, Redis node); \`sizing\` overrides apply on top.`,
    type: "object",
    default: {},
    parse: (raw) => {
      const v = fromJson(raw);
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw new ConfigValueError(`expected an object of traffic assumptions, e.g. {peakConcurrencyShare: 0.5}; keys: ${Object.keys(TRAFFIC).join(", ")}`);
      }
      const out: Partial<TrafficModel> = {};
      const bad: string[] = [];
      for (const [k, x] of Object.entries(v)) {
        const limits = TRAFFIC_LIMITS[k as keyof TrafficModel];
        const n = fromJson(x);
        if (!limits) bad.push(`${k}: unknown assumption (keys: ${Object.keys(TRAFFIC).join(", ")})`);
        else if (typeof n !== "number" || !Number.isFinite(n) || n < limits.min || n > limits.max) bad.push(`${k} = ${JSON.stringify(x)}: expected a number from ${limits.min} to ${limits.max}`);
        else out[k as keyof TrafficModel] = n;
      }
      if (bad.length) throw new ConfigValueError(bad.join("; "));
      return out;
    },
  }),
  sizing: key<SizingOverrides>({
    doc: "Per-key overrides of the tier's sizing, same shape as the tier table (e.g. services.api.min: 3).",
    type: "object",
    default: {},
    parse: (raw) => {
      const v = fromJson(raw);
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw new ConfigValueError("expected an object shaped like the tier table, e.g. {services: {api: {min: 3}}}");
      }
      return v as SizingOverrides;
    },
  }),
};

export type ConfigKeyName = keyof typeof CONFIG_KEYS;

/** Deep partial of the tier sizing. */
export type SizingOverrides = DeepPartial<TierSizing>;
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

type KeyValues = { [K in ConfigKeyName]: (typeof CONFIG_KEYS)[K] extends ConfigKeySpec<infer T> ? T : never };

/** The validated configuration of one stack. */
export type StackConfig = Omit<KeyValues, "sizing"> & {
  /** Pulumi stack name. */
  stack: string;
  /** `aws:region`. */
  region: string;
  /** The `aws:` settings a DR-region provider carries too (profile, assumed role, account guard, default tags...). */
  awsSettings: import("./aws-provider").CarriedAwsSettings;
  /** The tier's sizing with the `sizing` overrides applied. */
  sizing: TierSizing;
};
