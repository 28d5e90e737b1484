import assert from "node:assert/strict";
import { PushGatewayClient, PushGatewayError, signBody, verifySignature } from "../src/push-gateway";
import { GATEWAY_SECRET, startSink, type Sink } from "./helpers";

const notification = {
  jobId: "push:1:u1",
  userId: "u1",
  roomId: "r1",
  messageId: "1",
  preview: "hi",
  createdAt: "2026-01-01T00:00:00.000Z",
};

let sink: Sink;
beforeAll(async () => {
  sink = await startSink();
});
afterAll(() => sink.close());

function client(overrides: Partial<ConstructorParameters<typeof PushGatewayClient>[0]> = {}) {
  return new PushGatewayClient({ url: sink.url, secret: GATEWAY_SECRET, attemptTimeoutMs: 500, maxAttempts: 3, baseDelayMs: 10, ...overrides });
}

test("a delivery is signed: the gateway can verify it, and a tampered body or wrong secret fails", async () => {
  sink.requests.length = 0;
  sink.respond = () => ({ status: 202 });
  const result = await client().send(notification);
  assert.deepEqual(result, { status: 202, attempts: 1 });
  const req = sink.requests[0];
  assert.equal(req.headers["idempotency-key"], "push:1:u1");
  assert.deepEqual(JSON.parse(req.body), notification);
  assert.equal(verifySignature(GATEWAY_SECRET, req.headers, req.body), true);
  assert.equal(verifySignature(GATEWAY_SECRET, req.headers, req.body.replace("hi", "ho")), false);
  assert.equal(verifySignature("another-secret-that-is-long-enough-000", req.headers, req.body), false);
  const ts = Number(req.headers["x-chat-timestamp"]);
  assert.equal(verifySignature(GATEWAY_SECRET, req.headers, req.body, { now: ts + 3600 }), false, "stale timestamps are refused");
  // Known answer: HMAC-SHA256("k", "1.b") in hex (as `printf 1.b | openssl dgst -sha256 -hmac k` prints it).
  assert.equal(signBody("k", 1, "b"), "v1=2946e37a45bb02a0bf1bf1a7d9219543801fedd301f9f485aebd72c928639bea");
});

/** Gaps between consecutive gateway requests, in ms. */
const gaps = () => sink.requests.slice(1).map((r, i) => r.at - sink.requests[i].at);

test("5xx answers are retried with backoff (exponential waits checked), then succeed", async () => {
  sink.requests.length = 0;
  sink.respond = () => (sink.requests.length < 3 ? { status: 503 } : { status: 200 });
  // Jitter pinned at 0.5: the waits are half of base x 2^(attempt-1), i.e. 100 ms then 200 ms.
  const result = await client({ baseDelayMs: 200, maxAttempts: 4, random: () => 0.5 }).send(notification);
  assert.deepEqual(result, { status: 200, attempts: 3 });
  assert.equal(sink.requests.length, 3);
  const [first, second] = gaps();
  expect(first).toBeGreaterThanOrEqual(95);
  expect(second).toBeGreaterThanOrEqual(195);
  expect(second).toBeGreaterThan(first);
});

test("the backoff is capped at maxDelayMs", async () => {
  sink.requests.length = 0;
  sink.respond = () => (sink.requests.length < 3 ? { status: 500 } : { status: 200 });
  // Without the cap the second wait would be 0.99 x 4000 ms.
  await client({ baseDelayMs: 2000, maxDelayMs: 150, maxAttempts: 3, random: () => 0.99 }).send(notification);
  expect(Math.max(...gaps())).toBeLessThan(1500);
  expect(Math.min(...gaps())).toBeGreaterThanOrEqual(140);
});

test("a Retry-After from the gateway is waited for instead of the (shorter) backoff", async () => {
  sink.requests.length = 0;
  sink.respond = () => (sink.requests.length === 1 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 });
  const result = await client({ baseDelayMs: 10, random: () => 0.5 }).send(notification);
  assert.deepEqual(result, { status: 200, attempts: 2 });
  expect(gaps()[0]).toBeGreaterThanOrEqual(950);

  // An HTTP-date works too.
  sink.requests.length = 0;
  sink.respond = () => (sink.requests.length === 1 ? { status: 503, headers: { "retry-after": new Date(Date.now() + 2000).toUTCString() } } : { status: 200 });
  await client({ baseDelayMs: 10, random: () => 0.5 }).send(notification);
  expect(gaps()[0]).toBeGreaterThanOrEqual(900);
});

test("permanent refusals (410) are not retried; 401 is retryable so a bad secret never drops jobs silently", async () => {
  sink.requests.length = 0;
  sink.respond = () => ({ status: 410 });
  await assert.rejects(client().send(notification), (err: unknown) => {
    assert.ok(err instanceof PushGatewayError);
    assert.equal(err.retryable, false);
    assert.equal(err.status, 410);
    return true;
  });
  assert.equal(sink.requests.length, 1);

  sink.requests.length = 0;
  sink.respond = () => ({ status: 401 });
  await assert.rejects(client({ maxAttempts: 2 }).send(notification), (err: unknown) => {
    assert.ok(err instanceof PushGatewayError && err.retryable && err.attempts === 2);
    return true;
  });
  assert.equal(sink.requests.length, 2);
});

test("an attempt that hangs times out and counts as retryable; an aborted job stops retrying", async () => {
  sink.requests.length = 0;
  sink.respond = () => ({ status: 200, delayMs: 400 });
  await assert.rejects(client({ attemptTimeoutMs: 100, maxAttempts: 2 }).send(notification), /did not answer within 100 ms/);
  assert.equal(sink.requests.length, 2);

  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("job timed out")), 50);
  await assert.rejects(client({ attemptTimeoutMs: 1000 }).send(notification, controller.signal), /job timed out/);
});

test("an unreachable gateway is a retryable error naming the cause", async () => {
  const c = new PushGatewayClient({ url: "http://127.0.0.1:9/push", secret: GATEWAY_SECRET, attemptTimeoutMs: 500, maxAttempts: 1 });
  await assert.rejects(c.send(notification), (err: unknown) => err instanceof PushGatewayError && err.retryable && /unreachable/.test(err.message));
});
