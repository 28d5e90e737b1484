/**
 * Start-up and the per-task / proxy-aware connection limits: a malformed variable stops the process with
 * exit code 2 and a message naming it; behind a trusted proxy the client IP is the X-Forwarded-For entry the
 * proxy appended (the last one for one hop), so a forged first entry changes nothing; a full task refuses
 * with `server_full`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { startRealtime, type RunningRealtime } from "../src/app";
import { fixture, client, connected, type Fixture, type Client } from "./helpers";
import { freePort } from "../../../test/support/redis";

let f: Fixture;
let rt: RunningRealtime | undefined;
const open: Client[] = [];

beforeAll(async () => {
  f = await fixture();
});

afterAll(async () => {
  for (const c of open) c.close();
  await rt?.stop(500);
  await f?.close();
});

function run(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const root = join(__dirname, "..", "..", "..");
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "apps/realtime/src/main.ts")], { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

test("a malformed variable stops the start with exit code 2, naming the variable and the fix", async () => {
  const bad = await run(f.env(await freePort(), { MAX_CONNECTIONS_PER_IP: "ten" }));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /MAX_CONNECTIONS_PER_IP must be a whole number >= 1 \(got "ten"\)/);

  const env = f.env(await freePort());
  delete env.JWT_KEYS;
  const missing = await run(env);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /JWT_KEYS is required/);
});

test("behind a trusted proxy: per-IP limit by the entry the proxy appended, whatever the client put first; a full task answers server_full", async () => {
  const { userIds } = await f.seed(4);
  rt = await startRealtime({
    // Sessions per IP far above the engine cap, and bare sessions kept open for up to a minute (connect
    // timeout, pings far apart), so the handshakes below reach that cap however slowly they arrive.
    env: f.env(await freePort(), {
      TRUST_PROXY_HOPS: "1", MAX_CONNECTIONS_PER_TASK: "3", MAX_CONNECTIONS_PER_IP: "2", MAX_SESSIONS_PER_IP: "500",
      CONNECT_TIMEOUT_MS: "60000", PING_INTERVAL_MS: "25000", PING_TIMEOUT_MS: "20000",
    }),
    host: "127.0.0.1",
    writeMetric: () => undefined,
  });
  const url = `http://127.0.0.1:${rt.port}`;
  // `forged` is what the client sent; `ip` is what the ALB appended (the address it saw).
  const from = (ip: string, forged?: string) => ({ extraHeaders: { "x-forwarded-for": forged ? `${forged}, ${ip}` : ip } });
  for (const i of [0, 1]) open.push(await connected(url, await f.token(userIds[i]), from("203.0.113.1", `198.51.100.${i}`)));

  // A third connection from the same address with yet another forged first entry is still the same client.
  const sameIp = client(url, await f.token(userIds[2]), from("203.0.113.1", "198.51.100.99"));
  open.push(sameIp);
  assert.equal((await sameIp.next("connect_error")).data.code, "too_many_connections_from_ip");

  open.push(await connected(url, await f.token(userIds[2]), from("203.0.113.2")));
  const full = client(url, await f.token(userIds[3]), from("203.0.113.3"));
  open.push(full);
  const err = await full.next("connect_error");
  assert.equal(err.data.code, "server_full");
  assert.match(err.message, /maximum of 3 connections/);

  // Engine.IO's own cap (1.1 x the task limit + 100 sessions, here 104) refuses bare handshakes with 403
  // before Socket.IO sees them; each refusal is counted as server_full.
  const before = rt.server.metrics.rejectionTotals().server_full ?? 0;
  const statuses: number[] = [];
  for (let i = 0; i < 110; i++) {
    const r = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
    statuses.push(r.status);
    await r.text();
  }
  const refusedCount = statuses.filter((st) => st === 403).length;
  assert.ok(refusedCount >= 6, `403s: ${refusedCount}`);
  assert.equal(rt.server.metrics.rejectionTotals().server_full, before + refusedCount);
});
