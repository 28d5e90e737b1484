/**
 * A PATH with some programs hidden: each PATH folder that holds one of them is replaced by a folder of links
 * to everything else in it. Lets a test run a process as it would run on a machine without, say, redis-server.
 */
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export function pathWithout(hidden: string[], pathVar = process.env.PATH ?? ""): { path: string; cleanup(): void } {
  const made: string[] = [];
  const dirs = pathVar.split(delimiter).filter(Boolean).map((dir) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return dir;
    }
    if (!entries.some((e) => hidden.includes(e))) return dir;
    const copy = mkdtempSync(join(tmpdir(), "chat-path-"));
    made.push(copy);
    for (const e of entries) if (!hidden.includes(e)) symlinkSync(join(dir, e), join(copy, e));
    return copy;
  });
  return { path: dirs.join(delimiter), cleanup: () => made.forEach((d) => rmSync(d, { recursive: true, force: true })) };
}
