import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_LIMITS, FARGATE_TASK_SIZES, fargateMemoryFor, LOG_RETENTION_DAYS } from "./aws-limits";
import type { IamStatement } from "./service-iam";
import { ecsTasksTrustPolicy, executionRoleStatements, taskRoleStatements, wildcardActions } from "./service-iam";
import type { ScalingPolicySpec } from "./scaling";
import { scalingPolicyProblems, targetTrackingConfiguration } from "./scaling";
import { Problems } from "./problems";

/** Fargate's ceiling for a container's stop timeout, seconds (`AWS_LIMITS.ecs`). */
export const FARGATE_MAX_STOP_TIMEOUT = AWS_LIMITS.ecs.fargateStopTimeoutSeconds.max;

/**
 * Writable scratch folders of a read-only container: the app's `/tmp`, and the folders the SSM agent of ECS
 * Exec writes to (it fails to start on a read-only root otherwise; aws/containers-roadmap#1359).
 */
export const WRITABLE_PATHS: Record<string, string> = { tmp: "/tmp", "ssm-lib": "/var/lib/amazon", "ssm-log": "/var/log/amazon" };

export interface FargateServiceArgs {
  /** Service name `<project>-<env>-<service>`; also the task family. Changing it replaces the service. */
  serviceName: string;
  /** Container name (`api`, `realtime`, `workers`): ECS Exec and the ALB address the container by it. */
  containerName: string;
  /** Port the container listens on (the health check and the ALB use it). */
  port: number;
  /** Cluster the service runs in. Changing it replaces the service. */
  clusterArn: pulumi.Input<string>;
  /** Cluster name, for the autoscaling resource id. */
  clusterName: pulumi.Input<string>;
  /** Region of the stack (the awslogs driver writes there). */
  region: string;
  /** Account of the stack: only its ECS tasks may assume the roles. */
  accountId: pulumi.Input<string>;
  /** VPC of the service's security group. */
  vpcId: pulumi.Input<string>;
  /** Private subnets; tasks never get a public IP. */
  subnetIds: pulumi.Input<string>[];
  /** Image URI (a digest reference from the build, or a configured URI). */
  image: pulumi.Input<string>;
  /** ECR repositories the image comes from; the execution role may pull from these only. */
  repositoryArns: pulumi.Input<string>[];
  /** Fargate cpu units (256 = 0.25 vCPU). */
  cpu: number;
  /** Fargate memory, MiB; must be a valid pair with `cpu`. */
  memory: number;
  /** Plain environment variables (name -> value). */
  environment?: Record<string, pulumi.Input<string>>;
  /** Secrets injected at start (env name -> Secrets Manager ARN, optionally `<arn>:<json key>::`). */
  secrets?: Record<string, pulumi.Input<string>>;
  /** Secret ARNs the execution role may read: exactly the secrets above, without json-key suffixes. */
  secretArns?: pulumi.Input<string>[];
  /** Extra task-role statements (database connect, queue access...). Wildcard actions are refused. */
  taskPolicyStatements?: IamStatement[];
  /** Log group `/ecs/<project>-<env>/<service>`. */
  logGroupName: string;
  /** Days the log group keeps events (a CloudWatch Logs retention value). */
  logRetentionDays: number;
  /** KMS key encrypting the log group. @default AWS-owned key */
  logKmsKeyArn?: pulumi.Input<string>;
  /** Attach to an ALB target group; the service's security group then admits the ALB's on `port` only. */
  loadBalancer?: { targetGroupArn: pulumi.Input<string>; albSecurityGroupId: pulumi.Input<string>; dependsOn?: pulumi.Resource[] };
  /**
   * Resources the service waits for before ECS starts tasks (e.g. the RDS Proxy target registration: until the
   * instance is registered the proxy refuses connections and new tasks fail their readiness check). @default none
   */
  dependsOn?: pulumi.Resource[];
  /** Seconds ECS ignores failing ALB health checks after a task starts. @default 60 */
  healthCheckGracePeriodSeconds?: number;
  /** Path of the container health check (`GET http://127.0.0.1:<port><path>`). @default "/health" */
  healthCheckPath?: string;
  /** Seconds between SIGTERM and SIGKILL (Fargate allows up to 120). @default 30 */
  stopTimeoutSeconds?: number;
  /** Rolling deploy bounds, percent of the desired count. @default { minimumHealthyPercent: 100, maximumPercent: 200 } */
  deployment?: { minimumHealthyPercent: number; maximumPercent: number };
  /** CloudWatch alarms that, when one fires during a deployment, roll the deployment back (with the circuit breaker). */
  deploymentAlarmNames?: pulumi.Input<string>[];
  /** Read-only root filesystem with writable `/tmp` and ECS Exec folders. @default true */
  readonlyRootFilesystem?: boolean;
  /** ECS Exec (shell access through SSM). Adds the SSM messages channel to the task role. @default true */
  enableExecuteCommand?: boolean;
  /** Autoscaling: bounds (min is also the initial desired count) and target-tracking policies. */
  scaling: { min: number; max: number; policies: ScalingPolicySpec[] };
  /** Tags on every child (the service's tags propagate to its tasks). */
  tags?: Record<string, string>;
}

/** Every wiring problem with the plain arguments (field, value, fix). */
export function fargateServiceProblems(args: FargateServiceArgs): Problems {
  const p = new Problems(`FargateService ${args.serviceName}`);
  const bad = (field: string, value: unknown, allowed: string) => p.add(field, value, allowed);
  const whole = (v: number | undefined, min: number, max: number) => v === undefined || (Number.isInteger(v) && v >= min && v <= max);
  if (!/^[a-zA-Z0-9_-]{1,255}$/.test(args.serviceName)) bad("serviceName", args.serviceName, "1 to 255 letters, digits, '-' or '_' (use Naming.name)");
  if (!/^[a-zA-Z0-9_-]{1,255}$/.test(args.containerName)) bad("containerName", args.containerName, "letters, digits, '-' or '_'");
  if (!whole(args.port, 1, 65535)) bad("port", args.port, "must be a whole number from 1 to 65535");
  if (args.subnetIds.length === 0) bad("subnetIds", args.subnetIds, "list the private subnets the tasks run in");
  const memories = fargateMemoryFor(args.cpu);
  if (!memories) bad("cpu", args.cpu, `not a Fargate cpu value; allowed: ${Object.keys(FARGATE_TASK_SIZES).join(", ")}`);
  else if (!memories.includes(args.memory)) bad("memory", args.memory, `not valid with cpu ${args.cpu} on Fargate`);
  if (!LOG_RETENTION_DAYS.includes(args.logRetentionDays)) bad("logRetentionDays", args.logRetentionDays, `allowed: ${LOG_RETENTION_DAYS.join(", ")}`);
  if (!args.logGroupName.startsWith("/ecs/")) bad("logGroupName", args.logGroupName, "expected /ecs/<project>-<env>/<service> (use Naming.logGroup)");
  const stop = AWS_LIMITS.ecs.fargateStopTimeoutSeconds;
  if (!whole(args.stopTimeoutSeconds, stop.min, stop.max)) bad("stopTimeoutSeconds", args.stopTimeoutSeconds, `must be a whole number from ${stop.min} to ${stop.max} (Fargate limit)`);
  if (!whole(args.healthCheckGracePeriodSeconds, 0, 2_147_483_647)) bad("healthCheckGracePeriodSeconds", args.healthCheckGracePeriodSeconds, "must be a whole number >= 0");
  if (args.healthCheckPath !== undefined && !/^\/[\w\-./]*$/.test(args.healthCheckPath)) bad("healthCheckPath", args.healthCheckPath, "a path like /health");
  const d = args.deployment;
  if (d && (!whole(d.minimumHealthyPercent, 0, 100) || !whole(d.maximumPercent, 100, 200) || d.maximumPercent <= d.minimumHealthyPercent)) {
    bad("deployment", d, "minimumHealthyPercent 0 to 100, maximumPercent 100 to 200 and above the minimum");
  }
  const s = args.scaling;
  if (!whole(s.min, 0, 5000) || !whole(s.max, 1, 5000) || s.min > s.max) bad("scaling", { min: s.min, max: s.max }, "whole numbers with 0 <= min <= max and max >= 1");
  if (s.policies.length === 0) bad("scaling.policies", [], "add at least one policy (autoscaling owns desiredCount)");
  scalingPolicyProblems(s.policies, p);
  const env = Object.keys(args.environment ?? {});
  const clash = Object.keys(args.secrets ?? {}).filter((k) => env.includes(k));
  if (clash.length) bad("secrets", clash, "these names are also plain environment variables; keep each name in one of the two");
  for (const k of [...env, ...Object.keys(args.secrets ?? {})]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) bad("environment", k, "variable names are letters, digits and '_', not starting with a digit");
  }
  if (Object.keys(args.secrets ?? {}).length && !(args.secretArns ?? []).length) {
    bad("secretArns", [], "the task definition references secrets; list their ARNs so the execution role may read them");
  }
  const wild = wildcardActions(args.taskPolicyStatements ?? []);
  if (wild.length) bad("taskPolicyStatements", wild, "wildcard actions are not allowed; list the actions");
  return p;
}

/** Throws one error naming the service, each bad field, its value and the fix. */
export function validateFargateServiceArgs(args: FargateServiceArgs): void {
  fargateServiceProblems(args).check();
}

/**
 * One Fargate service: security group, log group, execution and task roles, task definition, the ECS service
 * (private subnets, no public IP, circuit breaker with rollback, ECS Exec) and its autoscaling. The security
 * group admits the ALB's group on the container port only (no ingress without a load balancer) and sends
 * HTTPS anywhere (AWS APIs, push gateway); the platform adds database and Redis rules. Autoscaling owns the
 * desired count, so the service ignores changes to it.
 */
export class FargateService extends pulumi.ComponentResource {
  readonly service: aws.ecs.Service;
  readonly serviceName: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  readonly taskRoleName: pulumi.Output<string>;
  readonly executionRoleName: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  readonly taskDefinitionArn: pulumi.Output<string>;
  /** Task definition family (`aws ecs list-task-definitions --family-prefix`). */
  readonly taskFamily: string;

  constructor(name: string, args: FargateServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:ecs:FargateService", name, {}, opts);
    validateFargateServiceArgs(args);
    const tags = { ...(args.tags ?? {}), Service: args.containerName };
    const child = { parent: this };

    const sg = this.createSecurityGroup(name, args, tags);
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
      name: args.logGroupName,
      retentionInDays: args.logRetentionDays,
      kmsKeyId: args.logKmsKeyArn,
      tags,
    }, child);
    const roles = this.createRoles(name, args, logGroup, tags);
    const taskDefinition = this.createTaskDefinition(name, args, logGroup, roles, tags);

    const deployment = args.deployment ?? { minimumHealthyPercent: 100, maximumPercent: 200 };
    this.service = new aws.ecs.Service(`${name}-service`, {
      name: args.serviceName,
      cluster: args.clusterArn,
      taskDefinition: taskDefinition.arn,
      desiredCount: args.scaling.min,
      launchType: "FARGATE",
      platformVersion: "LATEST",
      networkConfiguration: { subnets: args.subnetIds, securityGroups: [sg.id], assignPublicIp: false },
      loadBalancers: args.loadBalancer
        ? [{ targetGroupArn: args.loadBalancer.targetGroupArn, containerName: args.containerName, containerPort: args.port }]
        : undefined,
      healthCheckGracePeriodSeconds: args.loadBalancer ? (args.healthCheckGracePeriodSeconds ?? 60) : undefined,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      alarms: args.deploymentAlarmNames?.length ? { alarmNames: args.deploymentAlarmNames, enable: true, rollback: true } : undefined,
      deploymentMinimumHealthyPercent: deployment.minimumHealthyPercent,
      deploymentMaximumPercent: deployment.maximumPercent,
      enableExecuteCommand: args.enableExecuteCommand ?? true,
      availabilityZoneRebalancing: "ENABLED",
      propagateTags: "SERVICE",
      enableEcsManagedTags: true,
      waitForSteadyState: false,
      tags,
    }, {
      parent: this,
      ignoreChanges: ["desiredCount"],
      // the service name is fixed (contract name): ECS refuses a second active service of that name
      deleteBeforeReplace: true,
      // tasks start only once their roles can pull, log and read secrets, and the target group has a listener
      dependsOn: [...roles.policies, ...(args.loadBalancer?.dependsOn ?? []), ...(args.dependsOn ?? [])],
    });

    this.createScaling(name, args);

    this.serviceName = this.service.name;
    this.securityGroupId = sg.id;
    this.taskRoleArn = roles.task.arn;
    this.taskRoleName = roles.task.name;
    this.executionRoleName = roles.execution.name;
    this.logGroupName = logGroup.name;
    this.taskDefinitionArn = taskDefinition.arn;
    this.taskFamily = args.serviceName;
    this.registerOutputs({
      serviceName: this.serviceName, securityGroupId: this.securityGroupId, taskRoleArn: this.taskRoleArn,
      taskRoleName: this.taskRoleName, executionRoleName: this.executionRoleName, logGroupName: this.logGroupName,
      taskDefinitionArn: this.taskDefinitionArn,
    });
  }

  /** Standalone rules, so the platform may add database and Redis rules to the same group. */
  private createSecurityGroup(name: string, args: FargateServiceArgs, tags: Record<string, string>): aws.ec2.SecurityGroup {
    const child = { parent: this };
    const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId: args.vpcId,
      description: args.loadBalancer
        ? `${args.containerName} tasks: port ${args.port} from the load balancer only`
        : `${args.containerName} tasks: no inbound traffic`,
      revokeRulesOnDelete: true,
      tags: { ...tags, Name: `${args.serviceName}-sg` },
    }, child);
    if (args.loadBalancer) {
      new aws.vpc.SecurityGroupIngressRule(`${name}-in-alb`, {
        securityGroupId: sg.id, referencedSecurityGroupId: args.loadBalancer.albSecurityGroupId,
        ipProtocol: "tcp", fromPort: args.port, toPort: args.port,
        description: "Traffic and health checks from the load balancer",
      }, child);
    }
    new aws.vpc.SecurityGroupEgressRule(`${name}-out-https`, {
      securityGroupId: sg.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443,
      description: "HTTPS to AWS APIs (through endpoints or NAT) and the push gateway",
    }, child);
    return sg;
  }

  private createRoles(name: string, args: FargateServiceArgs, logGroup: aws.cloudwatch.LogGroup, tags: Record<string, string>) {
    const child = { parent: this };
    const trust = pulumi.jsonStringify(ecsTasksTrustPolicy(args.accountId));
    const execution = new aws.iam.Role(`${name}-execution-role`, {
      description: `ECS starts ${args.serviceName} tasks with it: image pull, logs, secrets`,
      assumeRolePolicy: trust,
      tags,
    }, child);
    const policies: aws.iam.RolePolicy[] = [];
    policies.push(new aws.iam.RolePolicy(`${name}-execution-policy`, {
      role: execution.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: executionRoleStatements({ logGroupArn: logGroup.arn, repositoryArns: args.repositoryArns, secretArns: args.secretArns ?? [] }),
      }),
    }, child));
    const task = new aws.iam.Role(`${name}-task-role`, {
      description: `${args.serviceName} application role`,
      assumeRolePolicy: trust,
      tags,
    }, child);
    const statements = taskRoleStatements(args.enableExecuteCommand ?? true, args.taskPolicyStatements ?? []);
    if (statements.length) {
      policies.push(new aws.iam.RolePolicy(`${name}-task-policy`, {
        role: task.id,
        policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }),
      }, child));
    }
    return { execution, task, policies };
  }

  private createTaskDefinition(name: string, args: FargateServiceArgs, logGroup: aws.cloudwatch.LogGroup,
    roles: { execution: aws.iam.Role; task: aws.iam.Role }, tags: Record<string, string>): aws.ecs.TaskDefinition {
    const readonly = args.readonlyRootFilesystem ?? true;
    const sorted = (m: Record<string, pulumi.Input<string>>) => Object.keys(m).sort().map((k) => ({ k, v: m[k]! }));
    const probe = `fetch('http://127.0.0.1:${args.port}${args.healthCheckPath ?? "/health"}')` +
      ".then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))";
    const container = {
      name: args.containerName,
      image: args.image,
      essential: true,
      portMappings: [{ containerPort: args.port, protocol: "tcp", name: args.containerName }],
      environment: sorted(args.environment ?? {}).map(({ k, v }) => ({ name: k, value: v })),
      secrets: sorted(args.secrets ?? {}).map(({ k, v }) => ({ name: k, valueFrom: v })),
      logConfiguration: {
        logDriver: "awslogs",
        options: { "awslogs-group": logGroup.name, "awslogs-region": args.region, "awslogs-stream-prefix": args.containerName },
      },
      healthCheck: { command: ["CMD", "node", "-e", probe], interval: 15, timeout: 5, retries: 3, startPeriod: 30 },
      stopTimeout: args.stopTimeoutSeconds ?? 30,
      readonlyRootFilesystem: readonly,
      mountPoints: readonly ? Object.entries(WRITABLE_PATHS).map(([volume, path]) => ({ sourceVolume: volume, containerPath: path, readOnly: false })) : [],
      // init reaps the SSM agent's child processes that ECS Exec leaves behind
      linuxParameters: { initProcessEnabled: true },
      ulimits: [{ name: "nofile", softLimit: 65_536, hardLimit: 65_536 }],
    };
    return new aws.ecs.TaskDefinition(`${name}-task`, {
      family: args.serviceName,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(args.cpu),
      memory: String(args.memory),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      executionRoleArn: roles.execution.arn,
      taskRoleArn: roles.task.arn,
      volumes: readonly ? Object.keys(WRITABLE_PATHS).map((volume) => ({ name: volume })) : undefined,
      containerDefinitions: pulumi.jsonStringify([container]),
      tags,
    }, { parent: this });
  }

  private createScaling(name: string, args: FargateServiceArgs): void {
    const child = { parent: this };
    const target = new aws.appautoscaling.Target(`${name}-scaling`, {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: pulumi.interpolate`service/${args.clusterName}/${this.service.name}`,
      minCapacity: args.scaling.min,
      maxCapacity: args.scaling.max,
    }, child);
    for (const spec of args.scaling.policies) {
      new aws.appautoscaling.Policy(`${name}-scale-${spec.role}`, {
        name: `${args.serviceName}-${spec.role}`,
        policyType: "TargetTrackingScaling",
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        targetTrackingScalingPolicyConfiguration: targetTrackingConfiguration(spec),
      }, child);
    }
  }
}
