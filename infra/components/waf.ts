import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_LIMITS, inRange, LOG_RETENTION_DAYS, WAF_EVALUATION_WINDOWS } from "./aws-limits";
import { Problems } from "./problems";

/** Metric name of the rate-based rule scoped to `/socket.io/`; operators query sampled requests by it. */
export const SOCKET_IO_RATE_METRIC = "SocketIORateLimit";
/** Metric name of the site-wide rate-based rule. */
export const GENERAL_RATE_METRIC = "GeneralRateLimit";

/** AWS managed rule groups the web ACL runs, in evaluation order after the rate limits (name = metric name). */
export const MANAGED_RULE_GROUPS = [
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
  "AWSManagedRulesSQLiRuleSet",
] as const;
/**
 * Common rule set rules switched to count. `SizeRestrictions_BODY` blocks bodies over 8 KB, but the api accepts
 * up to 64 KB (BODY_LIMIT_BYTES) and a Socket.IO long-polling POST carries events up to 16 KB
 * (MAX_PAYLOAD_BYTES); the services enforce those limits themselves. WAF still inspects the first 8 KB.
 */
export const COMMON_RULES_COUNT_ONLY = ["SizeRestrictions_BODY"];
/**
 * Paths whose request bodies carry chat text (anchored regular expressions on the URI path): posting and
 * editing a message over REST, GraphQL, and Socket.IO long-polling. A message may legitimately contain code,
 * paths or SQL (`<script>`, `../../etc/passwd`, `' OR 1=1 --`); over a WebSocket the same text never meets
 * WAF, so inspecting it here only blocks users who fell back to polling. The common and SQL injection
 * groups skip these paths (see `MESSAGE_PATH_GROUPS`); the services validate and escape message text.
 */
export const MESSAGE_PATHS: Record<string, string> = {
  restPost: "^/api/rooms/[^/]+/messages$",
  restEdit: "^/api/messages/[^/]+$",
  graphql: "^/graphql$",
  socketIo: "^/socket\\.io/",
};
/**
 * Managed groups whose body rules would block chat text: they run everywhere except `MESSAGE_PATHS` (a
 * scope-down statement). On the message paths the SQL injection group still runs in count mode
 * (`<name>MessagePaths` metric and COUNT log records), so an attack shows up without blocking anyone; the
 * known-bad-inputs group (Log4j, Java deserialization, host header exploits) keeps blocking everywhere.
 */
export const MESSAGE_PATH_GROUPS = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet"] as const;
/*
 * Capacity (AWS WAF Developer Guide, "Web ACL capacity units"; regex match statement: 3 WCUs base): each
 * message-path scope-down is 4 regex matches = 12 WCUs, used three times (common, SQL injection, the counting
 * copy) = 36, plus the groups' own 700 (common) + 200 (SQL injection) + 200 (counting copy) + 200 (known bad
 * inputs) + 25 (IP reputation) + the two rate-based rules: about 1,370, under the 1,500 WCUs a web ACL uses
 * without extra charge (up to 5,000 are allowed, billed above 1,500: AWS What's New, 2023-04-11). A second
 * copy of the common group (700) would not fit; that is why only the SQL
 * injection group counts on the message paths.
 */
/** Runs first: requests from addresses on Amazon's reputation list never reach the other rules. */
export const IP_REPUTATION_GROUP = "AWSManagedRulesAmazonIpReputationList";

export interface WafArgs {
  /** `<project>-<env>`: names the web ACL, its CloudWatch metric and the log group `aws-waf-logs-<prefix>`. */
  namePrefix: string;
  /** ARN of the load balancer to protect. */
  albArn: pulumi.Input<string>;
  /** Requests per IP per window across the whole site before the IP is blocked (10 to 2,000,000,000). */
  generalRateLimit: number;
  /**
   * Requests per IP per window whose path starts with `/socket.io/` (handshakes, long-polling) before the IP
   * is blocked. A WebSocket counts once at its upgrade, so this mostly limits polling and reconnect storms.
   */
  socketIoRateLimit: number;
  /** Rate-based rule window, seconds: 60, 120, 300 or 600. @default WAF_DEFAULTS.evaluationWindowSeconds (300) */
  evaluationWindowSeconds?: number;
  /** Log group for WAF logs; WAF requires the `aws-waf-logs-` prefix. @default `aws-waf-logs-<namePrefix>` */
  logGroupName?: string;
  /** Retention of the WAF log group, days (a CloudWatch Logs retention value). @default WAF_DEFAULTS.logRetentionDays (30) */
  logRetentionDays?: number;
  /** Tags for every child. */
  tags?: Record<string, string>;
}

/** Every problem with the plain arguments (field, value, fix). */
/** Defaults of the optional arguments, written once (validator, rules and log group read them). */
export const WAF_DEFAULTS = Object.freeze({ evaluationWindowSeconds: 300, logRetentionDays: 30 });

export function wafProblems(args: WafArgs): Problems {
  const p = new Problems("Waf");
  if (!/^[a-z][a-z0-9-]{0,100}$/.test(args.namePrefix)) p.add("namePrefix", args.namePrefix, "use lowercase letters, digits and '-'");
  const rate = AWS_LIMITS.waf.rateLimit;
  for (const field of ["generalRateLimit", "socketIoRateLimit"] as const) {
    if (!inRange(args[field], rate)) p.add(field, args[field], `must be a whole number from ${rate.min} to ${rate.max} (WAF rate-based rule limit)`);
  }
  const window = args.evaluationWindowSeconds ?? WAF_DEFAULTS.evaluationWindowSeconds;
  if (!WAF_EVALUATION_WINDOWS.values.includes(window)) p.add("evaluationWindowSeconds", window, `allowed: ${WAF_EVALUATION_WINDOWS.values.join(", ")}`);
  if (args.logGroupName !== undefined && !/^aws-waf-logs-[\w.\-/#]{1,499}$/.test(args.logGroupName)) {
    p.add("logGroupName", args.logGroupName, "WAF only logs to groups named aws-waf-logs-<suffix>");
  }
  const retention = args.logRetentionDays ?? WAF_DEFAULTS.logRetentionDays;
  if (!LOG_RETENTION_DAYS.includes(retention)) p.add("logRetentionDays", retention, `not a CloudWatch Logs retention; allowed: ${LOG_RETENTION_DAYS.join(", ")}`);
  return p;
}

/** Throws one error naming the field, the bad value and what is allowed. */
export function validateWafArgs(args: WafArgs): void {
  wafProblems(args).check();
}

/**
 * Only requests a rule blocked or counted are logged (WAFv2 API reference, LoggingFilter: DefaultBehavior DROP;
 * Filter: Behavior KEEP, Requirement MEETS_ANY; ActionCondition: Action BLOCK or COUNT). Allowed
 * traffic, nearly all of it, is not logged: full logging at 100k-dau would be over a terabyte a month. The
 * per-rule CloudWatch metrics and sampled requests still cover allowed traffic.
 */
export const LOGGING_FILTER = {
  defaultBehavior: "DROP",
  filters: [{
    behavior: "KEEP",
    requirement: "MEETS_ANY",
    conditions: [{ actionCondition: { action: "BLOCK" } }, { actionCondition: { action: "COUNT" } }],
  }],
};

const visibility = (metricName: string) => ({ metricName, cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true });

type Statement = aws.types.input.wafv2.WebAclRuleStatementManagedRuleGroupStatementScopeDownStatement;

/** One regex on the URI path (WAFv2 RegexMatchStatement: a pattern of at most 512 characters). */
function pathMatches(pattern: string): Statement {
  return { regexMatchStatement: { regexString: pattern, fieldToMatch: { uriPath: {} }, textTransformations: [{ priority: 0, type: "NONE" }] } };
}

/** Requests to any of the message-carrying paths. */
export function messagePathStatement(): Statement {
  return { orStatement: { statements: Object.values(MESSAGE_PATHS).map(pathMatches) } } as Statement;
}

function managedGroup(name: string, priority: number, o: { countOnly?: string[]; scopeDown?: Statement; countAll?: boolean; metric?: string } = {}): aws.types.input.wafv2.WebAclRule {
  const overrides = (o.countOnly ?? []).map((rule) => ({ name: rule, actionToUse: { count: {} } }));
  const metric = o.metric ?? name;
  return {
    name: metric,
    priority,
    overrideAction: o.countAll ? { count: {} } : { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: "AWS", name,
        ...(overrides.length ? { ruleActionOverrides: overrides } : {}),
        ...(o.scopeDown ? { scopeDownStatement: o.scopeDown } : {}),
      },
    },
    visibilityConfig: visibility(metric),
  };
}

/** The web ACL's rules in priority order (plain data; exported for tests and the docs). */
export function wafRules(args: WafArgs): aws.types.input.wafv2.WebAclRule[] {
  const window = args.evaluationWindowSeconds ?? WAF_DEFAULTS.evaluationWindowSeconds;
  return [
    managedGroup(IP_REPUTATION_GROUP, 10),
    {
      name: SOCKET_IO_RATE_METRIC,
      priority: 20,
      action: { block: {} },
      statement: {
        rateBasedStatement: {
          aggregateKeyType: "IP",
          limit: args.socketIoRateLimit,
          evaluationWindowSec: window,
          scopeDownStatement: {
            byteMatchStatement: {
              fieldToMatch: { uriPath: {} },
              positionalConstraint: "STARTS_WITH",
              searchString: "/socket.io/",
              textTransformations: [{ priority: 0, type: "NONE" }],
            },
          },
        },
      },
      visibilityConfig: visibility(SOCKET_IO_RATE_METRIC),
    },
    {
      name: GENERAL_RATE_METRIC,
      priority: 30,
      action: { block: {} },
      statement: { rateBasedStatement: { aggregateKeyType: "IP", limit: args.generalRateLimit, evaluationWindowSec: window } },
      visibilityConfig: visibility(GENERAL_RATE_METRIC),
    },
    ...MANAGED_RULE_GROUPS.map((name, i) => {
      const awayFromMessages = (MESSAGE_PATH_GROUPS as readonly string[]).includes(name);
      return managedGroup(name, 40 + i * 10, {
        countOnly: name === "AWSManagedRulesCommonRuleSet" ? COMMON_RULES_COUNT_ONLY : [],
        ...(awayFromMessages ? { scopeDown: { notStatement: { statement: messagePathStatement() } } as Statement } : {}),
      });
    }),
    // message paths: SQL injection findings are counted and logged, never blocked
    managedGroup("AWSManagedRulesSQLiRuleSet", 80, { scopeDown: messagePathStatement(), countAll: true, metric: "AWSManagedRulesSQLiRuleSetMessagePaths" }),
  ];
}

/**
 * Regional WAF web ACL in front of the ALB: Amazon's IP reputation list, then per-IP rate limits (one for
 * `/socket.io/`, metric `SocketIORateLimit`, and one site-wide), then the common, known-bad-inputs and SQL
 * injection managed rule groups (the common set's 8 KB body rule only counts, see `COMMON_RULES_COUNT_ONLY`;
 * the common and SQL injection groups skip the message-carrying paths, where SQL injection only counts, see
 * `MESSAGE_PATHS`). Requests that match nothing are allowed. Every rule publishes CloudWatch
 * metrics and sampled requests under its own name.
 *
 * Logs go to the CloudWatch log group `aws-waf-logs-<prefix>` (WAF requires the prefix), only for requests a
 * rule blocked or counted (`LOGGING_FILTER`), with the `Authorization` and `Cookie` headers redacted. WAF adds the log group's resource policy itself (the deploying
 * principal needs `logs:PutResourcePolicy`), so no per-stack policy uses up the account's ten-policy limit.
 */
export class Waf extends pulumi.ComponentResource {
  readonly webAcl: aws.wafv2.WebAcl;
  /** ARN of the web ACL (stack output `wafAclArn`). */
  readonly webAclArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: WafArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:waf:Waf", name, {}, opts);
    validateWafArgs(args);
    const child = { parent: this };
    const tags = args.tags ?? {};

    this.webAcl = new aws.wafv2.WebAcl(`${name}-acl`, {
      name: `${args.namePrefix}-waf`,
      description: `Protects the ${args.namePrefix} load balancer`,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      rules: wafRules(args),
      visibilityConfig: visibility(`${args.namePrefix}-waf`),
      tags,
    }, child);

    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
      name: args.logGroupName ?? `aws-waf-logs-${args.namePrefix}`,
      retentionInDays: args.logRetentionDays ?? WAF_DEFAULTS.logRetentionDays,
      tags,
    }, child);

    new aws.wafv2.WebAclLoggingConfiguration(`${name}-logging`, {
      resourceArn: this.webAcl.arn,
      logDestinationConfigs: [logGroup.arn],
      redactedFields: [{ singleHeader: { name: "authorization" } }, { singleHeader: { name: "cookie" } }],
      loggingFilter: LOGGING_FILTER,
    }, child);

    new aws.wafv2.WebAclAssociation(`${name}-alb`, { resourceArn: args.albArn, webAclArn: this.webAcl.arn }, child);

    this.webAclArn = this.webAcl.arn;
    this.logGroupName = logGroup.name;
    this.registerOutputs({ webAclArn: this.webAclArn, logGroupName: this.logGroupName });
  }
}
