/**
 * Physical names operators type: `<project>-<env>-<role>` (e.g. `chat-dev-api`), log groups
 * `/ecs/<project>-<env>/<service>`. Names over an AWS length limit are shortened deterministically:
 * cut, then a 6-character hash of the full name, so two long names never collide and a name never changes
 * between runs.
 */
import { AWS_NAME_LIMITS } from "../components/aws-limits";
import { fitName } from "../components/names";

export { fitName };

export const NAME_LIMITS = {
  /** ALB and target group names. */
  loadBalancer: AWS_NAME_LIMITS.loadBalancer.maxLength,
  targetGroup: AWS_NAME_LIMITS.targetGroup.maxLength,
  /** ECS services, clusters, SQS queues, CloudWatch alarms... */
  default: 255,
  /** IAM role names. */
  iamRole: AWS_NAME_LIMITS.iamRole.maxLength,
} as const;

export function physicalName(project: string, env: string, role: string, max: number = NAME_LIMITS.default): string {
  return fitName(`${project}-${env}-${role}`, max);
}

export function logGroupName(project: string, env: string, service: string): string {
  return `/ecs/${project}-${env}/${service}`;
}

/** Names for one stack, bound to its project and env. */
export class Naming {
  /**
   * @param generation DR stacks only: the `drGeneration` part of the names that outlive a `pulumi destroy`
   *   (see `durable`). Undefined for primary stacks, whose names carry no generation.
   */
  constructor(
    readonly project: string,
    readonly env: string,
    readonly generation?: number,
  ) {}

  /**
   * `<project>-<env>` plus `-g<generation>` on a DR stack: the prefix of physical names that survive the stack's
   * destroy (secrets in their recovery window, retained database and final snapshot, locked backup vaults).
   * A drill retired at generation N leaves those names behind; generation N+1 never meets them.
   */
  get durablePrefix(): string {
    return this.generation === undefined ? this.prefix : `${this.prefix}-g${this.generation}`;
  }

  /** `<durablePrefix>-<role>`, shortened like `name` past `max`. */
  durable(role: string, max: number = NAME_LIMITS.default): string {
    return fitName(`${this.durablePrefix}-${role}`, max);
  }

  /** `<project>-<env>`: the ECS cluster name and the metrics namespace. */
  get prefix(): string {
    return `${this.project}-${this.env}`;
  }

  /** `<project>-<env>-<role>`. */
  name(role: string, max: number = NAME_LIMITS.default): string {
    return physicalName(this.project, this.env, role, max);
  }

  /** Load balancer name (32-character limit). */
  loadBalancer(role: string): string {
    return this.name(role, NAME_LIMITS.loadBalancer);
  }

  /** Target group name (32-character limit). */
  targetGroup(role: string): string {
    return this.name(role, NAME_LIMITS.targetGroup);
  }

  /** `/ecs/<project>-<env>/<service>`. */
  logGroup(service: string): string {
    return logGroupName(this.project, this.env, service);
  }

  /** WAF logging requires the `aws-waf-logs-` prefix. */
  get wafLogGroup(): string {
    return `aws-waf-logs-${this.prefix}`;
  }
}
