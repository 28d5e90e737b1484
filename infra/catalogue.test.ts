/**
 * The service catalogue: the only list of services in infra/ (a scan of every infra file), its entries
 * consistent with each other and with the sizing, and the one merge of a service's links refusing a variable
 * set twice.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { SERVICE_CATALOGUE, SERVICE_NAMES, routedServices } from "./catalogue";
import { TIER_NAMES, TIERS } from "./config/tiers";
import { SERVICE_ENV_ALLOWED } from "./config/service-env";
import { mergeLinks } from "./components/link";
import { REPO_ROOT } from "./synth";

const INFRA = join(REPO_ROOT, "infra");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/**
 * Lines that spell out the whole service list: every catalogue name as consecutive quoted list items
 * (`["api", "realtime", "workers"]`, in any order), or, outside tests, every name as an object key on one
 * line (`{ api: ..., realtime: ..., workers: ... }`). Prose in strings with spaces is not code and is skipped.
 */
export function serviceListLines(text: string, names: readonly string[], isTest: boolean): number[] {
  const alt = names.map((n) => n.replace(/[^\w-]/g, "")).join("|");
  const item = `(["'])(?:${alt})\\1`;
  const list = new RegExp(`${item}(?:\\s*,\\s*${item}){${names.length - 1}}`, "g");
  const hits: number[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/"[^"\n]*[A-Za-z][^"\n]* [^"\n]*[A-Za-z][^"\n]*"/g, '""');
    const listed = [...line.matchAll(list)].some((m) => names.every((n) => new RegExp(`["']${n}["']`).test(m[0])));
    const keyed = !isTest && names.every((n) => new RegExp(`(^|[{,]\\s*)${n}\\s*:`).test(line));
    if (listed || keyed) hits.push(i + 1);
  });
  return hits;
}

describe("the service list lives in infra/catalogue.ts only", () => {
  it("no other file in infra/ lists every service", () => {
    const found = tsFiles(INFRA)
      // the catalogue, and this file's own examples of what the scan must find
      .filter((f) => !["catalogue.ts", "catalogue.test.ts"].includes(relative(INFRA, f)))
      .flatMap((f) => serviceListLines(readFileSync(f, "utf8"), SERVICE_NAMES, f.endsWith(".test.ts")).map((l) => `${relative(REPO_ROOT, f)}:${l}`));
    expect(found).toStrictEqual([]);
  });

  it("the scan finds a list in any order, quotes or `as const`, and keyed objects in code only", () => {
    const names = ["api", "realtime", "workers"];
    expect(serviceListLines('for (const s of ["api", "realtime", "workers"]) {}', names, true)).toStrictEqual([1]);
    expect(serviceListLines("x\nconst L = ['workers','api', 'realtime'] as const;", names, true)).toStrictEqual([2]);
    expect(serviceListLines('const p = { api: 1, realtime: 2, workers: 3 };', names, false)).toStrictEqual([1]);
    expect(serviceListLines('const p = { api: 1, realtime: 2, workers: 3 };', names, true)).toStrictEqual([]);
    // a subset is not the list
    expect(serviceListLines('for (const s of ["api", "realtime"]) {}', names, false)).toStrictEqual([]);
    expect(serviceListLines('doc: "per service: {api: {A: 1}, realtime: {B: 2}, workers: {C: 3}}",', names, false)).toStrictEqual([]);
  });
});

describe("catalogue entries", () => {
  it("has one sizing entry per service in every tier, and serviceEnv keys for each", () => {
    for (const tier of TIER_NAMES) expect(Object.keys(TIERS[tier].services).sort()).toStrictEqual([...SERVICE_NAMES].sort());
    expect(Object.keys(SERVICE_ENV_ALLOWED).sort()).toStrictEqual([...SERVICE_NAMES].sort());
  });

  it("gives each service its own port and each route its own priority; deployment alarms only on routed services", () => {
    const ports = SERVICE_NAMES.map((n) => SERVICE_CATALOGUE[n].port);
    expect(new Set(ports).size).toBe(ports.length);
    const priorities = routedServices().map((n) => SERVICE_CATALOGUE[n].route!.priority);
    expect(new Set(priorities).size).toBe(priorities.length);
    for (const n of SERVICE_NAMES) {
      if (SERVICE_CATALOGUE[n].deploymentAlarms.length > 0) expect([n, SERVICE_CATALOGUE[n].route]).toEqual([n, expect.anything()]);
    }
  });

  it("holds plain data and functions of the sizing only (another renderer can read it)", () => {
    const json = JSON.stringify(SERVICE_CATALOGUE);
    expect(json).not.toMatch(/urn:pulumi|aws:|ecs:/);
    for (const n of SERVICE_NAMES) {
      const e = SERVICE_CATALOGUE[n];
      const rules = (e.scaling as (s: unknown) => unknown[])(TIERS["10k-dau"].services[n]);
      expect(rules.length).toBeGreaterThan(0);
      expect(Object.values(e.environment(TIERS["10k-dau"])).every((v) => typeof v === "string")).toBe(true);
    }
  });
});

describe("mergeLinks", () => {
  const proxy = { environment: { DB_HOST: "proxy" }, statements: [{ Sid: "C", Effect: "Allow" as const, Action: ["rds-db:connect"], Resource: ["arn:db"] }],
    ingress: [{ role: "db-proxy", what: "db proxy", securityGroupId: "sg-p", port: 5432 }] };
  const redis = { environment: { REDIS_HOST: "r" }, secrets: { REDIS_AUTH_TOKEN: "arn:s" }, secretArns: ["arn:s"],
    ingress: [{ role: "redis", what: "redis", securityGroupId: "sg-r", port: 6379 }] };

  it("merges the service's own variables and its links in order", () => {
    expect(mergeLinks("api", { PORT: "3000" }, [proxy, redis])).toStrictEqual({
      environment: { PORT: "3000", DB_HOST: "proxy", REDIS_HOST: "r" },
      secrets: { REDIS_AUTH_TOKEN: "arn:s" },
      secretArns: ["arn:s"],
      statements: proxy.statements,
      ingress: [...proxy.ingress, ...redis.ingress],
      dependsOn: [],
    });
  });

  it("refuses a variable set by two links, by a link and the service, or as env and secret", () => {
    const msg = (names: string) => `api: environment ${names} set twice (by the service itself or by two of its links); set each variable in one place`;
    expect(() => mergeLinks("api", {}, [proxy, { environment: { DB_HOST: "other" } }])).toThrow(msg("DB_HOST"));
    expect(() => mergeLinks("api", { REDIS_HOST: "mine" }, [redis])).toThrow(msg("REDIS_HOST"));
    expect(() => mergeLinks("api", {}, [redis, { environment: { REDIS_AUTH_TOKEN: "plain" } }])).toThrow(msg("REDIS_AUTH_TOKEN"));
  });

  it("refuses a component linked twice and wildcard actions", () => {
    expect(() => mergeLinks("api", {}, [redis, { ingress: redis.ingress }])).toThrow("api: linked to redis twice; link each component once");
    expect(() => mergeLinks("api", {}, [{ statements: [{ Sid: "W", Effect: "Allow", Action: ["sqs:*"], Resource: ["arn:q"] }] }]))
      .toThrow("api task role: statement W grants wildcard actions sqs:*; list the actions instead");
  });
});
