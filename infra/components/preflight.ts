/**
 * Preflight: checks synthesized resources against what AWS's APIs accept (`./aws-constraints.ts`), so that a
 * name, description, identifier, tag or value AWS would refuse is caught here rather than half-way through a
 * `pulumi up`. Every finding is an error. Unknown values (a preview, or an Output the mocks leave unresolved)
 * are skipped, never guessed.
 *
 *   const findings = preflight(result.resources);   // [] when AWS would accept every checked field
 */
import {
  AUTO_NAME_SUFFIX,
  AUTO_NAMED,
  COMBINATION_RULE_TYPES,
  COMBINATION_RULES,
  CONSTRAINTS,
  NOTHING_TO_CHECK,
  FARGATE_TASK_SIZES,
  TAG_RULES,
} from "./aws-constraints";
import type { CombinationRuleId, Constraint, TextConstraint } from "./aws-constraints";

/** What the preflight reads of a resource (a synth or plan resource fits). */
export interface PreflightResource {
  type: string;
  name: string;
  custom?: boolean;
  inputs: Record<string, any>;
}

export interface PreflightFinding {
  /** `<type>.<field>` for field rules, the combination rule id otherwise. */
  rule: string;
  /** `type::logical name`. */
  resource: string;
  field: string;
  message: string;
  /** AWS page the rule comes from. */
  source: string;
}

/** Values the synth harness uses for unknowns. */
const UNKNOWN_VALUES = new Set(["<unknown>", "UNKNOWN"]);
const isKnown = (v: unknown) => v !== undefined && v !== null && !(typeof v === "string" && UNKNOWN_VALUES.has(v));

/** Values at a field path (`a.b`, `rules[].name`), with the concrete path of each (`rules[2].name`). */
export function valuesAt(inputs: unknown, path: string): Array<{ path: string; value: unknown }> {
  let current: Array<{ path: string; value: unknown }> = [{ path: "", value: inputs }];
  for (const part of path.split(".")) {
    const many = part.endsWith("[]");
    const key = many ? part.slice(0, -2) : part;
    const next: Array<{ path: string; value: unknown }> = [];
    for (const c of current) {
      if (!c.value || typeof c.value !== "object") continue;
      const v = (c.value as Record<string, unknown>)[key];
      const p = c.path ? `${c.path}.${key}` : key;
      if (many) {
        if (Array.isArray(v)) v.forEach((x, i) => next.push({ path: `${p}[${i}]`, value: x }));
      } else if (v !== undefined) next.push({ path: p, value: v });
    }
    current = next;
  }
  return current.filter((c) => isKnown(c.value));
}

const q = (v: unknown) => JSON.stringify(v);

/** Why a string breaks a text constraint; undefined when it does not. */
export function checkText(value: string, c: TextConstraint): string | undefined {
  const length = c.countWithoutWhitespace ? value.replace(/\s/g, "").length : value.length;
  const lengthWord = c.countWithoutWhitespace ? "characters (whitespace not counted)" : "characters";
  if (length > c.maxLength) return `${c.label} is ${length} ${lengthWord}; AWS accepts at most ${c.maxLength}`;
  if (c.minLength !== undefined && length < c.minLength) return `${c.label} is ${length} ${lengthWord}; AWS needs at least ${c.minLength}`;
  if (c.allowedChars) {
    const ok = new RegExp(`[${c.allowedChars.pattern}]`, "u");
    const bad = [...new Set([...value].filter((ch) => !ok.test(ch)))];
    if (bad.length) return `${c.label} ${q(value)} contains ${bad.map((b) => q(b)).join(", ")}; AWS accepts only ${c.allowedChars.text}`;
  }
  if (c.pattern && !new RegExp(c.pattern.pattern, "u").test(value)) return `${c.label} ${q(value)} is not accepted; AWS accepts only ${c.pattern.text}`;
  if (c.requiredPrefix && !value.startsWith(c.requiredPrefix)) return `${c.label} ${q(value)} must start with ${q(c.requiredPrefix)}`;
  for (const p of c.forbiddenPrefixes ?? []) {
    if (value.toLowerCase().startsWith(p.toLowerCase())) return `${c.label} ${q(value)} starts with ${q(p)}, which AWS reserves or refuses`;
  }
  for (const s of c.forbiddenSuffixes ?? []) {
    if (value.endsWith(s)) return `${c.label} ${q(value)} ends with ${q(s)}, which AWS reserves`;
  }
  if (c.reservedValues?.some((r) => r.toLowerCase() === value.toLowerCase())) return `${c.label} ${q(value)} is a name AWS reserves`;
  if (c.firstChar === "letter" && !/^\p{L}/u.test(value)) return `${c.label} ${q(value)} must start with a letter`;
  if (c.firstChar === "letter-or-digit" && !/^[\p{L}\p{N}]/u.test(value)) return `${c.label} ${q(value)} must start with a letter or digit`;
  if (c.lastChar === "not-hyphen" && value.endsWith("-")) return `${c.label} ${q(value)} must not end with a hyphen`;
  if (c.lastChar === "letter-or-digit" && !/[\p{L}\p{N}]$/u.test(value)) return `${c.label} ${q(value)} must end with a letter or digit`;
  if (c.noConsecutiveHyphens && value.includes("--")) return `${c.label} ${q(value)} must not contain two consecutive hyphens`;
  return undefined;
}

/** Why a value breaks a constraint; undefined when it does not. */
export function checkValue(value: unknown, c: Constraint): string | undefined {
  if (c.kind === "text") {
    const s = typeof value === "string" ? value : JSON.stringify(value);
    return checkText(s, c);
  }
  const n = typeof value === "number" ? value : Number(value);
  if (c.kind === "range") {
    if (!Number.isFinite(n) || n < c.min || n > c.max) return `${c.label} ${q(value)} is outside ${c.min}..${c.max}`;
    return undefined;
  }
  if (!c.values.some((v) => v === value || (typeof v === "number" && v === n))) return `${c.label} ${q(value)} is not one of ${c.values.join(", ")}`;
  return undefined;
}

const key = (r: PreflightResource) => `${r.type}::${r.name}`;

function fieldFindings(r: PreflightResource): PreflightFinding[] {
  const out: PreflightFinding[] = [];
  const table = CONSTRAINTS[r.type] ?? {};
  const auto = AUTO_NAMED[r.type];
  for (const [path, c] of Object.entries(table)) {
    let values = valuesAt(r.inputs, path);
    let generated = false;
    if (auto && auto.field === path && r.inputs[path] === undefined && r.inputs[`${path}Prefix`] === undefined) {
      const name = `${r.name}${AUTO_NAME_SUFFIX}`;
      values = [{ path, value: auto.lowercase ? name.toLowerCase() : name }];
      generated = true;
    }
    for (const v of values) {
      const why = checkValue(v.value, c);
      if (why) out.push({ rule: `${r.type}.${path}`, resource: key(r), field: v.path, message: generated ? `${why} (name generated by Pulumi from the logical name)` : why, source: c.source });
    }
  }
  return out;
}

function tagFindings(r: PreflightResource): PreflightFinding[] {
  const tags = r.inputs.tags;
  if (!tags || typeof tags !== "object" || Array.isArray(tags)) return [];
  const out: PreflightFinding[] = [];
  const push = (field: string, message: string) => out.push({ rule: "tags", resource: key(r), field, message, source: TAG_RULES.source });
  const entries = Object.entries(tags as Record<string, unknown>).filter(([, v]) => isKnown(v));
  if (entries.length > TAG_RULES.maxTags) push("tags", `${entries.length} tags; AWS accepts at most ${TAG_RULES.maxTags} per resource`);
  for (const [k, v] of entries) {
    const badKey = checkText(k, TAG_RULES.key);
    if (badKey) push(`tags.${k}`, badKey);
    const badValue = checkText(String(v), TAG_RULES.value);
    if (badValue) push(`tags.${k}`, badValue);
  }
  return out;
}

/** A combination finding with the rule's source. */
const combo = (rule: CombinationRuleId, r: PreflightResource, field: string, message: string): PreflightFinding => ({
  rule,
  resource: key(r),
  field,
  message,
  source: COMBINATION_RULES[rule].source,
});

function fargateFindings(r: PreflightResource): PreflightFinding[] {
  if (r.type !== "aws:ecs/taskDefinition:TaskDefinition") return [];
  const compat: unknown = r.inputs.requiresCompatibilities;
  if (!Array.isArray(compat) || !compat.includes("FARGATE")) return [];
  const { cpu, memory } = r.inputs;
  if (!isKnown(cpu) || !isKnown(memory)) return [];
  const allowed = FARGATE_TASK_SIZES[String(cpu)];
  if (!allowed) return [combo("fargate-task-size", r, "cpu", `Fargate cpu ${q(cpu)} is not one of ${Object.keys(FARGATE_TASK_SIZES).join(", ")}`)];
  if (!allowed.includes(Number(memory))) {
    return [combo("fargate-task-size", r, "memory", `Fargate memory ${q(memory)} MiB does not go with cpu ${cpu}; accepted: ${allowed[0]}..${allowed[allowed.length - 1]} MiB (${allowed.join(", ")})`)];
  }
  return [];
}

function sqsFifoFindings(r: PreflightResource): PreflightFinding[] {
  if (r.type !== "aws:sqs/queue:Queue" || typeof r.inputs.name !== "string" || !isKnown(r.inputs.name)) return [];
  const fifo = r.inputs.fifoQueue === true;
  const suffix = r.inputs.name.endsWith(".fifo");
  if (fifo && !suffix) return [combo("sqs-fifo-name", r, "name", `FIFO queue name ${q(r.inputs.name)} must end with .fifo`)];
  if (!fifo && suffix) return [combo("sqs-fifo-name", r, "name", `queue name ${q(r.inputs.name)} ends with .fifo but fifoQueue is not true`)];
  return [];
}

function alarmFindings(r: PreflightResource): PreflightFinding[] {
  if (r.type !== "aws:cloudwatch/metricAlarm:MetricAlarm") return [];
  const out: PreflightFinding[] = [];
  const periods: Array<{ path: string; value: number }> = [];
  if (typeof r.inputs.period === "number") periods.push({ path: "period", value: r.inputs.period });
  for (const v of valuesAt(r.inputs, "metricQueries[].metric.period")) if (typeof v.value === "number") periods.push({ path: v.path, value: v.value });
  for (const p of periods) {
    if (![10, 20, 30].includes(p.value) && !(p.value > 0 && p.value % 60 === 0)) {
      out.push(combo("alarm-period", r, p.path, `period ${p.value} s is not 10, 20, 30 or a multiple of 60`));
    }
  }
  const evaluations = r.inputs.evaluationPeriods;
  const datapoints = r.inputs.datapointsToAlarm;
  if (typeof evaluations === "number" && typeof datapoints === "number" && datapoints > evaluations) {
    out.push(combo("alarm-datapoints", r, "datapointsToAlarm", `datapointsToAlarm ${datapoints} is more than evaluationPeriods ${evaluations}`));
  }
  const longest = Math.max(0, ...periods.map((p) => p.value));
  const windowLimit = longest < 3600 ? 86_400 : 604_800;
  if (typeof evaluations === "number" && longest > 0 && evaluations * longest > windowLimit) {
    out.push(combo("alarm-evaluation-window", r, "evaluationPeriods", `evaluationPeriods ${evaluations} x period ${longest} s = ${evaluations * longest} s; AWS accepts at most ${windowLimit} s for this period`));
  }
  return out;
}

function healthCheckFindings(r: PreflightResource): PreflightFinding[] {
  if (r.type !== "aws:lb/targetGroup:TargetGroup") return [];
  const hc = r.inputs.healthCheck;
  if (!hc || typeof hc.interval !== "number" || typeof hc.timeout !== "number") return [];
  if (hc.timeout >= hc.interval) return [combo("target-group-health-check-timeout", r, "healthCheck.timeout", `health check timeout ${hc.timeout} s must be shorter than the interval ${hc.interval} s`)];
  return [];
}

function route53AliasFindings(r: PreflightResource): PreflightFinding[] {
  if (r.type !== "aws:route53/record:Record") return [];
  const aliases = Array.isArray(r.inputs.aliases) && r.inputs.aliases.length > 0;
  const ttl = isKnown(r.inputs.ttl);
  const records = Array.isArray(r.inputs.records) && r.inputs.records.length > 0;
  if (aliases && (ttl || records)) {
    const extra = [ttl ? "ttl" : "", records ? "records" : ""].filter(Boolean).join(" and ");
    return [combo("route53-alias-or-records", r, ttl ? "ttl" : "records", `alias record also sets ${extra}; an alias takes neither (remove ${extra}, or the alias)`)];
  }
  if (!aliases && (!ttl || !records)) {
    const missing = [ttl ? "" : "ttl", records ? "" : "records"].filter(Boolean).join(" and ");
    return [combo("route53-alias-or-records", r, ttl ? "records" : "ttl", `record without an alias needs ${missing}`)];
  }
  return [];
}

/** Log group names from an ARN (`arn:aws:logs:<region>:<account>:log-group:<name>[:*]`). */
const logGroupOfArn = (arn: string) => /:log-group:([^:]+)/.exec(arn)?.[1];

function wafLoggingFindings(resources: PreflightResource[]): PreflightFinding[] {
  const out: PreflightFinding[] = [];
  for (const r of resources) {
    if (r.type !== "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration") continue;
    for (const d of valuesAt(r.inputs, "logDestinationConfigs[]")) {
      const group = typeof d.value === "string" ? logGroupOfArn(d.value) : undefined;
      if (group !== undefined && !group.startsWith("aws-waf-logs-")) {
        out.push(combo("waf-log-group-prefix", r, d.path, `log group ${q(group)} does not start with "aws-waf-logs-"; WAF refuses other log groups as a logging destination`));
      }
    }
  }
  return out;
}

function inlinePolicyTotals(resources: PreflightResource[]): PreflightFinding[] {
  const LIMIT = 10_240;
  const byRole = new Map<string, { size: number; policies: PreflightResource[] }>();
  for (const r of resources) {
    if (r.type !== "aws:iam/rolePolicy:RolePolicy" || typeof r.inputs.policy !== "string" || !isKnown(r.inputs.role)) continue;
    const role = String(r.inputs.role);
    const entry = byRole.get(role) ?? { size: 0, policies: [] };
    entry.size += r.inputs.policy.replace(/\s/g, "").length;
    entry.policies.push(r);
    byRole.set(role, entry);
  }
  const out: PreflightFinding[] = [];
  for (const [role, e] of byRole) {
    if (e.size > LIMIT) {
      out.push(combo("iam-role-inline-policies-total", e.policies[0]!, "policy", `inline policies of role ${role} (${e.policies.map((p) => p.name).join(", ")}) total ${e.size} characters; AWS accepts at most ${LIMIT} per role`));
    }
  }
  return out;
}

function uniqueNames(resources: PreflightResource[]): PreflightFinding[] {
  const seen = new Map<string, PreflightResource>();
  const out: PreflightFinding[] = [];
  for (const r of resources) {
    const auto = AUTO_NAMED[r.type];
    const field = auto?.field ?? (CONSTRAINTS[r.type]?.identifier ? "identifier" : CONSTRAINTS[r.type]?.replicationGroupId ? "replicationGroupId" : undefined);
    if (!field) continue;
    const name = r.inputs[field];
    if (typeof name !== "string" || !isKnown(name)) continue;
    // a provider for another region (the DR copies) is another namespace; type + provider is not known here, so
    // names are compared per type only where AWS scopes them to the account and region of the stack
    const k = `${r.type}|${r.inputs.region ?? ""}|${name.toLowerCase()}`;
    const first = seen.get(k);
    if (first) out.push(combo("unique-physical-names", r, field, `${field} ${q(name)} is also the ${field} of ${key(first)}; AWS refuses the second create`));
    else seen.set(k, r);
  }
  return out;
}

/** Runs every rule over the custom resources; findings in resource order, then the cross-resource ones. */
export function preflight(resources: PreflightResource[]): PreflightFinding[] {
  const custom = resources.filter((r) => r.custom !== false && !r.type.startsWith("pulumi:providers:"));
  const out: PreflightFinding[] = [];
  for (const r of custom) {
    out.push(...fieldFindings(r), ...tagFindings(r), ...fargateFindings(r), ...sqsFifoFindings(r), ...alarmFindings(r), ...healthCheckFindings(r), ...route53AliasFindings(r));
  }
  out.push(...wafLoggingFindings(custom), ...inlinePolicyTotals(custom), ...uniqueNames(custom));
  return out;
}

/**
 * Custom resource types (of a synthesized stack) the preflight has no rule for: neither a field rule, nor a
 * combination rule, nor an entry in the commented `NOTHING_TO_CHECK` list. A new type lands here until it gets one.
 */
export function typesWithoutRules(resources: PreflightResource[]): string[] {
  const types = new Set(resources.filter((r) => r.custom !== false && !r.type.startsWith("pulumi:providers:")).map((r) => r.type));
  return [...types].filter((t) => !CONSTRAINTS[t] && !COMBINATION_RULE_TYPES.includes(t) && !(t in NOTHING_TO_CHECK)).sort();
}

/** Number of field rules and combination rules (for the plan's summary line). */
export function preflightRuleCount(): { fieldRules: number; combinationRules: number; types: number } {
  const types = Object.keys(CONSTRAINTS);
  return {
    types: types.length,
    fieldRules: types.reduce((n, t) => n + Object.keys(CONSTRAINTS[t]!).length, 0),
    combinationRules: Object.keys(COMBINATION_RULES).length,
  };
}

/** One line per finding: `resource field: message (source)`. */
export function formatFinding(f: PreflightFinding): string {
  return `${f.resource} ${f.field}: ${f.message} [${f.source}]`;
}
