/**
 * IAM documents of a Fargate service as typed objects (serialised with `pulumi.jsonStringify`), kept apart
 * from the component so they can be read and tested on their own.
 *
 * - Execution role (used by ECS to start the task): pull the image from the given ECR repositories, write to
 *   the service's one log group, read exactly the secrets the task definition references.
 * - Task role (used by the application): the SSM messages channel ECS Exec needs, plus what the platform
 *   passes in (database connect, queue send/receive...). Nothing else.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./policy";

/** One IAM policy statement (the components' shared `PolicyStatement`). `*` is only allowed as a resource where AWS has no resource-level permissions. */
export type IamStatement = PolicyStatement;

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: IamStatement[];
}

/** Channel actions the SSM agent in the container needs for ECS Exec (no resource-level permissions exist for them). */
export const SSM_MESSAGES_ACTIONS = [
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
];

/** Image pull actions scoped to repositories. */
export const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

/** Trust policy letting ECS tasks of this account assume the role (the condition blocks the confused deputy). */
export function ecsTasksTrustPolicy(accountId: pulumi.Input<string>): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Service: "ecs-tasks.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": accountId } },
    }],
  };
}

export interface ExecutionRoleInputs {
  /** ARN of the service's log group. */
  logGroupArn: pulumi.Input<string>;
  /** ECR repositories the task's image may come from (none for a public image). */
  repositoryArns: pulumi.Input<string>[];
  /** Secrets Manager ARNs the task definition references. */
  secretArns: pulumi.Input<string>[];
}

/** Statements of the execution role: image pull, log writes, the listed secrets. */
export function executionRoleStatements(i: ExecutionRoleInputs): IamStatement[] {
  const statements: IamStatement[] = [
    { Sid: "WriteServiceLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [logStreams(i.logGroupArn)] },
  ];
  if (i.repositoryArns.length) {
    // GetAuthorizationToken has no resource-level permissions; the pull itself is scoped to the repositories.
    statements.push(
      { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      { Sid: "PullServiceImage", Effect: "Allow", Action: ECR_PULL_ACTIONS, Resource: i.repositoryArns },
    );
  }
  if (i.secretArns.length) {
    statements.push({ Sid: "ReadServiceSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: i.secretArns });
  }
  return statements;
}

/** Statements of the task role: ECS Exec's channel (when enabled) and the platform's statements. */
export function taskRoleStatements(execEnabled: boolean, extra: IamStatement[]): IamStatement[] {
  const own: IamStatement[] = execEnabled
    ? [{ Sid: "EcsExecChannel", Effect: "Allow", Action: SSM_MESSAGES_ACTIONS, Resource: ["*"] }]
    : [];
  return [...own, ...extra];
}

/** `<log group arn>:log-stream:*` (the log group ARN from the provider has no trailing `:*`). */
function logStreams(logGroupArn: pulumi.Input<string>): pulumi.Input<string> {
  if (typeof logGroupArn === "string") return `${logGroupArn.replace(/:\*$/, "")}:log-stream:*`;
  return (logGroupArn as pulumi.Output<string>).apply((arn) => `${arn.replace(/:\*$/, "")}:log-stream:*`);
}

/** Actions that contain a wildcard (`*`, `sqs:*`, `sqs:Send*`), as `Sid: action` strings. */
export function wildcardActions(statements: IamStatement[]): string[] {
  return statements.flatMap((s) => s.Action.filter((a) => a.includes("*")).map((a) => `${s.Sid ?? "(no Sid)"}: ${a}`));
}

/** ARN of the ECR repository an image URI points to, or undefined for a non-ECR image. */
export function ecrRepositoryArn(imageUri: string): string | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(imageUri);
  if (!m) return undefined;
  const partition = imageUri.includes(".amazonaws.com.cn/") ? "aws-cn" : "aws";
  return `arn:${partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}`;
}
