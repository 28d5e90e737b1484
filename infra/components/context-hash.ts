/**
 * Image tags from the content of what goes into an image, nothing else: the files a Dockerfile copies from the
 * build context (minus what `.dockerignore` excludes) and the Dockerfile itself. The same sources give the
 * same tag on any machine and in any checkout state; a changed stack file, an edited doc or a file the image
 * never sees leaves the tag alone, and a change the image does see gives a new tag (ECR tags are immutable,
 * so a new image must never reuse an old tag).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

/** One `.dockerignore` line: a path pattern, and whether it re-includes (`!pattern`). */
interface IgnoreRule {
  regex: RegExp;
  include: boolean;
}

/** Glob -> regex with Docker's rules: `**` any number of folders, `*` and `?` within one path segment. */
function globToRegex(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      // `**/` matches zero or more folders
      if (glob[i + 2] === "/") {
        out += "(?:.*/)?";
        i += 2;
      } else {
        out += ".*";
        i += 1;
      }
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  // a pattern naming a folder excludes everything below it
  return new RegExp(`^${out}(?:/.*)?$`);
}

/** Parses `.dockerignore` text (comments, blank lines, `!` exceptions; leading `/` and `./` dropped). */
export function parseDockerignore(text: string): IgnoreRule[] {
  return text.split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const include = l.startsWith("!");
      const pattern = (include ? l.slice(1) : l).trim().replace(/^\.?\/+/, "").replace(/\/+$/, "");
      return { regex: globToRegex(pattern), include };
    });
}

/** True when `path` (relative to the context, `/`-separated) is excluded; the last matching rule wins. */
export function isIgnored(path: string, rules: IgnoreRule[]): boolean {
  let ignored = false;
  for (const r of rules) if (r.regex.test(path)) ignored = !r.include;
  return ignored;
}

/**
 * Context paths a Dockerfile copies: the sources of every `COPY`/`ADD` that reads the build context (not
 * `--from=` another stage), without the destination. Flags (`--chown=...`) are skipped.
 */
export function copySources(dockerfile: string): string[] {
  const lines = dockerfile.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  const sources: string[] = [];
  for (const line of lines) {
    const m = /^\s*(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m) continue;
    const words = m[2]!.trim().split(/\s+/);
    if (words.some((w) => w.startsWith("--from="))) continue;
    const args = words.filter((w) => !w.startsWith("--"));
    sources.push(...args.slice(0, -1).map((a) => a.replace(/^\.?\/+/, "").replace(/\/+$/, "")));
  }
  return [...new Set(sources)];
}

function walk(dir: string, root: string, rules: IgnoreRule[], out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    const rel = relative(root, full).split(sep).join("/");
    if (isIgnored(rel, rules)) continue;
    if (entry.isDirectory()) walk(full, root, rules, out);
    else if (entry.isFile()) out.push(rel);
  }
}

/** The context files an image build reads: what the Dockerfile copies, minus `.dockerignore`, sorted. */
export function imageInputFiles(contextDir: string, dockerfilePath: string): string[] {
  const ignoreFile = join(contextDir, ".dockerignore");
  const rules = existsSync(ignoreFile) ? parseDockerignore(readFileSync(ignoreFile, "utf8")) : [];
  const files: string[] = [];
  for (const source of copySources(readFileSync(dockerfilePath, "utf8"))) {
    const full = join(contextDir, source);
    if (!existsSync(full) || isIgnored(source, rules)) continue;
    if (statSync(full).isDirectory()) walk(full, contextDir, rules, files);
    else files.push(source);
  }
  return [...new Set(files)].sort();
}

/**
 * `ctx-<20 hex digits>`: SHA-256 over the Dockerfile and, per input file, its context path and content. A
 * valid Docker tag (letters, digits, '-'; 24 characters).
 */
export function contextImageTag(contextDir: string, dockerfilePath: string): string {
  const hash = createHash("sha256");
  hash.update("dockerfile\0").update(readFileSync(dockerfilePath)).update("\0");
  for (const file of imageInputFiles(contextDir, dockerfilePath)) {
    hash.update(`${file}\0`).update(readFileSync(join(contextDir, file))).update("\0");
  }
  return `ctx-${hash.digest("hex").slice(0, 20)}`;
}
