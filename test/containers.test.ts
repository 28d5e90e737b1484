/**
 * Each service's Dockerfile, replayed without a Docker engine (test/support/dockerfile.ts): its COPY and RUN
 * lines run in a clean temporary folder (the bundle is built by the same command, production packages are
 * installed the same way), then the service starts from the result, exactly as the image's CMD says, against
 * real Postgres, Redis and local SQS. `/health` must answer, the image's own HEALTHCHECK command must pass,
 * and SIGTERM must stop it cleanly. The api image also runs its one-off `migrate` command.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { createTestDatabase } from "./support/postgres";
import { freePort, startRedis, type TestRedis } from "./support/redis";
import { startSqs, type TestSqs } from "./support/sqs";
import { parseDockerfile, replayDockerfile, type ReplayResult } from "./support/dockerfile";

const root = join(__dirname, "..");
const PORTS: Record<string, number> = { api: 3000, realtime: 3001, workers: 3002 };
// Every service is replayed; a missing entry point fails its test (below) instead of dropping the service.
const services = Object.keys(PORTS);

let redis: TestRedis;
let sqs: TestSqs;
let baseEnv: Record<string, string>;
// The replays run side by side (they mostly wait on npm and esbuild); each test then checks its own.
const replays = new Map<string, Promise<ReplayResult>>();

beforeAll(async () => {
  for (const svc of services) {
    const replay = replayDockerfile(join(root, "apps", svc, "Dockerfile"), {
      contextDir: root,
      // The registry is reachable, but the local cache already holds every locked package.
      runEnv: { npm_config_prefer_offline: "true", npm_config_update_notifier: "false" },
    });
    replay.catch(() => {}); // reported by the service's test
    replays.set(svc, replay);
  }
  const [databaseUrl, r, s] = await Promise.all([createTestDatabase("containers"), startRedis(), startSqs()]);
  redis = r;
  sqs = s;
  const push = await sqs.client.send(new CreateQueueCommand({ QueueName: "chat-test-push", Attributes: { VisibilityTimeout: "5" } }));
  const offline = await sqs.client.send(new CreateQueueCommand({ QueueName: "chat-test-offline", Attributes: { VisibilityTimeout: "5" } }));
  baseEnv = {
    PROJECT: "chat",
    ENV: "test",
    LOG_LEVEL: "warn",
    DATABASE_URL: databaseUrl,
    DB_SSL: "disable",
    REDIS_URL: redis.url,
    JWT_KEYS: JSON.stringify({ current: { kid: "k1", secret: "container-test-signing-secret-0123456789" } }),
    SQS_ENDPOINT: sqs.endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    PUSH_QUEUE_URL: push.QueueUrl!,
    OFFLINE_QUEUE_URL: offline.QueueUrl!,
    PUSH_GATEWAY_URL: "http://127.0.0.1:9/push",
    PUSH_GATEWAY_SECRET: "container-test-gateway-secret-0123456789",
    SQS_WAIT_TIME_S: "1",
    VISIBILITY_TIMEOUT_S: "5",
    SHUTDOWN_GRACE_MS: "2000",
  };
});

afterAll(async () => {
  await Promise.all([redis?.stop(), sqs?.stop()]);
  for (const replay of replays.values()) await replay.then((r) => r.cleanup(), () => {});
});

/** The child gets only what a container would: the image's ENV plus the task's variables (and PATH for node). */
function containerEnv(replay: ReplayResult, port: number): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: replay.runtimeWorkdir, ...replay.runtimeEnv, ...baseEnv, PORT: String(port) };
}

async function waitForHealth(url: string, child: { exitCode: number | null }, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}) before /health answered:\n${output()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no 200 from ${url} within 20 s:\n${output()}`);
}

test("every service has its entry point (apps/<service>/src/main.ts)", () => {
  assert.deepEqual(services, ["api", "realtime", "workers"]);
  const missing = services.filter((s) => !existsSync(join(root, "apps", s, "src", "main.ts")));
  assert.deepEqual(missing, [], "entry points missing");
});

test("every image in apps/ is a replayed service, except the operators' toolbox (its own image, test/toolbox.test.ts)", () => {
  const images = readdirSync(join(root, "apps")).filter((d) => existsSync(join(root, "apps", d, "Dockerfile"))).sort();
  expect(images).toEqual([...services, "toolbox"].sort());
  // the toolbox runs psql and redis-cli on demand; it has no long-running service to start
  assert.equal(existsSync(join(root, "apps", "toolbox", "src", "main.ts")), false);
});

test("every Dockerfile is a two-stage build on a pinned Node LTS (22 or 24) whose runtime stage runs as a non-root user with /tmp as a volume", () => {
  for (const svc of Object.keys(PORTS)) {
    const file = join(root, "apps", svc, "Dockerfile");
    assert.ok(existsSync(file), `apps/${svc}/Dockerfile exists`);
    const { stages } = parseDockerfile(readFileSync(file, "utf8"));
    assert.equal(stages.length, 2, `${svc}: build + runtime stages`);
    // a full version (major.minor.patch) of an LTS line still supported, Debian slim; never a floating tag
    for (const s of stages) assert.match(s.image, /^node:(22|24)\.\d+\.\d+-(bookworm|trixie)-slim(@sha256:[0-9a-f]{64})?$/, `${svc}: base image`);
    const runtime = stages[1].instructions;
    // ECS copies an image path into the task volume mounted there only when the image declares it a VOLUME
    const volumeAt = runtime.findIndex((i) => i.op === "VOLUME" && /"\/tmp"/.test(i.args));
    assert.ok(volumeAt >= 0, `${svc}: VOLUME ["/tmp"] in the runtime stage, so the read-only task keeps a writable /tmp`);
    const user = runtime.find((i) => i.op === "USER")?.args;
    assert.ok(user && user !== "root" && user !== "0", `${svc}: USER is not root (${user})`);
    assert.ok(runtime.some((i) => i.op === "RUN" && /npm ci\b.*--omit=dev/.test(i.args)), `${svc}: production install`);
    assert.deepEqual(
      runtime.filter((i) => i.op === "EXPOSE").map((i) => i.args),
      [String(PORTS[svc])],
      `${svc}: EXPOSE ${PORTS[svc]}`,
    );
    assert.match(runtime.find((i) => i.op === "HEALTHCHECK")?.args ?? "", /\/health\b/, `${svc}: HEALTHCHECK on /health`);
  }
});

for (const svc of services) {
  test(`the ${svc} image, replayed: builds, installs production packages only, starts, passes its HEALTHCHECK, stops on SIGTERM`, async () => {
    const replay = await replays.get(svc)!;
    // The only step not performed as written: the build stage's full workspace install (see support/dockerfile.ts).
    assert.deepEqual(replay.substitutions.map((x) => x.split(":")[0]), ["build"]);
    const app = replay.runtimeWorkdir;
    // What the runtime stage holds: the bundle, migrations, production packages; no sources, no toolchain.
    assert.ok(existsSync(join(app, "bin", "main.js")), "bin/main.js");
    assert.ok(existsSync(join(app, "migrations")), "migrations/");
    const modules = readdirSync(join(app, "node_modules"));
    for (const dev of ["typescript", "tsx", "esbuild", "local-aws-sqs", "@pulumi", "@electric-sql"]) {
      assert.ok(!modules.includes(dev), `${dev} is not in the runtime image`);
    }
    assert.ok(!existsSync(join(app, "src")) && !existsSync(join(app, "apps")), "no TypeScript sources in the runtime stage");
    const pkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    for (const name of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(app, "node_modules", name)), `${name} installed`);

    const port = await freePort();
    const env = containerEnv(replay, port);
    if (svc === "api") {
      // The one-off migrate command the stacks run before a rollout, from the same image.
      const migrate = spawnSync("node", ["bin/migrate.js"], { cwd: app, env, encoding: "utf8" });
      assert.equal(migrate.status, 0, `migrate: ${migrate.stdout}${migrate.stderr}`);
      assert.match(migrate.stdout, /schema at version/);
    }
    const [cmd, ...args] = replay.cmd!;
    const child = spawn(cmd, args, { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitForHealth(`http://127.0.0.1:${port}/health`, child, () => output);
      const [hc, ...hcArgs] = replay.healthcheck!;
      const check = spawnSync(hc, hcArgs, { cwd: app, env, encoding: "utf8", timeout: 5000 });
      assert.equal(check.status, 0, `HEALTHCHECK passes: ${check.stderr}`);
      const wrongPort = spawnSync(hc, hcArgs, { cwd: app, env: { ...env, PORT: String(await freePort()) }, timeout: 5000 });
      assert.notEqual(wrongPort.status, 0, "HEALTHCHECK fails when nothing answers");
      child.kill("SIGTERM");
      assert.equal(await exited, 0, `clean exit on SIGTERM:\n${output.slice(-2000)}`);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
}
