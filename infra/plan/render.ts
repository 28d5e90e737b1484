/**
 * Renderers of a plan document (and optionally its diff): a readable text tree for the terminal and a
 * Markdown body for a pull request comment. `SETTINGS[type](inputs)` picks the settings a reviewer checks
 * for each resource type; types without a row show no settings.
 */
import type { PlanDiff, ResourceChange } from "./diff";
import type { PlanDocument, PlanResource } from "./model";
import type { QuotaReport } from "./quotas";
import type { CapacitySection } from "./capacity";

const short = (type: string) => type.split(":").pop() ?? type;
const money = (x: number) => `$${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const signed = (x: number) => `${x >= 0 ? "+" : "-"}${money(Math.abs(x))}`;
const yes = (v: unknown) => (v === true ? "yes" : v === false ? "no" : String(v ?? "-"));
const json = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** Key settings per resource type. */
export const SETTINGS: Record<string, (i: Record<string, any>) => string> = {
  "aws:ec2/vpc:Vpc": (i) => `cidr ${i.cidrBlock}`,
  "aws:ec2/subnet:Subnet": (i) => `${i.tags?.Tier ?? ""} ${i.cidrBlock} ${i.availabilityZone}`.trim(),
  "aws:ec2/vpcEndpoint:VpcEndpoint": (i) => `${i.vpcEndpointType ?? "Gateway"} ${String(i.serviceName ?? "").split(".").slice(3).join(".")}`,
  "aws:ec2/natGateway:NatGateway": (i) => `connectivity ${i.connectivityType ?? "public"}`,
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (i) =>
    `in ${i.ipProtocol} ${i.fromPort ?? "all"}${i.toPort !== i.fromPort ? `-${i.toPort}` : ""} from ${i.cidrIpv4 ?? i.cidrIpv6 ?? i.referencedSecurityGroupId ?? i.prefixListId ?? "?"}`,
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (i) =>
    `out ${i.ipProtocol} ${i.fromPort ?? "all"}${i.toPort !== i.fromPort ? `-${i.toPort}` : ""} to ${i.cidrIpv4 ?? i.cidrIpv6 ?? i.referencedSecurityGroupId ?? i.prefixListId ?? "?"}`,
  "aws:lb/loadBalancer:LoadBalancer": (i) => `${i.internal ? "internal" : "internet-facing"}, idle ${i.idleTimeout ?? 60}s, deletion protection ${yes(i.enableDeletionProtection)}`,
  "aws:lb/listener:Listener": (i) => `${i.protocol} :${i.port} -> ${(i.defaultActions ?? []).map((a: any) => a?.type).join(",")}`,
  "aws:lb/targetGroup:TargetGroup": (i) => `${i.protocol} :${i.port}, health ${i.healthCheck?.path ?? "-"}, stickiness ${yes(i.stickiness?.enabled)}`,
  "aws:wafv2/webAcl:WebAcl": (i) => {
    const rules: any[] = i.rules ?? [];
    const rates = rules.filter((r) => r?.statement?.rateBasedStatement).map((r) => `${r.name} ${r.statement.rateBasedStatement.limit}`);
    return `${rules.length} rules; rate limits: ${rates.join(", ") || "none"}`;
  },
  "aws:ecs/taskDefinition:TaskDefinition": (i) => `cpu ${i.cpu} / memory ${i.memory} MiB`,
  "aws:ecs/service:Service": (i) => `desired ${i.desiredCount ?? "-"}, public IP ${yes(i.networkConfiguration?.assignPublicIp ?? false)}`,
  "aws:appautoscaling/target:Target": (i) => `scale ${i.minCapacity}..${i.maxCapacity}`,
  "aws:appautoscaling/policy:Policy": (i) => {
    const t = i.targetTrackingScalingPolicyConfiguration;
    return t ? `target ${t.targetValue} ${t.predefinedMetricSpecification?.predefinedMetricType ?? t.customizedMetricSpecification?.metricName ?? ""}`.trim() : i.policyType ?? "";
  },
  "aws:rds/instance:Instance": (i) =>
    `${i.instanceClass}, Multi-AZ ${yes(i.multiAz)}, ${i.allocatedStorage ?? "?"}..${i.maxAllocatedStorage ?? "?"} GB, backups ${i.backupRetentionPeriod ?? "-"} d, deletion protection ${yes(i.deletionProtection)}, encrypted ${yes(i.storageEncrypted)}`,
  "aws:rds/proxy:Proxy": (i) => `TLS required ${yes(i.requireTls)}, idle client timeout ${i.idleClientTimeout ?? "-"}s`,
  "aws:elasticache/replicationGroup:ReplicationGroup": (i) =>
    `${i.numCacheClusters ?? "?"} x ${i.nodeType}, Multi-AZ ${yes(i.multiAzEnabled)}, TLS ${yes(i.transitEncryptionEnabled)}, at rest ${yes(i.atRestEncryptionEnabled)}`,
  "aws:sqs/queue:Queue": (i) => `${i.name ?? ""}${i.redrivePolicy ? ", with DLQ" : ""}${i.visibilityTimeoutSeconds ? `, visibility ${i.visibilityTimeoutSeconds}s` : ""}`,
  "aws:cloudwatch/logGroup:LogGroup": (i) => `${i.name ?? ""}, retention ${i.retentionInDays ?? "forever"} d`,
  "aws:cloudwatch/metricAlarm:MetricAlarm": (i) => `${i.name ?? ""}`,
  "aws:backup/plan:Plan": (i) => (i.rules ?? []).map((r: any) => `${r.ruleName} ${r.lifecycle?.deleteAfter ?? "?"}d${(r.copyActions ?? []).length ? " +copy" : ""}`).join(", "),
  "aws:kms/key:Key": (i) => `rotation ${yes(i.enableKeyRotation)}`,
};

/** Children shown one per line; more of one type than this collapse into a count. */
const COLLAPSE_OVER = 4;

function tree(doc: PlanDocument): string[] {
  const lines: string[] = [];
  const children = new Map<string | undefined, PlanResource[]>();
  for (const r of doc.resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const walk = (parent: string | undefined, depth: number) => {
    const list = children.get(parent) ?? [];
    const counts = new Map<string, number>();
    for (const r of list) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const collapsed = new Set<string>();
    for (const r of list) {
      const pad = "  ".repeat(depth);
      if (!r.custom) {
        lines.push(`${pad}${r.name} (${r.type})`);
        walk(r.name, depth + 1);
        continue;
      }
      if ((counts.get(r.type) ?? 0) > COLLAPSE_OVER && !SETTINGS_ALWAYS.has(r.type)) {
        if (!collapsed.has(r.type)) lines.push(`${pad}${counts.get(r.type)} x ${short(r.type)}`);
        collapsed.add(r.type);
        continue;
      }
      const s = SETTINGS[r.type]?.(r.inputs);
      lines.push(`${pad}${short(r.type)} ${r.name}${s ? `  [${s}]` : ""}${r.protect ? "  (protected)" : ""}`);
    }
  };
  walk(undefined, 0);
  return lines;
}

/** Types listed one by one even when numerous (a reviewer checks each). */
const SETTINGS_ALWAYS = new Set(["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:ec2/subnet:Subnet"]);

function countsByType(doc: PlanDocument): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const r of doc.resources) if (r.custom) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

const customCount = (doc: PlanDocument) => doc.resources.filter((r) => r.custom).length;

/** Cost grouped by type, most expensive first. */
function costByType(doc: PlanDocument): Array<[string, number]> {
  return Object.entries(doc.cost.byType).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
}

function topItems(doc: PlanDocument, n: number) {
  return [...doc.cost.items].sort((a, b) => b.monthlyUsd - a.monthlyUsd).slice(0, n);
}

function changeLines(c: ResourceChange, limit = 12): string[] {
  const out = c.changes.slice(0, limit).map((p) => `${p.path}: ${json(p.before) ?? "(none)"} -> ${json(p.after) ?? "(none)"}${p.replaces ? " (forces replacement)" : ""}`);
  if (c.changes.length > limit) out.push(`... ${c.changes.length - limit} more`);
  return out;
}

/** Which zones, and where their IDs came from: offline, the synth mock's account answered the zone lookup. */
export const zonesLine = (z: NonNullable<PlanDocument["zones"]>) =>
  `Zones: ${z.names.map((n, i) => `${n} (${z.zoneIds[i]})`).join(", ")}. Zone IDs from the offline mock account (infra/synth/mocks.ts), ` +
  "not yours: names map to other IDs in each account; `pulumi preview`/`up` checks the names against the target account's IDs before creating anything (docs/COMPUTE.md).";

const header = (doc: PlanDocument) =>
  `Stack ${doc.stack} (${doc.project}, ${doc.region}, tier ${doc.tier}, ${doc.dau.toLocaleString("en-US")} DAU): ${customCount(doc)} resources`;

export function renderText(doc: PlanDocument, diff?: PlanDiff): string {
  const out: string[] = [header(doc), ""];
  if (doc.zones) out.push(zonesLine(doc.zones), "");
  out.push(...tree(doc), "");
  out.push("Resources by type:");
  for (const [t, n] of countsByType(doc)) out.push(`  ${String(n).padStart(3)}  ${t}`);
  out.push("", `Estimated monthly cost: ${money(doc.cost.monthlyUsd)} (on-demand list prices, ${doc.region}; assumptions in infra/plan/assumptions.ts)`);
  for (const [t, v] of costByType(doc)) out.push(`  ${money(v).padStart(11)}  ${short(t)}`);
  out.push("  Main lines:");
  for (const i of topItems(doc, 8)) out.push(`  ${money(i.monthlyUsd).padStart(11)}  ${short(i.type)} ${i.name}: ${i.basis}`);
  if (doc.cost.unpricedTypes.length) out.push(`  Not priced (add to infra/plan/cost.ts): ${doc.cost.unpricedTypes.join(", ")}`);
  out.push("", `Policy: ${doc.policy.mandatory} mandatory, ${doc.policy.advisory} advisory violation(s) over ${doc.policy.rules.length} rules`);
  for (const v of doc.policy.violations) out.push(`  [${v.severity}] ${v.policy}: ${v.resource}: ${v.message}`);
  out.push("", ...preflightText(doc));
  if (doc.capacity) out.push("", ...capacityText(doc.capacity));
  out.push("", ...quotaText(doc.quotas.stack, "this stack alone"));
  for (const set of doc.quotas.accountSet ?? []) out.push("", ...quotaText(set, "deployed together to one account"));
  if (doc.warnings.length) out.push("", "Warnings:", ...doc.warnings.map((w) => `  ${w}`));
  if (diff) out.push("", ...renderDiffText(diff));
  return out.join("\n") + "\n";
}

function preflightText(doc: PlanDocument): string[] {
  const p = doc.preflight;
  const out = [`Preflight: ${p.errors} error(s) (AWS API constraints: ${p.rules.fieldRules} field rules over ${p.rules.types} resource types, ${p.rules.combinationRules} combination rules; infra/components/aws-constraints.ts)`];
  for (const f of p.findings) out.push(`  ERROR ${f.resource} ${f.field}: ${f.message} [${f.source}]`);
  return out;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const fig = (x: number) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : String(Math.round(x * 1000) / 1000));

/** The model's peak and each resource's utilisation at it. */
function capacityText(c: CapacitySection): string[] {
  const p = c.peak;
  const over = c.overridden.length ? ` (stack overrides: ${c.overridden.join(", ")})` : "";
  const out = [
    `Capacity at the model's peak (infra/config/capacity.ts; headroom ${c.headroom}, so sizes stay at or below ${pct(1 / c.headroom)} at peak)${over}:`,
    `  peak: ${fig(p.peakConnections)} connections, ${fig(p.messagesPerSecond)} messages/s, ${fig(p.apiRequestsPerSecond)} api requests/s, ${fig(p.jobsPerSecond)} jobs/s`,
    `  traffic: ${Object.entries(c.traffic).map(([k, v]) => `${k} ${v}`).join(", ")}`,
  ];
  for (const r of c.rows) out.push(`  ${pct(r.utilisation).padStart(5)}  ${r.resource}: ${fig(r.load)} of ${fig(r.capacity)} ${r.unit} [${r.size}]`);
  for (const n of c.network) out.push(`         ${n}`);
  return out;
}

function capacityMarkdown(c: CapacitySection): string[] {
  const p = c.peak;
  const max = Math.max(...c.rows.map((r) => r.utilisation));
  const out = [`<details><summary>Capacity at peak: ${fig(p.peakConnections)} connections, ${fig(p.messagesPerSecond)} messages/s; busiest resource at ${pct(max)}</summary>`, ""];
  const overridden = c.overridden.map((k) => `\`${k}\` ${c.traffic[k as keyof typeof c.traffic]}`);
  out.push(`Traffic model: \`infra/config/capacity.ts\`${overridden.length ? `, stack overrides ${overridden.join(", ")}` : ""}; headroom ${c.headroom}.`, "");
  out.push("| Resource | Size | Load at peak | Capacity | Utilisation |", "| --- | --- | ---: | ---: | ---: |");
  for (const r of c.rows) out.push(`| ${r.resource} | ${mdEscape(r.size)} | ${fig(r.load)} ${r.unit} | ${fig(r.capacity)} | ${pct(r.utilisation)} |`);
  out.push("", mdEscape(c.networkSummary), "", "</details>", "");
  return out;
}

/** Quota rows: used / default, the quota, where the largest count is; warnings after. */
function quotaText(q: QuotaReport, what: string): string[] {
  const out = [`Quotas: ${q.stacks.join(", ")} in ${q.region}, ${what}, against AWS's default quotas: ${q.warnings.length ? `${q.warnings.length} default(s) exceeded` : "within every default"}`];
  for (const r of q.rows) out.push(`  ${`${r.used} / ${r.defaultQuota}`.padStart(11)}  ${r.label}${r.detail ? ` (${r.detail})` : ""}${r.exceeded ? "  EXCEEDS DEFAULT" : ""}`);
  for (const w of q.warnings) out.push(`  WARNING ${w}`);
  return out;
}

function quotaMarkdown(q: QuotaReport, what: string): string[] {
  const out = [`<details><summary>Quotas, ${q.stacks.map((s) => `\`${s}\``).join(", ")} in ${q.region} ${what}: ${q.warnings.length ? `**${q.warnings.length} default(s) exceeded**` : "within AWS's defaults"}</summary>`, ""];
  out.push("| Quota | Used | Default | Where |", "| --- | ---: | ---: | --- |");
  for (const r of q.rows) out.push(`| ${r.exceeded ? "⚠️ " : ""}[${r.label}](${r.source}) | ${r.used} | ${r.defaultQuota} | ${mdEscape(r.detail)} |`);
  if (q.warnings.length) out.push("", ...q.warnings.map((w) => `- ${mdEscape(w)}`));
  out.push("", "</details>", "");
  return out;
}

function renderDiffText(d: PlanDiff): string[] {
  const replaced = d.changed.filter((c) => c.kind === "replace").length;
  const out = [`Changes from ${d.base.label} to ${d.head.label}: ${d.added.length} to add, ${d.removed.length} to remove, ${d.changed.length} to change (${replaced} replaced), ${d.dangerous.length} dangerous`];
  for (const c of d.dangerous) out.push(`  !! DANGEROUS ${c.kind === "remove" ? "removal" : "replacement"} of stateful ${c.key}: data is lost unless restored`);
  for (const c of d.added) out.push(`  + ${c.key}`);
  for (const c of d.removed) out.push(`  - ${c.key}`);
  for (const c of d.changed) {
    out.push(`  ${c.kind === "replace" ? "+-" : "~ "} ${c.key}`);
    for (const l of changeLines(c)) out.push(`      ${l}`);
  }
  out.push(`  Cost: ${money(d.cost.beforeUsd)} -> ${money(d.cost.afterUsd)} (${signed(d.cost.deltaUsd)}/month)`);
  for (const [t, v] of Object.entries(d.cost.byType)) out.push(`    ${signed(v).padStart(12)}  ${short(t)}`);
  for (const v of d.policy.introduced) out.push(`  new finding [${v.severity}] ${v.policy}: ${v.resource}: ${v.message}`);
  for (const v of d.policy.resolved) out.push(`  resolved [${v.severity}] ${v.policy}: ${v.resource}`);
  return out;
}

/** Rows of the changed-resources table in a PR comment (GitHub comments stop at 65,536 characters). */
const MAX_TABLE_ROWS = 40;

const mdEscape = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderMarkdown(doc: PlanDocument, diff?: PlanDiff): string {
  const ok = doc.policy.mandatory === 0;
  const out: string[] = [];
  out.push(`### Plan for \`${doc.stack}\` (tier ${doc.tier}, ${doc.region})`, "");
  out.push(
    `**${customCount(doc)} resources** · **${money(doc.cost.monthlyUsd)}/month** estimated · policy ${ok ? "passes" : `**fails: ${doc.policy.mandatory} mandatory**`}` +
      ` (${doc.policy.advisory} advisory) · preflight ${doc.preflight.errors === 0 ? "passes" : `**fails: ${doc.preflight.errors} error(s)**`}`,
    "",
  );
  const examples = Object.entries(doc.examplesUsed ?? {});
  if (examples.length || doc.zones) {
    out.push("> [!NOTE]");
    for (const [k, v] of examples) out.push(`> \`${k}\` is set by an operator before deploying; this plan used the example value \`${String(v)}\`.`);
    if (doc.zones) out.push(`> ${mdEscape(zonesLine(doc.zones))}`);
    out.push("");
  }
  if (diff) {
    if (diff.dangerous.length) {
      out.push(`> [!CAUTION]`);
      for (const c of diff.dangerous) out.push(`> **${c.kind === "remove" ? "Removes" : "Replaces"} stateful \`${c.key}\`**: its data is lost unless restored.`);
      out.push("");
    }
    const replaced = diff.changed.filter((c) => c.kind === "replace").length;
    out.push(
      `**Changes from \`${diff.base.label}\`:** ${diff.added.length} to add, ${diff.removed.length} to remove, ${diff.changed.length} to change (${replaced} replaced) · cost ${signed(diff.cost.deltaUsd)}/month (${money(diff.cost.beforeUsd)} → ${money(diff.cost.afterUsd)})`,
      "",
    );
    // most important first: dangerous, replaced, removed, updated, added
    const rank = (c: ResourceChange) => (c.dangerous ? 0 : { replace: 1, remove: 2, update: 3, add: 4 }[c.kind]);
    const all = [...diff.removed, ...diff.changed, ...diff.added].sort((a, b) => rank(a) - rank(b));
    if (all.length) {
      out.push(`<details><summary>Changed resources (${all.length})</summary>`, "", "| | Resource | Changes |", "| --- | --- | --- |");
      const mark = { add: "+", remove: "−", update: "~", replace: "±" } as const;
      for (const c of all.slice(0, MAX_TABLE_ROWS)) out.push(`| ${mark[c.kind]}${c.dangerous ? " ⚠️" : ""} | \`${c.key}\` | ${mdEscape(changeLines(c, 4).join("<br>")) || c.kind} |`);
      if (all.length > MAX_TABLE_ROWS) out.push("", `${all.length - MAX_TABLE_ROWS} more changes not shown; \`npm run plan -- --stack ${doc.stack} --diff <ref>\` lists them all.`);
      out.push("", "</details>", "");
    }
    if (diff.policy.introduced.length) {
      out.push("**New policy findings:**", "");
      for (const v of diff.policy.introduced) out.push(`- ${v.severity}: \`${v.policy}\` on \`${v.resource}\`: ${mdEscape(v.message)}`);
      out.push("");
    }
  }
  out.push(`<details><summary>Cost: ${money(doc.cost.monthlyUsd)}/month</summary>`, "", "| Type | Monthly |", "| --- | ---: |");
  for (const [t, v] of costByType(doc)) out.push(`| ${short(t)} | ${money(v)} |`);
  out.push("", "| Main lines | Basis | Monthly |", "| --- | --- | ---: |");
  for (const i of topItems(doc, 10)) out.push(`| ${short(i.type)} \`${i.name}\` | ${mdEscape(i.basis)} | ${money(i.monthlyUsd)} |`);
  if (doc.cost.unpricedTypes.length) out.push("", `Not priced yet: ${doc.cost.unpricedTypes.map((t) => `\`${t}\``).join(", ")}`);
  out.push("", `On-demand list prices for ${doc.region}, ${doc.dau.toLocaleString("en-US")} DAU; traffic assumptions in \`infra/plan/assumptions.ts\`.`, "", "</details>", "");
  out.push(`<details><summary>Policy: ${doc.policy.mandatory} mandatory, ${doc.policy.advisory} advisory</summary>`, "");
  if (doc.policy.violations.length) {
    out.push("| Severity | Policy | Resource | Message |", "| --- | --- | --- | --- |");
    for (const v of doc.policy.violations) out.push(`| ${v.severity} | \`${v.policy}\` | \`${v.resource}\` | ${mdEscape(v.message)} |`);
  } else out.push(`All ${doc.policy.rules.length} rules pass.`);
  out.push("", "</details>", "");
  out.push(`<details><summary>Preflight: ${doc.preflight.errors} error(s)</summary>`, "");
  if (doc.preflight.findings.length) {
    out.push("| Resource | Field | Error | Source |", "| --- | --- | --- | --- |");
    for (const f of doc.preflight.findings) out.push(`| \`${f.resource}\` | \`${f.field}\` | ${mdEscape(f.message)} | [AWS](${f.source}) |`);
  } else out.push(`All ${doc.preflight.rules.fieldRules} field rules (${doc.preflight.rules.types} resource types) and ${doc.preflight.rules.combinationRules} combination rules pass.`);
  out.push("", "</details>", "");
  if (doc.capacity) out.push(...capacityMarkdown(doc.capacity));
  out.push(...quotaMarkdown(doc.quotas.stack, "alone"));
  for (const set of doc.quotas.accountSet ?? []) out.push(...quotaMarkdown(set, "in one account"));
  out.push(`<details><summary>Resources (${customCount(doc)})</summary>`, "", "```", ...tree(doc), "```", "", "</details>", "");
  return out.join("\n");
}
