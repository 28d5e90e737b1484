/**
 * Components are the library; `infra/config` is the stack configuration that uses it. Config may import
 * components (AWS limits, types), never the reverse: a component that reached into the config would tie the
 * library to one stack layout and let a fact be written twice.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const DIR = __dirname;

/** `from "<spec>"` and `import("<spec>")` / `require("<spec>")` specifiers of a source text. */
export function importSpecifiers(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/\bfrom\s+["']([^"']+)["']|\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm)) {
    out.push((m[1] ?? m[2] ?? m[3])!);
  }
  return out;
}

/** Specifiers that leave infra/components for infra/config. */
export function configImports(source: string): string[] {
  return importSpecifiers(source).filter((s) => /^(\.\.\/)+config(\/|$)/.test(s) || /(^|\/)infra\/config(\/|$)/.test(s));
}

describe("infra/components never imports infra/config", () => {
  it("finds such an import when there is one", () => {
    expect(configImports('import type { TierName } from "../config/tiers";\nimport { x } from "./aws-limits";')).toEqual(["../config/tiers"]);
    expect(configImports('const t = require("../config/load");')).toEqual(["../config/load"]);
    expect(configImports('export { fitName } from "../config/naming";')).toEqual(["../config/naming"]);
    expect(configImports('import { a } from "./config-like";')).toEqual([]);
  });

  it("no component source file imports from ../config", () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.flatMap((f) => configImports(readFileSync(join(DIR, f), "utf8")).map((s) => `${f}: ${s}`));
    expect(offenders).toEqual([]);
  });
});
