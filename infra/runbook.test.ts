/**
 * docs/RUNBOOK.md against the synthesized stacks: every `pulumi stack output`, physical name
 * (`$PROJECT-$ENV-...`: alarms, services, queues, dashboard), log group, metric + namespace, alarm pattern,
 * WAF rule metric name, secret and config key it uses must exist in each stack. Also the operators' runbook
 * contract: the outputs it needs exist, and the DR stack restores from a source or fails clearly without one.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { hasDrPilotLight, validateDrConfig } from "./config/dr";
import { ALB_LOG_COLUMNS } from "./components/alb-log-queries";
import { validateStackConfig } from "./config/load";
import { RDS_MAX_CONNECTIONS_FORMULA } from "./components/postgres-limits";
import { CONFIG_KEYS } from "./config/schema";
import { postgresMaxConnections } from "./components/alarm-specs";
import { TIERS } from "./config/tiers";
import { byType, loadStackFile, REPO_ROOT, STACK_EXAMPLES, stackConfigWithExamples, synthesize } from "./synth";
import { shortId } from "./synth/mocks";
import type { SynthResult } from "./synth";

const RUNBOOK = readFileSync(join(REPO_ROOT, "docs", "RUNBOOK.md"), "utf8");
const STACKS = readdirSync(REPO_ROOT)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();

const noPilotLight = (stack: string) => !hasDrPilotLight(validateStackConfig(stackConfigWithExamples(stack), stack));
/** Outputs a stack has only where its tier or config creates the thing (true: absent in that stack). */
const OPTIONAL_OUTPUTS: Record<string, (stack: string) => boolean> = {
  drVaultName: (stack) => !TIERS[loadStackFile(stack).config["realtime-chat:tier"] as keyof typeof TIERS].backup.crossRegionCopy,
  drPilotLightVpcId: noPilotLight,
  drDbSubnetGroupName: noPilotLight,
  drRestoreSecurityGroupId: noPilotLight,
};

/** Words of an Athena query that are SQL, functions or literals rather than column names. */
const SQL_WORDS = new Set([
  "select", "from", "where", "and", "or", "not", "order", "by", "group", "desc", "asc", "limit", "as", "between", "count",
  "date_format", "current_date", "interval", "day", "in", "like", "is", "null", "errors",
]);

/** Columns an `alb_logs` query in `text` uses that the table does not have. */
export function albLogQueryProblems(text: string): string[] {
  const columns = new Set([...ALB_LOG_COLUMNS.map(([n]) => n), "day"]);
  const problems: string[] = [];
  for (const m of text.matchAll(/--query-string "([^"]*\balb_logs\b[^"]*)"/g)) {
    const sql = m[1]!.replace(/'[^']*'/g, " ");
    for (const w of sql.matchAll(/\b([a-z_][a-z0-9_]*)\b/g)) {
      if (w[1] === "alb_logs" || SQL_WORDS.has(w[1]!) || columns.has(w[1]!)) continue;
      problems.push(`alb_logs has no column ${w[1]}`);
    }
  }
  return problems;
}

/**
 * The operators' toolkit in one synthesized stack, by name: the toolbox (task definition, log group, network
 * settings for run-task), the Athena objects, and where the stack keeps one, the DR pilot light. One line per
 * output that is missing or names something the stack did not create as the runbook says.
 */
export function toolkitProblems(run: SynthResult, outputs: Record<string, any> = run.outputs): string[] {
  const prefix = `chat-${run.stack}`;
  const problems: string[] = [];
  const expect = (what: string, ok: boolean) => { if (!ok) problems.push(what); };
  const task = byType(run, "aws:ecs/taskDefinition:TaskDefinition").find((t) => t.inputs.family === `${prefix}-toolbox`);
  expect(`no task definition ${prefix}-toolbox`, task !== undefined);
  expect(`toolboxTaskDefinitionArn ${outputs.toolboxTaskDefinitionArn} is not the ${prefix}-toolbox family`,
    typeof outputs.toolboxTaskDefinitionArn === "string" && outputs.toolboxTaskDefinitionArn.includes(`:task-definition/${prefix}-toolbox:`));
  const container = task && JSON.parse(task.inputs.containerDefinitions)[0];
  expect(`toolboxContainerName ${outputs.toolboxContainerName} is not the task's container`, container?.name === outputs.toolboxContainerName);
  expect(`toolboxLogGroupName ${outputs.toolboxLogGroupName} is not /ecs/${prefix}/toolbox`, outputs.toolboxLogGroupName === `/ecs/${prefix}/toolbox`);
  expect(`the toolbox logs to ${container?.logConfiguration?.options?.["awslogs-group"]}, not toolboxLogGroupName`,
    container?.logConfiguration?.options?.["awslogs-group"] === outputs.toolboxLogGroupName);
  expect(`log group ${outputs.toolboxLogGroupName} does not exist`,
    byType(run, "aws:cloudwatch/logGroup:LogGroup").some((g) => g.inputs.name === outputs.toolboxLogGroupName));
  const net = outputs.toolboxNetworkConfiguration?.awsvpcConfiguration;
  expect("toolboxNetworkConfiguration does not use the private subnets",
    JSON.stringify(net?.subnets) === JSON.stringify(run.outputs.privateSubnetIds) && net?.assignPublicIp === "DISABLED");
  expect("toolboxNetworkConfiguration does not use the toolbox security group", JSON.stringify(net?.securityGroups) === JSON.stringify([outputs.toolboxSecurityGroupId]));

  const db = `${prefix.replace(/-/g, "_")}_logs`;
  expect(`athenaDatabaseName ${outputs.athenaDatabaseName} is not ${db}`, outputs.athenaDatabaseName === db);
  expect(`no Glue database ${db}`, byType(run, "aws:glue/catalogDatabase:CatalogDatabase").some((d) => d.inputs.name === db));
  expect(`albLogsTableName ${outputs.albLogsTableName} is not alb_logs`, outputs.albLogsTableName === "alb_logs");
  expect(`no table alb_logs in ${db}`, byType(run, "aws:glue/catalogTable:CatalogTable").some((t) => t.inputs.name === "alb_logs" && t.inputs.databaseName === db));
  const wg = byType(run, "aws:athena/workgroup:Workgroup").find((w) => w.inputs.name === outputs.athenaWorkgroupName);
  expect(`athenaWorkgroupName ${outputs.athenaWorkgroupName} is not ${prefix}-ops or does not exist`, outputs.athenaWorkgroupName === `${prefix}-ops` && wg !== undefined);
  expect(`the workgroup does not write to athenaResultsBucket ${outputs.athenaResultsBucket}`,
    wg?.inputs.configuration?.resultConfiguration?.outputLocation === `s3://${outputs.athenaResultsBucket}/results/`);

  if (hasDrPilotLight(validateStackConfig(stackConfigWithExamples(run.stack), run.stack))) {
    const cfg = loadStackFile(run.stack).config;
    const drProviders = byType(run, "pulumi:providers:aws").filter((p) => p.inputs.region === cfg["realtime-chat:drRegion"]);
    const inDr = (urn: string | undefined) => drProviders.some((p) => urn?.startsWith(`${p.urn}::`));
    const group = byType(run, "aws:rds/subnetGroup:SubnetGroup").find((g) => g.inputs.name === outputs.drDbSubnetGroupName);
    expect(`drDbSubnetGroupName ${outputs.drDbSubnetGroupName} is not ${prefix}-dr-subnet-group in the DR region`,
      outputs.drDbSubnetGroupName === `${prefix}-dr-subnet-group` && group !== undefined && inDr(group.options.provider));
    const sg = byType(run, "aws:ec2/securityGroup:SecurityGroup").find((x) => x.name === "dr-pilot-light-restore-sg");
    expect(`drRestoreSecurityGroupId ${outputs.drRestoreSecurityGroupId} is not the DR region's restore group`,
      sg !== undefined && inDr(sg.options.provider) && outputs.drRestoreSecurityGroupId === `sg-${shortId("aws:ec2/securityGroup:SecurityGroup", sg.name)}`);
    const vpc = byType(run, "aws:ec2/vpc:Vpc").find((v) => v.name === "dr-pilot-light-vpc");
    expect(`drPilotLightVpcId ${outputs.drPilotLightVpcId} is not the DR region's VPC`,
      vpc !== undefined && inDr(vpc.options.provider) && outputs.drPilotLightVpcId === `vpc-${shortId("aws:ec2/vpc:Vpc", vpc.name)}`);
  } else {
    expect("a stack without a pilot light has DR pilot-light outputs", outputs.drDbSubnetGroupName === undefined && outputs.drRestoreSecurityGroupId === undefined);
  }
  return problems;
}

/** What a synthesized stack offers for the runbook's references to resolve against. */
export interface StackFacts {
  stack: string;
  prefix: string;
  outputs: Record<string, unknown>;
  /** Physical names: alarms, services, cluster, queues, dashboard, vaults, topics, secrets, DB, Redis... */
  names: Set<string>;
  logGroups: Set<string>;
  /** `namespace|metricName` pairs the stack's alarms, dashboard and scaling policies use. */
  metrics: Set<string>;
  wafMetricNames: Set<string>;
  /** Names of the Secrets Manager secrets (a secret's ARN is `...:secret:<name>-<random suffix>`). */
  secretNames: Set<string>;
}

function metricPairs(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    if (typeof value[0] === "string" && typeof value[1] === "string" && /^(AWS\/|[a-z])/.test(value[0])) out.add(`${value[0]}|${value[1]}`);
    value.forEach((v) => metricPairs(v, out));
  } else if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.namespace === "string" && typeof o.metricName === "string") out.add(`${o.namespace}|${o.metricName}`);
    Object.values(o).forEach((v) => metricPairs(v, out));
  }
}

export function factsOf(run: SynthResult, prefix: string): StackFacts {
  const names = new Set<string>();
  const logGroups = new Set<string>();
  const metrics = new Set<string>();
  const wafMetricNames = new Set<string>();
  for (const r of run.resources) {
    for (const k of ["name", "dashboardName", "identifier", "replicationGroupId"]) {
      if (typeof r.inputs[k] === "string") names.add(r.inputs[k]);
    }
    if (r.type === "aws:cloudwatch/logGroup:LogGroup" && typeof r.inputs.name === "string") logGroups.add(r.inputs.name);
    metricPairs(r.inputs, metrics);
    if (r.type === "aws:cloudwatch/dashboard:Dashboard") metricPairs(JSON.parse(r.inputs.dashboardBody), metrics);
    if (r.type === "aws:wafv2/webAcl:WebAcl") {
      for (const rule of r.inputs.rules ?? []) wafMetricNames.add(rule.visibilityConfig?.metricName);
    }
  }
  const secretNames = new Set(byType(run, "aws:secretsmanager/secret:Secret").map((s) => String(s.inputs.name ?? s.name)));
  return { stack: run.stack, prefix, outputs: run.outputs, names, logGroups, metrics, wafMetricNames, secretNames };
}

/** Every reference in `text` that does not resolve in `f`, one line each. */
export function runbookProblems(text: string, f: StackFacts): string[] {
  const problems: string[] = [];
  const sub = (s: string) => s.replaceAll("$PROJECT-$ENV", f.prefix);

  // `pulumi stack output <name> [-s <stack>]`: outputs exist (and have a value) in the stacks they are read from.
  for (const m of text.matchAll(/pulumi stack output (\w+)(?: -s ([\w$-]+))?/g)) {
    const [, name, stackArg] = m as unknown as [string, string, string | undefined];
    if (stackArg !== undefined && stackArg !== "$STACK" && stackArg !== f.stack) continue;
    if (OPTIONAL_OUTPUTS[name]?.(f.stack)) continue;
    if (!(name in f.outputs)) problems.push(`stack output ${name} does not exist`);
    else if (f.outputs[name] === undefined) problems.push(`stack output ${name} has no value`);
  }

  // Shell variables set from outputs, for the secret check below.
  const fromOutput = new Map<string, string>();
  for (const m of text.matchAll(/export (\w+)=\$\(pulumi stack output (\w+)/g)) fromOutput.set(m[1]!, m[2]!);
  for (const m of text.matchAll(/--secret-id \$(\w+)/g)) {
    const output = fromOutput.get(m[1]!);
    if (!output) problems.push(`--secret-id $${m[1]} is not set from a stack output`);
    else if (![...f.secretNames].some((n) => String(f.outputs[output]).includes(`:secret:${n}-`))) {
      problems.push(`--secret-id $${m[1]} (output ${output}) is not a secret of the stack`);
    }
  }

  // Secrets listed by name prefix: every secret of the stack carries it.
  if (text.includes("list-secrets --filter Key=name,Values=$PROJECT-$ENV")) {
    for (const n of f.secretNames) if (!n.startsWith(`${f.prefix}-`)) problems.push(`secret ${n} is not named ${f.prefix}-...`);
    if (f.secretNames.size === 0) problems.push("the stack has no secrets to list");
  }

  // Log groups.
  for (const m of text.matchAll(/(\/ecs\/\$PROJECT-\$ENV\/\w+|aws-waf-logs-\$PROJECT-\$ENV)/g)) {
    if (!f.logGroups.has(sub(m[1]!))) problems.push(`log group ${sub(m[1]!)} does not exist`);
  }

  // Physical names `$PROJECT-$ENV-<role>` (a trailing `-...` or `-<` makes it a prefix).
  for (const m of text.matchAll(/(?<![/\w-])\$PROJECT-\$ENV((?:-[a-z0-9]+)*)(-\.\.\.|-<)?/g)) {
    const name = f.prefix + m[1]!;
    if (m[2]) {
      if (![...f.names].some((n) => n.startsWith(`${name}-`))) problems.push(`no name starts with ${name}-`);
    } else if (m[1] === "") {
      if (!f.names.has(name) && ![...f.metrics].some((p) => p.startsWith(`${name}|`))) problems.push(`${name} is neither a name nor a namespace`);
    } else if (!f.names.has(name)) {
      problems.push(`${name} does not exist`);
    }
  }

  // Metrics: `--namespace X --metric-name Y` and table cells "`X` `Y`".
  const pairs = [
    ...[...text.matchAll(/--namespace (\S+) --metric-name (\w+)/g)].map((m) => [m[1]!, m[2]!]),
    ...[...text.matchAll(/`(AWS\/\w+|\$PROJECT-\$ENV)` `(\w+)`/g)].map((m) => [m[1]!, m[2]!]),
  ];
  for (const [ns, metric] of pairs) {
    if (!f.metrics.has(`${sub(ns!)}|${metric}`)) problems.push(`metric ${sub(ns!)} ${metric} is not used by any alarm or graph`);
  }
  // Other metric names quoted in tables (`HTTPCode_ELB_5XX_Count`...) must be watched under some namespace.
  for (const m of text.matchAll(/`((?:HTTPCode|Healthy|UnHealthy|Request|Approximate|NumberOf|Database|Engine|Curr|CPU|Memory|Active|EventLoop)\w*)`/g)) {
    if (m[1] === "CurrConnections") continue; // looked at by hand, not alarmed on
    if (![...f.metrics].some((p) => p.endsWith(`|${m[1]}`))) problems.push(`metric ${m[1]} is not used by any alarm or graph`);
  }

  // Alarm patterns such as `*-high-cpu`.
  const alarms = [...f.names].filter((n) => /-(warning|critical|deploy)-/.test(n));
  for (const m of text.matchAll(/`(\*-[a-z0-9*-]+)`/g)) {
    const re = new RegExp(`^${m[1]!.split("*").map((p) => p.replace(/[-]/g, "\\-")).join(".*")}$`);
    if (!alarms.some((a) => re.test(a))) problems.push(`no alarm matches ${m[1]}`);
  }

  // WAF rule metric names.
  for (const m of text.matchAll(/--rule-metric-name (\w+)/g)) {
    if (!f.wafMetricNames.has(m[1]!)) problems.push(`WAF rule metric ${m[1]} does not exist`);
  }
  // Config keys and sizing paths.
  for (const m of text.matchAll(/realtime-chat:(\w+)((?:\.\w+)*)/g)) {
    if (!(m[1]! in CONFIG_KEYS)) problems.push(`config key realtime-chat:${m[1]} does not exist`);
    if (m[1] === "sizing" && m[2]) {
      let node: any = TIERS.dev;
      for (const part of m[2].slice(1).split(".")) node = node?.[part];
      if (node === undefined) problems.push(`sizing path ${m[2].slice(1)} does not exist in the tier table`);
    }
  }
  return problems;
}

const runs = new Map<string, SynthResult>();
let drWithout: unknown;
let drAsShipped: unknown;
let drRealOutage: SynthResult;
/** The `realtime-chat:sizing` block docs/DR.md tells operators to add to the DR stack when the primary region is down. */
function realOutageSizing(): unknown {
  const text = readFileSync(join(REPO_ROOT, "docs", "DR.md"), "utf8");
  const m = /```yaml\n( *)(config:\n[\s\S]*?)\n *```/.exec(text);
  assert.ok(m, "docs/DR.md lost its real-outage sizing block");
  const yaml = m[2]!.split("\n").map((l, i) => (i === 0 ? l : l.slice(m[1]!.length))).join("\n");
  const sizing = parseYaml(yaml)?.config?.["realtime-chat:sizing"];
  assert.ok(sizing, "docs/DR.md's yaml block must set config.realtime-chat:sizing");
  return sizing;
}
let badObservability: unknown;

beforeAll(async () => {
  for (const stack of STACKS) runs.set(stack, await synthesize(stack));
  drWithout = await synthesize("10k-dau-dr", { configOverrides: { "realtime-chat:restoreSnapshotId": undefined } }).then(() => undefined, (e: unknown) => e);
  // as shipped, with only the keys every production stack needs (TLS, alarm subscription) set: the recovery point is missing
  drAsShipped = await synthesize("10k-dau-dr", {
    examples: false,
    configOverrides: Object.fromEntries(Object.entries(STACK_EXAMPLES["10k-dau-dr"]!).filter(([k]) => k !== "realtime-chat:restoreSnapshotId")),
  }).then(() => undefined, (e: unknown) => e);
  drRealOutage = await synthesize("10k-dau-dr", { configOverrides: { "realtime-chat:sizing": realOutageSizing() } });
  badObservability = await synthesize("10k-dau", {
    configOverrides: { "realtime-chat:sizing": { observability: { alarms: { ecsCpuPercent: { warning: 90, critical: 80 } } }, backup: { weeklyRetentionDays: 3 } } },
  }).then(() => undefined, (e: unknown) => e);
}, 600_000);

const prefixOf = (stack: string) => `chat-${stack}`;

describe("docs/RUNBOOK.md", () => {
  for (const stack of STACKS) {
    it(`resolves every reference in ${stack}`, () => {
      assert.deepEqual(runbookProblems(RUNBOOK, factsOf(runs.get(stack)!, prefixOf(stack))), []);
    });
  }

  it("reports broken references (renamed output, alarm, log group, metric, WAF rule, key)", () => {
    const facts = factsOf(runs.get("10k-dau")!, prefixOf("10k-dau"));
    const broken = RUNBOOK
      .replace("pulumi stack output pushDlqUrl", "pulumi stack output pushDeadLetterUrl")
      .replace("$PROJECT-$ENV-critical-rds-high-connections", "$PROJECT-$ENV-critical-rds-connections")
      .replace("/ecs/$PROJECT-$ENV/workers", "/ecs/$PROJECT-$ENV/worker")
      .replace("--metric-name EventLoopLagMs", "--metric-name EventLoopLag")
      .replace("--rule-metric-name SocketIORateLimit", "--rule-metric-name SocketIoRateLimit")
      .replace("`*-alb-5xx`", "`*-alb-500`")
      .replace("realtime-chat:apiImage", "realtime-chat:apiImageUri")
      .replace("pulumi stack output athenaWorkgroupName", "pulumi stack output athenaWorkGroup")
      .replace("pulumi stack output toolboxTaskDefinitionArn", "pulumi stack output toolboxTaskDefinition")
      .replace("pulumi stack output drDbSubnetGroupName", "pulumi stack output drSubnetGroupName")
      .replace("realtime-chat:sizing.database.instanceClass", "realtime-chat:sizing.database.instanceType");
    const problems = runbookProblems(broken, facts);
    for (const expected of [
      "stack output pushDeadLetterUrl does not exist",
      "chat-10k-dau-critical-rds-connections does not exist",
      "log group /ecs/chat-10k-dau/worker does not exist",
      "metric chat-10k-dau EventLoopLag is not used by any alarm or graph",
      "WAF rule metric SocketIoRateLimit does not exist",
      "no alarm matches *-alb-500",
      "config key realtime-chat:apiImageUri does not exist",
      "stack output athenaWorkGroup does not exist",
      "stack output toolboxTaskDefinition does not exist",
      "stack output drSubnetGroupName does not exist",
      "sizing path database.instanceType does not exist in the tier table",
    ]) assert.ok(problems.includes(expected), `expected "${expected}" in ${JSON.stringify(problems)}`);
  });

  it("queries alb_logs only by columns of the table (AWS's ALB access log columns and the day partition)", () => {
    expect(RUNBOOK.match(/FROM alb_logs/g)?.length).toBeGreaterThanOrEqual(2);
    expect(albLogQueryProblems(RUNBOOK)).toEqual([]);
    const broken = RUNBOOK.replace("elb_status_code >= 500 ORDER BY", "status_code >= 500 ORDER BY");
    expect(albLogQueryProblems(broken)).toEqual(["alb_logs has no column status_code"]);
  });

  it("probes the site URL, and through curl --resolve where the name does not point at the load balancer yet", () => {
    expect(RUNBOOK).toContain("export SITE_URL=$(pulumi stack output siteUrl -s $STACK)");
    expect(RUNBOOK).toMatch(/curl -fsS --resolve \$DOMAIN:443:\$ALB_IP https:\/\/\$DOMAIN\/api\/ready/);
    expect(RUNBOOK).not.toMatch(/https:\/\/\$ALB_DNS/);
  });

  it("scales relative to the serviceScalingBounds output and changes classes through the sizing override", () => {
    expect(RUNBOOK).not.toMatch(/--desired-count \d/);
    expect(RUNBOOK).toMatch(/pulumi stack output serviceScalingBounds -s \$STACK --json \| jq \.realtime\.max/);
    expect(RUNBOOK).toContain("pulumi config set --path 'realtime-chat:sizing.database.instanceClass' db.r6g.xlarge -s $STACK");
    expect(RUNBOOK).not.toMatch(/aws rds modify-db-instance [^\n]*--db-instance-class/);
  });
});

describe("docs/DR.md", () => {
  it("names only outputs, vaults and config keys the primary and DR stacks have", () => {
    const text = readFileSync(join(REPO_ROOT, "docs", "DR.md"), "utf8");
    const primary = runs.get("10k-dau")!;
    const dr = runs.get("10k-dau-dr")!;
    const problems: string[] = [];
    // `-s <stack>` reads another stack (the primary's pilot light); without it the commands run on the DR stack
    for (const m of text.matchAll(/pulumi stack output (\w+)(?: -s ([\w-]+))?/g)) {
      const [, name, stack] = m as unknown as [string, string, string | undefined];
      const target = stack === undefined || stack === "$STACK" ? dr : runs.get(stack);
      if (!target) problems.push(`no stack ${stack}`);
      else if (!(name in target.outputs)) problems.push(`${target.stack} has no output ${name}`);
    }
    for (const m of text.matchAll(/\(outputs? ((?:`\w+`(?:, )?)+)/g)) {
      for (const o of m[1]!.matchAll(/`(\w+)`/g)) if (!(o[1]! in primary.outputs)) problems.push(`primary has no output ${o[1]}`);
    }
    for (const m of text.matchAll(/realtime-chat:(\w+)/g)) if (!(m[1]! in CONFIG_KEYS)) problems.push(`no config key ${m[1]}`);
    const vaults = new Set([primary, dr].flatMap((r) => byType(r, "aws:backup/vault:Vault").map((v) => v.inputs.name)));
    for (const m of text.matchAll(/\b(chat-[a-z0-9-]+-backup(?:-dr)?)\b/g)) if (!vaults.has(m[1]!)) problems.push(`no vault ${m[1]}`);
    assert.deepEqual(problems, []);
  });
});

describe("operators' runbook contract", () => {
  const OPERATOR_OUTPUTS = [
    "albDnsName", "ecsClusterName", "apiServiceName", "realtimeServiceName", "workersServiceName",
    "realtimeTargetGroupArn", "realtimeTargetGroupArnSuffix", "albArnSuffix", "wafAclArn", "dbInstanceIdentifier",
    "redisReplicationGroupId", "redisAuthSecretArn", "pushQueueUrl", "pushDlqUrl", "pushQueueArn", "pushDlqArn",
    "offlineQueueUrl", "offlineDlqUrl", "offlineQueueArn", "offlineDlqArn", "drVaultName", "backupRoleArn", "dbSubnetGroupName",
    "toolboxTaskDefinitionArn", "toolboxNetworkConfiguration", "toolboxContainerName", "toolboxLogGroupName", "toolboxSecurityGroupId",
    "athenaDatabaseName", "albLogsTableName", "athenaWorkgroupName", "athenaResultsBucket",
    "serviceScalingBounds", "pushNotifications", "backlogQueueUrls", "backlogDlqUrls",
    "drPilotLightVpcId", "drDbSubnetGroupName", "drRestoreSecurityGroupId", "siteUrl",
  ];
  for (const stack of STACKS) {
    it(`${stack} exports every output the operators' restore and incident steps need`, () => {
      const o = runs.get(stack)!.outputs;
      const missing = OPERATOR_OUTPUTS.filter((k) => !OPTIONAL_OUTPUTS[k]?.(stack) && o[k] === undefined);
      assert.deepEqual(missing, []);
    });
  }

  for (const stack of STACKS) {
    it(`${stack}: the toolbox, Athena and DR pilot-light outputs name what the stack creates`, () => {
      assert.deepEqual(toolkitProblems(runs.get(stack)!), []);
    });
  }

  for (const stack of STACKS) {
    it(`${stack}: siteUrl is https://<domainName> where a domain is configured (every stack but dev)`, () => {
      const domain = stackConfigWithExamples(stack)["realtime-chat:domainName"];
      const url = runs.get(stack)!.outputs.siteUrl;
      if (stack === "dev") {
        assert.equal(domain, undefined, "dev serves plain HTTP under the load balancer's name");
        assert.equal(url, `http://${runs.get(stack)!.outputs.albDnsName}`);
      } else {
        assert.equal(typeof domain, "string", `${stack} needs realtime-chat:domainName (an example value in STACK_EXAMPLES)`);
        assert.equal(url, `https://${domain}`);
      }
    });
  }

  it("the toolkit check reports a wrong output", () => {
    const run = runs.get("10k-dau")!;
    const wrong = {
      ...run.outputs,
      toolboxLogGroupName: "/ecs/chat-10k-dau/tools",
      athenaWorkgroupName: "primary",
      athenaDatabaseName: "default",
      drDbSubnetGroupName: "dr-subnet-group",
      toolboxNetworkConfiguration: { awsvpcConfiguration: { ...run.outputs.toolboxNetworkConfiguration.awsvpcConfiguration, subnets: run.outputs.publicSubnetIds } },
    };
    assert.deepEqual(toolkitProblems(run, wrong), [
      "toolboxLogGroupName /ecs/chat-10k-dau/tools is not /ecs/chat-10k-dau/toolbox",
      "the toolbox logs to /ecs/chat-10k-dau/toolbox, not toolboxLogGroupName",
      "log group /ecs/chat-10k-dau/tools does not exist",
      "toolboxNetworkConfiguration does not use the private subnets",
      "athenaDatabaseName default is not chat_10k_dau_logs",
      "athenaWorkgroupName primary is not chat-10k-dau-ops or does not exist",
      "the workgroup does not write to athenaResultsBucket " + run.outputs.athenaResultsBucket,
      "drDbSubnetGroupName dr-subnet-group is not chat-10k-dau-dr-subnet-group in the DR region",
    ]);
  });

  it("backlog outputs follow the push setting: offline only when push is off, both queues when it is on", async () => {
    for (const stack of STACKS) {
      const o = runs.get(stack)!.outputs;
      const pushOn = loadStackFile(stack).config["realtime-chat:pushGatewayUrl"] !== undefined;
      assert.equal(o.pushNotifications, pushOn ? "on" : "off", stack);
      assert.deepEqual(o.backlogQueueUrls, pushOn ? { push: o.pushQueueUrl, offline: o.offlineQueueUrl } : { offline: o.offlineQueueUrl }, stack);
      assert.deepEqual(o.backlogDlqUrls, pushOn ? { push: o.pushDlqUrl, offline: o.offlineDlqUrl } : { offline: o.offlineDlqUrl }, stack);
    }
    const on = await synthesize("1k-dau", { configOverrides: { "realtime-chat:pushGatewayUrl": "https://push.example.com/v1/notify" } });
    assert.equal(on.outputs.pushNotifications, "on");
    assert.deepEqual(Object.keys(on.outputs.backlogQueueUrls), ["push", "offline"]);
  });

  it("serviceScalingBounds are each service's autoscaling bounds, overrides included", async () => {
    for (const stack of STACKS) {
      const run = runs.get(stack)!;
      const targets = byType(run, "aws:appautoscaling/target:Target");
      for (const svc of ["api", "realtime", "workers"]) {
        const t = targets.find((x) => x.name === `${svc}-scaling`)!.inputs;
        assert.deepEqual(run.outputs.serviceScalingBounds[svc], { min: t.minCapacity, max: t.maxCapacity }, `${stack} ${svc}`);
      }
    }
    const over = await synthesize("dev", { configOverrides: { "realtime-chat:sizing": { services: { realtime: { max: 9 } } } } });
    assert.equal(over.outputs.serviceScalingBounds.realtime.max, 9);
  });

  it("every production tier has a DR stack file in the primary's drRegion, and each primary keeps a pilot light there", () => {
    const primaries = STACKS.filter((s) => !s.endsWith("-dr") && loadStackFile(s).config["realtime-chat:tier"] !== "dev");
    expect(primaries).toEqual(["100k-dau", "10k-dau", "1k-dau"]);
    for (const p of primaries) {
      const primary = loadStackFile(p).config;
      const dr = loadStackFile(`${p}-dr`).config;
      assert.deepEqual([dr["realtime-chat:primaryEnv"], dr["realtime-chat:tier"], dr["aws:region"]], [p, primary["realtime-chat:tier"], primary["realtime-chat:drRegion"]], p);
      assert.equal(runs.get(`${p}-dr`)!.region, primary["realtime-chat:drRegion"]);
      assert.ok(runs.get(p)!.outputs.drDbSubnetGroupName, `${p} keeps a pilot light`);
      // a DR stack is a generation of names that outlive a destroy, and takes over the primary's site name
      assert.equal(dr["realtime-chat:drGeneration"], 1, `Pulumi.${p}-dr.yaml sets realtime-chat:drGeneration`);
      assert.equal(runs.get(`${p}-dr`)!.outputs.siteUrl, runs.get(p)!.outputs.siteUrl, `${p}-dr serves the primary's site name`);
    }
  });

  it("the DR stack runs in the primary's drRegion, restores the database from its source and names the vault", () => {
    const primary = loadStackFile("10k-dau").config;
    const dr = runs.get("10k-dau-dr")!;
    assert.equal(dr.region, primary["realtime-chat:drRegion"]);
    assert.equal(loadStackFile("10k-dau-dr").config["realtime-chat:drRegion"], primary["aws:region"], "fail-back copies go to the old primary region");
    const [db] = byType(dr, "aws:rds/instance:Instance");
    assert.match(db!.inputs.snapshotIdentifier, /^arn:aws:rds:us-west-2:\d{12}:snapshot:awsbackup:job-/);
    assert.equal(dr.outputs.restoreVaultName, "chat-10k-dau-backup-dr");
    const vaults = byType(runs.get("10k-dau")!, "aws:backup/vault:Vault").map((v) => v.inputs.name);
    assert.ok(vaults.includes(dr.outputs.restoreVaultName), "the DR stack restores from the vault the primary copies to");
    assert.ok(dr.outputs.dbSubnetGroupName && dr.outputs.dbSecurityGroupId && dr.outputs.backupRoleArn);
  });

  it("a DR stack without a restore source fails before creating anything, saying what to set and how to find it", () => {
    assert.ok(drWithout instanceof Error, "synthesis must fail");
    const msg = (drWithout as Error).message;
    assert.match(msg, /Invalid configuration in Pulumi\.10k-dau-dr\.yaml/);
    assert.match(msg, /realtime-chat:restoreSnapshotId is missing: this is a DR stack \(realtime-chat:primaryEnv = "10k-dau"\)/);
    assert.match(msg, /--backup-vault-name chat-10k-dau-backup-dr --region us-west-2/);
    assert.match(msg, /pulumi config set realtime-chat:restoreSnapshotId <RecoveryPointArn> -s 10k-dau-dr/);
  });

  it("with docs/DR.md's real-outage overrides the DR stack touches nothing in the failed primary region", () => {
    const failed = loadStackFile("10k-dau-dr").config["realtime-chat:drRegion"];
    const otherRegion = (r: SynthResult) => {
      const providers = byType(r, "pulumi:providers:aws").filter((p) => p.inputs.region !== r.region);
      return r.resources.filter((x) => providers.some((p) => x.options.provider?.startsWith(`${p.urn}::`))).map((x) => `${x.type}::${x.name}`);
    };
    assert.ok(otherRegion(runs.get("10k-dau-dr")!).length > 0, "without the overrides the DR stack copies to its drRegion (so this check can fail)");
    assert.deepEqual(otherRegion(drRealOutage), []);
    assert.deepEqual(byType(drRealOutage, "pulumi:providers:aws").map((p) => p.inputs.region), []);
    const mentions = drRealOutage.resources.filter((x) => JSON.stringify(x.inputs).includes(String(failed))).map((x) => `${x.type}::${x.name}`);
    assert.deepEqual(mentions, [], `no resource input names ${failed}`);
    assert.ok(byType(drRealOutage, "aws:rds/instance:Instance")[0]!.inputs.snapshotIdentifier, "the database still starts from the recovery point");
  });

  it("the DR stack file names no recovery point: as shipped it refuses to run; tests use the labelled example", () => {
    assert.equal(loadStackFile("10k-dau-dr").config["realtime-chat:restoreSnapshotId"], undefined);
    assert.ok(drAsShipped instanceof Error, "the shipped file alone must not synthesize");
    assert.match((drAsShipped as Error).message, /realtime-chat:restoreSnapshotId is missing/);
    const dr = runs.get("10k-dau-dr")!;
    assert.deepEqual(dr.examplesUsed, STACK_EXAMPLES["10k-dau-dr"]);
    assert.deepEqual(runs.get("dev")!.examplesUsed, {}, "stacks that need no operator input use no example");
  });

  it("DR config rules: exact messages for a source in another region and a DR stack named like its primary", () => {
    const base = { stack: "10k-dau-dr", project: "chat", env: "10k-dau-dr", region: "us-west-2", primaryEnv: "10k-dau" as string | undefined, restoreSnapshotId: undefined as string | undefined };
    const cases: [Partial<typeof base>, string | undefined][] = [
      [{ restoreSnapshotId: "arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-1" }, undefined],
      [{ restoreSnapshotId: "rds:chat-10k-dau-db-2026-01-01-05-00" }, undefined],
      [{ primaryEnv: undefined, restoreSnapshotId: undefined }, undefined],
      [{ restoreSnapshotId: "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1" },
        'realtime-chat:restoreSnapshotId = "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1": the snapshot is in us-east-1 but the stack deploys to aws:region us-west-2; use a recovery point copied to us-west-2 (the DR vault) or copy the snapshot there first'],
      [{ restoreSnapshotId: "arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-00000000-0000-0000-0000-000000000000" },
        'realtime-chat:restoreSnapshotId = "arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-00000000-0000-0000-0000-000000000000" is the all-zero placeholder, not a recovery point. ' +
          "Set a real one: list them with `aws backup list-recovery-points-by-backup-vault --backup-vault-name chat-10k-dau-backup-dr --region us-west-2` " +
          "and run `pulumi config set realtime-chat:restoreSnapshotId <RecoveryPointArn> -s 10k-dau-dr`"],
      [{ env: "10k-dau", restoreSnapshotId: "snap-1" },
        'realtime-chat:primaryEnv = "10k-dau": a DR stack needs its own env; name the primary\'s env here and leave realtime-chat:env to the DR stack\'s name'],
    ];
    for (const [over, expected] of cases) {
      const run = () => validateDrConfig({ ...base, ...over });
      if (expected === undefined) assert.doesNotThrow(run, JSON.stringify(over));
      else assert.throws(run, (e: Error) => e.message === `Invalid configuration in Pulumi.10k-dau-dr.yaml (1 problem):\n  - ${expected}`, JSON.stringify(over));
    }
  });

  it("a proxy cap at or below the critical connections alarm is refused at program start", async () => {
    const err = await synthesize("dev", { configOverrides: { "realtime-chat:sizing": { database: { proxyMaxConnectionsPercent: 90 } } } }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof Error, "synthesis must fail");
    assert.match(err.message, /realtime-chat:sizing\.database\.proxyMaxConnectionsPercent = 90: must be a whole number from 91 to 100 \(the share of max_connections the proxy may open must stay above the critical connections alarm \(observability\.alarms\.rdsConnectionsPercentOfMax\.critical = 90\), or that alarm can never fire through the proxy\)/);
  });

  it("bad alarm or backup sizing fails at program start, naming the stack file and the config keys", () => {
    assert.ok(badObservability instanceof Error, "synthesis must fail");
    const msg = (badObservability as Error).message;
    assert.match(msg, /Invalid configuration in Pulumi\.10k-dau\.yaml \(2 problems\)/);
    assert.match(msg, /realtime-chat:sizing\.observability\.alarms\.ecsCpuPercent\.warning = 90: must be a number from 0 to 80 \(the warning fires before the page: at most observability\.alarms\.ecsCpuPercent\.critical \(80\)\)/);
    assert.match(msg, /realtime-chat:sizing\.backup\.weeklyRetentionDays = 3: must be 0 \(no weekly points\) or a whole number >= 7 \(a weekly point kept less than a week is gone before the next one\)/);
  });

  for (const stack of STACKS) {
    it(`${stack}: backs up its database with the tier's plan, copying to a vault in drRegion where the tier asks`, () => {
      const run = runs.get(stack)!;
      const cfg = validateStackConfig(stackConfigWithExamples(stack), stack);
      const b = cfg.sizing.backup;
      // a DR stack's database carries its generation (docs/DR.md, "Generations")
      const dbArn = `arn:aws:rds:${cfg.region}:123456789012:db:chat-${stack}${cfg.primaryEnv !== undefined ? `-g${cfg.drGeneration}` : ""}-db`;
      assert.deepEqual(byType(run, "aws:backup/selection:Selection")[0]!.inputs.resources, [dbArn]);
      const rules = byType(run, "aws:backup/plan:Plan")[0]!.inputs.rules as any[];
      assert.ok(rules.some((r) => r.ruleName === "daily"));
      for (const r of rules) assert.equal((r.copyActions ?? []).length, b.crossRegionCopy ? 1 : 0, `${r.ruleName} copy action`);
      const drProviders = byType(run, "pulumi:providers:aws").filter((p) => p.inputs.region === cfg.drRegion);
      assert.equal(drProviders.length, b.crossRegionCopy || b.crossRegionPitr ? 1 : 0, "one provider for the DR region");
      const dr = (urn: string | undefined) => drProviders.some((p) => urn?.startsWith(p.urn));
      for (const v of byType(run, "aws:backup/vault:Vault")) assert.equal(dr(v.options.provider), v.inputs.name.endsWith("-backup-dr"), `${v.inputs.name} region`);
      const reps = byType(run, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication");
      assert.equal(reps.length, b.crossRegionPitr ? 1 : 0);
      for (const r of reps) assert.ok(dr(r.options.provider) && r.inputs.sourceDbInstanceArn === dbArn);
      assert.equal(byType(run, "aws:backup/vaultLockConfiguration:VaultLockConfiguration").length, b.vaultLock ? 2 : 0);
    });
  }

  it("AWS Backup starts its jobs outside the database's backup and maintenance windows, in every stack", () => {
    const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
    const overlaps = (a: [number, number], b: [number, number]) => a[0] < b[1] && b[0] < a[1];
    for (const stack of STACKS) {
      const run = runs.get(stack)!;
      const db = byType(run, "aws:rds/instance:Instance")[0]!.inputs;
      const [bStart, bEnd] = (db.backupWindow as string).split("-").map(minutes) as [number, number];
      const [mStart, mEnd] = (db.maintenanceWindow as string).split("-").map((w) => minutes(w.slice(4))) as [number, number];
      for (const rule of byType(run, "aws:backup/plan:Plan")[0]!.inputs.rules as any[]) {
        const m = /^cron\((\d+) (\d+) /.exec(rule.schedule);
        assert.ok(m, `${stack} ${rule.ruleName}: ${rule.schedule}`);
        const start = Number(m[2]) * 60 + Number(m[1]);
        const window: [number, number] = [start, start + rule.startWindow];
        assert.ok(!overlaps(window, [bStart, bEnd]), `${stack} ${rule.ruleName} starts in the RDS backup window ${db.backupWindow}`);
        assert.ok(!overlaps(window, [mStart, mEnd]), `${stack} ${rule.ruleName} starts in the maintenance window ${db.maintenanceWindow}`);
      }
    }
  });

  it("every primary stack that copies backups has a vault for the DR stack to restore from", () => {
    for (const stack of STACKS.filter((s) => !s.endsWith("-dr"))) {
      const tier = TIERS[loadStackFile(stack).config["realtime-chat:tier"] as keyof typeof TIERS];
      const out = runs.get(stack)!.outputs;
      if (tier.backup.crossRegionCopy) assert.equal(out.drVaultName, `chat-${stack}-backup-dr`);
      else assert.equal(out.drVaultName, undefined);
      assert.equal(typeof out.recoveryPointObjective?.drRegion, "string");
    }
  });
});

describe("alarms in each stack", () => {
  for (const stack of STACKS) {
    it(`${stack}: warning and critical alarms for every Key Metrics row, on the stack's real resources, to its topic`, () => {
      const run = runs.get(stack)!;
      const cfg = validateStackConfig(stackConfigWithExamples(stack), stack);
      const t = cfg.sizing.observability.alarms;
      const prefix = prefixOf(stack);
      const alarms = new Map(byType(run, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.inputs.name as string, a.inputs]));
      const services = new Set(byType(run, "aws:ecs/service:Service").map((x) => x.inputs.name));
      const cluster = byType(run, "aws:ecs/cluster:Cluster")[0]!.inputs.name;
      const queues = new Set(byType(run, "aws:sqs/queue:Queue").map((q) => q.inputs.name));
      const db = byType(run, "aws:rds/instance:Instance")[0]!.inputs;
      const maxConn = postgresMaxConnections(cfg.sizing.database.instanceClass);
      const perTask = cfg.sizing.services.realtime.maxConnectionsPerTask;
      const pct = (n: number, p: number, round: (x: number) => number) => round((n * p) / 100);
      const rows: [string, { warning: number; critical: number }, (a: any) => void][] = [];
      for (const svc of ["api", "realtime", "workers"]) {
        const dims = (a: any) => {
          assert.equal(a.dimensions.ClusterName, cluster);
          assert.ok(services.has(a.dimensions.ServiceName), `${a.name}: no ECS service ${a.dimensions.ServiceName}`);
        };
        rows.push([`${svc}-high-cpu`, t.ecsCpuPercent, dims], [`${svc}-high-memory`, t.ecsMemoryPercent, dims]);
      }
      rows.push(["rds-high-connections", { warning: pct(maxConn, t.rdsConnectionsPercentOfMax.warning, Math.ceil), critical: pct(maxConn, t.rdsConnectionsPercentOfMax.critical, Math.ceil) },
        (a) => assert.equal(a.dimensions.DBInstanceIdentifier, db.identifier)]);
      rows.push(["redis-high-memory", t.redisMemoryPercent, () => undefined]);
      rows.push(["realtime-high-connections", { warning: pct(perTask, t.realtimeConnectionsPercentOfMax.warning, Math.floor), critical: pct(perTask, t.realtimeConnectionsPercentOfMax.critical, Math.floor) },
        (a) => assert.deepEqual([a.namespace, a.dimensions.ServiceName], [prefix, `${prefix}-realtime`])]);
      rows.push(["realtime-event-loop-lag", t.eventLoopLagMs, (a) => assert.deepEqual([a.namespace, a.extendedStatistic], [prefix, "p95"])]);
      for (const q of ["push", "offline"]) {
        rows.push([`sqs-${q}-queue-depth`, t.queueDepth, (a) => assert.ok(queues.has(a.dimensions.QueueName))]);
        rows.push([`sqs-${q}-dlq`, t.dlqMessages, (a) => {
          for (const mq of a.metricQueries.filter((x: any) => x.metric)) assert.ok(queues.has(mq.metric.dimensions.QueueName) && mq.metric.dimensions.QueueName.endsWith("-dlq"));
        }]);
      }
      for (const [role, th, check] of rows) {
        for (const sev of ["warning", "critical"] as const) {
          const a = alarms.get(`${prefix}-${sev}-${role}`);
          assert.ok(a, `${stack}: no ${sev} alarm for ${role}`);
          assert.equal(a.threshold, th[sev], `${a.name} threshold`);
          const topic = sev === "critical" ? run.outputs.alarmTopicArn : run.outputs.warningTopicArn;
          assert.deepEqual([a.alarmActions, a.okActions], [[topic], [topic]], `${a.name} actions`);
          check(a);
        }
      }
    });

    it(`${stack}: the database's max_connections is the alarm's denominator; the proxy's cap leaves the critical alarm reachable`, () => {
      const run = runs.get(stack)!;
      const cfg = validateStackConfig(stackConfigWithExamples(stack), stack);
      const maxConn = postgresMaxConnections(cfg.sizing.database.instanceClass);
      const params = byType(run, "aws:rds/parameterGroup:ParameterGroup")[0]!.inputs.parameters as any[];
      // dev's 1 GiB class: RDS's own formula on the real memory; the alarm divides by the nominal figure, an upper bound
      const value = cfg.tier === "dev" ? RDS_MAX_CONNECTIONS_FORMULA : String(maxConn);
      assert.deepEqual(params.find((p) => p.name === "max_connections"), { name: "max_connections", value, applyMethod: "pending-reboot" });
      const critical = byType(run, "aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.inputs.name === `${prefixOf(stack)}-critical-rds-high-connections`)!.inputs;
      const pool = byType(run, "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup")[0]!.inputs.connectionPoolConfig;
      assert.ok(Math.floor((maxConn * pool.maxConnectionsPercent) / 100) > critical.threshold,
        `proxy cap ${pool.maxConnectionsPercent}% of ${maxConn} must exceed the critical threshold ${critical.threshold}`);
    });

    it(`${stack}: warns on failed backup jobs in its vault, and on failed DR copies where the tier copies`, () => {
      const run = runs.get(stack)!;
      const cfg = validateStackConfig(stackConfigWithExamples(stack), stack);
      const vault = byType(run, "aws:backup/vault:Vault").find((v) => !v.inputs.name.endsWith("-backup-dr"))!.inputs.name;
      assert.equal(vault, run.outputs.backupVaultName);
      const got = byType(run, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.inputs.namespace === "AWS/Backup")
        .map((a) => [a.inputs.name, a.inputs.metricName, a.inputs.dimensions.BackupVaultName, a.inputs.alarmActions[0]]);
      const want = [[`${prefixOf(stack)}-warning-backup-jobs-failed`, "NumberOfBackupJobsFailed", vault, run.outputs.warningTopicArn]];
      if (cfg.sizing.backup.crossRegionCopy) want.push([`${prefixOf(stack)}-warning-backup-copy-jobs-failed`, "NumberOfCopyJobsFailed", vault, run.outputs.warningTopicArn]);
      assert.deepEqual(got, want);
    });

    it(`${stack}: api and realtime roll back on their deployment alarms; workers have none`, () => {
      const run = runs.get(stack)!;
      const prefix = prefixOf(stack);
      const svc = (n: string) => byType(run, "aws:ecs/service:Service").find((x) => x.inputs.name === `${prefix}-${n}`)!.inputs;
      assert.deepEqual(svc("api").alarms, { alarmNames: [`${prefix}-deploy-api-5xx`], enable: true, rollback: true });
      assert.deepEqual(svc("realtime").alarms, { alarmNames: [`${prefix}-deploy-realtime-5xx`, `${prefix}-deploy-realtime-unhealthy`], enable: true, rollback: true });
      assert.equal(svc("workers").alarms, undefined);
      const names = new Set(byType(run, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs.name));
      for (const n of [...svc("api").alarms.alarmNames, ...svc("realtime").alarms.alarmNames]) assert.ok(names.has(n), `deployment alarm ${n} exists`);
    });
  }
});
