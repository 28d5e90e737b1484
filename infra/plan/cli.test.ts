/**
 * The plan command as a reviewer runs it (`node --import tsx infra/plan/cli.ts ...`, a fresh process each):
 * bad arguments give one line and exit 2 before anything is synthesized; --json, --markdown with --diff of
 * a saved plan (a replaced database is flagged), and --diff of a git ref (exact change counts against a known commit).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exitStatus } from "./cli";
import { ROOT } from "./sources";

function plan(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "infra/plan/cli.ts"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const tmp = mkdtempSync(join(tmpdir(), "plan-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
writeFileSync(join(tmp, "not-json.json"), "{ nope");
writeFileSync(join(tmp, "not-a-plan.json"), JSON.stringify({ hello: 1 }));

describe("plan CLI: bad arguments", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["unknown stack", ["--stack", "nope"], /^plan: unknown stack nope: no Pulumi\.nope\.yaml; stacks: .*dev/],
    ["no stack", ["--json"], /^plan: missing --stack; stacks: /],
    ["unknown flag", ["--stack", "dev", "--frobnicate"], /^plan: unknown argument --frobnicate; usage: npm run plan -- --stack <name>/],
    ["flag without value", ["--stack", "dev", "--diff"], /^plan: --diff: missing value/],
    ["both formats", ["--stack", "dev", "--json", "--markdown"], /^plan: --json and --markdown are exclusive/],
    ["unknown diff target (no stack, file or ref)", ["--stack", "dev", "--diff", "no-such-ref-or-file"], /^plan: --diff no-such-ref-or-file: not a stack \(.*\), a readable plan JSON file, or a git ref/],
    ["directory as plan file", ["--stack", "dev", "--diff", tmp], /^plan: --diff .*: is a directory, not a plan JSON file/],
    ["unreadable plan file", ["--stack", "dev", "--diff", join(tmp, "not-json.json")], /^plan: --diff .*not-json\.json: not JSON; write a plan file with/],
    ["JSON that is not a plan", ["--stack", "dev", "--diff", join(tmp, "not-a-plan.json")], /^plan: --diff .*not-a-plan\.json is not a plan JSON document \(missing stack, resources, cost, policy\)/],
    ["bad assumption", ["--stack", "dev", "--assume", "speed=fast"], /^plan: --assume speed: unknown assumption/],
    ["unknown stack in --quotas-for", ["--quotas-for", "dev,nope"], /^plan: --quotas-for: unknown stack nope: no Pulumi\.nope\.yaml; stacks: .*dev/],
    ["empty --quotas-for", ["--stack", "dev", "--quotas-for", ","], /^plan: --quotas-for: no stack named; give a comma-separated list such as /],
  ];
  for (const [title, args, expected] of cases) {
    it(title, async () => {
      const r = await plan(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, expected);
      assert.equal(r.stderr.trim().split("\n").length, 1, `one line expected: ${r.stderr}`);
      assert.equal(r.stdout, "");
    });
  }
});

describe("plan CLI: exit status", () => {
  const doc = (errors: number, mandatory: number) => ({ preflight: { errors, findings: [], rules: { types: 0, fieldRules: 0, combinationRules: 0 } }, policy: { violations: [], mandatory, advisory: 0, rules: [] } });
  it("4 on any preflight finding, with or without --fail-on-mandatory; 3 for mandatory policy only when asked; else 0", () => {
    expect(exitStatus(doc(1, 0), false)).toStrictEqual({ code: 4, message: "preflight: 1 value(s) AWS would refuse; see the Preflight section" });
    expect(exitStatus(doc(2, 1), true).code).toBe(4);
    expect(exitStatus(doc(0, 1), true)).toStrictEqual({ code: 3, message: "policy: 1 mandatory violation(s)" });
    expect(exitStatus(doc(0, 1), false)).toStrictEqual({ code: 0 });
    expect(exitStatus(doc(0, 0), true)).toStrictEqual({ code: 0 });
  });
});

describe("plan CLI: output", () => {
  it("--json, then --markdown --diff of the saved plan flags a replaced database", async () => {
    const json = await plan(["--stack", "dev", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.stack, "dev");
    assert.equal(doc.region, "us-east-1");
    for (const k of ["project", "resources", "outputs", "cost", "policy"]) assert.ok(k in doc, k);
    assert.ok(doc.cost.monthlyUsd > 0 && doc.cost.items.length > 0);
    assert.ok(Array.isArray(doc.policy.violations));
    assert.ok(!json.stdout.includes("mock-secret-value"));

    // the saved plan as if the database had another identifier and a queue more
    const db = doc.resources.find((r: any) => r.type === "aws:rds/instance:Instance");
    assert.ok(db, "the dev stack has a database");
    db.inputs.identifier = `${db.inputs.identifier}-old`;
    doc.resources.push({ type: "aws:sqs/queue:Queue", name: "legacy", parent: undefined, component: "legacy", custom: true, inputs: { name: "legacy" }, protect: false });
    doc.cost.monthlyUsd -= 10;
    const saved = join(tmp, "base.json");
    writeFileSync(saved, JSON.stringify(doc));

    const md = await plan(["--stack", "dev", "--markdown", "--diff", saved]);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /^### Plan for `dev`/);
    assert.match(md.stdout, new RegExp(`\\*\\*Replaces stateful \`aws:rds/instance:Instance::${db.name}\`\\*\\*`));
    assert.match(md.stdout, /\*\*Removes stateful `aws:sqs\/queue:Queue::legacy`\*\*/);
    assert.match(md.stdout, /identifier: .*-old -> .* \(forces replacement\)/);
    assert.match(md.stdout, /cost \+\$10\.00\/month/);
  });

  it("--quotas-for counts a set of stacks in one account: the four us-east-1 stacks need 9 Elastic IPs (1k-dau spans two zones)", async () => {
    const r = await plan(["--quotas-for", "dev,1k-dau,10k-dau,100k-dau", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.stack, "dev", "without --stack, the first stack of the set is planned");
    assert.equal(doc.preflight.errors, 0);
    assert.equal(doc.quotas.accountSet.length, 1);
    const set = doc.quotas.accountSet[0];
    assert.deepEqual([set.region, set.stacks], ["us-east-1", ["dev", "1k-dau", "10k-dau", "100k-dau"]]);
    const eips = set.rows.find((x: any) => x.id === "elastic-ips");
    assert.deepEqual([eips.used, eips.defaultQuota, eips.exceeded], [9, 5, true]);
  });

  it("--diff <git ref> plans the stack as it is at that ref: exact changes against a commit that differs by one setting", async () => {
    // A commit of this checkout as it is (tracked and untracked files, through a private index, so the
    // branch, the index and the work tree are untouched) in which Pulumi.dev.yaml also sets alarmEmail.
    // At that ref the stack has one more resource (the alarm e-mail subscription), so the diff from it to
    // this checkout removes exactly that one and changes nothing else. A diff that ignored the ref (or read
    // this checkout twice) would report no change; one taken the wrong way round would report an addition.
    const commit = commitOfCheckoutWith("Pulumi.dev.yaml", (yaml) => `${yaml.trimEnd()}\n  realtime-chat:alarmEmail: oncall@example.com\n`);
    const r = await plan(["--stack", "dev", "--diff", commit]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Stack dev \(realtime-chat, us-east-1, tier dev, 100 DAU\)/);
    assert.match(r.stdout, new RegExp(`\\nChanges from ${commit} \\(${commit.slice(0, 8)}\\) to stack dev \\(this checkout\\): 0 to add, 1 to remove, 0 to change\\b`));
    assert.match(r.stdout, /alarms-email/);
  });
});

/** Commits the work tree with one file rewritten, without moving any ref; returns the commit id. */
function commitOfCheckoutWith(file: string, edit: (text: string) => string): string {
  const index = join(tmp, "index");
  const git = (args: string[], input?: string) => {
    const out = spawnSync("git", args, { cwd: ROOT, encoding: "utf8", input, env: { ...process.env, GIT_INDEX_FILE: index } });
    if (out.status !== 0) throw new Error(`git ${args.join(" ")}: ${out.stderr}`);
    return out.stdout.trim();
  };
  git(["add", "-A", "."]);
  const blob = git(["hash-object", "-w", "--stdin"], edit(readFileSync(join(ROOT, file), "utf8")));
  git(["update-index", "--cacheinfo", `100644,${blob},${file}`]);
  const tree = git(["write-tree"]);
  return spawnSync("git", ["commit-tree", tree, "-m", "plan test: the checkout with one setting changed"], {
    cwd: ROOT, encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "plan test", GIT_AUTHOR_EMAIL: "plan@test", GIT_COMMITTER_NAME: "plan test", GIT_COMMITTER_EMAIL: "plan@test" },
  }).stdout.trim();
}
