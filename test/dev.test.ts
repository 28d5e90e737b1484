/**
 * `npm run dev` smoke test: with no DATABASE_URL, REDIS_URL or SQS_ENDPOINT the script starts PGlite, a local
 * redis-server and local-aws-sqs, migrates, starts every service, and they all answer their health and
 * readiness endpoints; SIGINT (Ctrl-C) stops everything and the script exits 0.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./support/redis";

const root = join(__dirname, "..");

test("npm run dev starts the services on embedded dependencies and stops everything on SIGINT", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "chat-dev-test-"));
  const ports = { api: await freePort(), realtime: await freePort(), workers: await freePort() };
  const env: NodeJS.ProcessEnv = { ...process.env, DEV_DATA_DIR: dataDir, LOG_LEVEL: "warn" };
  for (const k of ["DATABASE_URL", "REDIS_URL", "SQS_ENDPOINT", "PUSH_QUEUE_URL", "OFFLINE_QUEUE_URL", "PUSH_GATEWAY_URL", "JWT_KEYS", "NODE_ENV"]) delete env[k];
  Object.assign(env, { API_PORT: String(ports.api), REALTIME_PORT: String(ports.realtime), WORKERS_PORT: String(ports.workers) });

  // Its own process group, so the SIGINT below reaches the whole group, as Ctrl-C in a terminal does.
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const deadline = Date.now() + 120_000;
    while (!output.includes("press Ctrl-C to stop")) {
      if (child.exitCode !== null) assert.fail(`npm run dev exited (${child.exitCode}):\n${output.slice(-3000)}`);
      if (Date.now() > deadline) assert.fail(`npm run dev was not ready within 120 s:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(output, /postgres: embedded PGlite/);
    assert.match(output, /redis: local redis-server/);
    assert.match(output, /sqs: local-aws-sqs/);
    assert.match(output, /migrations: schema at version \d+/);
    // Each service's ready line is required (dev.ts prints it once the service answers /health): a run that
    // starts only some of the services fails here instead of probing fewer of them.
    const ready = (svc: string, port: number) => new RegExp(`^\\[dev\\]\\s+${svc} +http://127\\.0\\.0\\.1:${port} `, "m");
    for (const [svc, port] of Object.entries(ports)) assert.match(output, ready(svc, port), `${svc} printed its ready line`);

    const probes: [string, string][] = [
      [`http://127.0.0.1:${ports.api}/api/health`, "api"],
      [`http://127.0.0.1:${ports.api}/api/ready`, "api ready"],
      [`http://127.0.0.1:${ports.realtime}/health`, "realtime"],
      [`http://127.0.0.1:${ports.workers}/health`, "workers"],
      [`http://127.0.0.1:${ports.workers}/ready`, "workers ready"],
    ];
    for (const [url, what] of probes) {
      const res = await fetch(url);
      assert.equal(res.status, 200, `${what}: ${url} -> ${res.status} ${await res.text()}`);
    }

    process.kill(-child.pid!, "SIGINT");
    assert.equal(await exited, 0, `exit code after SIGINT:\n${output.slice(-3000)}`);
    assert.match(output, /\[dev\] stopped/);
    const exits = [...output.matchAll(/\[dev\] (\w+) exited with code (\S+)/g)].map((m) => `${m[1]}=${m[2]}`);
    assert.deepEqual(exits.filter((e) => !e.endsWith("=0")), [], `every service shut down cleanly: ${exits.join(", ")}`);
    assert.deepEqual(exits.map((e) => e.split("=")[0]).sort(), ["api", "realtime", "workers"], "each service exited once");
    for (const [url] of probes) await assert.rejects(fetch(url), `${url} no longer answers`);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
});
