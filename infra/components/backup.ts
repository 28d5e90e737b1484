/**
 * AWS Backup for the database: a KMS-encrypted vault in the stack's region, a plan per tier (daily, plus
 * weekly and monthly retention where the tier keeps them), a selection covering the DB instance, a copy of
 * every recovery point into a vault in the DR region (second provider, its own key there), vault lock for
 * production tiers, and the role AWS Backup uses for backups and restores.
 *
 * Where the tier asks for it, RDS automated backups (point-in-time recovery) are also replicated to the DR
 * region, so a DR restore can pick any second inside the retention window instead of last night's copy.
 * That costs a second copy of the storage and the cross-region transfer of every transaction log, so only
 * the production tiers (10k-dau, 100k-dau) turn it on.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_LIMITS, AWS_NAME_LIMITS, inRange } from "./aws-limits";
import { fitName } from "./names";
import { Problems } from "./problems";
import { RETAIN, type RemovalPolicy } from "./removal";

/** The backup plan: retention per schedule and what crosses to the DR region (the tier's `backup` section has this shape). */
export interface BackupSizing {
  /** Days a daily recovery point is kept (at least 1). */
  dailyRetentionDays: number;
  /** Days a weekly recovery point is kept; 0 for none, otherwise at least 7. */
  weeklyRetentionDays: number;
  /** Days a monthly recovery point is kept; 0 for none, otherwise at least 28. */
  monthlyRetentionDays: number;
  /** AWS Backup vault lock (compliance mode): recovery points cannot be deleted early. */
  vaultLock: boolean;
  /** Copy recovery points to the DR region's vault. */
  crossRegionCopy: boolean;
  /** Replicate RDS automated backups (point-in-time recovery) to the DR region. */
  crossRegionPitr: boolean;
}

export interface BackupArgs {
  /** `<project>-<env>`: names the plan, the selection and the role. */
  namePrefix: string;
  /**
   * Prefix of the vault names, `<vaultNamePrefix>-backup` and `<vaultNamePrefix>-backup-dr`. Vaults outlive a
   * destroy (retained, or locked), so a DR stack passes its generation here (`Naming.durablePrefix`).
   * @default namePrefix
   */
  vaultNamePrefix?: string;
  /**
   * Dev only: `pulumi destroy` deletes the vaults with their recovery points (`forceDestroy`) and the keys.
   * Otherwise the vaults and their KMS keys are `protect`ed and `retainOnDelete`: a destroy leaves them (and
   * the recovery points) in the account, and the DR copy key keeps decrypting what a DR stack restored.
   * @default false
   */
  removal?: RemovalPolicy;
  /** ARN of the DB instance to back up. */
  dbInstanceArn: pulumi.Input<string>;
  /** The tier's `backup` section. */
  sizing: BackupSizing;
  /** Retention of the DB's automated backups, days: also the retention of their DR-region replica. */
  dbBackupRetentionDays: number;
  /** DR region name (informational, for outputs and messages). */
  drRegion: string;
  /**
   * Provider for the DR region. When the tier copies or replicates across regions and none is given, the
   * component creates one for `drRegion` as its child.
   */
  drProvider?: aws.Provider;
  /**
   * Settings of the provider the component creates for `drRegion` besides the region: the stack's own `aws:`
   * settings (profile, assumed role, allowed account ids, default tags...; see `carriedAwsSettings`), so the DR
   * region is reached as the same identity, in the same account, with the same tags. @default none
   */
  drProviderSettings?: Omit<aws.ProviderArgs, "region">;
}

/** Recovery point objective per region, as operators read it. */
export interface RecoveryPointObjective {
  /** Same region: RDS point-in-time restore (transaction logs are shipped every 5 minutes). */
  primaryRegion: string;
  /** DR region: the age of the newest usable copy there. */
  drRegion: string;
}

/** RPO for a tier's backup settings. */
export function recoveryPointObjective(s: BackupSizing): RecoveryPointObjective {
  return {
    primaryRegion: "5 minutes (RDS point-in-time restore)",
    drRegion: s.crossRegionPitr
      ? "about 10 minutes (replicated automated backups; check LatestRestorableTime)"
      : s.crossRegionCopy
        ? "24 hours (daily recovery point copied to the DR vault)"
        : "none (no copy outside the primary region)",
  };
}

type BackupCheckedArgs = Pick<BackupArgs, "sizing" | "dbBackupRetentionDays" | "drProvider" | "drRegion" | "namePrefix">;

/** Every problem with the plain backup settings (field, value, fix). */
export function backupProblems(args: BackupCheckedArgs): Problems {
  const s = args.sizing;
  const p = new Problems("Backup");
  if (!Number.isInteger(s.dailyRetentionDays) || s.dailyRetentionDays < 1) p.add("sizing.dailyRetentionDays", s.dailyRetentionDays, "keep daily recovery points at least 1 day");
  if (s.weeklyRetentionDays !== 0 && s.weeklyRetentionDays < 7) p.add("sizing.weeklyRetentionDays", s.weeklyRetentionDays, "use 0 (no weekly points) or at least 7");
  if (s.monthlyRetentionDays !== 0 && s.monthlyRetentionDays < 28) p.add("sizing.monthlyRetentionDays", s.monthlyRetentionDays, "use 0 (no monthly points) or at least 28");
  if ((s.crossRegionCopy || s.crossRegionPitr) && !args.drProvider && !REGION.test(args.drRegion)) {
    p.add("drRegion", args.drRegion, "the tier copies backups to the DR region; give a region name like us-west-2 or an aws.Provider for it");
  }
  const pitr = { min: 1, max: AWS_LIMITS.rds.backupRetentionDays.max };
  if (s.crossRegionPitr && !inRange(args.dbBackupRetentionDays, pitr)) {
    p.add("dbBackupRetentionDays", args.dbBackupRetentionDays, `replicated automated backups need ${pitr.min} to ${pitr.max} days`);
  }
  if (s.vaultLock && !s.crossRegionCopy) p.add("sizing.vaultLock", s.vaultLock, "a locked vault without a DR copy leaves one region; enable crossRegionCopy too");
  return p;
}

/** Throws one error listing every problem. */
export function validateBackupArgs(args: BackupCheckedArgs): void {
  backupProblems(args).check();
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/**
 * 01:00 UTC, with the 60-minute start window: clear of the database's automated backup window (03:00-04:00,
 * during which RDS refuses a snapshot) and its maintenance window (Sunday 04:30-05:30).
 */
const SCHEDULES = {
  daily: "cron(0 1 * * ? *)",
  weekly: "cron(0 1 ? * SUN *)",
  monthly: "cron(0 1 1 * ? *)",
} as const;

export class Backup extends pulumi.ComponentResource {
  readonly vaultName: pulumi.Output<string>;
  readonly drVaultName: pulumi.Output<string> | undefined;
  readonly backupRoleArn: pulumi.Output<string>;
  readonly planId: pulumi.Output<string>;
  readonly rpo: RecoveryPointObjective;
  /** Provider of the DR region (given or created here), for other DR-region resources of the stack; undefined when nothing crosses regions. */
  readonly drProvider: aws.Provider | undefined;

  constructor(name: string, args: BackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:backup:Backup", name, {}, opts);
    validateBackupArgs(args);
    const s = args.sizing;
    const child = { parent: this };
    const crossRegion = s.crossRegionCopy || s.crossRegionPitr;
    const drProvider = crossRegion
      ? args.drProvider ?? new aws.Provider(`${name}-dr-region`, { ...args.drProviderSettings, region: args.drRegion }, child)
      : undefined;
    const disposable = !(args.removal ?? RETAIN).keepData;
    // Vaults and keys hold (or decrypt) the recovery points: outside dev a destroy must never take them along.
    const keep = disposable ? {} : { protect: true, retainOnDelete: true };
    const dr = { parent: this, provider: drProvider };
    this.drProvider = drProvider;
    const vaults = args.vaultNamePrefix ?? args.namePrefix;

    const key = new aws.kms.Key(`${name}-vault-key`, {
      description: `${args.namePrefix} backup vault`, enableKeyRotation: true, deletionWindowInDays: 30,
    }, { ...child, ...keep });
    const vault = new aws.backup.Vault(`${name}-vault`, {
      name: `${vaults}-backup`, kmsKeyArn: key.arn, forceDestroy: disposable,
    }, { ...child, ...keep });
    const drKey = crossRegion
      ? new aws.kms.Key(`${name}-dr-key`, {
        description: `${args.namePrefix} backups in ${args.drRegion}`, enableKeyRotation: true, deletionWindowInDays: 30,
      }, { ...dr, ...keep })
      : undefined;
    const drVault = s.crossRegionCopy
      ? new aws.backup.Vault(`${name}-dr-vault`, { name: `${vaults}-backup-dr`, kmsKeyArn: drKey!.arn, forceDestroy: disposable }, { ...dr, ...keep })
      : undefined;
    if (s.vaultLock) this.lockVaults(name, s, vault, drVault!, dr);

    const role = this.createRole(name, args.namePrefix);
    const plan = this.createPlan(name, args.namePrefix, s, vault, drVault);
    new aws.backup.Selection(`${name}-selection`, {
      name: `${args.namePrefix}-database`,
      planId: plan.id,
      iamRoleArn: role.arn,
      resources: [args.dbInstanceArn],
    }, child);

    if (s.crossRegionPitr) {
      new aws.rds.InstanceAutomatedBackupsReplication(`${name}-pitr-replica`, {
        sourceDbInstanceArn: args.dbInstanceArn,
        kmsKeyId: drKey!.arn,
        retentionPeriod: args.dbBackupRetentionDays,
      }, dr);
    }

    this.vaultName = vault.name;
    this.drVaultName = drVault?.name;
    this.backupRoleArn = role.arn;
    this.planId = plan.id;
    this.rpo = recoveryPointObjective(s);
    this.registerOutputs({ vaultName: this.vaultName, drVaultName: this.drVaultName, backupRoleArn: this.backupRoleArn });
  }

  /** Compliance-mode lock: after 3 days nobody (root included) can delete points early or shorten retention. */
  private lockVaults(name: string, s: BackupSizing, vault: aws.backup.Vault, drVault: aws.backup.Vault, dr: pulumi.CustomResourceOptions): void {
    const lock = {
      minRetentionDays: s.dailyRetentionDays,
      maxRetentionDays: Math.max(s.dailyRetentionDays, s.weeklyRetentionDays, s.monthlyRetentionDays),
      changeableForDays: 3,
    };
    // Once the grace time is over AWS refuses to remove a compliance lock: a destroy only drops it from the state.
    new aws.backup.VaultLockConfiguration(`${name}-vault-lock`, { backupVaultName: vault.name, ...lock }, { parent: this, retainOnDelete: true });
    new aws.backup.VaultLockConfiguration(`${name}-dr-vault-lock`, { backupVaultName: drVault.name, ...lock }, { ...dr, retainOnDelete: true });
  }

  /** Role AWS Backup assumes; AWS's service-role policies for backup and restore, nothing else. */
  private createRole(name: string, prefix: string): aws.iam.Role {
    const role = new aws.iam.Role(`${name}-role`, {
      name: fitName(`${prefix}-backup`, AWS_NAME_LIMITS.iamRole.maxLength),
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    }, { parent: this });
    for (const [role_, policy] of [["backup", "AWSBackupServiceRolePolicyForBackup"], ["restore", "AWSBackupServiceRolePolicyForRestores"]] as const) {
      new aws.iam.RolePolicyAttachment(`${name}-role-${role_}`, {
        role: role.name,
        policyArn: `arn:aws:iam::aws:policy/service-role/${policy}`,
      }, { parent: this });
    }
    return role;
  }

  private createPlan(name: string, prefix: string, s: BackupSizing, vault: aws.backup.Vault, drVault: aws.backup.Vault | undefined): aws.backup.Plan {
    const rules = (["daily", "weekly", "monthly"] as const)
      .map((kind) => ({ kind, days: s[`${kind}RetentionDays`] }))
      .filter((r) => r.days > 0)
      .map(({ kind, days }) => ({
        ruleName: kind,
        targetVaultName: vault.name,
        schedule: SCHEDULES[kind],
        startWindow: 60,
        completionWindow: 240,
        lifecycle: { deleteAfter: days },
        recoveryPointTags: { Frequency: kind },
        copyActions: drVault ? [{ destinationVaultArn: drVault.arn, lifecycle: { deleteAfter: days } }] : [],
      }));
    return new aws.backup.Plan(`${name}-plan`, { name: `${prefix}-database`, rules }, { parent: this });
  }
}
