import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_LIMITS, inRange } from "./aws-limits";
import { Problems } from "./problems";
import type { Link } from "./link";
import type { PolicyStatement } from "./policy";
import { DB_PROXY_DEFAULTS } from "./db-proxy-defaults";

/** Defaults of the optional arguments (the validator and the constructor read them). */
export { DB_PROXY_DEFAULTS };

export interface DbProxyArgs {
  /** Physical name of the proxy, `<project>-<env>-db-proxy` (letters, digits, '-', at most 60). */
  proxyName: string;
  vpcId: pulumi.Input<string>;
  /** Private subnets in at least two zones. */
  subnetIds: pulumi.Input<string>[];
  /** Identifier of the RDS instance behind the proxy. */
  dbInstanceIdentifier: pulumi.Input<string>;
  /** Secret (JSON `username`/`password`) the proxy logs in to the database with; the RDS-managed master secret. */
  secretArn: pulumi.Input<string>;
  /**
   * How the proxy reaches Secrets Manager (HTTPS, 443) to read `secretArn`: the security group of the VPC's
   * `secretsmanager` interface endpoint, or `"nat"` when the VPC has no such endpoint and the private subnets
   * reach the public Secrets Manager endpoint through a NAT gateway (443 to 0.0.0.0/0 then: the endpoint's
   * addresses are not fixed). Without this route the proxy cannot open any database connection.
   */
  secretsManagerRoute: { endpointSecurityGroupId: pulumi.Input<string> } | "nat";
  /** Share of the database's max_connections the proxy may open, 1 to 100. @default DB_PROXY_DEFAULTS.maxConnectionsPercent (95) */
  maxConnectionsPercent?: number;
  /** Seconds an idle client connection is kept, 1 to 28800. @default DB_PROXY_DEFAULTS.idleClientTimeoutSeconds (1800) */
  idleClientTimeoutSeconds?: number;
  tags?: Record<string, string>;
}

/** Every problem with the plain arguments (field, value, fix). */
export function dbProxyProblems(args: DbProxyArgs): Problems {
  const p = new Problems("DbProxy");
  const bad = (field: string, value: unknown, fix: string) => p.add(field, value, fix);
  if (!/^[a-z][a-z0-9-]{0,59}$/.test(args.proxyName) || args.proxyName.endsWith("-") || args.proxyName.includes("--")) {
    bad("proxyName", args.proxyName, "1-60 lowercase letters, digits and single '-', starting with a letter");
  }
  const pct = args.maxConnectionsPercent ?? DB_PROXY_DEFAULTS.maxConnectionsPercent;
  const pool = AWS_LIMITS.rds.proxyMaxConnectionsPercent;
  if (!inRange(pct, pool)) bad("maxConnectionsPercent", pct, `must be a whole number from ${pool.min} to ${pool.max}`);
  const idle = args.idleClientTimeoutSeconds ?? DB_PROXY_DEFAULTS.idleClientTimeoutSeconds;
  const idleRange = AWS_LIMITS.rds.proxyIdleClientTimeoutSeconds;
  if (!inRange(idle, idleRange)) bad("idleClientTimeoutSeconds", idle, `must be a whole number from ${idleRange.min} to ${idleRange.max}`);
  if (args.subnetIds.length < 2) bad("subnetIds", `${args.subnetIds.length} subnet(s)`, "RDS Proxy needs subnets in at least 2 zones");
  return p;
}

/** Throws one error listing every problem with the plain arguments. */
export function validateDbProxyArgs(args: DbProxyArgs): void {
  dbProxyProblems(args).check();
}

/**
 * `rds-db:connect` resource for a database user through a proxy, from the proxy ARN
 * (`arn:aws:rds:<region>:<account>:db-proxy:prx-<id>` -> `arn:aws:rds-db:<region>:<account>:dbuser:prx-<id>/<user>`).
 */
export function proxyDbUserArn(proxyArn: string, dbUser: string): string {
  const m = /^arn:(aws[a-z-]*):rds:([a-z0-9-]+):(\d{12}):db-proxy:(prx-[a-z0-9]+)$/.exec(proxyArn);
  if (!m) throw new Error(`DbProxy: unexpected proxy ARN ${JSON.stringify(proxyArn)}`);
  return `arn:${m[1]}:rds-db:${m[2]}:${m[3]}:dbuser:${m[4]}/${dbUser}`;
}

/**
 * RDS Proxy for PostgreSQL in front of one instance: clients must use TLS and IAM authentication (a task role
 * with `rds-db:connect` gets a 15-minute token; no password reaches a container). The proxy itself logs in with
 * the RDS-managed master secret, pools connections up to `maxConnectionsPercent` of max_connections, and
 * keeps client connections through a Multi-AZ failover.
 *
 * Its security group gets one rule of its own: egress on 443 to Secrets Manager (see `secretsManagerRoute`); the
 * platform admits the services on 5432 and lets the proxy reach the database. The RDS-managed master secret is
 * encrypted with the AWS-managed `aws/secretsmanager` key, which Secrets Manager uses on the caller's behalf, so
 * the proxy needs neither a KMS grant nor a route to KMS.
 */
export class DbProxy extends pulumi.ComponentResource {
  readonly proxy: aws.rds.Proxy;
  readonly endpoint: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  /** Registered once the instance is a target: what services should depend on. */
  readonly target: aws.rds.ProxyTarget;

  constructor(name: string, args: DbProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:database:DbProxy", name, {}, opts);
    validateDbProxyArgs(args);
    const maxConnectionsPercent = args.maxConnectionsPercent ?? DB_PROXY_DEFAULTS.maxConnectionsPercent;
    const idleClientTimeoutSeconds = args.idleClientTimeoutSeconds ?? DB_PROXY_DEFAULTS.idleClientTimeoutSeconds;
    const tags = { ...args.tags, Name: args.proxyName };
    const child = { parent: this };

    const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId: args.vpcId,
      description: `${args.proxyName}: admits the services on 5432, reaches the database (rules added by the platform)`,
      tags,
    }, child);
    this.allowSecretsManager(name, sg.id, args.secretsManagerRoute);
    const role = this.createRole(name, args, tags);

    this.proxy = new aws.rds.Proxy(`${name}-proxy`, {
      name: args.proxyName,
      engineFamily: "POSTGRESQL",
      requireTls: true,
      auths: [{
        authScheme: "SECRETS",
        secretArn: args.secretArn,
        iamAuth: "REQUIRED",
        clientPasswordAuthType: "POSTGRES_SCRAM_SHA_256",
        description: "master user secret kept by RDS; clients authenticate with IAM",
      }],
      roleArn: role.arn,
      vpcSubnetIds: args.subnetIds,
      vpcSecurityGroupIds: [sg.id],
      idleClientTimeout: idleClientTimeoutSeconds,
      debugLogging: false,
      tags,
    }, child);

    new aws.rds.ProxyDefaultTargetGroup(`${name}-target-group`, {
      dbProxyName: this.proxy.name,
      connectionPoolConfig: {
        maxConnectionsPercent,
        maxIdleConnectionsPercent: Math.min(50, maxConnectionsPercent),
        connectionBorrowTimeout: 120,
      },
    }, child);
    this.target = new aws.rds.ProxyTarget(`${name}-target`, {
      dbProxyName: this.proxy.name,
      targetGroupName: "default",
      dbInstanceIdentifier: args.dbInstanceIdentifier,
    }, child);

    this.endpoint = this.proxy.endpoint;
    this.arn = this.proxy.arn;
    this.name = this.proxy.name;
    this.securityGroupId = sg.id;
    this.registerOutputs({ endpoint: this.endpoint, arn: this.arn, securityGroupId: this.securityGroupId });
  }

  /** `rds-db:connect` as `dbUser` through this proxy, for a task role. */
  connectStatement(dbUser: string): PolicyStatement {
    return {
      Sid: "ConnectThroughProxy",
      Effect: "Allow",
      Action: ["rds-db:connect"],
      Resource: [this.arn.apply((a) => proxyDbUserArn(a, dbUser))],
    };
  }

  /**
   * What a client service needs to use `database` through this proxy: where it is, an IAM sign-in as the
   * database's user (no password reaches the task), the proxy's port opened to the client, and the target
   * registration to wait for.
   */
  link(database: { port: number; dbName: pulumi.Input<string>; username: string }): Link {
    return {
      environment: {
        DB_HOST: this.endpoint, DB_PORT: String(database.port), DB_NAME: database.dbName, DB_USER: database.username,
        DB_SSL: "require", DB_IAM_AUTH: "true",
      },
      statements: [this.connectStatement(database.username)],
      ingress: [{ role: "db-proxy", what: "db proxy", securityGroupId: this.securityGroupId, port: database.port }],
      dependsOn: [this.target],
    };
  }

  /** Egress on 443 from the proxy to Secrets Manager: to the interface endpoint's group, or through the NAT. */
  private allowSecretsManager(name: string, sgId: pulumi.Input<string>, route: DbProxyArgs["secretsManagerRoute"]): void {
    const https = { ipProtocol: "tcp", fromPort: 443, toPort: 443 };
    new aws.vpc.SecurityGroupEgressRule(`${name}-secretsmanager-out`, route === "nat"
      ? { ...https, securityGroupId: sgId, cidrIpv4: "0.0.0.0/0", description: "db proxy to Secrets Manager through the NAT gateway (no interface endpoint in this VPC)" }
      : { ...https, securityGroupId: sgId, referencedSecurityGroupId: route.endpointSecurityGroupId, description: "db proxy to Secrets Manager interface endpoint" },
    { parent: this });
  }

  /** The proxy's role may read the one secret it logs in with, nothing else. */
  private createRole(name: string, args: DbProxyArgs, tags: Record<string, string>): aws.iam.Role {
    const role = new aws.iam.Role(`${name}-role`, {
      description: `${args.proxyName}: reads the database credentials`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "rds.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags,
    }, { parent: this });
    new aws.iam.RolePolicy(`${name}-secret-read`, {
      role: role.name,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [{ Sid: "ReadDatabaseSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [args.secretArn] }],
      }),
    }, { parent: this });
    return role;
  }
}
