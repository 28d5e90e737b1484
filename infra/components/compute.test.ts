/**
 * Compute layer (ecs-cluster.ts, service.ts, scaling.ts, service-iam.ts, images.ts, ../compute.ts): the
 * validators and pure helpers without mocks, then every tier's stack file synthesized once (images built) and
 * dev once more with all image URIs configured (no build), asserting on the inputs.
 */
import assert from "node:assert/strict";
import { validateStackConfig } from "../config/load";
import { TIER_NAMES, TIERS } from "../config/tiers";
import type { TierName } from "../config/tiers";
import { mergeEnvironment, REALTIME_STOP_TIMEOUT_SECONDS, realtimeShutdownGraceMs } from "../compute";
import { byType, one, REPO_ROOT, stackConfigWithExamples, synthesize } from "../synth";
import type { SynthResource, SynthResult } from "../synth";
import { shortId } from "../synth/mocks";
import { validateEcsClusterArgs } from "./ecs-cluster";
import type { EcsClusterArgs } from "./ecs-cluster";
import { lifecyclePolicy, missingDockerfiles, serviceImageTag, servicesToBuild, validateServiceImagesArgs } from "./images";
import type { ServiceImagesArgs } from "./images";
import { backlogPolicy, cpuPolicy, scalingPolicyProblems, targetTrackingConfiguration } from "./scaling";
import { validateFargateServiceArgs } from "./service";
import type { FargateServiceArgs } from "./service";
import { ecrRepositoryArn, executionRoleStatements, wildcardActions } from "./service-iam";

const T = {
  cluster: "aws:ecs/cluster:Cluster",
  service: "aws:ecs/service:Service",
  task: "aws:ecs/taskDefinition:TaskDefinition",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  target: "aws:appautoscaling/target:Target",
  policy: "aws:appautoscaling/policy:Policy",
  repo: "aws:ecr/repository:Repository",
  lifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  image: "docker-build:index:Image",
  listener: "aws:lb/listener:Listener",
};
const SERVICES = ["api", "realtime", "workers"] as const;
const PORTS = { api: 3000, realtime: 3001, workers: 3002 };
const sgId = (logicalName: string) => `sg-${shortId(T.sg, logicalName)}`;
const URIS = {
  api: "123456789012.dkr.ecr.us-east-1.amazonaws.com/ci-api:1.2.3",
  realtime: "123456789012.dkr.ecr.us-east-1.amazonaws.com/ci-realtime:1.2.3",
  workers: "public.ecr.aws/example/workers:1.2.3",
  toolbox: "123456789012.dkr.ecr.us-east-1.amazonaws.com/ci-toolbox:1.2.3",
};

describe("validateFargateServiceArgs", () => {
  const ok: FargateServiceArgs = {
    serviceName: "chat-dev-api", containerName: "api", port: 3000, clusterArn: "arn", clusterName: "chat-dev", region: "us-east-1",
    accountId: "123456789012", vpcId: "vpc-1", subnetIds: ["subnet-a"], image: "img", repositoryArns: [], cpu: 256, memory: 512,
    logGroupName: "/ecs/chat-dev/api", logRetentionDays: 7, scaling: { min: 1, max: 3, policies: [cpuPolicy(60)] },
  };
  it("accepts valid arguments", () => assert.doesNotThrow(() => validateFargateServiceArgs(ok)));
  const cases: Array<[string, Partial<FargateServiceArgs>, string]> = [
    ["bad Fargate pair", { cpu: 256, memory: 4096 }, "memory 4096: not valid with cpu 256 on Fargate"],
    ["stop timeout above Fargate's limit", { stopTimeoutSeconds: 180 }, "stopTimeoutSeconds 180: must be a whole number from 2 to 120 (Fargate limit)"],
    ["min above max", { scaling: { min: 4, max: 2, policies: [cpuPolicy(60)] } }, 'scaling {"min":4,"max":2}: whole numbers with 0 <= min <= max and max >= 1'],
    ["no scaling policy", { scaling: { min: 1, max: 2, policies: [] } }, "scaling.policies []: add at least one policy (autoscaling owns desiredCount)"],
    ["no subnets", { subnetIds: [] }, "subnetIds []: list the private subnets the tasks run in"],
    ["secret also plain", { environment: { JWT_KEYS: "x" }, secrets: { JWT_KEYS: "arn:s" }, secretArns: ["arn:s"] },
      'secrets ["JWT_KEYS"]: these names are also plain environment variables; keep each name in one of the two'],
    ["secrets without ARNs for the execution role", { secrets: { JWT_KEYS: "arn:s" } },
      "secretArns []: the task definition references secrets; list their ARNs so the execution role may read them"],
    ["wildcard task action", { taskPolicyStatements: [{ Sid: "Q", Effect: "Allow", Action: ["sqs:*"], Resource: ["arn:q"] }] },
      'taskPolicyStatements ["Q: sqs:*"]: wildcard actions are not allowed; list the actions'],
    ["log group outside /ecs", { logGroupName: "api-logs" }, 'logGroupName "api-logs": expected /ecs/<project>-<env>/<service> (use Naming.logGroup)'],
    ["realtime deploy bounds", { deployment: { minimumHealthyPercent: 100, maximumPercent: 100 } },
      'deployment {"minimumHealthyPercent":100,"maximumPercent":100}: minimumHealthyPercent 0 to 100, maximumPercent 100 to 200 and above the minimum'],
  ];
  for (const [title, patch, message] of cases) {
    it(`rejects: ${title}`, () =>
      assert.throws(() => validateFargateServiceArgs({ ...ok, ...patch }), { message: `FargateService chat-dev-api: invalid arguments:\n  - ${message}` }));
  }
});

describe("validateEcsClusterArgs and validateServiceImagesArgs", () => {
  const cluster: EcsClusterArgs = { clusterName: "chat-dev", region: "us-east-1", accountId: "123456789012" };
  it("accepts a valid cluster", () => assert.doesNotThrow(() => validateEcsClusterArgs(cluster)));
  it("rejects an unknown Container Insights level", () =>
    assert.throws(() => validateEcsClusterArgs({ ...cluster, containerInsights: "full" as never }),
      { message: 'EcsCluster: invalid arguments:\n  - containerInsights "full": allowed: enhanced, enabled, disabled' }));
  const images: ServiceImagesArgs = { namePrefix: "chat-dev", services: ["api", "workers"], imageUris: { api: URIS.api } };
  it("needs context and credentials only for what it builds (the tag defaults to the content hash)", () => {
    assert.doesNotThrow(() => validateServiceImagesArgs({ ...images, imageUris: { api: URIS.api, workers: URIS.workers } }));
    assert.deepEqual(servicesToBuild(images), ["workers"]);
    assert.throws(() => validateServiceImagesArgs(images), {
      message: "ServiceImages: invalid arguments:\n" +
        "  - contextDir undefined: needed to build workers (or configure image URIs for them)\n" +
        "  - registryAuth undefined: needed to build workers (or configure image URIs for them)",
    });
  });
  it("refuses to tag a release with the cache tag", () =>
    assert.throws(() => validateServiceImagesArgs({ ...images, imageUris: { api: URIS.api, workers: URIS.workers }, tag: "buildcache" }),
      { message: 'ServiceImages: invalid arguments:\n  - tag "buildcache": is the build cache tag; pick another tag' }));
  it("rejects an image URI for a service it does not hold", () =>
    assert.throws(() => validateServiceImagesArgs({ ...images, imageUris: { api: URIS.api, workers: URIS.workers, chat: "x" } }),
      { message: 'ServiceImages: invalid arguments:\n  - imageUris.chat "x": no such service; allowed: api, workers' }));
  it("expires untagged images after a day and keeps the newest N", () => {
    const rules = lifecyclePolicy(30).rules as Array<{ selection: Record<string, unknown> }>;
    assert.deepEqual(rules.map((r) => r.selection), [
      { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 },
      { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 },
    ]);
  });
  it("finds the Dockerfiles of the services it builds", () => {
    assert.deepEqual(missingDockerfiles({ namePrefix: "chat-dev", services: ["api", "realtime", "workers"], contextDir: REPO_ROOT }), []);
    assert.deepEqual(missingDockerfiles({ namePrefix: "chat-dev", services: ["api", "workers"], imageUris: { api: URIS.api }, contextDir: "/nonexistent" }),
      ["/nonexistent/apps/workers/Dockerfile"]);
  });
});

describe("scaling and IAM helpers", () => {
  it("divides the queues' visible messages by the running tasks", () => {
    const spec = backlogPolicy({ queueNames: ["q-push", "q-offline"], clusterName: "c", serviceName: "c-workers", messagesPerTask: 100 });
    const conf = targetTrackingConfiguration(spec) as any;
    const metrics = conf.customizedMetricSpecification.metrics;
    assert.deepEqual(metrics.map((m: any) => [m.id, m.returnData]), [["m1", false], ["m2", false], ["tasks", false], ["backlog", true]]);
    assert.equal(metrics[3].expression, "IF(tasks > 0, (m1 + m2) / tasks, m1 + m2)");
    assert.deepEqual(metrics[0].metricStat.metric.dimensions, [{ name: "QueueName", value: "q-push" }]);
    assert.equal(metrics[2].metricStat.metric.namespace, "ECS/ContainerInsights");
    assert.equal(conf.targetValue, 100);
    assert.throws(() => backlogPolicy({ queueNames: [], clusterName: "c", serviceName: "s", messagesPerTask: 1 }), /queueNames is empty/);
  });
  it("reports duplicate roles, non-positive targets and request tracking without a label", () => {
    assert.deepEqual(scalingPolicyProblems([cpuPolicy(60), cpuPolicy(0),
      { role: "requests", targetValue: 5, metric: { kind: "predefined", predefinedMetricType: "ALBRequestCountPerTarget" } }]).lines(), [
      'scaling.policies "cpu": this role is used twice; give each policy its own role',
      "scaling.policies[cpu].targetValue 0: must be a number above 0",
      'scaling.policies[requests].metric "ALBRequestCountPerTarget": needs resourceLabel <alb arn suffix>/<target group arn suffix>',
    ]);
  });
  it("scopes the execution role to its log group, repositories and secrets", () => {
    const st = executionRoleStatements({ logGroupArn: "arn:aws:logs:us-east-1:1:log-group:/ecs/c/api", repositoryArns: ["arn:repo"], secretArns: ["arn:s1"] });
    assert.deepEqual(st.map((s) => [s.Sid, s.Resource]), [
      ["WriteServiceLogs", ["arn:aws:logs:us-east-1:1:log-group:/ecs/c/api:log-stream:*"]],
      ["EcrLogin", ["*"]],
      ["PullServiceImage", ["arn:repo"]],
      ["ReadServiceSecrets", ["arn:s1"]],
    ]);
    assert.deepEqual(wildcardActions(st), []);
    assert.deepEqual(executionRoleStatements({ logGroupArn: "arn:lg", repositoryArns: [], secretArns: [] }).map((s) => s.Sid), ["WriteServiceLogs"]);
  });
  it("maps ECR image URIs to repository ARNs and ignores other registries", () => {
    assert.equal(ecrRepositoryArn(URIS.api), "arn:aws:ecr:us-east-1:123456789012:repository/ci-api");
    assert.equal(ecrRepositoryArn("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@sha256:abc"), "arn:aws:ecr:eu-west-1:123456789012:repository/team/app");
    assert.equal(ecrRepositoryArn(URIS.workers), undefined);
  });
  it("refuses an environment variable set by two layers", () =>
    assert.throws(() => mergeEnvironment("workers", { PORT: "3002" }, { PORT: "1" }),
      { message: "compute: workers environment PORT set by both the compute layer and the data tier; set each variable in one place" }));
});

describe("compute settings", () => {
  // The rules themselves (workers stop timeout, realtime deregistration delay, scaling targets) are tested in
  // infra/config/sizing-rules.test.ts; here what the compute layer derives from them.
  it("keeps the realtime deregistration delay short: ECS sends SIGTERM only after it, and the ALB cuts sockets when it ends", () => {
    for (const tier of TIER_NAMES) {
      const t = validateStackConfig(stackConfigWithExamples(tier), tier);
      assert.ok(t.sizing.alb.realtimeDeregistrationDelaySeconds <= 60, `${tier}: short delay`);
      // SIGTERM comes after the delay; the drain then has the whole stop timeout minus the margin
      assert.ok(realtimeShutdownGraceMs() < REALTIME_STOP_TIMEOUT_SECONDS * 1000, "the drain ends before SIGKILL");
    }
    assert.equal(realtimeShutdownGraceMs(), 105_000);
  });
});

// ---- synthesized stacks -------------------------------------------------------------------------------

const runs = new Map<string, SynthResult>();
let prebuilt: SynthResult;

beforeAll(async () => {
  for (const stack of TIER_NAMES) runs.set(stack, await synthesize(stack));
  prebuilt = await synthesize("dev", {
    configOverrides: {
      "realtime-chat:apiImage": URIS.api, "realtime-chat:realtimeImage": URIS.realtime, "realtime-chat:workersImage": URIS.workers,
      "realtime-chat:toolboxImage": URIS.toolbox,
    },
  });
});

const containerOf = (run: SynthResult, svc: string) => {
  const defs = JSON.parse(one(run, T.task, `${svc}-task`).inputs.containerDefinitions);
  assert.equal(defs.length, 1);
  return defs[0];
};
const envOf = (c: any): Record<string, string> => Object.fromEntries(c.environment.map((e: any) => [e.name, e.value]));
const policyDoc = (r: SynthResource) => JSON.parse(r.inputs.policy);

for (const stack of TIER_NAMES) {
  describe(`compute of stack ${stack}`, () => {
    const tier = TIERS[stack as TierName];
    const cfg = () => validateStackConfig(stackConfigWithExamples(stack), stack);
    const run = () => runs.get(stack)!;
    const prefix = () => `chat-${cfg().env}`;

    it("creates the cluster <project>-<env> with Container Insights and exports the names", () => {
      const cluster = one(run(), T.cluster, "ecs-cluster");
      assert.equal(cluster.inputs.name, prefix());
      assert.deepEqual(cluster.inputs.settings, [{ name: "containerInsights", value: "enhanced" }]);
      const o = run().outputs;
      assert.equal(o.ecsClusterName, prefix());
      for (const svc of SERVICES) assert.equal(o[`${svc}ServiceName`], `${prefix()}-${svc}`);
    });

    it("runs the services on Fargate in private subnets without public IPs, with circuit breaker and ECS Exec", () => {
      for (const svc of SERVICES) {
        const s = one(run(), T.service, `${svc}-service`);
        assert.equal(s.inputs.name, `${prefix()}-${svc}`);
        assert.equal(s.inputs.launchType, "FARGATE");
        assert.equal(s.inputs.networkConfiguration.assignPublicIp, false);
        assert.deepEqual(s.inputs.networkConfiguration.subnets, run().outputs.privateSubnetIds);
        assert.deepEqual(s.inputs.networkConfiguration.securityGroups, [sgId(`${svc}-sg`)]);
        assert.deepEqual(s.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
        assert.equal(s.inputs.enableExecuteCommand, true);
        assert.equal(s.inputs.desiredCount, tier.services[svc].min);
        assert.deepEqual(s.options.ignoreChanges, ["desiredCount"], "autoscaling owns desiredCount");
        for (const p of [`${svc}-execution-policy`, `${svc}-task-policy`]) {
          assert.ok(s.options.dependsOn.includes(one(run(), T.rolePolicy, p).urn), `${svc} starts tasks after ${p}`);
        }
      }
      const deploy = (svc: string) => {
        const i = one(run(), T.service, `${svc}-service`).inputs;
        return [i.deploymentMinimumHealthyPercent, i.deploymentMaximumPercent];
      };
      assert.deepEqual(deploy("realtime"), [100, 200], "realtime keeps every socket-holding task until the new ones are up");
      assert.deepEqual(deploy("api"), [100, 200]);
      assert.deepEqual(deploy("workers"), [50, 200]);
    });

    it("attaches api and realtime to their target groups after the listeners; workers to none", () => {
      const listenerUrns = byType(run(), T.listener).map((l) => l.urn);
      for (const [svc, tgOutput] of [["api", "apiTargetGroupArn"], ["realtime", "realtimeTargetGroupArn"]] as const) {
        const s = one(run(), T.service, `${svc}-service`);
        assert.deepEqual(s.inputs.loadBalancers, [{ targetGroupArn: run().outputs[tgOutput], containerName: svc, containerPort: PORTS[svc] }]);
        for (const urn of listenerUrns) assert.ok(s.options.dependsOn.includes(urn), `${svc} waits for ${urn}`);
        assert.equal(s.inputs.healthCheckGracePeriodSeconds, 60);
        assert.ok(s.inputs.alarms.alarmNames.length > 0 && s.inputs.alarms.rollback === true, `${svc} rolls back on deployment alarms`);
      }
      assert.equal(one(run(), T.service, "workers-service").inputs.loadBalancers, undefined);
    });

    it("admits only the ALB on each service port, workers nothing; egress is HTTPS plus the data tier's ports", () => {
      const albSg = run().outputs.albSecurityGroupId;
      for (const svc of SERVICES) {
        const id = sgId(`${svc}-sg`);
        assert.equal(one(run(), T.sg, `${svc}-sg`).inputs.ingress, undefined, "standalone rules only");
        const ingress = byType(run(), T.ingress).filter((r) => r.inputs.securityGroupId === id);
        const expected = svc === "workers" ? [] : [["tcp", PORTS[svc], PORTS[svc], albSg]];
        assert.deepEqual(ingress.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.referencedSecurityGroupId]), expected);
        const egress = byType(run(), T.egress).filter((r) => r.inputs.securityGroupId === id);
        assert.ok(egress.some((r) => r.inputs.fromPort === 443 && r.inputs.toPort === 443 && r.inputs.cidrIpv4 === "0.0.0.0/0"));
        for (const r of egress) {
          assert.equal(r.inputs.ipProtocol, "tcp");
          assert.equal(r.inputs.fromPort, r.inputs.toPort, `${r.name}: one port per rule`);
          if (r.inputs.cidrIpv4 !== undefined) assert.equal(r.inputs.fromPort, 443, `${r.name}: only HTTPS leaves by CIDR`);
          else assert.ok([5432, 6379].includes(r.inputs.fromPort) && r.inputs.referencedSecurityGroupId, `${r.name}: data ports to a group only`);
        }
        // descriptions in words EC2 accepts (letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*, at most 255)
        assert.equal(one(run(), T.sg, `${svc}-sg`).inputs.description,
          svc === "workers" ? "workers tasks: no inbound traffic" : `${svc} tasks: port ${PORTS[svc]} from the load balancer only`);
        assert.deepEqual(ingress.map((r) => r.inputs.description), svc === "workers" ? [] : ["Traffic and health checks from the load balancer"]);
        assert.equal(one(run(), T.egress, `${svc}-out-https`).inputs.description, "HTTPS to AWS APIs (through endpoints or NAT) and the push gateway");
        for (const r of [...ingress, ...egress]) assert.match(r.inputs.description, /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]{1,255}$/, r.name);
      }
    });

    it("sizes task definitions from the tier, read-only, health-checked on /health, logging to /ecs/<prefix>/<service>", () => {
      for (const svc of SERVICES) {
        const td = one(run(), T.task, `${svc}-task`).inputs;
        assert.equal(td.family, `${prefix()}-${svc}`);
        assert.deepEqual([td.cpu, td.memory], [String(tier.services[svc].cpu), String(tier.services[svc].memory)]);
        assert.deepEqual(td.requiresCompatibilities, ["FARGATE"]);
        assert.equal(td.networkMode, "awsvpc");
        const c = containerOf(run(), svc);
        assert.equal(c.name, svc);
        assert.deepEqual(c.portMappings, [{ containerPort: PORTS[svc], protocol: "tcp", name: svc }]);
        assert.equal(c.readonlyRootFilesystem, true);
        assert.deepEqual(c.mountPoints.map((m: any) => m.containerPath).sort(), ["/tmp", "/var/lib/amazon", "/var/log/amazon"]);
        assert.deepEqual(td.volumes.map((v: any) => v.name).sort(), ["ssm-lib", "ssm-log", "tmp"]);
        assert.equal(c.healthCheck.command[0], "CMD");
        assert.match(c.healthCheck.command.join(" "), new RegExp(`http://127\\.0\\.0\\.1:${PORTS[svc]}/health'`));
        assert.equal(c.logConfiguration.options["awslogs-group"], `/ecs/${prefix()}/${svc}`);
        assert.equal(c.linuxParameters.initProcessEnabled, true);
        const env = envOf(c);
        assert.deepEqual([env.PROJECT, env.ENV, env.SERVICE_NAME, env.PORT], ["chat", cfg().env, `${prefix()}-${svc}`, String(PORTS[svc])]);
        const grace = Number(env.SHUTDOWN_GRACE_MS);
        assert.ok(grace >= 1000 && grace < c.stopTimeout * 1000, `${svc}: the drain (${grace} ms) ends before SIGKILL (${c.stopTimeout} s)`);
        const lg = one(run(), T.logGroup, `${svc}-logs`).inputs;
        assert.equal(lg.name, `/ecs/${prefix()}/${svc}`);
        assert.equal(lg.retentionInDays, tier.observability.logRetentionDays);
        assert.match(lg.kmsKeyId, /^arn:aws:kms:/);
      }
    });

    it("keeps secrets out of plain env; gives realtime its connection cap and a drain that fits between SIGTERM and SIGKILL", () => {
      for (const svc of SERVICES) {
        const c = containerOf(run(), svc);
        for (const e of c.environment) assert.doesNotMatch(String(e.value), /^arn:aws:secretsmanager:/, `${svc} ${e.name} is a secret in plain env`);
        for (const s of c.secrets) assert.match(s.valueFrom, /^arn:aws:secretsmanager:/);
      }
      const rt = containerOf(run(), "realtime");
      const env = envOf(rt);
      assert.equal(env.MAX_CONNECTIONS_PER_TASK, String(tier.services.realtime.maxConnectionsPerTask));
      const grace = Number(env.SHUTDOWN_GRACE_MS);
      // ECS: deregistration delay first, then SIGTERM, then SIGKILL after stopTimeout; the drain runs after SIGTERM
      assert.ok(grace > 0 && grace < rt.stopTimeout * 1000, "drain ends before SIGKILL");
      assert.ok(rt.stopTimeout * 1000 - grace >= 10_000, "a margin for closing pools after the drain");
      assert.ok(tier.alb.realtimeDeregistrationDelaySeconds <= 60, "short deregistration delay: SIGTERM waits for it");
      assert.equal(env.TRUST_PROXY_HOPS, "1", "the ALB is the one proxy whose X-Forwarded-For entry is believed");
      assert.equal(envOf(containerOf(run(), "api")).TRUST_PROXY_HOPS, "1", "the api defaults to 0 hops: the stack sets the ALB's hop");
    });

    it("gives workers a stop timeout that covers a whole job", () => {
      const w = containerOf(run(), "workers");
      assert.equal(w.stopTimeout, tier.services.workers.stopTimeoutSeconds);
      assert.ok(w.stopTimeout >= tier.queues.consumerTimeoutSeconds + 5 && w.stopTimeout <= 120);
      const env = envOf(w);
      assert.ok(Number(env.SHUTDOWN_GRACE_MS) >= Number(env.JOB_TIMEOUT_MS), "the drain waits for a running job");
      assert.ok(Number(env.SHUTDOWN_GRACE_MS) < w.stopTimeout * 1000);
    });

    it("grants roles no wildcard actions; `*` resources only where AWS has no resource-level permissions", () => {
      for (const svc of SERVICES) {
        for (const r of [one(run(), T.role, `${svc}-execution-role`), one(run(), T.role, `${svc}-task-role`)]) {
          const trust = JSON.parse(r.inputs.assumeRolePolicy);
          assert.deepEqual(trust.Statement[0].Principal, { Service: "ecs-tasks.amazonaws.com" });
          assert.equal(trust.Statement[0].Condition.StringEquals["aws:SourceAccount"], "123456789012");
        }
        const exec = policyDoc(one(run(), T.rolePolicy, `${svc}-execution-policy`)).Statement;
        const task = policyDoc(one(run(), T.rolePolicy, `${svc}-task-policy`)).Statement;
        for (const st of [...exec, ...task]) {
          for (const a of st.Action) assert.ok(!a.includes("*"), `${svc} ${st.Sid}: wildcard action ${a}`);
          if (st.Resource.includes("*")) {
            assert.ok(st.Action.every((a: string) => a === "ecr:GetAuthorizationToken" || a.startsWith("ssmmessages:")), `${svc} ${st.Sid}: * resource`);
          }
        }
        assert.deepEqual(task[0], {
          Sid: "EcsExecChannel", Effect: "Allow", Resource: ["*"],
          Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
        });
        const logs = exec.find((s: any) => s.Sid === "WriteServiceLogs");
        assert.deepEqual(logs.Resource, [`arn:aws:logs:us-east-1:123456789012:log-group:/ecs/${prefix()}/${svc}:log-stream:*`]);
        const pull = exec.find((s: any) => s.Sid === "PullServiceImage");
        assert.deepEqual(pull.Resource, [`arn:aws:ecr:us-east-1:123456789012:repository/${prefix()}-${svc}`]);
        const secrets = containerOf(run(), svc).secrets.map((s: any) => s.valueFrom.replace(/:[^:]*::$/, ""));
        const readable = exec.find((s: any) => s.Sid === "ReadServiceSecrets")?.Resource ?? [];
        assert.deepEqual([...new Set(secrets)].sort(), [...readable].sort(), `${svc}: reads exactly the secrets it references`);
      }
    });

    it("scales api on CPU and requests per target, realtime on CPU and connections, workers on backlog per task", () => {
      for (const svc of SERVICES) {
        const t = one(run(), T.target, `${svc}-scaling`).inputs;
        assert.equal(t.resourceId, `service/${prefix()}/${prefix()}-${svc}`);
        assert.deepEqual([t.minCapacity, t.maxCapacity], [tier.services[svc].min, tier.services[svc].max]);
        assert.equal(t.scalableDimension, "ecs:service:DesiredCount");
      }
      const conf = (name: string) => one(run(), T.policy, name).inputs.targetTrackingScalingPolicyConfiguration;
      const policies = byType(run(), T.policy).map((p) => p.name).sort();
      assert.deepEqual(policies, ["api-scale-cpu", "api-scale-requests", "realtime-scale-connections", "realtime-scale-cpu", "workers-scale-backlog"]);
      assert.deepEqual(conf("api-scale-cpu").predefinedMetricSpecification, { predefinedMetricType: "ECSServiceAverageCPUUtilization" });
      assert.equal(conf("api-scale-cpu").targetValue, tier.services.api.cpuTarget);
      const req = conf("api-scale-requests");
      assert.equal(req.predefinedMetricSpecification.predefinedMetricType, "ALBRequestCountPerTarget");
      assert.equal(req.predefinedMetricSpecification.resourceLabel, `${run().outputs.albArnSuffix}/${run().outputs.apiTargetGroupArnSuffix}`);
      assert.equal(req.targetValue, tier.services.api.requestsPerTargetTarget);
      const conn = conf("realtime-scale-connections");
      assert.deepEqual(conn.customizedMetricSpecification, {
        namespace: prefix(), metricName: "ActiveConnections", statistic: "Average", dimensions: [{ name: "ServiceName", value: `${prefix()}-realtime` }],
      });
      assert.equal(conn.targetValue, tier.services.realtime.connectionsPerTaskTarget);
      assert.ok(conn.targetValue < tier.services.realtime.maxConnectionsPerTask);
      const backlog = conf("workers-scale-backlog").customizedMetricSpecification.metrics;
      const dims = backlog.filter((m: any) => m.metricStat).map((m: any) => [m.metricStat.metric.metricName, m.metricStat.metric.dimensions]);
      assert.deepEqual(dims, [
        ["ApproximateNumberOfMessagesVisible", [{ name: "QueueName", value: `${prefix()}-push` }]],
        ["ApproximateNumberOfMessagesVisible", [{ name: "QueueName", value: `${prefix()}-offline` }]],
        ["RunningTaskCount", [{ name: "ClusterName", value: prefix() }, { name: "ServiceName", value: `${prefix()}-workers` }]],
      ]);
      assert.equal(conf("workers-scale-backlog").targetValue, tier.services.workers.backlogPerTaskTarget);
      // the queues the metric names are the ones the data tier creates
      const queueNames = byType(run(), "aws:sqs/queue:Queue").map((q) => q.inputs.name);
      for (const q of [`${prefix()}-push`, `${prefix()}-offline`]) assert.ok(queueNames.includes(q), `queue ${q} exists`);
    });

    it("keeps images in immutable, scanned ECR repositories and builds each service's Dockerfile from the repository root", () => {
      for (const svc of SERVICES) {
        const repo = one(run(), T.repo, `images-${svc}`).inputs;
        assert.equal(repo.name, `${prefix()}-${svc}`);
        assert.equal(repo.imageTagMutability, "IMMUTABLE_WITH_EXCLUSION", "release tags are immutable");
        assert.deepEqual(repo.imageTagMutabilityExclusionFilters, [{ filter: "buildcache", filterType: "WILDCARD" }], "only the cache tag moves");
        assert.deepEqual(repo.imageScanningConfiguration, { scanOnPush: true });
        assert.deepEqual(JSON.parse(one(run(), T.lifecycle, `images-${svc}-lifecycle`).inputs.policy), lifecyclePolicy(30));
        const img = one(run(), T.image, `images-${svc}-image`).inputs;
        assert.equal(img.context.location, REPO_ROOT);
        assert.equal(img.dockerfile.location, `${REPO_ROOT}/apps/${svc}/Dockerfile`);
        assert.equal(img.push, true);
        assert.deepEqual(img.platforms, ["linux/amd64"]);
        // the registry login carries the ECR token: Pulumi keeps it secret (the harness shows the secret envelope)
        assert.equal(img.registries["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", "registry credentials are a secret");
        const [registry] = img.registries.value;
        assert.deepEqual([registry.address, registry.username], ["https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "AWS"]);
        assert.equal(img.buildOnPreview, false);
        const cacheRef = `123456789012.dkr.ecr.us-east-1.amazonaws.com/${prefix()}-${svc}:buildcache`;
        assert.deepEqual(img.cacheFrom, [{ registry: { ref: cacheRef } }]);
        assert.deepEqual(img.cacheTo, [{ registry: { ref: cacheRef, mode: "max", imageManifest: true, ociMediaTypes: true } }]);
        // tagged with the hash of what goes into the image (plans pin imageTag; a stack without it gets ctx-<hash>)
        assert.equal(img.tags[0], `123456789012.dkr.ecr.us-east-1.amazonaws.com/${prefix()}-${svc}:${serviceImageTag(REPO_ROOT, svc)}`);
        assert.match(containerOf(run(), svc).image, new RegExp(`/${prefix()}-${svc}@sha256:[0-9a-f]{64}$`), "tasks run the pushed digest");
      }
    });
  });
}

describe("compute with image URIs from CI", () => {
  it("builds nothing and runs the configured images", () => {
    assert.deepEqual(byType(prebuilt, T.image), []);
    for (const svc of SERVICES) assert.equal(containerOf(prebuilt, svc).image, URIS[svc]);
    assert.equal(containerOf(prebuilt, "toolbox").image, URIS.toolbox);
    assert.equal(byType(prebuilt, T.repo).length, 4, "repositories stay for CI to push to (three services and the toolbox)");
  });
  it("lets the execution role pull only from the configured image's ECR repository", () => {
    const pull = (svc: string) => policyDoc(one(prebuilt, T.rolePolicy, `${svc}-execution-policy`)).Statement.find((s: any) => s.Sid === "PullServiceImage");
    assert.deepEqual(pull("api").Resource, ["arn:aws:ecr:us-east-1:123456789012:repository/ci-api"]);
    assert.equal(pull("workers"), undefined, "a public image needs no ECR permission");
  });
});
