// `npm run test:mutation [--force] [module ...]`: StrykerJS, one module of scripts/mutation-modules.mjs at a time
// (all of them when none is named), incremental, CONCURRENCY test processes (mutation-modules.mjs). Runs under
// tsx (package.json) to share the test setup's redis-server chooser. Writes reports/mutation/<module>.json and
// a table of scores of every module (the latest run of each) to reports/mutation/summary.md and summary.json
// (the files of reports/ kept in git).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { CONCURRENCY, DEFAULT_CONCURRENCY, MODULES } from "./mutation-modules.mjs";

// `--force`: ignore the incremental results (Stryker reuses a static mutant's old result even when tests were
// added, so run with --force after adding tests for static survivors).
const force = process.argv.includes("--force");
const wanted = process.argv.slice(2).filter((a) => a !== "--force");
for (const w of wanted) {
  if (!MODULES[w]) {
    console.error(`unknown module "${w}": choose from ${Object.keys(MODULES).join(", ")}`);
    process.exit(2);
  }
}
const names = wanted.length ? wanted : Object.keys(MODULES);
mkdirSync("reports/mutation", { recursive: true });

// The service tests need a redis-server (test/support/global-setup.ts). Found once here (this script runs under
// tsx, so it reads the same chooser), so that a machine without one stops now with what to install, not after
// StrykerJS's dry run times out (5 minutes of silence). The StrykerJS runs inherit TEST_REDIS_BIN.
if (!process.env.TEST_REDIS_BIN && names.some((n) => MODULES[n].tests.some((t) => t.startsWith("apps/")))) {
  const { chooseRedis } = await import("./local-servers.ts");
  try {
    process.env.TEST_REDIS_BIN = (await chooseRedis("TEST_REDIS", process.env, (s) => console.error(s))).bin;
  } catch (err) {
    console.error(`mutation testing stopped before it started: ${err.message}`);
    process.exit(2);
  }
}

/** Counts by status and the score (killed + timed out over all mutants that ran or had no test). */
export function score(report) {
  const counts = {};
  const survivors = [];
  for (const [file, f] of Object.entries(report.files)) {
    for (const m of f.mutants) {
      counts[m.status] = (counts[m.status] ?? 0) + 1;
      if (m.status === "Survived" || m.status === "NoCoverage") {
        survivors.push(`${file}:${m.location.start.line} ${m.status} ${m.mutatorName}: ${original(f.source, m.location)} => ${oneLine(m.replacement ?? "")}`);
      }
    }
  }
  const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
  const undetected = (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
  const total = detected + undetected;
  return { counts, detected, total, score: total ? (100 * detected) / total : NaN, survivors };
}

/** The mutated source text (its first line when it spans several), shortened. */
function original(source, { start, end }) {
  if (typeof source !== "string") return "?";
  const line = source.split("\n")[start.line - 1] ?? "";
  return oneLine(start.line === end.line ? line.slice(start.column - 1, end.column - 1) : `${line.slice(start.column - 1)} ...`);
}
function oneLine(text) {
  const t = String(text).replace(/\s+/g, " ").trim();
  return t.length > 100 ? `${t.slice(0, 97)}...` : t;
}

// The summary keeps the modules not run this time as they were, so it always covers every module; it is
// rewritten after each module, so an interrupted run keeps what it finished.
const summaryFile = "reports/mutation/summary.json";
const summary = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, "utf8")) : {};
let failed = false;
for (const name of names) {
  const started = Date.now();
  const r = spawnSync("npx", ["stryker", "run", "stryker.config.mjs", ...(force ? ["--force"] : [])], { stdio: "inherit", env: { ...process.env, MUTATION_MODULE: name } });
  const file = `reports/mutation/${name}.json`;
  const minutes = Number(((Date.now() - started) / 60000).toFixed(1));
  const date = new Date().toISOString().slice(0, 10);
  if (r.status !== 0 || !existsSync(file)) {
    failed = true;
    summary[name] = { ...(summary[name] ?? {}), lastRun: `failed (exit ${r.status}) on ${date}` };
  } else {
    const s = score(JSON.parse(readFileSync(file, "utf8")));
    writeFileSync(`reports/mutation/${name}.survivors.txt`, s.survivors.join("\n") + "\n");
    summary[name] = {
      score: Number(s.score.toFixed(1)), detected: s.detected, total: s.total,
      survived: s.counts.Survived ?? 0, noCoverage: s.counts.NoCoverage ?? 0, timedOut: s.counts.Timeout ?? 0,
      minutes, date, concurrency: CONCURRENCY, mutate: MODULES[name].mutate, tests: MODULES[name].tests,
    };
  }
  writeSummary();
}
process.exit(failed ? 1 : 0);

function writeSummary() {
  writeFileSync(summaryFile, JSON.stringify(summary, null, 2) + "\n");
  const rows = Object.keys(MODULES).map((name) => {
    const m = summary[name];
    if (!m) return `| ${name} | not run yet | | | | | |`;
    if (m.score === undefined) return `| ${name} | ${m.lastRun} | | | | | |`;
    return `| ${name} | ${m.score}% | ${m.detected}/${m.total} | ${m.survived} survived, ${m.noCoverage} no coverage | ${m.minutes} | ${m.concurrency ?? 1} | ${m.date}${m.lastRun ? ` (${m.lastRun})` : ""} |`;
  });
  const text = [
    `# Mutation scores (\`npm run test:mutation [module...]\`, StrykerJS; test processes: the concurrency column, ${DEFAULT_CONCURRENCY} unless MUTATION_CONCURRENCY says otherwise)`,
    "",
    "| module | score | killed or timed out | undetected | minutes | concurrency | date |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
  writeFileSync("reports/mutation/summary.md", text);
  console.log("\n" + text);
}
