import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountAdministersKey } from "./policy";
import { Problems } from "./problems";

export type ContainerInsights = "enhanced" | "enabled" | "disabled";
const INSIGHTS: readonly ContainerInsights[] = ["enhanced", "enabled", "disabled"];

export interface EcsClusterArgs {
  /** Cluster name, `<project>-<env>` (from the naming helper). Changing it replaces the cluster and its services. */
  clusterName: string;
  /** Region of the stack: scopes the log key to this region's CloudWatch Logs. */
  region: string;
  /** Account of the stack (key policy root and the log-group condition). */
  accountId: pulumi.Input<string>;
  /**
   * Container Insights level. `enhanced` adds per-task and per-container metrics (billed per metric);
   * `enabled` is service-level only. The workers' backlog scaling reads `RunningTaskCount`, which needs one of
   * the two. @default "enhanced"
   */
  containerInsights?: ContainerInsights;
  /** Days before a deleted log key is gone for good (7 to 30). @default 30 */
  keyDeletionWindowDays?: number;
  /** Tags on every child. */
  tags?: Record<string, string>;
}

/** Every wiring problem with the plain arguments (field, value, fix). */
export function ecsClusterProblems(args: EcsClusterArgs): Problems {
  const p = new Problems("EcsCluster");
  const bad = (field: string, value: unknown, allowed: string) => p.add(field, value, allowed);
  if (!/^[a-zA-Z0-9_-]{1,255}$/.test(args.clusterName)) bad("clusterName", args.clusterName, "1 to 255 letters, digits, '-' or '_' (use Naming.prefix)");
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(args.region)) bad("region", args.region, "an AWS region name like us-east-1");
  if (args.containerInsights !== undefined && !INSIGHTS.includes(args.containerInsights)) {
    bad("containerInsights", args.containerInsights, `allowed: ${INSIGHTS.join(", ")}`);
  }
  const w = args.keyDeletionWindowDays;
  if (w !== undefined && (!Number.isInteger(w) || w < 7 || w > 30)) bad("keyDeletionWindowDays", w, "must be a whole number from 7 to 30");
  return p;
}

/** Throws one error naming each bad field, its value and what is allowed. */
export function validateEcsClusterArgs(args: EcsClusterArgs): void {
  ecsClusterProblems(args).check();
}

/**
 * The ECS cluster the three services run in: Fargate only, Container Insights on, ECS Exec sessions without
 * output logging (CloudTrail records every ExecuteCommand call; logging session output would need log write
 * permissions on every task role). Also owns the KMS key that encrypts the services' log groups: one key for
 * the cluster, usable by CloudWatch Logs only for log groups under `/ecs/<cluster name>/`.
 */
export class EcsCluster extends pulumi.ComponentResource {
  readonly cluster: aws.ecs.Cluster;
  readonly clusterName: pulumi.Output<string>;
  readonly clusterArn: pulumi.Output<string>;
  /** Key for the services' log groups (`kmsKeyId` of `/ecs/<cluster name>/<service>`). */
  readonly logKeyArn: pulumi.Output<string>;

  constructor(name: string, args: EcsClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:ecs:EcsCluster", name, {}, opts);
    validateEcsClusterArgs(args);
    const tags = args.tags ?? {};
    const child = { parent: this };

    const logKey = this.createLogKey(name, args, tags);
    this.cluster = new aws.ecs.Cluster(`${name}-cluster`, {
      name: args.clusterName,
      settings: [{ name: "containerInsights", value: args.containerInsights ?? "enhanced" }],
      configuration: { executeCommandConfiguration: { logging: "NONE" } },
      tags: { ...tags, Name: args.clusterName },
    }, child);
    new aws.ecs.ClusterCapacityProviders(`${name}-capacity`, {
      clusterName: this.cluster.name,
      capacityProviders: ["FARGATE"],
      defaultCapacityProviderStrategies: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    }, child);

    this.clusterName = this.cluster.name;
    this.clusterArn = this.cluster.arn;
    this.logKeyArn = logKey.arn;
    this.registerOutputs({ clusterName: this.clusterName, clusterArn: this.clusterArn, logKeyArn: this.logKeyArn });
  }

  private createLogKey(name: string, args: EcsClusterArgs, tags: Record<string, string>): aws.kms.Key {
    const logGroups = pulumi.interpolate`arn:aws:logs:${args.region}:${args.accountId}:log-group:/ecs/${args.clusterName}/*`;
    return new aws.kms.Key(`${name}-log-key`, {
      description: `${args.clusterName}: service log groups`,
      enableKeyRotation: true,
      deletionWindowInDays: args.keyDeletionWindowDays ?? 30,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          accountAdministersKey(args.accountId),
          {
            Sid: "CloudWatchLogsUsesForServiceLogGroups",
            Effect: "Allow",
            Principal: { Service: `logs.${args.region}.amazonaws.com` },
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
            Resource: "*",
            Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": logGroups } },
          },
        ],
      }),
      tags: { ...tags, Name: `${args.clusterName}-logs` },
    }, { parent: this });
  }
}
