/**
 * `npm run bench:logs [-- --requests 1000 --messages 1000 --clients 20 --idle 40]`
 *
 * Bytes each service writes to its log stream (what CloudWatch Logs ingests: JSON log lines and the EMF
 * metric lines) per unit of work, measured on the real services at production logging (`LOG_LEVEL=info`).
 * It starts the whole local stack with `npm run dev` (PostgreSQL, Redis, the SQS server, a push sink and the
 * three services, on free ports), reads each service's stdout, and drives it through its public interfaces:
 *
 *   idle        nothing happens for --idle seconds            -> bytes per task-hour (metric flushes)
 *   health      ALB-style health checks on api and realtime   -> bytes per health check
 *   api         REST: post a message, read the history        -> api bytes per request
 *   realtime    Socket.IO clients connect, send, disconnect   -> realtime bytes per message and per connection
 *   workers     the jobs those messages queued (offline)      -> workers bytes per job
 *
 * The per-unit figures feed the plan's log cost (`infra/plan/assumptions.ts`, `log*Bytes*`): log volume
 * follows from the traffic model instead of a flat share per log group.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { io as ioClient, type Socket } from "socket.io-client";
import { freePort } from "../test/support/redis";

const SERVICES = ["api", "realtime", "workers"] as const;
type Service = (typeof SERVICES)[number];

interface Args {
  requests: number;
  messages: number;
  clients: number;
  idle: number;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { requests: 1000, messages: 1000, clients: 20, idle: 40 };
  const limits: Record<string, [number, number]> = { requests: [10, 100_000], messages: [10, 100_000], clients: [2, 500], idle: [10, 600] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const key = a.replace(/^--/, "");
    if (key in limits) {
      const n = Number(argv[++i]);
      const [lo, hi] = limits[key]!;
      if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`${a}: expected a whole number from ${lo} to ${hi}, got ${argv[i]}`);
      (args as unknown as Record<string, number>)[key] = n;
    } else if (a === "--out") {
      args.out = argv[++i];
      if (!args.out) throw new Error("--out: expected a file path, e.g. --out bench/results/logs.md");
    } else throw new Error(`unknown argument ${a}; usage: bench:logs [-- --requests N] [--messages N] [--clients N] [--idle S] [--out FILE]`);
  }
  return args;
}

/** Bytes and lines per service, read from the `[service] ` prefixed stdout of `npm run dev`. */
class Meter {
  bytes: Record<Service, number> = { api: 0, realtime: 0, workers: 0 };
  lines: Record<Service, number> = { api: 0, realtime: 0, workers: 0 };
  jobsDone = 0;
  ready = false;
  private rest = "";
  private waiters: (() => void)[] = [];

  feed(chunk: Buffer): void {
    const parts = (this.rest + chunk.toString()).split("\n");
    this.rest = parts.pop() ?? "";
    for (const line of parts) {
      const m = /^\[(api|realtime|workers)\] (.*)$/.exec(line);
      if (m) {
        const s = m[1] as Service;
        this.bytes[s] += Buffer.byteLength(m[2]!) + 1;
        this.lines[s]++;
        if (s === "workers" && /job done"/.test(m[2]!)) this.jobsDone++;
      } else if (line.startsWith("[dev] ready:")) this.ready = true;
    }
    for (const w of this.waiters.splice(0)) w();
  }

  snapshot(): Record<Service, number> {
    return { ...this.bytes };
  }

  /** Resolves when `done()` holds, re-checked on every chunk of output; rejects after `ms`. */
  until(done: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)), ms);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const diff = (a: Record<Service, number>, b: Record<Service, number>) =>
  Object.fromEntries(SERVICES.map((s) => [s, b[s] - a[s]])) as Record<Service, number>;

async function json(res: Response): Promise<Record<string, any>> {
  const body = (await res.json()) as Record<string, any>;
  if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = join(__dirname, "..");
  const dataDir = mkdtempSync(join(tmpdir(), "bench-logs-"));
  // The PostgreSQL server may run as another user (the "postgres" user when this runs as root).
  chmodSync(dataDir, 0o755);
  const ports = { api: await freePort(), realtime: await freePort(), workers: await freePort() };
  const meter = new Meter();
  const dev = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts"], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    env: {
      ...process.env,
      LOG_LEVEL: "info",
      API_PORT: String(ports.api),
      REALTIME_PORT: String(ports.realtime),
      WORKERS_PORT: String(ports.workers),
      DEV_DATA_DIR: dataDir,
      // Production-like limits would refuse a benchmark's burst from one user; the log lines are the same.
      RATE_LIMIT_IP_MAX: "1000000000",
      RATE_LIMIT_USER_MAX: "1000000000",
      SEND_LIMIT_MAX: "100000",
      SEND_LIMIT_WINDOW_S: "1",
      MAX_MESSAGES_PER_10S: "1000000",
      MAX_BYTES_PER_10S: "1000000000",
    },
  });
  dev.stdout!.on("data", (c: Buffer) => meter.feed(c));
  const devExited = new Promise<void>((r) => dev.once("exit", () => r()));
  dev.once("exit", () => meter.feed(Buffer.alloc(0)));
  const sockets: Socket[] = [];
  try {
    await meter.until(() => meter.ready || dev.exitCode !== null, 180_000, "npm run dev to print its ready line");
    if (!meter.ready) throw new Error(`npm run dev exited with code ${dev.exitCode} before it was ready`);
    const api = `http://127.0.0.1:${ports.api}`;
    const rt = `http://127.0.0.1:${ports.realtime}`;
    const loadBefore = loadavg()[0]!.toFixed(2);

    // Idle: only the services' own timers (metric flushes every 10 s) write.
    await sleep(2000);
    let t0 = meter.snapshot();
    const idleStart = Date.now();
    await sleep(args.idle * 1000);
    const idle = diff(t0, meter.snapshot());
    const idleHours = (Date.now() - idleStart) / 3_600_000;

    // Health checks, as the load balancer sends them.
    const checks = 500;
    t0 = meter.snapshot();
    for (let i = 0; i < checks; i++) {
      await fetch(`${api}/api/health`).then((r) => r.arrayBuffer());
      await fetch(`${rt}/health`).then((r) => r.arrayBuffer());
    }
    await sleep(1500);
    const health = diff(t0, meter.snapshot());

    // Users: alice and bob talk; carol is a member who stays offline, so every message queues offline jobs.
    const users: Record<string, any> = {};
    for (const name of ["alice", "bob", "carol"]) {
      users[name] = await json(await fetch(`${api}/api/auth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: `${name}${Date.now() % 100000}`, password: "bench password 1" }) }));
    }
    const auth = (u: string) => ({ authorization: `Bearer ${users[u].accessToken}`, "content-type": "application/json" });
    const room = (await json(await fetch(`${api}/api/rooms`, { method: "POST", headers: auth("alice"), body: JSON.stringify({ name: "bench-logs" }) }))).room;
    for (const u of ["bob", "carol"]) await json(await fetch(`${api}/api/rooms/${room.id}/join`, { method: "POST", headers: { authorization: auth(u).authorization } }));

    // REST: half posts, half history reads.
    await sleep(1500);
    t0 = meter.snapshot();
    const workStart = t0;
    const jobsBeforeApi = meter.jobsDone;
    for (let i = 0; i < args.requests; i++) {
      if (i % 2 === 0) await json(await fetch(`${api}/api/rooms/${room.id}/messages`, { method: "POST", headers: auth("alice"), body: JSON.stringify({ body: `rest ${i}`, clientMsgId: `logs-rest-${i}` }) }));
      else await json(await fetch(`${api}/api/rooms/${room.id}/messages?limit=20`, { headers: { authorization: auth("bob").authorization } }));
    }
    const restPosts = Math.ceil(args.requests / 2);
    await meter.until(() => meter.jobsDone - jobsBeforeApi >= restPosts, 120_000, `${restPosts} offline jobs from the REST posts`);
    await sleep(1500);
    const rest = diff(t0, meter.snapshot());
    const restJobs = meter.jobsDone - jobsBeforeApi;

    // Socket.IO: clients connect (alice and bob alternately), one sends, all receive, then all disconnect.
    t0 = meter.snapshot();
    for (let i = 0; i < args.clients; i++) {
      const s = ioClient(rt, { transports: ["websocket"], auth: { token: users[i % 2 === 0 ? "alice" : "bob"].accessToken }, reconnection: false });
      sockets.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("connect", () => resolve());
        s.once("connect_error", (e) => reject(new Error(`socket ${i}: ${e.message}`)));
      });
    }
    for (const s of sockets.splice(0)) s.disconnect();
    await sleep(1500);
    const connections = diff(t0, meter.snapshot());

    const sender = ioClient(rt, { transports: ["websocket"], auth: { token: users.alice.accessToken }, reconnection: false });
    sockets.push(sender);
    await new Promise<void>((resolve, reject) => {
      sender.once("connect", () => resolve());
      sender.once("connect_error", (e) => reject(e));
    });
    await sleep(1500);
    t0 = meter.snapshot();
    const jobsBeforeSocket = meter.jobsDone;
    for (let i = 0; i < args.messages; i++) {
      const ack = (await sender.timeout(10_000).emitWithAck("message:send", { roomId: room.id, body: `socket ${i}`, clientMsgId: `logs-sio-${i}` })) as { ok?: boolean };
      if (!ack?.ok) throw new Error(`message:send ${i} was not acknowledged: ${JSON.stringify(ack)}`);
    }
    await meter.until(() => meter.jobsDone - jobsBeforeSocket >= args.messages, 120_000, `${args.messages} offline jobs from the socket messages`);
    // One more metric flush interval, so the timings of this phase are written before the count is read.
    await sleep(11_000);
    const socket = diff(t0, meter.snapshot());
    const socketJobs = meter.jobsDone - jobsBeforeSocket;
    const idleIn = (ms: number) => (h: Service) => (idle[h] / idleHours) * (ms / 3_600_000);
    const socketIdle = idleIn(11_000 + 2000);

    const perHour = (s: Service) => idle[s] / idleHours;
    const figures = {
      idleBytesPerTaskHour: { api: perHour("api"), realtime: perHour("realtime"), workers: perHour("workers") },
      apiBytesPerHealthCheck: health.api / checks,
      realtimeBytesPerHealthCheck: health.realtime / checks,
      apiBytesPerRequest: rest.api / args.requests,
      realtimeBytesPerConnection: connections.realtime / args.clients,
      realtimeBytesPerMessage: Math.max(0, socket.realtime - socketIdle("realtime")) / args.messages,
      // Every job the REST and socket messages queued, over every byte the workers wrote since the first of them.
      workersBytesPerJob: (meter.snapshot().workers - workStart.workers) / (meter.jobsDone - jobsBeforeApi),
    };
    const r = (n: number) => Math.round(n).toLocaleString("en-US");
    const cpu = cpus();
    const report = [
      `Command: \`npm run bench:logs -- --requests ${args.requests} --messages ${args.messages} --clients ${args.clients} --idle ${args.idle}\``,
      `Machine: ${cpu.length} x ${cpu[0]?.model ?? "cpu"}, Node ${process.version}; \`npm run dev\` stack (LOG_LEVEL=info); 1-minute load average before the run ${loadBefore}.`,
      "",
      "| figure | bytes | from |",
      "|---|---|---|",
      `| api, idle, per task-hour | ${r(figures.idleBytesPerTaskHour.api)} | ${args.idle} s idle |`,
      `| realtime, idle, per task-hour | ${r(figures.idleBytesPerTaskHour.realtime)} | ${args.idle} s idle |`,
      `| workers, idle, per task-hour | ${r(figures.idleBytesPerTaskHour.workers)} | ${args.idle} s idle |`,
      `| api, per health check | ${figures.apiBytesPerHealthCheck.toFixed(1)} | ${checks} checks |`,
      `| realtime, per health check | ${figures.realtimeBytesPerHealthCheck.toFixed(1)} | ${checks} checks |`,
      `| api, per request (half posts, half history reads) | ${figures.apiBytesPerRequest.toFixed(1)} | ${args.requests} requests |`,
      `| realtime, per connection (connect + disconnect) | ${figures.realtimeBytesPerConnection.toFixed(1)} | ${args.clients} connections |`,
      `| realtime, per message sent over Socket.IO | ${figures.realtimeBytesPerMessage.toFixed(1)} | ${args.messages} messages |`,
      `| workers, per job | ${figures.workersBytesPerJob.toFixed(1)} | ${meter.jobsDone - jobsBeforeApi} jobs |`,
      "",
      `Raw: ${JSON.stringify({ idle, health, rest, connections, socket, restJobs, socketJobs })}`,
    ].join("\n");
    process.stdout.write(`${report}\n`);
    if (args.out) writeFileSync(args.out, `# log volume\n\n${report}\n`);
  } finally {
    for (const s of sockets) s.disconnect();
    if (dev.exitCode === null) dev.kill("SIGTERM");
    await devExited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:logs: ${err.message}\n`);
  process.exit(1);
});
