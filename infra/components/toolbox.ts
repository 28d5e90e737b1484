/**
 * The operators' toolbox: a Fargate task definition (no service) whose image carries `psql`, `redis-cli` with
 * TLS, the AWS CLI and the `toolbox` helper (apps/toolbox/). An operator starts one task with `aws ecs
 * run-task --enable-execute-command` (the network settings are a stack output) and opens a shell in it with
 * ECS Exec; `toolbox psql` signs in to RDS Proxy with a 15-minute IAM token, `toolbox redis-cli` reads the
 * Redis AUTH token from Secrets Manager. The task stops by itself after `maxSessionSeconds`.
 *
 * Own security group (HTTPS out for AWS APIs; the platform adds the rules to the proxy and Redis), own log
 * group, own roles: the task role may open the ECS Exec channel plus exactly what the platform passes in
 * (`rds-db:connect` for the proxy user, `secretsmanager:GetSecretValue` on the Redis secret); the execution
 * role may pull the image and write to the log group only.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LOG_RETENTION_DAYS } from "./aws-limits";
import { Problems } from "./problems";
import type { IamStatement } from "./service-iam";
import { ecsTasksTrustPolicy, executionRoleStatements, taskRoleStatements, wildcardActions } from "./service-iam";
import { WRITABLE_PATHS } from "./service";

/** Container name (`--container` of `aws ecs execute-command`). */
export const TOOLBOX_CONTAINER = "toolbox";

export interface OperatorToolboxArgs {
  /** Task definition family `<project>-<env>-toolbox`. */
  family: string;
  /** Region of the stack (logs, and `AWS_REGION` for the helper). */
  region: string;
  /** Account of the stack: only its ECS tasks may assume the roles. */
  accountId: pulumi.Input<string>;
  /** VPC of the security group. */
  vpcId: pulumi.Input<string>;
  /** Private subnets the task runs in (part of the run-task network settings). */
  subnetIds: pulumi.Input<string>[];
  /** Image URI (the pushed build by digest, or a configured URI). */
  image: pulumi.Input<string>;
  /** ECR repositories the image comes from; the execution role may pull from these only. */
  repositoryArns: pulumi.Input<string>[];
  /** Plain environment: where the database and Redis are (never a secret). */
  environment: Record<string, pulumi.Input<string>>;
  /** Task-role statements from the platform (database connect, the Redis secret). Wildcard actions are refused. */
  taskPolicyStatements: IamStatement[];
  /** Log group `/ecs/<project>-<env>/toolbox`. */
  logGroupName: string;
  /** Days the log group keeps events. */
  logRetentionDays: number;
  /** KMS key of the log group. @default AWS-owned key */
  logKmsKeyArn?: pulumi.Input<string>;
  /** Seconds a toolbox task lives before it stops itself (a forgotten one does not run for ever). @default 28800 (8 h) */
  maxSessionSeconds?: number;
  /** Tags on every child. */
  tags?: Record<string, string>;
}

export function operatorToolboxProblems(args: OperatorToolboxArgs): Problems {
  const p = new Problems("OperatorToolbox");
  if (!/^[a-zA-Z0-9_-]{1,255}$/.test(args.family)) p.add("family", args.family, "1 to 255 letters, digits, '-' or '_' (use Naming.name)");
  if (!args.logGroupName.startsWith("/ecs/")) p.add("logGroupName", args.logGroupName, "expected /ecs/<project>-<env>/toolbox (use Naming.logGroup)");
  if (!LOG_RETENTION_DAYS.includes(args.logRetentionDays)) p.add("logRetentionDays", args.logRetentionDays, `allowed: ${LOG_RETENTION_DAYS.join(", ")}`);
  if (args.subnetIds.length === 0) p.add("subnetIds", args.subnetIds, "list the private subnets the task runs in");
  const s = args.maxSessionSeconds;
  if (s !== undefined && (!Number.isInteger(s) || s < 60 || s > 86_400)) p.add("maxSessionSeconds", s, "a whole number of seconds from 60 to 86400");
  for (const k of Object.keys(args.environment)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) p.add("environment", k, "variable names are letters, digits and '_'");
  const wild = wildcardActions(args.taskPolicyStatements);
  if (wild.length) p.add("taskPolicyStatements", wild, "wildcard actions are not allowed; list the actions");
  return p;
}

export class OperatorToolbox extends pulumi.ComponentResource {
  readonly taskDefinitionArn: pulumi.Output<string>;
  readonly family: string;
  readonly securityGroupId: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  /** `--network-configuration` of `aws ecs run-task` (private subnets, the toolbox group, no public IP). */
  readonly networkConfiguration: pulumi.Output<{ awsvpcConfiguration: { subnets: string[]; securityGroups: string[]; assignPublicIp: "DISABLED" } }>;

  constructor(name: string, args: OperatorToolboxArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:ecs:OperatorToolbox", name, {}, opts);
    operatorToolboxProblems(args).check();
    const tags = { ...(args.tags ?? {}), Service: TOOLBOX_CONTAINER };
    const child = { parent: this };

    const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId: args.vpcId,
      description: "Operator toolbox tasks: no inbound traffic (ECS Exec goes out through SSM)",
      revokeRulesOnDelete: true,
      tags: { ...tags, Name: `${args.family}-sg` },
    }, child);
    new aws.vpc.SecurityGroupEgressRule(`${name}-out-https`, {
      securityGroupId: sg.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443,
      description: "HTTPS to AWS APIs (SSM messages, Secrets Manager) through endpoints or NAT",
    }, child);
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
      name: args.logGroupName, retentionInDays: args.logRetentionDays, kmsKeyId: args.logKmsKeyArn, tags,
    }, child);

    const trust = pulumi.jsonStringify(ecsTasksTrustPolicy(args.accountId));
    const execution = new aws.iam.Role(`${name}-execution-role`, {
      description: `ECS starts ${args.family} tasks with it: image pull, logs`, assumeRolePolicy: trust, tags,
    }, child);
    new aws.iam.RolePolicy(`${name}-execution-policy`, {
      role: execution.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: executionRoleStatements({ logGroupArn: logGroup.arn, repositoryArns: args.repositoryArns, secretArns: [] }),
      }),
    }, child);
    const task = new aws.iam.Role(`${name}-task-role`, {
      description: `${args.family}: operators' database and Redis sign-in, ECS Exec`, assumeRolePolicy: trust, tags,
    }, child);
    new aws.iam.RolePolicy(`${name}-task-policy`, {
      role: task.id,
      policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: taskRoleStatements(true, args.taskPolicyStatements) }),
    }, child);

    const sorted = Object.keys(args.environment).sort();
    const container = {
      name: TOOLBOX_CONTAINER,
      image: args.image,
      essential: true,
      command: ["sleep", String(args.maxSessionSeconds ?? 28_800)],
      environment: [
        ...sorted.map((k) => ({ name: k, value: args.environment[k]! })),
        { name: "AWS_REGION", value: args.region },
      ],
      logConfiguration: {
        logDriver: "awslogs",
        options: { "awslogs-group": logGroup.name, "awslogs-region": args.region, "awslogs-stream-prefix": TOOLBOX_CONTAINER },
      },
      readonlyRootFilesystem: true,
      mountPoints: Object.entries(WRITABLE_PATHS).map(([volume, path]) => ({ sourceVolume: volume, containerPath: path, readOnly: false })),
      // init reaps the processes ECS Exec sessions leave behind
      linuxParameters: { initProcessEnabled: true },
    };
    const taskDefinition = new aws.ecs.TaskDefinition(`${name}-task`, {
      family: args.family,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: "256",
      memory: "512",
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      executionRoleArn: execution.arn,
      taskRoleArn: task.arn,
      volumes: Object.keys(WRITABLE_PATHS).map((volume) => ({ name: volume })),
      containerDefinitions: pulumi.jsonStringify([container]),
      tags,
    }, child);

    this.taskDefinitionArn = taskDefinition.arn;
    this.family = args.family;
    this.securityGroupId = sg.id;
    this.logGroupName = logGroup.name;
    this.taskRoleArn = task.arn;
    this.networkConfiguration = pulumi.all([pulumi.output(args.subnetIds), sg.id]).apply(([subnets, sgId]) => ({
      awsvpcConfiguration: { subnets: subnets as string[], securityGroups: [sgId], assignPublicIp: "DISABLED" as const },
    }));
    this.registerOutputs({
      taskDefinitionArn: this.taskDefinitionArn, securityGroupId: this.securityGroupId, logGroupName: this.logGroupName,
      networkConfiguration: this.networkConfiguration,
    });
  }
}
