import assert from "node:assert/strict";
import { Env, ConfigError, loadServiceConfig } from "../src/config";

const KEYS = JSON.stringify({ current: { kid: "k2", secret: "c".repeat(32) }, previous: { kid: "k1", secret: "p".repeat(32) } });

test("local config: URLs, defaults and the derived service name", () => {
  const cfg = loadServiceConfig("api", {
    DATABASE_URL: "postgres://u@127.0.0.1:5432/chat",
    REDIS_URL: "redis://127.0.0.1:6379",
    JWT_KEYS: KEYS,
    ENV: "dev",
  });
  assert.equal(cfg.serviceName, "chat-dev-api");
  assert.equal(cfg.port, 3000);
  assert.equal(cfg.logLevel, "info");
  assert.deepEqual(cfg.db, { kind: "url", url: "postgres://u@127.0.0.1:5432/chat", poolMax: 10 });
  assert.equal(cfg.redis.kind, "url");
  assert.equal(cfg.jwtKeys.previous?.kid, "k1");
});

test("AWS config: DB_* with IAM auth and REDIS_* with TLS", () => {
  const cfg = loadServiceConfig("realtime", {
    PROJECT: "chat", ENV: "10k-dau", PORT: "3001",
    DB_HOST: "proxy.example", DB_NAME: "chat", DB_USER: "chat_app", DB_IAM_AUTH: "true",
    REDIS_HOST: "redis.example", REDIS_AUTH_TOKEN: "t".repeat(20),
    JWT_KEYS: KEYS,
    PUSH_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/chat-10k-dau-push",
  }, 3001);
  assert.equal(cfg.db.kind, "params");
  if (cfg.db.kind === "params") {
    assert.equal(cfg.db.ssl, "require");
    assert.equal(cfg.db.iamAuth, true);
    assert.equal(cfg.db.port, 5432);
  }
  assert.deepEqual(cfg.redis, { kind: "params", host: "redis.example", port: 6379, tls: true, authToken: "t".repeat(20) });
  assert.equal(cfg.serviceName, "chat-10k-dau-realtime");
});

test("every problem is reported at once, naming the variable and the fix", () => {
  let err: unknown;
  try {
    loadServiceConfig("api", { PORT: "abc", LOG_LEVEL: "loud", DB_HOST: "h", DB_NAME: "n", DB_USER: "u", REDIS_URL: "http://x", JWT_KEYS: '{"current":{"kid":"k","secret":"short"}}' });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  const msg = (err as Error).message;
  assert.match(msg, /PORT="abc" is not an integer/);
  assert.match(msg, /LOG_LEVEL="loud" is not allowed: use one of fatal, error, warn, info, debug, trace, silent/);
  assert.match(msg, /DB_PASSWORD is required when DB_IAM_AUTH is not true/);
  assert.match(msg, /REDIS_URL must use one of the schemes redis, rediss/);
  assert.match(msg, /JWT_KEYS.current.secret must be a string of at least 32 characters/);
  assert.equal((err as ConfigError).problems.length, 5);
});

test("missing JWT_KEYS and database settings say what to set", () => {
  assert.throws(() => loadServiceConfig("api", { REDIS_URL: "redis://h" }), (e: Error) =>
    /JWT_KEYS is required: JSON/.test(e.message) && /DB_HOST is required: set DATABASE_URL/.test(e.message));
});

test("Env helpers: bool, int range, json, url", () => {
  const env = new Env({ A: "yes", B: "0", N: "70000", J: "{bad", U: "not a url" });
  assert.equal(env.bool("A"), true);
  assert.equal(env.bool("B"), false);
  env.int("N", { min: 1, max: 65535 });
  env.json("J");
  env.url("U");
  assert.equal(env.int("MISSING", { default: 7 }), 7);
  assert.throws(() => env.done(), (e: ConfigError) =>
    e.problems.length === 3 && /N=70000 is out of range/.test(e.message) && /J is not valid JSON/.test(e.message) && /U is not a valid URL/.test(e.message));
});
