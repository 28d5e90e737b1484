/**
 * The plan of every shipped stack (each synthesized once, in this process): every mandatory policy passes,
 * every resource type is priced or known to be free, no secret value appears, costs grow with the tier,
 * the README cost table is current, and the PR comment fits GitHub's limit.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PlanDocument } from "./model";
import { preflight, typesWithoutRules } from "../components/preflight";
import { accountSetReports } from "./quotas";
import { costTable, END, shippedPlans, START, withTable } from "./readme";
import { renderMarkdown, renderText } from "./render";
import { ROOT, stackNames, withoutStackTraces } from "./sources";
import { STACK_EXAMPLES } from "../synth";

withoutStackTraces(); // one synthesis per stack file: as fast as the plan command

describe("plans of the shipped stacks", () => {
  let docs: PlanDocument[] = [];
  beforeAll(async () => {
    docs = await shippedPlans();
  });

  it("covers every stack file", () => expect(docs.map((d) => d.stack)).toStrictEqual(stackNames()));

  it("a plan that used an example config value says so, key by key; dev uses none", () => {
    for (const d of docs) {
      const said = d.warnings.filter((w) => w.includes("this plan used the example value"));
      const want = Object.keys(STACK_EXAMPLES[d.stack] ?? {});
      assert.deepEqual(said.map((w) => w.split(" ")[0]), want, d.stack);
      for (const line of said) {
        assert.match(line, new RegExp(`^realtime-chat:\\w+ is not in Pulumi\\.${d.stack.replace(/\./g, "\\.")}\\.yaml \\(an operator sets it before deploying\\); this plan used the example value `));
        assert.ok(renderText(d).includes(line), "the text plan prints it");
      }
      if (d.stack === "dev") {
        assert.deepEqual(said, [], d.stack);
        assert.ok(!renderMarkdown(d).includes("example value"), d.stack);
      } else {
        // production stacks need TLS and an alarm subscription from the operator (README, "Deploying")
        for (const key of ["domainName", "hostedZoneId", "alarmEmail"]) {
          assert.match(renderMarkdown(d), new RegExp(`> \`realtime-chat:${key}\` is set by an operator before deploying; this plan used the example value`));
        }
      }
      if (d.stack.endsWith("-dr")) {
        assert.match(renderMarkdown(d), /> `realtime-chat:restoreSnapshotId` is set by an operator before deploying; this plan used the example value `arn:aws:rds:us-west-2:/);
      }
    }
  });

  it("says which zones the stack spans and that their IDs come from the offline mock account", () => {
    for (const d of docs) {
      expect(d.zones?.from).toBe("mock account");
      expect(d.zones!.names.length).toBeGreaterThanOrEqual(2);
      expect(d.zones!.zoneIds.every((id) => /^[a-z]+\d-az\d$/.test(id))).toBe(true);
      const line = `Zones: ${d.zones!.names.map((n, i) => `${n} (${d.zones!.zoneIds[i]})`).join(", ")}. Zone IDs from the offline mock account`;
      expect(renderText(d)).toContain(line);
      expect(renderMarkdown(d)).toContain(`> ${line}`);
    }
    expect(docs.find((d) => d.stack === "dev")!.zones).toStrictEqual({ names: ["us-east-1a", "us-east-1b"], zoneIds: ["use1-az1", "use1-az2"], from: "mock account" });
  });

  it("every stack passes every mandatory rule", () => {
    for (const d of docs) {
      const mandatory = d.policy.violations.filter((v) => v.severity === "mandatory");
      assert.deepEqual(mandatory, [], `${d.stack}: ${mandatory.map((v) => `${v.policy} ${v.resource}: ${v.message}`).join("; ")}`);
    }
  });

  it("every stack passes the preflight: 0 values AWS would refuse", () => {
    for (const d of docs) {
      expect({ stack: d.stack, findings: d.preflight.findings.map((f) => `${f.resource} ${f.field}: ${f.message}`) }).toStrictEqual({ stack: d.stack, findings: [] });
      expect(d.preflight.errors).toBe(0);
      expect(d.preflight.rules.fieldRules).toBeGreaterThan(60);
    }
  });

  it("every custom resource type of every stack has a preflight rule or is listed as having nothing to check", () => {
    const missing = [...new Set(docs.flatMap((d) => typesWithoutRules(d.resources)))].sort();
    expect(missing).toStrictEqual([]);
  });

  it("the preflight reads the synthesized stacks: an SG rule description with `->` in a real plan is an error", () => {
    const dev = docs.find((d) => d.stack === "dev")!;
    const broken = dev.resources.map((r) => (r.name === "api-to-db-proxy-in" || r.name === "api-to-db-in" ? { ...r, inputs: { ...r.inputs, description: "api -> db proxy" } } : r));
    expect(preflight(broken).map((f) => `${f.resource}: ${f.message}`)).toStrictEqual([
      expect.stringMatching(/^aws:vpc\/securityGroupIngressRule:SecurityGroupIngressRule::api-to-db(-proxy)?-in: description "api -> db proxy" contains ">"/),
    ]);
  });

  it("shows the preflight and the quotas in text, Markdown and JSON", () => {
    for (const d of docs) {
      expect(renderText(d)).toMatch(/\nPreflight: 0 error\(s\) \(AWS API constraints: \d+ field rules over \d+ resource types, \d+ combination rules/);
      expect(renderText(d)).toMatch(new RegExp(`\\nQuotas: ${d.stack} in ${d.region}, this stack alone, against AWS's default quotas: within every default\\n +\\d+ / 5  VPCs per Region`));
      expect(renderMarkdown(d)).toMatch(/preflight passes/);
      expect(renderMarkdown(d)).toMatch(/<details><summary>Preflight: 0 error\(s\)<\/summary>/);
      const json = JSON.parse(JSON.stringify(d));
      expect(Object.keys(json.preflight).sort()).toStrictEqual(["errors", "findings", "rules"]);
      expect(json.quotas.stack.rows.map((r: any) => r.id)).toContain("elastic-ips");
    }
  });

  it("each stack alone is within AWS's default quotas; the four us-east-1 stacks in one account need 9 Elastic IPs (default 5)", () => {
    for (const d of docs) expect([d.stack, d.quotas.stack.warnings]).toStrictEqual([d.stack, []]);
    const reports = accountSetReports(docs.map((d) => ({ stack: d.stack, region: d.region, counts: d.quotas.counts })));
    const east = reports.find((r) => r.region === "us-east-1")!;
    expect(east.stacks.sort()).toStrictEqual(["100k-dau", "10k-dau", "1k-dau", "dev"]);
    const eips = east.rows.find((r) => r.id === "elastic-ips")!;
    expect([eips.used, eips.defaultQuota, eips.exceeded]).toStrictEqual([9, 5, true]);
    const vpcs = east.rows.find((r) => r.id === "vpcs")!;
    expect([vpcs.used, vpcs.defaultQuota]).toStrictEqual([5, 5]);
    expect(east.warnings.map((w) => w.split(":")[0])).toStrictEqual(["Elastic IP addresses per Region"]);
    // the README's account-layout table quotes these figures
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain(`| Elastic IP addresses per Region (${eips.defaultQuota}) | 1 (dev), 2 (1k-dau), 3 (others) | **${eips.used}: exceeds the default** |`);
    expect(readme).toContain(`| VPCs per Region, the default VPC included (${vpcs.defaultQuota}) | 2 | ${vpcs.used}: at the limit, no room for another |`);
  });

  it("every resource type is priced or known to be free", () => {
    for (const d of docs) assert.deepEqual(d.cost.unpricedTypes, [], `${d.stack}: add these to infra/plan/cost.ts`);
  });

  it("the JSON document has the agreed shape and no secret values", () => {
    for (const d of docs) {
      assert.ok(d.project && d.region && d.resources.length > 0 && d.cost.monthlyUsd > 0, d.stack);
      for (const r of d.resources) assert.deepEqual(Object.keys(r).filter((k) => !["type", "name", "parent", "inputs", "component", "custom", "protect"].includes(k)), []);
      for (const i of d.cost.items) assert.ok(i.name && i.type && typeof i.monthlyUsd === "number" && i.basis, JSON.stringify(i));
      const text = JSON.stringify(d);
      assert.ok(!text.includes("mock-secret-value"), `${d.stack}: a secure config value leaked`);
      for (const v of d.resources.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion")) {
        assert.equal(v.inputs.secretString, "[secret]", `${d.stack} ${v.name}`);
      }
    }
  });

  it("monthly cost grows with the tier", () => {
    const order = ["dev", "1k-dau", "10k-dau", "100k-dau"].map((s) => docs.find((d) => d.stack === s)!.cost.monthlyUsd);
    for (let i = 1; i < order.length; i++) assert.ok(order[i]! > order[i - 1]!, `tier costs ${order.join(" < ")}`);
  });

  it(`README.md's table between ${START} and ${END} is current (npm run plan:readme)`, () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    assert.equal(withTable(readme, costTable(docs)), readme);
  });

  it("renders every stack; the primary stacks' Markdown bodies together fit one PR comment, each DR stack's its own", () => {
    let total = 0;
    for (const d of docs) {
      const md = renderMarkdown(d);
      assert.match(md, new RegExp(`### Plan for \`${d.stack}\``));
      assert.match(renderText(d), /Estimated monthly cost: \$/);
      if (d.stack.endsWith("-dr")) assert.ok(md.length < 65_000, `Markdown of ${d.stack} is ${md.length} characters; GitHub comments stop at 65,536`);
      else total += md.length;
    }
    assert.ok(total < 65_000, `Markdown of the primary stacks is ${total} characters; GitHub comments stop at 65,536`);
  });
});
