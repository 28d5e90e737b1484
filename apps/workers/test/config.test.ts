/** Workers configuration: defaults, derived values, and one clear message per bad variable. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadWorkersConfig } from "../src/config";

const base = {
  DATABASE_URL: "postgres://app@127.0.0.1:5432/chat",
  PUSH_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/chat-dev-push",
  OFFLINE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/chat-dev-offline",
  PUSH_GATEWAY_URL: "https://push.example.com/v1/notify",
  PUSH_GATEWAY_SECRET: "s".repeat(32),
};

test("defaults: port 3002, 20 jobs per queue, 20 s long polls, visibility sized from the job timeout", () => {
  const c = loadWorkersConfig(base);
  assert.equal(c.port, 3002);
  assert.equal(c.serviceName, "chat-local-workers");
  assert.equal(c.concurrency, 20);
  assert.equal(c.waitTimeS, 20);
  assert.equal(c.jobTimeoutMs, 30_000);
  assert.equal(c.visibilityTimeoutS, 60, "job timeout + 30 s");
  assert.equal(c.pushAttemptTimeoutMs, 5000);
  assert.equal(c.sqsEndpoint, undefined);
  assert.deepEqual(c.push, { queueUrl: base.PUSH_QUEUE_URL, gatewayUrl: base.PUSH_GATEWAY_URL, gatewaySecret: base.PUSH_GATEWAY_SECRET });
  const longJobs = loadWorkersConfig({ ...base, JOB_TIMEOUT_MS: "120000", PROJECT: "chat", ENV: "10k-dau" });
  assert.equal(longJobs.visibilityTimeoutS, 150);
  assert.equal(longJobs.serviceName, "chat-10k-dau-workers");
});

const cases: [string, Record<string, string | undefined>, RegExp][] = [
  ["a short gateway secret", { PUSH_GATEWAY_SECRET: "short" }, /PUSH_GATEWAY_SECRET must be at least 32 characters/],
  ["a visibility timeout not above the wait", { VISIBILITY_TIMEOUT_S: "5", SQS_WAIT_TIME_S: "5" }, /VISIBILITY_TIMEOUT_S=5 must be above SQS_WAIT_TIME_S=5: raise the visibility timeout or shorten the wait/],
  ["a queue URL that is not a URL", { PUSH_QUEUE_URL: "chat-dev-push" }, /PUSH_QUEUE_URL is not a valid URL: the SQS queue URL \(stack outputs pushQueueUrl \/ offlineQueueUrl\)/],
  ["zero concurrency", { WORKER_CONCURRENCY: "0" }, /WORKER_CONCURRENCY=0 is out of range: use a value between 1 and 200/],
  ["a gateway URL with another scheme", { PUSH_GATEWAY_URL: "ftp://push.example.com" }, /PUSH_GATEWAY_URL must use one of the schemes http, https/],
  ["a wait above the SQS maximum", { SQS_WAIT_TIME_S: "21" }, /SQS_WAIT_TIME_S=21 is out of range: use a value between 0 and 20/],
  ["a gateway URL that is not a URL", { PUSH_GATEWAY_URL: "push.example.com" }, /PUSH_GATEWAY_URL is not a valid URL: the HTTP endpoint that accepts signed push notifications/],
  ["a gateway URL without its secret", { PUSH_GATEWAY_SECRET: undefined }, /PUSH_GATEWAY_SECRET is required: the HMAC key shared with the push gateway \(at least 32 characters, from Secrets Manager\)/],
];
for (const [what, env, message] of cases) {
  test(`refused with the variable named: ${what}`, () => {
    assert.throws(() => loadWorkersConfig({ ...base, ...env }), message);
  });
}

test("every problem is reported at once", () => {
  assert.throws(
    () => loadWorkersConfig({ PUSH_GATEWAY_URL: base.PUSH_GATEWAY_URL }),
    (err: Error) => {
      for (const v of ["DB_HOST", "OFFLINE_QUEUE_URL", "PUSH_GATEWAY_SECRET"]) assert.match(err.message, new RegExp(`${v} is required`));
      assert.match(err.message, /PUSH_QUEUE_URL and PUSH_GATEWAY_URL go together/);
      return true;
    },
  );
});

test("push delivery off: without PUSH_QUEUE_URL and PUSH_GATEWAY_URL no push settings, and no gateway secret needed", () => {
  const { PUSH_QUEUE_URL: _q, PUSH_GATEWAY_URL: _g, PUSH_GATEWAY_SECRET: _s, ...offlineOnly } = base;
  const c = loadWorkersConfig(offlineOnly);
  assert.equal(c.push, undefined);
  assert.equal(c.offlineQueueUrl, base.OFFLINE_QUEUE_URL);
  // A leftover secret without a gateway is ignored, not an error.
  assert.equal(loadWorkersConfig({ ...offlineOnly, PUSH_GATEWAY_SECRET: "short" }).push, undefined);
});

const ONE_ONLY = "PUSH_QUEUE_URL and PUSH_GATEWAY_URL go together";
const FIX = "set both to deliver push notifications, or unset both to run without push (offline digests only)";
const oneOnly: [string, Record<string, string | undefined>, string][] = [
  ["the queue without the gateway", { PUSH_GATEWAY_URL: undefined, PUSH_GATEWAY_SECRET: undefined }, `${ONE_ONLY}: PUSH_QUEUE_URL is set but PUSH_GATEWAY_URL is not; ${FIX}`],
  ["the gateway without the queue", { PUSH_QUEUE_URL: undefined }, `${ONE_ONLY}: PUSH_GATEWAY_URL is set but PUSH_QUEUE_URL is not; ${FIX}`],
  ["a blank queue URL next to a gateway", { PUSH_QUEUE_URL: "  " }, `${ONE_ONLY}: PUSH_GATEWAY_URL is set but PUSH_QUEUE_URL is not; ${FIX}`],
];
for (const [what, env, line] of oneOnly) {
  test(`refused, naming both variables and the fix: ${what}`, () => {
    assert.throws(() => loadWorkersConfig({ ...base, ...env }), { name: "ConfigError", message: `invalid configuration:\n  - ${line}` });
  });
}

test("the entry point exits with code 2 and names both variables when only one of them is set", () => {
  const out = spawnSync(process.execPath, ["--import", "tsx", "apps/workers/src/main.ts"], {
    cwd: join(__dirname, "..", "..", ".."),
    env: { ...process.env, ...base, PUSH_GATEWAY_URL: "", PUSH_GATEWAY_SECRET: "" },
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.equal(out.status, 2, out.stderr);
  assert.equal(out.stderr, `workers: invalid configuration:\n  - ${ONE_ONLY}: PUSH_QUEUE_URL is set but PUSH_GATEWAY_URL is not; ${FIX}\n`);
});
