/**
 * Shortening physical names to an AWS length limit (`./aws-limits.ts` AWS_NAME_LIMITS): cut, then a 6-character
 * hash of the full name, so two long names never collide and a name never changes between runs.
 */
import { createHash } from "node:crypto";

/** Shortens `name` to `max` characters: `<prefix>-<hash6>`, keeping it unique and stable. */
export function fitName(name: string, max: number): string {
  if (name.length <= max) return name;
  if (max < 8) throw new Error(`fitName: limit ${max} is too small to keep a name unique (need at least 8)`);
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 6);
  const prefix = name.slice(0, max - 7).replace(/-+$/, "");
  return `${prefix}-${hash}`;
}
