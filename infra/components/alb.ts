import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_LIMITS, AWS_NAME_LIMITS, inRange } from "./aws-limits";
import { Problems } from "./problems";
import { RETAIN, type RemovalPolicy } from "./removal";

/**
 * Elastic Load Balancing accounts that write access logs in regions opened before August 2022. Newer regions
 * use the `logdelivery.elasticloadbalancing.amazonaws.com` service principal instead.
 */
export const ELB_LOG_ACCOUNTS: Record<string, string> = {
  "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980", "us-west-2": "797873946194",
  "af-south-1": "098369216593", "ap-east-1": "754344448648", "ap-south-1": "718504428378", "ap-northeast-1": "582318560864",
  "ap-northeast-2": "600734575887", "ap-northeast-3": "383597477331", "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266", "ap-southeast-3": "589379963580", "ca-central-1": "985666609251",
  "eu-central-1": "054676820928", "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-west-3": "009996457667",
  "eu-south-1": "635631232127", "eu-north-1": "897822967062", "me-south-1": "076674570225", "sa-east-1": "507241528517",
};

/** TLS policy of the HTTPS listener: TLS 1.3 and 1.2 with forward-secret ciphers only. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** Key prefix of access log objects in the bucket. */
export const ACCESS_LOG_PREFIX = "alb";

/** One service behind the load balancer: its target group and the listener rule that forwards to it. */
export interface AlbRoute {
  /** Target group name (32 characters at most; from the naming helper). Changing it replaces the target group. */
  targetGroupName: string;
  /** Container port of the service (traffic and health checks). */
  port: number;
  /** Path patterns the listener forwards to this service. */
  paths: string[];
  /** Listener rule priority (1 to 50000, unique). */
  priority: number;
  /** Path the target group's health check requests. */
  healthCheckPath: string;
  /** Seconds in-flight requests get when a task leaves (ECS signals the task only after it). @default 30 */
  deregistrationDelaySeconds?: number;
  /** Cookie stickiness (Socket.IO long-polling must stay on one task), for `stickinessSeconds`. @default false */
  sticky?: boolean;
}

export interface AlbArgs {
  /** Load balancer name (32 characters at most; from the naming helper). Changing it replaces the ALB. */
  loadBalancerName: string;
  /**
   * The services behind the load balancer, by name (the stack passes its service catalogue's routes). Each
   * gets a target group `<name>-<service>`, a listener rule `<name>-<service>-rule` and an egress rule to its
   * port inside the VPC.
   */
  routes: Record<string, AlbRoute>;
  /** Region of the stack: picks the principal allowed to write access logs. */
  region: string;
  /** VPC of the target groups and the security group. Changing it replaces them. */
  vpcId: pulumi.Input<string>;
  /** VPC range: the ALB may reach targets on their ports inside it, nothing else. */
  vpcCidr: string;
  /** Public subnets, one per zone (at least 2). */
  publicSubnetIds: pulumi.Input<string>[];
  /**
   * ACM certificate for the HTTPS listener (port 443, with port 80 redirecting to it). Without one the ALB
   * serves plain HTTP on port 80 and the program logs a warning: fine for a throwaway dev stack only.
   */
  certificateArn?: pulumi.Input<string>;
  /** Seconds a connection may stay silent; must exceed the Socket.IO ping interval + timeout. @default 120 */
  idleTimeoutSeconds?: number;
  /** Lifetime of the stickiness cookie of sticky routes, seconds. @default 86400 */
  stickinessSeconds?: number;
  /** Days access log objects are kept. @default 30 */
  accessLogRetentionDays?: number;
  /** `protectEntrypoint`: the ALB refuses deletion; `emptyOnDestroy`: `pulumi destroy` empties the access log bucket (logs are lost). @default RETAIN */
  removal?: RemovalPolicy;
  /** Tags for every child. */
  tags?: Record<string, string>;
}

/** Every wiring problem with the plain arguments (field, value, fix). */
export function albProblems(args: AlbArgs): Problems {
  const p = new Problems("Alb");
  const intIn = (field: string, v: number | undefined, r: { min: number; max: number }) => {
    if (v !== undefined && !inRange(v, r)) p.add(field, v, `must be a whole number from ${r.min} to ${r.max}`);
  };
  const nameOk = (n: string, max: number) => n.length <= max && /^[a-zA-Z0-9-]+$/.test(n);
  if (!nameOk(args.loadBalancerName, AWS_NAME_LIMITS.loadBalancer.maxLength)) {
    p.add("loadBalancerName", args.loadBalancerName, `at most ${AWS_NAME_LIMITS.loadBalancer.maxLength} letters, digits or '-' (use Naming.loadBalancer)`);
  }
  const routes = Object.entries(args.routes);
  if (routes.length === 0) p.add("routes", args.routes, "name at least one service to forward to");
  const port = { min: 1, max: 65535 };
  for (const [svc, r] of routes) {
    if (!nameOk(r.targetGroupName, AWS_NAME_LIMITS.targetGroup.maxLength)) {
      p.add(`routes.${svc}.targetGroupName`, r.targetGroupName, `at most ${AWS_NAME_LIMITS.targetGroup.maxLength} letters, digits or '-' (use Naming.targetGroup)`);
    }
    intIn(`routes.${svc}.port`, r.port, port);
    // listener rule priority: 1-50000 (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html)
    intIn(`routes.${svc}.priority`, r.priority, { min: 1, max: 50_000 });
    intIn(`routes.${svc}.deregistrationDelaySeconds`, r.deregistrationDelaySeconds, AWS_LIMITS.elb.deregistrationDelaySeconds);
    if (r.paths.length === 0) p.add(`routes.${svc}.paths`, r.paths, "list at least one path pattern");
  }
  for (const field of ["targetGroupName", "port", "priority"] as const) {
    const values = routes.map(([, r]) => r[field]);
    const twice = values.filter((v, i) => values.indexOf(v) !== i);
    if (twice.length) p.add(`routes.*.${field}`, [...new Set(twice)], `each route needs its own ${field}`);
  }
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(args.vpcCidr)) p.add("vpcCidr", args.vpcCidr, "expected an IPv4 CIDR like 10.0.0.0/16");
  if (args.publicSubnetIds.length < 2) p.add("publicSubnetIds", `${args.publicSubnetIds.length} subnet(s)`, "an ALB needs subnets in at least 2 zones");
  if (typeof args.certificateArn === "string" && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(args.certificateArn)) {
    p.add("certificateArn", args.certificateArn, "expected an ACM certificate ARN like arn:aws:acm:us-east-1:123456789012:certificate/<id>");
  }
  // how long a socket may stay quiet is the stack's rule (realtime-chat:sizing.alb.idleTimeoutSeconds); here only AWS's range
  intIn("idleTimeoutSeconds", args.idleTimeoutSeconds, AWS_LIMITS.elb.idleTimeoutSeconds);
  intIn("stickinessSeconds", args.stickinessSeconds, AWS_LIMITS.elb.stickinessSeconds);
  intIn("accessLogRetentionDays", args.accessLogRetentionDays, { min: 1, max: 3650 });
  return p;
}

/** Throws one error listing each bad field, its value and what is allowed. */
export function validateAlbArgs(args: AlbArgs): void {
  albProblems(args).check();
}

/**
 * Internet-facing Application Load Balancer in the public subnets. Its security group admits 80 and 443 from
 * anywhere and sends only to the routed services' ports inside the VPC. Each route's paths go to its target
 * group (sticky routes get cookie stickiness so long-polling stays on one task; a short deregistration delay
 * matters because ECS signals the task only after it); anything else gets a 404. Access logs go to an S3 bucket of their
 * own: SSE-S3 encrypted (the only encryption ALB log delivery supports), public access blocked, TLS-only,
 * objects expired after the retention.
 */
export class Alb extends pulumi.ComponentResource {
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly securityGroupId: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** `app/<name>/<id>`: the `LoadBalancer` dimension of AWS/ApplicationELB metrics. */
  readonly arnSuffix: pulumi.Output<string>;
  readonly dnsName: pulumi.Output<string>;
  readonly zoneId: pulumi.Output<string>;
  /** Per route: the target group ARN and its suffix (`targetgroup/<name>/<id>`, the CloudWatch dimension). */
  readonly targetGroups: Record<string, { arn: pulumi.Output<string>; arnSuffix: pulumi.Output<string> }>;
  readonly accessLogBucketName: pulumi.Output<string>;
  /**
   * Listeners (HTTPS and the redirect, or the plain HTTP one) and the routing rules that attach the target
   * groups to the load balancer. An ECS service must depend on these: ECS refuses a target group that no
   * listener uses yet.
   */
  readonly listeners: pulumi.Resource[];
  /** `https` when a certificate is configured, else `http`. */
  readonly scheme: "https" | "http";

  constructor(name: string, args: AlbArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:alb:Alb", name, {}, opts);
    const removal = args.removal ?? RETAIN;
    validateAlbArgs(args);
    const tags = args.tags ?? {};
    // Whether HTTPS exists is decided by the presence of the argument (plain), not by its value (an Output).
    const tls = args.certificateArn !== undefined;
    this.scheme = tls ? "https" : "http";
    if (!tls) {
      pulumi.log.warn(`${name}: no certificateArn configured; the load balancer serves plain HTTP on port 80. ` +
        "Set realtime-chat:certificateArn to an ACM certificate in this region for HTTPS.", this);
    }

    const sg = this.createSecurityGroup(name, args, tags);
    const logs = this.createAccessLogBucket(name, args, tags, removal.emptyOnDestroy);

    this.loadBalancer = new aws.lb.LoadBalancer(`${name}-lb`, {
      name: args.loadBalancerName,
      loadBalancerType: "application",
      internal: false,
      ipAddressType: "ipv4",
      subnets: args.publicSubnetIds,
      securityGroups: [sg.id],
      idleTimeout: args.idleTimeoutSeconds ?? 120,
      enableHttp2: true,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "defensive",
      enableDeletionProtection: removal.protectEntrypoint,
      accessLogs: { bucket: logs.bucketName, prefix: ACCESS_LOG_PREFIX, enabled: true },
      tags: { ...tags, Name: args.loadBalancerName },
    }, { parent: this, dependsOn: logs.ready });

    const groups: Record<string, aws.lb.TargetGroup> = {};
    for (const [svc, r] of Object.entries(args.routes)) {
      groups[svc] = this.createTargetGroup(`${name}-${svc}`, r.targetGroupName, args.vpcId, r.port, {
        path: r.healthCheckPath, deregistrationDelay: r.deregistrationDelaySeconds ?? 30, tags,
        stickiness: r.sticky ? { type: "lb_cookie", enabled: true, cookieDuration: args.stickinessSeconds ?? 86_400 } : undefined,
      });
    }

    this.listeners = this.createListeners(name, args, groups, tags);

    this.securityGroupId = sg.id;
    this.arn = this.loadBalancer.arn;
    this.arnSuffix = this.loadBalancer.arnSuffix;
    this.dnsName = this.loadBalancer.dnsName;
    this.zoneId = this.loadBalancer.zoneId;
    this.targetGroups = Object.fromEntries(Object.entries(groups).map(([svc, g]) => [svc, { arn: g.arn, arnSuffix: g.arnSuffix }]));
    this.accessLogBucketName = logs.bucketName;
    this.registerOutputs({
      securityGroupId: this.securityGroupId, arn: this.arn, arnSuffix: this.arnSuffix, dnsName: this.dnsName,
      targetGroupArns: Object.fromEntries(Object.entries(groups).map(([svc, g]) => [svc, g.arn])),
      accessLogBucketName: this.accessLogBucketName,
    });
  }

  /** Standalone rules (not inline), so the platform may add more to this group without conflicts. */
  private createSecurityGroup(name: string, args: AlbArgs, tags: Record<string, string>) {
    const child = { parent: this };
    const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId: args.vpcId,
      description: "Load balancer: HTTP/HTTPS from the internet, service ports inside the VPC",
      tags: { ...tags, Name: `${args.loadBalancerName}-sg` },
    }, child);
    const listenerPorts = args.certificateArn !== undefined ? [80, 443] : [80];
    for (const port of listenerPorts) {
      new aws.vpc.SecurityGroupIngressRule(`${name}-in-${port}`, {
        securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: "0.0.0.0/0",
        description: port === 443 ? "HTTPS from the internet" : "HTTP from the internet",
      }, child);
    }
    for (const [svc, { port }] of Object.entries(args.routes)) {
      new aws.vpc.SecurityGroupEgressRule(`${name}-out-${svc}`, {
        securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: args.vpcCidr,
        description: `To ${svc} tasks (traffic and health checks)`,
      }, child);
    }
    return sg;
  }

  private createAccessLogBucket(name: string, args: AlbArgs, tags: Record<string, string>, emptyOnDestroy: boolean) {
    const child = { parent: this };
    const bucket = new aws.s3.Bucket(`${name}-access-logs`, { forceDestroy: emptyOnDestroy, tags }, child);
    const ownership = new aws.s3.BucketOwnershipControls(`${name}-access-logs-ownership`, {
      bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" },
    }, child);
    const publicBlock = new aws.s3.BucketPublicAccessBlock(`${name}-access-logs-public-block`, {
      bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    }, child);
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-access-logs-encryption`, {
      bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    }, child);
    new aws.s3.BucketLifecycleConfiguration(`${name}-access-logs-lifecycle`, {
      bucket: bucket.id,
      rules: [{
        id: "expire-access-logs", status: "Enabled", filter: { prefix: "" },
        expiration: { days: args.accessLogRetentionDays ?? 30 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      }],
    }, child);
    const account = ELB_LOG_ACCOUNTS[args.region];
    const writer = account ? { AWS: `arn:aws:iam::${account}:root` } : { Service: "logdelivery.elasticloadbalancing.amazonaws.com" };
    const policy = new aws.s3.BucketPolicy(`${name}-access-logs-policy`, {
      bucket: bucket.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ElbLogDelivery", Effect: "Allow", Principal: writer, Action: "s3:PutObject",
            Resource: pulumi.interpolate`${bucket.arn}/${ACCESS_LOG_PREFIX}/AWSLogs/*`,
          },
          {
            Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*",
            Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    }, { parent: this, dependsOn: [publicBlock] });
    return { bucketName: bucket.bucket, ready: [ownership, publicBlock, encryption, policy] };
  }

  private createTargetGroup(
    logicalName: string, physicalName: string, vpcId: pulumi.Input<string>, port: number,
    o: { path: string; deregistrationDelay: number; tags: Record<string, string>; stickiness?: aws.types.input.lb.TargetGroupStickiness },
  ): aws.lb.TargetGroup {
    return new aws.lb.TargetGroup(logicalName, {
      name: physicalName,
      vpcId,
      port,
      protocol: "HTTP",
      protocolVersion: "HTTP1",
      targetType: "ip",
      deregistrationDelay: o.deregistrationDelay,
      healthCheck: {
        enabled: true, path: o.path, port: "traffic-port", protocol: "HTTP", matcher: "200",
        interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3,
      },
      stickiness: o.stickiness ?? { type: "lb_cookie", enabled: false },
      tags: { ...o.tags, Name: physicalName },
    // The name is fixed (alarms and operators read it): a replacement must delete the old group first.
    }, { parent: this, deleteBeforeReplace: true });
  }

  private createListeners(name: string, args: AlbArgs, groups: Record<string, aws.lb.TargetGroup>,
    tags: Record<string, string>): pulumi.Resource[] {
    const child = { parent: this };
    const notFound = {
      type: "fixed-response",
      fixedResponse: { contentType: "application/json", statusCode: "404", messageBody: '{"error":"not found"}' },
    };
    const listeners: pulumi.Resource[] = [];
    let main: aws.lb.Listener;
    if (args.certificateArn !== undefined) {
      main = new aws.lb.Listener(`${name}-https`, {
        loadBalancerArn: this.loadBalancer.arn, port: 443, protocol: "HTTPS", sslPolicy: TLS_POLICY,
        certificateArn: args.certificateArn, defaultActions: [notFound], tags,
      }, child);
      const redirect = new aws.lb.Listener(`${name}-http-redirect`, {
        loadBalancerArn: this.loadBalancer.arn, port: 80, protocol: "HTTP",
        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }], tags,
      }, child);
      listeners.push(main, redirect);
    } else {
      main = new aws.lb.Listener(`${name}-http`, {
        loadBalancerArn: this.loadBalancer.arn, port: 80, protocol: "HTTP", defaultActions: [notFound], tags,
      }, child);
      listeners.push(main);
    }
    const route = (role: string, priority: number, paths: string[], tg: aws.lb.TargetGroup) =>
      new aws.lb.ListenerRule(`${name}-${role}-rule`, {
        listenerArn: main.arn, priority,
        conditions: [{ pathPattern: { values: paths } }],
        actions: [{ type: "forward", targetGroupArn: tg.arn }], tags,
      }, child);
    // in priority order
    const ordered = Object.entries(args.routes).sort(([, a], [, b]) => a.priority - b.priority);
    listeners.push(...ordered.map(([svc, r]) => route(svc, r.priority, r.paths, groups[svc]!)));
    return listeners;
  }
}
