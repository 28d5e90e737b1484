import { DEFAULT_ASSUMPTIONS } from "./assumptions";
import { estimateCost } from "./cost";
import { logGbPerMonth, logSourceOf, serviceLogGbPerMonth } from "./log-volume";

const A = DEFAULT_ASSUMPTIONS;
const TRAFFIC = { messagesPerDauPerDay: 40, jobsPerMessage: 0.5 };

describe("log volume per log group", () => {
  it("tells the source from the log group's name", () => {
    expect(logSourceOf("/ecs/realtime-chat-prod/api")).toBe("api");
    expect(logSourceOf("/ecs/realtime-chat-prod/realtime")).toBe("realtime");
    expect(logSourceOf("/ecs/realtime-chat-prod/workers")).toBe("workers");
    expect(logSourceOf("/ecs/realtime-chat-prod/toolbox")).toBe("toolbox");
    expect(logSourceOf("aws-waf-logs-realtime-chat-prod")).toBe("waf");
    expect(logSourceOf("/vpc/realtime-chat-prod/flow-logs")).toBe("flow");
    expect(logSourceOf("/ecs/realtime-chat-prod/other")).toBeUndefined();
    expect(logSourceOf("/aws/lambda/x")).toBeUndefined();
    expect(logSourceOf(undefined)).toBeUndefined();
  });

  it("api: requests x bytes per request, plus health checks and metric flushes per task", () => {
    // 1,000 DAU x 300 requests x 30 days x 270 B = 2.43 GB; 2 tasks x 730 h x (166,000 B + 720 x 196 B) = 0.448 GB
    expect(logGbPerMonth("api", 1000, A, TRAFFIC, { api: 2 })).toBeCloseTo(2.43 + (2 * 730 * (166_000 + 720 * 196)) / 1e9, 6);
  });

  it("workers: one line per job; realtime: metric values per message", () => {
    // 1,000 DAU x 40 messages x 30 days x 0.5 jobs x 198 B = 0.1188 GB, plus one idle task
    expect(logGbPerMonth("workers", 1000, A, TRAFFIC, { workers: 1 })).toBeCloseTo(0.1188 + (730 * 166_000) / 1e9, 6);
    expect(logGbPerMonth("realtime", 1000, A, TRAFFIC, { realtime: 1 })).toBeCloseTo((1_200_000 * 1.7 + 730 * 166_000) / 1e9, 6);
    expect(logGbPerMonth("toolbox", 1_000_000, A, TRAFFIC)).toBe(0);
  });

  it("waf logs only the blocked or counted share; flow logs follow connections and requests", () => {
    // 9 M requests a month at 1,000 DAU; 1% logged at 1,500 B
    expect(logGbPerMonth("waf", 1000, A, TRAFFIC)).toBeCloseTo((9_000_000 * 0.01 * 1500) / 1e9, 6);
    // 100 connections on average x 4,380 intervals + 900,000 short connections, 6 records of 130 B each
    expect(logGbPerMonth("flow", 1000, A, TRAFFIC)).toBeCloseTo(((100 * 4380 + 900_000) * 6 * 130) / 1e9, 6);
  });

  it("the services' total is what a logs endpoint would carry", () => {
    const tasks = { api: 2, realtime: 2, workers: 2 };
    expect(serviceLogGbPerMonth(5000, A, TRAFFIC, tasks)).toBeCloseTo(
      logGbPerMonth("api", 5000, A, TRAFFIC, tasks) + logGbPerMonth("realtime", 5000, A, TRAFFIC, tasks) + logGbPerMonth("workers", 5000, A, TRAFFIC, tasks), 9);
  });

  it("the cost rule prices each group from its own source and the stack's tasks and traffic", () => {
    const group = (name: string, groupName: string) => ({ type: "aws:cloudwatch/logGroup:LogGroup", name, custom: true, inputs: { name: groupName, retentionInDays: 30 } });
    const service = (name: string, desiredCount: number) => ({ type: "aws:ecs/service:Service", name, custom: true, inputs: { desiredCount } });
    const resources = [
      group("api-logs", "/ecs/p-e/api"), group("workers-logs", "/ecs/p-e/workers"), group("odd-logs", "/custom/thing"),
      service("api-service", 4), service("workers-service", 3),
    ];
    const busy = { messagesPerDauPerDay: 400, jobsPerMessage: 1 };
    const c = estimateCost(resources, { region: "us-east-1", dau: 10_000, assumptions: A, traffic: busy });
    const line = (n: string) => c.items.find((i) => i.name === n)!;
    const months = 1; // 30 days kept
    const gbApi = logGbPerMonth("api", 10_000, A, busy, { api: 4, workers: 3 });
    const gbWorkers = logGbPerMonth("workers", 10_000, A, busy, { api: 4, workers: 3 });
    expect(line("api-logs").basis).toContain(`${gbApi.toFixed(2)} GB/month ingested (api)`);
    expect(line("workers-logs").basis).toContain(`${gbWorkers.toFixed(2)} GB/month ingested (workers)`);
    expect(line("workers-logs").monthlyUsd).toBeCloseTo(gbWorkers * (0.5 + months * 0.03), 2);
    expect(line("odd-logs").monthlyUsd).toBe(0);
    expect(line("odd-logs").basis).toContain("no volume model for log group /custom/thing");
  });
});
