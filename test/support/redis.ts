/**
 * A private redis-server per caller, on a free loopback port. Private servers keep pub/sub channels (which
 * ignore database numbers) from leaking between test files, and let a test restart "its" Redis.
 *
 * The binary (scripts/local-servers.ts): `redis-server` on PATH when present, else the one redis-memory-server
 * builds once into its cache; TEST_REDIS=system or TEST_REDIS=memory-server chooses. jest's globalSetup resolves
 * it once per run (and fails the run at once, with what to install, when there is none) and hands it to the
 * test processes in TEST_REDIS_BIN.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseRedis } from "../../scripts/local-servers";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  url: string;
  port: number;
  /** Kills the server (SIGKILL, like a crash) and starts it again on the same port, empty. */
  restart(downMs?: number): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered, as a hung Redis looks. */
  freeze(): void;
  /** Resumes a frozen server (SIGCONT). */
  thaw(): void;
  stop(): Promise<void>;
}

/** The redis-server binary for this run: TEST_REDIS_BIN (set by globalSetup), else resolved now. */
export async function redisBin(): Promise<string> {
  if (process.env.TEST_REDIS_BIN) return process.env.TEST_REDIS_BIN;
  const { bin } = await chooseRedis("TEST_REDIS");
  process.env.TEST_REDIS_BIN = bin;
  return bin;
}

async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => { s.destroy(); resolve(true); });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
}

export async function startRedis(): Promise<TestRedis> {
  const bin = await redisBin();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "chat-redis-"));
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
      stdio: "ignore",
    });
    await waitForPort(port);
  };
  const kill = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill(signal);
    });
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart(downMs = 500) {
      await kill("SIGKILL");
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    freeze() {
      child?.kill("SIGSTOP");
    },
    thaw() {
      child?.kill("SIGCONT");
    },
    async stop() {
      child?.kill("SIGCONT"); // a stopped process would not act on SIGTERM
      await kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
