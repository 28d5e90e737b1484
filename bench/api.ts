/**
 * `npm run bench:api [-- --duration 10 --connections 50 --out bench/results/api.md]`
 *
 * Requests per second and latency of the real api process (`apps/api/src/main.ts`, started as a child with
 * production logging at info) for:
 *   - `GET /api/health` (liveness, no dependencies);
 *   - `POST /api/rooms/:id/messages` (JWT + revocation check in Redis, rate-limit counters in Redis, insert in
 *     PostgreSQL, broadcast through the Redis emitter), every request with a new clientMsgId.
 * PostgreSQL: DATABASE_URL when set, else the test cluster from test/support (a fresh database). Redis:
 * REDIS_URL when set, else a private redis-server. No push queue is configured, so no SQS work is measured.
 * The load generator (autocannon) runs in this process; the api in its own.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { createPool, migrate } from "@chat/shared";
import { createTestDatabase } from "../test/support/postgres";
import { startRedis, freePort, type TestRedis } from "../test/support/redis";

interface Result {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
// autocannon ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon: (opts: object) => Promise<Result> = require("autocannon");

interface Args {
  duration: number;
  connections: number;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { duration: 10, connections: 50 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const n = Number(argv[i + 1]);
    if (a === "--duration" || a === "--connections") {
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`${a}: expected a whole number from 1 to 1000, got ${argv[i + 1]}`);
      if (a === "--duration") args.duration = n;
      else args.connections = n;
      i++;
    } else if (a === "--out") {
      args.out = argv[++i];
      if (!args.out) throw new Error("--out: expected a file path, e.g. --out bench/results/api.md");
    } else throw new Error(`unknown argument ${a}; usage: bench:api [-- --duration S] [--connections N] [--out FILE]`);
  }
  return args;
}

async function json(res: Response): Promise<Record<string, any>> {
  const body = await res.json();
  if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body as Record<string, any>;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = join(__dirname, "..");
  const databaseUrl = process.env.DATABASE_URL ?? (await createTestDatabase("bench_api"));
  const pool = createPool({ kind: "url", url: databaseUrl, poolMax: 1 });
  await migrate(pool);
  await pool.end();
  let redis: TestRedis | undefined;
  const redisUrl = process.env.REDIS_URL ?? (redis = await startRedis()).url;
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "apps/api/src/main.ts"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      PORT: String(port),
      ENV: "bench",
      JWT_KEYS: JSON.stringify({ current: { kid: "bench", secret: "b".repeat(32) } }),
      RATE_LIMIT_IP_MAX: "1000000000",
      RATE_LIMIT_USER_MAX: "1000000000",
      SEND_LIMIT_MAX: "100000",
      SEND_LIMIT_WINDOW_S: "1",
      DB_POOL_MAX: "20",
    },
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/api/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 100 || child.exitCode !== null) throw new Error("the api did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
    const alice = await json(await fetch(`${base}/api/auth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "alice", password: "bench password" }) }));
    const bob = await json(await fetch(`${base}/api/auth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "bob", password: "bench password" }) }));
    const auth = { authorization: `Bearer ${alice.accessToken}`, "content-type": "application/json" };
    const room = (await json(await fetch(`${base}/api/rooms`, { method: "POST", headers: auth, body: JSON.stringify({ name: "bench" }) }))).room;
    await json(await fetch(`${base}/api/rooms/${room.id}/join`, { method: "POST", headers: { authorization: `Bearer ${bob.accessToken}` } }));

    const common = { url: base, connections: args.connections, duration: args.duration };
    const loadBefore = loadavg()[0].toFixed(2);
    const health = await autocannon({ ...common, requests: [{ method: "GET", path: "/api/health" }] });
    let n = 0;
    const post = await autocannon({
      ...common,
      requests: [{
        method: "POST",
        path: `/api/rooms/${room.id}/messages`,
        headers: auth,
        setupRequest: (req: object) => ({ ...req, body: JSON.stringify({ body: `message ${n}`, clientMsgId: `bench-${n++}` }) }),
      }],
    });

    const row = (name: string, r: Result) =>
      `| ${name} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r.requests.total} | ${r.non2xx + r.errors + r.timeouts} |`;
    const cpu = cpus();
    const report = [
      `Command: \`npm run bench:api -- --duration ${args.duration} --connections ${args.connections}\``,
      `Machine: ${cpu.length} x ${cpu[0]?.model ?? "cpu"}, Node ${process.version}; api, PostgreSQL, Redis and autocannon on the same host; 1-minute load average before the run ${loadBefore}.`,
      "",
      "| endpoint | req/s (mean) | p50 ms | p99 ms | requests | non-2xx/errors |",
      "|---|---|---|---|---|---|",
      row("GET /api/health", health),
      row("POST /api/rooms/:id/messages", post),
    ].join("\n");
    process.stdout.write(`${report}\n`);
    if (args.out) writeFileSync(args.out, `# api benchmark\n\n${report}\n`);
    if (post.non2xx + post.errors > 0 || health.non2xx + health.errors > 0) process.exitCode = 1;
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    await redis?.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:api: ${err.message}\n`);
  process.exit(1);
});
