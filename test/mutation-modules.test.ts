import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

// The mutation modules name source ranges by line; a range that drifts mutates the wrong code (or none)
// without any error. Each range must exist and start and end where the code it is meant for does.
const ROOT = join(__dirname, "..");

describe("mutation modules (scripts/mutation-modules.mjs)", () => {
  let MODULES: Record<string, { mutate: string[]; tests: string[] }>;
  beforeAll(async () => {
    MODULES = (await import(join(ROOT, "scripts", "mutation-modules.mjs"))).MODULES;
  });

  it("names files that exist, for sources and tests", () => {
    for (const [name, m] of Object.entries(MODULES)) {
      for (const f of [...m.mutate.map((x) => x.split(":")[0]!), ...m.tests]) expect([name, existsSync(join(ROOT, f))]).toEqual([name, true]);
    }
  });

  it("realtime-limits-membership's ranges cover admit() and the typing/read membership checks exactly", () => {
    const ranges = MODULES["realtime-limits-membership"]!.mutate.filter((x) => x.includes(":"));
    const lines = readFileSync(join(ROOT, "apps/realtime/src/server.ts"), "utf8").split("\n");
    const at = (r: string) => {
      const [, a, b] = /:(\d+)-(\d+)$/.exec(r)!;
      return { first: lines[Number(a) - 1]!, last: lines[Number(b) - 1]!, body: lines.slice(Number(a) - 1, Number(b)).join("\n") };
    };
    const admit = at(ranges[0]!);
    expect(admit.first).toMatch(/private async admit\(/);
    expect(admit.last).toMatch(/^ {2}\}$/);
    const events = at(ranges[1]!);
    expect(events.first).toMatch(/private onTyping\(/);
    expect(events.body).toMatch(/private async onRead\(/);
    expect(events.last).toMatch(/^ {2}\}$/);
  });
});
