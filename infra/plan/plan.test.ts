/**
 * Plan building blocks without synthesis: cost lines by type, price table coverage, assumptions parsing,
 * secret redaction, the diff (replacement, dangerous changes, cost delta) and the renderers.
 */
import assert from "node:assert/strict";
import { TIERS } from "../config/tiers";
import { DEFAULT_ASSUMPTIONS, parseAssumptions } from "./assumptions";
import { COST_RULES, estimateCost, FREE_TYPES } from "./cost";
import type { CostResource } from "./cost";
import { diffPlans, flatten } from "./diff";
import { redact, SECRET } from "./model";
import { preflightRuleCount } from "../components/preflight";
import { countQuotas, quotaReport } from "./quotas";
import type { PlanDocument, PlanResource } from "./model";
import { PRICES } from "./prices";
import { renderMarkdown, renderText } from "./render";

const r = (type: string, name: string, inputs: Record<string, any>, extra: Partial<CostResource> = {}): CostResource => ({ type, name, custom: true, inputs, ...extra });
const opts = { region: "us-east-1", drRegion: "us-west-2", dau: 10_000, assumptions: DEFAULT_ASSUMPTIONS };

describe("cost model", () => {
  it("prices a Fargate service from its task definition and desired count", () => {
    const est = estimateCost([
      r("aws:ecs/taskDefinition:TaskDefinition", "api-task", { family: "chat-api", cpu: "1024", memory: "2048" }),
      r("aws:ecs/service:Service", "api-service", { desiredCount: 3, taskDefinition: "arn:aws:ecs:us-east-1:1:task-definition/chat-api:1" }),
    ], opts);
    // 3 x (1 vCPU x 0.04048 + 2 GB x 0.004445) x 730
    assert.equal(est.monthlyUsd, Math.round(3 * (0.04048 + 2 * 0.004445) * 730 * 100) / 100);
    assert.match(est.items[0]!.basis, /^3 task\(s\) x 1 vCPU \/ 2 GB/);
  });

  it("doubles RDS instance and storage for Multi-AZ and adds the proxy by database vCPUs", () => {
    const single = estimateCost([r("aws:rds/instance:Instance", "db", { instanceClass: "db.r6g.large", allocatedStorage: 100, multiAz: false })], opts);
    const multi = estimateCost([r("aws:rds/instance:Instance", "db", { instanceClass: "db.r6g.large", allocatedStorage: 100, multiAz: true })], opts);
    assert.equal(single.monthlyUsd, Math.round((0.225 * 730 + 100 * 0.115) * 100) / 100);
    assert.equal(multi.monthlyUsd, Math.round(2 * (0.225 * 730 + 100 * 0.115) * 100) / 100);
    const proxy = estimateCost([
      r("aws:rds/instance:Instance", "db", { instanceClass: "db.r6g.2xlarge", allocatedStorage: 20 }),
      r("aws:rds/proxy:Proxy", "proxy", {}),
    ], opts);
    assert.equal(proxy.byType["aws:rds/proxy:Proxy"], Math.round(8 * 0.015 * 730 * 100) / 100);
  });

  it("prices Redis per node and fails clearly on an unknown node type", () => {
    const est = estimateCost([r("aws:elasticache/replicationGroup:ReplicationGroup", "redis", { nodeType: "cache.r7g.large", numCacheClusters: 3 })], opts);
    assert.equal(est.monthlyUsd, Math.round(3 * 0.219 * 730 * 100) / 100);
    assert.throws(
      () => estimateCost([r("aws:elasticache/replicationGroup:ReplicationGroup", "redis", { nodeType: "cache.z9.huge", numCacheClusters: 1 })], opts),
      { message: "plan: no price for ElastiCache node type cache.z9.huge in us-east-1; add it to elasticacheNodeHour in infra/plan/prices.ts" },
    );
  });

  it("usage lines follow the assumptions and can be overridden", () => {
    const nat = [r("aws:ec2/natGateway:NatGateway", "nat", {})];
    const base = estimateCost(nat, opts);
    const more = estimateCost(nat, { ...opts, assumptions: parseAssumptions(["natGbPerDauPerMonth=0.105"]) });
    // +0.1 GB per DAU x 10,000 DAU x $0.045
    assert.equal(Math.round((more.monthlyUsd - base.monthlyUsd) * 100) / 100, 45);
    assert.equal(more.assumptions.natGbPerDauPerMonth, 0.105);
  });

  it("reports custom types that are neither priced nor free, and ignores components", () => {
    const est = estimateCost([
      r("aws:dynamodb/table:Table", "t", {}),
      r("aws:ec2/vpc:Vpc", "vpc", {}),
      { type: "realtime-chat:network:Network", name: "network", custom: false, inputs: {} },
    ], opts);
    assert.deepEqual(est.unpricedTypes, ["aws:dynamodb/table:Table"]);
    assert.equal(est.monthlyUsd, 0);
  });

  it("no type is both priced and free", () => {
    assert.deepEqual(Object.keys(COST_RULES).filter((t) => FREE_TYPES.has(t)), []);
  });

  it("the price table covers both stack regions and every tier's classes, each with a source and a date", () => {
    for (const region of ["us-east-1", "us-west-2"]) {
      const table = PRICES[region]!;
      assert.ok(table, region);
      for (const tier of Object.values(TIERS)) {
        assert.ok(table.rdsInstanceHour[tier.database.instanceClass], `${region} ${tier.database.instanceClass}`);
        assert.ok(table.elasticacheNodeHour[tier.redis.nodeType], `${region} ${tier.redis.nodeType}`);
      }
      const entries = Object.values(table).flatMap((v: any) => ("usd" in v ? [v] : Object.values(v)));
      for (const p of entries as any[]) {
        assert.ok(p.usd > 0 && p.source.startsWith("https://") && /^\d{4}-\d{2}$/.test(p.date), JSON.stringify(p));
      }
    }
  });

  it("rejects bad assumption overrides with one line naming the entry", () => {
    assert.throws(() => parseAssumptions(["nat=1"]), /^Error: --assume nat: unknown assumption; known: requestsPerDauPerDay/);
    assert.throws(() => parseAssumptions(["natGbPerDauPerMonth=-1"]), { message: "--assume natGbPerDauPerMonth=-1: expected a number >= 0" });
    assert.throws(() => parseAssumptions(["natGbPerDauPerMonth"]), { message: "--assume natGbPerDauPerMonth: expected name=value, e.g. --assume natGbPerDauPerMonth=0.02" });
  });
});

describe("redaction", () => {
  it("hides secret-named inputs and secure config values, keeps references", () => {
    const out = redact({
      secretString: "s3cr3t",
      authToken: "tok",
      masterPassword: "pw",
      secretArn: "arn:aws:secretsmanager:x",
      nested: [{ url: "https://x?key=mock-secret-value" }],
    });
    assert.deepEqual(out, { secretString: SECRET, authToken: SECRET, masterPassword: SECRET, secretArn: "arn:aws:secretsmanager:x", nested: [{ url: `https://x?key=${SECRET}` }] });
  });
});

// ---- diff --------------------------------------------------------------------------------------------

const pr = (type: string, name: string, inputs: Record<string, any>): PlanResource => ({ type, name, parent: undefined, component: name, custom: true, inputs, protect: false });

function doc(resources: PlanResource[], monthly: number, byType: Record<string, number> = {}): PlanDocument {
  return {
    format: 1, stack: "10k-dau", project: "realtime-chat", region: "us-east-1", tier: "10k-dau", dau: 10_000, resources, outputs: {},
    cost: { currency: "USD", monthlyUsd: monthly, items: [], byType, unpricedTypes: [], region: "us-east-1", drRegion: undefined, dau: 10_000, assumptions: DEFAULT_ASSUMPTIONS, sources: {} },
    policy: { violations: [], mandatory: 0, advisory: 0, rules: [] },
    preflight: { errors: 0, findings: [], rules: preflightRuleCount() },
    quotas: { stack: quotaReport(["10k-dau"], "us-east-1", countQuotas([]), { includeDefaultVpc: true }), counts: countQuotas([]) },
    warnings: [],
  };
}

const DB = "aws:rds/instance:Instance";
const Q = "aws:sqs/queue:Queue";
const LG = "aws:cloudwatch/logGroup:LogGroup";

describe("diff", () => {
  const before = doc([
    pr(DB, "db", { identifier: "chat-db", instanceClass: "db.r6g.large" }),
    pr(Q, "push", { name: "chat-push", visibilityTimeoutSeconds: 60 }),
    pr(Q, "old", { name: "chat-old" }),
    pr(LG, "logs", { name: "/ecs/api", retentionInDays: 30 }),
  ], 1000, { [DB]: 800, [Q]: 10 });

  it("finds added, removed, updated and replaced resources with property changes", () => {
    const after = doc([
      pr(DB, "db", { identifier: "chat-db-2", instanceClass: "db.r6g.xlarge" }),
      pr(Q, "push", { name: "chat-push", visibilityTimeoutSeconds: 90 }),
      pr(LG, "logs", { name: "/ecs/api", retentionInDays: 30 }),
      pr(LG, "new-logs", { name: "/ecs/new", retentionInDays: 30 }),
    ], 1400.5, { [DB]: 1200, [Q]: 10, [LG]: 0.5 });
    const d = diffPlans(before, after, { base: "main", head: "this" });
    assert.deepEqual(d.added.map((c) => c.key), [`${LG}::new-logs`]);
    assert.deepEqual(d.removed.map((c) => [c.key, c.dangerous]), [[`${Q}::old`, true]]);
    assert.deepEqual(d.changed.map((c) => [c.key, c.kind, c.dangerous]), [[`${DB}::db`, "replace", true], [`${Q}::push`, "update", false]]);
    assert.deepEqual(d.changed[0]!.changes, [
      { path: "identifier", before: "chat-db", after: "chat-db-2", replaces: true },
      { path: "instanceClass", before: "db.r6g.large", after: "db.r6g.xlarge", replaces: false },
    ]);
    assert.deepEqual(d.dangerous.map((c) => c.key), [`${DB}::db`, `${Q}::old`]);
    assert.deepEqual(d.cost, { beforeUsd: 1000, afterUsd: 1400.5, deltaUsd: 400.5, byType: { [DB]: 400, [LG]: 0.5 } });

    const text = renderText(after, d);
    assert.match(text, /!! DANGEROUS replacement of stateful aws:rds\/instance:Instance::db/);
    assert.match(text, /identifier: chat-db -> chat-db-2 \(forces replacement\)/);
    assert.match(text, /Cost: \$1,000\.00 -> \$1,400\.50 \(\+\$400\.50\/month\)/);
    const md = renderMarkdown(after, d);
    assert.match(md, /> \[!CAUTION\]\n> \*\*Replaces stateful `aws:rds\/instance:Instance::db`\*\*/);
    assert.match(md, /\*\*Removes stateful `aws:sqs\/queue:Queue::old`\*\*/);
    assert.match(md, /cost \+\$400\.50\/month/);
  });

  it("an in-place change of a stateful resource is not dangerous; identical plans differ in nothing", () => {
    const after = doc([...before.resources.slice(0, 3), pr(LG, "logs", { name: "/ecs/api", retentionInDays: 90 })], 1000, before.cost.byType);
    const d = diffPlans(before, after, { base: "a", head: "b" });
    assert.deepEqual(d.changed.map((c) => [c.kind, c.dangerous]), [["update", false]]);
    const same = diffPlans(before, before, { base: "a", head: "a" });
    assert.equal(same.added.length + same.removed.length + same.changed.length, 0);
    assert.deepEqual(same.cost.byType, {});
  });

  it("the PR comment lists at most 40 changed resources, dangerous ones first", () => {
    const many = doc([...before.resources.slice(1), ...Array.from({ length: 45 }, (_, i) => pr(LG, `extra-${i}`, { retentionInDays: 7 }))], 1000);
    const md = renderMarkdown(many, diffPlans(before, many, { base: "main", head: "this" }));
    assert.match(md, /<summary>Changed resources \(46\)<\/summary>[\s\S]*?\n\| − ⚠️ \| `aws:rds\/instance:Instance::db` \|/);
    assert.match(md, /6 more changes not shown; `npm run plan -- --stack 10k-dau --diff <ref>` lists them all\./);
  });

  it("opens JSON strings so policy and container changes show by property", () => {
    assert.deepEqual(flatten({ policy: JSON.stringify({ Statement: [{ Action: ["sqs:SendMessage"] }] }) }), { "policy.Statement[0].Action[0]": "sqs:SendMessage" });
  });
});
