/**
 * Synthesizes one stack and prints the JSON result after a marker line (used by `synthesizeInChild`).
 * Usage: node --import tsx infra/synth/cli.ts <stack> [--preview] [--config '<json>'] [--root <dir>] [--no-examples]
 */
import { CHILD_MARKER, synthesize } from "./index";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const stack = args[0];
  if (!stack || stack.startsWith("--")) throw new Error("usage: cli.ts <stack> [--preview] [--config '<json>'] [--root <dir>]");
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const config = flag("--config");
  const result = await synthesize(stack, {
    preview: args.includes("--preview"),
    configOverrides: config ? JSON.parse(config) : undefined,
    rootDir: flag("--root"),
    examples: !args.includes("--no-examples"),
  });
  // wait for the write to drain: output to a pipe is asynchronous, and exiting early truncates it (at 64-80 KB)
  await new Promise<void>((done) => process.stdout.write(CHILD_MARKER + JSON.stringify(result), () => done()));
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
