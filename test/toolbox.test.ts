/**
 * The operators' toolbox image (apps/toolbox/): its Dockerfile's steps, and the `toolbox` helper run for real
 * against PostgreSQL and a password-protected Redis, with a stand-in `aws` command that answers the two calls
 * the helper makes (an IAM token for the proxy, the Redis AUTH secret) and records them.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDockerfile } from "./support/dockerfile";
import { createTestDatabase } from "./support/postgres";
import { startRedis, type TestRedis } from "./support/redis";

const root = join(__dirname, "..");
const DOCKERFILE = join(root, "apps", "toolbox", "Dockerfile");
const HELPER = join(root, "apps", "toolbox", "bin", "toolbox");
const REDIS_TOKEN = "redis-auth-token-0123456789abcdef";

let redis: TestRedis;
let db: URL;
let bin: string;
let calls: string;

/** Writes an executable shell script into the stand-in bin folder. */
function script(name: string, body: string): void {
  const file = join(bin, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
}

function run(args: string[], env: Record<string, string> = {}, path = `${bin}:${process.env.PATH}`) {
  const base: Record<string, string> = {
    PATH: path,
    HOME: bin,
    AWS_REGION: "us-east-1",
    DB_HOST: db.hostname,
    DB_PORT: db.port,
    DB_NAME: db.pathname.slice(1),
    DB_USER: decodeURIComponent(db.username),
    DB_IAM_AUTH: "true",
    PGSSLMODE: "disable",
    REDIS_HOST: "127.0.0.1",
    REDIS_PORT: String(redis.port),
    REDIS_TLS: "false",
    REDIS_AUTH_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:chat-test-redis-auth-token-AbCdEf",
  };
  return spawnSync("sh", [HELPER, ...args], { env: { ...base, ...env }, encoding: "utf8", timeout: 20_000 });
}

const awsCalls = () => readFileSync(calls, "utf8").trim().split("\n").filter(Boolean);

beforeAll(async () => {
  bin = mkdtempSync(join(tmpdir(), "toolbox-bin-"));
  calls = join(bin, "aws-calls.log");
  writeFileSync(calls, "");
  // The stand-in `aws`: records its arguments, answers the two calls the helper makes, fails on anything else.
  script("aws", [
    `echo "$*" >> "${calls}"`,
    'case "$1 $2" in',
    '  "rds generate-db-auth-token") echo "iam-token-for-$4" ;;',
    `  "secretsmanager get-secret-value") echo "${REDIS_TOKEN}" ;;`,
    '  *) echo "unexpected aws call: $*" >&2; exit 1 ;;',
    "esac",
  ].join("\n"));
  const [url, r] = await Promise.all([createTestDatabase("toolbox"), startRedis()]);
  db = new URL(url);
  redis = r;
  const set = spawnSync("redis-cli", ["-p", String(redis.port), "CONFIG", "SET", "requirepass", REDIS_TOKEN], { encoding: "utf8" });
  expect(set.stdout.trim()).toBe("OK");
});

afterAll(async () => {
  await redis?.stop();
  rmSync(bin, { recursive: true, force: true });
});

beforeEach(() => writeFileSync(calls, ""));

describe("apps/toolbox/Dockerfile", () => {
  const parsed = parseDockerfile(readFileSync(DOCKERFILE, "utf8"));
  const steps = parsed.stages.flatMap((s) => s.instructions);
  const runs = steps.filter((i) => i.op === "RUN").map((i) => i.args).join("\n");

  it("installs psql, redis-cli (Debian's build has TLS), the AWS CLI and the CA bundle from Debian 12", () => {
    expect(parsed.args.DEBIAN_IMAGE).toMatch(/^debian:12/);
    const install = /apt-get install -y --no-install-recommends ([^&]+)/.exec(runs);
    expect(install).not.toBeNull();
    expect(install![1]!.trim().split(/\s+/)).toEqual(expect.arrayContaining(["postgresql-client", "redis-tools", "awscli", "ca-certificates"]));
    expect(runs).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
  });

  it("copies the helper from the repository (build context = root), runs as a non-root user and only sleeps", () => {
    const copies = steps.filter((i) => i.op === "COPY").map((i) => i.args.split(/\s+/));
    expect(copies).toContainEqual(["apps/toolbox/bin/toolbox", "/usr/local/bin/toolbox"]);
    expect(statSync(HELPER).mode & 0o111).not.toBe(0);
    const user = steps.filter((i) => i.op === "USER").map((i) => i.args);
    expect(user.length).toBeGreaterThan(0);
    expect(user.at(-1)).not.toMatch(/^(root|0)$/);
    expect(steps.find((i) => i.op === "CMD")?.args).toBe('["sleep", "28800"]');
  });

  it("keeps HOME on /tmp, declared a VOLUME so the read-only task's /tmp volume is writable by the operator user", () => {
    expect(steps.find((i) => i.op === "ENV" && /^HOME=/.test(i.args))?.args).toBe("HOME=/tmp");
    expect(steps.some((i) => i.op === "VOLUME" && /"\/tmp"/.test(i.args))).toBe(true);
  });
});

describe("toolbox helper", () => {
  it("psql signs in with an IAM token for the proxy user, passed in the environment and never on the command line", () => {
    const out = run(["psql", "-tAc", "SELECT current_database()"]);
    expect(out.stderr).toBe("");
    expect(out.stdout.trim()).toBe(db.pathname.slice(1));
    expect(awsCalls()).toEqual([`rds generate-db-auth-token --hostname ${db.hostname} --port ${db.port} --username ${decodeURIComponent(db.username)} --region us-east-1`]);

    // what psql receives: a stand-in psql earlier on PATH reports its arguments and connection environment
    const spy = mkdtempSync(join(tmpdir(), "toolbox-psql-"));
    writeFileSync(join(spy, "psql"), '#!/bin/sh\necho "args=$*"\necho "password=$PGPASSWORD"\necho "sslmode=$PGSSLMODE"\necho "root=$PGSSLROOTCERT"\n');
    chmodSync(join(spy, "psql"), 0o755);
    const seen = run(["psql", "-c", "select 1"], { PGSSLMODE: "" }, `${spy}:${bin}:${process.env.PATH}`);
    rmSync(spy, { recursive: true, force: true });
    const lines = seen.stdout.trim().split("\n");
    expect(lines).toEqual([
      `args=host=${db.hostname} port=${db.port} dbname=${db.pathname.slice(1)} user=${decodeURIComponent(db.username)} -c select 1`,
      `password=iam-token-for-${db.hostname}`,
      "sslmode=verify-full",
      "root=/etc/ssl/certs/ca-certificates.crt",
    ]);
  });

  it("redis-cli authenticates with the token from Secrets Manager (a real server with requirepass)", () => {
    const out = run(["redis-cli", "PING"]);
    expect(out.stdout.trim()).toBe("PONG");
    expect(awsCalls()).toEqual([
      "secretsmanager get-secret-value --secret-id arn:aws:secretsmanager:us-east-1:123456789012:secret:chat-test-redis-auth-token-AbCdEf --query SecretString --output text --region us-east-1",
    ]);
    // without the token the same server refuses: the PONG above came from the helper's AUTH
    const bare = spawnSync("redis-cli", ["-p", String(redis.port), "PING"], { encoding: "utf8" });
    expect(bare.stdout).toMatch(/NOAUTH/);
  });

  it("redis-cli uses TLS with the system CA bundle when REDIS_TLS is true (the stack's setting)", () => {
    const spy = mkdtempSync(join(tmpdir(), "toolbox-redis-"));
    writeFileSync(join(spy, "redis-cli"), '#!/bin/sh\necho "args=$*"\necho "auth=$REDISCLI_AUTH"\n');
    chmodSync(join(spy, "redis-cli"), 0o755);
    const out = run(["redis-cli", "INFO", "memory"], { REDIS_TLS: "true" }, `${spy}:${bin}:${process.env.PATH}`);
    rmSync(spy, { recursive: true, force: true });
    expect(out.stdout.trim().split("\n")).toEqual([
      `args=-h 127.0.0.1 -p ${redis.port} --tls --cacert /etc/ssl/certs/ca-certificates.crt INFO memory`,
      `auth=${REDIS_TOKEN}`,
    ]);
  });

  it("names the missing setting, and refuses an IAM sign-in when the database is not behind the proxy", () => {
    const missing = run(["psql"], { DB_HOST: "" });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/toolbox: DB_HOST is not set; run this inside the toolbox task/);
    const direct = run(["db-token"], { DB_IAM_AUTH: "false" });
    expect(direct.status).toBe(2);
    expect(direct.stderr).toMatch(/DB_IAM_AUTH is false: the database is not behind RDS Proxy/);
    expect(awsCalls()).toEqual([]);
    const unknown = run(["shell"]);
    expect([unknown.status, unknown.stderr.trim()]).toEqual([2, 'toolbox: unknown command "shell"; run toolbox help']);
  });
});
