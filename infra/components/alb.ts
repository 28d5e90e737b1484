import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_LIMITS, AWS_NAME_LIMITS, inRange } from "./aws-limits";
import { Problems } from "./problems";

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

/** Paths the listener sends to each service (ALB path patterns). */
export const API_PATHS = ["/api/*", "/graphql"];
export const REALTIME_PATHS = ["/socket.io/*"];
/** TLS policy of the HTTPS listener: TLS 1.3 and 1.2 with forward-secret ciphers only. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** Key prefix of access log objects in the bucket. */
export const ACCESS_LOG_PREFIX = "alb";

export interface AlbArgs {
  /** Load balancer name (32 characters at most; from the naming helper). Changing it replaces the ALB. */
  loadBalancerName: string;
  /** Target group names `{ api, realtime }` (32 characters at most). Changing one replaces the target group. */
  targetGroupNames: { api: string; realtime: string };
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
  /** Container ports of the services behind the ALB. @default { api: 3000, realtime: 3001 } */
  ports?: { api: number; realtime: number };
  /** Seconds a connection may stay silent; must exceed the Socket.IO ping interval + timeout. @default 120 */
  idleTimeoutSeconds?: number;
  /** Seconds in-flight api requests get when a task leaves. @default 30 */
  apiDeregistrationDelaySeconds?: number;
  /**
   * Seconds a leaving realtime task (deploy, scale-in) keeps its connections before the load balancer cuts
   * them; ECS sends SIGTERM only after this delay, so keep it short (an in-flight long-poll). @default 30
   */
  realtimeDeregistrationDelaySeconds?: number;
  /** Lifetime of the realtime stickiness cookie, seconds (long-polling must stay on one task). @default 86400 */
  stickinessSeconds?: number;
  /** Days access log objects are kept. @default 30 */
  accessLogRetentionDays?: number;
  /** Refuse to delete the ALB (production). @default true */
  deletionProtection?: boolean;
  /** Let `pulumi destroy` empty the access log bucket (dev stacks). Logs are lost. @default false */
  forceDestroyLogs?: boolean;
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
  for (const svc of ["api", "realtime"] as const) {
    const n = args.targetGroupNames[svc];
    if (!nameOk(n, AWS_NAME_LIMITS.targetGroup.maxLength)) {
      p.add(`targetGroupNames.${svc}`, n, `at most ${AWS_NAME_LIMITS.targetGroup.maxLength} letters, digits or '-' (use Naming.targetGroup)`);
    }
  }
  if (args.targetGroupNames.api === args.targetGroupNames.realtime) p.add("targetGroupNames", args.targetGroupNames, "the two names must differ");
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(args.vpcCidr)) p.add("vpcCidr", args.vpcCidr, "expected an IPv4 CIDR like 10.0.0.0/16");
  if (args.publicSubnetIds.length < 2) p.add("publicSubnetIds", `${args.publicSubnetIds.length} subnet(s)`, "an ALB needs subnets in at least 2 zones");
  if (typeof args.certificateArn === "string" && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(args.certificateArn)) {
    p.add("certificateArn", args.certificateArn, "expected an ACM certificate ARN like arn:aws:acm:us-east-1:123456789012:certificate/<id>");
  }
  const port = { min: 1, max: 65535 };
  intIn("ports.api", args.ports?.api, port);
  intIn("ports.realtime", args.ports?.realtime, port);
  if (args.ports && args.ports.api === args.ports.realtime) p.add("ports", args.ports, "api and realtime need different ports");
  // how long a socket may stay quiet is the stack's rule (realtime-chat:sizing.alb.idleTimeoutSeconds); here only AWS's range
  intIn("idleTimeoutSeconds", args.idleTimeoutSeconds, AWS_LIMITS.elb.idleTimeoutSeconds);
  intIn("apiDeregistrationDelaySeconds", args.apiDeregistrationDelaySeconds, AWS_LIMITS.elb.deregistrationDelaySeconds);
  intIn("realtimeDeregistrationDelaySeconds", args.realtimeDeregistrationDelaySeconds, AWS_LIMITS.elb.deregistrationDelaySeconds);
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
 * anywhere and sends only to the service ports inside the VPC. `/api/*` and `/graphql` go to the api target
 * group, `/socket.io/*` to the realtime one (cookie stickiness so long-polling stays on one task, a short
 * deregistration delay: ECS signals the task only after it); anything else gets a 404. Access logs go to an S3 bucket of their
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
  readonly apiTargetGroupArn: pulumi.Output<string>;
  readonly apiTargetGroupArnSuffix: pulumi.Output<string>;
  readonly realtimeTargetGroupArn: pulumi.Output<string>;
  readonly realtimeTargetGroupArnSuffix: pulumi.Output<string>;
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
    validateAlbArgs(args);
    const ports = args.ports ?? { api: 3000, realtime: 3001 };
    const tags = args.tags ?? {};
    // Whether HTTPS exists is decided by the presence of the argument (plain), not by its value (an Output).
    const tls = args.certificateArn !== undefined;
    this.scheme = tls ? "https" : "http";
    if (!tls) {
      pulumi.log.warn(`${name}: no certificateArn configured; the load balancer serves plain HTTP on port 80. ` +
        "Set realtime-chat:certificateArn to an ACM certificate in this region for HTTPS.", this);
    }

    const sg = this.createSecurityGroup(name, args, ports, tags);
    const logs = this.createAccessLogBucket(name, args, tags);

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
      enableDeletionProtection: args.deletionProtection ?? true,
      accessLogs: { bucket: logs.bucketName, prefix: ACCESS_LOG_PREFIX, enabled: true },
      tags: { ...tags, Name: args.loadBalancerName },
    }, { parent: this, dependsOn: logs.ready });

    const api = this.createTargetGroup(`${name}-api`, args.targetGroupNames.api, args.vpcId, ports.api, {
      path: "/api/health", deregistrationDelay: args.apiDeregistrationDelaySeconds ?? 30, tags,
    });
    const realtime = this.createTargetGroup(`${name}-realtime`, args.targetGroupNames.realtime, args.vpcId, ports.realtime, {
      path: "/health", deregistrationDelay: args.realtimeDeregistrationDelaySeconds ?? 30, tags,
      stickiness: { type: "lb_cookie", enabled: true, cookieDuration: args.stickinessSeconds ?? 86_400 },
    });

    this.listeners = this.createListeners(name, args, api, realtime, tags);

    this.securityGroupId = sg.id;
    this.arn = this.loadBalancer.arn;
    this.arnSuffix = this.loadBalancer.arnSuffix;
    this.dnsName = this.loadBalancer.dnsName;
    this.zoneId = this.loadBalancer.zoneId;
    this.apiTargetGroupArn = api.arn;
    this.apiTargetGroupArnSuffix = api.arnSuffix;
    this.realtimeTargetGroupArn = realtime.arn;
    this.realtimeTargetGroupArnSuffix = realtime.arnSuffix;
    this.accessLogBucketName = logs.bucketName;
    this.registerOutputs({
      securityGroupId: this.securityGroupId, arn: this.arn, arnSuffix: this.arnSuffix, dnsName: this.dnsName,
      apiTargetGroupArn: this.apiTargetGroupArn, realtimeTargetGroupArn: this.realtimeTargetGroupArn,
      accessLogBucketName: this.accessLogBucketName,
    });
  }

  /** Standalone rules (not inline), so the platform may add more to this group without conflicts. */
  private createSecurityGroup(name: string, args: AlbArgs, ports: { api: number; realtime: number }, tags: Record<string, string>) {
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
    for (const [svc, port] of Object.entries(ports)) {
      new aws.vpc.SecurityGroupEgressRule(`${name}-out-${svc}`, {
        securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: args.vpcCidr,
        description: `To ${svc} tasks (traffic and health checks)`,
      }, child);
    }
    return sg;
  }

  private createAccessLogBucket(name: string, args: AlbArgs, tags: Record<string, string>) {
    const child = { parent: this };
    const bucket = new aws.s3.Bucket(`${name}-access-logs`, { forceDestroy: args.forceDestroyLogs ?? false, tags }, child);
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

  private createListeners(name: string, args: AlbArgs, api: aws.lb.TargetGroup, realtime: aws.lb.TargetGroup,
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
    listeners.push(route("realtime", 10, REALTIME_PATHS, realtime), route("api", 20, API_PATHS, api));
    return listeners;
  }
}
