/**
 * A private redis-server per caller, on a free loopback port. Private servers keep pub/sub channels (which
 * ignore database numbers) from leaking between test files, and let a test restart "its" Redis.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

function redisBin(): string {
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).stdout.trim();
  if (!found) throw new Error('redis-server not found: install it with "apt-get install -y redis-server"');
  return found;
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
  const bin = redisBin();
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
