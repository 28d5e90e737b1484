// Jest configuration for mutation runs (stryker.config.mjs): ONE project of jest.config.js (infra or
// services), restricted to the test files named in MUTATION_TESTS (comma-separated paths from the repository
// root). A single flat project, not `projects`, so that StrykerJS can put its test environment around the
// project's and learn which test reaches which mutant (then each mutant runs only those tests).
const base = require("./jest.config.js");

const files = (process.env.MUTATION_TESTS ?? "").split(",").filter(Boolean);
if (files.length === 0) throw new Error("MUTATION_TESTS is empty: run mutation testing through `npm run test:mutation`");

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const projectOf = (f) => (f.startsWith("infra/") ? "infra" : "services");
const names = [...new Set(files.map(projectOf))];
if (names.length !== 1) throw new Error(`MUTATION_TESTS mixes infra and service tests (${files.join(", ")}): one module, one jest project`);
const { testMatch: _all, displayName: _name, ...project } = base.projects.find((p) => p.displayName === names[0]);

module.exports = {
  ...project,
  rootDir: __dirname,
  maxWorkers: 1,
  testRegex: files.map((f) => `/${escape(f)}$`),
};
