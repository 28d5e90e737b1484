/**
 * Backup per tier: vault encrypted with its own key, daily/weekly/monthly rules as the tier keeps them, the
 * DB in the selection, a copy into the DR-region vault through the DR provider for tiers that copy, vault
 * lock and PITR replication for production tiers only.
 */
import * as aws from "@pulumi/aws";
import assert from "node:assert/strict";
import { TIER_NAMES, TIERS } from "../config/tiers";
import type { TierName } from "../config/tiers";
import { byType, one, synthesize } from "../synth";
import type { SynthResult } from "../synth";
import { Backup, recoveryPointObjective, validateBackupArgs } from "./backup";

const PREFIX = "chat-test";
const DB_ARN = "arn:aws:rds:us-east-1:123456789012:db:chat-test-db";
const runs = new Map<TierName, { result: SynthResult; rpo: Backup["rpo"] }>();

beforeAll(async () => {
  for (const tier of TIER_NAMES) {
    let backup: Backup | undefined;
    const result = await synthesize("dev", {
      program: () => {
        const drProvider = new aws.Provider("dr-region", { region: "us-west-2" });
        backup = new Backup("backup", {
          namePrefix: PREFIX, dbInstanceArn: DB_ARN, sizing: TIERS[tier].backup,
          dbBackupRetentionDays: TIERS[tier].database.backupRetentionDays, drRegion: "us-west-2", drProvider,
        });
        return { vault: backup.vaultName, drVault: backup.drVaultName, role: backup.backupRoleArn };
      },
    });
    runs.set(tier, { result, rpo: backup!.rpo });
  }
});

const isDr = (r: SynthResult, provider: string | undefined) => (provider ?? "").includes("dr-region");

describe("backup per tier", () => {
  for (const tier of TIER_NAMES) {
    const s = TIERS[tier].backup;
    describe(tier, () => {
      const r = () => runs.get(tier)!.result;

      it("keeps recovery points in a KMS-encrypted vault in the primary region", () => {
        const vault = one(r(), "aws:backup/vault:Vault", "backup-vault");
        assert.equal(vault.inputs.name, `${PREFIX}-backup`);
        assert.match(vault.inputs.kmsKeyArn, /^arn:aws:kms:us-east-1:/);
        assert.ok(!isDr(r(), vault.options.provider));
      });

      it("has the tier's rules: daily always, weekly/monthly where kept, with their retention", () => {
        const plan = one(r(), "aws:backup/plan:Plan", "backup-plan");
        const rules = plan.inputs.rules as any[];
        const expected = (["daily", "weekly", "monthly"] as const).filter((k) => s[`${k}RetentionDays`] > 0);
        assert.deepEqual(rules.map((x) => x.ruleName), expected);
        for (const rule of rules) {
          assert.equal(rule.lifecycle.deleteAfter, s[`${rule.ruleName as "daily"}RetentionDays`]);
          assert.equal(rule.targetVaultName, `${PREFIX}-backup`);
        }
        const sel = one(r(), "aws:backup/selection:Selection", "backup-selection");
        assert.deepEqual(sel.inputs.resources, [DB_ARN]);
        assert.match(sel.inputs.iamRoleArn, /:role\/chat-test-backup$/);
      });

      it(s.crossRegionCopy ? "copies every rule's points to the DR vault (DR provider, own key)" : "does not copy across regions", () => {
        const rules = one(r(), "aws:backup/plan:Plan", "backup-plan").inputs.rules as any[];
        const drVault = byType(r(), "aws:backup/vault:Vault").find((v) => v.name === "backup-dr-vault");
        if (!s.crossRegionCopy) {
          assert.equal(drVault, undefined);
          for (const rule of rules) assert.deepEqual(rule.copyActions ?? [], []);
          return;
        }
        assert.ok(drVault && isDr(r(), drVault.options.provider), "DR vault must use the DR-region provider");
        assert.equal(drVault.inputs.name, `${PREFIX}-backup-dr`);
        const drKey = one(r(), "aws:kms/key:Key", "backup-dr-key");
        assert.ok(isDr(r(), drKey.options.provider), "DR vault key must be created in the DR region");
        assert.match(drVault.inputs.kmsKeyArn, /key\/key-/);
        for (const rule of rules) {
          assert.equal(rule.copyActions.length, 1, `${rule.ruleName} copy action`);
          assert.match(rule.copyActions[0].destinationVaultArn, /backup-vault:chat-test-backup-dr$/);
          assert.equal(rule.copyActions[0].lifecycle.deleteAfter, rule.lifecycle.deleteAfter);
        }
      });

      it(s.vaultLock ? "locks both vaults (compliance mode after 3 days)" : "leaves the vault unlocked", () => {
        const locks = byType(r(), "aws:backup/vaultLockConfiguration:VaultLockConfiguration");
        if (!s.vaultLock) return assert.equal(locks.length, 0);
        assert.deepEqual(locks.map((l) => l.inputs.backupVaultName).sort(), [`${PREFIX}-backup`, `${PREFIX}-backup-dr`]);
        for (const l of locks) {
          assert.equal(l.inputs.changeableForDays, 3);
          assert.equal(l.inputs.minRetentionDays, s.dailyRetentionDays);
          assert.equal(l.inputs.maxRetentionDays, s.monthlyRetentionDays);
        }
      });

      it(s.crossRegionPitr ? "replicates automated backups to the DR region for point-in-time restore" : "does not replicate automated backups", () => {
        const reps = byType(r(), "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication");
        if (!s.crossRegionPitr) return assert.equal(reps.length, 0);
        assert.equal(reps.length, 1);
        assert.equal(reps[0]!.inputs.sourceDbInstanceArn, DB_ARN);
        assert.equal(reps[0]!.inputs.retentionPeriod, TIERS[tier].database.backupRetentionDays);
        assert.ok(isDr(r(), reps[0]!.options.provider));
      });

      it("grants the backup role only AWS Backup's service policies", () => {
        const role = one(r(), "aws:iam/role:Role", "backup-role");
        assert.equal(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal.Service, "backup.amazonaws.com");
        const policies = byType(r(), "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.inputs.policyArn).sort();
        assert.deepEqual(policies, [
          "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
          "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
        ]);
      });
    });
  }
});

describe("backup rules", () => {
  it("states the RPO per tier", () => {
    assert.match(runs.get("dev")!.rpo.drRegion, /^none/);
    assert.match(runs.get("1k-dau")!.rpo.drRegion, /^24 hours/);
    assert.match(runs.get("10k-dau")!.rpo.drRegion, /^about 10 minutes/);
    assert.match(runs.get("100k-dau")!.rpo.primaryRegion, /^5 minutes/);
    assert.deepEqual(recoveryPointObjective(TIERS["100k-dau"].backup), runs.get("100k-dau")!.rpo);
  });

  it("rejects settings that cannot work, naming the field and the fix", () => {
    const base = { namePrefix: PREFIX, sizing: TIERS["10k-dau"].backup, dbBackupRetentionDays: 14, drRegion: "us-west-2" };
    assert.throws(() => validateBackupArgs({ ...base, drRegion: "west" }), /Backup: invalid arguments:\n  - drRegion "west": the tier copies backups to the DR region; give a region name/);
    const provider = {} as aws.Provider;
    assert.throws(() => validateBackupArgs({ ...base, drProvider: provider, sizing: { ...base.sizing, weeklyRetentionDays: 3 } }),
      /  - sizing\.weeklyRetentionDays 3: use 0 \(no weekly points\) or at least 7/);
    assert.throws(() => validateBackupArgs({ ...base, drProvider: provider, sizing: { ...base.sizing, crossRegionCopy: false } }),
      /  - sizing\.vaultLock true: a locked vault without a DR copy/);
    assert.doesNotThrow(() => validateBackupArgs({ ...base, drProvider: provider }));
  });
});
