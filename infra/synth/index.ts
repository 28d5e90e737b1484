/**
 * Synth harness: runs the stack program in-process under Pulumi's mock runtime and returns what it
 * registered. No CLI, no AWS, no provider plugins.
 *
 *   const r = await synthesize("dev");                      // from Pulumi.dev.yaml
 *   const p = await synthesize("dev", { preview: true });   // unknown computed values, like `pulumi preview`
 *   const o = await synthesize("dev", { configOverrides: { "realtime-chat:certificateArn": "arn:..." } });
 *   const c = await synthesizeInChild("10k-dau");           // same result, in a fresh Node process
 *
 * Result (`SynthResult`): `{ stack, project, region, resources, outputs, secretOutputs, warnings }`;
 * each resource is `{ type, name, urn, parent, custom, inputs, options: { protect, retainOnDelete,
 * ignoreChanges, provider, dependsOn, deleteBeforeReplace, customTimeouts } }` in registration order. Values unknown during a preview are the
 * string `UNKNOWN`. Pulumi's runtime state is per process: run one synthesis at a time per process
 * (`synthesize` serializes calls) and use `synthesizeInChild` to get JSON from a separate process.
 *
 * Stacks that need an operator's input before they can deploy (the DR stack's recovery point; every production
 * stack's TLS keys and alarm subscription) leave those keys out of their stack file, so the real program
 * refuses to run until they are set. The harness fills such keys
 * from `STACK_EXAMPLES` (only when the stack file lacks them; `configOverrides` still win, and
 * `{ examples: false }` turns the table off) and lists what it filled in `examplesUsed`; the plan tool
 * prints that list, so nobody mistakes an example value for the deployed one.
 *
 * The program's one lookup, the account's zones, is answered by the mock account (`MOCK_ACCOUNT_ZONES` in
 * ./mocks.ts, or `{ accountZones: { "us-east-1a": "use1-az1", ... } }`); the result's `mockAccountZones` says
 * which map was used.
 *
 * Helpers: `promiseOf(output)` resolves an Output (undefined when unknown), `byType`/`find`/`one` query a
 * result, `loadStackFile(stack)` reads a stack file's flattened config.
 */
import * as pulumi from "@pulumi/pulumi";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { loadStackConfig } from "../config/load";
import { buildStack } from "../platform";
import { computedState, invoke, mockAccountZones } from "./mocks";
import type { MockContext } from "./mocks";

const GET_AVAILABILITY_ZONES = "aws:index/getAvailabilityZones:getAvailabilityZones";

export const REPO_ROOT = resolve(__dirname, "..", "..");
export const UNKNOWN = "<unknown>";

export interface SynthResource {
  type: string;
  name: string;
  urn: string;
  parent: string | undefined;
  custom: boolean;
  inputs: Record<string, any>;
  options: {
    protect: boolean;
    retainOnDelete: boolean;
    ignoreChanges: string[];
    provider: string | undefined;
    dependsOn: string[];
    /** Delete the old resource before creating its replacement (fixed physical names). */
    deleteBeforeReplace: boolean;
    /** `customTimeouts` given (Go duration strings such as "90m"); empty when none. */
    customTimeouts: { create?: string; update?: string; delete?: string };
  };
}

function timeoutsOf(t: { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined): SynthResource["options"]["customTimeouts"] {
  if (!t) return {};
  const out: SynthResource["options"]["customTimeouts"] = {};
  if (t.getCreate()) out.create = t.getCreate();
  if (t.getUpdate()) out.update = t.getUpdate();
  if (t.getDelete()) out.delete = t.getDelete();
  return out;
}

export interface SynthResult {
  stack: string;
  project: string;
  region: string;
  preview: boolean;
  resources: SynthResource[];
  outputs: Record<string, any>;
  /** Names of outputs that are secrets. */
  secretOutputs: string[];
  /** Messages passed to `pulumi.log.warn` during the run. */
  warnings: string[];
  /** Config keys the harness filled from `STACK_EXAMPLES` (not in the stack file), with the values used. */
  examplesUsed: Record<string, unknown>;
  /**
   * The mock account's zone map (name -> zone ID) the program's `getAvailabilityZones` lookup was answered
   * with; absent when the program made no such lookup. Not the target account's: a real account maps names
   * to other IDs.
   */
  mockAccountZones?: Record<string, string>;
}

/**
 * Example values for config keys an operator must set before deploying a stack; used by tests and the plan
 * tool only. Realistic in shape (the validators accept them) but not real: the account id is AWS's
 * documentation account, the backup job id and the hosted zone ids are made up, and the names use the
 * reserved `example.com` domain. Production tiers require TLS (`domainName` + `hostedZoneId`, or
 * `certificateArn`) and a critical-alarm subscription (`alarmEmail` or `alarmHttpsEndpoint`); their stack
 * files leave those to the operator (README, "Deploying").
 */
const PRODUCTION_EXAMPLES = (site: string) => ({
  "realtime-chat:domainName": `${site}.example.com`,
  "realtime-chat:hostedZoneId": "Z0EXAMPLE0HOSTEDZONE1",
  "realtime-chat:alarmEmail": "oncall@example.com",
});
export const STACK_EXAMPLES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  "1k-dau": PRODUCTION_EXAMPLES("chat-1k"),
  "1k-dau-dr": {
    "realtime-chat:restoreSnapshotId": "arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-8a1d4c2e-7f3b-4e9a-b6c5-2d0e9f8a7b13",
    ...PRODUCTION_EXAMPLES("chat-1k"),
  },
  "10k-dau": PRODUCTION_EXAMPLES("chat-10k"),
  "100k-dau": PRODUCTION_EXAMPLES("chat"),
  "10k-dau-dr": {
    "realtime-chat:restoreSnapshotId": "arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-3f9c2a6e-5b1d-4c7a-9e2f-0d8b7a6c5e41",
    ...PRODUCTION_EXAMPLES("chat-10k"),
  },
  "100k-dau-dr": {
    "realtime-chat:restoreSnapshotId": "arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:job-c47e1b9d-2a6f-4d38-8e5b-91f0a3c6d2e7",
    ...PRODUCTION_EXAMPLES("chat"),
  },
};

/**
 * The stack file's flattened config with the `STACK_EXAMPLES` values it lacks filled in (what the harness
 * synthesizes): for tests that validate a shipped stack's config without synthesizing it.
 */
export function stackConfigWithExamples(stack: string, rootDir = REPO_ROOT): Record<string, unknown> {
  const { config } = loadStackFile(stack, rootDir);
  return { ...(STACK_EXAMPLES[stack] ?? {}), ...config };
}

export interface SynthOptions {
  /** Run as a preview: computed attributes are unknown. */
  preview?: boolean;
  /** Config entries (namespaced keys) set on top of the stack file; `undefined` removes a key. */
  configOverrides?: Record<string, unknown>;
  /** Program to run instead of `buildPlatform(loadStackConfig())`. Returns the stack outputs. */
  program?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Folder holding Pulumi.yaml and the stack files (default: the repository root). */
  rootDir?: string;
  /** Fill keys the stack file lacks from `STACK_EXAMPLES` (default true). */
  examples?: boolean;
  /** The mock account's available zones (name -> zone ID) in the stack's region; default `MOCK_ACCOUNT_ZONES`. */
  accountZones?: Record<string, string>;
}

/** Resolves an Output (or plain value); `undefined` when the value is unknown (preview). */
export async function promiseOf<T>(value: pulumi.Input<T>): Promise<T | undefined> {
  const out = pulumi.output(value) as unknown as { isKnown: Promise<boolean>; promise(withUnknowns?: boolean): Promise<T> };
  const [known, v] = await Promise.all([out.isKnown, out.promise(true)]);
  return known ? v : undefined;
}

/** Flattened `config:` of `Pulumi.<stack>.yaml` (values as in YAML) and the project name. */
export function loadStackFile(stack: string, rootDir = REPO_ROOT): { project: string; config: Record<string, unknown> } {
  const project = parseYaml(readFileSync(join(rootDir, "Pulumi.yaml"), "utf8"))?.name;
  if (typeof project !== "string") throw new Error(`synth: ${join(rootDir, "Pulumi.yaml")} has no project name`);
  const file = join(rootDir, `Pulumi.${stack}.yaml`);
  let doc: any;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`synth: cannot read stack file ${file}: ${(err as Error).message}`);
  }
  return { project, config: { ...(doc?.config ?? {}) } };
}

function toConfigString(v: unknown): string {
  if (v && typeof v === "object" && "secure" in (v as object)) return "mock-secret-value";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function clean(v: unknown): any {
  if (pulumi.Output.isInstance(v)) return UNKNOWN;
  if (v === null || v === undefined) return v;
  if ((pulumi as any).isUnknown?.(v)) return UNKNOWN;
  if (Array.isArray(v)) return v.map(clean);
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      if (v.constructor?.name === "Unknown") return UNKNOWN;
      // assets/archives and resources: keep a readable marker
      const ctor = v.constructor?.name ?? "object";
      return `<${ctor}>`;
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x)]));
  }
  return v;
}

let queue: Promise<unknown> = Promise.resolve();

/** Synthesizes one stack in this process (calls are serialized). */
export function synthesize(stack: string, opts: SynthOptions = {}): Promise<SynthResult> {
  const run = queue.then(() => synthesizeNow(stack, opts));
  queue = run.catch(() => undefined);
  return run;
}

/**
 * The Pulumi SDK records a stack trace for every promise and resource it creates; with tsx's source maps on,
 * formatting those traces is most of a synthesis (measured: about 6x slower). During a synthesis the harness
 * turns source-mapped traces off and keeps none for plain errors (messages are unchanged); it restores both
 * afterwards, so test failures keep full traces. Set SYNTH_STACK_TRACES=1 to keep traces while debugging.
 */
async function synthesizeNow(stack: string, opts: SynthOptions): Promise<SynthResult> {
  const saved = { limit: Error.stackTraceLimit, maps: process.sourceMapsEnabled };
  if (process.env.SYNTH_STACK_TRACES !== "1") {
    process.setSourceMapsEnabled(false);
    Error.stackTraceLimit = 0;
  }
  try {
    return await synthesizeUnderMocks(stack, opts);
  } finally {
    Error.stackTraceLimit = saved.limit;
    process.setSourceMapsEnabled(saved.maps);
  }
}

async function synthesizeUnderMocks(stack: string, opts: SynthOptions): Promise<SynthResult> {
  const { project, config } = loadStackFile(stack, opts.rootDir);
  const examplesUsed: Record<string, unknown> = {};
  if (opts.examples ?? true) {
    for (const [k, v] of Object.entries(STACK_EXAMPLES[stack] ?? {})) {
      if (k in config || (opts.configOverrides && k in opts.configOverrides)) continue;
      config[k] = v;
      examplesUsed[k] = v;
    }
  }
  for (const [k, v] of Object.entries(opts.configOverrides ?? {})) {
    if (v === undefined) delete config[k];
    else config[k] = v;
  }
  const region = typeof config["aws:region"] === "string" ? (config["aws:region"] as string) : "us-east-1";
  const preview = opts.preview ?? false;
  const ctx: MockContext = { region, zones: opts.accountZones };
  let zonesAnswered: Record<string, string> | undefined;

  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, toConfigString(v)])));
  await pulumi.runtime.setMocks(
    {
      // In a preview nothing is computed yet: ids and provider-computed attributes stay unknown, as in
      // `pulumi preview` for new resources. Resources created inside `apply` then go missing (tested).
      newResource: (args) =>
        preview ? { id: undefined, state: { ...args.inputs } } : computedState(args.type, args.name, args.inputs, ctx),
      call: (args) => {
        const answer = invoke(args.token, args.inputs, ctx);
        if (args.token === GET_AVAILABILITY_ZONES) zonesAnswered = mockAccountZones(ctx);
        return answer;
      },
    },
    project,
    stack,
    preview,
  );

  const resources: SynthResource[] = [];
  let pending = 0;
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: unknown, resp: unknown) => void) => {
    const parent = req.getParent() || undefined;
    resources.push({
      type: req.getType(),
      name: req.getName(),
      urn: monitor.newUrn(parent, req.getType(), req.getName()),
      parent,
      custom: req.getCustom(),
      inputs: clean(pulumi.runtime.deserializeProperties(req.getObject(), true)),
      options: {
        protect: req.getProtect() ?? false,
        retainOnDelete: req.getRetainondelete() ?? false,
        ignoreChanges: req.getIgnorechangesList(),
        provider: req.getProvider() || undefined,
        dependsOn: req.getDependenciesList(),
        deleteBeforeReplace: req.getDeletebeforereplace() ?? false,
        customTimeouts: timeoutsOf(req.getCustomtimeouts()),
      },
    });
    pending++;
    return register(req, (err: unknown, resp: unknown) => {
      pending--;
      callback(err, resp);
    });
  };

  const warnings: string[] = [];
  const log = pulumi.log as any;
  const warn = log.warn;
  log.warn = async (msg: string) => {
    warnings.push(msg);
  };
  try {
    const program = opts.program ?? defaultProgram;
    const exported = (await program()) ?? {};
    const outputs: Record<string, any> = {};
    const secretOutputs: string[] = [];
    for (const [k, v] of Object.entries(exported)) {
      const value = await promiseOf(v as pulumi.Input<unknown>);
      outputs[k] = value === undefined ? (preview ? UNKNOWN : undefined) : clean(value);
      if (pulumi.Output.isInstance(v) && (await pulumi.isSecret(v as pulumi.Output<unknown>))) secretOutputs.push(k);
    }
    await settle(() => pending);
    return { stack, project, region, preview, resources, outputs, secretOutputs, warnings, examplesUsed, ...(zonesAnswered ? { mockAccountZones: zonesAnswered } : {}) };
  } finally {
    log.warn = warn;
  }
}

/** Waits until no registration is in flight and none starts for a few turns of the event loop. */
async function settle(pending: () => number): Promise<void> {
  let quiet = 0;
  while (quiet < 5) {
    await new Promise((r) => setTimeout(r, 1));
    quiet = pending() === 0 ? quiet + 1 : 0;
  }
}

async function defaultProgram(): Promise<Record<string, unknown>> {
  return (await buildStack(loadStackConfig())) as unknown as Record<string, unknown>;
}

/** Synthesizes in a fresh Node process (`infra/synth/cli.ts`) and returns the parsed result. */
export function synthesizeInChild(stack: string, opts: Omit<SynthOptions, "program" | "accountZones"> = {}): Promise<SynthResult> {
  const args: string[] = [];
  if (opts.preview) args.push("--preview");
  if (opts.configOverrides) args.push("--config", JSON.stringify(opts.configOverrides));
  if (opts.rootDir) args.push("--root", opts.rootDir);
  if (opts.examples === false) args.push("--no-examples");
  return runSynthCli(REPO_ROOT, stack, args, (code, output) => new Error(`synth of ${stack} in a child process failed (exit ${code}):\n${output}`));
}

/**
 * Runs the synth CLI of the checkout at `root` (from `root`, so that checkout's program) in a child process
 * and parses the result after the marker. When the process fails or prints no result, rejects with
 * `failure(exit code, trimmed stderr or else stdout)`.
 */
export function runSynthCli(root: string, stack: string, args: string[], failure: (code: number | null, output: string) => Error): Promise<SynthResult> {
  return new Promise((resolvePromise, reject) => {
    const cli = join(root, "infra", "synth", "cli.ts");
    const child = spawn(process.execPath, ["--import", "tsx", cli, stack, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const marker = out.lastIndexOf(CHILD_MARKER);
      if (code !== 0 || marker < 0) reject(failure(code, err.trim() || out.trim()));
      else resolvePromise(JSON.parse(out.slice(marker + CHILD_MARKER.length)));
    });
  });
}

/** Separates the JSON result from anything else the program printed. */
export const CHILD_MARKER = "\n@@synth-result@@\n";

/** Query helpers. */
export function byType(r: SynthResult, type: string): SynthResource[] {
  return r.resources.filter((x) => x.type === type);
}

export function find(r: SynthResult, type: string, name: string): SynthResource | undefined {
  return r.resources.find((x) => x.type === type && x.name === name);
}

export function one(r: SynthResult, type: string, name: string): SynthResource {
  const found = find(r, type, name);
  if (!found) {
    const names = byType(r, type).map((x) => x.name);
    throw new Error(`no ${type} named ${name}; registered: ${names.join(", ") || "none"}`);
  }
  return found;
}

/** Sorted `type::name` inventory. */
export function inventory(r: SynthResult): string[] {
  return r.resources.map((x) => `${x.type}::${x.name}`).sort();
}
