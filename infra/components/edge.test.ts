/**
 * Edge layer (waf.ts, alb.ts): the validators without mocks, then every stack file synthesized once without a
 * certificate and once with one, asserting the WAF and ALB inputs against the tier's sizing.
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { validateStackConfig } from "../config/load";
import { TIER_NAMES, TIERS } from "../config/tiers";
import type { TierName } from "../config/tiers";
import { byType, loadStackFile, one, stackConfigWithExamples, synthesize } from "../synth";
import { pushDisabledWarning } from "../data-tier";
import type { SynthResource, SynthResult } from "../synth";
import { Alb, validateAlbArgs } from "./alb";
import type { AlbArgs } from "./alb";
import { MESSAGE_PATH_GROUPS, validateWafArgs, wafRules } from "./waf";
import type { WafArgs } from "./waf";

const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab";
const ELB_US_EAST_1 = "arn:aws:iam::127311923021:root";

const T = {
  lb: "aws:lb/loadBalancer:LoadBalancer",
  tg: "aws:lb/targetGroup:TargetGroup",
  listener: "aws:lb/listener:Listener",
  rule: "aws:lb/listenerRule:ListenerRule",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  acl: "aws:wafv2/webAcl:WebAcl",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
};

describe("validateWafArgs", () => {
  const ok: WafArgs = { namePrefix: "chat-dev", albArn: "arn", generalRateLimit: 2000, socketIoRateLimit: 600 };
  it("accepts valid arguments", () => assert.doesNotThrow(() => validateWafArgs(ok)));
  const cases: Array<[string, Partial<WafArgs>, string]> = [
    ["limit too low", { socketIoRateLimit: 5 }, "socketIoRateLimit 5: must be a whole number from 10 to 2000000000 (WAF rate-based rule limit)"],
    ["fractional limit", { generalRateLimit: 100.5 }, "generalRateLimit 100.5: must be a whole number from 10 to 2000000000 (WAF rate-based rule limit)"],
    ["window", { evaluationWindowSeconds: 30 }, "evaluationWindowSeconds 30: allowed: 60, 120, 300, 600"],
    ["retention", { logRetentionDays: 10 }, "logRetentionDays 10: not a CloudWatch Logs retention; allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"],
    ["name prefix", { namePrefix: "Chat Dev" }, "namePrefix \"Chat Dev\": use lowercase letters, digits and '-'"],
    ["log group without the WAF prefix", { logGroupName: "/waf/chat-dev" }, 'logGroupName "/waf/chat-dev": WAF only logs to groups named aws-waf-logs-<suffix>'],
  ];
  for (const [title, patch, message] of cases) {
    it(`rejects: ${title}`, () => assert.throws(() => validateWafArgs({ ...ok, ...patch }), { message: `Waf: invalid arguments:\n  - ${message}` }));
  }
});

describe("validateAlbArgs", () => {
  const ok: AlbArgs = {
    loadBalancerName: "chat-dev-alb", targetGroupNames: { api: "chat-dev-api", realtime: "chat-dev-realtime" },
    region: "us-east-1", vpcId: "vpc-1", vpcCidr: "10.0.0.0/16", publicSubnetIds: ["subnet-a", "subnet-b"],
  };
  it("accepts valid arguments", () => assert.doesNotThrow(() => validateAlbArgs(ok)));
  const cases: Array<[string, Partial<AlbArgs>, string]> = [
    // the Socket.IO silence is the stack's rule (infra/config/sizing-rules.ts); the component keeps AWS's range
    ["idle timeout over the load balancer's limit", { idleTimeoutSeconds: 4001 }, "idleTimeoutSeconds 4001: must be a whole number from 1 to 4000"],
    ["one subnet", { publicSubnetIds: ["subnet-a"] }, 'publicSubnetIds "1 subnet(s)": an ALB needs subnets in at least 2 zones'],
    ["long name", { loadBalancerName: "a".repeat(33) },
      `loadBalancerName "${"a".repeat(33)}": at most 32 letters, digits or '-' (use Naming.loadBalancer)`],
    ["same target group names", { targetGroupNames: { api: "x", realtime: "x" } }, 'targetGroupNames {"api":"x","realtime":"x"}: the two names must differ'],
    ["bad certificate", { certificateArn: "arn:aws:iam::123456789012:server-certificate/x" },
      'certificateArn "arn:aws:iam::123456789012:server-certificate/x": expected an ACM certificate ARN like arn:aws:acm:us-east-1:123456789012:certificate/<id>'],
    ["deregistration delay", { realtimeDeregistrationDelaySeconds: 4000 }, "realtimeDeregistrationDelaySeconds 4000: must be a whole number from 0 to 3600"],
    ["stickiness", { stickinessSeconds: 0 }, "stickinessSeconds 0: must be a whole number from 1 to 604800"],
    ["VPC range", { vpcCidr: "10.0.0.0" }, 'vpcCidr "10.0.0.0": expected an IPv4 CIDR like 10.0.0.0/16'],
    ["port clash", { ports: { api: 3000, realtime: 3000 } }, 'ports {"api":3000,"realtime":3000}: api and realtime need different ports'],
  ];
  for (const [title, patch, message] of cases) {
    it(`rejects: ${title}`, () => assert.throws(() => validateAlbArgs({ ...ok, ...patch }), { message: `Alb: invalid arguments:\n  - ${message}` }));
  }
});

/**
 * Every stack with a certificate (as production runs); the plain-HTTP fallback does not depend on the tier, so
 * only dev is also synthesized without one (each full synthesis costs about a second).
 */
const HTTP_STACK = "dev";
const runs = new Map<string, { http?: SynthResult; https: SynthResult }>();

beforeAll(async () => {
  for (const stack of TIER_NAMES) {
    runs.set(stack, {
      https: await synthesize(stack, { configOverrides: { "realtime-chat:certificateArn": CERT } }),
      http: stack === HTTP_STACK ? await synthesize(stack, { configOverrides: { "realtime-chat:certificateArn": undefined } }) : undefined,
    });
  }
});

/** The runs of a stack with what differs between them: `[run, listener ports, serving listener]`. */
function variants(r: { http?: SynthResult; https: SynthResult }): Array<[SynthResult, number[], string]> {
  return [[r.https, [80, 443], "alb-https"], ...(r.http ? [[r.http, [80], "alb-http"] as [SynthResult, number[], string]] : [])];
}

const policyOf = (r: SynthResource) => JSON.parse(r.inputs.policy);

for (const stack of TIER_NAMES) {
  describe(`edge of stack ${stack}`, () => {
    const tier = TIERS[stack as TierName];
    const cfg = () => validateStackConfig(stackConfigWithExamples(stack), stack);
    const get = () => runs.get(stack)!;
    const env = () => cfg().env;

    it("puts an internet-facing ALB in the public subnets with the tier's idle timeout", () => {
      const run = get().https;
      const lb = one(run, T.lb, "alb-lb");
      assert.equal(lb.inputs.name, `chat-${env()}-alb`);
      assert.equal(lb.inputs.loadBalancerType, "application");
      assert.equal(lb.inputs.internal, false);
      assert.deepEqual(lb.inputs.subnets, run.outputs.publicSubnetIds);
      assert.equal(lb.inputs.idleTimeout, tier.alb.idleTimeoutSeconds);
      assert.ok(lb.inputs.idleTimeout > 45, "idle timeout must exceed Socket.IO ping interval + timeout");
      assert.equal(lb.inputs.dropInvalidHeaderFields, true);
      assert.equal(lb.inputs.enableDeletionProtection, tier.alb.deletionProtection);
      assert.deepEqual(lb.inputs.securityGroups, [run.outputs.albSecurityGroupId]);
    });

    it("opens the ALB security group on 80/443 only and lets it reach only the service ports in the VPC", () => {
      for (const [run, ports] of variants(get())) {
        const sg = one(run, T.sg, "alb-sg");
        assert.equal(sg.inputs.ingress, undefined, "no inline rules: standalone rules only");
        assert.equal(sg.inputs.egress, undefined);
        const sgId = run.outputs.albSecurityGroupId;
        const ingress = byType(run, T.ingress).filter((r) => r.inputs.securityGroupId === sgId);
        assert.deepEqual(ingress.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4]),
          ports.map((p) => ["tcp", p, p, "0.0.0.0/0"]));
        const egress = byType(run, T.egress).filter((r) => r.inputs.securityGroupId === sgId);
        assert.deepEqual(egress.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4]),
          [["tcp", 3000, 3000, cfg().vpcCidr], ["tcp", 3001, 3001, cfg().vpcCidr]]);
        // descriptions in words EC2 accepts (letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*, at most 255)
        assert.equal(sg.inputs.description, "Load balancer: HTTP/HTTPS from the internet, service ports inside the VPC");
        assert.deepEqual(ingress.map((r) => r.inputs.description), ports.map((p) => (p === 443 ? "HTTPS from the internet" : "HTTP from the internet")));
        assert.deepEqual(egress.map((r) => r.inputs.description), ["To api tasks (traffic and health checks)", "To realtime tasks (traffic and health checks)"]);
      }
    });

    it("health-checks api on /api/health and realtime on /health; realtime is sticky with a short deregistration delay; fixed names delete before replace", () => {
      const run = get().https;
      const api = one(run, T.tg, "alb-api");
      const rt = one(run, T.tg, "alb-realtime");
      assert.equal(api.inputs.name, `chat-${env()}-api`);
      assert.equal(rt.inputs.name, `chat-${env()}-realtime`);
      for (const [tg, port, path] of [[api, 3000, "/api/health"], [rt, 3001, "/health"]] as const) {
        assert.equal(tg.inputs.port, port);
        assert.equal(tg.inputs.protocol, "HTTP");
        assert.equal(tg.inputs.targetType, "ip", "Fargate tasks register by IP");
        assert.equal(tg.inputs.vpcId, run.outputs.vpcId);
        assert.equal(tg.inputs.healthCheck.path, path);
        assert.equal(tg.inputs.healthCheck.matcher, "200");
        assert.equal(tg.inputs.healthCheck.port, "traffic-port");
      }
      assert.equal(api.inputs.stickiness.enabled, false);
      assert.equal(api.inputs.deregistrationDelay, tier.alb.apiDeregistrationDelaySeconds);
      assert.deepEqual(rt.inputs.stickiness, { type: "lb_cookie", enabled: true, cookieDuration: tier.alb.stickinessSeconds });
      assert.equal(rt.inputs.deregistrationDelay, tier.alb.realtimeDeregistrationDelaySeconds);
      // ECS sends SIGTERM only after the delay and the ALB cuts sockets at its end: one long-poll, no more
      assert.ok(rt.inputs.deregistrationDelay >= 30 && rt.inputs.deregistrationDelay <= 60, "short realtime delay");
      for (const tg of [api, rt]) assert.equal(tg.options.deleteBeforeReplace, true, `${tg.name}: a fixed name cannot exist twice`);
    });

    it("serves HTTPS with the certificate and redirects HTTP to it", () => {
      const run = get().https;
      // The only other warning a shipped stack gives: no push gateway configured outside dev.
      assert.deepEqual(run.warnings, stack === "dev" ? [] : [pushDisabledWarning(`chat-${env()}`)]);
      const listeners = byType(run, T.listener);
      assert.deepEqual(listeners.map((l) => [l.name, l.inputs.port, l.inputs.protocol]).sort(),
        [["alb-http-redirect", 80, "HTTP"], ["alb-https", 443, "HTTPS"]]);
      const https = one(run, T.listener, "alb-https");
      assert.equal(https.inputs.certificateArn, CERT);
      assert.match(https.inputs.sslPolicy, /^ELBSecurityPolicy-TLS13-/);
      assert.equal(https.inputs.defaultActions[0].type, "fixed-response");
      assert.equal(https.inputs.defaultActions[0].fixedResponse.statusCode, "404");
      assert.deepEqual(one(run, T.listener, "alb-http-redirect").inputs.defaultActions,
        [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]);
    });

    if (stack === HTTP_STACK) it("falls back to plain HTTP with a warning when no certificate is configured", () => {
      const run = get().http!;
      assert.equal(run.warnings.length, 1);
      assert.match(run.warnings[0]!, /no certificateArn configured; the load balancer serves plain HTTP on port 80/);
      const listeners = byType(run, T.listener);
      assert.deepEqual(listeners.map((l) => [l.name, l.inputs.port, l.inputs.protocol, l.inputs.certificateArn]),
        [["alb-http", 80, "HTTP", undefined]]);
    });

    it("routes /api/* and /graphql to api and /socket.io/* to realtime on the serving listener", () => {
      for (const [run, , listenerName] of variants(get())) {
        const rules = byType(run, T.rule);
        assert.equal(rules.length, 2);
        assert.equal(new Set(rules.map((r) => r.inputs.priority)).size, 2, "priorities must be unique");
        const routes = Object.fromEntries(rules.map((r) => {
          assert.match(r.inputs.listenerArn, new RegExp(`:listener/app/${listenerName}/`), "rules hang off the serving listener");
          assert.equal(r.inputs.actions.length, 1);
          assert.equal(r.inputs.actions[0].type, "forward");
          return [r.inputs.conditions[0].pathPattern.values.join(" "), r.inputs.actions[0].targetGroupArn];
        }));
        assert.deepEqual(routes, {
          "/api/* /graphql": run.outputs.apiTargetGroupArn,
          "/socket.io/*": run.outputs.realtimeTargetGroupArn,
        });
      }
    });

    it("writes access logs to an encrypted, private, expiring bucket the ELB log writer may put into", () => {
      const run = get().https;
      const bucket = one(run, "aws:s3/bucket:Bucket", "alb-access-logs");
      assert.equal(bucket.inputs.forceDestroy, !tier.alb.deletionProtection);
      const name = run.outputs.albAccessLogBucket;
      const lb = one(run, T.lb, "alb-lb");
      assert.deepEqual(lb.inputs.accessLogs, { bucket: name, prefix: "alb", enabled: true });
      const pab = one(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "alb-access-logs-public-block");
      for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(pab.inputs[k], true, k);
      const sse = one(run, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "alb-access-logs-encryption");
      assert.equal(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
      const lifecycle = one(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "alb-access-logs-lifecycle");
      assert.equal(lifecycle.inputs.rules[0].status, "Enabled");
      assert.equal(lifecycle.inputs.rules[0].expiration.days, tier.alb.accessLogRetentionDays);
      const policy = policyOf(one(run, "aws:s3/bucketPolicy:BucketPolicy", "alb-access-logs-policy"));
      const write = policy.Statement.find((s: any) => s.Sid === "ElbLogDelivery");
      assert.deepEqual(write.Principal, { AWS: ELB_US_EAST_1 });
      assert.equal(write.Action, "s3:PutObject");
      assert.equal(write.Resource, `arn:aws:s3:::${name}/alb/AWSLogs/*`);
      const deny = policy.Statement.find((s: any) => s.Sid === "DenyInsecureTransport");
      assert.equal(deny.Effect, "Deny");
      assert.deepEqual(deny.Condition, { Bool: { "aws:SecureTransport": "false" } });
      for (const dep of ["alb-access-logs-policy", "alb-access-logs-public-block", "alb-access-logs-encryption"]) {
        assert.ok(lb.options.dependsOn.some((u) => u.endsWith(`::${dep}`)), `the ALB must wait for ${dep}`);
      }
    });

    it("puts a regional web ACL with managed groups and per-IP rate limits from the tier on the ALB", () => {
      const run = get().https;
      const acl = one(run, T.acl, "waf-acl");
      assert.equal(acl.inputs.scope, "REGIONAL");
      assert.deepEqual(acl.inputs.defaultAction, { allow: {} });
      const rules = acl.inputs.rules as any[];
      assert.deepEqual(rules.map((r) => [r.priority, r.name]), [
        [10, "AWSManagedRulesAmazonIpReputationList"], [20, "SocketIORateLimit"], [30, "GeneralRateLimit"],
        [40, "AWSManagedRulesCommonRuleSet"], [50, "AWSManagedRulesKnownBadInputsRuleSet"], [60, "AWSManagedRulesSQLiRuleSet"],
        [80, "AWSManagedRulesSQLiRuleSetMessagePaths"],
      ]);
      for (const r of rules) {
        assert.deepEqual(r.visibilityConfig, { metricName: r.name, cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true });
        if (r.statement.managedRuleGroupStatement) {
          const { ruleActionOverrides, scopeDownStatement, ...group } = r.statement.managedRuleGroupStatement;
          assert.deepEqual(group, { vendorName: "AWS", name: r.name.replace(/MessagePaths$/, "") });
          // only the 8 KB body rule is relaxed (the services allow larger bodies); everything else blocks
          assert.deepEqual(ruleActionOverrides, r.name === "AWSManagedRulesCommonRuleSet"
            ? [{ name: "SizeRestrictions_BODY", actionToUse: { count: {} } }] : undefined);
          assert.deepEqual(r.overrideAction, r.name.endsWith("MessagePaths") ? { count: {} } : { none: {} },
            "managed groups keep their own block actions, except the count-only copy on the message paths");
          if (["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet"].includes(r.name)) assert.equal(scopeDownStatement, undefined);
        } else {
          assert.deepEqual(r.action, { block: {} });
          assert.equal(r.statement.rateBasedStatement.aggregateKeyType, "IP");
          assert.equal(r.statement.rateBasedStatement.evaluationWindowSec, tier.waf.evaluationWindowSeconds);
        }
      }
      const socket = rules.find((r) => r.name === "SocketIORateLimit").statement.rateBasedStatement;
      assert.equal(socket.limit, tier.waf.socketIoRateLimit);
      assert.deepEqual(socket.scopeDownStatement.byteMatchStatement, {
        fieldToMatch: { uriPath: {} }, positionalConstraint: "STARTS_WITH", searchString: "/socket.io/",
        textTransformations: [{ priority: 0, type: "NONE" }],
      });
      const general = rules.find((r) => r.name === "GeneralRateLimit").statement.rateBasedStatement;
      assert.equal(general.limit, tier.waf.generalRateLimit);
      assert.equal(general.scopeDownStatement, undefined);
      assert.ok(socket.limit < general.limit);

      const assoc = one(run, "aws:wafv2/webAclAssociation:WebAclAssociation", "waf-alb");
      assert.equal(assoc.inputs.webAclArn, run.outputs.wafAclArn);
      assert.match(assoc.inputs.resourceArn, new RegExp(`:loadbalancer/${run.outputs.albArnSuffix}$`));
    });

    it("logs WAF decisions to aws-waf-logs-<project>-<env> with the tier's retention and secrets redacted", () => {
      const run = get().https;
      const group = one(run, T.logGroup, "waf-logs");
      assert.equal(group.inputs.name, `aws-waf-logs-chat-${env()}`);
      assert.equal(group.inputs.retentionInDays, tier.waf.logRetentionDays);
      const logging = one(run, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "waf-logging");
      assert.equal(logging.inputs.resourceArn, run.outputs.wafAclArn);
      assert.deepEqual(logging.inputs.logDestinationConfigs, [`arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-chat-${env()}`]);
      assert.deepEqual(logging.inputs.redactedFields.map((f: any) => f.singleHeader.name), ["authorization", "cookie"]);
      assert.equal(run.outputs.wafLogGroupName, `aws-waf-logs-chat-${env()}`);
      // allowed requests are not logged: only what a rule blocked or counted
      assert.deepEqual(logging.inputs.loggingFilter, {
        defaultBehavior: "DROP",
        filters: [{ behavior: "KEEP", requirement: "MEETS_ANY", conditions: [{ actionCondition: { action: "BLOCK" } }, { actionCondition: { action: "COUNT" } }] }],
      });
    });

    it("exports the edge outputs operators use", () => {
      const run = get().https;
      assert.match(run.outputs.albDnsName, /\.elb\.amazonaws\.com$/);
      assert.match(run.outputs.albArnSuffix, new RegExp(`^app/chat-${env()}-alb/`));
      assert.match(run.outputs.realtimeTargetGroupArn, new RegExp(`:targetgroup/chat-${env()}-realtime/`));
      assert.match(run.outputs.realtimeTargetGroupArnSuffix, new RegExp(`^targetgroup/chat-${env()}-realtime/`));
      assert.match(run.outputs.apiTargetGroupArnSuffix, new RegExp(`^targetgroup/chat-${env()}-api/`));
      assert.match(run.outputs.wafAclArn, /^arn:aws:wafv2:us-east-1:\d{12}:regional\/webacl\//);
    });
  });
}

describe("Alb component outside the stacks", () => {
  it("grants log delivery to the service principal in regions without an ELB account, and takes custom ports", async () => {
    const run = await synthesize("dev", {
      program: () => {
        const alb = new Alb("probe", {
          loadBalancerName: "probe-alb", targetGroupNames: { api: "probe-api", realtime: "probe-rt" }, region: "eu-south-2",
          vpcId: "vpc-1", vpcCidr: "10.8.0.0/16", publicSubnetIds: ["subnet-a", "subnet-b"], certificateArn: CERT,
          ports: { api: 8080, realtime: 8081 },
        });
        const urns = alb.listeners.map((r) => r.urn);
        return { suffix: alb.arnSuffix, dependOn: pulumi.all(urns) };
      },
    });
    const policy = policyOf(one(run, "aws:s3/bucketPolicy:BucketPolicy", "probe-access-logs-policy"));
    assert.deepEqual(policy.Statement[0].Principal, { Service: "logdelivery.elasticloadbalancing.amazonaws.com" });
    assert.deepEqual(byType(run, T.tg).map((t) => t.inputs.port), [8080, 8081]);
    assert.deepEqual(byType(run, T.egress).map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4]), [[8080, "10.8.0.0/16"], [8081, "10.8.0.0/16"]]);
    assert.equal(one(run, T.lb, "probe-lb").inputs.enableDeletionProtection, true, "deletion protection is the default");
    assert.equal(one(run, "aws:s3/bucket:Bucket", "probe-access-logs").inputs.forceDestroy, false);
    assert.deepEqual(run.outputs.dependOn.map((u: string) => u.split("::").pop()).sort(),
      ["probe-api-rule", "probe-http-redirect", "probe-https", "probe-realtime-rule"], "services wait for listeners and routing rules");
  });
});

/**
 * Evaluates a WAF statement against a request path: the subset of WAFv2 statements the web ACL's scope-downs
 * use (regex on the URI path, and/or/not). A statement of another kind fails the test instead of passing.
 */
function matches(statement: any, path: string): boolean {
  if (statement.regexMatchStatement) {
    assert.deepEqual(statement.regexMatchStatement.fieldToMatch, { uriPath: {} });
    return new RegExp(statement.regexMatchStatement.regexString).test(path);
  }
  if (statement.orStatement) return statement.orStatement.statements.some((x: any) => matches(x, path));
  if (statement.andStatement) return statement.andStatement.statements.every((x: any) => matches(x, path));
  if (statement.notStatement) return !matches(statement.notStatement.statement, path);
  throw new Error(`unexpected statement ${JSON.stringify(statement)}`);
}

describe("WAF managed groups and chat text", () => {
  const rules = wafRules({ namePrefix: "chat-test", albArn: "arn", generalRateLimit: 4000, socketIoRateLimit: 3000 });
  /** Managed groups that inspect (and may block) a request to `path`, with whether they block or only count. */
  const inspecting = (path: string) => rules.filter((r) => r.statement && (r.statement as any).managedRuleGroupStatement)
    .filter((r) => {
      const scope = (r.statement as any).managedRuleGroupStatement.scopeDownStatement;
      return scope === undefined || matches(scope, path);
    })
    .map((r) => `${(r.statement as any).managedRuleGroupStatement.name}:${(r.overrideAction as any).count ? "count" : "block"}`);
  const everywhere = ["AWSManagedRulesAmazonIpReputationList:block", "AWSManagedRulesKnownBadInputsRuleSet:block"];

  it.each([
    ["POST a message over REST", "/api/rooms/6f1c9a52-1b7e-4c55-9a0e-1f2d3c4b5a69/messages"],
    ["edit a message over REST", "/api/messages/0b8f1c2e-3d4a-4b5c-8d9e-0f1a2b3c4d5e"],
    ["GraphQL", "/graphql"],
    ["Socket.IO long-polling", "/socket.io/"],
  ])("%s (%s): the common and SQL injection groups never block; SQL injection only counts", (_what, path) => {
    expect(inspecting(path).sort()).toEqual([...everywhere, "AWSManagedRulesSQLiRuleSet:count"].sort());
  });

  it.each([
    ["login", "/api/auth/login"],
    ["room creation", "/api/rooms"],
    ["history", "/api/rooms/abc/messages/older"],
    ["a path that only contains a message path", "/static/api/messages/x"],
    ["a path with a traversal after a message path", "/api/messages/x/../../auth/login"],
    ["unrouted", "/etc/passwd"],
  ])("%s (%s): every managed group blocks as before", (_what, path) => {
    expect(inspecting(path).sort()).toEqual([...everywhere, ...MESSAGE_PATH_GROUPS.map((g) => `${g}:block`)].sort());
  });
});

describe("TLS from domainName + hostedZoneId (production stacks as shipped, with the labelled example values)", () => {
  let run: SynthResult;
  let dr: SynthResult;
  beforeAll(async () => {
    run = await synthesize("10k-dau");
    dr = await synthesize("10k-dau-dr");
  });

  it("issues a DNS-validated ACM certificate and serves HTTPS only with the validated one; port 80 only redirects", () => {
    assert.deepEqual(run.examplesUsed, {
      "realtime-chat:domainName": "chat-10k.example.com",
      "realtime-chat:hostedZoneId": "Z0EXAMPLE0HOSTEDZONE1",
      "realtime-chat:alarmEmail": "oncall@example.com",
    });
    const cert = one(run, "aws:acm/certificate:Certificate", "site-cert-cert");
    assert.equal(cert.inputs.domainName, "chat-10k.example.com");
    assert.equal(cert.inputs.validationMethod, "DNS");
    const record = one(run, "aws:route53/record:Record", "site-cert-validation");
    assert.equal(record.inputs.zoneId, "Z0EXAMPLE0HOSTEDZONE1");
    assert.equal(record.inputs.type, "CNAME");
    assert.match(record.inputs.name, /\.chat-10k\.example\.com\.$/);
    const validation = one(run, "aws:acm/certificateValidation:CertificateValidation", "site-cert-validation");
    assert.deepEqual(validation.inputs.validationRecordFqdns, [record.inputs.name.replace(/\.$/, "")]);
    const https = one(run, T.listener, "alb-https");
    assert.equal(https.inputs.certificateArn, validation.inputs.certificateArn);
    // the listener takes the ARN from the validation, so it waits until ACM has issued the certificate
    assert.ok(https.options.dependsOn.includes(validation.urn), `listener depends on ${validation.urn}: ${https.options.dependsOn.join(", ")}`);
    assert.deepEqual(byType(run, T.listener).map((l) => [l.inputs.port, l.inputs.protocol]).sort(), [[443, "HTTPS"], [80, "HTTP"]]);
    assert.deepEqual(one(run, T.listener, "alb-http-redirect").inputs.defaultActions[0].type, "redirect");
    assert.ok(!run.warnings.some((w) => w.includes("plain HTTP")), "no plain-HTTP warning");
  });

  it("points the name at the load balancer with an alias record and outputs siteUrl", () => {
    const alias = one(run, "aws:route53/record:Record", "site-dns-a");
    assert.equal(alias.inputs.name, "chat-10k.example.com");
    assert.equal(alias.inputs.type, "A");
    assert.deepEqual(alias.inputs.aliases, [{ name: run.outputs.albDnsName, zoneId: "Z35SXDOTRQ7X7K", evaluateTargetHealth: true }]);
    assert.equal(alias.inputs.allowOverwrite, false, "a primary never takes over a record it did not create");
    assert.equal(alias.options.retainOnDelete, false, "a primary's destroy removes its record");
    assert.equal(run.outputs.siteUrl, "https://chat-10k.example.com");
  });

  it("a DR stack takes the site's name over during a failover", () => {
    const alias = one(dr, "aws:route53/record:Record", "site-dns-a");
    assert.equal(alias.inputs.allowOverwrite, true);
    // after fail-back the primary owns the name again: retiring the DR stack must leave the record alone
    assert.equal(alias.options.retainOnDelete, true);
    assert.equal(dr.outputs.siteUrl, "https://chat-10k.example.com");
  });

  it("a configured certificate wins: no certificate is issued", async () => {
    const withCert = await synthesize("1k-dau", { configOverrides: { "realtime-chat:certificateArn": CERT } });
    assert.equal(byType(withCert, "aws:acm/certificate:Certificate").length, 0);
    assert.equal(one(withCert, T.listener, "alb-https").inputs.certificateArn, CERT);
  });

  it("refuses to start a production stack file as shipped (no example values): the config check, before any resource", async () => {
    // the program's first step, pure: it throws before buildPlatform registers anything
    assert.throws(() => validateStackConfig(loadStackFile("1k-dau").config, "1k-dau"), (e: Error) =>
      /^Invalid configuration in Pulumi\.1k-dau\.yaml/.test(e.message) &&
      e.message.includes("realtime-chat:certificateArn is missing: tier 1k-dau refuses to serve plain HTTP") &&
      e.message.includes("realtime-chat:alarmEmail is missing: tier 1k-dau needs at least one subscription"));
    const err = await synthesize("1k-dau", { examples: false }).then(() => undefined, (e: Error) => e);
    assert.match(String(err), /realtime-chat:certificateArn is missing/);
  });
});
