#!/usr/bin/env node
// Runs every *.test.ts file under infra/, apps/, policy/ and test/ with Node's test runner (TypeScript via tsx).
// Usage: npm test [-- <path-fragment> ...]   e.g. `npm test -- infra` or `npm test -- apps/api`
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const roots = ["infra", "apps", "policy", "test"];
const skipDirs = new Set(["node_modules", "dist", ".tmp"]);

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (skipDirs.has(name)) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) collect(full, out);
    else if (name.endsWith(".test.ts")) out.push(relative(root, full));
  }
}

const files = [];
for (const r of roots) collect(join(root, r), files);
files.sort();
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (selected.length === 0) {
  console.error(`no test files match ${filters.join(" ") || "(all)"}`);
  process.exit(1);
}

const needsServices = selected.some((f) => f.startsWith("apps/") || f.startsWith("test/"));
if (needsServices) {
  const started = spawnSync(process.execPath, ["--import", "tsx", "test/support/start-services.ts"], {
    cwd: root,
    stdio: "inherit",
  });
  if (started.status !== 0) process.exit(started.status ?? 1);
}

const concurrency = process.env.TEST_CONCURRENCY ?? "2";
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...selected],
  { cwd: root, stdio: "inherit", env: { ...process.env, NODE_ENV: "test" } },
);
process.exit(result.status ?? 1);
