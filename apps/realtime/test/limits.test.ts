import assert from "node:assert/strict";
import { ConnectionLimiter, EventBudget, SessionLimiter, clientIp, payloadBytes } from "../src/limits";
import { DEFAULTS, loadRealtimeSettings } from "../src/settings";
import { bufferedBytes } from "../src/slow-consumer";
import { RealtimeMetrics } from "../src/metrics";
import { Metrics } from "@chat/shared/src/metrics";

test("settings: defaults when nothing is set, values when set", () => {
  assert.deepEqual(loadRealtimeSettings({}), DEFAULTS);
  const s = loadRealtimeSettings({ MAX_CONNECTIONS_PER_IP: "3", TRUST_PROXY_HOPS: "1", PING_INTERVAL_MS: " 500 " });
  assert.equal(s.maxConnectionsPerIp, 3);
  assert.equal(s.trustProxyHops, 1);
  // TRUST_PROXY (the older switch) is read as 1 or 0 hops; agreeing with TRUST_PROXY_HOPS is fine.
  assert.equal(loadRealtimeSettings({ TRUST_PROXY: "true" }).trustProxyHops, 1);
  assert.equal(loadRealtimeSettings({ TRUST_PROXY: "false" }).trustProxyHops, 0);
  assert.equal(loadRealtimeSettings({ TRUST_PROXY: "true", TRUST_PROXY_HOPS: "1" }).trustProxyHops, 1);
  assert.equal(loadRealtimeSettings({ TRUST_PROXY_HOPS: "2" }).trustProxyHops, 2);
  assert.equal(s.pingIntervalMs, 500);
});

test("settings: bad values are refused with the variable named and the fix", () => {
  const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
    [{ MAX_CONNECTIONS_PER_IP: "ten" }, /^MAX_CONNECTIONS_PER_IP must be a whole number >= 1 \(got "ten"\); fix the value or unset it to use the default 50$/],
    [{ MAX_PAYLOAD_BYTES: "1.5" }, /^MAX_PAYLOAD_BYTES must be a whole number >= 64/],
    [{ SHUTDOWN_GRACE_MS: "-1" }, /^SHUTDOWN_GRACE_MS must be a whole number >= 100/],
    [{ TRUST_PROXY: "yes" }, /^TRUST_PROXY must be "true" or "false" \(got "yes"\)$/],
    [{ TRUST_PROXY_HOPS: "6" }, /^TRUST_PROXY_HOPS must be between 0 and 5 \(got "6"\); behind the ALB it is 1$/],
    [{ TRUST_PROXY_HOPS: "-1" }, /^TRUST_PROXY_HOPS must be a whole number >= 0/],
    [{ TRUST_PROXY: "true", TRUST_PROXY_HOPS: "2" }, /^TRUST_PROXY \("true"\) and TRUST_PROXY_HOPS \("2"\) disagree; set only TRUST_PROXY_HOPS$/],
    [{ PORT: "70000" }, /^PORT must be between 1 and 65535/],
    [{ MAX_CONNECTIONS_PER_TASK: "10", MAX_CONNECTIONS_PER_IP: "11" }, /^MAX_CONNECTIONS_PER_IP \(11\) must not exceed MAX_CONNECTIONS_PER_TASK \(10\)$/],
    [{ MAX_PAYLOAD_BYTES: "2000", MAX_BYTES_PER_10S: "1000" }, /^MAX_PAYLOAD_BYTES \(2000\) must not exceed MAX_BYTES_PER_10S \(1000\)/],
  ];
  for (const [env, re] of cases) assert.throws(() => loadRealtimeSettings(env), { name: "SettingsError", message: re }, JSON.stringify(env));
});

test("clientIp: the X-Forwarded-For entry appended by the trusted hops; entries a client wrote are ignored", () => {
  // The ALB appends the address it saw: a client-sent "1.2.3.4" stays in front of it.
  const spoofed = { "x-forwarded-for": "1.2.3.4, 203.0.113.7" };
  assert.equal(clientIp(spoofed, "10.0.1.5", 1), "203.0.113.7");
  assert.equal(clientIp({ "x-forwarded-for": "203.0.113.7" }, "10.0.1.5", 1), "203.0.113.7");
  assert.equal(clientIp(spoofed, "::ffff:10.0.1.5", 0), "10.0.1.5", "0 hops: the header is not believed");
  assert.equal(clientIp({}, "127.0.0.1", 1), "127.0.0.1", "no header: the socket peer");
  // Two proxies (e.g. CloudFront then the ALB): the second-to-last entry; more hops than entries stop at the first.
  assert.equal(clientIp({ "x-forwarded-for": "1.2.3.4, 198.51.100.9, 130.176.0.1" }, "10.0.1.5", 2), "198.51.100.9");
  assert.equal(clientIp({ "x-forwarded-for": "198.51.100.9" }, "10.0.1.5", 3), "198.51.100.9");
  assert.equal(clientIp({ "x-forwarded-for": ["1.2.3.4", "::ffff:203.0.113.8"] }, "10.0.1.5", 1), "203.0.113.8", "repeated headers are one list");
});

test("ConnectionLimiter: per-IP and per-task caps, released slots are reusable", () => {
  const l = new ConnectionLimiter(3, 2);
  assert.equal(l.tryAcquire("a"), undefined);
  assert.equal(l.tryAcquire("a"), undefined);
  assert.equal(l.tryAcquire("a")?.code, "too_many_connections_from_ip");
  assert.equal(l.tryAcquire("b"), undefined);
  assert.equal(l.tryAcquire("c")?.code, "server_full");
  l.release("a");
  assert.equal(l.size, 2);
  assert.equal(l.tryAcquire("c"), undefined);
  l.release("zzz");
  assert.equal(l.size, 3);
});

test("EventBudget: events, bytes and payload size per 10 s window", () => {
  let now = 0;
  const b = new EventBudget(3, 100, 60, () => now);
  assert.equal(b.take(10), undefined);
  assert.equal(b.take(10), undefined);
  assert.equal(b.take(61)?.code, "payload_too_large");
  assert.equal(b.take(50), undefined);
  const r = b.take(1);
  assert.equal(r?.code, "rate_limited");
  assert.match(r!.message, /more than 3 events in 10 s; slow down and retry in 10 s/);
  now = 10_000;
  assert.equal(b.take(60), undefined);
  assert.equal(b.take(50)?.code, "bytes_rate_limited");
});

test("payloadBytes ignores the ack callback and counts JSON size", () => {
  assert.equal(payloadBytes([{ a: "xy" }, () => undefined]), JSON.stringify({ a: "xy" }).length);
  assert.equal(payloadBytes(["é"]), 4);
});

test("bufferedBytes sums the engine write buffer and the WebSocket's buffered amount", () => {
  assert.equal(bufferedBytes({ writeBuffer: [{ data: "abcd" }, { data: Buffer.alloc(6) }], transport: { name: "polling" } }), 10);
  assert.equal(bufferedBytes({ writeBuffer: [], transport: { name: "websocket", socket: { bufferedAmount: 500 } } }), 500);
  assert.equal(bufferedBytes({}), 0);
});

test("metrics: EMF lines carry the contract names, dimensions and reset counters", () => {
  const lines: string[] = [];
  const emf = new Metrics({ namespace: "chat-dev", serviceName: "chat-dev-realtime", intervalMs: 0, write: (l) => lines.push(l) });
  const m = new RealtimeMetrics(emf, () => 7);
  m.incomingMessage();
  m.outgoingMessage(3);
  m.rejection("rate_limited");
  m.rejection("rate_limited");
  m.rejection("auth_failed");
  const docs = m.flush().map((l) => JSON.parse(l) as Record<string, any>);
  const plain = docs.find((d) => d.Reason === undefined)!;
  assert.equal(plain._aws.CloudWatchMetrics[0].Namespace, "chat-dev");
  assert.deepEqual(plain._aws.CloudWatchMetrics[0].Dimensions, [["ServiceName"]]);
  assert.equal(plain.ServiceName, "chat-dev-realtime");
  assert.equal(plain.ActiveConnections, 7);
  assert.equal(plain.MessagesIn, 1);
  assert.equal(plain.MessagesOut, 3);
  assert.equal(plain.Rejections, 3);
  assert.equal(typeof plain.EventLoopLagMs === "number" || plain.EventLoopLagMs === undefined, true);
  const limited = docs.find((d) => d.Reason === "rate_limited")!;
  assert.deepEqual(limited._aws.CloudWatchMetrics[0].Dimensions, [["ServiceName", "Reason"]]);
  assert.equal(limited.Rejections, 2);
  assert.deepEqual(m.rejectionTotals(), { rate_limited: 2, auth_failed: 1 });
  const next = m.flush().map((l) => JSON.parse(l) as Record<string, any>).find((d) => d.Reason === undefined)!;
  assert.equal(next.MessagesIn, 0);
  assert.equal(next.Rejections, 0);
  m.close();
});

test("ConnectionLimiter: the refusals name the limit and what to do; counts per IP go back to zero", () => {
  const l = new ConnectionLimiter(2, 1);
  assert.equal(l.tryAcquire("a"), undefined);
  assert.deepEqual(l.tryAcquire("a"), {
    code: "too_many_connections_from_ip",
    message: "too many connections from your address (limit 1); close some before opening more",
  });
  assert.equal(l.tryAcquire("b"), undefined);
  assert.deepEqual(l.tryAcquire("c"), {
    code: "server_full",
    message: "this server holds its maximum of 2 connections; retry shortly (another server will be chosen)",
  });
  assert.deepEqual([l.size, l.countFor("a"), l.countFor("b"), l.countFor("c")], [2, 1, 1, 0]);
  l.release("a");
  l.release("a"); // a second release of the same slot frees nothing
  assert.deepEqual([l.size, l.countFor("a")], [1, 0]);
  assert.equal(l.tryAcquire("a"), undefined);
  assert.equal(l.tryAcquire("c")?.code, "server_full", "the task is full again: two slots, no more");
});

test("ConnectionLimiter: an IP holding several slots gets them back one at a time", () => {
  const l = new ConnectionLimiter(10, 3);
  for (let i = 0; i < 3; i++) assert.equal(l.tryAcquire("a"), undefined);
  l.release("a");
  assert.deepEqual([l.size, l.countFor("a")], [2, 2]);
  assert.equal(l.tryAcquire("a"), undefined);
  assert.equal(l.tryAcquire("a")?.code, "too_many_connections_from_ip");
});

test("both limiters forget an address once its last slot is released (the map does not grow with every client seen)", () => {
  const l = new ConnectionLimiter(10, 3);
  const s = new SessionLimiter(3);
  for (const ip of ["a", "a", "b"]) {
    assert.equal(l.tryAcquire(ip), undefined);
    assert.equal(s.tryAcquire(ip), undefined);
  }
  assert.deepEqual([l.addresses, s.addresses], [2, 2]);
  l.release("a");
  s.release("a");
  assert.deepEqual([l.addresses, s.addresses], [2, 2], "a still holds one");
  l.release("a");
  s.release("a");
  assert.deepEqual([l.addresses, s.addresses], [1, 1]);
  l.release("b");
  s.release("b");
  assert.deepEqual([l.addresses, s.addresses, l.size], [0, 0, 0]);
});

test("SessionLimiter: sessions per IP up to the limit, refused past it with the fix, released one at a time", () => {
  const s = new SessionLimiter(2);
  assert.equal(s.tryAcquire("a"), undefined);
  assert.equal(s.tryAcquire("a"), undefined);
  assert.deepEqual(s.tryAcquire("a"), {
    code: "too_many_sessions_from_ip",
    message: "too many open sessions from your address (limit 2); close some, or wait for unused ones to be closed, before opening more",
  });
  assert.equal(s.tryAcquire("b"), undefined, "another address has its own count");
  assert.deepEqual([s.countFor("a"), s.countFor("b")], [2, 1]);
  s.release("a");
  assert.equal(s.countFor("a"), 1);
  assert.equal(s.tryAcquire("a"), undefined);
  s.release("a");
  s.release("a");
  assert.equal(s.countFor("a"), 0);
  s.release("a"); // more releases than sessions never go below zero
  assert.equal(s.countFor("a"), 0);
  assert.equal(s.tryAcquire("a"), undefined);
  assert.equal(s.tryAcquire("a"), undefined);
  assert.equal(s.tryAcquire("a")?.code, "too_many_sessions_from_ip");
});

test("EventBudget: limits are inclusive, messages give the limit and the seconds left in the window", () => {
  let now = 1_000;
  const b = new EventBudget(2, 100, 60, () => now);
  assert.deepEqual(b.take(61), { code: "payload_too_large", message: "event payload is 61 bytes; the limit is 60 bytes" });
  now = 1_000 + 9_999; // the last millisecond of the window that started at 1 000
  assert.equal(b.take(60), undefined, "a payload of exactly the limit passes");
  assert.equal(b.take(1), undefined, "exactly the event limit passes");
  assert.deepEqual(b.take(1), { code: "rate_limited", message: "more than 2 events in 10 s; slow down and retry in 1 s" });
  now = 11_000; // a new window
  assert.equal(b.take(60), undefined);
  now = 14_500;
  assert.equal(b.take(40), undefined, "exactly the byte limit passes");
  assert.deepEqual(b.take(1), { code: "rate_limited", message: "more than 2 events in 10 s; slow down and retry in 7 s" });
  now = 21_000;
  const bytes = new EventBudget(5, 100, 60, () => now);
  assert.equal(bytes.take(60), undefined);
  now = 23_200;
  assert.deepEqual(bytes.take(41), { code: "bytes_rate_limited", message: "more than 100 bytes in 10 s; slow down and retry in 8 s" });
});

test("payloadBytes: strings as JSON text (quotes and escapes), buffers as they are, nothing for undefined, a huge size for what cannot be sent", () => {
  assert.equal(payloadBytes(["ab", undefined, Buffer.alloc(5)]), 4 + 5);
  // A string travels as JSON text: quotes, backslashes and control characters are escaped.
  assert.equal(payloadBytes(['say "hi"\n']), 14);
  assert.equal(payloadBytes(["\u0001"]), 8, "a control character is six bytes of escape");
  assert.equal(payloadBytes([42, null, [1, 2]]), 2 + 4 + 5);
  assert.equal(payloadBytes([Symbol("x")]), 0, "JSON has no text for a symbol");
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(payloadBytes([circular]), Number.MAX_SAFE_INTEGER / 4);
  assert.ok(new EventBudget(10, 1_000, 1_000).take(payloadBytes([circular]))?.code === "payload_too_large");
});

test("clientIp: an unknown peer address, and IPv4-mapped addresses written plainly", () => {
  assert.equal(clientIp({}, undefined, 0), "unknown");
  assert.equal(clientIp({ "x-forwarded-for": " , ::ffff:203.0.113.9 ,, " }, "10.0.0.1", 1), "203.0.113.9", "empty entries are skipped");
  assert.equal(clientIp({ "x-forwarded-for": "203.0.113.9" }, "::ffff:10.0.0.1", 0), "10.0.0.1");
  assert.equal(clientIp({ "x-forwarded-for": "203.0.113.9" }, "::1", -1), "::1", "negative hops: the header is not believed");
});
