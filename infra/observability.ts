/**
 * Observability and backups of one stack, composed for the platform: alarms + topic, dashboard, AWS Backup
 * (with the DR-region copy), and the stack outputs the runbook and the DR drill read.
 *
 * Built after the data tier and BEFORE the ECS services: the services' deployment configuration names the
 * deployment alarms, so the alarms must exist first. Cluster and service names are the contract names
 * (`<project>-<env>`, `<project>-<env>-<service>`, docs/CONTRACTS.md), known before the services exist; the
 * stack tests check they equal what the compute layer creates.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { drVaultNameOf } from "./config/dr";
import type { Naming } from "./config/naming";
import { removalPolicy } from "./config/removal";
import type { StackConfig } from "./config/schema";
import { Alarms } from "./components/alarms";
import type { AlarmTargets } from "./components/alarm-specs";
import { Backup } from "./components/backup";
import { Dashboard } from "./components/dashboard";
import { SERVICE_CATALOGUE, SERVICE_NAMES } from "./catalogue";
import type { ServiceName } from "./catalogue";

export interface ObservabilityRefs {
  alb: AlarmTargets["alb"];
  /** Target group ARN suffix per routed service (the deployment alarms watch them). */
  targetGroupArnSuffixes: Partial<Record<ServiceName, pulumi.Input<string>>>;
  database: AlarmTargets["database"] & {
    arn: pulumi.Input<string>;
    subnetGroupName: pulumi.Input<string>;
    securityGroupId: pulumi.Input<string>;
  };
  redis: AlarmTargets["redis"];
  queues: AlarmTargets["queues"];
}

export interface Observability {
  alarms: Alarms;
  dashboard: Dashboard;
  backup: Backup;
  /** Deployment alarm names per service, for the ECS services' `alarms` setting. */
  deploymentAlarmNames: Alarms["deploymentAlarmNames"];
  outputs: {
    alarmTopicArn: pulumi.Input<string>; warningTopicArn: pulumi.Input<string>; dashboardName: pulumi.Input<string>;
    backupVaultName: pulumi.Input<string>; drVaultName?: pulumi.Input<string>; drRegion: string; backupRoleArn: pulumi.Input<string>;
    recoveryPointObjective: pulumi.Input<unknown>; dbSubnetGroupName: pulumi.Input<string>; dbSecurityGroupId: pulumi.Input<string>;
    restoreVaultName?: string; restoreSnapshotId?: string;
  };
}

export function buildObservability(cfg: StackConfig, naming: Naming, refs: ObservabilityRefs): Observability {
  const s = cfg.sizing;
  const targets: AlarmTargets = {
    clusterName: naming.prefix,
    serviceNames: Object.fromEntries(SERVICE_NAMES.map((svc) => [svc, naming.name(svc)])) as Record<ServiceName, string>,
    alb: refs.alb,
    // the catalogue's deployment alarms, on each service's target group
    deployment: Object.fromEntries(SERVICE_NAMES.filter((svc) => SERVICE_CATALOGUE[svc].deploymentAlarms.length > 0).map((svc) => {
      const tg = refs.targetGroupArnSuffixes[svc];
      if (tg === undefined) throw new Error(`buildObservability: ${svc} has deployment alarms but no target group (give it a route in infra/catalogue.ts)`);
      return [svc, { targetGroupArnSuffix: tg, alarms: SERVICE_CATALOGUE[svc].deploymentAlarms }];
    })),
    database: { instanceId: refs.database.instanceId, maxConnections: refs.database.maxConnections },
    redis: refs.redis,
    queues: refs.queues,
    realtimeMaxConnectionsPerTask: s.services.realtime.maxConnectionsPerTask,
  };
  const alarms = new Alarms("alarms", {
    ...targets,
    namePrefix: naming.prefix,
    thresholds: s.observability.alarms,
    accountId: aws.getCallerIdentityOutput().accountId,
    alarmEmail: cfg.alarmEmail,
    alarmHttpsEndpoint: cfg.alarmHttpsEndpoint,
    // the vault's physical name is fixed by the Backup component (`<durablePrefix>-backup`)
    backup: { vaultName: `${naming.durablePrefix}-backup`, copies: s.backup.crossRegionCopy },
  });
  const dashboard = new Dashboard("dashboard", { ...targets, namePrefix: naming.prefix, region: cfg.region, thresholds: s.observability.alarms });
  const backup = new Backup("backup", {
    namePrefix: naming.prefix,
    vaultNamePrefix: naming.durablePrefix,
    removal: removalPolicy(cfg),
    dbInstanceArn: refs.database.arn,
    sizing: s.backup,
    dbBackupRetentionDays: s.database.backupRetentionDays,
    drRegion: cfg.drRegion,
    drProviderSettings: cfg.awsSettings as Omit<aws.ProviderArgs, "region">,
  });

  const outputs: Observability["outputs"] = {
    alarmTopicArn: alarms.topicArn,
    warningTopicArn: alarms.warningTopicArn,
    dashboardName: dashboard.dashboardName,
    backupVaultName: backup.vaultName,
    // only where the tier copies to the DR region (an undefined output would vanish anyway)
    ...(backup.drVaultName ? { drVaultName: backup.drVaultName } : {}),
    drRegion: cfg.drRegion,
    backupRoleArn: backup.backupRoleArn,
    recoveryPointObjective: backup.rpo,
    dbSubnetGroupName: refs.database.subnetGroupName,
    dbSecurityGroupId: refs.database.securityGroupId,
    // A DR stack restores from the copies the primary left in this region.
    ...(cfg.primaryEnv !== undefined
      ? { restoreVaultName: drVaultNameOf(cfg.project, cfg.primaryEnv), restoreSnapshotId: cfg.restoreSnapshotId }
      : {}),
  };
  return { alarms, dashboard, backup, deploymentAlarmNames: alarms.deploymentAlarmNames, outputs };
}
