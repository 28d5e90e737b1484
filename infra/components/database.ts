import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_LIMITS, inRange } from "./aws-limits";
import { Problems } from "./problems";
import { instanceMemoryGiB, POSTGRES_MAJORS, postgresMaxConnections, RDS_MAX_CONNECTIONS_FORMULA } from "./postgres-limits";
import { RETAIN, type RemovalPolicy } from "./removal";

/**
 * How long Pulumi waits for the instance. A restore from a snapshot (docs/DR.md, section 3, step 3: 35-50 min
 * for 10k-dau, longer for the bigger 100k-dau database) and a Multi-AZ or class change can outlast the
 * provider's defaults (40 min create, 80 min update); a timeout would leave the stack half-deployed with the
 * instance still being built.
 */
export const DATABASE_TIMEOUTS = { create: "240m", update: "240m", delete: "120m" } as const;

export { POSTGRES_MAJORS };

/** True when `postgresMaxConnections` knows the class's memory. */
function knownClass(instanceClass: string): boolean {
  try {
    instanceMemoryGiB(instanceClass);
    return true;
  } catch {
    return false;
  }
}

/** `max_connections` of an instance class as the database runs it: RDS's default (see `postgresMaxConnections`). */
export function maxConnectionsFor(instanceClass: string): number {
  return postgresMaxConnections(instanceClass);
}

export interface DatabaseArgs {
  /** Physical identifier of the instance, `<project>-<env>-db` (also prefixes the final snapshot and names the subnet group). */
  identifier: string;
  vpcId: pulumi.Input<string>;
  /** Private subnets in at least two zones. */
  subnetIds: pulumi.Input<string>[];
  /** PostgreSQL major version (15, 16 or 17); minor versions upgrade automatically in the maintenance window. */
  engineMajor: string;
  /** Instance class, e.g. `db.r6g.large`. Changing it restarts the instance (fails over first when Multi-AZ). */
  instanceClass: string;
  /** Allocated gp3 storage, GB (20 or more). Storage can grow but never shrink. */
  storageGb: number;
  /** Storage autoscaling ceiling, GB (>= storageGb). Cost grows with storage actually allocated. */
  maxStorageGb: number;
  /** Synchronous standby in a second zone with automatic failover. Doubles the instance cost. */
  multiAz: boolean;
  /** Automated backup (point-in-time recovery) window, 1 to 35 days. */
  backupRetentionDays: number;
  /**
   * `keepData`: RDS deletion protection, a final snapshot, and Pulumi `protect` + `retainOnDelete` on the
   * instance and its key. Off only for a disposable dev stack. @default RETAIN
   */
  removal?: RemovalPolicy;
  /**
   * Write RDS's own formula (`RDS_MAX_CONNECTIONS_FORMULA`, on the instance's real memory) as `max_connections`
   * instead of the nominal-memory number: for small burstable classes (dev), where the nominal figure overstates
   * what fits in memory. The connections alarms then divide by the nominal figure, an upper bound. @default false
   */
  maxConnectionsFromFormula?: boolean;
  /** Database created on first start. @default "chat" */
  dbName?: string;
  /** Master user; the services connect as this user (through the proxy with IAM auth). @default "chat_app" */
  username?: string;
  /** Statements slower than this are logged (`log_min_duration_statement`), ms. @default 500 */
  slowStatementMs?: number;
  /**
   * Snapshot identifier or ARN to create the instance from (disaster recovery). Engine version, storage size,
   * encryption key, database name and master user then come from the snapshot. Keep the value for the life of
   * the restored instance: removing it later replaces the instance.
   */
  restoreSnapshotId?: string;
  tags?: Record<string, string>;
}

const IDENTIFIER = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** Every problem with the plain arguments (field, value, fix). */
/** Default of the slow-statement log threshold, written once (validator and parameter group read it). */
export const SLOW_STATEMENT_MS_DEFAULT = 500;

export function databaseProblems(args: DatabaseArgs): Problems {
  const p = new Problems("Database");
  const bad = (field: string, value: unknown, fix: string) => p.add(field, value, fix);
  if (!IDENTIFIER.test(args.identifier) || args.identifier.includes("--")) {
    bad("identifier", args.identifier, "1-63 lowercase letters, digits and single '-', starting with a letter");
  }
  if (!(POSTGRES_MAJORS as readonly string[]).includes(args.engineMajor)) bad("engineMajor", args.engineMajor, `allowed: ${POSTGRES_MAJORS.join(", ")}`);
  if (!knownClass(args.instanceClass)) {
    bad("instanceClass", args.instanceClass, "expected an RDS class such as db.t4g.small, db.m6g.large or db.r6g.xlarge");
  }
  const storage = AWS_LIMITS.rds.gp3StorageGb;
  if (!inRange(args.storageGb, storage)) bad("storageGb", args.storageGb, `must be a whole number from ${storage.min} to ${storage.max} (gp3)`);
  if (!inRange(args.maxStorageGb, { min: args.storageGb, max: storage.max })) {
    bad("maxStorageGb", args.maxStorageGb, `must be a whole number from storageGb (${args.storageGb}) to ${storage.max}`);
  }
  const backups = { min: 1, max: AWS_LIMITS.rds.backupRetentionDays.max };
  if (!inRange(args.backupRetentionDays, backups)) {
    bad("backupRetentionDays", args.backupRetentionDays, `must be ${backups.min} to ${backups.max} (0 would turn off backups and point-in-time recovery)`);
  }
  if (args.multiAz && args.subnetIds.length < 2) bad("subnetIds", `${args.subnetIds.length} subnet(s)`, "Multi-AZ needs subnets in at least 2 zones");
  const slow = args.slowStatementMs ?? SLOW_STATEMENT_MS_DEFAULT;
  if (!Number.isInteger(slow) || slow < 0) bad("slowStatementMs", slow, "must be a whole number of milliseconds >= 0");
  if (args.restoreSnapshotId !== undefined && !/^(arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:)?[a-zA-Z][a-zA-Z0-9:-]{0,254}$/.test(args.restoreSnapshotId)) {
    bad("restoreSnapshotId", args.restoreSnapshotId, "expected a DB snapshot identifier (e.g. rds:chat-prod-db-2026-01-01-03-00) or its ARN");
  }
  return p;
}

/** Throws one error listing every problem with the plain arguments. */
export function validateDatabaseArgs(args: DatabaseArgs): void {
  databaseProblems(args).check();
}

/**
 * RDS PostgreSQL in private subnets: gp3 storage with an autoscaling ceiling, encrypted with a customer-managed
 * KMS key (a copy to another region needs one), TLS forced by the parameter group, slow statements logged,
 * Performance Insights, automated backups with point-in-time recovery, and the master password generated and
 * kept by RDS in Secrets Manager (`manageMasterUserPassword`): it never appears in the program or its state.
 *
 * The security group has no rules of its own; the platform admits the proxy (or the services) on 5432.
 */
export class Database extends pulumi.ComponentResource {
  readonly instance: aws.rds.Instance;
  readonly instanceId: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly address: pulumi.Output<string>;
  readonly port: number = 5432;
  readonly dbName: string;
  readonly username: string;
  readonly securityGroupId: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** Secrets Manager secret (JSON `username`/`password`) RDS keeps and rotates. */
  readonly masterSecretArn: pulumi.Output<string>;
  /** RDS's default `max_connections` for the class (plain number, for the alarms; see `postgresMaxConnections`). */
  readonly maxConnections: number;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:database:Database", name, {}, opts);
    validateDatabaseArgs(args);
    const safe = (args.removal ?? RETAIN).keepData;
    const tags = { ...args.tags, Name: args.identifier, ...(safe ? {} : { Disposable: "true" }) };
    const child = { parent: this };
    // Outside dev the data outlives a `pulumi destroy` and a deleted resource in the program.
    const keep = { parent: this, protect: safe, retainOnDelete: safe };
    this.dbName = args.dbName ?? "chat";
    this.username = args.username ?? "chat_app";
    this.maxConnections = maxConnectionsFor(args.instanceClass);

    const key = new aws.kms.Key(`${name}-key`, {
      description: `${args.identifier} storage, snapshots and Performance Insights`,
      enableKeyRotation: true,
      deletionWindowInDays: safe ? 30 : 7,
      tags,
    }, keep);
    // Named like the instance (`<project>-<env>-db`): operators type it in a manual restore (docs/RUNBOOK.md).
    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, {
      name: args.identifier, description: `${args.identifier} private subnets`, subnetIds: args.subnetIds, tags,
    }, child);
    const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId: args.vpcId,
      description: `${args.identifier}: PostgreSQL, admits only the proxy or the services (rules added by the platform)`,
      tags,
    }, child);
    const params = this.createParameterGroup(name, args, tags);

    const restoring = args.restoreSnapshotId !== undefined;
    this.instance = new aws.rds.Instance(`${name}-instance`, {
      identifier: args.identifier,
      engine: "postgres",
      instanceClass: args.instanceClass,
      // From a snapshot: version, size, key, database and user come from it (RDS refuses or ignores them).
      ...(restoring
        ? { snapshotIdentifier: args.restoreSnapshotId }
        : {
            engineVersion: args.engineMajor,
            allocatedStorage: args.storageGb,
            storageEncrypted: true,
            kmsKeyId: key.arn,
            dbName: this.dbName,
            username: this.username,
          }),
      storageType: "gp3",
      maxAllocatedStorage: args.maxStorageGb,
      manageMasterUserPassword: true,
      iamDatabaseAuthenticationEnabled: true,
      parameterGroupName: params.name,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [sg.id],
      publiclyAccessible: false,
      multiAz: args.multiAz,
      backupRetentionPeriod: args.backupRetentionDays,
      backupWindow: "03:00-04:00",
      maintenanceWindow: "sun:04:30-sun:05:30",
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: !safe,
      deletionProtection: safe,
      skipFinalSnapshot: !safe,
      ...(safe ? { finalSnapshotIdentifier: `${args.identifier}-final` } : {}),
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: key.arn,
      performanceInsightsRetentionPeriod: 7,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      applyImmediately: !safe,
      tags,
    }, { ...keep, customTimeouts: DATABASE_TIMEOUTS });

    this.instanceId = this.instance.identifier;
    this.arn = this.instance.arn;
    this.address = this.instance.address;
    this.securityGroupId = sg.id;
    this.kmsKeyArn = key.arn;
    this.masterSecretArn = this.instance.masterUserSecrets.apply((s) => {
      const arn = s?.[0]?.secretArn;
      if (!arn) throw new Error(`Database ${args.identifier}: RDS reported no master user secret`);
      return arn;
    });
    this.registerOutputs({ instanceId: this.instanceId, address: this.address, securityGroupId: this.securityGroupId });
  }

  private createParameterGroup(name: string, args: DatabaseArgs, tags: Record<string, string>): aws.rds.ParameterGroup {
    return new aws.rds.ParameterGroup(`${name}-params`, {
      family: `postgres${args.engineMajor}`,
      description: `${args.identifier}: TLS only, slow statement logging`,
      parameters: [
        // The connections alarms divide by this same number (postgresMaxConnections). A static parameter: after
        // an instance class change it applies at the next reboot (docs/RUNBOOK.md, scaling the database).
        {
          name: "max_connections",
          value: args.maxConnectionsFromFormula ? RDS_MAX_CONNECTIONS_FORMULA : String(this.maxConnections),
          applyMethod: "pending-reboot",
        },
        // Refuse every connection that is not TLS (the proxy and the services all use TLS).
        { name: "rds.force_ssl", value: "1" },
        { name: "log_min_duration_statement", value: String(args.slowStatementMs ?? SLOW_STATEMENT_MS_DEFAULT) },
        { name: "log_lock_waits", value: "1" },
        { name: "log_temp_files", value: "10240" },
      ],
      tags,
    }, { parent: this });
  }
}
