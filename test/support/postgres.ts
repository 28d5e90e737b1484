/**
 * A real PostgreSQL server for tests, on loopback.
 *
 * One cluster is shared by every test process (started once by jest's globalSetup, `test/support/global-setup.ts`, or lazily by the first
 * test that needs it); each test file gets a database of its own from `createTestDatabase`, so files never
 * see each other's rows. Set TEST_PG_URL to use a server you already run instead.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, chownSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { Client } from "pg";

export const TEST_PG_PORT = Number(process.env.TEST_PG_PORT ?? 55432);
const DATA_DIR = process.env.TEST_PG_DATA ?? `/tmp/realtime-chat-pg-${TEST_PG_PORT}`;
const ADMIN_URL = process.env.TEST_PG_URL ?? `postgres://postgres@127.0.0.1:${TEST_PG_PORT}/postgres`;

function pgBin(name: string): string {
  const onPath = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  if (onPath) return onPath;
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const candidate = `${root}/${v}/bin/${name}`;
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error(`PostgreSQL binary "${name}" not found: install it with "apt-get install -y postgresql" (or set TEST_PG_URL)`);
}

/** Runs a PostgreSQL tool as the "postgres" OS user when we are root (the server refuses to run as root). */
function runPg(args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const cmd = asRoot ? "runuser" : args[0];
  const argv = asRoot ? ["-u", "postgres", "--", ...args] : args.slice(1);
  execFileSync(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** Starts the shared cluster if it is not already answering. Idempotent; safe to call from many processes. */
export async function ensurePostgres(): Promise<string> {
  if (await canConnect(ADMIN_URL)) return ADMIN_URL;
  if (process.env.TEST_PG_URL) throw new Error(`TEST_PG_URL=${ADMIN_URL} does not accept connections`);
  const asRoot = process.getuid?.() === 0;
  if (!existsSync(`${DATA_DIR}/PG_VERSION`)) {
    mkdirSync(DATA_DIR, { recursive: true });
    if (asRoot) {
      const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
      chownSync(DATA_DIR, uid, gid);
    }
    runPg([pgBin("initdb"), "-D", DATA_DIR, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
  }
  const opts = [
    `-p ${TEST_PG_PORT}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${DATA_DIR}`,
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=400",
  ].join(" ");
  try {
    runPg([pgBin("pg_ctl"), "-D", DATA_DIR, "-o", opts, "-l", `${DATA_DIR}/server.log`, "-w", "-t", "30", "start"]);
  } catch (err) {
    // Another test process may have started it between our check and our start.
    if (!(await canConnect(ADMIN_URL))) throw err;
  }
  for (let i = 0; i < 50; i++) {
    if (await canConnect(ADMIN_URL)) return ADMIN_URL;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`PostgreSQL did not start on port ${TEST_PG_PORT}; see ${DATA_DIR}/server.log`);
}

/** Creates an empty database for one test file and returns its URL. */
export async function createTestDatabase(prefix = "t"): Promise<string> {
  const admin = await ensurePostgres();
  const name = `${prefix.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${randomBytes(4).toString("hex")}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}
