/**
 * `npm run bench:synth [-- --runs 5 --no-suite --out bench/results/synth.md]`
 *
 * How long the stack program takes to synthesize under the mock runtime, per stack file:
 *   - cold: a fresh Node process (`synthesizeInChild`): loading tsx, @pulumi/aws and the program, then one run.
 *     This is what each infra test file pays once.
 *   - warm: in this process after a first run, median of `--runs` runs (normal and preview).
 * Then the wall time of the infra test suite (`jest --selectProjects infra`, all infra test files) with its
 * pass/fail counts. Prints a Markdown table; `--out <file>` also writes it with the command and the machine.
 */
import { spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { REPO_ROOT, synthesize, synthesizeInChild } from "../infra/synth";

interface Args {
  runs: number;
  suite: boolean;
  out: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 5, suite: true, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`--runs: expected a whole number from 1 to 100, got ${argv[i]}`);
      args.runs = n;
    } else if (a === "--no-suite") args.suite = false;
    else if (a === "--out") {
      args.out = argv[++i];
      if (!args.out) throw new Error("--out: expected a file path, e.g. --out bench/results/synth.md");
    } else throw new Error(`unknown argument ${a}; usage: bench:synth [-- --runs N] [--no-suite] [--out FILE]`);
  }
  return args;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => `${Math.round(x)} ms`;

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await f();
  return [performance.now() - t0, v];
}

function runSuite(): Promise<{ wallMs: number; tests: string; pass: string; fail: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["node_modules/jest/bin/jest.js", "--selectProjects", "infra"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      // jest's summary line: "Tests:       2 failed, 445 passed, 447 total"
      const summary = /^Tests:\s+(.*)$/m.exec(out)?.[1] ?? "";
      const count = (label: string) => new RegExp(`(\\d+) ${label}`).exec(summary)?.[1] ?? (label === "failed" ? "0" : "?");
      resolve({ wallMs: performance.now() - t0, tests: count("total"), pass: count("passed"), fail: count("failed"), code });
    });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const loadAtStart = loadavg()[0]!.toFixed(1);
  const stacks = readdirSync(REPO_ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();

  const rows: string[] = ["| stack | resources | cold (fresh process) | warm normal (median) | warm preview (median) |", "|---|---|---|---|---|"];
  const [firstMs] = await timed(() => synthesize(stacks[0]!));
  for (const stack of stacks) {
    const [coldMs, child] = await timed(() => synthesizeInChild(stack));
    const normal: number[] = [];
    const preview: number[] = [];
    for (let i = 0; i < args.runs; i++) {
      normal.push((await timed(() => synthesize(stack)))[0]);
      preview.push((await timed(() => synthesize(stack, { preview: true })))[0]);
    }
    rows.push(`| ${stack} | ${child.resources.length} | ${ms(coldMs)} | ${ms(median(normal))} | ${ms(median(preview))} |`);
    process.stderr.write(`${stack}: done\n`);
  }

  const lines = [
    `Synthesis under the mock runtime (${args.runs} warm runs per mode; first in-process run, module loading included: ${ms(firstMs)}).`,
    "",
    ...rows,
  ];
  if (args.suite) {
    const s = await runSuite();
    lines.push("", `Infra test suite (\`jest --selectProjects infra\`): ${ms(s.wallMs)} wall, ${s.tests} tests, ${s.pass} pass, ${s.fail} fail (exit ${s.code}).`);
  }
  const text = lines.join("\n");
  process.stdout.write(`${text}\n`);
  if (args.out) {
    const cmd = `npm run bench:synth -- ${process.argv.slice(2).join(" ")}`.trim();
    const header = [
      "# bench:synth results",
      "",
      `Command: \`${cmd}\``,
      `Date: ${new Date().toISOString()}`,
      `Machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}; 1-minute load average ${loadAtStart} at the start, ${loadavg()[0]!.toFixed(1)} at the end (other work on the machine inflates every figure)`,
      "",
    ];
    writeFileSync(join(REPO_ROOT, args.out), `${header.join("\n")}${text}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:synth: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
