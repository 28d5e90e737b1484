/**
 * scripts/build-service.mjs: the lockfile subset a service image installs from, and argument checks.
 * (test/containers.test.ts runs the whole build inside each Dockerfile replay.)
 */
import assert from "node:assert/strict";

type Lock = { packages: Record<string, Record<string, unknown>> };
const load = () => import("../scripts/build-service.mjs");

const lock: Lock = {
  packages: {
    "": { name: "root", workspaces: ["apps/svc"] },
    "apps/svc": { name: "@chat/svc", dependencies: { a: "1.0.0" } },
    "node_modules/a": { version: "1.0.0", dependencies: { b: "^2.0.0", c: "^1.0.0" }, optionalDependencies: { opt: "^1" } },
    "node_modules/b": { version: "2.1.0", dev: true },
    "node_modules/c": { version: "1.5.0", peer: true, dependencies: { b: "^3.0.0" } },
    "node_modules/c/node_modules/b": { version: "3.0.1", devOptional: true },
    "apps/svc/node_modules/d": { version: "4.0.0" },
    "node_modules/d": { version: "5.0.0" },
    "node_modules/unused": { version: "9.9.9" },
  },
};

test("the lockfile subset: reachable packages only, nested versions kept, workspace-local ones re-rooted, monorepo flags dropped", async () => {
  const { pruneLockfile } = await load();
  const { dependencies, packages } = pruneLockfile(lock, ["a", "d"], ["apps/svc"]);
  assert.deepEqual(dependencies, { a: "1.0.0", d: "4.0.0" }, "direct packages at the versions the service resolves");
  assert.deepEqual(Object.keys(packages).sort(), ["node_modules/a", "node_modules/b", "node_modules/c", "node_modules/c/node_modules/b", "node_modules/d"]);
  assert.equal(packages["node_modules/d"].version, "4.0.0", "the workspace's own copy of d, not the hoisted 5.0.0");
  assert.equal(packages["node_modules/c/node_modules/b"].version, "3.0.1");
  for (const entry of Object.values(packages)) {
    assert.ok(!("dev" in entry) && !("peer" in entry) && !("devOptional" in entry), "no dev/peer flags: npm ci --omit=dev would skip them");
  }
});

test("a package the bundle imports but the lockfile lacks is a clear error", async () => {
  const { pruneLockfile } = await load();
  assert.throws(() => pruneLockfile(lock, ["left-pad"], ["apps/svc"]), /the bundle imports "left-pad" but package-lock\.json has no entry for it: add it to the service's package\.json/);
  const broken: Lock = { packages: { "node_modules/a": { version: "1.0.0", dependencies: { gone: "^1" } } } };
  assert.throws(() => pruneLockfile(broken, ["a"], []), /gone \(needed by node_modules\/a\) is not in package-lock\.json; run npm install/);
});

test("an unknown service name is refused with the valid ones listed", async () => {
  const { buildService } = await load();
  await assert.rejects(buildService("web"), /unknown service "web": use one of api, realtime, workers/);
});
