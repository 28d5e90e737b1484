/**
 * Offline plan of a stack: resources, monthly cost, policy findings, and optionally the changes from
 * another stack, a saved plan or a git ref. Needs no cloud credentials and no Pulumi CLI.
 *
 *   npm run plan -- --stack 10k-dau                     # readable tree, cost, policy
 *   npm run plan -- --stack 10k-dau --json > plan.json  # one JSON document
 *   npm run plan -- --stack 10k-dau --markdown --diff origin/main   # PR comment body
 *   npm run plan -- --stack 10k-dau --diff 1k-dau | --diff plan.json | --diff <git ref>
 *   npm run plan -- --stack 10k-dau --assume natGbPerDauPerMonth=0.02
 *   npm run plan -- --stack 10k-dau --quotas-for dev,1k-dau,10k-dau,100k-dau   # + quotas of those stacks in one account
 *
 * Every plan shows the preflight (AWS API constraints, infra/components/preflight.ts) and the stack's quota
 * counts against AWS's default quotas (infra/plan/quotas.ts). `--quotas-for` adds the counts of a set of stacks
 * deployed to one account (one table per region); without `--stack`, the first stack of the list is planned.
 *
 * Exit codes: 0 done, 2 bad arguments (one line on stderr), 1 the synthesis failed, 4 the preflight found
 * values AWS would refuse (the plan is still printed). `--fail-on-mandatory` also exits 3 when a mandatory
 * policy is violated (for CI). Exceeded default quotas are warnings (exit 0): the quota may have been raised.
 */
import { DEFAULT_ASSUMPTIONS, parseAssumptions } from "./assumptions";
import type { Assumptions } from "./assumptions";
import { diffPlans } from "./diff";
import { assertPlanDocument } from "./model";
import type { PlanDocument } from "./model";
import { accountSetReports } from "./quotas";
import { renderMarkdown, renderText } from "./render";
import { planAtRef, planOfStack, readPlanFile, resolveOther, stackNames, withoutStackTraces } from "./sources";
import type { Source } from "./sources";

export const USAGE = "usage: npm run plan -- --stack <name> [--json | --markdown] [--diff <stack | plan.json | git ref>] [--assume name=value]... [--quotas-for <stack>,<stack>...] [--fail-on-mandatory]";

export interface PlanArgs {
  stack: string;
  format: "text" | "json" | "markdown";
  other: Source | undefined;
  assumptions: Assumptions;
  failOnMandatory: boolean;
  /** Stacks counted together against one account's default quotas (`--quotas-for`). */
  quotasFor: string[] | undefined;
}

export class ArgumentError extends Error {}

/** Parses and checks the arguments; throws ArgumentError with a one-line message. */
export function parseArgs(argv: string[]): PlanArgs | "help" {
  let stack: string | undefined;
  let format: PlanArgs["format"] = "text";
  let other: string | undefined;
  let failOnMandatory = false;
  let quotasFor: string[] | undefined;
  const assume: string[] = [];
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new ArgumentError(`${flag}: missing value; ${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help" || a === "-h") return "help";
    else if (a === "--stack") stack = value(i++, a);
    else if (a === "--json" || a === "--markdown") {
      const f = a.slice(2) as PlanArgs["format"];
      if (format !== "text" && format !== f) throw new ArgumentError("--json and --markdown are exclusive; pick one");
      format = f;
    } else if (a === "--diff") other = value(i++, a);
    else if (a === "--assume") assume.push(value(i++, a));
    else if (a === "--fail-on-mandatory") failOnMandatory = true;
    else if (a === "--quotas-for") quotasFor = value(i++, a).split(",").map((x) => x.trim()).filter(Boolean);
    else if (!a.startsWith("-") && stack === undefined) stack = a;
    else throw new ArgumentError(`unknown argument ${a}; ${USAGE}`);
  }
  for (const q of quotasFor ?? []) {
    if (!stackNames().includes(q)) throw new ArgumentError(`--quotas-for: unknown stack ${q}: no Pulumi.${q}.yaml; stacks: ${stackNames().join(", ")}`);
  }
  if (quotasFor && quotasFor.length === 0) throw new ArgumentError(`--quotas-for: no stack named; give a comma-separated list such as ${stackNames().join(",")}`);
  stack ??= quotasFor?.[0];
  if (!stack) throw new ArgumentError(`missing --stack; stacks: ${stackNames().join(", ")}`);
  if (!stackNames().includes(stack)) throw new ArgumentError(`unknown stack ${stack}: no Pulumi.${stack}.yaml; stacks: ${stackNames().join(", ")}`);
  let assumptions: Assumptions = DEFAULT_ASSUMPTIONS;
  let source: Source | undefined;
  try {
    assumptions = parseAssumptions(assume);
    source = other === undefined ? undefined : resolveOther(other);
  } catch (err) {
    throw new ArgumentError((err as Error).message);
  }
  return { stack, format, other: source, assumptions, failOnMandatory, quotasFor };
}

/** Builds the plan (and the diff) and renders it. */
export async function runPlan(args: PlanArgs): Promise<{ text: string; doc: PlanDocument }> {
  let base: Promise<PlanDocument> | undefined;
  const o = args.other;
  if (o?.kind === "stack") base = planOfStack(o.stack, args.assumptions, true);
  else if (o?.kind === "ref") base = planAtRef(o.commit, o.ref, args.stack, args.assumptions);
  else if (o?.kind === "file") {
    const doc = readPlanFile(o.path);
    try {
      assertPlanDocument(doc, `--diff ${o.path}`);
    } catch (err) {
      throw new ArgumentError((err as Error).message);
    }
    base = Promise.resolve(doc);
  }
  // the other side runs in a child process while this one synthesizes here
  const [head, before] = await Promise.all([planOfStack(args.stack, args.assumptions), base]);
  const diff = before && o ? diffPlans(before, head, { base: o.label, head: `stack ${head.stack} (this checkout)` }) : undefined;
  if (args.quotasFor) {
    // the other stacks of the set, one after another in this process (synthesis is serialized anyway)
    const perStack = [];
    for (const s of args.quotasFor) {
      const d = s === head.stack ? head : await planOfStack(s, args.assumptions);
      perStack.push({ stack: s, region: d.region, counts: d.quotas.counts });
    }
    head.quotas.accountSet = accountSetReports(perStack);
  }
  const text =
    args.format === "json"
      ? JSON.stringify(diff ? { ...head, diff } : head, null, 2) + "\n"
      : args.format === "markdown"
        ? renderMarkdown(head, diff)
        : renderText(head, diff);
  return { text, doc: head };
}

/**
 * Exit status of a printed plan: 4 when the preflight found values AWS would refuse (always: such a stack
 * cannot deploy), 3 when `--fail-on-mandatory` and a mandatory policy is violated, else 0.
 */
export function exitStatus(doc: Pick<PlanDocument, "preflight" | "policy">, failOnMandatory: boolean): { code: number; message?: string } {
  if (doc.preflight.errors > 0) return { code: 4, message: `preflight: ${doc.preflight.errors} value(s) AWS would refuse; see the Preflight section` };
  if (failOnMandatory && doc.policy.mandatory > 0) return { code: 3, message: `policy: ${doc.policy.mandatory} mandatory violation(s)` };
  return { code: 0 };
}

async function main(): Promise<number> {
  let args: PlanArgs | "help";
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`plan: ${(err as Error).message}\n`);
    return 2;
  }
  if (args === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  withoutStackTraces();
  try {
    const { text, doc } = await runPlan(args);
    process.stdout.write(text);
    // for bench:plan: the process' own CPU time, which a loaded machine does not inflate like wall time
    if (process.env.PLAN_REPORT_CPU) {
      const u = process.cpuUsage();
      process.stderr.write(`plan: cpu ${Math.round((u.user + u.system) / 1000)} ms\n`);
    }
    const { code, message } = exitStatus(doc, args.failOnMandatory);
    if (message) process.stderr.write(`plan: ${message}\n`);
    return code;
  } catch (err) {
    const bad = err instanceof ArgumentError || /^--diff /.test((err as Error).message);
    process.stderr.write(`plan: ${bad ? (err as Error).message.split("\n")[0] : (err as Error).message}\n`);
    return bad ? 2 : 1;
  }
}

if (require.main === module) {
  main().then((code) => {
    // flush stdout before leaving (large JSON documents through a pipe)
    process.stdout.write("", () => process.exit(code));
  });
}
