import type { RemovalPolicy } from "../components/removal";
import type { StackConfig } from "./schema";

/**
 * The stack's removal policy, from its two sizing switches (`database.deletionProtection` for the data,
 * `alb.deletionProtection` for the entry point; both on in every production tier, and only dev may turn them
 * off) and whether it is a DR stack (retired after each drill, so its buckets and repositories are emptied).
 */
export function removalPolicy(cfg: Pick<StackConfig, "sizing" | "primaryEnv">): RemovalPolicy {
  const s = cfg.sizing;
  return {
    keepData: s.database.deletionProtection,
    protectEntrypoint: s.alb.deletionProtection,
    emptyOnDestroy: !s.alb.deletionProtection || cfg.primaryEnv !== undefined,
  };
}
