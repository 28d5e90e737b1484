/**
 * The policy pack as the Pulumi CLI runs it: `index.ts` started in its folder serves the analyzer gRPC API and
 * prints its port; this test then asks it for its policies and has it analyze resources, as `pulumi preview
 * --policy-pack` would. (The CLI itself is not installed here.)
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { RESOURCE_RULES, STACK_RULES } from "../rules";
import { packConfig } from "./policies";

/* eslint-disable @typescript-eslint/no-require-imports */
const grpc = require("@grpc/grpc-js");
const analyzerRpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

let pack: ChildProcess;
let client: any;

const call = <T>(method: string, req: unknown): Promise<T> =>
  new Promise((resolve, reject) => client[method](req, (err: unknown, res: T) => (err ? reject(err) : resolve(res))));

function stackResource(type: string, name: string, props: Record<string, unknown>) {
  const r = new analyzerPb.AnalyzerResource();
  r.setType(type);
  r.setName(name);
  r.setUrn(`urn:pulumi:10k-dau::realtime-chat::${type}::${name}`);
  r.setProperties(Struct.fromJavaScript(props));
  r.setOptions(new analyzerPb.AnalyzerResourceOptions());
  return r;
}

/** What `--policy-pack-config config/<tier>.json` sends. */
function configureRequest(tier: string) {
  const req = new analyzerPb.ConfigureAnalyzerRequest();
  const levels: Record<string, number> = {
    advisory: analyzerPb.EnforcementLevel.ADVISORY,
    mandatory: analyzerPb.EnforcementLevel.MANDATORY,
    disabled: analyzerPb.EnforcementLevel.DISABLED,
  };
  for (const [name, c] of Object.entries(packConfig(tier)) as Array<[string, any]>) {
    const pc = new analyzerPb.PolicyConfig();
    pc.setEnforcementlevel(levels[c.enforcementLevel]);
    pc.setProperties(Struct.fromJavaScript({ tier: c.tier }));
    req.getPolicyconfigMap().set(name, pc);
  }
  return req;
}

function analyzeRequest(type: string, name: string, props: Record<string, unknown>) {
  const req = new analyzerPb.AnalyzeRequest();
  req.setType(type);
  req.setName(name);
  req.setUrn(`urn:pulumi:10k-dau::realtime-chat::${type}::${name}`);
  req.setProperties(Struct.fromJavaScript(props));
  req.setOptions(new analyzerPb.AnalyzerResourceOptions());
  return req;
}

describe("policy pack served over the analyzer API", () => {
  beforeAll(async () => {
    pack = spawn(process.execPath, ["--import", "tsx", "index.ts"], { cwd: __dirname, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    pack.stderr!.on("data", (d) => (err += d));
    const port = await new Promise<string>((resolve, reject) => {
      let out = "";
      pack.stdout!.on("data", (d) => {
        out += d;
        const m = /^(\d+)\s/m.exec(out);
        if (m) resolve(m[1]!);
      });
      pack.on("exit", (code) => reject(new Error(`policy pack exited (${code}) before serving: ${err}`)));
    });
    client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterAll(() => {
    client?.close();
    pack?.kill();
  });

  it("lists one policy per rule, mandatory by default", async () => {
    const info: any = await call("getAnalyzerInfo", new Empty());
    assert.equal(info.getName(), "realtime-chat-policy");
    const policies = info.getPoliciesList().map((p: any) => p.getName());
    assert.deepEqual(policies, [...RESOURCE_RULES, ...STACK_RULES].map((r) => r.name));
  });

  it("reports a violation with the rule's message and passes a compliant resource", async () => {
    const bad: any = await call("analyze", analyzeRequest("aws:cloudwatch/logGroup:LogGroup", "logs", { name: "/ecs/x" }));
    const diags = bad.getDiagnosticsList().map((d: any) => [d.getPolicyname(), d.getMessage().includes("set retentionInDays"), d.getEnforcementlevel()]);
    assert.deepEqual(diags, [["log-retention", true, analyzerPb.EnforcementLevel.MANDATORY]]);
    const good: any = await call("analyze", analyzeRequest("aws:cloudwatch/logGroup:LogGroup", "logs", { name: "/ecs/x", retentionInDays: 30 }));
    assert.deepEqual(good.getDiagnosticsList(), []);
  });

  it("runs the stack rules over all resources (a DLQ without an alarm), and the dev config makes them advisory", async () => {
    const dlq = "arn:aws:sqs:us-east-1:123456789012:chat-push-dlq";
    const stack = new analyzerPb.AnalyzeStackRequest();
    stack.setResourcesList([
      stackResource("aws:sqs/queue:Queue", "push", { name: "chat-push", redrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq, maxReceiveCount: 5 }) }),
      stackResource("aws:sqs/queue:Queue", "push-dlq", { name: "chat-push-dlq", arn: dlq }),
    ]);
    const levels = async () => {
      const res: any = await call("analyzeStack", stack);
      return res.getDiagnosticsList().filter((d: any) => d.getPolicyname() === "queue-dlq-and-alarm").map((d: any) => [d.getUrn().split("::").pop(), d.getEnforcementlevel()]);
    };
    assert.deepEqual(await levels(), [["push-dlq", analyzerPb.EnforcementLevel.MANDATORY]]);
    await call("configure", configureRequest("dev"));
    assert.deepEqual(await levels(), [["push-dlq", analyzerPb.EnforcementLevel.ADVISORY]]);
  });
});
