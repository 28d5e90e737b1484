/**
 * Image tags from the build inputs (context-hash.ts): on a copy of the repository's build inputs in a temporary
 * folder, a change the image never sees leaves the tag alone, and a change it does see gives a new tag.
 */
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { REPO_ROOT } from "../synth";
import { SERVICE_NAMES } from "../catalogue";
import { contextImageTag, copySources, imageInputFiles, isIgnored, parseDockerignore } from "./context-hash";
import { serviceImageTag } from "./images";

const SKIP = /(^|\/)(node_modules|dist|\.git)(\/|$)/;

describe("content-hash image tags", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "ctx-hash-"));
    for (const p of ["apps", "scripts", "docs", "package.json", "package-lock.json", ".npmrc", ".dockerignore", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.10k-dau.yaml"]) {
      cpSync(join(REPO_ROOT, p), join(root, p), { recursive: true, filter: (src) => !SKIP.test(relative(REPO_ROOT, src)) });
    }
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const tags = () => Object.fromEntries(SERVICE_NAMES.map((s) => [s, serviceImageTag(root, s)]));

  it("is a valid, stable Docker tag, different per service", () => {
    const t = tags();
    for (const tag of Object.values(t)) expect(tag).toMatch(/^ctx-[0-9a-f]{20}$/);
    expect(new Set(Object.values(t)).size).toBe(3);
    expect(tags()).toEqual(t);
    // the copy and the repository itself hash the same: nothing outside the inputs counts
    expect(serviceImageTag(REPO_ROOT, "api")).toBe(t.api);
  });

  it.each([
    ["a stack file (pulumi config set)", "Pulumi.10k-dau.yaml"],
    ["a doc", "docs/DR.md"],
    ["a service's test (excluded by .dockerignore)", "apps/api/test/new.test.ts"],
    ["a build output (excluded by .dockerignore)", "apps/api/dist/bin/main.js"],
  ])("does not change when %s changes", (_what, file) => {
    const before = tags();
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), "changed\n", { flag: "a" });
    expect(tags()).toEqual(before);
  });

  it("changes for the service whose sources change, including a new untracked file", () => {
    const before = tags();
    appendFileSync(join(root, "apps/realtime/src/main.ts"), "\n// changed\n");
    const after = tags();
    expect(after.realtime).not.toBe(before.realtime);
    expect(after.api).toBe(before.api);
    expect(after.workers).toBe(before.workers);
    writeFileSync(join(root, "apps/api/src/new-module.ts"), "export const x = 1;\n");
    expect(tags().api).not.toBe(before.api);
  });

  it("changes for every service when a shared input changes (workspace library, lockfile, build script)", () => {
    for (const file of ["apps/shared/package.json", "package-lock.json", "scripts/build-service.mjs"]) {
      const before = tags();
      appendFileSync(join(root, file), "\n");
      const after = tags();
      for (const svc of SERVICE_NAMES) expect([file, after[svc]]).not.toEqual([file, before[svc]]);
    }
  });

  it("reads the COPY sources of the build context only, and honours .dockerignore", () => {
    expect(copySources('FROM x AS a\nCOPY --chown=node a.json b/ ./\nCOPY --from=a /src/x ./x\nADD c ./c\n')).toEqual(["a.json", "b", "c"]);
    const rules = parseDockerignore("# c\n**/node_modules\ntest\n*.log\n!keep.log\n");
    expect([isIgnored("apps/api/node_modules/x", rules), isIgnored("test/a.ts", rules), isIgnored("a.log", rules), isIgnored("keep.log", rules),
      isIgnored("apps/api/src/a.ts", rules)]).toEqual([true, true, true, false, false]);
    const files = imageInputFiles(root, join(root, "apps/api/Dockerfile"));
    expect(files).toContain("apps/api/src/main.ts");
    expect(files).toContain("apps/shared/package.json");
    expect(files.filter((f) => f.startsWith("apps/realtime/src/") || f.includes("/test/") || f.startsWith("Pulumi."))).toEqual([]);
    expect(contextImageTag(root, join(root, "apps/api/Dockerfile"))).toBe(tags().api);
  });
});
