import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { runChecks, gracefulShutdown } from "../src/http";
import { createLogger, correlationId } from "../src/log";

test("readiness reports every check by name, with timeouts", async () => {
  const r = await runChecks(
    { db: async () => undefined, redis: async () => { throw new Error("redis connection is reconnecting"); }, slow: () => new Promise((res) => setTimeout(res, 500)) },
    50,
  );
  assert.equal(r.ok, false);
  assert.deepEqual(r.checks, { db: "ok", redis: "redis connection is reconnecting", slow: "slow did not answer within 50 ms" });
  assert.equal((await runChecks({ db: async () => undefined })).ok, true);
});

test("shutdown runs steps in order on SIGTERM, a failing step does not stop the rest, exit 0", async () => {
  // A real process and a real SIGTERM: jest's test context does not own the process's signal handlers.
  const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "fixtures/shutdown-child.ts")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!out.includes("ready\n") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(out.includes("ready\n"), `the child process never got ready: ${out}`);
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.deepEqual(out.trim().split("\n").filter((l) => l.startsWith("step ")), ["step stop", "step drain", "step close"]);
});

test("shutdown past its deadline exits 1", async () => {
  let code = -1;
  const s = gracefulShutdown({ steps: [{ name: "hang", run: () => new Promise((r) => setTimeout(r, 1000)) }], timeoutMs: 50, exit: (c) => { code = c; }, signals: [] });
  assert.equal(await s.shutdown("test"), 1);
  assert.equal(code, 1);
});

test("logs are JSON with level, service, correlation id, and secrets redacted", () => {
  const lines: string[] = [];
  const dest = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  const log = createLogger({ service: "chat-dev-api", destination: dest as never });
  log.child({ correlationId: correlationId("abc-123") }).info({ password: "hunter2", body: { refreshToken: "r" } }, "login");
  const line = JSON.parse(lines[0]);
  assert.deepEqual([line.level, line.service, line.correlationId, line.msg, line.password, line.body.refreshToken], ["INFO", "chat-dev-api", "abc-123", "login", "[redacted]", "[redacted]"]);
  assert.match(correlationId("bad id with spaces"), /^[0-9a-f-]{36}$/);
});
