/**
 * Links: what a client service needs from one data component, returned by that component's `link(...)`
 * (the database proxy, Redis, the queues, the application secrets). A link carries plain environment values,
 * task-definition secrets (env name -> secret ARN), the exact secret ARNs the execution role may read, the
 * task-role statements (already scoped to what the client uses), and the ingress to open on the component's
 * security group. The composition picks a service's links from its catalogue entry and merges them once with
 * `mergeLinks`, which refuses a variable set twice.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./policy";
import { assertNoWildcardActions } from "./policy";

/** One port on one security group that the client must be allowed to reach. */
export interface LinkIngress {
  /** Short role of the server in rule names (`<client>-to-<role>`), e.g. `db-proxy`, `redis`. */
  role: string;
  /** What the server is, in rule descriptions (`<client> to <what>`), e.g. "db proxy". */
  what: string;
  /** Security group of the server. */
  securityGroupId: pulumi.Input<string>;
  port: number;
}

export interface Link {
  environment?: Record<string, pulumi.Input<string>>;
  /** Task-definition secrets: env name -> Secrets Manager ARN (or `<arn>:<jsonKey>::`). */
  secrets?: Record<string, pulumi.Input<string>>;
  /** Secret ARNs (without JSON keys) behind `secrets`. */
  secretArns?: pulumi.Input<string>[];
  statements?: PolicyStatement[];
  ingress?: LinkIngress[];
  /** Resources the client must wait for (the proxy refuses connections before its target registers). */
  dependsOn?: pulumi.Resource[];
}

/** A service's links merged into the shape a service definition takes. */
export interface MergedLinks {
  environment: Record<string, pulumi.Input<string>>;
  secrets: Record<string, pulumi.Input<string>>;
  secretArns: pulumi.Input<string>[];
  statements: PolicyStatement[];
  ingress: LinkIngress[];
  dependsOn: pulumi.Resource[];
}

/**
 * Merges the client's own variables and its links. A variable (plain or secret) set by two of them is a
 * wiring mistake and throws, naming the client and the variables; so does a server role linked twice or a
 * wildcard action.
 */
export function mergeLinks(client: string, own: Record<string, pulumi.Input<string>>, links: Link[]): MergedLinks {
  const out: MergedLinks = { environment: { ...own }, secrets: {}, secretArns: [], statements: [], ingress: [], dependsOn: [] };
  const seen = new Set(Object.keys(own));
  const clashes: string[] = [];
  const take = (into: Record<string, pulumi.Input<string>>, from: Record<string, pulumi.Input<string>> = {}) => {
    for (const [k, v] of Object.entries(from)) {
      if (seen.has(k)) clashes.push(k);
      seen.add(k);
      into[k] = v;
    }
  };
  for (const link of links) {
    take(out.environment, link.environment);
    take(out.secrets, link.secrets);
    out.secretArns.push(...(link.secretArns ?? []));
    out.statements.push(...(link.statements ?? []));
    out.ingress.push(...(link.ingress ?? []));
    out.dependsOn.push(...(link.dependsOn ?? []));
  }
  if (clashes.length) {
    throw new Error(`${client}: environment ${[...new Set(clashes)].join(", ")} set twice (by the service itself or by two of its links); set each variable in one place`);
  }
  const roles = out.ingress.map((i) => i.role);
  const twice = roles.filter((r, i) => roles.indexOf(r) !== i);
  if (twice.length) throw new Error(`${client}: linked to ${twice.join(", ")} twice; link each component once`);
  assertNoWildcardActions(`${client} task role`, out.statements);
  return out;
}
