/**
 * Where a plan comes from: a stack of this checkout, a saved `--json` file, or the same stack at a git ref.
 * Argument checks here load nothing heavy, so a bad argument fails in a fraction of a second.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Assumptions } from "./assumptions";
import { buildPlan } from "./model";
import type { PlanDocument } from "./model";

export const ROOT = resolve(__dirname, "..", "..");

/**
 * Turns off stack traces for this process and the synth processes it starts. Pulumi records a stack trace
 * for every resource and output promise; with tsx's source maps that is most of a synthesis' CPU time
 * (measured: ~1.9 s -> ~0.6 s per warm synthesis of the largest stack). Errors keep their messages, which
 * is all the plan prints. Set PLAN_STACK_TRACES=1 to keep them when debugging a failing program.
 */
export function withoutStackTraces(): void {
  if (process.env.PLAN_STACK_TRACES) return;
  Error.stackTraceLimit = 0;
  if (!/--stack-trace-limit/.test(process.env.NODE_OPTIONS ?? "")) {
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --stack-trace-limit=0`.trim();
  }
}

/** Stack names of a checkout (`Pulumi.<name>.yaml`). */
export function stackNames(root = ROOT): string[] {
  return readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export type Source =
  | { kind: "stack"; stack: string; label: string }
  | { kind: "file"; path: string; label: string }
  | { kind: "ref"; ref: string; commit: string; label: string };

function gitCommit(ref: string, root: string): string | undefined {
  if (ref.startsWith("-")) return undefined;
  const r = spawnSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd: root, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Resolves `--diff <other>`: a stack name, then a readable file, then a git ref. Throws a one-line error. */
export function resolveOther(other: string, root = ROOT): Source {
  if (stackNames(root).includes(other)) return { kind: "stack", stack: other, label: `stack ${other}` };
  if (existsSync(other)) {
    if (!statSync(other).isFile()) throw new Error(`--diff ${other}: is a directory, not a plan JSON file`);
    return { kind: "file", path: other, label: other };
  }
  const commit = gitCommit(other, root);
  if (commit) return { kind: "ref", ref: other, commit, label: `${other} (${commit.slice(0, 8)})` };
  throw new Error(`--diff ${other}: not a stack (${stackNames(root).join(", ")}), a readable plan JSON file, or a git ref`);
}

export function readPlanFile(path: string): PlanDocument {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`--diff ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`--diff ${path}: not JSON; write a plan file with npm run plan -- --stack <name> --json > plan.json`);
  }
  return doc as PlanDocument;
}

/**
 * Image tag the plan gives built images when the stack file sets none. Without it the tag comes from the
 * git state (`git-<commit>[-dirty-<time>]`): every plan would differ in its task definitions, and a tree
 * from `git archive` has no commit at all. Pinning it makes the plan show infrastructure changes only.
 */
export const PLAN_IMAGE_TAG = "plan";

/** Config overrides for a plan of a stack whose flattened config is `config`. */
export function planOverrides(config: Record<string, unknown>): Record<string, unknown> {
  return "realtime-chat:imageTag" in config ? {} : { "realtime-chat:imageTag": PLAN_IMAGE_TAG };
}

/** Runs a checkout's own synth CLI in a child process (that checkout's program, this checkout's node_modules). */
function synthChild(root: string, stack: string, overrides: Record<string, unknown>): Promise<any> {
  if (!existsSync(join(root, "infra", "synth", "cli.ts"))) {
    return Promise.reject(new Error(`${root} has no infra/synth/cli.ts; the ref predates the synth harness`));
  }
  return loadSynth().runSynthCli(root, stack, ["--config", JSON.stringify(overrides)], (code, output) => new Error(`synth of ${stack} failed (exit ${code}): ${output.split("\n")[0]}`));
}

/** Builds the plan of the same stack as it is at a git ref: `git archive` into a temp dir, synth there. */
export async function planAtRef(commit: string, ref: string, stack: string, assumptions: Assumptions, root = ROOT): Promise<PlanDocument> {
  const dir = mkdtempSync(join(tmpdir(), "plan-ref-"));
  try {
    const archive = spawnSync("sh", ["-c", `git archive --format=tar ${commit} | tar -x -C "${dir}"`], { cwd: root, encoding: "utf8" });
    if (archive.status !== 0) throw new Error(`--diff ${ref}: git archive failed: ${archive.stderr.trim().split("\n")[0]}`);
    if (!existsSync(join(dir, `Pulumi.${stack}.yaml`))) throw new Error(`--diff ${ref}: stack ${stack} does not exist at that ref`);
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
    const { loadStackFile } = loadSynth();
    const { config } = loadStackFile(stack, dir);
    const result = await synthChild(dir, stack, planOverrides(config));
    return buildPlan(result, { config, assumptions, rootDir: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The synth harness, loaded on first use (it loads @pulumi/aws: argument errors should not wait for it). */
function loadSynth(): typeof import("../synth") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("../synth");
}

/** Plan of a stack of this checkout; `inChild` runs the synthesis in a separate process. */
export async function planOfStack(stack: string, assumptions: Assumptions, inChild = false): Promise<PlanDocument> {
  const { loadStackFile, synthesize, synthesizeInChild } = loadSynth();
  const { config } = loadStackFile(stack);
  const configOverrides = planOverrides(config);
  const result = inChild ? await synthesizeInChild(stack, { configOverrides }) : await synthesize(stack, { configOverrides });
  return buildPlan(result, { config, assumptions, rootDir: ROOT });
}
