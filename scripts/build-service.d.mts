/** Types of scripts/build-service.mjs (the script runs under plain Node, without a TypeScript step). */
export interface LockEntry {
  version?: string;
  [key: string]: unknown;
}
export interface Lockfile {
  packages?: Record<string, LockEntry>;
  [key: string]: unknown;
}
export function buildService(
  service: string,
  opts?: { root?: string },
): Promise<{ out: string; entries: string[]; dependencies: Record<string, string> }>;
export function pruneLockfile(
  lock: Lockfile,
  names: string[],
  workspaceDirs: string[],
): { dependencies: Record<string, string>; packages: Record<string, LockEntry> };
