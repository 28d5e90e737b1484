// StrykerJS for one module of scripts/mutation-modules.mjs, chosen by MUTATION_MODULE. Run it through
// `npm run test:mutation` (scripts/mutation.mjs), which sets the variables and runs the modules in turn.
import { CONCURRENCY, MODULES } from "./scripts/mutation-modules.mjs";

const name = process.env.MUTATION_MODULE;
const mod = MODULES[name];
if (!mod) throw new Error(`MUTATION_MODULE=${name} is not a module of scripts/mutation-modules.mjs (${Object.keys(MODULES).join(", ")})`);
process.env.MUTATION_TESTS = mod.tests.join(",");

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "jest",
  jest: { projectType: "custom", configFile: "jest.mutation.config.js", enableFindRelatedTests: false },
  // Per-test coverage: each mutant runs only the tests that reach it.
  coverageAnalysis: "perTest",
  mutate: mod.mutate,
  // Test processes: scripts/mutation-modules.mjs (MUTATION_CONCURRENCY, 2 by default).
  concurrency: CONCURRENCY,
  // A mutant that hangs a test is "timed out" (counted as detected) after its normal time x2 + timeoutMS
  // (10 s, or the module's own: a module whose tests run on fake clocks needs less).
  timeoutMS: mod.timeoutMS ?? 10_000,
  timeoutFactor: 2,
  // Incremental: a module whose source and tests did not change reuses the previous results.
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ["clear-text", "json", "progress-append-only"],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  // docs/PLAN.md stays: rules-exact.test.ts checks the policy pack's rules against its table.
  ignorePatterns: ["bench", "docs/*", "!docs/PLAN.md", "reports", "coverage", "dist", ".tmp"],
  thresholds: { high: 90, low: 80, break: null },
};
