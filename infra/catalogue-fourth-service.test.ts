/**
 * Adding a service is one catalogue entry plus its sizing (docs/COMPUTE.md, "Adding a service"): the stack
 * program, run with the catalogue extended by a `search` service, gives it a Fargate service, a target group
 * and listener rule, exactly the links its `uses` names (IAM, secrets, security-group ingress), its scaling,
 * its alarms and its outputs, without a change anywhere else.
 */
import type { SynthResult } from "./synth";

const SEARCH = {
  summary: "search API",
  port: 3003,
  healthPath: "/health",
  route: { paths: ["/search/*"], priority: 30, healthCheckPath: "/search/health", sticky: false, deregistrationDelaySeconds: () => 20 },
  stopTimeoutSeconds: () => 30,
  deployment: { minimumHealthyPercent: 100, maximumPercent: 200 },
  scaling: (s: { cpuTarget: number }) => [{ metric: "cpu", targetPercent: s.cpuTarget }],
  uses: { database: true, redis: true },
  environment: () => ({ SHUTDOWN_GRACE_MS: "25000" }),
  deploymentAlarms: ["5xx"],
};
const IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/search:1.0.0";

let run: SynthResult;
beforeAll(async () => {
  await jest.isolateModulesAsync(async () => {
    jest.doMock("./catalogue", () => {
      const real = jest.requireActual("./catalogue");
      const catalogue = { ...real.SERVICE_CATALOGUE, search: SEARCH };
      const names = Object.keys(catalogue);
      return { ...real, SERVICE_CATALOGUE: catalogue, SERVICE_NAMES: names, routedServices: () => names.filter((n) => catalogue[n].route) };
    });
    // its sizing (in a real change: `services.search` in every tier of infra/config/tiers.ts)
    const { TIERS } = require("./config/tiers");
    TIERS.dev.services.search = { cpu: 256, memory: 512, min: 1, max: 2, cpuTarget: 60 };
    const { synthesize } = require("./synth");
    const { loadStackConfig } = require("./config/load");
    const { buildStack } = require("./platform");
    run = await synthesize("dev", {
      // its image (a configured URI here; without one it is built from apps/search/Dockerfile)
      program: async () => buildStack({ ...loadStackConfig(), searchImage: IMAGE }),
    });
  });
}, 120_000);

const named = (type: string, name: string) => run.resources.find((r) => r.type === type && r.name === name);
const all = (type: string) => run.resources.filter((r) => r.type === type);

describe("a fourth catalogue entry", () => {
  it("gets a Fargate service with its port, stop timeout and image", () => {
    expect(named("aws:ecs/service:Service", "search-service")?.inputs).toMatchObject({ name: "chat-dev-search" });
    const containers = JSON.parse(named("aws:ecs/taskDefinition:TaskDefinition", "search-task")!.inputs.containerDefinitions);
    expect(containers[0]).toMatchObject({ name: "search", image: IMAGE, stopTimeout: 30, portMappings: [{ containerPort: 3003 }] });
    const env = Object.fromEntries(containers[0].environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toMatchObject({ PORT: "3003", SERVICE_NAME: "chat-dev-search", SHUTDOWN_GRACE_MS: "25000", DB_IAM_AUTH: "true", REDIS_TLS: "true" });
    expect(Object.keys(env).filter((k) => /QUEUE_URL|PUSH_/.test(k))).toStrictEqual([]);
    expect(containers[0].secrets.map((s: { name: string }) => s.name)).toStrictEqual(["REDIS_AUTH_TOKEN"]);
  });

  it("gets a target group and a listener rule from its route", () => {
    expect(named("aws:lb/targetGroup:TargetGroup", "alb-search")?.inputs).toMatchObject({
      name: "chat-dev-search", port: 3003, deregistrationDelay: 20, healthCheck: { path: "/search/health" },
    });
    expect(named("aws:lb/listenerRule:ListenerRule", "alb-search-rule")?.inputs).toMatchObject({ priority: 30, conditions: [{ pathPattern: { values: ["/search/*"] } }] });
    expect(named("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "alb-out-search")?.inputs).toMatchObject({ fromPort: 3003, toPort: 3003 });
  });

  it("is linked to exactly what it uses: the proxy and Redis, no queue", () => {
    const rules = all("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.name).filter((n) => n.startsWith("search-"));
    // the ALB on its port into its own group, and its links' rules into the proxy's and Redis's groups
    expect(rules.sort()).toStrictEqual(["search-in-alb", "search-to-db-proxy-in", "search-to-redis-in"]);
    const policy = JSON.parse(named("aws:iam/rolePolicy:RolePolicy", "search-task-policy")!.inputs.policy);
    const actions = policy.Statement.flatMap((s: { Action: string[] }) => s.Action);
    expect(actions).toContain("rds-db:connect");
    expect(actions.filter((a: string) => a.startsWith("sqs:"))).toStrictEqual([]);
  });

  it("scales, alarms and exports like the others", () => {
    expect(named("aws:appautoscaling/target:Target", "search-scaling")?.inputs).toMatchObject({ minCapacity: 1, maxCapacity: 2 });
    const alarms = all("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs.name).filter((n: string) => n.includes("search"));
    expect(alarms.sort()).toStrictEqual(["chat-dev-critical-search-high-cpu", "chat-dev-critical-search-high-memory", "chat-dev-deploy-search-5xx",
      "chat-dev-warning-search-high-cpu", "chat-dev-warning-search-high-memory"]);
    expect(run.outputs.searchServiceName).toBe("chat-dev-search");
    expect(run.outputs.searchTargetGroupArn).toMatch(/:targetgroup\/chat-dev-search\//);
    expect(run.outputs.serviceScalingBounds.search).toStrictEqual({ min: 1, max: 2 });
  });
});
