/**
 * The stack outputs table (infra/outputs.ts): each stack exports exactly the outputs the table promises for it,
 * and docs/OUTPUTS.md is the table rendered.
 */
import { readFileSync } from "node:fs";
import { hasDrPilotLight } from "./config/dr";
import { validateStackConfig } from "./config/load";
import { expectedOutputs, OUTPUTS_DOC_PATH, outputsDoc, STACK_OUTPUTS } from "./outputs";
import { stackConfigWithExamples, synthesize } from "./synth";

// a stack without DR copies, a primary with copies and a pilot light, a DR stack
const STACKS = ["dev", "10k-dau", "10k-dau-dr"];

describe.each(STACKS)("%s", (stack) => {
  it("exports exactly the outputs the table promises for it", async () => {
    const cfg = validateStackConfig(stackConfigWithExamples(stack), stack);
    const conditions = { drCopies: cfg.sizing.backup.crossRegionCopy, drStack: cfg.primaryEnv !== undefined, pilotLight: hasDrPilotLight(cfg) };
    const run = await synthesize(stack);
    expect(Object.keys(run.outputs).sort()).toStrictEqual(expectedOutputs(conditions).sort());
  }, 120_000);
});

describe("the outputs table", () => {
  it("expands per-service outputs over the catalogue and conditional ones only when they hold", () => {
    const none = expectedOutputs({});
    expect(none).toEqual(expect.arrayContaining(["apiServiceName", "realtimeServiceName", "workersServiceName", "apiTargetGroupArn", "realtimeTargetGroupArnSuffix"]));
    expect(none).not.toContain("workersTargetGroupArn");
    expect(none.filter((n) => n.startsWith("dr") && n !== "drRegion")).toStrictEqual([]);
    expect(expectedOutputs({ pilotLight: true })).toEqual(expect.arrayContaining(["drPilotLightVpcId", "drDbSubnetGroupName", "drRestoreSecurityGroupId"]));
    expect(Object.values(STACK_OUTPUTS).every((o) => o.meaning.length > 10)).toBe(true);
  });

  it("is what docs/OUTPUTS.md says (run `npm run docs:outputs` after changing it)", () => {
    expect(readFileSync(OUTPUTS_DOC_PATH, "utf8")).toBe(outputsDoc());
  });
});
