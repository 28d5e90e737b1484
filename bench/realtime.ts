/**
 * `npm run bench:realtime [-- --clients 300 --messages 300 --window 20 --body 100 --workers 2 --fanout 20
 *   --processes 2 --idle 4 --model 0 --baselines 1]`
 *
 * Room fan-out through the realtime service: `--processes` realtime processes on one Redis (and a real
 * Postgres, since every `message:send` is committed before it is broadcast), N Socket.IO clients spread over
 * them, all members of one room. One client sends `messages` messages keeping at most `window` of them
 * unechoed; every client records the delivery latency of each message. Then, in the same run and with the same
 * clients, messages and window: the framework floor (bench/realtime/sio-floor.ts: the same Socket.IO and Redis
 * adapter in the same number of processes, no auth, no database) and a bare `ws` broadcast server.
 *
 * `--model S` (S seconds > 0) measures the capacity model's traffic instead: rooms of `--fanout` members, every
 * client sending messagesPerConnectionPerMinute (infra/config/capacity.ts) into its room; no baselines. With
 * `--processes 1` every client is on one process (the one-process connection count behind
 * maxMeasuredConnectionsPerTask).
 *
 * Clients live in separate worker processes (bench/realtime/clients.ts), never in a server's event loop.
 * Everything listens on 127.0.0.1; every phase is bounded in messages and in time (`--timeout` seconds).
 * Each phase warms up first (20 messages, or 5 s at the model rate); the warm-up's latency is printed apart and
 * its deliveries never count in the measurement (messages carry their phase; clientMsgIds never repeat).
 *
 * Prints: connect rate, delivered messages/s, p50/p99 delivery latency, memory per connection (RSS delta of
 * the server processes / N), server CPU time per handshake, per delivery and per idle connection (read from
 * /proc, so less sensitive to other load on the machine than wall-clock figures; `--idle` seconds of idle
 * measurement, 30 covers a ping, a revocation check and a presence refresh), the time the servers waited for
 * a CPU, our throughput as ratios of the floor and of bare `ws`, and the connections per vCPU these figures
 * support under the capacity model for rooms of `--fanout` members. `BENCH_CPU_PROF=<folder>` writes V8 CPU
 * profiles of the server processes there.
 *
 * `--window` bounds the messages in flight: with a large room the latency figures include the queue the
 * window builds (window x clients deliveries); `--window 1` measures the delivery latency of one message.
 */
import { spawn, fork, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Pool } from "pg";
import Redis from "ioredis";
import { createTestDatabase } from "../test/support/postgres";
import { startRedis, freePort } from "../test/support/redis";
import { migrate } from "../apps/shared/src/migrate";
import { TokenService } from "../apps/shared/src/auth";
import { CAPACITY } from "../infra/config/capacity";
import type { WorkerInit } from "./realtime/clients";

interface Args {
  clients: number;
  fanout: number;
  messages: number;
  window: number;
  body: number;
  workers: number;
  timeout: number;
  /** Realtime processes of our service (1 puts every client on one process). */
  processes: number;
  /** Seconds of idle measurement after the connections are up (30 covers a ping, a revocation and a presence round). */
  idle: number;
  /** Seconds of traffic at the capacity model's message rate into rooms of `fanout`; 0 runs the window mode. */
  model: number;
  /** 1 measures the Socket.IO floor and the bare ws broadcast beside ours (window mode only); 0 skips them. */
  baselines: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { clients: 300, fanout: 20, messages: 300, window: 20, body: 100, workers: 2, timeout: 60, processes: 2, idle: 4, model: 0, baselines: 1 };
  const limits: Record<keyof Args, [number, number]> = {
    clients: [2, 20_000],
    fanout: [1, 5000],
    messages: [1, 100_000],
    window: [1, 1000],
    body: [40, 8000],
    workers: [1, 16],
    timeout: [5, 600],
    processes: [1, 2],
    idle: [1, 120],
    model: [0, 300],
    baselines: [0, 1],
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, "") as keyof Args;
    if (!(key in limits)) throw new Error(`unknown option ${argv[i]}; use ${Object.keys(limits).map((k) => `--${k}`).join(", ")}`);
    const v = Number(argv[++i]);
    const [min, max] = limits[key];
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${key} must be an integer between ${min} and ${max} (got ${argv[i]})`);
    a[key] = v;
  }
  if (a.model > 0 && a.clients % a.fanout !== 0) {
    throw new Error(`--clients (${a.clients}) must be a multiple of --fanout (${a.fanout}) with --model: the clients fill rooms of --fanout members`);
  }
  return a;
}

const ROOT = join(__dirname, "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU time (user + system) a process has used, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}
const CLK_TCK = 100;

/**
 * Time the process's main (JavaScript) thread spent runnable but waiting for a CPU, in ms (/proc/<pid>/schedstat,
 * second field, ns): how much the machine's other load delayed the server, apart from its own work.
 */
function runQueueWaitMs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

async function waitHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

function stopProcess(p: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    p.kill("SIGTERM");
  });
}

class Worker {
  private readonly child: ChildProcess;
  private waiting = new Map<string, (v: any) => void>();

  constructor() {
    this.child = fork(join(__dirname, "realtime", "clients.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (m: { cmd: string }) => {
      const w = this.waiting.get(m.cmd);
      this.waiting.delete(m.cmd);
      w?.(m);
    });
  }

  call<T = any>(cmd: string, extra: object = {}): Promise<T> {
    return new Promise((resolve) => {
      this.waiting.set(cmd, resolve);
      this.child.send({ cmd, ...extra });
    });
  }

  async close(): Promise<void> {
    await Promise.race([this.call("close"), sleep(3000)]);
    await stopProcess(this.child, 3000);
  }
}

interface PhaseResult {
  label: string;
  connected: number;
  connectMs: number;
  delivered: number;
  expected: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  memPerConnKb: number;
  sent: number;
  acked: number;
  /** Server CPU (all server processes) per delivered message during the measured send. */
  cpuMsPerDelivery: number;
  /** Server CPU per accepted handshake (auth, memberships, presence) during the connect phase. */
  cpuMsPerConnect: number;
  /** Server CPU per connection per second while connected and idle. */
  idleCpuMsPerConnPerSec: number;
  /** Seconds the idle measurement lasted. */
  idleSeconds: number;
  /** The warm-up before the measurement (JIT, pools, first-use paths), reported apart from it. */
  warmup: { sent: number; delivered: number; p50: number; p99: number };
  /** Server CPU over the measured send, ms per second of wall time (model-rate mode: the whole load). */
  sendCpuMsPerSec: number;
  /**
   * Over the measured send, ms per second that the servers' JavaScript threads waited for a CPU while runnable
   * (summed over the server processes): high values mean the wall-clock latencies measure the machine's other load.
   */
  runQueueWaitMsPerSec: number;
  /** Messages the load generator offered per second (model-rate mode). */
  offeredPerSecond?: number;
}

interface WorkerStats {
  received: number;
  /** Deliveries of the warm-up that arrived after it (not counted in the measurement). */
  stale: number;
  firstAt: number;
  lastAt: number;
  buckets: Array<[number, number]>;
  bucketMs: number;
}

function latencyOf(stats: WorkerStats[]): { p50: number; p99: number } {
  const merged = new Map<number, number>();
  for (const s of stats) for (const [b, c] of s.buckets) merged.set(b, (merged.get(b) ?? 0) + c);
  const bucketMs = stats[0]?.bucketMs ?? 0.1;
  return { p50: percentileOf(merged, bucketMs, 50), p99: percentileOf(merged, bucketMs, 99) };
}

function percentileOf(buckets: Map<number, number>, bucketMs: number, p: number): number {
  const total = [...buckets.values()].reduce((a, b) => a + b, 0);
  let rank = Math.ceil((p / 100) * total);
  for (const [b, c] of [...buckets.entries()].sort((x, y) => x[0] - y[0])) {
    rank -= c;
    if (rank <= 0) return Math.round(b * bucketMs * 10) / 10;
  }
  return Number.NaN;
}

/** Polls the workers until `expected` deliveries arrived, the count stops moving, or `timeoutMs` passes. */
async function waitDelivered(workers: Worker[], expected: number, timeoutMs: number): Promise<WorkerStats[]> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const stats = await Promise.all(workers.map((w) => w.call<WorkerStats>("stats")));
    const got = stats.reduce((s, x) => s + x.received, 0);
    if (got >= expected || Date.now() > deadline || got === last) return stats;
    last = got;
    await sleep(300);
  }
}

/**
 * Connects, measures memory and idle CPU, warms up (reported apart), sends, waits for deliveries, collects.
 * Window mode: one client sends `messages` with at most `window` unechoed into the one room. Model mode
 * (`--model S`): every client sends at the capacity model's rate (messagesPerConnectionPerMinute) into its
 * own room of `fanout` members for S seconds. `serverPids` are measured for RSS and CPU.
 */
async function runPhase(label: string, inits: WorkerInit[], serverPids: number[], args: Args): Promise<PhaseResult> {
  const workers = inits.map(() => new Worker());
  try {
    await Promise.all(workers.map((w, i) => w.call("init", { init: inits[i] })));
    const rssBefore = serverPids.reduce((s, pid) => s + rssKb(pid), 0);
    const cpuOf = () => serverPids.reduce((s, pid) => s + cpuMs(pid), 0);
    const connectCpuStart = cpuOf();
    const t0 = Date.now();
    const conns = await Promise.all(workers.map((w) => w.call<{ connected: number; failed: number }>("connect")));
    const connectMs = Date.now() - t0;
    const connected = conns.reduce((s, c) => s + c.connected, 0);
    const failed = conns.reduce((s, c) => s + c.failed, 0);
    const connectCpu = cpuOf() - connectCpuStart;
    if (failed > 0) console.error(`${label}: ${failed} client(s) failed to connect`);
    await sleep(1000);
    const rssAfter = serverPids.reduce((s, pid) => s + rssKb(pid), 0);
    await sleep(1000);
    const idleStart = cpuOf();
    const idleT0 = Date.now();
    await sleep(args.idle * 1000);
    const idleCpu = cpuOf() - idleStart;
    const idleSeconds = (Date.now() - idleT0) / 1000;

    const model = args.model > 0;
    const ratePerSecond = (connected * CAPACITY.messagesPerConnectionPerMinute) / 60;
    const rateShares = inits.map((init) => (ratePerSecond * init.tokens.length) / Math.max(1, args.clients));
    const deliveriesPerSend = model ? args.fanout : connected;

    // Warm-up (JIT, pools, first-use paths): its deliveries are waited for and reported apart, then the
    // counters are reset for a clean measurement.
    let warmSent: number;
    if (model) {
      const r = await Promise.all(workers.map((w, i) => w.call<{ acked: number }>("rate", { perSecond: rateShares[i], seconds: 5 })));
      warmSent = r.reduce((s, x) => s + x.acked, 0);
    } else {
      warmSent = (await workers[0].call<{ sent: number }>("send", { count: 20, window: args.window, timeoutMs: 10_000 })).sent;
    }
    const warmStats = await waitDelivered(workers, warmSent * deliveriesPerSend, 30_000);
    const warmup = { sent: warmSent, delivered: warmStats.reduce((s, x) => s + x.received, 0), ...latencyOf(warmStats) };
    await Promise.all(workers.map((w) => w.call("reset", { phase: 1 })));
    const waitOf = () => serverPids.reduce((s, pid) => s + runQueueWaitMs(pid), 0);
    const cpuStart = cpuOf();
    const waitStart = waitOf();
    const sendT0 = Date.now();

    let sent: number;
    let acked: number;
    if (model) {
      const r = await Promise.all(workers.map((w, i) => w.call<{ sent: number; acked: number }>("rate", { perSecond: rateShares[i], seconds: args.model })));
      sent = r.reduce((s, x) => s + x.sent, 0);
      acked = r.reduce((s, x) => s + x.acked, 0);
    } else {
      const r = await workers[0].call<{ sent: number; acked: number; echoed: number }>("send", {
        count: args.messages,
        window: args.window,
        timeoutMs: args.timeout * 1000,
      });
      sent = r.sent;
      acked = r.acked;
    }
    const expected = (model ? acked : sent) * deliveriesPerSend;
    const stats = await waitDelivered(workers, expected, 10_000);
    const delivered = stats.reduce((s, x) => s + x.received, 0);
    const lateWarmup = stats.reduce((s, x) => s + x.stale, 0);
    if (lateWarmup > 0) console.error(`${label}: ${lateWarmup} warm-up deliveries arrived during the measurement (not counted in it)`);
    const sendCpu = cpuOf() - cpuStart;
    const sendWait = waitOf() - waitStart;
    const sendWallS = (Date.now() - sendT0) / 1000;
    const first = Math.min(...stats.filter((s) => s.firstAt).map((s) => s.firstAt));
    const lastAt = Math.max(...stats.map((s) => s.lastAt));
    const seconds = (lastAt - first) / 1000;
    return {
      label,
      connected,
      connectMs,
      delivered,
      expected,
      seconds: Math.round(seconds * 100) / 100,
      perSecond: Math.round(delivered / seconds),
      ...latencyOf(stats),
      memPerConnKb: Math.round(((rssAfter - rssBefore) / Math.max(1, connected)) * 10) / 10,
      sent,
      acked,
      cpuMsPerConnect: Math.round((connectCpu / Math.max(1, connected)) * 1000) / 1000,
      cpuMsPerDelivery: Math.round((sendCpu / Math.max(1, delivered)) * 10_000) / 10_000,
      idleCpuMsPerConnPerSec: Math.round((idleCpu / idleSeconds / Math.max(1, connected)) * 100_000) / 100_000,
      idleSeconds: Math.round(idleSeconds),
      warmup,
      sendCpuMsPerSec: Math.round(sendCpu / sendWallS),
      runQueueWaitMsPerSec: Math.round(sendWait / sendWallS),
      ...(model ? { offeredPerSecond: Math.round(ratePerSecond * 10) / 10 } : {}),
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

/** Realtime task memory per vCPU in every tier (infra/config/tiers.ts: memory = 2 x cpu units). */
const TASK_MIB_PER_VCPU = 2048;
/** RSS of an idle realtime process (runtime, modules, pools), not available to connections. */
const BASE_RSS_MIB = 150;
/**
 * Share of one vCPU the steady chat load may use at the connection limit: the other half keeps event-loop
 * lag low and absorbs reconnect storms (a stopped task's clients all handshake elsewhere at once).
 */
const USABLE_CPU = 0.5;
/** Share of task memory connections may use at the limit (the alarms warn at 80% of the limit). */
const USABLE_MEMORY = 0.8;

/**
 * Connections one vCPU carries at the capacity model's peak message rate: the smaller of the CPU bound
 * (idle cost per connection + messagesPerConnectionPerMinute / 60 x fanout deliveries, each at the measured
 * server CPU per delivery) at half a vCPU, and the memory bound (measured RSS per connection) at 80%.
 */
function capacityPerVcpu(r: PhaseResult, fanout: number) {
  const sendsPerConnPerSec = CAPACITY.messagesPerConnectionPerMinute / 60;
  const cpuMsPerConnPerSec = r.idleCpuMsPerConnPerSec + sendsPerConnPerSec * fanout * r.cpuMsPerDelivery;
  const cpuBound = Math.floor((1000 * USABLE_CPU) / cpuMsPerConnPerSec);
  const memBound = Math.floor(((TASK_MIB_PER_VCPU - BASE_RSS_MIB) * 1024 * USABLE_MEMORY) / Math.max(1, r.memPerConnKb));
  return {
    cpuMsPerConnPerSec: Math.round(cpuMsPerConnPerSec * 10_000) / 10_000,
    cpuBound,
    memBound,
    connectionsPerVcpu: Math.floor(Math.min(cpuBound, memBound) / 100) * 100,
  };
}

function split<T>(items: T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  items.forEach((x, i) => out[Math.min(parts - 1, Math.floor((i * parts) / items.length))].push(x));
  return out;
}

/** Users, and rooms: one room of everyone, or (roomSize < n) consecutive users in rooms of roomSize. */
async function seed(dbUrl: string, n: number, roomSize: number): Promise<{ userIds: string[]; roomIds: string[] }> {
  const pool = new Pool({ connectionString: dbUrl, max: 2 });
  try {
    await migrate(pool);
    const users = await pool.query<{ id: string }>(
      `INSERT INTO users (username, display_name, password_hash)
       SELECT 'bench_' || g, 'Bench ' || g, 'not-a-login' FROM generate_series(1, $1) g RETURNING id`,
      [n],
    );
    const userIds = users.rows.map((r) => r.id);
    const roomIds: string[] = [];
    for (let i = 0; i < n; i += roomSize) {
      const members = userIds.slice(i, i + roomSize);
      const room = await pool.query<{ id: string }>(`INSERT INTO rooms (name, created_by) VALUES ($1, $2) RETURNING id`, [`bench-${i / roomSize}`, members[0]]);
      const roomId = room.rows[0].id;
      await pool.query(`INSERT INTO room_members (room_id, user_id) SELECT $1, unnest($2::uuid[])`, [roomId, members]);
      for (let k = 0; k < members.length; k++) roomIds.push(roomId);
    }
    return { userIds, roomIds };
  } finally {
    await pool.end();
  }
}

/** Starts a server script with `env`; resolves once it answers (`ready`) or prints `{"port":N}`. */
async function startServer(script: string, env: Record<string, string>, ready?: string, profile = false): Promise<{ child: ChildProcess; port: number }> {
  // BENCH_CPU_PROF=<folder> writes a V8 CPU profile of each of our realtime processes there (on exit).
  const prof = profile && process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, "--import", "tsx", script], {
    cwd: ROOT,
    stdio: ["ignore", ready ? "ignore" : "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  if (ready) {
    await waitHttp(ready);
    return { child, port: Number(env.PORT) };
  }
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port));
    child.once("exit", () => reject(new Error(`${script} exited before listening`)));
  });
  return { child, port };
}

function row(r: PhaseResult): string {
  return `| ${r.label} | ${r.connected} | ${Math.round(r.connected / (r.connectMs / 1000))} | ${r.delivered}/${r.expected} | ${r.perSecond} | ${r.p50} | ${r.p99} | ${r.warmup.p50} / ${r.warmup.p99} (${r.warmup.delivered}) | ${r.memPerConnKb} | ${r.cpuMsPerDelivery} | ${r.cpuMsPerConnect} | ${r.idleCpuMsPerConnPerSec} | ${r.sendCpuMsPerSec} (${r.runQueueWaitMsPerSec}) |`;
}

const ratioOf = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const model = args.model > 0;
  const withBaselines = args.baselines === 1 && !model;
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");
  const loads: Record<string, number> = {};
  console.log(`load average at start: ${load()} (${os.cpus().length} CPUs; other work on the machine skews wall-clock figures, CPU-time figures less)`);
  console.log(
    `bench:realtime clients=${args.clients} ${model ? `model rate ${CAPACITY.messagesPerConnectionPerMinute} msgs/conn/min for ${args.model} s into rooms of ${args.fanout}` : `messages=${args.messages} window=${args.window}`} ` +
      `body=${args.body}B workers=${args.workers} idle=${args.idle}s (${args.processes} realtime process(es), 1 redis, postgres)`,
  );
  const redis = await startRedis();
  const dbUrl = await createTestDatabase("bench_rt");
  const servers: ChildProcess[] = [];
  const tokenRedis = new Redis(redis.url);
  try {
    const { userIds, roomIds } = await seed(dbUrl, args.clients, model ? args.fanout : args.clients);
    const keys = { current: { kid: "bench", secret: randomBytes(32).toString("hex") } };
    const tokenService = new TokenService({ keys, redis: tokenRedis, accessTtlSeconds: 3600 });
    const tokens = await Promise.all(userIds.map(async (u) => (await tokenService.sign(u, randomUUID())).token));
    const runId = randomBytes(4).toString("hex");
    const slices = split(tokens.map((t, i) => ({ t, room: roomIds[i] })), args.workers);
    const sioInits = (ports: number[], tag: string): WorkerInit[] =>
      slices.map((slice, w) => ({
        mode: "sio",
        // Worker w starts on server w, so the sender (worker 0, client 0) and half the room sit on one process.
        urls: ports.map((_, i) => `http://127.0.0.1:${ports[(i + w) % ports.length]}`),
        tokens: slice.map((x) => x.t),
        roomId: roomIds[0],
        ...(model ? { roomIds: slice.map((x) => x.room) } : {}),
        bodyBytes: args.body,
        runId: `${runId}-${tag}-${w}`,
      }));
    const stopAll = async () => {
      await Promise.all(servers.map((s) => stopProcess(s)));
      servers.length = 0;
    };

    // 1. Our service.
    const limit = String(Math.max(10_000, args.clients + 100));
    const ourPorts: number[] = [];
    for (let i = 0; i < args.processes; i++) ourPorts.push(await freePort());
    const ours = await Promise.all(
      ourPorts.map((port) =>
        startServer(
          join(ROOT, "apps/realtime/src/main.ts"),
          {
            PORT: String(port),
            ENV: "bench",
            LOG_LEVEL: "warn",
            DATABASE_URL: dbUrl,
            DB_POOL_MAX: "10",
            REDIS_URL: redis.url,
            JWT_KEYS: JSON.stringify(keys),
            MAX_CONNECTIONS_PER_TASK: limit,
            MAX_CONNECTIONS_PER_IP: limit,
            MAX_MESSAGES_PER_10S: "1000000",
            SEND_LIMIT_MAX: "100000",
            SEND_LIMIT_WINDOW_S: "1",
            MAX_BYTES_PER_10S: "1000000000",
            METRICS_INTERVAL_MS: "60000",
          },
          `http://127.0.0.1:${port}/ready`,
          true,
        ),
      ),
    );
    servers.push(...ours.map((o) => o.child));
    const oursLabel = `ours: socket.io x${args.processes} + redis + postgres`;
    const oursResult = await runPhase(oursLabel, sioInits(ourPorts, "ours"), servers.map((s) => s.pid!), args);
    loads.ours = os.loadavg()[0];
    await stopAll();

    const rows = [oursResult];
    let floor: PhaseResult | undefined;
    let bare: PhaseResult | undefined;
    if (withBaselines) {
      // 2. The framework floor: the same Socket.IO + Redis adapter, same topology, nothing of ours.
      const floorPorts = await Promise.all(ourPorts.map(() => startServer(join(__dirname, "realtime", "sio-floor.ts"), { REDIS_URL: redis.url, PORT: "0" }, undefined, true)));
      servers.push(...floorPorts.map((f) => f.child));
      floor = await runPhase(`floor: socket.io x${args.processes} + redis adapter`, sioInits(floorPorts.map((f) => f.port), "floor"), servers.map((s) => s.pid!), args);
      loads.floor = os.loadavg()[0];
      await stopAll();

      // 3. The bare ws broadcast: one process, no framework.
      const ws = await startServer(join(__dirname, "realtime", "ws-server.ts"), {});
      servers.push(ws.child);
      const wsInits: WorkerInit[] = slices.map((slice) => ({
        mode: "ws",
        urls: [`ws://127.0.0.1:${ws.port}`],
        tokens: slice.map((x) => x.t),
        roomId: roomIds[0],
        bodyBytes: args.body,
        runId,
      }));
      bare = await runPhase("bare ws broadcast (1 process)", wsInits, [ws.child.pid!], args);
      loads.ws = os.loadavg()[0];
      await stopAll();
      rows.push(floor, bare);
    }

    console.log("");
    console.log("| server | clients | connect/s | delivered | msgs/s delivered | p50 ms | p99 ms | warm-up p50 / p99 ms (deliveries) | RSS KiB/conn | server CPU ms/delivery | CPU ms/handshake | idle CPU ms/s/conn | server CPU ms/s (run-queue wait ms/s) |");
    console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) console.log(row(r));
    const ratios = floor && bare
      ? { oursOverFloor: ratioOf(oursResult.perSecond, floor.perSecond), oursOverWs: ratioOf(oursResult.perSecond, bare.perSecond), floorOverWs: ratioOf(floor.perSecond, bare.perSecond) }
      : undefined;
    if (ratios) {
      console.log(`\nthroughput ratios: ours / floor ${ratios.oursOverFloor}, ours / bare ws ${ratios.oursOverWs} (floor / bare ws ${ratios.floorOverWs})`);
      console.log(`server CPU per delivery: ours ${oursResult.cpuMsPerDelivery} ms, floor ${floor!.cpuMsPerDelivery} ms, bare ws ${bare!.cpuMsPerDelivery} ms (ours / floor ${ratioOf(oursResult.cpuMsPerDelivery, floor!.cpuMsPerDelivery)})`);
      // Deliveries per server CPU second, as a ratio: what the throughput ratio becomes when both are CPU-bound
      // on CPUs of their own, whatever else the machine runs (the wall-clock ratio moves with the load).
      console.log(`CPU-normalised throughput ratios: ours / floor ${ratioOf(floor!.cpuMsPerDelivery, oursResult.cpuMsPerDelivery)}, ours / bare ws ${ratioOf(bare!.cpuMsPerDelivery, oursResult.cpuMsPerDelivery)}`);
    }
    console.log(`idle CPU per connection: ${oursResult.idleCpuMsPerConnPerSec} ms/s over ${oursResult.idleSeconds} s; CPU per handshake: ${oursResult.cpuMsPerConnect} ms`);
    if (model) {
      console.log(
        `model rate: ${oursResult.offeredPerSecond} msgs/s offered (${oursResult.sent} sent, ${oursResult.acked} acked) into rooms of ${args.fanout}; ` +
          `server CPU ${oursResult.sendCpuMsPerSec} ms/s (${Math.round(oursResult.sendCpuMsPerSec / 10)}% of one core) for ${oursResult.connected} connections on ${args.processes} process(es)`,
      );
    }
    const capacity = capacityPerVcpu(oursResult, args.fanout);
    console.log(
      `per-task capacity: ${capacity.connectionsPerVcpu} connections per vCPU ` +
        `(CPU bound ${capacity.cpuBound} at ${CAPACITY.messagesPerConnectionPerMinute} msgs/conn/min x fanout ${args.fanout}, ` +
        `memory bound ${capacity.memBound} at ${TASK_MIB_PER_VCPU} MiB/vCPU; model constant now ${CAPACITY.realtimeConnectionsPerVcpu})`,
    );
    if (oursResult.acked !== oursResult.sent) console.log(`warning: ${oursResult.sent - oursResult.acked} message(s) sent but not acknowledged`);
    console.log(`1-minute load average after each phase: ${Object.entries(loads).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}; at end: ${load()}`);
    console.log(JSON.stringify({ args, ours: oursResult, floor, baseline: bare, ratios, capacity, loadavg: os.loadavg(), loads }));
  } finally {
    await Promise.all(servers.map((s) => stopProcess(s)));
    tokenRedis.disconnect();
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:realtime failed: ${err.message}`);
    process.exit(1);
  },
);
