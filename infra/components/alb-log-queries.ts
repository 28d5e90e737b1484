/**
 * SQL over the load balancer's access logs with Athena, ready before an incident: a Glue database, the
 * `alb_logs` table over the access-log prefix with partition projection (one `day` partition per
 * `yyyy/MM/dd` folder, computed from the query; no crawler and no `ALTER TABLE ADD PARTITION`), and a
 * workgroup whose results go to a bucket of their own, encrypted (SSE-S3) and expired after a few days. The
 * workgroup enforces its settings, so a query cannot send results elsewhere or unencrypted.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Problems } from "./problems";
import { RETAIN, type RemovalPolicy } from "./removal";

export interface AlbLogQueriesArgs {
  /** `<project>-<env>`: the workgroup is `<prefix>-ops`; the database `<prefix>` in snake case plus `_logs`. */
  namePrefix: string;
  /** Bucket the ALB writes its access logs to. */
  accessLogBucket: pulumi.Input<string>;
  /** Key prefix the ALB writes under (the `prefix` of its access-log setting). */
  accessLogPrefix: string;
  /** Account and region of the load balancer: its logs are under `AWSLogs/<account>/elasticloadbalancing/<region>/`. */
  accountId: pulumi.Input<string>;
  region: string;
  /** Days the access logs are kept: the projected `day` range goes back this far. */
  accessLogRetentionDays: number;
  /** Days query results are kept. @default 7 */
  resultRetentionDays?: number;
  /** Largest scan per query, bytes (a runaway query stops there). @default 10 GiB */
  bytesScannedCutoffPerQuery?: number;
  /** `emptyOnDestroy`: `pulumi destroy` empties the results bucket and drops the workgroup's query history. @default RETAIN */
  removal?: RemovalPolicy;
  /** Tags on every child. */
  tags?: Record<string, string>;
}

/** Name of the table the runbook queries. */
export const ALB_LOGS_TABLE = "alb_logs";

/**
 * Columns of an ALB access log entry, in log order, with the types of AWS's table definition for ALB access logs
 * (https://docs.aws.amazon.com/athena/latest/ug/create-alb-access-logs-table.html; field meanings:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-format).
 */
export const ALB_LOG_COLUMNS: ReadonlyArray<readonly [name: string, type: string]> = [
  ["type", "string"], ["time", "string"], ["elb", "string"], ["client_ip", "string"], ["client_port", "int"],
  ["target_ip", "string"], ["target_port", "int"], ["request_processing_time", "double"], ["target_processing_time", "double"],
  ["response_processing_time", "double"], ["elb_status_code", "int"], ["target_status_code", "string"], ["received_bytes", "bigint"],
  ["sent_bytes", "bigint"], ["request_verb", "string"], ["request_url", "string"], ["request_proto", "string"], ["user_agent", "string"],
  ["ssl_cipher", "string"], ["ssl_protocol", "string"], ["target_group_arn", "string"], ["trace_id", "string"], ["domain_name", "string"],
  ["chosen_cert_arn", "string"], ["matched_rule_priority", "string"], ["request_creation_time", "string"], ["actions_executed", "string"],
  ["redirect_url", "string"], ["lambda_error_reason", "string"], ["target_port_list", "string"], ["target_status_code_list", "string"],
  ["classification", "string"], ["classification_reason", "string"], ["conn_trace_id", "string"],
];

/**
 * The RegexSerDe pattern of the same AWS table definition: one capture group per column above, in order (a
 * test counts them). Trailing fields AWS may add later fall into the last optional group and are ignored.
 */
export const ALB_LOG_REGEX =
  "([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) " +
  '\\"([^ ]*) (.*) (- |[^ ]*)\\" \\"([^\\"]*)\\" ([A-Z0-9-_]+) ([A-Za-z0-9.-]*) ([^ ]*) \\"([^\\"]*)\\" \\"([^\\"]*)\\" \\"([^\\"]*)\\" ' +
  '([-.0-9]*) ([^ ]*) \\"([^\\"]*)\\" \\"([^\\"]*)\\" \\"([^ ]*)\\" \\"([^\\s]+?)\\" \\"([^\\s]+)\\" \\"([^ ]*)\\" \\"([^ ]*)\\" ?([^ ]*)?';

/** The Glue/Athena database of a stack: `<project>-<env>` in snake case plus `_logs` (Athena names allow only lowercase letters, digits and `_`). */
export function logsDatabaseName(namePrefix: string): string {
  return `${namePrefix.replace(/-/g, "_")}_logs`;
}

// Athena database and table names: lowercase letters, digits and underscore.
// https://docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html
// Glue database names: 1 to 255 characters. https://docs.aws.amazon.com/glue/latest/webapi/API_CreateDatabase.html
const ATHENA_NAME = /^[a-z0-9_]{1,255}$/;
// Workgroup names: 1 to 128 of a-z, A-Z, 0-9, '.', '_', '-'. https://docs.aws.amazon.com/athena/latest/APIReference/API_CreateWorkGroup.html
const WORKGROUP_NAME = /^[a-zA-Z0-9._-]{1,128}$/;

export function albLogQueriesProblems(args: AlbLogQueriesArgs): Problems {
  const p = new Problems("AlbLogQueries");
  if (!ATHENA_NAME.test(logsDatabaseName(args.namePrefix))) p.add("namePrefix", args.namePrefix, "lowercase letters, digits and '-' (the database name turns '-' into '_')");
  if (!WORKGROUP_NAME.test(`${args.namePrefix}-ops`)) p.add("namePrefix", args.namePrefix, "at most 124 letters, digits, '.', '_' or '-' (workgroup name <prefix>-ops)");
  if (!/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/.test(args.accessLogPrefix)) p.add("accessLogPrefix", args.accessLogPrefix, "the ALB's key prefix without leading or trailing '/'");
  const whole = (v: number | undefined, min: number) => v === undefined || (Number.isInteger(v) && v >= min);
  if (!whole(args.accessLogRetentionDays, 1)) p.add("accessLogRetentionDays", args.accessLogRetentionDays, "a whole number of days >= 1");
  if (!whole(args.resultRetentionDays, 1)) p.add("resultRetentionDays", args.resultRetentionDays, "a whole number of days >= 1");
  // Athena's minimum for the per-query data usage control is 10 MB.
  // https://docs.aws.amazon.com/athena/latest/APIReference/API_WorkGroupConfiguration.html
  if (!whole(args.bytesScannedCutoffPerQuery, 10_000_000)) p.add("bytesScannedCutoffPerQuery", args.bytesScannedCutoffPerQuery, "a whole number of bytes >= 10000000 (Athena's minimum)");
  return p;
}

export class AlbLogQueries extends pulumi.ComponentResource {
  readonly databaseName: pulumi.Output<string>;
  readonly tableName: pulumi.Output<string>;
  readonly workgroupName: pulumi.Output<string>;
  readonly resultsBucketName: pulumi.Output<string>;

  constructor(name: string, args: AlbLogQueriesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:logs:AlbLogQueries", name, {}, opts);
    const emptyOnDestroy = (args.removal ?? RETAIN).emptyOnDestroy;
    albLogQueriesProblems(args).check();
    const tags = args.tags ?? {};
    const child = { parent: this };

    const results = this.createResultsBucket(name, args, tags, emptyOnDestroy);
    const database = new aws.glue.CatalogDatabase(`${name}-database`, {
      name: logsDatabaseName(args.namePrefix),
      description: `${args.namePrefix}: tables over the stack's logs in S3 (Athena)`,
    }, child);
    const location = pulumi.interpolate`s3://${args.accessLogBucket}/${args.accessLogPrefix}/AWSLogs/${args.accountId}/elasticloadbalancing/${args.region}/`;
    const table = new aws.glue.CatalogTable(`${name}-alb-logs`, {
      name: ALB_LOGS_TABLE,
      databaseName: database.name,
      description: "ALB access logs, one partition per day (partition projection)",
      tableType: "EXTERNAL_TABLE",
      partitionKeys: [{ name: "day", type: "string", comment: "yyyy/MM/dd (UTC), the folder the ALB wrote the file to" }],
      // Partition projection on a date-typed key: https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html
      parameters: {
        EXTERNAL: "TRUE",
        "projection.enabled": "true",
        "projection.day.type": "date",
        "projection.day.format": "yyyy/MM/dd",
        "projection.day.range": `NOW-${args.accessLogRetentionDays}DAYS,NOW`,
        "projection.day.interval": "1",
        "projection.day.interval.unit": "DAYS",
        "storage.location.template": pulumi.interpolate`${location}\${day}`,
      },
      storageDescriptor: {
        location,
        inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
        outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serDeInfo: {
          serializationLibrary: "org.apache.hadoop.hive.serde2.RegexSerDe",
          parameters: { "serialization.format": "1", "input.regex": ALB_LOG_REGEX },
        },
        columns: ALB_LOG_COLUMNS.map(([n, t]) => ({ name: n, type: t })),
      },
    }, child);
    const workgroup = new aws.athena.Workgroup(`${name}-workgroup`, {
      name: `${args.namePrefix}-ops`,
      description: `${args.namePrefix}: operators' log queries (results encrypted, expire after ${args.resultRetentionDays ?? 7} days)`,
      state: "ENABLED",
      forceDestroy: emptyOnDestroy,
      configuration: {
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: args.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        resultConfiguration: {
          outputLocation: pulumi.interpolate`s3://${results.bucket}/results/`,
          encryptionConfiguration: { encryptionOption: "SSE_S3" },
        },
      },
      tags,
    }, { parent: this, dependsOn: results.ready });

    this.databaseName = database.name;
    this.tableName = table.name;
    this.workgroupName = workgroup.name;
    this.resultsBucketName = results.bucket;
    this.registerOutputs({ databaseName: this.databaseName, tableName: this.tableName, workgroupName: this.workgroupName, resultsBucketName: this.resultsBucketName });
  }

  /** Private, owner-enforced, SSE-S3, TLS-only bucket whose objects expire after `resultRetentionDays`. */
  private createResultsBucket(name: string, args: AlbLogQueriesArgs, tags: Record<string, string>, emptyOnDestroy: boolean) {
    const child = { parent: this };
    const bucket = new aws.s3.Bucket(`${name}-results`, { forceDestroy: emptyOnDestroy, tags: { ...tags, Purpose: "athena-results" } }, child);
    const ownership = new aws.s3.BucketOwnershipControls(`${name}-results-ownership`, {
      bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" },
    }, child);
    const publicBlock = new aws.s3.BucketPublicAccessBlock(`${name}-results-public-block`, {
      bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    }, child);
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-results-encryption`, {
      bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    }, child);
    const lifecycle = new aws.s3.BucketLifecycleConfiguration(`${name}-results-lifecycle`, {
      bucket: bucket.id,
      rules: [{
        id: "expire-query-results", status: "Enabled", filter: { prefix: "" },
        expiration: { days: args.resultRetentionDays ?? 7 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      }],
    }, child);
    const policy = new aws.s3.BucketPolicy(`${name}-results-policy`, {
      bucket: bucket.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [{
          Sid: "DenyPlainHttp", Effect: "Deny", Principal: "*", Action: "s3:*",
          Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }],
      }),
    }, { parent: this, dependsOn: [publicBlock] });
    return { bucket: bucket.bucket, ready: [ownership, publicBlock, encryption, lifecycle, policy] };
  }
}
