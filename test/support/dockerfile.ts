/**
 * Replays a Dockerfile without a Docker engine: parses its stages and performs their COPY and RUN lines in a
 * temporary folder per stage (container path `/x` of stage `s` becomes `<tmp>/<s>/x`). The image's steps are
 * read from the file, never restated here, so a change to the Dockerfile changes what the replay does.
 *
 * One substitution, named in the result: the build stage's full workspace install (`npm ci` without
 * `--omit=dev`) is replaced by links to this checkout's node_modules, which were installed from the same
 * lockfile (re-downloading the whole toolchain would take minutes). Workspace packages (`@chat/*`) are linked
 * to the copies inside the replay folder, so the bundle is built from the copied sources. The runtime stage's
 * production install runs for real in its clean folder.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";

export interface Instruction {
  op: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

/** Splits a Dockerfile into stages of instructions (continuations joined, comments and parser directives dropped). */
export function parseDockerfile(text: string): ParsedDockerfile {
  const logical: Instruction[] = [];
  let buf = "";
  let start = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!buf && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
    if (!buf) start = i + 1;
    if (line.endsWith("\\")) {
      buf += line.slice(0, -1) + " ";
      return;
    }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buf);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot parse "${buf}"`);
    logical.push({ op: m[1].toUpperCase(), args: m[2].trim(), line: start });
    buf = "";
  });
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of logical) {
    if (ins.op === "ARG" && stages.length === 0) {
      const [k, v = ""] = ins.args.split("=");
      args[k.trim()] = v.trim();
      continue;
    }
    if (ins.op === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile line ${ins.line}: cannot parse FROM ${ins.args}`);
      const image = m[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => args[a ?? b] ?? "");
      stages.push({ name: m[2] ?? String(stages.length), image, instructions: [] });
      continue;
    }
    if (stages.length === 0) throw new Error(`Dockerfile line ${ins.line}: ${ins.op} before FROM`);
    stages[stages.length - 1].instructions.push(ins);
  }
  return { args, stages };
}

/** Parses an exec-form (`["a","b"]`) argument list; shell form becomes `sh -c`. */
export function execForm(args: string): string[] {
  const t = args.trim();
  if (t.startsWith("[")) return JSON.parse(t) as string[];
  return ["sh", "-c", t];
}

/** The HEALTHCHECK command (without its options). */
export function healthcheckCommand(args: string): string[] {
  const m = /\bCMD\s+([\s\S]*)$/.exec(args);
  if (!m) throw new Error(`HEALTHCHECK without CMD: ${args}`);
  return execForm(m[1]);
}

function ignoreMatcher(contextDir: string): (rel: string) => boolean {
  const file = join(contextDir, ".dockerignore");
  const patterns = existsSync(file)
    ? readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
    : [];
  const regexes = patterns.map(
    (p) =>
      new RegExp(
        "^" +
          p
            .replace(/^\//, "")
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*\*\//g, "\u0000")
            .replace(/\*/g, "[^/]*")
            .replace(/\?/g, "[^/]")
            .replace(/\u0000/g, "(?:.*/)?") +
          "$",
      ),
  );
  return (rel) => {
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      if (regexes.some((r) => r.test(prefix))) return true;
    }
    return false;
  };
}

export interface ReplayResult {
  dir: string;
  stages: Stage[];
  /** Folder that plays the final stage's filesystem root. */
  runtimeRoot: string;
  /** The final stage's WORKDIR, mapped into the replay folder. */
  runtimeWorkdir: string;
  runtimeEnv: Record<string, string>;
  user?: string;
  exposed: number[];
  healthcheck?: string[];
  cmd?: string[];
  /** What the replay did differently from a Docker build (see the module comment). */
  substitutions: string[];
  /** Commands run, per stage, with their duration. */
  log: { stage: string; command: string; ms: number }[];
  cleanup(): void;
}

export interface ReplayOptions {
  /** The build context (repository root). */
  contextDir: string;
  /** Extra environment for RUN commands (e.g. npm cache settings). */
  runEnv?: Record<string, string>;
}

/** Runs one RUN command; resolves with its output, rejects with the output when it fails. */
function run(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}:\n${out}`))));
  });
}

/** Performs the Dockerfile's COPY and RUN steps, stage by stage, in a new temporary folder. */
export async function replayDockerfile(dockerfile: string, opts: ReplayOptions): Promise<ReplayResult> {
  const parsed = parseDockerfile(readFileSync(dockerfile, "utf8"));
  const dir = mkdtempSync(join(tmpdir(), `replay-${basename(join(dockerfile, ".."))}-`));
  const ignored = ignoreMatcher(opts.contextDir);
  const substitutions: string[] = [];
  const log: ReplayResult["log"] = [];
  const rootOf = (stage: string) => join(dir, "stages", stage);
  const result: ReplayResult = {
    dir,
    stages: parsed.stages,
    runtimeRoot: "",
    runtimeWorkdir: "",
    runtimeEnv: {},
    exposed: [],
    substitutions,
    log,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };

  for (const stage of parsed.stages) {
    const root = rootOf(stage.name);
    mkdirSync(root, { recursive: true });
    let workdir = "/";
    const env: Record<string, string> = {};
    const map = (p: string) => join(root, p.startsWith("/") ? p : join(workdir, p));
    for (const ins of stage.instructions) {
      switch (ins.op) {
        case "WORKDIR":
          workdir = ins.args.startsWith("/") ? ins.args : join(workdir, ins.args);
          mkdirSync(map(workdir), { recursive: true });
          break;
        case "ENV": {
          const m = /^(\w+)[= ](.*)$/.exec(ins.args);
          if (!m) throw new Error(`line ${ins.line}: unsupported ENV form "${ins.args}"`);
          env[m[1]] = m[2].replace(/^"|"$/g, "");
          break;
        }
        case "COPY": {
          const words = ins.args.split(/\s+/);
          const flags = words.filter((w) => w.startsWith("--"));
          const paths = words.filter((w) => !w.startsWith("--"));
          const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
          const dest = paths.pop()!;
          const destIsDir = dest.endsWith("/") || dest === "." || paths.length > 1;
          for (const src of paths) {
            const source = from ? join(rootOf(from), src) : join(opts.contextDir, src);
            if (!existsSync(source)) throw new Error(`line ${ins.line}: COPY source ${src} does not exist (${source})`);
            const target = destIsDir ? join(map(dest), basename(src)) : map(dest);
            mkdirSync(join(target, ".."), { recursive: true });
            cpSync(source, target, {
              recursive: true,
              dereference: false,
              filter: (p) => from !== undefined || !ignored(relative(opts.contextDir, p)),
            });
          }
          break;
        }
        case "RUN": {
          const command = ins.args.replace(/^(--\S+\s+)+/, "");
          const cwd = map(workdir);
          const started = Date.now();
          if (/^npm ci\b/.test(command) && !/--omit=dev/.test(command)) {
            linkWorkspaceModules(opts.contextDir, cwd);
            substitutions.push(`${stage.name}: "${command}" -> linked node_modules of the checkout (same lockfile)`);
          } else {
            try {
              await run(command, cwd, { ...process.env, ...opts.runEnv, ...env });
            } catch (err) {
              throw new Error(`line ${ins.line}: RUN ${command} failed: ${(err as Error).message}`);
            }
          }
          log.push({ stage: stage.name, command, ms: Date.now() - started });
          break;
        }
        case "USER":
          result.user = ins.args;
          break;
        case "EXPOSE":
          result.exposed = ins.args.split(/\s+/).map((p) => Number(p.split("/")[0]));
          break;
        case "HEALTHCHECK":
          result.healthcheck = healthcheckCommand(ins.args);
          break;
        case "CMD":
          result.cmd = execForm(ins.args);
          break;
        case "VOLUME":
          // no file operation: the path becomes a volume when the container runs (ECS copies its content)
          break;
        case "ARG":
        case "LABEL":
        case "ENTRYPOINT":
        case "STOPSIGNAL":
          if (ins.op === "ENTRYPOINT") throw new Error(`line ${ins.line}: ENTRYPOINT is not replayed; use CMD`);
          break;
        default:
          throw new Error(`line ${ins.line}: the replay does not support ${ins.op}`);
      }
    }
    result.runtimeRoot = root;
    result.runtimeWorkdir = map(workdir);
    result.runtimeEnv = env;
  }
  return result;
}

/** node_modules for the build stage: links to the checkout's packages, workspace packages to the copies. */
function linkWorkspaceModules(contextDir: string, cwd: string): void {
  const src = join(contextDir, "node_modules");
  const dest = join(cwd, "node_modules");
  mkdirSync(dest, { recursive: true });
  for (const name of readdirSync(src)) {
    if (name === "@chat") {
      mkdirSync(join(dest, name), { recursive: true });
      for (const ws of readdirSync(join(src, name))) {
        const copy = join(cwd, "apps", ws);
        if (existsSync(copy)) symlinkSync(copy, join(dest, name, ws));
      }
      continue;
    }
    const full = join(src, name);
    if (name.startsWith("@") && lstatSync(full).isDirectory() && !lstatSync(full).isSymbolicLink()) {
      mkdirSync(join(dest, name), { recursive: true });
      for (const pkg of readdirSync(full)) symlinkSync(join(full, pkg), join(dest, name, pkg));
    } else if (statSync(full, { throwIfNoEntry: false })) {
      symlinkSync(full, join(dest, name));
    }
  }
}
