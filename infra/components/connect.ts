import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CONSTRAINTS } from "./aws-constraints";
import type { TextConstraint } from "./aws-constraints";
import { checkText } from "./preflight";

export interface TcpAccess {
  /** Security group of the client (gets the egress rule). */
  from: pulumi.Input<string>;
  /** Security group of the server (gets the ingress rule). */
  to: pulumi.Input<string>;
  /** The one port opened. */
  port: number;
  /** Says who talks to whom, e.g. "api to db proxy"; EC2 accepts only letters, digits, spaces and `._-:/()#,@[]+=&;{}!$*` (so no `->`), at most 255 characters. */
  description: string;
}

/**
 * Holds the security-group rules between components the platform connects: each `allowTcp` lets one group
 * reach another on one TCP port and nothing else, with an ingress rule on the server's group naming the
 * client's group and the matching egress rule on the client's group naming the server's group
 * (`<name>-in`, `<name>-out`).
 */
export class Connections extends pulumi.ComponentResource {
  private readonly names = new Set<string>();

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:network:Connections", name, {}, opts);
    this.registerOutputs({});
  }

  allowTcp(name: string, access: TcpAccess): void {
    if (!Number.isInteger(access.port) || access.port < 1 || access.port > 65535) {
      throw new Error(`Connections.allowTcp ${name}: port ${JSON.stringify(access.port)} must be a whole number from 1 to 65535`);
    }
    const bad = checkText(access.description, CONSTRAINTS["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"]!.description as TextConstraint);
    if (bad) throw new Error(`Connections.allowTcp ${name}: ${bad}${access.description.includes("->") ? ` (write "${access.description.replace(/\s*->\s*/g, " to ")}" instead of "${access.description}")` : ""}`);
    if (this.names.has(name)) throw new Error(`Connections.allowTcp: ${name} is already defined; each connection needs its own name`);
    this.names.add(name);
    const rule = { referencedSecurityGroupId: access.from, ipProtocol: "tcp", fromPort: access.port, toPort: access.port, description: access.description };
    new aws.vpc.SecurityGroupIngressRule(`${name}-in`, { ...rule, securityGroupId: access.to, referencedSecurityGroupId: access.from }, { parent: this });
    new aws.vpc.SecurityGroupEgressRule(`${name}-out`, { ...rule, securityGroupId: access.from, referencedSecurityGroupId: access.to }, { parent: this });
  }
}
