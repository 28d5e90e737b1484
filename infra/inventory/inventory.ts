/**
 * Resource inventories: the URN of every resource each stack registers, one per line, sorted, in
 * `infra/inventory/<stack>.urns`. A URN is what Pulumi keys state by, so a change to this list is a
 * create/delete (or a replace) on the next `pulumi up` of that stack. The test in ./inventory.test.ts fails
 * when a stack's synthesized URNs differ from its file; a refactor must leave them unchanged (or add
 * `aliases` for a rename), and a deliberate change rewrites the files with:
 *
 *   npm run inventory -- --update            # all stacks
 *   npm run inventory -- --update dev        # one stack
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, synthesize } from "../synth";

export const INVENTORY_DIR = join(REPO_ROOT, "infra", "inventory");

/** Every stack with a `Pulumi.<stack>.yaml` file. */
export function stackNames(): string[] {
  return readdirSync(REPO_ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
}

export async function urnsOf(stack: string): Promise<string[]> {
  const r = await synthesize(stack);
  return r.resources.map((x) => x.urn).sort();
}

export function inventoryFile(stack: string): string {
  return join(INVENTORY_DIR, `${stack}.urns`);
}

export function readInventory(stack: string): string[] {
  return readFileSync(inventoryFile(stack), "utf8").split("\n").filter((l) => l.length > 0);
}

async function main(argv: string[]): Promise<number> {
  const update = argv.includes("--update");
  const wanted = argv.filter((a) => !a.startsWith("--"));
  const stacks = wanted.length > 0 ? wanted : stackNames();
  let differ = 0;
  for (const stack of stacks) {
    const urns = await urnsOf(stack);
    if (update) {
      writeFileSync(inventoryFile(stack), urns.join("\n") + "\n");
      console.log(`${stack}: ${urns.length} resources written to ${inventoryFile(stack)}`);
      continue;
    }
    const before = new Set(readInventory(stack));
    const now = new Set(urns);
    const gone = [...before].filter((u) => !now.has(u));
    const added = urns.filter((u) => !before.has(u));
    if (gone.length + added.length === 0) console.log(`${stack}: ${urns.length} resources, unchanged`);
    else {
      differ++;
      console.log(`${stack}: ${added.length} added, ${gone.length} removed`);
      for (const u of added) console.log(`  + ${u}`);
      for (const u of gone) console.log(`  - ${u}`);
    }
  }
  return differ > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(2);
    },
  );
}
