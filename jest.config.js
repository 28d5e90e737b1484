// Jest configuration: two projects with the setup each kind of test needs.
//   infra     Pulumi programs under the SDK's mock runtime; no servers. Each test file gets its own module
//             registry, so one file's mocks (pulumi.runtime.setMocks) never reach another file.
//   services  apps/ and test/: real PostgreSQL, Redis and an SQS-compatible server. The shared PostgreSQL
//             cluster is started once by globalSetup (test/support/global-setup.ts); Redis and SQS servers
//             are started per test file by the helpers in test/support/. globalTeardown drops the run's
//             databases.
// TypeScript is compiled by @swc/jest (no type-check here: `npm run typecheck` does that once for the tree).
// Path filters work as usual: `npm test -- infra`, `npm test -- apps/api`, `npx jest --watch`.
const { readdirSync, readFileSync } = require("node:fs");
const { join } = require("node:path");

/**
 * Dependencies published as ES modules only ("type": "module"), such as content-disposition and cookie on the
 * api's import path, or quick-lru that mercurius loads with import(). Jest's CommonJS runtime cannot load them
 * as they are (Node 20.19 can, with require(esm)); they are compiled to CommonJS like our own code.
 */
function esmOnlyPackages(dir = join(__dirname, "node_modules")) {
  const names = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(".")) continue;
    if (entry.startsWith("@")) {
      for (const sub of readdirSync(join(dir, entry))) names.push(`${entry}/${sub}`);
    } else names.push(entry);
  }
  return names.filter((name) => {
    try {
      return JSON.parse(readFileSync(join(dir, name, "package.json"), "utf8")).type === "module";
    } catch {
      return false;
    }
  });
}
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** @type {import('jest').Config['transform']} */
const transform = {
  // .mjs: scripts/build-service.mjs; .js: the ES-module-only dependencies below, and mercurius, whose
  // `import("quick-lru")` becomes a require that jest serves without --experimental-vm-modules.
  "^.+\\.(ts|mjs|js)$": [
    "@swc/jest",
    {
      jsc: { parser: { syntax: "typescript" }, target: "es2022", keepClassNames: true },
      module: { type: "commonjs" },
      sourceMaps: "inline",
    },
  ],
};

const common = {
  testEnvironment: "node",
  // Pulumi and the AWS SDK keep module-level globals; jest 30 would otherwise warn about each of them.
  testEnvironmentOptions: { globalsCleanup: "off" },
  transform,
  transformIgnorePatterns: [`/node_modules/(?!(${["mercurius", ...esmOnlyPackages()].map(escape).join("|")})/)`],
  moduleFileExtensions: ["ts", "js", "mjs", "cjs", "json"],
  setupFilesAfterEnv: ["<rootDir>/test/support/jest-setup.ts"],
  modulePathIgnorePatterns: ["<rootDir>/.stryker-tmp/", "<rootDir>/dist/"],
};

/** @type {import('jest').Config} */
module.exports = {
  // Two cores here and in CI; jest's default (cores - 1) would run one file at a time.
  maxWorkers: Number(process.env.TEST_CONCURRENCY ?? 2),
  collectCoverageFrom: ["infra/**/*.ts", "apps/*/src/**/*.ts", "!**/*.test.ts", "!**/node_modules/**"],
  coverageReporters: ["text-summary", "lcov"],
  projects: [
    {
      ...common,
      displayName: "infra",
      testMatch: ["<rootDir>/infra/**/*.test.ts"],
    },
    {
      ...common,
      displayName: "services",
      testMatch: ["<rootDir>/apps/**/*.test.ts", "<rootDir>/test/**/*.test.ts"],
      globalSetup: "<rootDir>/test/support/global-setup.ts",
      globalTeardown: "<rootDir>/test/support/global-teardown.ts",
    },
  ],
};
