/**
 * `npm run dev` smoke test: with no DATABASE_URL, REDIS_URL or SQS_ENDPOINT the script starts a PostgreSQL
 * cluster of its own (here the npm-installed embedded binaries, DEV_POSTGRES=embedded, as on a machine with only
 * Node.js), a local redis-server and local-aws-sqs, migrates, starts every service, and they all answer their
 * health and readiness endpoints; concurrent posts each get their own message back (a single shared database
 * session would mix them up); SIGINT (Ctrl-C) stops everything and the script exits 0.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./support/redis";
import { choosePostgres, stopPostgresCluster } from "../scripts/local-servers";

const root = join(__dirname, "..");

// Longer than the readiness deadline below, so that a slow start fails with dev's output rather than a bare timeout.
test("npm run dev starts the services on embedded dependencies and stops everything on SIGINT", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "chat-dev-test-"));
  chmodSync(dataDir, 0o755); // reachable by the postgres user the server runs as when we are root
  const ports = { api: await freePort(), realtime: await freePort(), workers: await freePort() };
  const env: NodeJS.ProcessEnv = { ...process.env, DEV_DATA_DIR: dataDir, LOG_LEVEL: "warn", DEV_POSTGRES: "embedded" };
  for (const k of ["DEV_REDIS", "DATABASE_URL", "REDIS_URL", "SQS_ENDPOINT", "PUSH_QUEUE_URL", "OFFLINE_QUEUE_URL", "PUSH_GATEWAY_URL", "JWT_KEYS", "NODE_ENV"]) delete env[k];
  Object.assign(env, { API_PORT: String(ports.api), REALTIME_PORT: String(ports.realtime), WORKERS_PORT: String(ports.workers) });

  // Its own process group, so the SIGINT below reaches the whole group, as Ctrl-C in a terminal does.
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const deadline = Date.now() + 150_000;
    while (!output.includes("press Ctrl-C to stop")) {
      if (child.exitCode !== null) assert.fail(`npm run dev exited (${child.exitCode}):\n${output.slice(-3000)}`);
      if (Date.now() > deadline) assert.fail(`npm run dev was not ready within 150 s:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(output, /postgres: embedded PostgreSQL \(DEV_POSTGRES=embedded\) on 127\.0\.0\.1:\d+/);
    assert.match(output, /redis: local redis-server/);
    assert.match(output, /sqs: local-aws-sqs/);
    assert.match(output, /migrations: schema at version \d+/);
    assert.match(output, new RegExp(`workers +http://127\\.0\\.0\\.1:${ports.workers}`));

    const probes: [string, string][] = [[`http://127.0.0.1:${ports.workers}/health`, "workers"], [`http://127.0.0.1:${ports.workers}/ready`, "workers ready"]];
    if (output.includes(`api       http://127.0.0.1:${ports.api}`)) {
      probes.push([`http://127.0.0.1:${ports.api}/api/health`, "api"], [`http://127.0.0.1:${ports.api}/api/ready`, "api ready"]);
    }
    if (output.includes(`realtime  http://127.0.0.1:${ports.realtime}`)) probes.push([`http://127.0.0.1:${ports.realtime}/health`, "realtime"]);
    for (const [url, what] of probes) {
      const res = await fetch(url);
      assert.equal(res.status, 200, `${what}: ${url} -> ${res.status} ${await res.text()}`);
    }
    // Bound to loopback: the api is not reachable on the machine's other addresses (no proxy vouches for them).
    for (const addr of Object.values(networkInterfaces()).flat()) {
      if (!addr || addr.internal || addr.family !== "IPv4") continue;
      await assert.rejects(fetch(`http://${addr.address}:${ports.api}/api/health`), `api answered on ${addr.address}`);
    }
    if (output.includes(`api       http://127.0.0.1:${ports.api}`)) await concurrentPostsKeepTheirOwnResults(ports.api);

    process.kill(-child.pid!, "SIGINT");
    assert.equal(await exited, 0, `exit code after SIGINT:\n${output.slice(-3000)}`);
    assert.match(output, /\[dev\] stopped/);
    const exits = [...output.matchAll(/\[dev\] (\w+) exited with code (\S+)/g)].map((m) => `${m[1]}=${m[2]}`);
    assert.deepEqual(exits.filter((e) => !e.endsWith("=0")), [], `every service shut down cleanly: ${exits.join(", ")}`);
    assert.ok(exits.length >= 1);
    for (const [url] of probes) await assert.rejects(fetch(url), `${url} no longer answers`);
  } finally {
    // After a failure too: neither dev nor its own cluster may outlive the test.
    if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
    const cluster = join(dataDir, "postgres-embedded");
    if (existsSync(join(cluster, "postmaster.pid"))) {
      try {
        stopPostgresCluster(choosePostgres("DEV_POSTGRES", { DEV_POSTGRES: "embedded" }), cluster);
      } catch {
        /* already stopping */
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 200_000);

/**
 * Four users post five messages each, all twenty in flight at once, through the api on dev's database. Each
 * answer must carry the message its request sent, by its author, in its room.
 */
async function concurrentPostsKeepTheirOwnResults(port: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const call = async (token: string | undefined, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const users: { id: string; token: string; name: string }[] = [];
  for (const name of ["ann", "ben", "cat", "dan"]) {
    const r = await call(undefined, "POST", "/api/auth/register", { username: `${name}${Date.now() % 100000}`, password: "correct horse battery" });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    users.push({ id: r.json.user.id, token: r.json.accessToken, name });
  }
  const rooms: string[] = [];
  for (const u of users) {
    const r = await call(u.token, "POST", "/api/rooms", { name: `room-of-${u.name}` });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    rooms.push(r.json.room.id);
  }
  const posts = users.flatMap((u, i) => Array.from({ length: 5 }, (_, k) => ({ u, roomId: rooms[i], body: `${u.name} says ${k}` })));
  const answers = await Promise.all(posts.map((p) => call(p.u.token, "POST", `/api/rooms/${p.roomId}/messages`, { body: p.body, clientMsgId: p.body.replace(/ /g, "-") })));
  const mixed = answers.flatMap((a, i) => {
    const m = a.json.message;
    const p = posts[i];
    return a.status === 201 && m?.body === p.body && m?.authorId === p.u.id && m?.roomId === p.roomId ? [] : [`${p.body}: ${a.status} ${JSON.stringify(a.json)}`];
  });
  assert.deepEqual(mixed, [], "every concurrent post got its own message back");
}
