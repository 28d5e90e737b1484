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

/**
 * Whether a stack keeps a pilot light in its drRegion: a primary stack (no `primaryEnv`) whose tier copies
 * recovery points there. The pilot light is where a restore in the DR region lands (docs/DR.md), so it exists
 * exactly where copies do; a DR stack's copies go back to the old primary region, which has its own VPC.
 */
export function hasDrPilotLight(cfg: Pick<StackConfig, "primaryEnv" | "sizing">): boolean {
  return cfg.primaryEnv === undefined && cfg.sizing.backup.crossRegionCopy;
}

function cidrRange(cidr: string): [number, number] {
  const [ip, p] = cidr.split("/");
  const start = ip!.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  return [start, start + 2 ** (32 - Number(p)) - 1];
}

/** Fewest zones of the pilot light: an RDS DB subnet group needs subnets in at least two Availability Zones. */
// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html
export const DR_MIN_ZONES = 2;

/** Problems with the pilot-light settings (`drAvailabilityZones`, `drVpcCidr`), each naming the key and the fix. */
export function drPilotLightProblems(
  cfg: Pick<StackConfig, "stack" | "primaryEnv" | "sizing" | "drRegion" | "drAvailabilityZones" | "drVpcCidr" | "vpcCidr">,
): string[] {
  if (!hasDrPilotLight(cfg)) return [];
  const k = (name: string) => `${CONFIG_NAMESPACE}:${name}`;
  const problems: string[] = [];
  const zones = cfg.drAvailabilityZones;
  const example = `'["${cfg.drRegion}a","${cfg.drRegion}b","${cfg.drRegion}c"]'`;
  if (zones === undefined) {
    problems.push(`${k("drAvailabilityZones")} is missing: the tier copies backups to drRegion ${cfg.drRegion}, where the stack keeps a pilot-light ` +
      `VPC for restores; list at least ${DR_MIN_ZONES} of its zones, e.g. \`pulumi config set ${k("drAvailabilityZones")} ${example} -s ${cfg.stack}\``);
  } else {
    const foreign = zones.filter((z) => z.slice(0, -1) !== cfg.drRegion);
    if (foreign.length) problems.push(`${k("drAvailabilityZones")} = ${JSON.stringify(zones)}: zones ${foreign.join(", ")} are not in drRegion ${cfg.drRegion}`);
    if (zones.length < DR_MIN_ZONES) {
      problems.push(`${k("drAvailabilityZones")} = ${JSON.stringify(zones)}: list at least ${DR_MIN_ZONES} zones (a DB subnet group spans two Availability Zones or more)`);
    }
  }
  const [a0, a1] = cidrRange(cfg.drVpcCidr);
  const [b0, b1] = cidrRange(cfg.vpcCidr);
  if (a0 <= b1 && b0 <= a1) {
    problems.push(`${k("drVpcCidr")} = ${JSON.stringify(cfg.drVpcCidr)} overlaps ${k("vpcCidr")} ${cfg.vpcCidr}; pick a separate range such as 10.2.0.0/16 so the VPCs can be peered`);
  }
  return problems;
}

/** Throws one StackConfigError listing every pilot-light problem; call before creating any resource. */
export function validateDrPilotLight(cfg: Parameters<typeof drPilotLightProblems>[0]): void {
  const problems = drPilotLightProblems(cfg);
  if (problems.length) throw new StackConfigError(`Pulumi.${cfg.stack}.yaml`, problems);
}
