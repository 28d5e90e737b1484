/**
 * Rules for disaster-recovery stacks (a stack with `realtime-chat:primaryEnv`): it must say which copied
 * recovery point its database starts from, and that copy must be in the stack's own region. Checked before
 * any resource is created; the error names the stack file, the key and how to find a value.
 */
import { CONFIG_NAMESPACE } from "./schema";
import type { StackConfig } from "./schema";
import { StackConfigError } from "./load";

/** Name of the vault in the DR region that holds the primary's copies (see `Backup`). */
export function drVaultNameOf(project: string, primaryEnv: string): string {
  return `${project}-${primaryEnv}-backup-dr`;
}

/**
 * Matches the all-zero backup job id once shipped in the DR stack file as a placeholder. It has the shape
 * of a real recovery point, so only this check stops `pulumi up` from building half the stack before RDS
 * rejects the snapshot.
 */
const PLACEHOLDER_RECOVERY_POINT = /(^|:)job-0{8}-0{4}-0{4}-0{4}-0{12}$/;

export function validateDrConfig(cfg: Pick<StackConfig, "stack" | "project" | "env" | "region" | "primaryEnv" | "restoreSnapshotId">): void {
  const file = `Pulumi.${cfg.stack}.yaml`;
  const k = (name: string) => `${CONFIG_NAMESPACE}:${name}`;
  const problems: string[] = [];
  if (cfg.primaryEnv !== undefined) {
    if (cfg.primaryEnv === cfg.env) {
      problems.push(`${k("primaryEnv")} = ${JSON.stringify(cfg.primaryEnv)}: a DR stack needs its own env; name the primary's env here and leave ${k("env")} to the DR stack's name`);
    }
    if (cfg.restoreSnapshotId === undefined) {
      const vault = drVaultNameOf(cfg.project, cfg.primaryEnv);
      problems.push(
        `${k("restoreSnapshotId")} is missing: this is a DR stack (${k("primaryEnv")} = ${JSON.stringify(cfg.primaryEnv)}) and its database must ` +
          `start from a copied recovery point. List them with \`aws backup list-recovery-points-by-backup-vault --backup-vault-name ${vault} ` +
          `--region ${cfg.region}\` and run \`pulumi config set ${k("restoreSnapshotId")} <RecoveryPointArn> -s ${cfg.stack}\``,
      );
    }
  }
  if (cfg.restoreSnapshotId !== undefined && PLACEHOLDER_RECOVERY_POINT.test(cfg.restoreSnapshotId)) {
    const vault = cfg.primaryEnv !== undefined ? drVaultNameOf(cfg.project, cfg.primaryEnv) : "<DR vault>";
    problems.push(
      `${k("restoreSnapshotId")} = ${JSON.stringify(cfg.restoreSnapshotId)} is the all-zero placeholder, not a recovery point. ` +
        `Set a real one: list them with \`aws backup list-recovery-points-by-backup-vault --backup-vault-name ${vault} --region ${cfg.region}\` ` +
        `and run \`pulumi config set ${k("restoreSnapshotId")} <RecoveryPointArn> -s ${cfg.stack}\``,
    );
  }
  const arnRegion = cfg.restoreSnapshotId?.startsWith("arn:") ? cfg.restoreSnapshotId.split(":")[3] : undefined;
  if (arnRegion !== undefined && arnRegion !== cfg.region) {
    problems.push(
      `${k("restoreSnapshotId")} = ${JSON.stringify(cfg.restoreSnapshotId)}: the snapshot is in ${arnRegion} but the stack deploys to aws:region ${cfg.region}; ` +
        `use a recovery point copied to ${cfg.region} (the DR vault) or copy the snapshot there first`,
    );
  }
  if (problems.length) throw new StackConfigError(file, problems);
}
