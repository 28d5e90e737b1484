/**
 * Adapts the rules in `../rules.ts` to `@pulumi/policy`: one `ResourceValidationPolicy` per resource rule,
 * one `StackValidationPolicy` per stack rule, same names and messages as the offline plan.
 *
 * Severity per tier comes from the pack config, one file per tier (`config/<tier>.json`, written by
 * `packConfig` and checked by the tests): every policy is mandatory by default; the dev file makes them
 * advisory and disables the production-only ones. Production-only checks read the tier from the policy
 * config, or, without one, from the `Pulumi.<stack>.yaml` of the stack in the resource URNs. Usage:
 *   pulumi preview --policy-pack infra/policy/pack --policy-pack-config infra/policy/pack/config/10k-dau.json
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EnforcementLevel, PolicyPackConfig, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { parse as parseYaml } from "yaml";
import { TIER_NAMES } from "../../config/tiers";
import { DEV_TIERS, key, RESOURCE_RULES, severityFor, STACK_RULES } from "../rules";
import type { PolicyResource, ResourceRule, StackRule } from "../rules";

const configSchema = {
  properties: { tier: { type: "string" as const, enum: [...TIER_NAMES] } },
};

const REPO_ROOT = join(__dirname, "..", "..", "..");
const stackTiers = new Map<string, string | undefined>();

/** Tier in `Pulumi.<stack>.yaml` for the stack named in a URN (`urn:pulumi:<stack>::<project>::...`). */
export function tierFromUrn(urn: string | undefined, root = REPO_ROOT): string | undefined {
  const stack = urn ? /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] : undefined;
  if (!stack) return undefined;
  if (!stackTiers.has(stack)) {
    let tier: string | undefined;
    try {
      tier = parseYaml(readFileSync(join(root, `Pulumi.${stack}.yaml`), "utf8"))?.config?.["realtime-chat:tier"];
    } catch {
      tier = undefined;
    }
    stackTiers.set(stack, typeof tier === "string" ? tier : undefined);
  }
  return stackTiers.get(stack);
}

/** The tier: from the pack config, else from the stack file of the stack being previewed, else a production tier. */
const tierOf = (args: { getConfig<T extends object>(): T }, urn: string | undefined) =>
  args.getConfig<{ tier?: string }>().tier ?? tierFromUrn(urn) ?? "1k-dau";

/** Reads a property; during a preview the engine's proxy throws on values not known yet: those are undefined. */
function known(props: Record<string, any>, name: string): string | undefined {
  try {
    const v = props[name];
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

const toPolicyResource = (r: { type: string; name: string; props: Record<string, any> }): PolicyResource => ({
  type: r.type,
  name: r.name,
  inputs: r.props,
  id: known(r.props, "id"),
  arn: known(r.props, "arn"),
});

export function toResourcePolicy(rule: ResourceRule): ResourceValidationPolicy {
  const types = new Set(rule.types);
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    configSchema,
    validateResource: (args, reportViolation) => {
      if (!types.has(args.type)) return;
      const tier = tierOf(args, args.urn);
      if (rule.productionOnly && DEV_TIERS.has(tier)) return;
      for (const message of rule.check(toPolicyResource(args), { tier })) reportViolation(message);
    },
  };
}

export function toStackPolicy(rule: StackRule): StackValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    configSchema,
    validateStack: (args, reportViolation) => {
      const tier = tierOf(args, args.resources[0]?.urn);
      if (rule.productionOnly && DEV_TIERS.has(tier)) return;
      const urns = new Map(args.resources.map((r) => [key(r), r.urn]));
      for (const f of rule.check(args.resources.map(toPolicyResource), { tier })) reportViolation(f.message, urns.get(f.resource));
    },
  };
}

export const POLICIES: Array<ResourceValidationPolicy | StackValidationPolicy> = [
  ...RESOURCE_RULES.map(toResourcePolicy),
  ...STACK_RULES.map(toStackPolicy),
];

/** The pack config for a tier: enforcement level and tier per policy. */
export function packConfig(tier: string): PolicyPackConfig {
  const out: PolicyPackConfig = {};
  for (const rule of [...RESOURCE_RULES, ...STACK_RULES]) {
    const level: EnforcementLevel = rule.productionOnly && DEV_TIERS.has(tier) ? "disabled" : severityFor(rule, tier);
    out[rule.name] = { enforcementLevel: level, tier };
  }
  return out;
}

/** `node --import tsx infra/policy/pack/policies.ts --write` regenerates config/<tier>.json. */
if (require.main === module && process.argv.includes("--write")) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { writeFileSync } = require("node:fs") as typeof import("node:fs");
  for (const tier of TIER_NAMES) writeFileSync(`${__dirname}/config/${tier}.json`, JSON.stringify(packConfig(tier), null, 2) + "\n");
}
