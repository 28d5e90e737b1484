/**
 * The plan document: what a stack creates, its outputs, its monthly cost and its policy findings, built from
 * a synth result (`infra/synth`). This is the `--json` output and the input of the renderers and the diff.
 * Secret values never appear: secret-looking inputs, secure config values and secret outputs are `[secret]`.
 */
import { TIERS } from "../config/tiers";
import type { TierName } from "../config/tiers";
import type { SynthResult } from "../synth";
import { computedState } from "../synth/mocks";
import { evaluate, severityFor, ALL_RULES } from "../policy/rules";
import type { PolicyResource, Violation } from "../policy/rules";
import { DEFAULT_ASSUMPTIONS } from "./assumptions";
import type { Assumptions } from "./assumptions";
import { AWSX_VPC, estimateCost } from "./cost";
import type { CostEstimate } from "./cost";
import { preflight, preflightRuleCount } from "../components/preflight";
import type { PreflightFinding } from "../components/preflight";
import { countQuotas, quotaReport } from "./quotas";
import { capacitySection } from "./capacity";
import type { CapacitySection } from "./capacity";
import { validateStackConfig } from "../config/load";
import type { QuotaCounts, QuotaReport } from "./quotas";

export const SECRET = "[secret]";
/** What the harness passes for `secure:` config values. */
const MOCK_SECRET_VALUE = "mock-secret-value";

export interface PlanResource {
  type: string;
  name: string;
  /** Name of the parent resource (component), undefined at the top. */
  parent: string | undefined;
  /** Name of the top-level component this resource belongs to. */
  component: string;
  custom: boolean;
  inputs: Record<string, any>;
  protect: boolean;
}

export interface PlanDocument {
  /** Format version of this document. */
  format: 1;
  stack: string;
  project: string;
  region: string;
  tier: string;
  dau: number;
  resources: PlanResource[];
  outputs: Record<string, any>;
  cost: CostEstimate;
  policy: {
    violations: Violation[];
    mandatory: number;
    advisory: number;
    rules: { name: string; description: string; severity: string }[];
  };
  /** AWS API constraints checked offline (infra/components/preflight.ts): every finding is an error. */
  preflight: {
    errors: number;
    findings: PreflightFinding[];
    rules: { types: number; fieldRules: number; combinationRules: number };
  };
  /**
   * Quota-bound resources against AWS's default quotas (infra/plan/quotas.ts): this stack alone in its
   * account and region, its raw counts (to add up with other stacks), and, with `--quotas-for`, a set of
   * stacks deployed to one account (one report per region).
   */
  quotas: { stack: QuotaReport; counts: QuotaCounts; accountSet?: QuotaReport[] };
  /** The tier's peak under the capacity model and each sized resource's utilisation at it (infra/plan/capacity.ts); absent in plans saved before it existed. */
  capacity?: CapacitySection;
  warnings: string[];
  /** Config keys the stack file leaves to an operator, filled with example values for this plan (see STACK_EXAMPLES). */
  examplesUsed?: Record<string, unknown>;
  /**
   * The zones the network spans, with the zone ID each has in the offline mock account that answered the
   * program's zone lookup (infra/synth/mocks.ts MOCK_ACCOUNT_ZONES): not the target account's IDs.
   */
  zones?: { names: string[]; zoneIds: string[]; from: "mock account" };
}

/** Input names whose values are secrets wherever they appear. */
const SECRET_KEYS = /^(password|masterPassword|authToken|secretString|secretBinary|privateKey|secretKey|secretAccessKey|token|result|bcryptHash)$/i;

/** Replaces secret values by `[secret]` (by key name and by the harness's secure config value). */
export function redact(value: unknown, keyName?: string): any {
  if (value === undefined || value === null) return value;
  if (keyName && SECRET_KEYS.test(keyName)) return SECRET;
  if (typeof value === "string") {
    if (!value.includes(MOCK_SECRET_VALUE)) return value;
    return value.split(MOCK_SECRET_VALUE).join(SECRET);
  }
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  return value;
}

export interface BuildOptions {
  /** Flattened stack config (`loadStackFile(stack).config`): tier and DR region. */
  config: Record<string, unknown>;
  assumptions?: Assumptions;
  /** Checkout the stack was synthesized from: its absolute path is shown as `.` (build contexts, files). */
  rootDir?: string;
}

/** Replaces an absolute directory by `.` in every string of a value. */
function relativePaths(value: unknown, dir: string | undefined): any {
  if (!dir) return value;
  if (typeof value === "string") return value.split(dir).join(".");
  if (Array.isArray(value)) return value.map((v) => relativePaths(v, dir));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relativePaths(v, dir)]));
  return value;
}

const lastName = (urn: string | undefined) => (urn ? urn.slice(urn.lastIndexOf("::") + 2) : undefined);

export function buildPlan(result: SynthResult, opts: BuildOptions): PlanDocument {
  const tier = String(opts.config["realtime-chat:tier"] ?? "dev");
  const dau = TIERS[tier as TierName]?.dau ?? 0;
  const drRegion = typeof opts.config["realtime-chat:drRegion"] === "string" ? (opts.config["realtime-chat:drRegion"] as string) : undefined;
  const assumptions = opts.assumptions ?? DEFAULT_ASSUMPTIONS;

  const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
  const componentOf = (urn: string): string => {
    let r = byUrn.get(urn);
    while (r?.parent && byUrn.has(r.parent)) r = byUrn.get(r.parent);
    return r?.name ?? lastName(urn) ?? "";
  };

  // ids and ARNs as the mocks compute them: the stack rules join resources on them
  const ctx = { region: result.region };
  // awsx's Vpc is a remote component: its outputs (subnet ids) come from the mocks like a custom resource's.
  const withState = (r: (typeof result.resources)[number]) => (r.custom || r.type === AWSX_VPC) && !result.preview;
  const enriched = result.resources.map((r) => {
    const state = withState(r) ? computedState(r.type, r.name, r.inputs, ctx) : undefined;
    return {
      r,
      id: r.custom ? state?.id : undefined,
      arn: typeof state?.state.arn === "string" ? (state.state.arn as string) : undefined,
      outputs: r.type === AWSX_VPC ? state?.state : undefined,
    };
  });

  const resources: PlanResource[] = result.resources.map((r) => ({
    type: r.type,
    name: r.name,
    parent: r.parent && byUrn.has(r.parent) ? byUrn.get(r.parent)!.name : undefined,
    component: componentOf(r.urn),
    custom: r.custom,
    inputs: relativePaths(redact(r.inputs), opts.rootDir),
    protect: r.options.protect,
  }));

  const policyInput: PolicyResource[] = enriched
    .filter((e) => e.r.custom || e.r.type === AWSX_VPC)
    .map((e) => ({ type: e.r.type, name: e.r.name, inputs: e.r.inputs, id: e.id, arn: e.arn, outputs: e.outputs }));
  const violations = evaluate(policyInput, { tier });
  // The example values the synthesis filled in (labelled in the output) make a production stack file validate here too.
  const capacity = capacityOf(result.stack, tier, { ...(result.examplesUsed ?? {}), ...opts.config });
  const cost = estimateCost(
    enriched.map((e) => ({ type: e.r.type, name: e.r.name, custom: e.r.custom, inputs: e.r.inputs, id: e.id, arn: e.arn })),
    { region: result.region, drRegion, dau, assumptions, traffic: capacity.traffic },
  );

  const findings = preflight(result.resources);
  // Quotas are per region: resources created through a provider for another region (the DR region's backup
  // vault and pilot light) do not count against this region's.
  const otherRegion = new Set(result.resources.filter((r) => r.type === "pulumi:providers:aws" && r.inputs.region !== undefined && r.inputs.region !== result.region).map((r) => r.urn));
  const inOtherRegion = (provider: string | undefined) => [...otherRegion].some((urn) => provider?.startsWith(`${urn}::`));
  const counts = countQuotas(enriched.filter((e) => !inOtherRegion(e.r.options.provider))
    .map((e) => ({ type: e.r.type, name: e.r.name, custom: e.r.custom, inputs: e.r.inputs, id: e.id })));
  const stackQuotas = quotaReport([result.stack], result.region, counts, { includeDefaultVpc: true });

  const outputs: Record<string, any> = {};
  for (const [k, v] of Object.entries(result.outputs)) outputs[k] = result.secretOutputs.includes(k) ? SECRET : redact(v, k);

  return {
    format: 1,
    stack: result.stack,
    project: result.project,
    region: result.region,
    tier,
    dau,
    resources,
    outputs,
    cost,
    policy: {
      violations,
      mandatory: violations.filter((v) => v.severity === "mandatory").length,
      advisory: violations.filter((v) => v.severity === "advisory").length,
      rules: ALL_RULES.map((r) => ({ name: r.name, description: r.description, severity: severityFor(r, tier) })),
    },
    preflight: { errors: findings.length, findings: redact(findings), rules: preflightRuleCount() },
    quotas: { stack: stackQuotas, counts },
    capacity,
    warnings: [
      ...result.warnings.map((w) => redact(w)),
      // results from a ref that predates the example table have no examplesUsed
      ...Object.entries(result.examplesUsed ?? {}).map(
        ([k, v]) => `${k} is not in Pulumi.${result.stack}.yaml (an operator sets it before deploying); this plan used the example value ${JSON.stringify(v)}`,
      ),
    ],
    examplesUsed: result.examplesUsed ?? {},
    ...planZones(result),
  };
}

/** The Vpc's zones and their mock-account IDs (nothing for a result without a zone lookup, e.g. an older ref's). */
function planZones(result: SynthResult): Pick<PlanDocument, "zones"> {
  const vpc = result.resources.find((r) => r.type === AWSX_VPC);
  const names = Array.isArray(vpc?.inputs.availabilityZoneNames) ? (vpc!.inputs.availabilityZoneNames as string[]) : undefined;
  if (!names || !result.mockAccountZones) return {};
  return { zones: { names, zoneIds: names.map((n) => result.mockAccountZones![n] ?? "?"), from: "mock account" } };
}

/** The capacity section of the stack's validated sizing (overrides and `traffic` applied); the tier table if it does not validate. */
function capacityOf(stack: string, tier: string, config: Record<string, unknown>): CapacitySection {
  try {
    const c = validateStackConfig(config, stack);
    return capacitySection(c.sizing, c.traffic);
  } catch {
    return capacitySection(TIERS[(tier in TIERS ? tier : "dev") as TierName]);
  }
}

/** Checks that a parsed JSON file is a plan document; throws a one-line error otherwise. */
export function assertPlanDocument(doc: any, source: string): asserts doc is PlanDocument {
  const missing = ["stack", "resources", "cost", "policy"].filter((k) => doc?.[k] === undefined);
  if (missing.length > 0 || !Array.isArray(doc.resources)) {
    throw new Error(`${source} is not a plan JSON document (missing ${missing.join(", ") || "resources[]"}); write one with npm run plan -- --stack <name> --json > file.json`);
  }
}
