/**
 * Test fixtures for the realtime service: a private Redis, a migrated Postgres database with users and a
 * room, signed access tokens, realtime processes (in-process or as child processes running main.ts) and
 * socket.io clients that record what they receive.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { Pool } from "pg";
import Redis from "ioredis";
import { io as connect, type Socket, type ManagerOptions, type SocketOptions } from "socket.io-client";
import { createMigratedTestDatabase } from "../../../test/support/postgres";
import { startRedis, freePort, type TestRedis } from "../../../test/support/redis";
import { TokenService } from "@chat/shared/src/auth";
import type { JwtKeys } from "@chat/shared/src/config";
import type { ClientToServerEvents, SendAck, SendPayload, ServerToClientEvents } from "@chat/shared/src/socket-events";

/** A socket.io-client socket bound to the realtime contract (apps/shared/src/socket-events.ts). */
export type ChatClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The same socket without the contract's types, for tests that send what the contract forbids. */
export function untyped(socket: ChatClientSocket): Socket {
  return socket as unknown as Socket;
}

const ROOT = join(__dirname, "..", "..", "..");
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Fixture {
  redis: TestRedis;
  dbUrl: string;
  pool: Pool;
  /** A plain client on the test Redis (revocation keys, presence checks). */
  kv: Redis;
  keys: JwtKeys;
  tokens: TokenService;
  /** Creates `n` users, all members of one new room. */
  seed(n: number): Promise<{ userIds: string[]; roomId: string }>;
  token(userId: string, sessionId?: string): Promise<string>;
  /** The environment of a realtime process on `port`. */
  env(port: number, extra?: Record<string, string>): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

let seq = 0;

export async function fixture(): Promise<Fixture> {
  const redis = await startRedis();
  const dbUrl = await createMigratedTestDatabase("realtime");
  const pool = new Pool({ connectionString: dbUrl, max: 4 });
  const kv = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  kv.on("error", () => undefined);
  const keys: JwtKeys = { current: { kid: "t1", secret: randomBytes(32).toString("hex") } };
  const tokens = new TokenService({ keys, redis: kv, accessTtlSeconds: 600 });
  return {
    redis,
    dbUrl,
    pool,
    kv,
    keys,
    tokens,
    async seed(n) {
      const prefix = `u${process.pid}_${++seq}`;
      const users = await pool.query<{ id: string }>(
        `INSERT INTO users (username, display_name, password_hash)
         SELECT $2 || '_' || g, 'User ' || g, 'not-a-login' FROM generate_series(1, $1) g RETURNING id`,
        [n, prefix],
      );
      const userIds = users.rows.map((r) => r.id);
      const room = await pool.query<{ id: string }>(`INSERT INTO rooms (name, created_by) VALUES ('room', $1) RETURNING id`, [userIds[0]]);
      const roomId = room.rows[0].id;
      await pool.query(`INSERT INTO room_members (room_id, user_id) SELECT $1, unnest($2::uuid[])`, [roomId, userIds]);
      return { userIds, roomId };
    },
    async token(userId, sessionId = randomUUID()) {
      return (await tokens.sign(userId, sessionId)).token;
    },
    env(port, extra = {}) {
      return {
        PATH: process.env.PATH,
        NODE_ENV: "test",
        PORT: String(port),
        ENV: "test",
        LOG_LEVEL: "error",
        DATABASE_URL: dbUrl,
        DB_POOL_MAX: "4",
        REDIS_URL: redis.url,
        JWT_KEYS: JSON.stringify(keys),
        PING_INTERVAL_MS: "1000",
        PING_TIMEOUT_MS: "1000",
        METRICS_INTERVAL_MS: "60000",
        ...extra,
      };
    },
    async close() {
      kv.disconnect();
      await pool.end();
      await redis.stop();
    },
  };
}

export interface Proc {
  port: number;
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** Sends a signal and resolves with the exit code and the time it took. */
  signal(sig: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
  stop(): Promise<void>;
}

/** Starts `apps/realtime/src/main.ts` as a child process and waits until `/ready` answers 200. */
export async function spawnRealtime(f: Fixture, extra: Record<string, string> = {}): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "apps/realtime/src/main.ts")], {
    cwd: ROOT,
    env: f.env(port, extra),
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null }>((resolve) => child.once("exit", (code) => resolve({ code })));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`realtime exited with ${child.exitCode}: ${err}`);
    try {
      const r = await fetch(`${url}/ready`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`realtime on ${port} not ready within 20 s: ${err}`);
    }
    await sleep(100);
  }
  const signal = async (sig: NodeJS.Signals) => {
    const t0 = Date.now();
    if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, ms: 0 };
    child.kill(sig);
    const { code } = await exited;
    return { code, ms: Date.now() - t0 };
  };
  return {
    port,
    url,
    child,
    stderr: () => err,
    signal,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await signal("SIGTERM");
      clearTimeout(t);
    },
  };
}

export interface Client {
  socket: ChatClientSocket;
  events: { event: string; args: any[] }[];
  /** Waits for the first event named `event` (after index `from`) matching `where`. */
  next(event: string, where?: (arg: any) => boolean, timeoutMs?: number, from?: number): Promise<any>;
  of(event: string): any[];
  close(): void;
}

export function client(url: string, token: string | undefined, opts: Partial<ManagerOptions & SocketOptions> = {}): Client {
  const socket: ChatClientSocket = connect(url, {
    transports: ["websocket"],
    reconnection: false,
    ...(token === undefined ? {} : { auth: { token } }),
    ...opts,
  });
  const events: Client["events"] = [];
  socket.onAny((event: string, ...args: any[]) => events.push({ event, args }));
  socket.on("connect", () => events.push({ event: "connect", args: [] }));
  socket.on("disconnect", (reason) => events.push({ event: "disconnect", args: [reason] }));
  socket.on("connect_error", (err) => events.push({ event: "connect_error", args: [err] }));
  return {
    socket,
    events,
    async next(event, where = () => true, timeoutMs = 5000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.slice(from).find((e) => e.event === event && where(e.args[0]));
        if (hit) return hit.args[0];
        if (Date.now() > deadline) {
          throw new Error(`no matching "${event}" within ${timeoutMs} ms; got ${events.map((e) => e.event).join(", ") || "nothing"}`);
        }
        await sleep(10);
      }
    },
    of(event) {
      return events.filter((e) => e.event === event).map((e) => e.args[0]);
    },
    close() {
      socket.io.opts.reconnection = false;
      socket.disconnect();
    },
  };
}

/** Connects and resolves once connected (rejects with the connect_error). */
export async function connected(url: string, token: string, opts: Partial<ManagerOptions & SocketOptions> = {}): Promise<Client> {
  const c = client(url, token, opts);
  await new Promise<void>((resolve, reject) => {
    c.socket.once("connect", () => resolve());
    c.socket.once("connect_error", (err) => reject(err));
  });
  return c;
}

/** Sends `message:send` and resolves with the acknowledgement (`payload` may break the contract on purpose). */
export function send(c: Client, payload: SendPayload | Record<string, unknown> | null, timeoutMs = 5000): Promise<SendAck> {
  return c.socket.timeout(timeoutMs).emitWithAck("message:send", payload as SendPayload);
}

/**
 * A TCP load balancer on loopback standing in for the ALB: each new connection goes to the next backend in
 * rotation that is still registered. `deregister` takes a backend out for new connections (as the ALB does
 * before ECS sends SIGTERM); existing connections are left alone.
 */
export interface Balancer {
  url: string;
  deregister(port: number): void;
  close(): Promise<void>;
}

export async function balancer(backends: number[]): Promise<Balancer> {
  const { createServer, connect: tcp } = await import("node:net");
  const live = [...backends];
  let next = 0;
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((inbound) => {
    if (live.length === 0) return inbound.destroy();
    const port = live[next++ % live.length];
    const outbound = tcp(port, "127.0.0.1");
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("close", () => outbound.destroy());
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    deregister(p) {
      const i = live.indexOf(p);
      if (i >= 0) live.splice(i, 1);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
