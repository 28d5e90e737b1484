/**
 * The plan of every shipped stack (each synthesized once, in this process): every mandatory policy passes,
 * every resource type is priced or known to be free, no secret value appears, costs grow with the tier,
 * the README cost table is current, and the PR comment fits GitHub's limit.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PlanDocument } from "./model";
import { costTable, END, shippedPlans, START, withTable } from "./readme";
import { renderMarkdown, renderText } from "./render";
import { ROOT, stackNames, withoutStackTraces } from "./sources";
import { STACK_EXAMPLES } from "../synth";

withoutStackTraces(); // five syntheses: as fast as the plan command

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
      if (d.stack === "10k-dau-dr") {
        assert.match(renderMarkdown(d), /> `realtime-chat:restoreSnapshotId` is set by an operator before deploying; this plan used the example value `arn:aws:rds:us-west-2:/);
      }
    }
  });

  it("every stack passes every mandatory rule", () => {
    for (const d of docs) {
      const mandatory = d.policy.violations.filter((v) => v.severity === "mandatory");
      assert.deepEqual(mandatory, [], `${d.stack}: ${mandatory.map((v) => `${v.policy} ${v.resource}: ${v.message}`).join("; ")}`);
    }
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

  it("renders every stack; all Markdown bodies together fit one PR comment", () => {
    let total = 0;
    for (const d of docs) {
      const md = renderMarkdown(d);
      assert.match(md, new RegExp(`### Plan for \`${d.stack}\``));
      assert.match(renderText(d), /Estimated monthly cost: \$/);
      total += md.length;
    }
    assert.ok(total < 65_000, `Markdown of all stacks is ${total} characters; GitHub comments stop at 65,536`);
  });
});
