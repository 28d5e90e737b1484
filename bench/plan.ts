/**
 * `npm run bench:plan [-- --runs 3]`
 *
 * How long the offline plan takes, target under 3 s for the largest stack:
 *   - cold: `node --import tsx infra/plan/cli.ts --stack <largest> --json` in a fresh process (what a
 *     reviewer or CI waits for: loading tsx, @pulumi/aws and the program, synthesis, cost, policy, JSON),
 *     median of `--runs` runs;
 *   - warm: per stack, in this process after a first run: synthesis + cost + policy + text rendering.
 * Prints a Markdown table with the machine's load average (other work on the machine slows both).
 */
import { spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DEFAULT_ASSUMPTIONS } from "../infra/plan/assumptions";
import { renderText } from "../infra/plan/render";
import { planOfStack, ROOT, stackNames, withoutStackTraces } from "../infra/plan/sources";

function parseRuns(argv: string[]): number {
  if (argv.length === 0) return 3;
  const n = Number(argv[1]);
  if (argv[0] !== "--runs" || argv.length !== 2 || !Number.isInteger(n) || n < 1 || n > 20) {
    throw new Error(`usage: npm run bench:plan [-- --runs N] (N from 1 to 20), got ${argv.join(" ")}`);
  }
  return n;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => `${Math.round(x)} ms`;

function cold(stack: string): Promise<{ wall: number; cpu: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "infra/plan/cli.ts"), "--stack", stack, "--json"], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, PLAN_REPORT_CPU: "1" },
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const cpu = Number(/plan: cpu (\d+) ms/.exec(err)?.[1]);
      if (code === 0 && cpu > 0) resolve({ wall: performance.now() - t0, cpu });
      else reject(new Error(`plan of ${stack} failed: ${err.trim()}`));
    });
  });
}

async function main(): Promise<void> {
  const runs = parseRuns(process.argv.slice(2));
  withoutStackTraces(); // as the plan command does
  const load = loadavg()[0]!.toFixed(1);
  const rows = ["| stack | resources | warm plan, wall (median) | warm plan, CPU (median) |", "|---|---:|---:|---:|"];
  let largest = { stack: "", resources: -1 };
  for (const stack of stackNames()) {
    const times: number[] = [];
    const cpu: number[] = [];
    let resources = 0;
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const doc = await planOfStack(stack, DEFAULT_ASSUMPTIONS);
      renderText(doc);
      const c = process.cpuUsage(c0);
      if (i > 0) {
        // the first run loads and warms up
        times.push(performance.now() - t0);
        cpu.push((c.user + c.system) / 1000);
      }
      resources = doc.resources.filter((r) => r.custom).length;
    }
    if (resources > largest.resources) largest = { stack, resources };
    rows.push(`| ${stack} | ${resources} | ${ms(median(times))} | ${ms(median(cpu))} |`);
  }
  const colds: Array<{ wall: number; cpu: number }> = [];
  for (let i = 0; i < runs; i++) colds.push(await cold(largest.stack));
  const out = [
    `Command: npm run bench:plan${runs !== 3 ? ` -- --runs ${runs}` : ""} (${cpus().length} cores, load average ${load} at start)`,
    "",
    ...rows,
    "",
    `Cold plan of the largest stack (${largest.stack}, ${largest.resources} resources), fresh process, \`plan --stack ${largest.stack} --json\`: ` +
      `wall median ${ms(median(colds.map((c) => c.wall)))}, CPU median ${ms(median(colds.map((c) => c.cpu)))} over ${runs} run(s) ` +
      `(wall ${colds.map((c) => ms(c.wall)).join(", ")}); target under 3000 ms. Wall time includes waiting for the CPU on a loaded machine.`,
  ];
  process.stdout.write(out.join("\n") + "\n");
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:plan: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
