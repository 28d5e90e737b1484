import assert from "node:assert/strict";
import { Metrics, percentile } from "../src/metrics";
import { createLogger } from "../src/log";
import { Writable } from "node:stream";

test("EMF line: namespace, ServiceName dimension, counters reset, gauges kept", () => {
  const lines: string[] = [];
  const m = new Metrics({ namespace: "chat-dev", serviceName: "chat-dev-realtime", intervalMs: 0, write: (l) => lines.push(l), now: () => 1700000000000 });
  m.count("MessagesIn");
  m.count("MessagesIn", 2);
  m.gauge("ActiveConnections", 42, "Count");
  m.count("Rejections", 1, { Reason: "rate" });
  m.flush();
  assert.equal(lines.length, 2);
  const main = JSON.parse(lines[0]);
  assert.deepEqual(main._aws.CloudWatchMetrics[0], {
    Namespace: "chat-dev",
    Dimensions: [["ServiceName"]],
    Metrics: [{ Name: "MessagesIn", Unit: "Count" }, { Name: "ActiveConnections", Unit: "Count" }],
  });
  assert.equal(main._aws.Timestamp, 1700000000000);
  assert.equal(main.ServiceName, "chat-dev-realtime");
  assert.equal(main.MessagesIn, 3);
  assert.equal(main.ActiveConnections, 42);
  const rej = JSON.parse(lines[1]);
  assert.deepEqual(rej._aws.CloudWatchMetrics[0].Dimensions, [["ServiceName", "Reason"]]);
  assert.equal(rej.Reason, "rate");
  lines.length = 0;
  m.flush();
  const again = JSON.parse(lines[0]);
  assert.equal(again.MessagesIn, undefined, "counters reset after a flush");
  assert.equal(again.ActiveConnections, 42, "gauges keep their value");
});

test("timings are published as value arrays, at most 100 per line", () => {
  const lines: string[] = [];
  const m = new Metrics({ namespace: "n", serviceName: "s", intervalMs: 0, write: (l) => lines.push(l) });
  for (let i = 0; i < 150; i++) m.observe("RequestLatencyMs", i);
  m.flush();
  assert.equal(lines.length, 2);
  assert.equal(JSON.parse(lines[0]).RequestLatencyMs.length, 100);
  assert.equal(JSON.parse(lines[1]).RequestLatencyMs.length, 50);
});

test("event-loop lag p95 is reported in milliseconds", async () => {
  const lines: string[] = [];
  const m = new Metrics({ namespace: "n", serviceName: "s", intervalMs: 0, write: (l) => lines.push(l) });
  m.trackEventLoopLag("EventLoopLagMs", 1);
  for (let i = 0; i < 10; i++) {
    const until = Date.now() + 30;
    while (Date.now() < until) { /* block the loop */ }
    await new Promise((r) => setTimeout(r, 1));
  }
  m.close();
  const lag = JSON.parse(lines[0]).EventLoopLagMs;
  assert.ok(lag >= 20, `p95 lag should reflect the repeated 30 ms blocks, got ${lag}`);
});

test("percentile uses nearest rank", () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(v, 95), 95);
  assert.equal(percentile(v, 99), 99);
  assert.equal(percentile([5], 50), 5);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test("logger writes JSON with level, service, and redacts secrets", () => {
  const out: string[] = [];
  const dest = new Writable({ write(chunk, _enc, cb) { out.push(String(chunk)); cb(); } });
  const log = createLogger({ service: "chat-dev-api", destination: dest as never });
  log.child({ correlationId: "abc" }).info({ password: "hunter2" }, "hello");
  const line = JSON.parse(out[0]);
  assert.equal(line.level, "INFO");
  assert.equal(line.service, "chat-dev-api");
  assert.equal(line.correlationId, "abc");
  assert.equal(line.password, "[redacted]");
  assert.equal(line.msg, "hello");
});

test("logger labels every level in capitals, as the runbook's ERROR searches expect", () => {
  const out: string[] = [];
  const dest = new Writable({ write(chunk, _enc, cb) { out.push(String(chunk)); cb(); } });
  const log = createLogger({ service: "chat-dev-api", level: "trace", destination: dest as never });
  log.trace("t"); log.debug("d"); log.info("i"); log.warn("w"); log.error("e"); log.fatal("f");
  assert.deepEqual(out.map((l) => JSON.parse(l).level), ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]);
  assert.match(out[4]!, /"level":"ERROR"/);
});
