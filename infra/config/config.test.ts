import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { subnetCidr, subnetLayout } from "../components/cidr";
import { CAPACITY, estimateTraffic, realtimeConnectionsPerTask, taskCounts } from "./capacity";
import { StackConfigError, validateStackConfig, zoneIdPrefix, zoneIdProblems } from "./load";
import { CONFIG_KEYS } from "./schema";
import { CONFIG_DOC_PATH, parseInterfaces, renderConfigDoc, sizingDoc } from "./docs";
import { fitName, Naming, physicalName } from "./naming";
import { instanceSizeRank, TIER_ORDER, TIERS } from "./tiers";

const base = {
  "aws:region": "us-east-1",
  "realtime-chat:tier": "10k-dau",
  // production tiers require TLS and an alarm subscription
  "realtime-chat:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001",
  "realtime-chat:alarmEmail": "oncall@example.com",
  "realtime-chat:availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"],
};

function problems(raw: Record<string, unknown>, stack = "test"): string[] {
  try {
    validateStackConfig(raw, stack);
  } catch (err) {
    assert.ok(err instanceof StackConfigError, `expected StackConfigError, got ${err}`);
    return err.problems;
  }
  return [];
}

describe("deploy readiness: TLS and an alarm subscription outside dev, checked before any resource", () => {
  const bare = { "aws:region": "us-east-1", "realtime-chat:availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"] };
  const tls = (tier: string) =>
    `realtime-chat:certificateArn is missing: tier ${tier} refuses to serve plain HTTP (passwords, tokens and messages would cross the internet unencrypted). ` +
    "Either set realtime-chat:domainName and realtime-chat:hostedZoneId (the stack issues an ACM certificate with DNS validation and creates the alias record), " +
    "or set realtime-chat:certificateArn to an ACM certificate in aws:region; e.g. `pulumi config set realtime-chat:domainName chat.example.com` and " +
    "`pulumi config set realtime-chat:hostedZoneId <zone id from `aws route53 list-hosted-zones-by-name`>`";
  const alarm = (tier: string) =>
    `realtime-chat:alarmEmail is missing: tier ${tier} needs at least one subscription to its critical alarm topic, or pages reach nobody. ` +
    "Set realtime-chat:alarmEmail (e.g. oncall@example.com; confirm the subscription e-mail) or realtime-chat:alarmHttpsEndpoint (a pager's https integration URL) in Pulumi.test.yaml";

  for (const tier of ["1k-dau", "10k-dau", "100k-dau"]) {
    it(`${tier} without certificate, domain or alarm subscription is refused with both fixes named`, () => {
      assert.deepEqual(problems({ ...bare, "realtime-chat:tier": tier }), [tls(tier), alarm(tier)]);
    });
  }
  it("dev may run without them (plain HTTP with a warning, no subscription)", () => {
    assert.deepEqual(problems({ ...bare, "realtime-chat:tier": "dev" }), []);
  });
  it("either TLS source and either subscription satisfies a production tier", () => {
    const t = { ...bare, "realtime-chat:tier": "10k-dau" };
    const cert = { "realtime-chat:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc" };
    const dns = { "realtime-chat:domainName": "chat.example.com", "realtime-chat:hostedZoneId": "Z0123456789ABCDEFGHIJ" };
    for (const tlsKeys of [cert, dns]) {
      for (const sub of [{ "realtime-chat:alarmEmail": "oncall@example.com" }, { "realtime-chat:alarmHttpsEndpoint": "https://events.pager.example.com/x" }]) {
        assert.deepEqual(problems({ ...t, ...tlsKeys, ...sub }), []);
      }
    }
  });
  it("a domain without its hosted zone is not TLS; a zone without a domain is refused", () => {
    const t = { ...bare, "realtime-chat:tier": "10k-dau", "realtime-chat:alarmEmail": "oncall@example.com" };
    assert.match(problems({ ...t, "realtime-chat:domainName": "chat.example.com" })[0]!, /^realtime-chat:hostedZoneId is missing: tier 10k-dau refuses to serve plain HTTP/);
    assert.deepEqual(problems({ ...bare, "realtime-chat:tier": "dev", "realtime-chat:hostedZoneId": "Z0123" }), [
      'realtime-chat:hostedZoneId = "Z0123": needs realtime-chat:domainName (the name to certify and point at the load balancer); add it to Pulumi.test.yaml']);
    assert.deepEqual(problems({ ...bare, "realtime-chat:tier": "dev", "realtime-chat:hostedZoneId": "/hostedzone/Z0123", "realtime-chat:domainName": "a.example.com" }), [
      'realtime-chat:hostedZoneId = "/hostedzone/Z0123": expected a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ (without the /hostedzone/ prefix)']);
  });
  it("drGeneration: a whole number on DR stacks only", () => {
    const dev = { ...bare, "realtime-chat:tier": "dev" };
    assert.deepEqual(problems({ ...dev, "realtime-chat:drGeneration": 2 }), [
      "realtime-chat:drGeneration = 2: only DR stacks (with realtime-chat:primaryEnv) carry a generation in their names; remove it from Pulumi.test.yaml"]);
    assert.deepEqual(problems({ ...dev, "realtime-chat:primaryEnv": "dev-primary", "realtime-chat:drGeneration": "0" }), [
      'realtime-chat:drGeneration = "0": expected a whole number from 1 to 999']);
    assert.equal(validateStackConfig({ ...dev, "realtime-chat:primaryEnv": "p", "realtime-chat:drGeneration": "3" }, "t").drGeneration, 3);
  });
});

describe("validateStackConfig", () => {
  it("accepts a valid config and fills defaults", () => {
    const cfg = validateStackConfig(base, "10k-dau");
    assert.equal(cfg.tier, "10k-dau");
    assert.equal(cfg.project, "chat");
    assert.equal(cfg.env, "10k-dau");
    assert.equal(cfg.vpcCidr, "10.0.0.0/16");
    assert.equal(cfg.drRegion, "us-west-2");
    assert.equal(cfg.region, "us-east-1");
    expect(cfg.sizing).toStrictEqual(TIERS["10k-dau"]);
    assert.notEqual(cfg.sizing, TIERS["10k-dau"], "sizing must be a copy");
  });

  it("parses values given as Pulumi config strings (JSON for structured values)", () => {
    const cfg = validateStackConfig(
      { ...base, "realtime-chat:availabilityZones": '["us-east-1a","us-east-1b","us-east-1c"]',
        "realtime-chat:sizing": '{"services":{"api":{"min":4,"max":10}}}' }, "s");
    assert.deepEqual(cfg.availabilityZones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
    assert.equal(cfg.sizing.services.api.min, 4);
    assert.equal(cfg.sizing.services.api.max, 10);
    assert.equal(cfg.sizing.services.realtime.min, TIERS["10k-dau"].services.realtime.min);
  });

  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ["unknown tier", { ...base, "realtime-chat:tier": "2k-dau" },
      ['realtime-chat:tier = "2k-dau": not a tier; allowed: dev, 1k-dau, 10k-dau, 100k-dau']],
    ["missing tier", { "aws:region": "us-east-1", "realtime-chat:availabilityZones": ["us-east-1a", "us-east-1b"] },
      ["realtime-chat:tier is missing; add it to Pulumi.test.yaml (dev | 1k-dau | 10k-dau | 100k-dau)"]],
    ["unknown key", { ...base, "realtime-chat:tierr": "dev" },
      [`realtime-chat:tierr = "dev": unknown key; known keys: ${Object.keys(CONFIG_KEYS).join(", ")}`]],
    ["bad CIDR prefix", { ...base, "realtime-chat:vpcCidr": "10.0.0.0/8" },
      ['realtime-chat:vpcCidr = "10.0.0.0/8": prefix /8 not allowed; expected an IPv4 network like 10.0.0.0/16 with a prefix from /16 to /20 and no host bits set']],
    ["CIDR with host bits", { ...base, "realtime-chat:vpcCidr": "10.0.1.0/16" },
      ['realtime-chat:vpcCidr = "10.0.1.0/16": host bits set; expected an IPv4 network like 10.0.0.0/16 with a prefix from /16 to /20 and no host bits set']],
    ["CIDR garbage", { ...base, "realtime-chat:vpcCidr": "10.0.0/16" },
      ['realtime-chat:vpcCidr = "10.0.0/16": expected an IPv4 network like 10.0.0.0/16 with a prefix from /16 to /20 and no host bits set']],
    ["invalid Fargate pair", { ...base, "realtime-chat:sizing": { services: { api: { cpu: 256, memory: 4096 } } } },
      ["realtime-chat:sizing.services.api.memory = 4096: must be one of 512, 1024, 2048 (Fargate accepts only these memory sizes (MiB) with cpu 256)"]],
    ["invalid Fargate cpu", { ...base, "realtime-chat:sizing": { services: { workers: { cpu: 300 } } } },
      ["realtime-chat:sizing.services.workers.cpu = 300: must be one of 256, 512, 1024, 2048, 4096, 8192, 16384 (the cpu units a Fargate task can have; 256 = 0.25 vCPU)"]],
    ["min > max", { ...base, "realtime-chat:sizing": { services: { realtime: { min: 9, max: 4 } } } },
      ["realtime-chat:sizing.services.realtime.min = 9: must be a whole number from 0 to 4 (the autoscaling floor, also the first desired count, cannot exceed the ceiling services.realtime.max (4))"]],
    ["zone list too short", { ...base, "realtime-chat:availabilityZones": ["us-east-1a", "us-east-1b"] },
      ['realtime-chat:availabilityZones = ["us-east-1a","us-east-1b"]: tier 10k-dau needs at least 3 zones; list 3 or more']],
    ["zone in another region", { ...base, "realtime-chat:availabilityZones": ["us-east-1a", "us-east-1b", "us-west-2c"] },
      ['realtime-chat:availabilityZones = ["us-east-1a","us-east-1b","us-west-2c"]: zones us-west-2c are not in aws:region us-east-1']],
    ["repeated zone", { ...base, "realtime-chat:availabilityZones": ["us-east-1a", "us-east-1a", "us-east-1b"] },
      ['realtime-chat:availabilityZones = ["us-east-1a","us-east-1a","us-east-1b"]: zones must not repeat']],
    ["unknown sizing path", { ...base, "realtime-chat:sizing": { services: { web: { min: 1 } } } },
      ['realtime-chat:sizing.services.web = {"min":1}: no such sizing setting; allowed here: api, realtime, workers']],
    ["wrong sizing type", { ...base, "realtime-chat:sizing": { database: { multiAz: "yes" } } },
      ['realtime-chat:sizing.database.multiAz = "yes": expected a boolean (tier value true)']],
    ["idle timeout below Socket.IO silence", { ...base, "realtime-chat:sizing": { alb: { idleTimeoutSeconds: 30 } } },
      ["realtime-chat:sizing.alb.idleTimeoutSeconds = 30: must be a whole number from 46 to 4000 (a quiet socket sees up to the Socket.IO ping interval + timeout (45 s) without traffic and must not be cut; the load balancer allows at most 4000)"]],
    ["DR region equals region", { ...base, "realtime-chat:drRegion": "us-east-1" },
      ['realtime-chat:drRegion = "us-east-1": must differ from aws:region (us-east-1); pick another region such as us-west-2']],
    ["certificate in another region", { ...base, "realtime-chat:certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc" },
      ['realtime-chat:certificateArn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc": the certificate must be in aws:region us-east-1 (an ALB cannot use one from another region)']],
    ["missing region", { "realtime-chat:tier": "dev", "realtime-chat:availabilityZones": ["us-east-1a", "us-east-1b"] },
      ['aws:region is missing; add e.g. "aws:region: us-east-1" to Pulumi.test.yaml']],
    ["bad log retention", { ...base, "realtime-chat:sizing": { observability: { logRetentionDays: 10 } } },
      ["realtime-chat:sizing.observability.logRetentionDays = 10: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (CloudWatch Logs keeps the services' log groups only for these numbers of days)"]],
  ];
  for (const [title, raw, expected] of cases) {
    it(`rejects: ${title}`, () => assert.deepEqual(problems(raw), expected));
  }

  it("names the stack file, key, bad value and fix for each check the program must make before any resource", () => {
    const listed: Array<[Record<string, unknown>, string]> = [
      [{ "realtime-chat:tier": "mega" }, 'realtime-chat:tier = "mega": not a tier; allowed: dev, 1k-dau, 10k-dau, 100k-dau'],
      [{ "realtime-chat:colour": "blue" }, `realtime-chat:colour = "blue": unknown key; known keys: ${Object.keys(CONFIG_KEYS).join(", ")}`],
      [{ "realtime-chat:vpcCidr": "10.0.0.0/33" }, 'realtime-chat:vpcCidr = "10.0.0.0/33": prefix /33 not allowed; expected an IPv4 network like 10.0.0.0/16 with a prefix from /16 to /20 and no host bits set'],
      [{ "realtime-chat:sizing": { services: { realtime: { cpu: 512, memory: 512 } } } },
        "realtime-chat:sizing.services.realtime.memory = 512: must be one of 1024, 2048, 3072, 4096 (Fargate accepts only these memory sizes (MiB) with cpu 512)"],
      [{ "realtime-chat:sizing": { services: { workers: { min: 3, max: 2 } } } }, "realtime-chat:sizing.services.workers.min = 3: must be a whole number from 0 to 2 (the autoscaling floor, also the first desired count, cannot exceed the ceiling services.workers.max (2))"],
      [{ "realtime-chat:availabilityZones": ["us-east-1a"] }, 'realtime-chat:availabilityZones = ["us-east-1a"]: tier 10k-dau needs at least 3 zones; list 3 or more'],
    ];
    for (const [patch, line] of listed) {
      assert.throws(() => validateStackConfig({ ...base, ...patch }, "prod"), {
        name: "StackConfigError",
        message: `Invalid configuration in Pulumi.prod.yaml (1 problem):\n  - ${line}`,
      });
    }
  });

  it("reports every problem at once, naming the stack file", () => {
    const raw = { ...base, "realtime-chat:tier": "huge", "realtime-chat:vpcCidr": "300.0.0.0/16", "realtime-chat:bogus": 1 };
    assert.throws(() => validateStackConfig(raw, "prod"), (err: Error) => {
      assert.ok(err instanceof StackConfigError);
      assert.equal(err.problems.length, 3);
      assert.match(err.message, /^Invalid configuration in Pulumi\.prod\.yaml \(3 problems\):\n  - /);
      return true;
    });
  });
});

describe("availabilityZoneIds (names map to different zone IDs per account)", () => {
  const ids = (list: string[]) => ({ ...base, "realtime-chat:availabilityZoneIds": list });
  it("accepts the IDs of the listed zones", () => {
    expect(problems(ids(["use1-az1", "use1-az2", "use1-az4"]))).toEqual([]);
    expect(validateStackConfig(ids(["use1-az1", "use1-az2", "use1-az4"]), "t").availabilityZoneIds).toEqual(["use1-az1", "use1-az2", "use1-az4"]);
  });
  it.each([
    [["use1-az1", "use1-az3", "use1-az4"],
      'realtime-chat:availabilityZoneIds = ["use1-az1","use1-az3","use1-az4"]: RDS Proxy is not supported in use1-az3 (availabilityZones us-east-1b in this account): every tier runs the database behind RDS Proxy, so list another zone of the region in availabilityZones and its ID here'],
    [["use1-az1", "use1-az2"], 'realtime-chat:availabilityZoneIds = ["use1-az1","use1-az2"]: lists 2 zone ID(s) for 3 zone name(s) in availabilityZones; give the ID of each name, in the same order'],
    [["use1-az1", "use1-az2", "usw2-az1"], 'realtime-chat:availabilityZoneIds = ["use1-az1","use1-az2","usw2-az1"]: zone IDs usw2-az1 are not in aws:region us-east-1 (its IDs start with use1-)'],
    [["us-east-1a", "use1-az2", "use1-az4"], 'realtime-chat:availabilityZoneIds = ["us-east-1a","use1-az2","use1-az4"]: expected a list of zone IDs like [use1-az1, use1-az2, use1-az4]'],
  ])("%j is refused before anything is created", (list, message) => {
    expect(problems(ids(list))).toEqual([message]);
  });
  it("use1-az3 is refused on every tier (all of them run behind RDS Proxy)", () => {
    expect(zoneIdProblems("us-east-1", ["us-east-1a", "us-east-1b"], ["use1-az1", "use1-az3"])).toHaveLength(1);
    expect(zoneIdProblems("us-east-1", ["us-east-1a", "us-east-1b"], ["use1-az1", "use1-az2"])).toEqual([]);
  });
  it.each([["us-east-1", "use1"], ["us-west-2", "usw2"], ["ap-northeast-1", "apne1"], ["eu-central-1", "euc1"], ["us-gov-west-1", "usgw1"]])("%s zone IDs start with %s", (region, prefix) => {
    expect(zoneIdPrefix(region)).toBe(prefix);
  });
});

describe("tiers", () => {
  function compare(path: string, small: unknown, big: unknown, out: string[]): void {
    if (typeof small === "number") {
      if ((big as number) < small) out.push(`${path}: ${big} < ${small}`);
    } else if (typeof small === "boolean") {
      if (small && !big) out.push(`${path}: true -> false`);
    } else if (Array.isArray(small)) {
      const missing = small.filter((x) => !(big as unknown[]).includes(x));
      if (missing.length) out.push(`${path}: drops ${missing.join(", ")}`);
    } else if (typeof small === "string") {
      if (path.endsWith("natGateways")) {
        const order = ["single", "perZone"];
        if (order.indexOf(big as string) < order.indexOf(small)) out.push(`${path}: ${big} < ${small}`);
      } else if (/instanceClass|nodeType/.test(path)) {
        if (instanceSizeRank(big as string) < instanceSizeRank(small)) out.push(`${path}: ${big} < ${small}`);
      } else if (small !== big) out.push(`${path}: ${small} -> ${big} (strings must match or be ranked)`);
    } else if (small && typeof small === "object") {
      for (const k of Object.keys(small)) compare(`${path}.${k}`, (small as any)[k], (big as any)[k], out);
    }
  }

  it("a bigger tier never gets less of anything", () => {
    const out: string[] = [];
    for (let i = 1; i < TIER_ORDER.length; i++) {
      compare(`${TIER_ORDER[i - 1]}->${TIER_ORDER[i]}`, TIERS[TIER_ORDER[i - 1]!], TIERS[TIER_ORDER[i]!], out);
    }
    assert.deepEqual(out, []);
  });

  it("the monotonicity check can fail", () => {
    const out: string[] = [];
    compare("x", { a: 2, b: true, c: ["s"], d: "db.r6g.xlarge" }, { a: 1, b: false, c: [], d: "db.r6g.large" }, out);
    assert.equal(out.length, 4);
  });

  it("every tier passes validation with the stack's own zones", () => {
    for (const tier of TIER_ORDER) {
      const zones = ["us-east-1a", "us-east-1b", "us-east-1c"].slice(0, TIERS[tier].network.minZones);
      const production = tier === "dev" ? {} : { "realtime-chat:domainName": "chat.example.com", "realtime-chat:hostedZoneId": "Z0EXAMPLE", "realtime-chat:alarmEmail": "oncall@example.com" };
      assert.doesNotThrow(() => validateStackConfig({ "aws:region": "us-east-1", "realtime-chat:tier": tier, "realtime-chat:availabilityZones": zones, ...production }, tier));
    }
  });

  it("task counts follow the capacity model", () => {
    const t = estimateTraffic(100_000);
    assert.equal(t.peakConnections, 100_000 * CAPACITY.peakConcurrencyShare);
    const rt = TIERS["100k-dau"].services.realtime;
    assert.equal(rt.maxConnectionsPerTask, Math.min((CAPACITY.realtimeConnectionsPerVcpu * rt.cpu) / 1024, CAPACITY.maxMeasuredConnectionsPerTask));
    // No tier puts more connections on one task than a benchmark has measured on one process.
    for (const tier of TIER_ORDER) {
      assert.ok(TIERS[tier].services.realtime.maxConnectionsPerTask <= CAPACITY.maxMeasuredConnectionsPerTask, tier);
    }
    assert.equal(realtimeConnectionsPerTask(2048), CAPACITY.maxMeasuredConnectionsPerTask, "a 2-vCPU task is capped at the measured figure");
    assert.equal(realtimeConnectionsPerTask(256), (CAPACITY.realtimeConnectionsPerVcpu * 256) / 1024, "below the cap the CPU model decides");
    assert.equal(rt.min, Math.ceil((t.peakConnections * CAPACITY.headroom) / rt.maxConnectionsPerTask));
    assert.deepEqual(taskCounts(10, 100, 2), { min: 2, max: 6 });
    assert.deepEqual(taskCounts(1000, 100, 1), { min: 15, max: 45 });
    assert.ok(rt.connectionsPerTaskTarget < rt.maxConnectionsPerTask * 0.8, "scaling must act before the 80% alarm");
    assert.equal(TIERS.dev.network.natGateways, "single");
    for (const tier of TIER_ORDER.slice(1)) assert.equal(TIERS[tier].network.natGateways, "perZone");
  });

  it("ranks instance sizes", () => {
    assert.ok(instanceSizeRank("db.r6g.2xlarge") > instanceSizeRank("db.r6g.xlarge"));
    assert.ok(instanceSizeRank("db.r6g.xlarge") > instanceSizeRank("db.r6g.large"));
    assert.ok(instanceSizeRank("cache.t4g.small") > instanceSizeRank("cache.t4g.micro"));
  });
});

describe("naming", () => {
  it("builds operator-facing names", () => {
    const n = new Naming("chat", "10k-dau");
    assert.equal(n.prefix, "chat-10k-dau");
    assert.equal(n.name("realtime"), "chat-10k-dau-realtime");
    assert.equal(n.logGroup("api"), "/ecs/chat-10k-dau/api");
    assert.equal(n.wafLogGroup, "aws-waf-logs-chat-10k-dau");
    assert.equal(physicalName("chat", "dev", "push-dlq"), "chat-dev-push-dlq");
  });

  it("fits long names into 32 characters deterministically and uniquely", () => {
    const n = new Naming("chatplatform", "100k-dau-blue");
    const a = n.targetGroup("realtime-canary");
    const b = n.targetGroup("realtime-primary");
    assert.equal(a.length, 32);
    assert.equal(b.length, 32);
    assert.notEqual(a, b);
    assert.equal(a, n.targetGroup("realtime-canary"));
    assert.match(a, /^chatplatform-100k-dau-blu-[0-9a-f]{6}$/);
    assert.equal(n.loadBalancer("alb"), "chatplatform-100k-dau-blue-alb");
    assert.equal(fitName("short", 32), "short");
    assert.throws(() => fitName("a-very-long-name", 5), /too small/);
  });
});

describe("subnet layout", () => {
  it("splits the VPC range without overlap", () => {
    assert.deepEqual(subnetLayout("10.0.0.0/16", 3), {
      private: ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"],
      public: ["10.0.240.0/24", "10.0.241.0/24", "10.0.242.0/24"],
    });
    assert.equal(subnetCidr("10.1.0.0/20", 24, -1), "10.1.15.0/24");
    assert.throws(() => subnetCidr("10.0.0.0/16", 17, 2), /outside/);
  });
});

describe("docs/CONFIG.md", () => {
  it("is generated from the current key and tier tables (run `npm run docs:config` after changing them)", () => {
    const expected = renderConfigDoc();
    assert.equal(readFileSync(CONFIG_DOC_PATH, "utf8"), expected, "docs/CONFIG.md is out of date: run `npm run docs:config`");
    for (const name of Object.keys(CONFIG_KEYS)) assert.ok(expected.includes(`| \`realtime-chat:${name}\` |`), name);
    assert.match(expected, /\| `alb\.idleTimeoutSeconds` \| 120 \| 120 \| 120 \| 120 \| Idle timeout; must exceed/);
  });

  it("takes each setting's meaning from the deepest TSDoc comment on its path", () => {
    const ifaces = parseInterfaces([
      "export interface TierSizing {\n  /** Section. */\n  web: WebSizing;\n}",
      "export interface BaseSizing {\n  /** Inherited. */\n  min: number;\n}",
      "export interface WebSizing extends BaseSizing {\n  /** Own field. */\n  port: number;\n  plain: number;\n  limits: {\n    /** Inline. */\n    rps: Threshold;\n  };\n}",
    ].join("\n"));
    assert.equal(sizingDoc(ifaces, ["web", "port"]), "Own field.");
    assert.equal(sizingDoc(ifaces, ["web", "min"]), "Inherited.");
    assert.equal(sizingDoc(ifaces, ["web", "plain"]), "Section.");
    assert.equal(sizingDoc(ifaces, ["web", "limits", "rps", "warning"]), "Inline.");
  });
});

describe("safeguard overrides", () => {
  const dev = { "aws:region": "us-east-1", "realtime-chat:tier": "dev", "realtime-chat:availabilityZones": ["us-east-1a", "us-east-1b"] };
  const sizing = (o: Record<string, unknown>) => ({ "realtime-chat:sizing": o });
  const keep = (tier: string) => `tier ${tier} keeps its data safeguards; remove the override from Pulumi.prod.yaml (only dev may be disposable)`;
  const noProxy = (file: string) => "realtime-chat:sizing.database.proxyEnabled = false: RDS Proxy is required on every tier, dev included: " +
    "without it the services would connect straight to the instance with TLS verification, and the service images carry no RDS CA bundle " +
    `(DB_CA_FILE), so every connection would fail; remove the override from ${file}`;

  it("refuses the proxy off on dev too, naming the key, the file and why", () => {
    assert.deepEqual(problems({ ...dev, ...sizing({ database: { proxyEnabled: false } }) }, "dev"), [noProxy("Pulumi.dev.yaml")]);
    assert.deepEqual(problems({ ...base, ...sizing({ database: { proxyEnabled: false } }) }, "prod"), [noProxy("Pulumi.prod.yaml")]);
  });

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["database deletion protection", { database: { deletionProtection: false } },
      "realtime-chat:sizing.database.deletionProtection = false: must stay true: deletion protection, the final snapshot and protect/retainOnDelete on the database guard against losing it"],
    ["database Multi-AZ", { database: { multiAz: false } },
      "realtime-chat:sizing.database.multiAz = false: must stay true: the standby in a second zone keeps the database up through a zone or host failure"],
    ["redis Multi-AZ", { redis: { multiAz: false } },
      "realtime-chat:sizing.redis.multiAz = false: must stay true: a replica in another zone with automatic failover keeps Socket.IO and presence up"],
    ["ALB deletion protection", { alb: { deletionProtection: false } },
      "realtime-chat:sizing.alb.deletionProtection = false: must stay true: deletion protection keeps the load balancer (and its DNS name) from an accidental delete"],
    ["short backup retention", { database: { backupRetentionDays: 3 } },
      "realtime-chat:sizing.database.backupRetentionDays = 3: must be at least 7 (days of point-in-time recovery)"],
    ["no redis replica", { redis: { replicas: 0, multiAz: true } },
      "realtime-chat:sizing.redis.replicas = 0: must be at least 1 (failover target)"],
    ["no redis snapshots", { redis: { snapshotRetentionDays: 0 } },
      "realtime-chat:sizing.redis.snapshotRetentionDays = 0: must be at least 1 (daily snapshots)"],
  ];
  for (const tier of ["1k-dau", "10k-dau", "100k-dau"]) {
    const raw = { ...base, "realtime-chat:tier": tier };
    for (const [title, override, message] of cases) {
      it(`${tier}: refuses an override weakening ${title}`, () => {
        const got = problems({ ...raw, ...sizing(override) }, "prod");
        assert.ok(got.includes(`${message}; ${keep(tier)}`), got.join("\n"));
      });
    }
  }

  it("dev may turn the same safeguards off (and has them off by default)", () => {
    const all = { database: { deletionProtection: false, multiAz: false, backupRetentionDays: 1 }, redis: { multiAz: false, replicas: 0, snapshotRetentionDays: 0 }, alb: { deletionProtection: false } };
    assert.deepEqual(problems({ ...dev, ...sizing(all) }, "dev"), []);
  });

  it("a production tier may raise them", () => {
    assert.deepEqual(problems({ ...base, ...sizing({ database: { backupRetentionDays: 35 }, redis: { replicas: 2 } }) }, "prod"), []);
  });

  it("Multi-AZ database and Redis failover on the 10k and 100k tiers", () => {
    for (const tier of ["10k-dau", "100k-dau"] as const) {
      assert.equal(TIERS[tier].database.multiAz, true, `${tier} database Multi-AZ`);
      assert.equal(TIERS[tier].redis.multiAz, true, `${tier} redis Multi-AZ`);
      assert.ok(TIERS[tier].redis.replicas >= 1, `${tier} redis has a failover replica`);
    }
  });
});
